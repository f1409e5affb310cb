import { describe, expect, it } from "vitest";
import { memoryConnection } from "../_memconn.ts";
import { SpdyTestClient, type ReceivedFrame } from "./_testclient.ts";
import { RstStatus } from "./frame.ts";
import { SpdySession, type SpdyStream } from "./session.ts";

function setup(opts: ConstructorParameters<typeof SpdySession>[1] = {}) {
  const { server, client } = memoryConnection();
  const session = new SpdySession(server, opts);
  const spdy = new SpdyTestClient({ write: (b) => client.write(b), readable: client.readable });
  const streams = session[Symbol.asyncIterator]();
  const nextStream = async (): Promise<SpdyStream> => {
    const r = await streams.next();
    if (r.done) throw new Error("session ended");
    return r.value;
  };
  return { session, spdy, client, nextStream };
}

const text = (chunks: Uint8Array[]): string => Buffer.concat(chunks).toString();

describe("SpdySession", () => {
  it("accepts a stream, replies, exchanges data both ways and half-closes", async () => {
    const { session, spdy, nextStream } = setup();
    const id = await spdy.open({ streamtype: "stdin", port: "80" });
    const s = await nextStream();
    expect(s.id).toBe(id);
    expect(s.header("streamtype")).toBe("stdin");
    const reply = await spdy.next();
    expect(reply).toMatchObject({ type: "syn_reply", streamId: id, fin: false });
    expect({ ...reply?.headers }).toEqual({});

    spdy.data(id, "hello ");
    spdy.data(id, "world", true);
    const got: Uint8Array[] = [];
    for await (const c of s.readable) got.push(c);
    expect(text(got)).toBe("hello world");
    expect(s.remoteClosed).toBe(true);

    await s.write(new TextEncoder().encode("back"));
    await s.close();
    const frames = await spdy.until((f) => f.type === "data" && f.fin);
    expect(SpdyTestClient.dataOf(frames, id)).toBe("back");
    await session.close();
    expect(await spdy.next()).toMatchObject({ type: "goaway", lastGoodStreamId: id, status: 0 });
    spdy.close();
  });

  it("splits large writes into DATA frames and ignores the peer's window by default", async () => {
    const { spdy, nextStream } = setup({ maxDataFrameBytes: 16 * 1024 });
    const id = await spdy.open({ streamtype: "data" });
    const s = await nextStream();
    await s.write(new Uint8Array(200 * 1024).fill(7));
    await s.close();
    const frames = await spdy.until((f) => f.type === "data" && f.fin);
    const data = frames.filter((f): f is Extract<ReceivedFrame, { type: "data" }> => f.type === "data" && f.streamId === id);
    expect(data.reduce((n, f) => n + f.data.byteLength, 0)).toBe(200 * 1024);
    expect(Math.max(...data.map((f) => f.data.byteLength))).toBe(16 * 1024);
    spdy.close();
  });

  it("with sendFlowControl, waits for WINDOW_UPDATE credit (stream and session)", async () => {
    const { spdy, nextStream } = setup({ sendFlowControl: true, maxDataFrameBytes: 64 * 1024 });
    const id = await spdy.open({ streamtype: "data" });
    const s = await nextStream();
    let done = false;
    const writing = s.write(new Uint8Array(100 * 1024)).then(() => (done = true));
    const first = await spdy.until((f) => f.type === "data");
    expect(first.filter((f) => f.type === "data").reduce((n, f) => n + (f.type === "data" ? f.data.byteLength : 0), 0)).toBe(64 * 1024);
    await new Promise((r) => setTimeout(r, 30));
    expect(done).toBe(false);
    spdy.send({ type: "window_update", streamId: id, delta: 64 * 1024 });
    await new Promise((r) => setTimeout(r, 30));
    expect(done).toBe(false); // the session window is still empty
    spdy.send({ type: "window_update", streamId: 0, delta: 64 * 1024 });
    await writing;
    const rest = await spdy.until((f) => f.type === "data");
    expect(rest.at(-1)).toMatchObject({ type: "data", streamId: id });
    expect(rest.at(-1)?.type === "data" && rest.at(-1)).toBeTruthy();
    spdy.close();
  });

  it("grants credit back with WINDOW_UPDATE as the consumer reads", async () => {
    const { spdy, nextStream } = setup();
    const id = await spdy.open({ streamtype: "data" });
    const s = await nextStream();
    await spdy.next(); // SYN_REPLY
    spdy.data(id, new Uint8Array(40 * 1024));
    const it = s.readable[Symbol.asyncIterator]();
    await it.next();
    const ups = await spdy.until((f) => f.type === "window_update" && f.streamId === 0);
    expect(ups).toEqual([
      { type: "window_update", streamId: id, delta: 40 * 1024 },
      { type: "window_update", streamId: 0, delta: 40 * 1024 },
    ]);
    spdy.close();
  });

  it("echoes client pings and ignores settings, unknown frames and goaway", async () => {
    const { spdy } = setup();
    spdy.send({ type: "settings", clear: false, entries: [{ id: 7, flags: 0, value: 1 << 20 }] });
    spdy.send({ type: "goaway", lastGoodStreamId: 0, status: 0 });
    spdy.send({ type: "ping", id: 2 }); // even: a server id, not echoed
    spdy.send({ type: "ping", id: 7 });
    expect(await spdy.next()).toEqual({ type: "ping", id: 7 });
    spdy.close();
  });

  it("refuses streams through accept() with RST_STREAM REFUSED_STREAM", async () => {
    const errors: string[] = [];
    const { spdy } = setup({ accept: (h) => (h["port"] === undefined ? '"port" header is required' : undefined), onError: (m) => errors.push(m) });
    const id = await spdy.open({ streamtype: "data" });
    expect(await spdy.next()).toEqual({ type: "rst_stream", streamId: id, status: RstStatus.RefusedStream });
    expect(errors.join()).toMatch(/"port" header is required/);
    // The compression context survived the refused stream:
    const id2 = await spdy.open({ streamtype: "data", port: "80" });
    expect(await spdy.next()).toMatchObject({ type: "syn_reply", streamId: id2 });
    spdy.close();
  });

  it("resets misbehaving streams without ending the session", async () => {
    const { spdy, nextStream } = setup();
    await spdy.openWithId(2, { a: "b" });
    expect(await spdy.next()).toEqual({ type: "rst_stream", streamId: 2, status: RstStatus.ProtocolError });
    spdy.data(9, "x");
    expect(await spdy.next()).toEqual({ type: "rst_stream", streamId: 9, status: RstStatus.InvalidStream });
    const id = await spdy.open({ a: "b" }, true); // FIN on SYN_STREAM: nothing more from the peer
    const s = await nextStream();
    expect(s.remoteClosed).toBe(true);
    await spdy.next(); // reply
    spdy.data(id, "late");
    expect(await spdy.next()).toEqual({ type: "rst_stream", streamId: id, status: RstStatus.StreamAlreadyClosed });
    spdy.send({ type: "rst_stream", streamId: id, status: RstStatus.Cancel });
    await new Promise((r) => setTimeout(r, 10));
    expect(s.signal.aborted).toBe(true);
    spdy.close();
  });

  it("a framing error ends the session with GOAWAY(PROTOCOL_ERROR) and closes the connection", async () => {
    const { session, spdy, client } = setup();
    const id = await spdy.open({ a: "b" });
    client.write(new Uint8Array([0x80, 0x02, 0x00, 0x06, 0, 0, 0, 4, 0, 0, 0, 1])); // SPDY/2 ping
    const frames = await spdy.until((f) => f.type === "goaway");
    expect(frames.at(-1)).toEqual({ type: "goaway", lastGoodStreamId: id, status: 1 });
    await session.closed;
    expect(client.serverClosed).toBe(true);
    spdy.close();
  });

  it("a corrupt compressed header block is a session error", async () => {
    const { session, spdy, client } = setup();
    client.write(new Uint8Array([0x80, 3, 0, 1, 0, 0, 0, 14, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4]));
    expect(await spdy.next()).toEqual({ type: "goaway", lastGoodStreamId: 0, status: 1 });
    await session.closed;
    spdy.close();
  });

  it("ends every stream when the connection drops", async () => {
    const { session, spdy, client, nextStream } = setup();
    await spdy.open({ a: "b" });
    const s = await nextStream();
    client.end();
    const got: Uint8Array[] = [];
    for await (const c of s.readable) got.push(c);
    await session.closed;
    expect(s.signal.aborted).toBe(true);
    expect(session.signal.aborted).toBe(true);
    await s.write(new Uint8Array([1])); // no throw after the end
    spdy.close();
  });
});
