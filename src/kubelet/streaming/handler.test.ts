import { describe, expect, it } from "vitest";
import { ApiError } from "../../api/errors.ts";
import type { HttpRequest, HttpResponse, PeerCertificate } from "../../transport/types.ts";
import type { CriLogRecord } from "../runtime/logs.ts";
import { RuntimeError } from "../runtime/errors.ts";
import type { KubeletStreaming } from "../streaming.ts";
import { createStreamingHandler, toApiError } from "./handler.ts";

const APISERVER: PeerCertificate = { commonName: "kube-apiserver-kubelet-client", organizations: ["system:masters"] };

function request(method: string, target: string, peer: PeerCertificate | null = APISERVER, headers: Record<string, string> = {}): HttpRequest {
  const u = new URL(target, "https://127.0.0.1");
  return {
    method, path: u.pathname, rawQuery: u.search.slice(1), query: u.searchParams, headers, httpVersion: "1.1", remoteAddress: "127.0.0.1",
    ...(peer !== null ? { peerCertificate: peer } : {}),
    signal: new AbortController().signal,
    body: () => Promise.resolve(new Uint8Array(0)),
  };
}

const enc = new TextEncoder();
const seenLogOpts: unknown[] = [];
/** Just the seam methods the handler calls (a structural stand-in for one node's KubeletStreaming). */
const fakeNode = {
  lookupPod: (ns: string, name: string) => (ns === "default" && name === "web" ? { metadata: { name: "web", namespace: "default", uid: "u1" } } : undefined),
  logs: async (_ns: string, _pod: string, container: string, opts: unknown): Promise<AsyncIterable<CriLogRecord>> => {
    seenLogOpts.push(opts);
    if (container !== "main") throw new ApiError(400, "BadRequest", `container ${container} is not valid for pod web`);
    return (async function* () {
      yield { time: "2026-01-01T00:00:00.000000000Z", timeMs: 0, stream: "stdout" as const, partial: false, content: enc.encode("hello") };
    })();
  },
  runningContainer: async (_ns: string, _pod: string, container: string) => {
    if (container !== "main") throw new ApiError(400, "BadRequest", `container ${container} is not running`);
    return "cid";
  },
  readySandbox: async () => {
    throw new ApiError(400, "BadRequest", "pod web has no running sandbox");
  },
} as unknown as KubeletStreaming; // structural stand-in: only the methods above are called

const handler = createStreamingHandler({ find: (ns, pod) => (fakeNode.lookupPod(ns, pod) ? fakeNode : undefined) }, { now: () => 100_000 });

async function text(r: HttpResponse): Promise<string> {
  const b = r.body;
  if (b === undefined) return "";
  if (typeof b === "string") return b;
  if (b instanceof Uint8Array) return new TextDecoder().decode(b);
  let s = "";
  for await (const c of b) s += new TextDecoder().decode(c);
  return s;
}

async function status(r: HttpResponse): Promise<{ code: number; message: string; reason: string }> {
  const s = JSON.parse(await text(r)) as { code: number; message: string; reason: string };
  expect(r.status).toBe(s.code);
  return s;
}

describe("streaming handler", () => {
  it("requires the apiserver's client certificate", async () => {
    expect(await status(await handler(request("GET", "/healthz", null)))).toMatchObject({ code: 401, message: "Unauthorized" });
    expect(await status(await handler(request("GET", "/healthz", { commonName: "mallory", organizations: [] })))).toMatchObject({
      code: 403, message: "Forbidden (user=mallory, verb=get, resource=nodes, subresource(s)=[proxy])",
    });
    const ok = await handler(request("GET", "/healthz", { commonName: "admin", organizations: ["system:masters"] }));
    expect([ok.status, await text(ok)]).toEqual([200, "ok"]);
  });

  it("answers bad paths and unknown pods with a Status", async () => {
    expect(await status(await handler(request("GET", "/nope")))).toMatchObject({ code: 404, reason: "NotFound" });
    expect(await status(await handler(request("PUT", "/exec/default/web/main")))).toMatchObject({ code: 405 });
    expect(await status(await handler(request("GET", "/containerLogs/default/other/main")))).toMatchObject({
      code: 404, message: 'pod "other" in namespace "default" is not on a node served here',
    });
  });

  it("streams logs with the parsed options and rejects bad ones", async () => {
    const r = await handler(request("GET", "/containerLogs/default/web/main?timestamps=true&tailLines=1&sinceSeconds=10&follow=true"));
    expect(r.status).toBe(200);
    expect(await text(r)).toBe("2026-01-01T00:00:00.000000000Z hello\n");
    expect(seenLogOpts.at(-1)).toMatchObject({ previous: false, follow: true, tail: 1, sinceMs: 90_000 });
    expect(await status(await handler(request("GET", "/containerLogs/default/web/main?tailLines=x")))).toMatchObject({ code: 400, message: 'invalid value for tailLines: "x": must be an integer' });
    expect(await status(await handler(request("GET", "/containerLogs/default/web/main?limitBytes=0")))).toMatchObject({ code: 422, message: "limitBytes: Invalid value: 0: must be greater than 0" });
    expect(await status(await handler(request("GET", "/containerLogs/default/web/side")))).toMatchObject({ code: 400, message: "container side is not valid for pod web" });
  });

  it("checks the container or sandbox before upgrading", async () => {
    const ws = { connection: "Upgrade", upgrade: "websocket", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", "sec-websocket-version": "13", "sec-websocket-protocol": "v5.channel.k8s.io" };
    expect(await status(await handler(request("GET", "/exec/default/web/side?command=ls&stdout=true", APISERVER, ws)))).toMatchObject({ code: 400, message: "container side is not running" });
    expect(await status(await handler(request("GET", "/portForward/default/web", APISERVER, ws)))).toMatchObject({ code: 400, message: "pod web has no running sandbox" });
    const up = await handler(request("GET", "/exec/default/web/main?command=ls&stdout=true", APISERVER, ws));
    expect(up.status).toBe(101);
    expect(up.headers?.["Sec-WebSocket-Protocol"] ?? up.headers?.["sec-websocket-protocol"]).toBe("v5.channel.k8s.io");
    expect(await status(await handler(request("GET", "/exec/default/web/main?stdout=true", APISERVER, ws)))).toMatchObject({ code: 400, message: "you must specify at least one command for the container" });
  });

  it("maps runtime errors to Status codes", () => {
    expect(toApiError(new RuntimeError("NotFound", "no such container")).code).toBe(404);
    expect(toApiError(new RuntimeError("FailedPrecondition", "not running")).code).toBe(400);
    expect(toApiError(new RuntimeError("Unavailable", "down")).code).toBe(503);
    expect(toApiError(new Error("boom")).status).toMatchObject({ code: 500, reason: "InternalError", message: "boom" });
  });
});
