/**
 * Slow path for encode errors: finds the first field whose JSON value does not have its schema type,
 * so a 400 can name the path (`spec.replicas: expected int32, got string "3"`).
 */
import { MESSAGES } from "../generated/schema.ts";
import { jsonFields, type FieldSchema } from "./schema.ts";
import { base64Decode, parseDuration, parseTime } from "./special.ts";
import { describe } from "./writer.ts";

function parses(fn: (v: unknown) => unknown, v: unknown): boolean {
  try {
    fn(v);
    return true;
  } catch {
    return false;
  }
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function scalarOk(type: string, v: unknown): string | undefined {
  switch (type) {
    case "string":
      return typeof v === "string" ? undefined : "string";
    case "bytes":
      return parses(base64Decode, v) ? undefined : "base64 string";
    case "int32":
      return typeof v === "number" && (v | 0) === v ? undefined : "int32";
    case "int64":
      return typeof v === "number" && Number.isSafeInteger(v) ? undefined : "integer";
    case "bool":
      return typeof v === "boolean" ? undefined : "boolean";
    default:
      return typeof v === "number" ? undefined : "number";
  }
}

function valueProblem(f: FieldSchema, v: unknown, path: string, depth: number): string | undefined {
  const msg = MESSAGES[f.type];
  if (!msg) {
    const want = scalarOk(f.type, v);
    return want ? `${path}: expected ${want}, got ${describe(v)}` : undefined;
  }
  switch (msg.special) {
    case "raw":
    case "union": // apiextensions schema-or-X unions: checked by the CRD validation
      return undefined;
    case "intorstring":
      return typeof v === "number" || typeof v === "string" ? undefined : `${path}: expected integer or string, got ${describe(v)}`;
    case "quantity":
      return typeof v === "number" || typeof v === "string" ? undefined : `${path}: expected quantity string, got ${describe(v)}`;
    case "fieldsv1":
      return isObj(v) ? undefined : `${path}: expected object, got ${describe(v)}`;
    case "strings":
      return Array.isArray(v) && v.every((x) => typeof x === "string") ? undefined : `${path}: expected array of strings, got ${describe(v)}`;
    case undefined:
      if (!isObj(v)) return `${path}: expected object, got ${describe(v)}`;
      return findTypeError(f.type, v, path, depth + 1);
    case "duration":
      return parses(parseDuration, v) ? undefined : `${path}: expected duration string, got ${describe(v)}`;
    default:
      return parses(parseTime, v) ? undefined : `${path}: expected RFC 3339 time string, got ${describe(v)}`;
  }
}

/** The first type problem in `obj` against message `fq`, as "path: expected X, got Y"; undefined if none found. */
export function findTypeError(fq: string, obj: unknown, path = "", depth = 0): string | undefined {
  if (!isObj(obj) || depth > 64) return undefined;
  const fields = jsonFields(fq);
  for (const key of Object.keys(obj)) {
    const f = fields.get(key);
    const v = obj[key];
    if (!f || v === null || v === undefined) continue;
    const p = path ? `${path}.${key}` : key;
    if (f.map) {
      if (!isObj(v)) return `${p}: expected object, got ${describe(v)}`;
      for (const k of Object.keys(v)) {
        const e = valueProblem(f, v[k], `${p}[${k}]`, depth);
        if (e) return e;
      }
    } else if (f.repeated) {
      if (!Array.isArray(v)) return `${p}: expected array, got ${describe(v)}`;
      for (let i = 0; i < v.length; i++) {
        const e = valueProblem(f, v[i], `${p}[${i}]`, depth);
        if (e) return e;
      }
    } else {
      const e = valueProblem(f, v, p, depth);
      if (e) return e;
    }
  }
  return undefined;
}
