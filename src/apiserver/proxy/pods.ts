/**
 * `pods/{name}/log`, `pods/{name}/exec`, `pods/{name}/attach`, `pods/{name}/portforward`: checked
 * here (the pod exists, its container, its node, phase), then proxied to the node agent's
 * streaming endpoint (see `target.ts` for where that is):
 *
 * - log: `GET /containerLogs/{ns}/{pod}/{container}?…` streamed through as it arrives (follow
 *   keeps the response open; the client going away cancels the upstream request);
 * - exec/attach/portforward: an upgrade-aware proxy. The client's upgrade headers go to
 *   `/exec|/attach|/portForward/…` on a new TLS connection; a 101 from the agent becomes our 101
 *   with the agent's headers and the two connections are piped both ways (the protocol — WebSocket,
 *   SPDY — is not terminated here); any other answer is relayed as it is (a Status from the agent,
 *   or the protocol refusal that makes kubectl fall back to SPDY).
 */
import { ApiError, badRequest, methodNotAllowed, notFound } from "../../api/errors.ts";
import type { HttpResponse, UpgradedConnection } from "../../transport/types.ts";
import { findResource, type RequestContext } from "../context.ts";
import { keyOf } from "../rest.ts";
import { readObject } from "../storage.ts";
import { isLogOptionsError, parsePodLogOptions, podLogQuery } from "../../kubelet/streaming/logoptions.ts";
import { kubeletPath } from "../../kubelet/streaming/paths.ts";
import type { KubeletDialer } from "./dial.ts";
import { checkNotCompleted, checkRunning, containerFor, kubeletEndpointOf, nodeNameOf } from "./target.ts";
import type { KubeObject } from "../../api/object.ts";
import type * as tls from "node:tls";

/** Upgrade headers passed on to the agent (hop-by-hop ones included: the agent must see the upgrade). */
const UPGRADE_HEADERS = ["connection", "upgrade", "sec-websocket-key", "sec-websocket-version", "sec-websocket-protocol", "x-stream-protocol-version", "user-agent"];
/** Response headers relayed from a refusing agent. */
const RELAYED = new Set(["content-type", "x-accepted-stream-protocol-versions", "x-content-type-options"]);

export type PodStreamSubresource = "log" | "exec" | "attach" | "portforward";

export function isPodStreamSubresource(sub: string): sub is PodStreamSubresource {
  return sub === "log" || sub === "exec" || sub === "attach" || sub === "portforward";
}

async function readPod(ctx: RequestContext): Promise<KubeObject> {
  const { core, res, info } = ctx;
  const cur = await readObject(core.store, core.codec, keyOf(res, info.namespace, info.name));
  if (!cur) throw notFound("", "pods", info.name);
  return cur.object;
}

async function endpointOf(ctx: RequestContext, pod: KubeObject): Promise<URL> {
  const nodeName = nodeNameOf(pod);
  const nodes = findResource(ctx.core, "", "nodes");
  const node = nodes ? await readObject(ctx.core.store, ctx.core.codec, keyOf(nodes, "", nodeName)) : undefined;
  if (!node) throw notFound("", "nodes", nodeName);
  return kubeletEndpointOf(node.object);
}

function unreachable(url: URL, err: unknown): ApiError {
  return new ApiError(503, "ServiceUnavailable", `error dialing the node agent at ${url.host}: ${err instanceof Error ? err.message : String(err)}`);
}

/** A non-2xx answer of the agent as an ApiError: its Status when it sent one, else its text. */
function agentError(status: number, body: Uint8Array): ApiError {
  const text = new TextDecoder().decode(body);
  try {
    const s: unknown = JSON.parse(text);
    if (typeof s === "object" && s !== null && "kind" in s && s.kind === "Status" && "message" in s && typeof s.message === "string") {
      const reason = "reason" in s && typeof s.reason === "string" ? s.reason : "InternalError";
      return new ApiError(status, reason as ApiError["status"]["reason"] & string, s.message); // a reason the agent chose from the same set
    }
  } catch {
    // not JSON: the text below
  }
  return new ApiError(status >= 400 && status < 600 ? status : 502, status === 404 ? "NotFound" : status < 500 ? "BadRequest" : "InternalError", text.trim() || `the node agent answered ${status}`);
}

/** Serves one of the four subresources. */
export async function proxyPodStream(ctx: RequestContext, sub: PodStreamSubresource, dialer: KubeletDialer | undefined): Promise<HttpResponse> {
  const { req, info } = ctx;
  if (sub === "log" ? req.method !== "GET" : req.method !== "GET" && req.method !== "POST") {
    throw methodNotAllowed("the server does not allow this method on the requested resource");
  }
  const logOpts = sub === "log" ? parsePodLogOptions(req.query) : undefined;
  if (logOpts !== undefined && isLogOptionsError(logOpts)) {
    if (logOpts.error === "decode") throw badRequest(logOpts.message);
    throw new ApiError(422, "Invalid", `PodLogOptions "${info.name}" is invalid: ` + logOpts.causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message)).join(", "), {
      name: info.name, kind: "PodLogOptions", causes: logOpts.causes.map((c) => ({ reason: "FieldValueInvalid" as const, field: c.field, message: c.message })),
    });
  }
  const pod = await readPod(ctx);
  const container = sub === "portforward" ? "" : containerFor(pod, req.query.get("container") ?? "");
  if (sub === "exec" || sub === "attach") checkNotCompleted(pod, sub);
  if (sub === "portforward") checkRunning(pod);
  const base = await endpointOf(ctx, pod);
  if (dialer === undefined) {
    throw new ApiError(503, "ServiceUnavailable", "streaming to node agents is not configured: this apiserver has no kubelet client certificate");
  }
  const ns = info.namespace;
  if (sub === "log") {
    const qs = logOpts === undefined ? "" : podLogQuery(logOpts);
    const url = new URL(kubeletPath("containerLogs", ns, info.name, container) + (qs ? `?${qs}` : ""), base);
    return proxyLog(url, dialer, req.signal);
  }
  const path = sub === "portforward" ? kubeletPath("portForward", ns, info.name) : kubeletPath(sub, ns, info.name, container);
  const q = new URLSearchParams(req.rawQuery);
  if (sub !== "portforward") q.set("container", container);
  const url = new URL(path + (q.toString() ? `?${q}` : ""), base);
  const headers: Record<string, string> = {};
  for (const h of UPGRADE_HEADERS) {
    const v = req.headers[h];
    if (v !== undefined) headers[h] = v;
  }
  if (req.method === "POST") headers["content-length"] = "0";
  let ans;
  try {
    ans = await dialer.upgrade(url, req.method, headers);
  } catch (err) {
    throw unreachable(url, err);
  }
  if (ans.status === 101 && ans.socket !== undefined) {
    const sock = ans.socket;
    const rest = ans.rest ?? new Uint8Array(0);
    return { status: 101, headers: ans.headers, upgrade: (conn) => pipe(conn, sock, rest) };
  }
  const relayed: Record<string, string> = {};
  for (const [k, v] of Object.entries(ans.headers)) if (RELAYED.has(k.toLowerCase())) relayed[k.toLowerCase()] = v;
  return { status: ans.status, headers: relayed, body: ans.body ?? new Uint8Array(0) };
}

async function proxyLog(url: URL, dialer: KubeletDialer, signal: AbortSignal): Promise<HttpResponse> {
  let r;
  try {
    r = await dialer.get(url, signal);
  } catch (err) {
    if (signal.aborted) throw new ApiError(503, "ServiceUnavailable", "the client went away");
    throw unreachable(url, err);
  }
  const { res, cancel } = r;
  const status = res.statusCode ?? 502;
  if (status !== 200) {
    const parts: Buffer[] = [];
    let n = 0;
    for await (const c of res as AsyncIterable<Buffer>) {
      parts.push(c);
      n += c.length;
      if (n > 1024 * 1024) break;
    }
    cancel();
    throw agentError(status, Buffer.concat(parts));
  }
  async function* body(): AsyncGenerator<Uint8Array> {
    try {
      for await (const c of res as AsyncIterable<Buffer>) yield new Uint8Array(c.buffer, c.byteOffset, c.byteLength);
    } catch {
      // the agent's connection broke: end the response (kubectl prints what it got)
    } finally {
      cancel();
    }
  }
  return { status: 200, headers: { "content-type": res.headers["content-type"] ?? "text/plain", "cache-control": "no-cache" }, body: body() };
}

/** Pipes the client's upgraded connection and the agent's socket both ways until either ends. */
function pipe(conn: UpgradedConnection, sock: tls.TLSSocket, rest: Uint8Array): void {
  sock.setNoDelay(true);
  const closeBoth = (): void => {
    conn.close();
    sock.destroy();
  };
  conn.signal.addEventListener("abort", () => sock.destroy(), { once: true });
  sock.on("error", closeBoth);
  sock.on("close", () => conn.close());
  sock.on("end", () => conn.close());
  if (conn.head.length > 0) sock.write(conn.head);
  const toClient = (chunk: Uint8Array): void => {
    sock.pause();
    conn.write(chunk).then(() => sock.resume(), closeBoth);
  };
  if (rest.length > 0) toClient(rest);
  sock.on("data", (c: Buffer) => toClient(new Uint8Array(c.buffer, c.byteOffset, c.byteLength)));
  sock.resume();
  void (async () => {
    for await (const chunk of conn.readable) {
      if (!sock.write(chunk)) {
        await new Promise<void>((r) => {
          const done = (): void => {
            sock.off("drain", done);
            sock.off("close", done);
            r();
          };
          sock.on("drain", done);
          sock.on("close", done);
        });
      }
      if (sock.destroyed) break;
    }
    sock.end();
  })().catch(closeBoth);
}
