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

/** A message as the walks use it: its schema and, per JSON field name, the field and its message. */
export interface MessageNode {
  readonly fq: string;
  readonly schema: MessageSchema;
  /** JSON name -> field (inline messages' fields merged in) and the field's message node (undefined: scalar). */
  readonly fields: ReadonlyMap<string, FieldEdge>;
}

export interface FieldEdge {
  readonly f: FieldSchema;
  /** The field's message, or undefined for a scalar type. */
  readonly msg: MessageNode | undefined;
}

const nodes = new Map<string, MessageNode>();

/**
 * The node of a message (undefined for an unknown name). Nodes link to their fields' nodes, built on
 * first use, so a walk follows object references instead of looking names up in the schema table
 * per field.
 */
export function messageNode(fq: string): MessageNode | undefined {
  const hit = nodes.get(fq);
  if (hit !== undefined) return hit;
  const schema = MESSAGES[fq];
  if (!schema) return undefined;
  let edges: Map<string, FieldEdge> | undefined;
  const node: MessageNode = {
    fq,
    schema,
    get fields(): ReadonlyMap<string, FieldEdge> {
      if (edges === undefined) {
        edges = new Map();
        for (const [json, f] of jsonFields(fq)) edges.set(json, { f, msg: messageNode(f.type) });
      }
      return edges;
    },
  };
  nodes.set(fq, node);
  return node;
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
  const node = messageNode(fq);
  const out: string[] = [];
  if (node !== undefined) walk(node, obj, new FieldPath(), out, true, 0);
  return out;
}

/** Like `unknownFields`, for any message by fully-qualified name. */
export function unknownFieldsOf(fqName: string, obj: unknown): string[] {
  const node = messageNode(fqName);
  const out: string[] = [];
  if (node !== undefined) walk(node, obj, new FieldPath(), out, false, 0);
  return out;
}

const MAX_DEPTH = 64;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function walk(node: MessageNode, value: unknown, path: FieldPath, out: string[], top: boolean, depth: number): void {
  if (node.schema.special || !isPlainObject(value) || depth > MAX_DEPTH) return;
  const fields = node.fields;
  for (const key of Object.keys(value)) {
    const e = fields.get(key);
    if (!e) {
      if (!(top && (key === "apiVersion" || key === "kind"))) {
        path.field(key);
        out.push(path.text());
        path.pop();
      }
      continue;
    }
    const msg = e.msg;
    if (msg === undefined) continue; // scalar
    const v = value[key];
    path.field(key);
    if (e.f.map) {
      if (isPlainObject(v)) {
        for (const k of Object.keys(v)) {
          path.index(k);
          walk(msg, v[k], path, out, false, depth + 1);
          path.pop();
        }
      }
    } else if (e.f.repeated) {
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) {
          path.index(i);
          walk(msg, v[i], path, out, false, depth + 1);
          path.pop();
        }
      }
    } else {
      walk(msg, v, path, out, false, depth + 1);
    }
    path.pop();
  }
}

/**
 * A field path in strict-decoding notation (`spec.containers[0].image`, `data[key]`), kept as a
 * stack of segments during a walk and turned into text only when a path is reported: the walks run
 * over every field of every written object, and almost never report anything.
 */
export class FieldPath {
  private readonly parts: Array<string | number> = [];
  private readonly bracketed: boolean[] = [];

  constructor(private readonly base = "") {}

  /** Enters a field: `.name` (or `name` at the start). */
  field(name: string): void {
    this.parts.push(name);
    this.bracketed.push(false);
  }

  /** Enters a map entry or list element: `[key]` / `[i]`. */
  index(k: string | number): void {
    this.parts.push(k);
    this.bracketed.push(true);
  }

  pop(): void {
    this.parts.pop();
    this.bracketed.pop();
  }

  text(): string {
    let s = this.base;
    for (let i = 0; i < this.parts.length; i++) {
      const p = this.parts[i]!;
      if (this.bracketed[i]) s = `${s}[${p}]`;
      else s = s === "" ? String(p) : `${s}.${p}`;
    }
    return s;
  }
}
