/**
 * OpenAPI documents of dynamic kinds (custom resources): per group/version v3 documents and the
 * additions to the v2 document. Paths come from the same `kindPaths` as built-in kinds (a kind's
 * "proto message" names stand for its definition names here); definitions are the ones the CRD
 * brings plus the meta.v1 closure its paths reference.
 */
import type { KindInfo as RegistryKindInfo } from "../../api/registry.ts";
import type { KindInfo } from "../ports.ts";
import type { DynamicOpenApi } from "../crd/registry.ts";
import { kindPaths } from "./paths.ts";
import { closure, definitions, DELETE_OPTIONS, META, PATCH, SCALE, STATUS, type JsonSchema } from "./schemas.ts";
import { pathItem as v3PathItem, type GroupVersion } from "./v3.ts";
import { pathItem as v2PathItem, type V2Document } from "./v2.ts";

export interface DynamicKindDoc {
  readonly info: KindInfo;
  readonly openapi: DynamicOpenApi;
}

/** Where the OpenAPI service learns about dynamic kinds. */
export interface DynamicOpenApiSource {
  /** Changes whenever the set of dynamic kinds changes. */
  generation(): number;
  kinds(): readonly DynamicKindDoc[];
}

const SMP = "application/strategic-merge-patch+json";

/**
 * Custom resources take no strategic merge patch: their PATCH operations do not list it, which is
 * how kubectl decides to send a JSON merge patch for client-side apply instead.
 */
function withoutStrategicV3(item: Record<string, unknown>): Record<string, unknown> {
  const patch = item["patch"] as { requestBody?: { content?: Record<string, unknown> } } | undefined;
  const content = patch?.requestBody?.content;
  if (content && SMP in content) {
    const rest = { ...content };
    delete rest[SMP];
    item["patch"] = { ...patch, requestBody: { ...patch.requestBody, content: rest } };
  }
  return item;
}

function asRegistryKind(d: DynamicKindDoc): RegistryKindInfo {
  const k = d.info;
  return {
    ...k, apiVersion: k.group ? `${k.group}/${k.version}` : k.version,
    protoMessage: d.openapi.definition, listProtoMessage: d.openapi.listDefinition,
  };
}

function metaRoots(kinds: readonly DynamicKindDoc[]): Set<string> {
  const roots = new Set<string>([STATUS, DELETE_OPTIONS, PATCH, `${META}.ObjectMeta`, `${META}.ListMeta`]);
  if (kinds.some((k) => k.info.subresources.includes("scale"))) roots.add(SCALE);
  return roots;
}

/** Distinct group/versions of the dynamic kinds. */
export function dynamicGroupVersions(kinds: readonly DynamicKindDoc[]): GroupVersion[] {
  const seen = new Map<string, GroupVersion>();
  for (const k of kinds) seen.set(`${k.info.group}/${k.info.version}`, { group: k.info.group, version: k.info.version });
  return [...seen.values()];
}

export function dynamicV3Document(all: readonly DynamicKindDoc[], gv: GroupVersion, serverVersion: string): Record<string, unknown> {
  const mine = all.filter((k) => k.info.group === gv.group && k.info.version === gv.version);
  const paths: Record<string, unknown> = {};
  const schemas: Record<string, JsonSchema> = definitions(closure(metaRoots(mine)), "v3");
  for (const k of mine) {
    for (const p of kindPaths(asRegistryKind(k))) paths[p.path] = withoutStrategicV3(v3PathItem(p));
    Object.assign(schemas, k.openapi.v3);
  }
  return {
    openapi: "3.0.0",
    info: { title: "Kubernetes CRD Swagger", version: serverVersion },
    paths,
    components: {
      schemas,
      securitySchemes: { BearerToken: { type: "apiKey", description: "Bearer token authentication", name: "authorization", in: "header" } },
    },
    security: [{ BearerToken: [] }],
  };
}

/** A copy of the built-in v2 document with the dynamic kinds' paths and definitions added. */
export function withDynamicV2(doc: V2Document, all: readonly DynamicKindDoc[]): V2Document {
  if (all.length === 0) return doc;
  const out: V2Document = { ...doc, paths: { ...doc.paths }, definitions: { ...doc.definitions } };
  Object.assign(out.definitions, definitions(closure(metaRoots(all)), "v2"));
  for (const k of all) {
    for (const p of kindPaths(asRegistryKind(k))) {
      const item = v2PathItem(p);
      if (item.patch) item.patch = { ...item.patch, consumes: item.patch.consumes.filter((c) => c !== SMP) };
      out.paths[p.path] = item;
    }
    Object.assign(out.definitions, k.openapi.v2);
  }
  return out;
}
