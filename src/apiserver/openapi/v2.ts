/**
 * The Swagger 2.0 document served at `/openapi/v2`: every served kind's paths and the definitions
 * they reach. Typed, so the same value is serialized as JSON and encoded as gnostic protobuf
 * (gnostic.ts). kubectl 1.27/1.28 use only this document (apply validation, strategic merge,
 * explain); newer kubectl use it for `explain --output=plaintext-openapiv2` and as a fallback.
 */
import type { KindInfo } from "../../api/registry.ts";
import { kindPaths, PATCH_CONTENT_TYPES, PRETTY, type Operation, type PathSpec, type QueryParam } from "./paths.ts";
import { closure, definitions, DELETE_OPTIONS, kindRoots, PATCH, refTo, STATUS, type Gvk, type JsonSchema } from "./schemas.ts";

export interface V2Parameter {
  name: string;
  in: "query" | "path" | "body";
  description?: string;
  required?: boolean;
  /** Non-body parameters only. */
  type?: string;
  uniqueItems?: boolean;
  /** Body parameters only. */
  schema?: JsonSchema;
}

export interface V2Response {
  description: string;
  schema?: JsonSchema;
}

export interface V2Operation {
  tags: string[];
  description: string;
  operationId: string;
  consumes: string[];
  produces: string[];
  schemes: string[];
  parameters: V2Parameter[];
  responses: Record<string, V2Response>;
  "x-kubernetes-action": string;
  "x-kubernetes-group-version-kind": Gvk;
}

export interface V2PathItem {
  get?: V2Operation;
  put?: V2Operation;
  post?: V2Operation;
  delete?: V2Operation;
  patch?: V2Operation;
  parameters: V2Parameter[];
}

export interface V2Document {
  swagger: "2.0";
  info: { title: string; version: string };
  paths: Record<string, V2PathItem>;
  definitions: Record<string, JsonSchema>;
  securityDefinitions: Record<string, { type: string; name: string; in: string; description: string }>;
  security: Array<Record<string, string[]>>;
}

const RESPONSE_TYPES = ["application/json", "application/yaml", "application/vnd.kubernetes.protobuf"];

function queryParam(p: QueryParam): V2Parameter {
  return { name: p.name, in: "query", description: p.description, type: p.type, uniqueItems: true };
}

function pathParam(name: string): V2Parameter {
  return { name, in: "path", description: name === "namespace" ? "namespace of the object" : "name of the object", required: true, type: "string", uniqueItems: true };
}

function operation(o: Operation): V2Operation {
  const params = o.query.map(queryParam);
  if (o.method === "patch") params.unshift({ name: "body", in: "body", required: true, schema: refTo(PATCH, "v2") });
  else if (o.body !== undefined) params.unshift({ name: "body", in: "body", required: o.method !== "delete", schema: refTo(o.body, "v2") });
  const responses: Record<string, V2Response> = { "200": { description: "OK", schema: refTo(o.response, "v2") } };
  for (const c of o.extraCodes) responses[c] = { description: c === "201" ? "Created" : "Accepted", schema: refTo(o.response, "v2") };
  responses["401"] = { description: "Unauthorized" };
  return {
    tags: [o.tag],
    description: o.description,
    operationId: o.operationId,
    consumes: o.method === "patch" ? [...PATCH_CONTENT_TYPES] : ["*/*"],
    produces: RESPONSE_TYPES,
    schemes: ["https"],
    parameters: params,
    responses,
    "x-kubernetes-action": o.action,
    "x-kubernetes-group-version-kind": { group: o.gvk.group, kind: o.gvk.kind, version: o.gvk.version },
  };
}

export function pathItem(p: PathSpec): V2PathItem {
  const item: V2PathItem = { parameters: [...p.pathParams.map(pathParam), queryParam(PRETTY)] };
  for (const o of p.operations) item[o.method] = operation(o);
  return item;
}

/** The whole v2 document for `kinds`. */
export function swaggerDocument(kinds: readonly KindInfo[], serverVersion: string): V2Document {
  const paths: Record<string, V2PathItem> = {};
  const roots = new Set<string>([STATUS, DELETE_OPTIONS, PATCH]);
  for (const k of kinds) {
    for (const p of kindPaths(k)) paths[p.path] = pathItem(p);
    for (const r of kindRoots(k)) roots.add(r);
  }
  return {
    swagger: "2.0",
    info: { title: "Kubernetes", version: serverVersion },
    paths,
    definitions: definitions(closure(roots), "v2"),
    securityDefinitions: { BearerToken: { type: "apiKey", name: "authorization", in: "header", description: "Bearer token authentication" } },
    security: [{ BearerToken: [] }],
  };
}
