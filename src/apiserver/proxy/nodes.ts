/**
 * `nodes/{name}/proxy/<path>`: the node agent's node-level endpoints, through the apiserver as
 * kube-apiserver proxies to the kubelet. Served paths: `GET /stats/summary` (the kubelet-style
 * Summary). The agent's streaming endpoint may serve several nodes of one process, so the
 * request names the node (`?node=NAME`). The agent's answer (status, content type, body) is
 * relayed as it is.
 */
import { ApiError, methodNotAllowed, notFound } from "../../api/errors.ts";
import type { HttpResponse } from "../../transport/types.ts";
import type { RequestContext } from "../context.ts";
import { keyOf } from "../rest.ts";
import { readObject } from "../storage.ts";
import type { KubeletDialer } from "./dial.ts";
import { kubeletEndpointOf } from "./target.ts";

/** Paths under `nodes/{name}/proxy` this apiserver forwards. */
export const NODE_PROXY_PATHS: readonly string[] = ["/stats/summary"];

/** Largest body relayed (a Summary of 110 pods is well below). */
const MAX_BODY = 16 * 1024 * 1024;

export async function proxyNode(ctx: RequestContext, dialer: KubeletDialer | undefined): Promise<HttpResponse> {
  const { req, info, core, res } = ctx;
  if (req.method !== "GET") throw methodNotAllowed("the server does not allow this method on the requested resource");
  const path = (info.proxyPath ?? "/").replace(/\/+$/, "") || "/";
  if (!NODE_PROXY_PATHS.includes(path)) {
    throw new ApiError(404, "NotFound", `the node agent does not serve ${JSON.stringify(path)} through nodes/proxy (served: ${NODE_PROXY_PATHS.join(", ")})`);
  }
  const node = await readObject(core.store, core.codec, keyOf(res, "", info.name));
  if (!node) throw notFound("", "nodes", info.name);
  const base = kubeletEndpointOf(node.object);
  if (dialer === undefined) {
    throw new ApiError(503, "ServiceUnavailable", "proxying to node agents is not configured: this apiserver has no kubelet client certificate");
  }
  const url = new URL(`${path}?${new URLSearchParams({ node: info.name })}`, base);
  let r;
  try {
    r = await dialer.get(url, req.signal);
  } catch (err) {
    throw new ApiError(503, "ServiceUnavailable", `error dialing the node agent at ${url.host}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const parts: Buffer[] = [];
  let size = 0;
  try {
    for await (const c of r.res as AsyncIterable<Buffer>) {
      size += c.length;
      if (size > MAX_BODY) throw new ApiError(502, "InternalError", `the node agent's answer exceeds ${MAX_BODY} bytes`);
      parts.push(c);
    }
  } finally {
    r.cancel();
  }
  const status = r.res.statusCode ?? 502;
  return { status, headers: { "content-type": r.res.headers["content-type"] ?? "application/json" }, body: new Uint8Array(Buffer.concat(parts)) };
}
