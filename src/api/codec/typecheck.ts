/**
 * Slow path for encode errors: finds the first field whose JSON value does not have its schema type,
 * so a 400 can name the path (`spec.replicas: expected int32, got string "3"`).
 */
import { FieldPath, messageNode, type FieldSchema, type MessageNode } from "./schema.ts";
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

function valueProblem(f: FieldSchema, msg: MessageNode | undefined, v: unknown, path: FieldPath, depth: number): string | undefined {
  if (msg === undefined) {
    const want = scalarOk(f.type, v);
    return want ? `${path.text()}: expected ${want}, got ${describe(v)}` : undefined;
  }
  switch (msg.schema.special) {
    case "raw":
    case "union": // apiextensions schema-or-X unions: checked by the CRD validation
      return undefined;
    case "intorstring":
      return typeof v === "number" || typeof v === "string" ? undefined : `${path.text()}: expected integer or string, got ${describe(v)}`;
    case "quantity":
      return typeof v === "number" || typeof v === "string" ? undefined : `${path.text()}: expected quantity string, got ${describe(v)}`;
    case "fieldsv1":
      return isObj(v) ? undefined : `${path.text()}: expected object, got ${describe(v)}`;
    case "strings":
      return Array.isArray(v) && v.every((x) => typeof x === "string") ? undefined : `${path.text()}: expected array of strings, got ${describe(v)}`;
    case undefined:
      if (!isObj(v)) return `${path.text()}: expected object, got ${describe(v)}`;
      return typeErrorAt(msg, v, path, depth + 1);
    case "duration":
      return parses(parseDuration, v) ? undefined : `${path.text()}: expected duration string, got ${describe(v)}`;
    default:
      return parses(parseTime, v) ? undefined : `${path.text()}: expected RFC 3339 time string, got ${describe(v)}`;
  }
}

/** The first type problem in `obj` against message `fq`, as "path: expected X, got Y"; undefined if none found. */
export function findTypeError(fq: string, obj: unknown, path = "", depth = 0): string | undefined {
  const node = messageNode(fq);
  if (node === undefined) return undefined;
  return typeErrorAt(node, obj, new FieldPath(path), depth);
}

function typeErrorAt(node: MessageNode, obj: unknown, path: FieldPath, depth: number): string | undefined {
  if (!isObj(obj) || depth > 64) return undefined;
  const fields = node.fields;
  for (const key of Object.keys(obj)) {
    const edge = fields.get(key);
    const v = obj[key];
    if (!edge || v === null || v === undefined) continue;
    const f = edge.f;
    const msg = edge.msg;
    path.field(key);
    let e: string | undefined;
    if (f.map) {
      if (!isObj(v)) e = `${path.text()}: expected object, got ${describe(v)}`;
      else {
        for (const k of Object.keys(v)) {
          path.index(k);
          e = valueProblem(f, msg, v[k], path, depth);
          path.pop();
          if (e) break;
        }
      }
    } else if (f.repeated) {
      if (!Array.isArray(v)) e = `${path.text()}: expected array, got ${describe(v)}`;
      else {
        for (let i = 0; i < v.length; i++) {
          path.index(i);
          e = valueProblem(f, msg, v[i], path, depth);
          path.pop();
          if (e) break;
        }
      }
    } else {
      e = valueProblem(f, msg, v, path, depth);
    }
    path.pop();
    if (e) return e;
  }
  return undefined;
}
