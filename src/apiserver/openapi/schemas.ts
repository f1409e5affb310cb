/**
 * OpenAPI schemas generated from the project's own schema table (src/api/generated/schema.ts).
 *
 * One pure builder serves both flavours:
 * - "v3": `#/components/schemas/<name>` references; a reference that carries siblings (patch
 *   extensions) is wrapped as `{allOf: [{$ref}], ...siblings}` because OpenAPI 3.0 ignores siblings
 *   of `$ref`. kubectl's v3 strategic-merge lookup reads the extensions from the property schema and
 *   then follows `allOf[0]`, so this shape is what it expects.
 * - "v2": `#/definitions/<name>` references with siblings allowed next to `$ref` (kubectl's v2
 *   model parser accepts extensions and a description beside `$ref`, but no `type`).
 *
 * Descriptions come from the doc comments in proto/ (carried by the schema table): a message's on its
 * definition, a field's on its property. A described reference is a reference with a sibling, so it
 * takes the same `allOf` wrapper in v3 and sits beside `$ref` in v2.
 *
 * Definition names follow upstream's convention (facts, not text): the protobuf package with its
 * leading `k8s.io` turned into `io.k8s`, e.g. `io.k8s.api.apps.v1.Deployment`,
 * `io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta`.
 */
import { MESSAGES } from "../../api/generated/schema.ts";
import type { DescribedFieldSchema as FieldSchema, DescribedMessageSchema as MessageSchema } from "../../api/generated/schema.ts";
import { allBodyKinds, allKinds, type KindInfo } from "../../api/registry.ts";

export type Flavor = "v2" | "v3";

/** A JSON Schema node as OpenAPI 2/3 spell it (the subset we emit). */
export interface JsonSchema {
  type?: string;
  format?: string;
  description?: string;
  $ref?: string;
  allOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  items?: JsonSchema;
  additionalProperties?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  "x-kubernetes-group-version-kind"?: Gvk[];
  "x-kubernetes-patch-merge-key"?: string;
  "x-kubernetes-patch-strategy"?: string;
  "x-kubernetes-list-type"?: string;
  "x-kubernetes-list-map-keys"?: string[];
  "x-kubernetes-int-or-string"?: boolean;
}

/** Key order matters: kubectl explain compares these maps with the operations' GVK by value. */
export interface Gvk {
  group: string;
  kind: string;
  version: string;
}

/** `k8s.io.api.apps.v1.Deployment` -> `io.k8s.api.apps.v1.Deployment`. */
export function definitionName(fqMessage: string): string {
  return fqMessage.startsWith("k8s.io.") ? `io.k8s.${fqMessage.slice("k8s.io.".length)}` : fqMessage;
}

export function refPrefix(flavor: Flavor): string {
  return flavor === "v3" ? "#/components/schemas/" : "#/definitions/";
}

export function refTo(fqMessage: string, flavor: Flavor): JsonSchema {
  return { $ref: refPrefix(flavor) + definitionName(fqMessage) };
}

const SCALARS: Readonly<Record<string, JsonSchema>> = {
  string: { type: "string" },
  bytes: { type: "string", format: "byte" },
  bool: { type: "boolean" },
  int32: { type: "integer", format: "int32" },
  int64: { type: "integer", format: "int64" },
  uint32: { type: "integer", format: "int32" },
  uint64: { type: "integer", format: "int64" },
  double: { type: "number", format: "double" },
  float: { type: "number", format: "float" },
};

/**
 * Fields that a valid object cannot omit (the server rejects them when missing). Deliberately
 * short: `required` only feeds `kubectl explain`'s "-required-" marker and, for old kubectl
 * against a server without field validation, client-side checks; a wrong entry would make kubectl
 * reject valid manifests, a missing one costs nothing.
 */
const REQUIRED: Readonly<Record<string, readonly string[]>> = {
  "k8s.io.api.core.v1.PodSpec": ["containers"],
  "k8s.io.api.core.v1.Container": ["name"],
  "k8s.io.api.core.v1.EnvVar": ["name"],
  "k8s.io.api.core.v1.Volume": ["name"],
  "k8s.io.api.core.v1.VolumeMount": ["name", "mountPath"],
  "k8s.io.api.core.v1.ContainerPort": ["containerPort"],
  "k8s.io.api.core.v1.ServicePort": ["port"],
  "k8s.io.api.apps.v1.DeploymentSpec": ["selector", "template"],
  "k8s.io.api.apps.v1.ReplicaSetSpec": ["selector"],
  "k8s.io.api.apps.v1.StatefulSetSpec": ["selector", "template"],
  "k8s.io.api.apps.v1.DaemonSetSpec": ["selector", "template"],
  "k8s.io.api.batch.v1.JobSpec": ["template"],
  "k8s.io.api.batch.v1.CronJobSpec": ["schedule", "jobTemplate"],
  "k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement": ["key", "operator"],
  "k8s.io.apimachinery.pkg.apis.meta.v1.OwnerReference": ["apiVersion", "kind", "name", "uid"],
};

let gvkIndex: Map<string, Gvk[]> | undefined;

function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf("/");
  return slash < 0 ? { group: "", version: apiVersion } : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/** Message -> the GVKs it is the wire form of (kinds, their lists, body kinds). */
export function gvksByMessage(): ReadonlyMap<string, readonly Gvk[]> {
  if (gvkIndex) return gvkIndex;
  const m = new Map<string, Gvk[]>();
  const add = (fq: string, g: Gvk): void => {
    const list = m.get(fq) ?? [];
    if (!list.some((x) => x.group === g.group && x.version === g.version && x.kind === g.kind)) list.push(g);
    m.set(fq, list);
  };
  for (const k of allKinds()) {
    add(k.protoMessage, { group: k.group, kind: k.kind, version: k.version });
    add(k.listProtoMessage, { group: k.group, kind: k.listKind, version: k.version });
  }
  for (const b of allBodyKinds()) {
    const { group, version } = splitApiVersion(b.apiVersion);
    add(b.protoMessage, { group, kind: b.kind, version });
  }
  gvkIndex = m;
  return m;
}

/** The schema of a message that has a special JSON form, or undefined for ordinary messages. */
function specialSchema(s: MessageSchema, flavor: Flavor): JsonSchema | undefined {
  switch (s.special) {
    case undefined:
      return undefined;
    case "time":
    case "microtime":
      return { type: "string", format: "date-time" };
    case "duration":
      return { type: "string" };
    case "quantity":
      // Upstream: a plain string in v2; string-or-number in v3.
      return flavor === "v3" ? { oneOf: [{ type: "string" }, { type: "number" }] } : { type: "string" };
    case "intorstring":
      return flavor === "v3"
        ? { oneOf: [{ type: "integer" }, { type: "string" }], format: "int-or-string", "x-kubernetes-int-or-string": true }
        : { type: "string", format: "int-or-string" };
    case "raw":
    case "fieldsv1":
      return { type: "object" };
    case "union": // JSONSchemaPropsOr{Array,Bool,StringArray}: a schema or another JSON form
      return {};
    case "strings":
      return { type: "array", items: { type: "string" } };
  }
}

/** The schema of one value of a field (the element for repeated fields and maps). */
function valueSchema(type: string, flavor: Flavor): JsonSchema {
  const scalar = SCALARS[type];
  if (scalar) return { ...scalar };
  if (MESSAGES[type]) return refTo(type, flavor);
  throw new Error(`openapi: field type ${type} is neither a scalar nor a known message`);
}

/** Applies extensions/siblings to a value schema, wrapping a v3 `$ref` in `allOf`. */
function withSiblings(base: JsonSchema, siblings: JsonSchema, flavor: Flavor): JsonSchema {
  if (Object.keys(siblings).length === 0) return base;
  if (base.$ref !== undefined && flavor === "v3") return { allOf: [base], ...siblings };
  return { ...base, ...siblings };
}

export function fieldSchema(f: FieldSchema, flavor: Flavor): JsonSchema {
  const ext: JsonSchema = {};
  if (f.description !== undefined) ext.description = f.description;
  if (f.patchMergeKey !== undefined) ext["x-kubernetes-patch-merge-key"] = f.patchMergeKey;
  if (f.patchStrategy !== undefined) ext["x-kubernetes-patch-strategy"] = f.patchStrategy;
  if (f.listType !== undefined) ext["x-kubernetes-list-type"] = f.listType;
  if (f.listMapKeys !== undefined && f.listMapKeys.length > 0) ext["x-kubernetes-list-map-keys"] = [...f.listMapKeys];
  const value = valueSchema(f.type, flavor);
  if (f.map) return { type: "object", additionalProperties: value, ...ext };
  if (f.repeated) return { type: "array", items: value, ...ext };
  return withSiblings(value, ext, flavor);
}

/** Merged JSON fields of a message (inline messages' fields spliced in, in declaration order). */
function flatFields(fq: string, depth = 0): FieldSchema[] {
  const s = MESSAGES[fq];
  if (!s || depth > 8) return [];
  const out: FieldSchema[] = [];
  for (const f of s.fields) {
    if (f.inline) out.push(...flatFields(f.type, depth + 1));
    else out.push(f);
  }
  return out;
}

/** Descriptions of the `apiVersion` and `kind` properties that kinds and bodies get (not in proto/). */
const API_VERSION_TEXT = "The group and version this object is written in, such as \"v1\" or \"apps/v1\". Together with kind it tells the server how to read the object.";
const KIND_TEXT = "The type of this object, such as \"Pod\" or \"Deployment\", in CamelCase. Set by clients on requests; the server fills it in on responses.";

/** The full definition of one message. */
export function messageDefinition(fq: string, flavor: Flavor): JsonSchema {
  const s = MESSAGES[fq];
  if (!s) throw new Error(`openapi: unknown message ${fq}`);
  const special = specialSchema(s, flavor);
  if (special) return s.description !== undefined ? { description: s.description, ...special } : special;
  const gvks = gvksByMessage().get(fq);
  const properties: Record<string, JsonSchema> = {};
  if (gvks) {
    properties["apiVersion"] = { description: API_VERSION_TEXT, type: "string" };
    properties["kind"] = { description: KIND_TEXT, type: "string" };
  }
  for (const f of flatFields(fq)) properties[f.json] = fieldSchema(f, flavor);
  const out: JsonSchema = s.description !== undefined ? { description: s.description, type: "object" } : { type: "object" };
  if (Object.keys(properties).length > 0) out.properties = properties;
  const req = (REQUIRED[fq] ?? []).filter((n) => n in properties);
  if (req.length > 0) out.required = req;
  if (gvks) out["x-kubernetes-group-version-kind"] = gvks.map((g) => ({ group: g.group, kind: g.kind, version: g.version }));
  return out;
}

/** Message names referenced by a message's fields (inline messages' fields included). */
function referenced(fq: string): string[] {
  const out: string[] = [];
  const s = MESSAGES[fq];
  if (!s || s.special) return out;
  for (const f of flatFields(fq)) if (MESSAGES[f.type]) out.push(f.type);
  return out;
}

/** Every message reachable from `roots` (roots included), sorted. Unknown roots are an error. */
export function closure(roots: Iterable<string>): string[] {
  const seen = new Set<string>();
  const queue: string[] = [];
  for (const r of roots) {
    if (!MESSAGES[r]) throw new Error(`openapi: unknown message ${r}`);
    if (!seen.has(r)) {
      seen.add(r);
      queue.push(r);
    }
  }
  // Bounded by the number of messages in the table: each is queued at most once.
  for (let i = 0; i < queue.length; i++) {
    for (const t of referenced(queue[i] ?? "")) {
      if (!seen.has(t)) {
        seen.add(t);
        queue.push(t);
      }
    }
  }
  return [...seen].sort();
}

/** Definitions for a set of messages, keyed by definition name, in name order. */
export function definitions(messages: Iterable<string>, flavor: Flavor): Record<string, JsonSchema> {
  const out: Record<string, JsonSchema> = {};
  const named = [...messages].map((fq) => [definitionName(fq), fq] as const).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  for (const [name, fq] of named) out[name] = messageDefinition(fq, flavor);
  return out;
}

export const META = "k8s.io.apimachinery.pkg.apis.meta.v1";
export const STATUS = `${META}.Status`;
export const DELETE_OPTIONS = `${META}.DeleteOptions`;
export const PATCH = `${META}.Patch`;
export const SCALE = "k8s.io.api.autoscaling.v1.Scale";

/** The messages a kind's endpoints mention: the kind, its list and its subresource bodies. */
export function kindRoots(k: KindInfo): string[] {
  const roots = [k.protoMessage, k.listProtoMessage];
  if (k.subresources.includes("scale")) roots.push(SCALE);
  if (k.group === "" && k.plural === "pods") {
    if (k.subresources.includes("binding")) roots.push("k8s.io.api.core.v1.Binding");
    if (k.subresources.includes("eviction")) roots.push("k8s.io.api.policy.v1.Eviction");
  }
  return roots.filter((r) => MESSAGES[r] !== undefined);
}
