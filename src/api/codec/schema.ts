/**
 * The schema table's types and the strict-field walker. The table itself is generated
 * (src/api/generated/schema.ts); it is the base for strict field validation now and for OpenAPI and
 * strategic-merge metadata later.
 */
import { GVK_MESSAGES } from "../generated/codecs.ts";
import { MESSAGES } from "../generated/schema.ts";

export type SpecialType = "time" | "microtime" | "duration" | "fieldsv1" | "strings" | "intorstring" | "quantity" | "raw" | "union";

export interface FieldSchema {
  /** JSON name. */
  readonly json: string;
  /** Proto field name. */
  readonly name: string;
  readonly number: number;
  /** Scalar type ("string", "int32", "int64", "bool", "bytes", "double", "float") or a message's full name. */
  readonly type: string;
  readonly repeated?: boolean;
  /** map<string, type>. */
  readonly map?: boolean;
  readonly keepZero?: boolean;
  /** The message's fields appear directly in the parent's JSON object. */
  readonly inline?: boolean;
  readonly patchStrategy?: string;
  readonly patchMergeKey?: string;
  readonly listType?: string;
  readonly listMapKeys?: readonly string[];
}

export interface MessageSchema {
  readonly name: string;
  /** Set when the JSON form is not the message shape (Time, Quantity, RawExtension, …). */
  readonly special?: SpecialType;
  readonly fields: readonly FieldSchema[];
}

/** The schema of a message by fully-qualified name. */
export function messageSchema(fqName: string): MessageSchema | undefined {
  return MESSAGES[fqName];
}

/** The message for an apiVersion + kind (kinds, their lists and bodies). */
export function messageForKind(apiVersion: string, kind: string): string | undefined {
  return GVK_MESSAGES.get(`${apiVersion} ${kind}`);
}

const jsonFieldCache = new Map<string, ReadonlyMap<string, FieldSchema>>();

/** JSON name -> field, with inline messages' fields merged in. */
export function jsonFields(fqName: string): ReadonlyMap<string, FieldSchema> {
  let m = jsonFieldCache.get(fqName);
  if (m) return m;
  const out = new Map<string, FieldSchema>();
  const add = (name: string, depth: number): void => {
    const s = MESSAGES[name];
    if (!s || depth > 8) return;
    for (const f of s.fields) {
      if (f.inline) add(f.type, depth + 1);
      else out.set(f.json, f);
    }
  };
  add(fqName, 0);
  jsonFieldCache.set(fqName, out);
  m = out;
  return m;
}

/**
 * Field paths in `obj` that the schema of apiVersion/kind does not know, in kube-apiserver's strict
 * decoding notation: `spec.foo`, `spec.template.spec.containers[0].bad`, `metadata.labels` entries
 * are free-form, RawExtension/FieldsV1 contents are free-form. `apiVersion` and `kind` are allowed
 * at the top. Values of the wrong JSON type are not reported here (the codec rejects them).
 * Returns [] for an unknown apiVersion/kind (nothing to check against).
 */
export function unknownFields(apiVersion: string, kind: string, obj: unknown): string[] {
  const fq = messageForKind(apiVersion, kind);
  if (!fq) return [];
  const out: string[] = [];
  walk(fq, obj, "", out, true, 0);
  return out;
}

/** Like `unknownFields`, for any message by fully-qualified name. */
export function unknownFieldsOf(fqName: string, obj: unknown): string[] {
  const out: string[] = [];
  walk(fqName, obj, "", out, false, 0);
  return out;
}

const MAX_DEPTH = 64;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function walk(fq: string, value: unknown, path: string, out: string[], top: boolean, depth: number): void {
  const schema = MESSAGES[fq];
  if (!schema || schema.special || !isPlainObject(value) || depth > MAX_DEPTH) return;
  const fields = jsonFields(fq);
  for (const key of Object.keys(value)) {
    const p = path === "" ? key : `${path}.${key}`;
    const f = fields.get(key);
    if (!f) {
      if (!(top && (key === "apiVersion" || key === "kind"))) out.push(p);
      continue;
    }
    if (!MESSAGES[f.type]) continue; // scalar
    const v = value[key];
    if (f.map) {
      if (isPlainObject(v)) for (const k of Object.keys(v)) walk(f.type, v[k], `${p}[${k}]`, out, false, depth + 1);
    } else if (f.repeated) {
      if (Array.isArray(v)) for (let i = 0; i < v.length; i++) walk(f.type, v[i], `${p}[${i}]`, out, false, depth + 1);
    } else {
      walk(f.type, v, p, out, false, depth + 1);
    }
  }
}
