import { describe, expect, it } from "vitest";
import type { HttpRequest, HttpResponse } from "../transport/types.ts";
import { AsyncQueue } from "./_queue.ts";
import { memoryConnection } from "./_memconn.ts";
import { forEachPortForward } from "./portforward/session.ts";
import { SpdyTestClient } from "./spdy/_testclient.ts";
import { handleExecUpgrade, handlePortForwardUpgrade } from "./upgrade.ts";
import { encodeFrame, Opcode, WsReader } from "./websocket/frame.ts";
import { acceptKey } from "./websocket/handshake.ts";

function request(method: string, path: string, query: string, headers: Record<string, string>): HttpRequest {
  return {
    method,
    path,
    rawQuery: query,
    query: new URLSearchParams(query),
    headers,
    httpVersion: "1.1",
    remoteAddress: "127.0.0.1",
    signal: new AbortController().signal,
    body: () => Promise.resolve(new Uint8Array(0)),
  };
}

const EXEC = "/api/v1/namespaces/default/pods/x/exec";
const PF = "/api/v1/namespaces/default/pods/x/portforward";
const EXEC_QUERY = "command=echo&command=hi&container=main&stderr=true&stdout=true";
/** Log 18: kubectl 1.32's WebSocket exec request headers. */
const WS = {
  connection: "Upgrade",
  upgrade: "websocket",
  "sec-websocket-key": "UOfUcZfJoJICAPf8U7IGSQ==",
  "sec-websocket-protocol": "v5.channel.k8s.io",
  "sec-websocket-version": "13",
};
/** Log 34: the SPDY fallback request headers. */
const SPDY = {
  connection: "Upgrade",
  upgrade: "SPDY/3.1",
  "content-length": "0",
  "x-stream-protocol-version": "v5.channel.k8s.io, v4.channel.k8s.io, v3.channel.k8s.io, v2.channel.k8s.io, channel.k8s.io",
};
const noop = (): Promise<void> => Promise.resolve();
const bodyText = (r: HttpResponse): string => (typeof r.body === "string" ? r.body : "");

describe("handleExecUpgrade", () => {
  it("WebSocket v5 (log 18): 101 with the accept key and the subprotocol", () => {
    const r = handleExecUpgrade(request("GET", EXEC, EXEC_QUERY, WS), noop);
    expect(r.status).toBe(101);
    expect(r.headers).toEqual({
      Upgrade: "websocket",
      Connection: "Upgrade",
      "Sec-WebSocket-Accept": acceptKey("UOfUcZfJoJICAPf8U7IGSQ=="),
      "Sec-WebSocket-Protocol": "v5.channel.k8s.io",
    });
  });

  it("SPDY (log 34): 101 with Upgrade SPDY/3.1 and the client's first supported version", () => {
    const r = handleExecUpgrade(request("POST", EXEC, EXEC_QUERY, SPDY), noop);
    expect(r.status).toBe(101);
    expect(r.headers).toEqual({ Connection: "Upgrade", Upgrade: "SPDY/3.1", "X-Stream-Protocol-Version": "v5.channel.k8s.io" });
    const old = handleExecUpgrade(request("POST", EXEC, EXEC_QUERY, { ...SPDY, "x-stream-protocol-version": "v4.channel.k8s.io, channel.k8s.io" }), noop);
    expect(old.headers?.["X-Stream-Protocol-Version"]).toBe("v4.channel.k8s.io");
  });

  it("refuses what kubectl must fall back from, and bad requests", () => {
    const onlyOld = handleExecUpgrade(request("GET", EXEC, EXEC_QUERY, { ...WS, "sec-websocket-protocol": "base64.channel.k8s.io" }), noop);
    expect(onlyOld.status).toBe(403);
    expect(bodyText(onlyOld)).toMatch(/requested protocol\(s\) are not supported/);

    const noVersion = handleExecUpgrade(request("POST", EXEC, EXEC_QUERY, { connection: "Upgrade", upgrade: "SPDY/3.1" }), noop);
    expect(noVersion.status).toBe(400);
    expect(bodyText(noVersion)).toBe("unable to upgrade: X-Stream-Protocol-Version is required\n");

    const mismatch = handleExecUpgrade(request("POST", EXEC, EXEC_QUERY, { ...SPDY, "x-stream-protocol-version": "v9.channel.k8s.io" }), noop);
    expect(mismatch.status).toBe(403);
    expect(mismatch.headers?.["X-Accepted-Stream-Protocol-Versions"]).toMatch(/^v5.channel.k8s.io, v4/);
    expect(bodyText(mismatch)).toMatch(/^unable to upgrade: unable to negotiate protocol: client supports \[v9.channel.k8s.io\], server accepts \[v5.channel.k8s.io v4/);

    const plain = handleExecUpgrade(request("GET", EXEC, EXEC_QUERY, {}), noop);
    expect(plain.status).toBe(400);
    expect(JSON.parse(bodyText(plain))).toMatchObject({ kind: "Status", reason: "BadRequest", message: "Upgrade request required", code: 400 });

    const noStreams = handleExecUpgrade(request("GET", EXEC, "command=ls", WS), noop);
    expect(noStreams.status).toBe(400);
    expect(JSON.parse(bodyText(noStreams)).message).toBe("you must specify at least 1 of stdin, stdout, stderr");
  });
});

describe("handlePortForwardUpgrade", () => {
  const PF_WS = { ...WS, "sec-websocket-key": "F6429Uvj++2rXaWaE3f0Gg==", "sec-websocket-protocol": "SPDY/3.1+portforward.k8s.io" };

  it("WebSocket tunnel (log 20): 101 with SPDY/3.1+portforward.k8s.io; SPDY (log 34): portforward.k8s.io", () => {
    const ws = handlePortForwardUpgrade(request("GET", PF, "", PF_WS), noop);
    expect(ws.status).toBe(101);
    expect(ws.headers?.["Sec-WebSocket-Protocol"]).toBe("SPDY/3.1+portforward.k8s.io");
    expect(ws.headers?.["Sec-WebSocket-Accept"]).toBe("k9nRzlvqEZzyaSuL6b4zq1nI6f4="); // the value kubectl logged
    const spdy = handlePortForwardUpgrade(request("POST", PF, "", { ...SPDY, "x-stream-protocol-version": "portforward.k8s.io" }), noop);
    expect(spdy.status).toBe(101);
    expect(spdy.headers).toEqual({ Connection: "Upgrade", Upgrade: "SPDY/3.1", "X-Stream-Protocol-Version": "portforward.k8s.io" });
  });

  it("refusals", () => {
    const noTunnel = handlePortForwardUpgrade(request("GET", PF, "", { ...PF_WS, "sec-websocket-protocol": "v4.channel.k8s.io" }), noop);
    expect(noTunnel.status).toBe(400);
    expect(bodyText(noTunnel)).toBe("unable to upgrade: no tunneling spdy protocols provided\n");
    const unknown = handlePortForwardUpgrade(request("GET", PF, "", { ...PF_WS, "sec-websocket-protocol": "SPDY/3.1+v2.portforward.k8s.io" }), noop);
    expect(unknown.status).toBe(403);
    expect(handlePortForwardUpgrade(request("GET", PF, "", {}), noop).status).toBe(400);
  });

  it("carries SPDY inside WebSocket binary messages, split anywhere (as kubectl writes them)", async () => {
    const r = handlePortForwardUpgrade(request("GET", PF, "", PF_WS), (s) =>
      forEachPortForward(s, async (st) => {
        for await (const chunk of st.data.readable) await st.data.write(chunk);
      }));
    const { server, client } = memoryConnection();
    r.upgrade?.(server);
    // Client side: SPDY bytes out as masked WS messages (each frame split in two), in from WS messages.
    const spdyIn = new AsyncQueue<Uint8Array>(1000);
    const reader = new WsReader({ requireMask: false, maxMessageBytes: 1 << 20 });
    void (async () => {
      for await (const chunk of client.readable) {
        for (const ev of reader.push(chunk)) if (ev.type === "message") spdyIn.push(ev.data);
      }
      spdyIn.end();
    })();
    const mask = new Uint8Array([5, 6, 7, 8]);
    const c = new SpdyTestClient({
      write: (b) => {
        const cut = Math.min(2, b.byteLength);
        client.write(encodeFrame(Opcode.Binary, b.subarray(0, cut), { mask }));
        if (b.byteLength > cut) client.write(encodeFrame(Opcode.Binary, b.subarray(cut), { mask }));
      },
      readable: spdyIn,
    });
    const err = await c.open({ streamtype: "error", port: "80", requestid: "0" });
    const data = await c.open({ streamtype: "data", port: "80", requestid: "0" });
    c.data(data, "through the tunnel", true);
    const frames = await c.until((f) => f.type === "data" && f.streamId === err && f.fin);
    expect(SpdyTestClient.dataOf(frames, data)).toBe("through the tunnel");
    c.close();
    client.end();
  });
});
