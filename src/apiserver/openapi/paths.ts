/**
 * The REST endpoints of each kind as a flavour-neutral list (path, path parameters, operations),
 * rendered to OpenAPI v3 (v3.ts) and v2 (v2.ts). Shapes follow kube-apiserver's published paths:
 * `/api/v1/namespaces/{namespace}/pods/{name}`, `/apis/apps/v1/deployments` (all namespaces), the
 * `status` and `scale` subresources, `pods/binding`, `pods/eviction`.
 *
 * What kubectl reads from them (so it must hold for every kind):
 * - every PATCH operation carries `x-kubernetes-group-version-kind` and the `fieldValidation` query
 *   parameter (kubectl decides from the first PATCH with the kind's GVK that the server validates
 *   fields itself and then sends `fieldValidation=Strict`);
 * - every PATCH accepts `application/strategic-merge-patch+json` (client-side apply);
 * - `kubectl explain` finds the GVK on an operation of the collection or item path.
 */
import type { KindInfo } from "../../api/registry.ts";
import { DELETE_OPTIONS, PATCH, SCALE, STATUS, type Gvk } from "./schemas.ts";

export type Method = "get" | "put" | "post" | "delete" | "patch";
export type ParamType = "string" | "integer" | "boolean";

export interface QueryParam {
  readonly name: string;
  readonly type: ParamType;
  readonly description: string;
}

export interface Operation {
  readonly method: Method;
  readonly action: "get" | "list" | "post" | "put" | "patch" | "delete" | "deletecollection";
  readonly operationId: string;
  readonly description: string;
  readonly tag: string;
  readonly gvk: Gvk;
  readonly query: readonly QueryParam[];
  /** Request body message (post/put/delete); PATCH bodies are always `meta.v1.Patch`. */
  readonly body?: string;
  readonly response: string;
  /** Success codes besides 200. */
  readonly extraCodes: readonly ("201" | "202")[];
}

export interface PathSpec {
  readonly path: string;
  /** Path parameters in order of appearance ("namespace", "name"). */
  readonly pathParams: readonly string[];
  readonly operations: readonly Operation[];
}

const q = (name: string, type: ParamType, description: string): QueryParam => ({ name, type, description });

export const PRETTY = q("pretty", "string", "Pretty-print the output when 'true'.");
const DRY_RUN = q("dryRun", "string", "When 'All', the request is processed but nothing is persisted.");
const FIELD_MANAGER = q("fieldManager", "string", "Name of the actor making the change, recorded in managedFields.");
const FIELD_VALIDATION = q("fieldValidation", "string",
  "How unknown or duplicate fields in the body are treated: Ignore, Warn (the default) or Strict.");
const FORCE = q("force", "boolean", "Server-side apply: take ownership of conflicting fields.");
const GRACE = q("gracePeriodSeconds", "integer", "Seconds before the object is deleted; 0 deletes at once.");
const ORPHAN = q("orphanDependents", "boolean", "Deprecated: use propagationPolicy.");
const PROPAGATION = q("propagationPolicy", "string", "Garbage collection of dependents: Orphan, Background or Foreground.");
const LIST_QUERY: readonly QueryParam[] = [
  q("allowWatchBookmarks", "boolean", "Ask for BOOKMARK events on a watch."),
  q("continue", "string", "Token from a previous list response to fetch the next chunk."),
  q("fieldSelector", "string", "Restrict results by field values."),
  q("labelSelector", "string", "Restrict results by labels."),
  q("limit", "integer", "Maximum number of items in one response."),
  q("resourceVersion", "string", "Resource version the result must be at least as new as (see resourceVersionMatch)."),
  q("resourceVersionMatch", "string", "How resourceVersion applies: Exact or NotOlderThan."),
  q("sendInitialEvents", "boolean", "Start a watch with synthetic events for the current state."),
  q("timeoutSeconds", "integer", "Time limit for a list or watch call."),
  q("watch", "boolean", "Stream changes instead of returning a list."),
];
const WRITE_QUERY: readonly QueryParam[] = [DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION];
const PATCH_QUERY: readonly QueryParam[] = [DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION, FORCE];
const DELETE_QUERY: readonly QueryParam[] = [DRY_RUN, GRACE, ORPHAN, PROPAGATION];
const DELETE_COLLECTION_QUERY: readonly QueryParam[] = [
  ...LIST_QUERY.filter((p) => p.name !== "watch" && p.name !== "allowWatchBookmarks"),
  DRY_RUN, GRACE, ORPHAN, PROPAGATION,
].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

/** Content types a PATCH accepts (kubectl requires the strategic one for client-side apply). */
export const PATCH_CONTENT_TYPES = [
  "application/apply-patch+yaml",
  "application/json-patch+json",
  "application/merge-patch+json",
  "application/strategic-merge-patch+json",
] as const;

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** "rbac.authorization.k8s.io" + "v1" -> "RbacAuthorizationV1"; core -> "CoreV1". */
export function operationGroup(group: string, version: string): string {
  const g = group === "" ? "core" : group.replace(/\.k8s\.io$/, "");
  return g.split(/[.-]/).map(capitalize).join("") + capitalize(version);
}

/** "rbac.authorization.k8s.io" + "v1" -> "rbacAuthorization_v1"; core -> "core_v1". */
export function tagOf(group: string, version: string): string {
  const g = group === "" ? "core" : group.replace(/\.k8s\.io$/, "");
  const parts = g.split(/[.-]/);
  return (parts[0] ?? "") + parts.slice(1).map(capitalize).join("") + "_" + version;
}

export function apiPrefix(group: string, version: string): string {
  return group === "" ? `/api/${version}` : `/apis/${group}/${version}`;
}

/** Every path of one kind, collection paths before item paths. */
export function kindPaths(k: KindInfo): PathSpec[] {
  const prefix = apiPrefix(k.group, k.version);
  const gv = operationGroup(k.group, k.version);
  const tag = tagOf(k.group, k.version);
  const gvk: Gvk = { group: k.group, kind: k.kind, version: k.version };
  const ns = k.namespaced ? "Namespaced" : "";
  const base = k.namespaced ? `${prefix}/namespaces/{namespace}/${k.plural}` : `${prefix}/${k.plural}`;
  const scopeParams = k.namespaced ? ["namespace"] : [];
  const op = (o: Omit<Operation, "tag" | "extraCodes"> & { extraCodes?: Operation["extraCodes"] }): Operation =>
    ({ tag, extraCodes: [], ...o });
  const out: PathSpec[] = [];

  out.push({
    path: base,
    pathParams: scopeParams,
    operations: [
      op({ method: "get", action: "list", operationId: `list${gv}${ns}${k.kind}`, description: `list or watch ${k.kind} objects`,
        gvk, query: LIST_QUERY, response: k.listProtoMessage }),
      op({ method: "post", action: "post", operationId: `create${gv}${ns}${k.kind}`, description: `create a ${k.kind}`,
        gvk, query: WRITE_QUERY, body: k.protoMessage, response: k.protoMessage, extraCodes: ["201", "202"] }),
      op({ method: "delete", action: "deletecollection", operationId: `delete${gv}Collection${ns}${k.kind}`,
        description: `delete a collection of ${k.kind} objects`, gvk, query: DELETE_COLLECTION_QUERY, body: DELETE_OPTIONS,
        response: STATUS }),
    ],
  });
  out.push({
    path: `${base}/{name}`,
    pathParams: [...scopeParams, "name"],
    operations: [
      op({ method: "get", action: "get", operationId: `read${gv}${ns}${k.kind}`, description: `read the specified ${k.kind}`,
        gvk, query: [], response: k.protoMessage }),
      op({ method: "put", action: "put", operationId: `replace${gv}${ns}${k.kind}`, description: `replace the specified ${k.kind}`,
        gvk, query: WRITE_QUERY, body: k.protoMessage, response: k.protoMessage, extraCodes: ["201"] }),
      op({ method: "patch", action: "patch", operationId: `patch${gv}${ns}${k.kind}`,
        description: `partially update the specified ${k.kind}`, gvk, query: PATCH_QUERY, body: PATCH, response: k.protoMessage,
        extraCodes: ["201"] }),
      op({ method: "delete", action: "delete", operationId: `delete${gv}${ns}${k.kind}`, description: `delete a ${k.kind}`,
        gvk, query: DELETE_QUERY, body: DELETE_OPTIONS, response: STATUS, extraCodes: ["202"] }),
    ],
  });
  if (k.namespaced) {
    out.push({
      path: `${prefix}/${k.plural}`,
      pathParams: [],
      operations: [
        op({ method: "get", action: "list", operationId: `list${gv}${k.kind}ForAllNamespaces`,
          description: `list or watch ${k.kind} objects across namespaces`, gvk, query: LIST_QUERY, response: k.listProtoMessage }),
      ],
    });
  }
  const sub = (name: string, message: string, subGvk: Gvk): PathSpec => {
    const suffix = capitalize(name);
    return {
      path: `${base}/{name}/${name}`,
      pathParams: [...scopeParams, "name"],
      operations: [
        op({ method: "get", action: "get", operationId: `read${gv}${ns}${k.kind}${suffix}`,
          description: `read ${name} of the specified ${k.kind}`, gvk: subGvk, query: [], response: message }),
        op({ method: "put", action: "put", operationId: `replace${gv}${ns}${k.kind}${suffix}`,
          description: `replace ${name} of the specified ${k.kind}`, gvk: subGvk, query: WRITE_QUERY, body: message,
          response: message, extraCodes: ["201"] }),
        op({ method: "patch", action: "patch", operationId: `patch${gv}${ns}${k.kind}${suffix}`,
          description: `partially update ${name} of the specified ${k.kind}`, gvk: subGvk, query: PATCH_QUERY, body: PATCH,
          response: message, extraCodes: ["201"] }),
      ],
    };
  };
  if (k.subresources.includes("status")) out.push(sub("status", k.protoMessage, gvk));
  if (k.subresources.includes("scale")) out.push(sub("scale", SCALE, { group: "autoscaling", kind: "Scale", version: "v1" }));
  if (k.group === "" && k.plural === "pods") {
    const create = (name: string, message: string, bodyGvk: Gvk): PathSpec => ({
      path: `${base}/{name}/${name}`,
      pathParams: [...scopeParams, "name"],
      operations: [
        op({ method: "post", action: "post", operationId: `create${gv}${ns}${k.kind}${capitalize(name)}`,
          description: `create ${name} of a ${k.kind}`, gvk: bodyGvk, query: WRITE_QUERY, body: message, response: message,
          extraCodes: ["201", "202"] }),
      ],
    });
    if (k.subresources.includes("binding")) out.push(create("binding", "k8s.io.api.core.v1.Binding", { group: "", kind: "Binding", version: "v1" }));
    if (k.subresources.includes("eviction")) out.push(create("eviction", "k8s.io.api.policy.v1.Eviction", { group: "policy", kind: "Eviction", version: "v1" }));
  }
  return out;
}
