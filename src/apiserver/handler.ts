/**
 * The apiserver's HTTP handler: authentication, routing, negotiation and dispatch to the verb
 * handlers, with every failure rendered as a Kubernetes Status (never an unhandled 500) and every
 * request counted in the metrics.
 */
import { processMetrics } from "./processmetrics.ts";
import { ApiError, internalError, isApiError, notAcceptable, unauthorized } from "../api/errors.ts";
import type { Handler, HttpRequest, HttpResponse } from "../transport/types.ts";
import { ANONYMOUS, authenticate, isPublicPath, type TokenEntry } from "../auth/authenticate.ts";
import { digestOf, isLongRunningStream, TooManyRequestsError, type RequestGate, type Ticket } from "./flowcontrol/mod.ts";
import { resourceKey, type RequestContext, type ServerCore } from "./context.ts";
import {
  aggregatedDiscovery, apiGroupDoc, apiGroupList, apiResourceList, apiVersions, type VersionInfo,
} from "./discovery.ts";
import { negotiate, type Negotiated } from "./negotiate.ts";
import { renderJson, renderStatus } from "./respond.ts";
import { parseRequest, RouteError, type RequestInfo, type ResourceRequest } from "./router.ts";
import { includeObjectOf } from "./table.ts";
import { dryRunOf } from "./handlers/input.ts";
import { handleGet, handleList } from "./handlers/read.ts";
import { handleCreate, handlePatch, handleUpdate } from "./handlers/write.ts";
import { handleDelete, handleDeleteCollection } from "./handlers/delete.ts";
import { handleWatch } from "./handlers/watch.ts";
import { handleBinding, handleFinalize, handleScale, handleStatus } from "./handlers/subresources.ts";
import { handleEviction } from "./handlers/eviction.ts";
import { createOpenApiService } from "./openapi/mod.ts";
import { isPodStreamSubresource, KubeletDialer, proxyNode, proxyPodStream, type KubeletClientConfig } from "./proxy/mod.ts";
import { dynamicOpenApiOf } from "./crd/openapi.ts";

export interface HandlerOptions {
  readonly tokens?: ReadonlyMap<string, TokenEntry> | undefined;
  /** Serve unauthenticated requests as system:anonymous (default false: 401). */
  readonly allowAnonymous?: boolean | undefined;
  readonly version: VersionInfo;
  /** Reported in `/api`'s serverAddressByClientCIDRs. */
  readonly serverAddress?: string | undefined;
  /** Called for unexpected errors (rendered as 500). */
  readonly log?: ((msg: string, err: unknown) => void) | undefined;
  /** Readiness: false until start() finished. */
  readonly ready?: () => boolean;
  /** Client certificate and CA for proxying pods/log|exec|attach|portforward to node agents. */
  readonly kubeletClient?: KubeletClientConfig | undefined;
  /** API Priority and Fairness (or max-in-flight) admission after authentication; absent: none. */
  readonly gate?: RequestGate | undefined;
}

const NOT_FOUND = "the server could not find the requested resource";

export function notFoundPath(): ApiError {
  return new ApiError(404, "NotFound", NOT_FOUND, {});
}

/** Upstream's metric verb labels: the HTTP method, except LIST and WATCH. */
const METRIC_VERBS: Record<string, string> = {
  get: "GET", list: "LIST", watch: "WATCH", create: "POST", update: "PUT", patch: "PATCH", delete: "DELETE", deletecollection: "DELETE",
};

/** Stands in for an empty query string (read-only use), so routing parses nothing per request. */
const EMPTY_QUERY: URLSearchParams = new URLSearchParams();

const WRITE_VERBS = new Set(["create", "update", "patch", "delete", "deletecollection"]);
const HEALTH_CHECKS = ["ping", "log", "etcd", "informer-sync", "poststarthook/start-apiserver"];

function healthResponse(path: string, query: URLSearchParams, ok: boolean): HttpResponse | undefined {
  const m = /^\/(healthz|livez|readyz)(?:\/(.+))?$/.exec(path);
  if (!m) return undefined;
  const which = m[1] as string;
  const check = m[2];
  const healthy = which !== "readyz" || ok;
  if (check !== undefined) {
    if (!HEALTH_CHECKS.includes(check)) throw notFoundPath();
    return { status: 200, headers: { "content-type": "text/plain; charset=utf-8" }, body: "ok" };
  }
  if (query.has("verbose")) {
    const lines = HEALTH_CHECKS.map((c) => `[+]${c} ok`);
    if (which === "readyz") lines.push(`[${healthy ? "+" : "-"}]shutdown ${healthy ? "ok" : "failed: not ready"}`);
    lines.push(`${which} check ${healthy ? "passed" : "failed"}`);
    return { status: healthy ? 200 : 500, headers: { "content-type": "text/plain; charset=utf-8" }, body: lines.join("\n") + "\n" };
  }
  return { status: healthy ? 200 : 500, headers: { "content-type": "text/plain; charset=utf-8" }, body: healthy ? "ok" : "readyz check failed" };
}

export function createHandler(core: ServerCore, opts: HandlerOptions): Handler {
  const proc = processMetrics();
  const kubelet = opts.kubeletClient !== undefined ? new KubeletDialer(opts.kubeletClient) : undefined;
  // Documents cover every kind of the registry (the kinds this server was built with).
  const reg = core.registry;
  const openApi = createOpenApiService({
    version: opts.version.gitVersion,
    ...(reg ? { dynamic: dynamicOpenApiOf(reg) } : {}),
  });
  const serveNonResource = (req: HttpRequest, path: string): HttpResponse => {
    if (req.method !== "GET" && req.method !== "HEAD") throw new RouteError(405, "the server does not allow this method on the requested resource");
    const doc = openApi.handle(path, req.query, req.headers["accept"] ?? "", req.headers);
    if (doc) return doc;
    if (path === "/version" || path === "/version/") return renderJson(200, opts.version);
    const health = healthResponse(path, req.query, opts.ready ? opts.ready() : true);
    if (health) return health;
    if (path === "/metrics") {
      return { status: 200, headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" }, body: core.metrics.render() + (opts.gate?.renderMetrics() ?? "") + proc.render() };
    }
    throw notFoundPath();
  };

  const serveDiscovery = (req: HttpRequest, info: Exclude<RequestInfo, ResourceRequest | { type: "nonResource" }>): HttpResponse => {
    if (req.method !== "GET" && req.method !== "HEAD") throw new RouteError(405, "the server does not allow this method on the requested resource");
    const accept = req.headers["accept"];
    const ae = req.headers["accept-encoding"];
    if (info.type === "rootDiscovery") {
      const neg = negotiate(accept, { protobuf: false, transforms: false, discovery: true });
      if (neg?.shape.kind === "APIGroupDiscoveryList") {
        return renderJson(200, aggregatedDiscovery(core.kinds, info.prefix, neg.shape.version), neg.contentType, ae);
      }
      if (info.prefix === "api") return renderJson(200, apiVersions(opts.serverAddress ?? req.headers["host"] ?? "127.0.0.1:6443"), "application/json", ae);
      return renderJson(200, apiGroupList(core.kinds), "application/json", ae);
    }
    if (info.type === "groupDiscovery") {
      const doc = apiGroupDoc(core.kinds, info.group);
      if (!doc) throw notFoundPath();
      return renderJson(200, doc, "application/json", ae);
    }
    const doc = apiResourceList(core.kinds, info.group, info.version);
    if (!doc) throw notFoundPath();
    return renderJson(200, doc, "application/json", ae);
  };

  /** `st.neg` is set once negotiation succeeded (errors after that use the negotiated format). */
  const serveResource = async (req: HttpRequest, query: URLSearchParams, info: ResourceRequest, st: { neg?: Negotiated }): Promise<HttpResponse> => {
    const res = core.resources.get(resourceKey(info.group, info.version, info.resource));
    if (!res) throw notFoundPath();
    const sub = info.subresource;
    if (sub !== "" && !res.info.subresources.includes(sub)) throw notFoundPath();
    if (!res.info.namespaced && info.namespace !== "") throw notFoundPath();
    if (res.info.namespaced && info.namespace === "" && info.name !== "") throw notFoundPath();
    if (res.info.namespaced && info.namespace === "" && (info.verb === "create" || info.verb === "deletecollection")) throw notFoundPath();
    const protobuf = sub === "scale" ? core.codec.protobuf("autoscaling/v1", "Scale") : core.codec.protobuf(res.apiVersion, res.info.kind);
    const neg = negotiate(req.headers["accept"], { protobuf, transforms: true, discovery: false });
    if (!neg) throw notAcceptable(req.headers["accept"] ?? "");
    st.neg = neg;
    const ctx: RequestContext = {
      core, req, info, res, neg,
      dryRun: WRITE_VERBS.has(info.verb) ? dryRunOf(query) : false,
      include: includeObjectOf(query),
      warnings: [],
    };
    switch (sub) {
      case "":
        switch (info.verb) {
          case "get": return handleGet(ctx);
          case "list": return handleList(ctx);
          case "watch": return handleWatch(ctx);
          case "create": return handleCreate(ctx);
          case "update": return handleUpdate(ctx);
          case "patch": return handlePatch(ctx);
          case "delete": return handleDelete(ctx);
          case "deletecollection": return handleDeleteCollection(ctx);
        }
        break;
      case "status":
        return handleStatus(ctx);
      case "scale":
        return handleScale(ctx);
      case "binding":
        if (res.info.group === "" && res.info.plural === "pods") return handleBinding(ctx);
        break;
      case "finalize":
        return handleFinalize(ctx);
      case "eviction":
        if (res.info.group === "" && res.info.plural === "pods") return handleEviction(ctx);
        break;
      case "log":
      case "exec":
      case "attach":
      case "portforward":
        // Proxied to the pod's node agent (src/apiserver/proxy).
        if (res.info.group === "" && res.info.plural === "pods" && isPodStreamSubresource(sub)) return proxyPodStream(ctx, sub, kubelet);
        break;
      case "proxy":
        // nodes/{name}/proxy/stats/summary: the node agent's Summary (src/apiserver/proxy/nodes.ts).
        if (res.info.group === "" && res.info.plural === "nodes") return proxyNode(ctx, kubelet);
        break;
    }
    // Listed in discovery but served by a later component.
    throw notFoundPath();
  };

  return async (req: HttpRequest): Promise<HttpResponse> => {
    const started = performance.now();
    let verb = req.method.toLowerCase();
    let resource = "";
    const st: { neg?: Negotiated } = {};
    let resp: HttpResponse;
    let ticket: Ticket | undefined;
    let queued = 0;
    try {
      const a = authenticate(req, opts.tokens);
      if (!a.ok && !opts.allowAnonymous && (a.presented || !isPublicPath(req.path))) throw unauthorized();
      const query = req.rawQuery === "" ? EMPTY_QUERY : req.query;
      const info = parseRequest(req.method, req.path, query);
      if (info.type === "resource") {
        verb = info.verb;
        resource = info.subresource ? `${info.resource}/${info.subresource}` : info.resource;
      }
      if (opts.gate !== undefined) {
        // Flow control: wait for a seat of the request's priority level (or 429).
        const d = digestOf(a.ok ? a.user : ANONYMOUS, req.method, req.path, info);
        if (!isLongRunningStream(d)) {
          const t = opts.gate.admit(d, () => req.signal);
          if (t instanceof Promise) {
            const q0 = performance.now();
            try {
              ticket = await t;
            } finally {
              queued = performance.now() - q0;
            }
          } else ticket = t;
        }
      }
      if (info.type === "resource") {
        resp = await serveResource(req, query, info, st);
      } else if (info.type === "nonResource") {
        resp = serveNonResource(req, req.path);
      } else {
        resp = serveDiscovery(req, info);
      }
    } catch (e) {
      resp = errorResponse(e, st.neg, core, opts);
      if (e instanceof TooManyRequestsError) resp = { ...resp, headers: { ...resp.headers, ...e.headers } };
    }
    if (ticket !== undefined) {
      ticket.done();
      if (ticket.classification !== undefined) resp = { ...resp, headers: { ...resp.headers, ...ticket.headers } };
    }
    core.metrics.observeRequest(METRIC_VERBS[verb] ?? verb.toUpperCase(), resource, resp.status, (performance.now() - started) / 1000, queued / 1000);
    return resp;
  };
}

function errorResponse(e: unknown, neg: Negotiated | undefined, core: ServerCore, opts: HandlerOptions): HttpResponse {
  if (isApiError(e)) return renderStatus(e, neg, core.codec);
  if (e instanceof RouteError) {
    return renderStatus(e.code === 404 ? notFoundPath() : new ApiError(405, "MethodNotAllowed", e.message), neg, core.codec);
  }
  (opts.log ?? ((m, err) => console.error(m, err)))("apiserver: unexpected error", e);
  return renderStatus(internalError(e), neg, core.codec);
}
