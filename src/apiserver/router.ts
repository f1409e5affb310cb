/**
 * Request routing: turns a method + path + query into a `RequestInfo` (pure; no registry lookup).
 * Mirrors kube-apiserver's RequestInfoFactory: `/api/v1/...` (core group), `/apis/<g>/<v>/...`,
 * `namespaces/<ns>/<resource>[/<name>[/<subresource>]]`, the legacy `/watch/` prefix, and
 * `namespaces/<name>/{status,finalize}` as namespace subresources.
 */

export type Verb =
  | "get" | "list" | "watch" | "create" | "update" | "patch" | "delete" | "deletecollection";

export interface ResourceRequest {
  readonly type: "resource";
  readonly group: string;
  readonly version: string;
  /** "" for cluster-scoped resources and for lists across namespaces. */
  readonly namespace: string;
  readonly resource: string;
  /** "" for collection requests. */
  readonly name: string;
  /** "" for the main resource. */
  readonly subresource: string;
  readonly verb: Verb;
  /** For `…/{name}/proxy/<rest>`: `/<rest>` (absent when nothing follows `proxy`). */
  readonly proxyPath?: string;
}

export type RequestInfo =
  | ResourceRequest
  /** `/api`, `/apis`: group lists. */
  | { readonly type: "rootDiscovery"; readonly prefix: "api" | "apis" }
  /** `/apis/<group>`: one APIGroup. */
  | { readonly type: "groupDiscovery"; readonly group: string }
  /** `/api/v1`, `/apis/<g>/<v>`: APIResourceList. */
  | { readonly type: "versionDiscovery"; readonly group: string; readonly version: string }
  /** Anything else (`/version`, `/healthz`, `/metrics`, ...). */
  | { readonly type: "nonResource"; readonly path: string };

/** Why routing failed: 404 (unknown shape) or 405 (known shape, wrong method). */
export class RouteError extends Error {
  constructor(readonly code: 404 | 405, message: string) {
    super(message);
    this.name = "RouteError";
  }
}

const NAMESPACE_SUBRESOURCES = new Set(["status", "finalize"]);

function isTrue(v: string | null): boolean {
  return v === "true" || v === "1";
}

/** Non-empty path segments (`//` and a trailing `/` are ignored), split in one pass. */
function segments(path: string): string[] {
  const out: string[] = [];
  let start = 0;
  const n = path.length;
  for (let i = 0; i <= n; i++) {
    if (i === n || path.charCodeAt(i) === 47 /* / */) {
      if (i > start) out.push(path.slice(start, i));
      start = i + 1;
    }
  }
  return out;
}

const NOT_FOUND = "the server could not find the requested resource";

/** The subset of URLSearchParams routing reads (lets callers pass a lazily parsed query). */
export interface QueryLike {
  get(name: string): string | null;
}

/**
 * Parses a request. Throws `RouteError` 405 for a method that no verb maps to on that path
 * shape (e.g. POST on a named object, PUT on a collection). Never throws for unknown paths:
 * those come back as `nonResource` and the caller 404s them.
 */
export function parseRequest(method: string, path: string, query: QueryLike): RequestInfo {
  const parts = segments(path);
  const n = parts.length;
  if (n === 0) return { type: "nonResource", path };
  const prefix = parts[0];
  let i: number; // index of the first segment after the group/version
  let group: string;
  let version: string;
  if (prefix === "api") {
    if (n === 1) return { type: "rootDiscovery", prefix: "api" };
    group = "";
    version = parts[1] as string;
    i = 2;
  } else if (prefix === "apis") {
    if (n === 1) return { type: "rootDiscovery", prefix: "apis" };
    group = parts[1] as string;
    if (n === 2) return { type: "groupDiscovery", group };
    version = parts[2] as string;
    i = 3;
  } else {
    return { type: "nonResource", path };
  }
  if (i === n) return { type: "versionDiscovery", group, version };

  let watchPrefix = false;
  if (parts[i] === "watch") {
    watchPrefix = true;
    i++;
    if (i === n) throw new RouteError(404, NOT_FOUND);
  }
  let namespace = "";
  if (parts[i] === "namespaces" && n - i > 1) {
    namespace = parts[i + 1] as string;
    if (n - i > 2 && !NAMESPACE_SUBRESOURCES.has(parts[i + 2] as string)) i += 2;
  }
  // `…/{name}/proxy/<rest>` (nodes/proxy, pods/proxy, services/proxy) carries a path of its own.
  let proxyPath: string | undefined;
  if (n - i > 3) {
    if (parts[i + 2] !== "proxy") throw new RouteError(404, NOT_FOUND);
    proxyPath = "/" + parts.slice(i + 3).join("/");
  }
  const resource = parts[i] ?? "";
  const name = parts[i + 1] ?? "";
  const subresource = parts[i + 2] ?? "";
  // `/namespaces/<name>` addresses the namespace object itself; it is not "in" a namespace.
  if (resource === "namespaces") namespace = "";

  const verb = verbFor(method, name !== "", subresource, watchPrefix || isTrue(query.get("watch")));
  return { type: "resource", group, version, namespace, resource, name, subresource, verb, ...(proxyPath !== undefined ? { proxyPath } : {}) };
}

function verbFor(method: string, named: boolean, subresource: string, watch: boolean): Verb {
  switch (method) {
    case "GET":
    case "HEAD":
      if (watch) return "watch";
      return named ? "get" : "list";
    case "POST":
      // POST on a named object is only meaningful for "create"-style subresources (binding, eviction).
      if (named && subresource === "") throw new RouteError(405, `the server does not allow this method on the requested resource`);
      return "create";
    case "PUT":
      if (!named) throw new RouteError(405, `the server does not allow this method on the requested resource`);
      return "update";
    case "PATCH":
      if (!named) throw new RouteError(405, `the server does not allow this method on the requested resource`);
      return "patch";
    case "DELETE":
      return named ? "delete" : "deletecollection";
    default:
      throw new RouteError(405, `the server does not allow this method on the requested resource`);
  }
}
