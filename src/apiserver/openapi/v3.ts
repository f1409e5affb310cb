/**
 * OpenAPI 3.0 documents, one per served group/version (`/openapi/v3/api/v1`,
 * `/openapi/v3/apis/<group>/<version>`), plus the discovery root that lists them.
 * Pure: kinds in, plain JSON-able objects out.
 */
import type { KindInfo } from "../../api/registry.ts";
import { kindPaths, PATCH_CONTENT_TYPES, PRETTY, type Operation, type PathSpec, type QueryParam } from "./paths.ts";
import { closure, definitions, DELETE_OPTIONS, kindRoots, PATCH, refTo, STATUS, type JsonSchema } from "./schemas.ts";

export interface GroupVersion {
  readonly group: string;
  readonly version: string;
}

/** `api/v1` or `apis/<group>/<version>`: the key in the v3 root and the tail of the document's URL. */
export function gvKey(gv: GroupVersion): string {
  return gv.group === "" ? `api/${gv.version}` : `apis/${gv.group}/${gv.version}`;
}

/** Distinct group/versions of `kinds`, core first, then by group and version. */
export function groupVersionsOf(kinds: readonly KindInfo[]): GroupVersion[] {
  const seen = new Map<string, GroupVersion>();
  for (const k of kinds) seen.set(`${k.group}/${k.version}`, { group: k.group, version: k.version });
  return [...seen.values()].sort((a, b) =>
    a.group === b.group ? (a.version < b.version ? -1 : a.version > b.version ? 1 : 0) : a.group < b.group ? -1 : 1);
}

const RESPONSE_TYPES = ["application/json", "application/yaml", "application/vnd.kubernetes.protobuf"];

function paramSchema(p: QueryParam): Record<string, unknown> {
  return { name: p.name, in: "query", description: p.description, schema: { type: p.type, uniqueItems: true } };
}

function pathParam(name: string): Record<string, unknown> {
  const description = name === "namespace" ? "namespace of the object" : "name of the object";
  return { name, in: "path", description, required: true, schema: { type: "string", uniqueItems: true } };
}

function content(types: readonly string[], schema: JsonSchema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const t of types) out[t] = { schema };
  return out;
}

function operation(o: Operation): Record<string, unknown> {
  const responses: Record<string, unknown> = {
    "200": { description: "OK", content: content(RESPONSE_TYPES, refTo(o.response, "v3")) },
  };
  for (const c of o.extraCodes) {
    responses[c] = { description: c === "201" ? "Created" : "Accepted", content: content(RESPONSE_TYPES, refTo(o.response, "v3")) };
  }
  responses["401"] = { description: "Unauthorized" };
  const out: Record<string, unknown> = {
    tags: [o.tag],
    description: o.description,
    operationId: o.operationId,
  };
  if (o.query.length > 0) out["parameters"] = o.query.map(paramSchema);
  if (o.method === "patch") {
    out["requestBody"] = { content: content(PATCH_CONTENT_TYPES, refTo(PATCH, "v3")), required: true };
  } else if (o.body !== undefined) {
    out["requestBody"] = { content: content(["*/*"], refTo(o.body, "v3")), required: o.method !== "delete" };
  }
  out["responses"] = responses;
  out["x-kubernetes-action"] = o.action;
  out["x-kubernetes-group-version-kind"] = { group: o.gvk.group, kind: o.gvk.kind, version: o.gvk.version };
  return out;
}

export function pathItem(p: PathSpec): Record<string, unknown> {
  const item: Record<string, unknown> = {};
  for (const o of p.operations) item[o.method] = operation(o);
  item["parameters"] = [...p.pathParams.map(pathParam), paramSchema(PRETTY)];
  return item;
}

/** The OpenAPI v3 document of one group/version. Throws if `kinds` has none of it. */
export function groupVersionDocument(kinds: readonly KindInfo[], gv: GroupVersion, serverVersion: string): Record<string, unknown> {
  const mine = kinds.filter((k) => k.group === gv.group && k.version === gv.version);
  if (mine.length === 0) throw new Error(`openapi: no kinds in ${gvKey(gv)}`);
  const paths: Record<string, unknown> = {};
  const roots = new Set<string>([STATUS, DELETE_OPTIONS, PATCH]);
  for (const k of mine) {
    for (const p of kindPaths(k)) paths[p.path] = pathItem(p);
    for (const r of kindRoots(k)) roots.add(r);
  }
  return {
    openapi: "3.0.0",
    info: { title: "Kubernetes", version: serverVersion },
    paths,
    components: {
      schemas: definitions(closure(roots), "v3"),
      securitySchemes: { BearerToken: { type: "apiKey", description: "Bearer token authentication", name: "authorization", in: "header" } },
    },
    security: [{ BearerToken: [] }],
  };
}

/** The `/openapi/v3` root: `{"paths": {"api/v1": {"serverRelativeURL": "/openapi/v3/api/v1?hash=H"}, …}}`. */
export function rootDocument(hashes: ReadonlyMap<string, string>): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const [key, hash] of hashes) paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${hash}` };
  return { paths };
}
