import { describe, expect, it } from "vitest";
import type { HttpRequest } from "../../transport/types.ts";
import { memoryConnection, type MemoryClient } from "../_memconn.ts";
import { WebSocketConnection } from "./connection.ts";
import { closePayload, encodeFrame, Opcode, WsReader, type WsEvent } from "./frame.ts";
import { acceptKey, negotiateWebSocket } from "./handshake.ts";
import { upgradeWebSocket } from "./upgrade.ts";

const MASK = new Uint8Array([1, 2, 3, 4]);
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Reads frames the server sent until `count` events arrived. */
async function serverEvents(client: MemoryClient, count: number): Promise<WsEvent[]> {
  const r = new WsReader({ requireMask: false, maxMessageBytes: 1 << 20 });
  const out: WsEvent[] = [];
  for (let i = 0; i < 50 && out.length < count; i++) {
    const chunk = await client.read(1);
    out.push(...r.push(chunk));
  }
  return out;
}

describe("websocket handshake", () => {
  it("computes the RFC 6455 §1.3 accept value", () => {
    expect(acceptKey("dGhlIHNhbXBsZSBub25jZQ==")).toBe("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  });

  const base = {
    connection: "Upgrade",
    upgrade: "websocket",
    "sec-websocket-version": "13",
    "sec-websocket-key": "UOfUcZfJoJICAPf8U7IGSQ==",
  };

  it("accepts kubectl's exec handshake (log 18) and picks v5.channel.k8s.io", () => {
    const n = negotiateWebSocket("GET", { ...base, "sec-websocket-protocol": "v5.channel.k8s.io" }, [
      "v5.channel.k8s.io",
      "v4.channel.k8s.io",
    ]);
    expect(n).toEqual({
      ok: true,
      protocol: "v5.channel.k8s.io",
      headers: {
        Upgrade: "websocket",
        Connection: "Upgrade",
        "Sec-WebSocket-Accept": acceptKey("UOfUcZfJoJICAPf8U7IGSQ=="),
        "Sec-WebSocket-Protocol": "v5.channel.k8s.io",
      },
    });
  });

  it("prefers the server's order among the offered protocols", () => {
    const n = negotiateWebSocket("GET", { ...base, "sec-websocket-protocol": "v4.channel.k8s.io, v5.channel.k8s.io" }, [
      "v5.channel.k8s.io",
      "v4.channel.k8s.io",
    ]);
    expect(n.ok && n.protocol).toBe("v5.channel.k8s.io");
  });

  it("refuses bad handshakes with a reason", () => {
    const sup = ["v5.channel.k8s.io"];
    const cases: [string, string, Record<string, string>, string, RegExp][] = [
      ["POST", "POST", base, "bad-request", /must be GET/],
      ["no upgrade header", "GET", { ...base, upgrade: "h2c" }, "bad-request", /not a websocket/],
      ["version 8", "GET", { ...base, "sec-websocket-version": "8" }, "version", /Version "8"/],
      ["short key", "GET", { ...base, "sec-websocket-key": "abc" }, "bad-request", /16 bytes/],
      ["only unsupported protocols", "GET", { ...base, "sec-websocket-protocol": "v4.channel.k8s.io" }, "protocol", /not supported: \[v4.channel.k8s.io\]; supports \[v5.channel.k8s.io\]/],
      ["no protocol offered", "GET", base, "protocol", /not supported/],
    ];
    for (const [name, method, headers, kind, msg] of cases) {
      const n = negotiateWebSocket(method, headers, sup);
      expect(n.ok, name).toBe(false);
      if (!n.ok) {
        expect(n.kind, name).toBe(kind);
        expect(n.message, name).toMatch(msg);
      }
    }
  });

  it("upgradeWebSocket answers 101 or a plain-text refusal", () => {
    const req = (headers: Record<string, string>): HttpRequest => ({
      method: "GET",
      path: "/x",
      rawQuery: "",
      query: new URLSearchParams(),
      headers,
      httpVersion: "1.1",
      remoteAddress: "127.0.0.1",
      signal: new AbortController().signal,
      body: () => Promise.resolve(new Uint8Array(0)),
    });
    const ok = upgradeWebSocket(req({ ...base, "sec-websocket-protocol": "a" }), ["a"], () => undefined);
    expect(ok.status).toBe(101);
    expect(typeof ok.upgrade).toBe("function");
    const refused = upgradeWebSocket(req({ ...base, "sec-websocket-protocol": "b" }), ["a"], () => undefined, {
      protocolRefusalStatus: 403,
    });
    expect(refused.status).toBe(403);
    expect(refused.upgrade).toBeUndefined();
    expect(upgradeWebSocket(req({ ...base, "sec-websocket-version": "7" }), ["a"], () => undefined).headers).toMatchObject({
      "Sec-WebSocket-Version": "13",
    });
  });
});

describe("WebSocketConnection", () => {
  it("delivers messages (including bytes sent before the takeover), answers pings, sends binary", async () => {
    const head = encodeFrame(Opcode.Binary, enc("early"), { mask: MASK });
    const { server, client } = memoryConnection(head);
    const ws = new WebSocketConnection(server, "p");
    client.write(encodeFrame(Opcode.Ping, enc("hb"), { mask: MASK }));
    client.write(encodeFrame(Opcode.Text, enc("late"), { mask: MASK }));
    const it = ws[Symbol.asyncIterator]();
    expect(await it.next()).toEqual({ done: false, value: { binary: true, data: enc("early") } });
    expect(await it.next()).toEqual({ done: false, value: { binary: false, data: enc("late") } });
    expect(await serverEvents(client, 1)).toEqual([{ type: "pong", data: enc("hb") }]);
    await ws.send(new Uint8Array([1, 104, 105]));
    expect(await serverEvents(client, 1)).toEqual([{ type: "message", binary: true, data: new Uint8Array([1, 104, 105]) }]);
  });

  it("close(1000) sends a close frame, waits for the echo, ends the connection", async () => {
    const { server, client } = memoryConnection();
    const ws = new WebSocketConnection(server, "p");
    const closing = ws.close(1000);
    expect(await serverEvents(client, 1)).toEqual([{ type: "close", code: 1000, reason: "" }]);
    expect(client.serverClosed).toBe(false);
    client.write(encodeFrame(Opcode.Close, closePayload(1000), { mask: MASK }));
    await closing;
    expect(client.serverClosed).toBe(true);
    expect(await ws.closed).toEqual({ code: 1000, reason: "", by: "local" });
    expect(ws.signal.aborted).toBe(true);
    await ws.send(enc("dropped")); // no throw after close
  });

  it("close() gives up waiting for the echo after closeTimeoutMs", async () => {
    const { server, client } = memoryConnection();
    const ws = new WebSocketConnection(server, "p", { closeTimeoutMs: 50 });
    const t0 = Date.now();
    await ws.close(1000);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(client.serverClosed).toBe(true);
  });

  it("echoes a peer's close and ends the message iteration", async () => {
    const { server, client } = memoryConnection();
    const ws = new WebSocketConnection(server, "p");
    client.write(encodeFrame(Opcode.Close, closePayload(1000, "done"), { mask: MASK }));
    const msgs: unknown[] = [];
    for await (const m of ws) msgs.push(m);
    expect(msgs).toEqual([]);
    expect(await ws.closed).toEqual({ code: 1000, reason: "done", by: "peer" });
    expect(await serverEvents(client, 1)).toEqual([{ type: "close", code: 1000, reason: "" }]);
  });

  it("a protocol error closes with 1002 and the reason, without throwing", async () => {
    const { server, client } = memoryConnection();
    const ws = new WebSocketConnection(server, "p");
    client.write(encodeFrame(Opcode.Binary, enc("unmasked")));
    const info = await ws.closed;
    expect(info).toEqual({ code: 1002, reason: "client frame is not masked", by: "error" });
    expect(await serverEvents(client, 1)).toEqual([{ type: "close", code: 1002, reason: "client frame is not masked" }]);
    expect(client.serverClosed).toBe(true);
  });

  it("a dropped connection ends with 1006", async () => {
    const { server, client } = memoryConnection();
    const ws = new WebSocketConnection(server, "p");
    client.end();
    expect(await ws.closed).toEqual({ code: 1006, reason: "connection dropped", by: "drop" });
  });

  it("too-large messages close with 1009", async () => {
    const { server, client } = memoryConnection();
    const ws = new WebSocketConnection(server, "p", { maxMessageBytes: 8 });
    client.write(encodeFrame(Opcode.Binary, new Uint8Array(9), { mask: MASK }));
    expect((await ws.closed).code).toBe(1009);
  });
});
