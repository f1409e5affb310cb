/**
 * The node agent's streaming endpoint as a transport `Handler`: kubelet-style paths (see
 * `paths.ts`) for any number of nodes of this process. A request is routed to the node whose pod
 * informer holds the pod (pods are unique per namespace/name and live on one node), then served
 * through the node's `KubeletStreaming` seam:
 *
 * - `/containerLogs/…`: CRI log records streamed as `text/plain` (follow keeps it open until the
 *   container exits or the client goes away);
 * - `/exec/…`, `/attach/…`: the container is checked first (errors as a Status), then WebSocket
 *   v5/v4 or SPDY/3.1 via `handleExecUpgrade`, wired to the runtime's exec/attach session;
 * - `/portForward/…`: the sandbox is checked first, then `handlePortForwardUpgrade`, each
 *   forwarded connection a runtime `portForward` byte stream.
 *
 * Authentication: a verified client certificate (the transport checks the chain against the
 * cluster CA) whose subject is the apiserver's kubelet client (CN `kube-apiserver-kubelet-client`)
 * or a member of `system:masters`; otherwise 401 (no certificate) or 403.
 */
import { ApiError, isApiError } from "../../api/errors.ts";
import { handleExecUpgrade, handlePortForwardUpgrade, forEachPortForward } from "../../streaming/mod.ts";
import type { PortForwardStream, RemoteCommandSession } from "../../streaming/mod.ts";
import type { Handler, HttpRequest, HttpResponse } from "../../transport/types.ts";
import { KUBELET_CLIENT_CN } from "../../pki/mod.ts";
import { isRuntimeError } from "../runtime/errors.ts";
import type { StreamIO } from "../runtime/types.ts";
import type { KubeletStreaming } from "../streaming.ts";
import { logBody } from "./logbody.ts";
import { isLogOptionsError, parsePodLogOptions, sinceMsOf } from "./logoptions.ts";
import { parseKubeletPath } from "./paths.ts";

/** The nodes one streaming endpoint serves. */
export interface StreamingNodes {
  /** The node holding the pod, if any. */
  find(namespace: string, pod: string): KubeletStreaming | undefined;
  /** Every node served (for node-level routes like `/stats/summary`). */
  all?(): Iterable<KubeletStreaming>;
}

/**
 * The node a node-level request means: `?node=NAME`, else the only node with stats. 404 for an
 * unknown name or no node; 400 naming the choices when several nodes share the endpoint.
 */
export function statsNodeFor(nodes: StreamingNodes, name: string | null): KubeletStreaming {
  const withStats = [...(nodes.all?.() ?? [])].filter((n) => n.stats !== undefined);
  if (name !== null && name !== "") {
    const n = withStats.find((x) => x.stats!.nodeName === name);
    if (n === undefined) throw new ApiError(404, "NotFound", `node "${name}" is not served by this endpoint`);
    return n;
  }
  if (withStats.length === 1) return withStats[0]!;
  if (withStats.length === 0) throw new ApiError(404, "NotFound", "no node with stats is served by this endpoint");
  const names = withStats.map((n) => n.stats!.nodeName).sort();
  throw new ApiError(400, "BadRequest", `this endpoint serves ${names.length} nodes (${names.join(", ")}): choose one with ?node=NAME`);
}

export interface StreamingHandlerOptions {
  /** Subjects allowed in (default: CN kube-apiserver-kubelet-client, or group system:masters). */
  readonly authorize?: (cn: string, groups: readonly string[]) => boolean;
  readonly now?: () => number;
  /** Follow polling period of the log reader (default 100 ms). */
  readonly logPollMs?: number;
  /** SPDY stream creation timeout (default 30 s). */
  readonly streamCreationTimeoutMs?: number;
}

export { KUBELET_CLIENT_CN };

const defaultAuthorize = (cn: string, groups: readonly string[]): boolean => cn === KUBELET_CLIENT_CN || groups.includes("system:masters");

function statusResponse(err: ApiError): HttpResponse {
  return { status: err.code, headers: { "content-type": "application/json" }, body: JSON.stringify(err.status) };
}

/** Any error as a Status: ApiErrors as they are, runtime errors by code, the rest 500. */
export function toApiError(err: unknown): ApiError {
  if (isApiError(err)) return err;
  if (isRuntimeError(err)) {
    const code = err.code === "NotFound" ? 404 : err.code === "FailedPrecondition" || err.code === "InvalidArgument" ? 400 : err.code === "Unavailable" ? 503 : 500;
    const reason = code === 404 ? "NotFound" : code === 400 ? "BadRequest" : code === 503 ? "ServiceUnavailable" : "InternalError";
    return new ApiError(code, reason, err.message);
  }
  return new ApiError(500, "InternalError", err instanceof Error ? err.message : String(err));
}

export function createStreamingHandler(nodes: StreamingNodes, opts: StreamingHandlerOptions = {}): Handler {
  const authorize = opts.authorize ?? defaultAuthorize;
  const now = opts.now ?? Date.now;
  return async (req: HttpRequest): Promise<HttpResponse> => {
    try {
      const peer = req.peerCertificate;
      if (peer === undefined) throw new ApiError(401, "Unauthorized", "Unauthorized");
      if (!authorize(peer.commonName, peer.organizations)) {
        throw new ApiError(403, "Forbidden", `Forbidden (user=${peer.commonName}, verb=${req.method.toLowerCase()}, resource=nodes, subresource(s)=[proxy])`);
      }
      const route = parseKubeletPath(req.method, req.path);
      if ("error" in route) {
        const reason = route.error.status === 404 ? "NotFound" : route.error.status === 405 ? "MethodNotAllowed" : "BadRequest";
        throw new ApiError(route.error.status, reason, route.error.message);
      }
      if (route.kind === "healthz") return { status: 200, headers: { "content-type": "text/plain; charset=utf-8" }, body: "ok" };
      if (route.kind === "statsSummary") {
        const summary = await statsNodeFor(nodes, req.query.get("node")).stats!.summary();
        return { status: 200, headers: { "content-type": "application/json" }, body: JSON.stringify(summary) };
      }
      const node = nodes.find(route.namespace, route.pod);
      if (node === undefined) throw new ApiError(404, "NotFound", `pod "${route.pod}" in namespace "${route.namespace}" is not on a node served here`);
      switch (route.kind) {
        case "containerLogs": {
          const o = parsePodLogOptions(req.query);
          if (isLogOptionsError(o)) {
            throw o.error === "decode"
              ? new ApiError(400, "BadRequest", o.message)
              : new ApiError(422, "Invalid", o.causes.map((c) => (c.field === "" ? c.message : `${c.field}: ${c.message}`)).join(", "));
          }
          const since = sinceMsOf(o, now());
          const records = await node.logs(route.namespace, route.pod, route.container, {
            previous: o.previous, follow: o.follow, signal: req.signal,
            ...(o.tailLines !== undefined ? { tail: o.tailLines } : {}),
            ...(since !== undefined ? { sinceMs: since } : {}),
            ...(o.stream !== undefined ? { stream: o.stream === "Stdout" ? "stdout" as const : "stderr" as const } : {}),
          });
          return {
            status: 200,
            headers: { "content-type": "text/plain", "cache-control": "no-cache" },
            body: logBody(records, { timestamps: o.timestamps, ...(o.limitBytes !== undefined ? { limitBytes: o.limitBytes } : {}) }),
          };
        }
        case "exec":
        case "attach": {
          await node.runningContainer(route.namespace, route.pod, route.container);
          const kind = route.kind;
          return handleExecUpgrade(req, (s) => runRemoteCommand(node, kind, route.namespace, route.pod, route.container, s),
            { kind, ...(opts.streamCreationTimeoutMs !== undefined ? { streamCreationTimeoutMs: opts.streamCreationTimeoutMs } : {}) });
        }
        case "portForward": {
          await node.readySandbox(route.namespace, route.pod);
          const pod = node.lookupPod(route.namespace, route.pod);
          const desc = `${route.pod}_${route.namespace}, uid ${pod?.metadata?.uid ?? ""}`;
          return handlePortForwardUpgrade(req, (session) => forEachPortForward(session, (st) => forward(node, route.namespace, route.pod, desc, st)),
            opts.streamCreationTimeoutMs !== undefined ? { streamCreationTimeoutMs: opts.streamCreationTimeoutMs } : {});
        }
      }
    } catch (err) {
      return statusResponse(toApiError(err));
    }
  };
}

/** Runs an exec/attach session to its end: exit code (clamped to 0..255) or the runtime's error. */
async function runRemoteCommand(node: KubeletStreaming, kind: "exec" | "attach", ns: string, pod: string, container: string, s: RemoteCommandSession): Promise<void> {
  const o = s.options;
  const io: StreamIO = {
    tty: o.tty,
    ...(o.stdin ? { stdin: s.stdin } : {}),
    ...(o.stdout ? { stdout: { write: (c: Uint8Array) => s.stdout.write(c) } } : {}),
    ...(o.stderr ? { stderr: { write: (c: Uint8Array) => s.stderr.write(c) } } : {}),
  };
  let session;
  try {
    session = kind === "exec" ? await node.exec(ns, pod, container, o.command, io) : await node.attach(ns, pod, container, io);
  } catch (err) {
    await s.finish(err instanceof Error ? err : new Error(String(err)));
    return;
  }
  const sess = session;
  const onAbort = (): void => sess.close();
  s.signal.addEventListener("abort", onAbort, { once: true });
  void (async () => {
    for await (const size of s.resizes) sess.resize(size);
  })().catch(() => undefined);
  try {
    const st = await sess.exit;
    await s.finish(Math.max(0, Math.min(255, Math.trunc(st.exitCode))));
  } finally {
    s.signal.removeEventListener("abort", onAbort);
  }
}

/** One forwarded connection: the runtime's byte stream piped both ways. */
async function forward(node: KubeletStreaming, ns: string, pod: string, desc: string, st: PortForwardStream): Promise<void> {
  let d;
  try {
    d = await node.portForward(ns, pod, st.port);
  } catch (err) {
    throw new Error(`error forwarding port ${st.port} to pod ${desc}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const conn = d;
  const onAbort = (): void => conn.close();
  st.signal.addEventListener("abort", onAbort, { once: true });
  try {
    // Client -> target until the client half-closes; target -> client until the target closes,
    // which ends the forwarded connection (kubectl then closes its local one).
    void (async () => {
      for await (const chunk of st.data.readable) await conn.write(chunk);
      await conn.end();
    })().catch(() => conn.close());
    for await (const chunk of conn.readable) await st.data.write(chunk);
    await st.data.close();
  } finally {
    st.signal.removeEventListener("abort", onAbort);
    conn.close();
  }
}
