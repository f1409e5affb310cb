import { describe, expect, it } from "vitest";
import { memoryConnection } from "../_memconn.ts";
import { SpdyTestClient } from "../spdy/_testclient.ts";
import { SpdySession } from "../spdy/session.ts";
import { WebSocketConnection } from "../websocket/connection.ts";
import { closePayload, encodeFrame, Opcode, WsReader, type WsEvent } from "../websocket/frame.ts";
import { expectedStreams, serveRemoteCommandSpdy } from "./spdy.ts";
import type { RemoteCommandOptions, RemoteCommandSession, TerminalSize } from "./types.ts";
import { serveRemoteCommandWebSocket } from "./websocket.ts";

const MASK = new Uint8Array([9, 8, 7, 6]);
const te = new TextEncoder();
const OPTS: RemoteCommandOptions = { command: ["cat"], container: "main", stdin: true, stdout: true, stderr: true, tty: false };

/** A runtime double: echoes stdin to stdout, "err" lines to stderr, ends with `exit`. */
function catCommand(exit: number, sizes: TerminalSize[] = []) {
  return async (s: RemoteCommandSession): Promise<void> => {
    void (async () => {
      for await (const size of s.resizes) sizes.push(size);
    })();
    for await (const chunk of s.stdin) {
      const line = new TextDecoder().decode(chunk);
      await (line.startsWith("err") ? s.stderr : s.stdout).write(chunk);
    }
    await s.finish(exit);
  };
}

function wsClient(client: ReturnType<typeof memoryConnection>["client"]) {
  const reader = new WsReader({ requireMask: false, maxMessageBytes: 1 << 20 });
  const events: WsEvent[] = [];
  return {
    send: (channel: number, payload: Uint8Array | string) => {
      const p = typeof payload === "string" ? te.encode(payload) : payload;
      const msg = new Uint8Array(p.byteLength + 1);
      msg[0] = channel;
      msg.set(p, 1);
      client.write(encodeFrame(Opcode.Binary, msg, { mask: MASK }));
    },
    raw: (b: Uint8Array) => client.write(b),
    /** Server events until a close frame. */
    async untilClose(): Promise<WsEvent[]> {
      for (let i = 0; i < 10_000 && !events.some((e) => e.type === "close"); i++) events.push(...reader.push(await client.read(1)));
      return events;
    },
  };
}

const messages = (evs: WsEvent[]): string[] =>
  evs.flatMap((e) => (e.type === "message" ? [`${e.data[0]}:${new TextDecoder().decode(e.data.subarray(1))}`] : []));

describe("remotecommand over WebSocket", () => {
  it("v5: stdin, [255,0] half-close, stdout/stderr, status on channel 3, close 1000", async () => {
    const { server, client } = memoryConnection();
    const ws = new WebSocketConnection(server, "v5.channel.k8s.io");
    const sizes: TerminalSize[] = [];
    const done = serveRemoteCommandWebSocket(ws, "exec", { ...OPTS, tty: true, stderr: false }, catCommand(0, sizes));
    const c = wsClient(client);
    c.send(4, '{"Width":100,"Height":30}\n');
    c.send(0, "abc\n");
    c.send(0, "err line\n");
    c.send(255, new Uint8Array([0]));
    const evs = await c.untilClose();
    expect(messages(evs)).toEqual(["1:abc\n", '3:{"metadata":{},"status":"Success"}']);
    expect(evs.at(-1)).toEqual({ type: "close", code: 1000, reason: "" });
    c.raw(encodeFrame(Opcode.Close, closePayload(1000), { mask: MASK }));
    await done;
    expect(sizes).toEqual([{ width: 100, height: 30 }]);
  });

  it("v5: a non-zero exit and stderr", async () => {
    const { server, client } = memoryConnection();
    const done = serveRemoteCommandWebSocket(new WebSocketConnection(server, "v5.channel.k8s.io"), "exec", OPTS, catCommand(2));
    const c = wsClient(client);
    c.send(0, "err x");
    c.send(255, new Uint8Array([0]));
    const evs = await c.untilClose();
    expect(messages(evs)).toEqual([
      "2:err x",
      '3:{"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code: error executing command [cat], exit code 2","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"2"}]}}',
    ]);
    c.raw(encodeFrame(Opcode.Close, closePayload(1000), { mask: MASK }));
    await done;
  });

  it("v4: no CLOSE signal; stdin ends when the client closes", async () => {
    const { server, client } = memoryConnection();
    let stdinEnded = false;
    const done = serveRemoteCommandWebSocket(new WebSocketConnection(server, "v4.channel.k8s.io"), "exec", OPTS, async (s) => {
      for await (const _ of s.stdin) {
        // read to the end
      }
      stdinEnded = true;
      expect(s.signal.aborted).toBe(true);
    });
    const c = wsClient(client);
    c.send(255, new Uint8Array([0])); // meaningless in v4: ignored
    await new Promise((r) => setTimeout(r, 20));
    expect(stdinEnded).toBe(false);
    c.raw(encodeFrame(Opcode.Close, closePayload(1000), { mask: MASK }));
    await done;
    expect(stdinEnded).toBe(true);
  });

  it("a text message is refused with 1003; the session sees the client gone", async () => {
    const { server, client } = memoryConnection();
    const ws = new WebSocketConnection(server, "v5.channel.k8s.io", { closeTimeoutMs: 50 });
    let aborted = false;
    const done = serveRemoteCommandWebSocket(ws, "exec", OPTS, async (s) => {
      for await (const _ of s.stdin) {
        // until the end
      }
      await new Promise((r) => setTimeout(r, 80));
      aborted = s.signal.aborted;
    });
    client.write(encodeFrame(Opcode.Text, te.encode("hello"), { mask: MASK }));
    await done;
    expect((await ws.closed).code).toBe(1003);
    expect(aborted).toBe(true);
  });

  it("finish() rejects exit codes kubectl cannot carry; a throwing runtime reports InternalError", async () => {
    const { server, client } = memoryConnection();
    const done = serveRemoteCommandWebSocket(new WebSocketConnection(server, "v5.channel.k8s.io"), "exec", { ...OPTS, stdin: false }, async (s) => {
      expect(() => s.finish(256)).toThrow(RangeError);
      expect(() => s.finish(1.5)).toThrow(RangeError);
      throw new Error("exec format error");
    });
    const evs = await wsClient(client).untilClose();
    expect(messages(evs)[0]).toMatch(/^3:.*"message":"Internal error occurred: error executing command in container: exec format error"/);
    client.write(encodeFrame(Opcode.Close, closePayload(1000), { mask: MASK }));
    await done;
  });
});

describe("remotecommand over SPDY", () => {
  it("expects one stream per requested channel", () => {
    expect([...expectedStreams(OPTS, "v4.channel.k8s.io")].sort()).toEqual(["error", "stderr", "stdin", "stdout"]);
    expect([...expectedStreams({ ...OPTS, tty: true, stderr: false }, "v5.channel.k8s.io")].sort()).toEqual(["error", "resize", "stdin", "stdout"]);
    expect([...expectedStreams({ ...OPTS, tty: true, stderr: false }, "v2.channel.k8s.io")].sort()).toEqual(["error", "stdin", "stdout"]);
  });

  async function spdyExec(protocol: string, exit: number) {
    const { server, client } = memoryConnection();
    const sizes: TerminalSize[] = [];
    const spdy = new SpdySession(server);
    const opts = { ...OPTS, tty: true, stderr: false };
    const done = serveRemoteCommandSpdy(spdy, protocol, "exec", opts, catCommand(exit, sizes));
    const c = new SpdyTestClient({ write: (b) => client.write(b), readable: client.readable });
    // client-go order: error, stdin, stdout, (stderr), resize
    const err = await c.open({ streamtype: "error" }, false);
    const stdin = await c.open({ streamtype: "stdin" });
    const stdout = await c.open({ streamtype: "stdout" });
    const resize = await c.open({ streamtype: "resize" });
    c.data(err, new Uint8Array(0), true); // the client only reads the error stream
    c.data(resize, '{"Width":120,"Height":40}\n');
    c.data(stdin, "hello\n");
    c.data(stdin, "", true);
    const frames = await c.until((f) => f.type === "goaway");
    await done;
    c.close();
    return { frames, err, stdout, sizes };
  }

  it("v5/v4: data on stdout, JSON status on the error stream, FINs and GOAWAY", async () => {
    const { frames, err, stdout, sizes } = await spdyExec("v5.channel.k8s.io", 5);
    expect(frames.filter((f) => f.type === "syn_reply").length).toBe(4);
    expect(SpdyTestClient.dataOf(frames, stdout)).toBe("hello\n");
    expect(JSON.parse(SpdyTestClient.dataOf(frames, err))).toMatchObject({ status: "Failure", reason: "NonZeroExitCode", details: { causes: [{ reason: "ExitCode", message: "5" }] } });
    expect(frames.some((f) => f.type === "data" && f.streamId === err && f.fin)).toBe(true);
    expect(frames.some((f) => f.type === "data" && f.streamId === stdout && f.fin)).toBe(true);
    expect(frames.at(-1)).toMatchObject({ type: "goaway", status: 0 });
    expect(sizes).toEqual([{ width: 120, height: 40 }]);
  });

  it("v3: failure as plain text, success as nothing", async () => {
    const failed = await spdyExec("v3.channel.k8s.io", 1);
    expect(SpdyTestClient.dataOf(failed.frames, failed.err)).toMatch(/^command terminated with non-zero exit code/);
    const ok = await spdyExec("v3.channel.k8s.io", 0);
    expect(SpdyTestClient.dataOf(ok.frames, ok.err)).toBe("");
  });

  it("closes the connection when the streams do not all arrive in time", async () => {
    const { server, client } = memoryConnection();
    let ran = false;
    const done = serveRemoteCommandSpdy(new SpdySession(server), "v4.channel.k8s.io", "exec", OPTS, async () => {
      ran = true;
    }, 50);
    const c = new SpdyTestClient({ write: (b) => client.write(b), readable: client.readable });
    await c.open({ streamtype: "error" });
    await done;
    expect(ran).toBe(false);
    const frames = await c.until((f) => f.type === "goaway");
    expect(frames.at(-1)).toMatchObject({ type: "goaway" });
    c.close();
  });
});

describe("unread stdin never wedges a finished session", () => {
  it("WebSocket: the serve promise settles although stdin was flooded and never read", async () => {
    const { server, client } = memoryConnection();
    const done = serveRemoteCommandWebSocket(new WebSocketConnection(server, "v5.channel.k8s.io", { closeTimeoutMs: 50 }), "exec", OPTS, async (s) => {
      await new Promise((r) => setTimeout(r, 30));
      await s.finish(0);
    });
    const c = wsClient(client);
    for (let i = 0; i < 100; i++) c.send(0, "x".repeat(100));
    await c.untilClose();
    client.write(encodeFrame(Opcode.Close, closePayload(1000), { mask: MASK }));
    await done;
  });

  it("SPDY: the serve promise settles although stdin was flooded and never read", async () => {
    const { server, client } = memoryConnection();
    const spdy = new SpdySession(server);
    const done = serveRemoteCommandSpdy(spdy, "v4.channel.k8s.io", "exec", { ...OPTS, stderr: false }, async (s) => {
      await new Promise((r) => setTimeout(r, 30));
      await s.finish(0);
    });
    const c = new SpdyTestClient({ write: (b) => client.write(b), readable: client.readable });
    await c.open({ streamtype: "error" });
    const stdin = await c.open({ streamtype: "stdin" });
    await c.open({ streamtype: "stdout" });
    for (let i = 0; i < 200; i++) c.data(stdin, "y".repeat(100));
    await c.until((f) => f.type === "goaway");
    await done;
    client.end();
    await spdy.closed;
    c.close();
  });
});
