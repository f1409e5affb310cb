/**
 * The server-side-apply `TypeSchema` (src/apiserver/fieldmanager/schema.ts) of a custom resource,
 * built from its structural schema: objects with properties are structs (`x-kubernetes-map-type:
 * atomic` makes them atomic), objects with additionalProperties are maps, arrays follow
 * `x-kubernetes-list-type` (default atomic) and `x-kubernetes-list-map-keys`, preserve-unknown
 * and embedded values without properties are untyped, everything else is a scalar. The root also
 * has apiVersion, kind and the built-in ObjectMeta.
 */
import { schemaForMessage, type TypeSchema } from "../apiserver/fieldmanager/mod.ts";
import type { StructField, StructSchema } from "../apiserver/fieldmanager/schema.ts";
import { additionalOf, isObj, itemsOf, type Schema } from "./schema.ts";

const OBJECT_META = "k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta";
const SCALAR: TypeSchema = { kind: "scalar" };
const UNTYPED: TypeSchema = { kind: "untyped" };
const MAX_DEPTH = 64;

class SchemaStruct implements StructSchema {
  readonly kind = "struct" as const;
  private readonly fields = new Map<string, StructField>();
  constructor(readonly name: string, readonly atomic: boolean, props: Record<string, Schema>, depth: number, root: boolean) {
    if (root) {
      this.fields.set("apiVersion", { type: SCALAR, alwaysPresent: false });
      this.fields.set("kind", { type: SCALAR, alwaysPresent: false });
      this.fields.set("metadata", { type: schemaForMessage(OBJECT_META), alwaysPresent: false });
    }
    for (const [k, s] of Object.entries(props)) {
      if (root && (k === "apiVersion" || k === "kind" || k === "metadata")) continue;
      if (isObj(s)) this.fields.set(k, { type: typeOf(s, depth + 1), alwaysPresent: false });
    }
  }
  field(json: string): StructField | undefined {
    return this.fields.get(json);
  }
}

function typeOf(s: Schema, depth: number): TypeSchema {
  if (depth > MAX_DEPTH) return UNTYPED;
  if (s["x-kubernetes-int-or-string"] === true) return SCALAR;
  const t = s.type;
  if (t === "object" || (t === undefined && (s.properties || s.additionalProperties))) {
    const atomic = s["x-kubernetes-map-type"] === "atomic";
    const ap = additionalOf(s);
    if (s.properties && Object.keys(s.properties).length > 0) return new SchemaStruct("object", atomic, s.properties, depth, false);
    if (ap) return { kind: "map", atomic, values: typeOf(ap, depth + 1) };
    if (s["x-kubernetes-embedded-resource"] === true) return new SchemaStruct("object", atomic, {}, depth, true);
    return s["x-kubernetes-preserve-unknown-fields"] === true || s.additionalProperties === true
      ? UNTYPED : { kind: "map", atomic, values: UNTYPED };
  }
  if (t === "array") {
    const it = itemsOf(s);
    const items = it ? typeOf(it, depth + 1) : UNTYPED;
    const lt = s["x-kubernetes-list-type"];
    const listType = lt === "set" || lt === "map" ? lt : "atomic";
    const keyDefaults: Record<string, string | number | boolean> = {};
    for (const k of s["x-kubernetes-list-map-keys"] ?? []) {
      const d = it?.properties?.[k]?.default;
      if (typeof d === "string" || typeof d === "number" || typeof d === "boolean") keyDefaults[k] = d;
    }
    return { kind: "list", listType, keys: listType === "map" ? [...(s["x-kubernetes-list-map-keys"] ?? [])] : [], keyDefaults, items };
  }
  if (t === undefined && s["x-kubernetes-preserve-unknown-fields"] === true) return UNTYPED;
  return SCALAR;
}

/** The apply schema of a custom resource whose version schema is `root` (absent: untyped body). */
export function typeSchemaOf(root: Schema | undefined): TypeSchema {
  return new SchemaStruct("CustomResource", false, root?.properties ?? {}, 0, true);
}
