import * as http2 from "node:http2";
import * as net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { ErrorCode, Flags, FrameType, PREFACE, frame, settingsPayload } from "./frames.ts";
import { HpackEncoder } from "./hpack.ts";
import { H2Session, type H2Stream, type HeaderList, type SessionOptions, type StreamEvents } from "./session.ts";

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** Collects one response. */
class Collect implements StreamEvents {
  headers: HeaderList = [];
  trailers: HeaderList = [];
  chunks: Buffer[] = [];
  resetCode = -1;
  done: Promise<void>;
  private resolve!: () => void;
  constructor() {
    this.done = new Promise((r) => (this.resolve = r));
  }
  onHeaders(_s: H2Stream, h: HeaderList, end: boolean): void {
    if (this.headers.length === 0) this.headers = h;
    else this.trailers = h;
    if (end) this.resolve();
  }
  onData(_s: H2Stream, c: Uint8Array, end: boolean): void {
    this.chunks.push(Buffer.from(c));
    if (end) this.resolve();
  }
  onReset(_s: H2Stream, code: number): void {
    this.resetCode = code;
    this.resolve();
  }
  get body(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

class DrainCollect extends Collect {
  drainCb: () => void = () => undefined;
  onDrain(): void {
    this.drainCb();
  }
}

function listen(server: net.Server | http2.Http2Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port)));
}
function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, "127.0.0.1", () => resolve(s));
    s.on("error", reject);
  });
}
const req = (path: string, method = "GET"): HeaderList => [":method", method, ":scheme", "http", ":authority", "t", ":path", path];

/** Echo server on our session: responds with the request body (and its length). */
class EchoHandler implements StreamEvents {
  chunks: Buffer[] = [];
  constructor(private readonly path: string) {}
  onHeaders(s: H2Stream, _h: HeaderList, end: boolean): void {
    if (end) this.respond(s);
  }
  onData(s: H2Stream, c: Uint8Array, end: boolean): void {
    this.chunks.push(Buffer.from(c));
    if (end) this.respond(s);
  }
  onReset(): void {}
  respond(s: H2Stream): void {
    const body = Buffer.concat(this.chunks);
    if (this.path === "/hang") return;
    s.sendHeaders([":status", "200", "content-type", "application/octet-stream", "x-len", String(body.length)], false);
    s.write(body, true);
  }
}

async function tugServer(opts: Partial<SessionOptions> = {}): Promise<{ port: number; sessions: H2Session[] }> {
  const sessions: H2Session[] = [];
  const srv = net.createServer((sock) => {
    sessions.push(new H2Session(sock, {
      role: "server",
      onStream: (st, h, end) => {
        const handler = new EchoHandler(h[h.indexOf(":path") + 1] ?? "/");
        if (end) handler.respond(st);
        return handler;
      },
      ...opts,
    }));
  });
  const port = await listen(srv);
  cleanups.push(() => {
    for (const s of sessions) s.destroy();
    srv.close();
  });
  return { port, sessions };
}

async function tugClient(port: number, opts: Partial<SessionOptions> = {}): Promise<H2Session> {
  const sock = await connect(port);
  const s = new H2Session(sock, { role: "client", ...opts });
  cleanups.push(() => s.destroy());
  return s;
}

describe("tug client ↔ node:http2 server", () => {
  it("round trips, large bodies both ways, trailers", async () => {
    const srv = http2.createServer((rq, rs) => {
      const chunks: Buffer[] = [];
      rq.on("data", (c: Buffer) => chunks.push(c));
      rq.on("end", () => {
        const b = Buffer.concat(chunks);
        rs.setHeader("content-type", "application/octet-stream");
        rs.end(rq.url === "/big" ? Buffer.alloc(5 * 1024 * 1024, 7) : b);
      });
    });
    const port = await listen(srv);
    cleanups.push(() => srv.close());
    const c = await tugClient(port);
    const up = Buffer.alloc(4 * 1024 * 1024);
    for (let i = 0; i < up.length; i++) up[i] = i & 0xff;
    const a = new Collect();
    c.request(req("/echo", "POST"), false, a).write(up, true);
    const b = new Collect();
    c.request(req("/big"), true, b);
    await Promise.all([a.done, b.done]);
    expect(a.headers.slice(0, 2)).toEqual([":status", "200"]);
    expect(a.body.equals(up)).toBe(true);
    expect(b.body.length).toBe(5 * 1024 * 1024);
    expect(await c.ping()).toBeGreaterThanOrEqual(0);
  });
  it("GOAWAY from the server refuses the streams above lastStreamId", async () => {
    let first = true;
    const srv = http2.createServer((_rq, rs) => {
      if (first) {
        first = false;
        rs.stream.session?.goaway(ErrorCode.NO_ERROR, 1);
        setTimeout(() => rs.end("ok"), 20);
      }
    });
    const port = await listen(srv);
    cleanups.push(() => srv.close());
    let goaway = -1;
    const c = await tugClient(port, { onGoaway: (last) => (goaway = last) });
    const a = new Collect();
    c.request(req("/a"), true, a);
    const b = new Collect();
    c.request(req("/b"), true, b);
    await Promise.all([a.done, b.done]);
    expect(goaway).toBe(1);
    expect(a.body.toString()).toBe("ok");
    expect(b.resetCode).toBe(ErrorCode.REFUSED_STREAM);
    expect(c.closed).toBe(true);
  });
});

describe("node:http2 client ↔ tug server", () => {
  it("serves requests with large bodies", async () => {
    const { port } = await tugServer();
    const client = http2.connect(`http://127.0.0.1:${port}`);
    cleanups.push(() => client.close());
    const up = Buffer.alloc(3 * 1024 * 1024, 3);
    const results = await Promise.all([0, 1, 2].map((i) => new Promise<{ status: number; len: number }>((resolve, reject) => {
      const r = client.request({ ":method": "POST", ":path": `/x${i}` });
      let status = 0;
      let len = 0;
      r.on("response", (h) => (status = Number(h[":status"])));
      r.on("data", (c: Buffer) => (len += c.length));
      r.on("end", () => resolve({ status, len }));
      r.on("error", reject);
      r.end(i === 0 ? up : Buffer.from("hi"));
    })));
    expect(results).toEqual([{ status: 200, len: up.length }, { status: 200, len: 2 }, { status: 200, len: 2 }]);
  });
});

describe("tug ↔ tug", () => {
  it("500 concurrent streams with a server limit of 100 (client queues)", async () => {
    const { port } = await tugServer({ maxConcurrentStreams: 100 });
    const c = await tugClient(port);
    const all: Collect[] = [];
    for (let i = 0; i < 500; i++) {
      const col = new Collect();
      all.push(col);
      c.request(req(`/r${i}`, "POST"), false, col).write(Buffer.from(`body${i}`), true);
    }
    await Promise.all(all.map((x) => x.done));
    all.forEach((x, i) => expect(x.body.toString()).toBe(`body${i}`));
    expect(c.openStreams).toBe(0);
  });
  it("requests queued behind the server's MAX_CONCURRENT_STREAMS keep their body's END_STREAM", async () => {
    const { port } = await tugServer({ maxConcurrentStreams: 5 });
    const c = await tugClient(port);
    const first = new Collect();
    c.request(req("/warm", "POST"), false, first).write(Buffer.from("w"), true);
    await first.done; // the server's SETTINGS (limit 5) are in effect from here on
    const all: Collect[] = [];
    for (let i = 0; i < 40; i++) {
      const col = new Collect();
      all.push(col);
      const st = c.request(req(`/q${i}`, "POST"), false, col);
      if (i % 2 === 0) st.write(Buffer.from(`body${i}`), true);
      else {
        st.write(Buffer.from(`body${i}`), false);
        st.end();
      }
    }
    await Promise.all(all.map((x) => x.done));
    all.forEach((x, i) => expect(x.body.toString()).toBe(`body${i}`));
  });
  it("several MiB both ways crossing windows, and a reset mid-body", async () => {
    const { port } = await tugServer({ streamWindow: 65535 });
    const c = await tugClient(port, { streamWindow: 65535 });
    const up = Buffer.alloc(6 * 1024 * 1024, 9);
    const a = new DrainCollect();
    const st = c.request(req("/big", "POST"), false, a);
    let drains = 0;
    let off = 0;
    const pump = (): void => {
      while (off < up.length) {
        const n = Math.min(256 * 1024, up.length - off);
        const ok = st.write(up.subarray(off, off + n), off + n >= up.length);
        off += n;
        if (!ok) return;
      }
    };
    a.drainCb = (): void => {
      drains++;
      pump();
    };
    pump();
    const b = new Collect();
    const rs = c.request(req("/hang", "POST"), false, b);
    rs.write(Buffer.alloc(100_000), false);
    setTimeout(() => rs.reset(), 10);
    await a.done;
    expect(a.body.length).toBe(up.length);
    expect(drains).toBeGreaterThan(0);
    expect(rs.closed).toBe(true);
  });
  it("bodies larger than the 1 MiB socket backlog in one write, with wide windows, arrive whole", async () => {
    // With 8 MiB windows nothing but the socket backlog limit stops DATA production; when the
    // socket takes a flush synchronously no 'drain' follows, and production must resume anyway.
    const { port } = await tugServer({ streamWindow: 8 << 20 });
    const c = await tugClient(port, { streamWindow: 8 << 20, connectionWindow: 32 << 20 });
    const up = Buffer.alloc(5 * 1024 * 1024, 3);
    const cols = [new Collect(), new Collect()];
    c.request(req("/echo", "POST"), false, cols[0] as Collect).write(up, true);
    c.request(req("/echo2", "POST"), false, cols[1] as Collect).write(up.subarray(0, 3 << 20), true);
    await Promise.all(cols.map((x) => x.done));
    expect(cols[0]?.body.length).toBe(up.length);
    expect(cols[1]?.body.length).toBe(3 << 20);
  });
  it("a peer that stops reading does not make us buffer unboundedly", async () => {
    // Raw server that completes the handshake then never reads again.
    const socks: net.Socket[] = [];
    const srv = net.createServer((s) => {
      socks.push(s);
      s.write(frame(FrameType.SETTINGS, 0, 0));
      s.write(frame(FrameType.SETTINGS, Flags.ACK, 0));
      s.once("data", () => s.pause());
    });
    const port = await listen(srv);
    cleanups.push(() => {
      for (const s of socks) s.destroy();
      srv.close();
    });
    const c = await tugClient(port);
    const col = new Collect();
    const st = c.request(req("/", "POST"), false, col);
    let accepted = 0;
    for (let i = 0; i < 100 && st.write(Buffer.alloc(64 * 1024), false); i++) accepted++;
    await new Promise((r) => setTimeout(r, 50));
    expect(accepted).toBeLessThan(3); // write() reported backpressure at once
    expect(c.openStreams).toBe(1);
  });
  it("close() lets in-flight streams finish, then ends the connection", async () => {
    const { port, sessions } = await tugServer();
    let closed = false;
    const c = await tugClient(port, { onClose: () => (closed = true) });
    const a = new Collect();
    const st = c.request(req("/slow", "POST"), false, a);
    await new Promise((r) => setTimeout(r, 20));
    sessions[0]?.close();
    await new Promise((r) => setTimeout(r, 20));
    st.write(Buffer.from("late"), true);
    await a.done;
    expect(a.body.toString()).toBe("late");
    await new Promise((r) => setTimeout(r, 50));
    expect(closed).toBe(true);
    expect(() => c.request(req("/"), true, new Collect())).toThrow(/closing/);
  });
});

/** Opens a raw socket to a tug server, sends bytes, returns the GOAWAY code received. */
async function goawayFor(bytes: Buffer[], opts: Partial<SessionOptions> = {}, type: number = FrameType.GOAWAY): Promise<number> {
  const { port } = await tugServer(opts);
  const s = await connect(port);
  cleanups.push(() => s.destroy());
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    s.on("data", (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      let p = 0;
      while (buf.length - p >= 9) {
        const len = buf.readUIntBE(p, 3);
        if (buf.length - p < 9 + len) break;
        if (buf[p + 3] === type) return resolve(type === FrameType.GOAWAY ? buf.readUInt32BE(p + 13) : buf.readUInt32BE(p + 9));
        p += 9 + len;
      }
    });
    s.on("close", () => resolve(-1));
    for (const b of bytes) s.write(b);
  });
}
const HELLO = [PREFACE, frame(FrameType.SETTINGS, 0, 0)];
const hdrs = (id: number, flags = Flags.END_HEADERS | Flags.END_STREAM, path = "/"): Buffer => frame(FrameType.HEADERS, flags, id, new HpackEncoder().encode(req(path)));

describe("protocol violations → GOAWAY code", () => {
  it("bad preface", async () => {
    expect(await goawayFor([Buffer.from("GET / HTTP/1.1\r\n\r\n0123456789")])).toBe(ErrorCode.PROTOCOL_ERROR);
  });
  it("oversized frame", async () => {
    expect(await goawayFor([...HELLO, frame(FrameType.DATA, 0, 1, Buffer.alloc(20000))])).toBe(ErrorCode.FRAME_SIZE_ERROR);
  });
  it("HPACK garbage", async () => {
    expect(await goawayFor([...HELLO, frame(FrameType.HEADERS, Flags.END_HEADERS, 1, Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))])).toBe(ErrorCode.COMPRESSION_ERROR);
  });
  it("connection window overflow", async () => {
    const wu = Buffer.alloc(4);
    wu.writeUInt32BE(0x7fffffff);
    expect(await goawayFor([...HELLO, frame(FrameType.WINDOW_UPDATE, 0, 0, wu)])).toBe(ErrorCode.FLOW_CONTROL_ERROR);
  });
  it("DATA beyond the stream window → RST_STREAM FLOW_CONTROL_ERROR (stream error)", async () => {
    const frames: Buffer[] = [...HELLO, hdrs(1, Flags.END_HEADERS), frame(FrameType.DATA, 0, 1, Buffer.alloc(200))];
    expect(await goawayFor(frames, { streamWindow: 100 }, FrameType.RST_STREAM)).toBe(ErrorCode.FLOW_CONTROL_ERROR);
  });
  it("DATA on a half-closed (remote) stream → GOAWAY; on a fully closed one → RST_STREAM", async () => {
    const hang = hdrs(1, Flags.END_HEADERS | Flags.END_STREAM, "/hang");
    expect(await goawayFor([...HELLO, hang, frame(FrameType.DATA, 0, 1, Buffer.from("x"))])).toBe(ErrorCode.STREAM_CLOSED);
    const done = [...HELLO, hdrs(1)];
    const late = frame(FrameType.DATA, 0, 1, Buffer.from("x"));
    expect(await goawayFor([...done, Buffer.alloc(0)], {}, FrameType.HEADERS)).toBeGreaterThanOrEqual(0);
    expect(await goawayFor([...done, late], {}, FrameType.RST_STREAM)).toBe(ErrorCode.STREAM_CLOSED);
  });
  it("even and non-increasing stream ids", async () => {
    expect(await goawayFor([...HELLO, hdrs(2)])).toBe(ErrorCode.PROTOCOL_ERROR);
    expect(await goawayFor([...HELLO, hdrs(5), hdrs(3)])).toBe(ErrorCode.STREAM_CLOSED);
  });
  it("CONTINUATION interleaving", async () => {
    const block = new HpackEncoder().encode(req("/"));
    expect(await goawayFor([...HELLO, frame(FrameType.HEADERS, 0, 1, block.subarray(0, 2)), frame(FrameType.PING, 0, 0, Buffer.alloc(8))])).toBe(ErrorCode.PROTOCOL_ERROR);
  });
  it("first frame not SETTINGS", async () => {
    expect(await goawayFor([PREFACE, frame(FrameType.PING, 0, 0, Buffer.alloc(8))])).toBe(ErrorCode.PROTOCOL_ERROR);
  });
  it("PING flood and SETTINGS flood", async () => {
    const pings = Buffer.concat(Array.from({ length: 10050 }, () => frame(FrameType.PING, 0, 0, Buffer.alloc(8))));
    expect(await goawayFor([...HELLO, pings])).toBe(ErrorCode.ENHANCE_YOUR_CALM);
    const sets = Buffer.concat(Array.from({ length: 10050 }, () => frame(FrameType.SETTINGS, 0, 0)));
    expect(await goawayFor([...HELLO, sets])).toBe(ErrorCode.ENHANCE_YOUR_CALM);
  });
  it("rapid reset flood", async () => {
    const parts: Buffer[] = [];
    const enc = new HpackEncoder();
    const rst = Buffer.alloc(4);
    rst.writeUInt32BE(ErrorCode.CANCEL);
    for (let id = 1; id < 2 * 10050; id += 2) {
      parts.push(frame(FrameType.HEADERS, Flags.END_HEADERS, id, enc.encode(req("/hang"))), frame(FrameType.RST_STREAM, 0, id, rst));
    }
    expect(await goawayFor([...HELLO, Buffer.concat(parts)])).toBe(ErrorCode.ENHANCE_YOUR_CALM);
  });
  it("bad SETTINGS values", async () => {
    expect(await goawayFor([PREFACE, frame(FrameType.SETTINGS, 0, 0, settingsPayload([[4, 0x80000000]]))])).toBe(ErrorCode.FLOW_CONTROL_ERROR);
    expect(await goawayFor([PREFACE, frame(FrameType.SETTINGS, 0, 0, Buffer.alloc(5))])).toBe(ErrorCode.FRAME_SIZE_ERROR);
  });
  it("a header list above the limit refuses the stream, not the session", async () => {
    const { port } = await tugServer({ maxHeaderListSize: 200 });
    const c = await tugClient(port);
    const big = new Collect();
    c.request([...req("/"), "x-big", "y".repeat(500)], true, big);
    const ok = new Collect();
    c.request(req("/"), true, ok);
    await Promise.all([big.done, ok.done]);
    expect(big.resetCode).toBe(ErrorCode.REFUSED_STREAM);
    expect(ok.headers.slice(0, 2)).toEqual([":status", "200"]);
  });
});

describe("client side checks", () => {
  it("PUSH_PROMISE to a client → PROTOCOL_ERROR", async () => {
    let got = -1;
    const srv = net.createServer((s) => {
      s.write(Buffer.concat([frame(FrameType.SETTINGS, 0, 0), frame(FrameType.PUSH_PROMISE, Flags.END_HEADERS, 1, Buffer.from([0, 0, 0, 2, 0x82]))]));
      let buf = Buffer.alloc(0);
      s.on("data", (c: Buffer) => {
        buf = Buffer.concat([buf, c]);
        const i = buf.indexOf(Buffer.from([0, 0, 0, 0, 0]), PREFACE.length);
        void i;
        for (let p = PREFACE.length; buf.length - p >= 9;) {
          const len = buf.readUIntBE(p, 3);
          if (buf.length - p < 9 + len) break;
          if (buf[p + 3] === FrameType.GOAWAY) got = buf.readUInt32BE(p + 13);
          p += 9 + len;
        }
      });
    });
    const port = await listen(srv);
    cleanups.push(() => srv.close());
    const c = await tugClient(port);
    const col = new Collect();
    c.request(req("/"), true, col);
    await col.done;
    await new Promise((r) => setTimeout(r, 30));
    expect(got).toBe(ErrorCode.PROTOCOL_ERROR);
    expect(col.resetCode).toBe(ErrorCode.PROTOCOL_ERROR);
  });
});

describe("frame handling on the server", () => {
  it("padding, PRIORITY, CONTINUATION reassembly, SETTINGS and PING acks", async () => {
    const { port } = await tugServer();
    const s = await connect(port);
    cleanups.push(() => s.destroy());
    const block = new HpackEncoder().encode(req("/p", "POST"));
    // HEADERS padded (3 bytes) with PRIORITY fields, first 3 block bytes; rest in CONTINUATION.
    const hp = Buffer.concat([Buffer.from([3, 0, 0, 0, 0, 16]), block.subarray(0, 3), Buffer.alloc(3)]);
    const data = Buffer.concat([Buffer.from([2]), Buffer.from("abc"), Buffer.alloc(2)]);
    const seen = new Map<number, Buffer[]>();
    const got = new Promise<void>((resolve) => {
      let buf = Buffer.alloc(0);
      s.on("data", (c: Buffer) => {
        buf = Buffer.concat([buf, c]);
        let p = 0;
        while (buf.length - p >= 9) {
          const len = buf.readUIntBE(p, 3);
          if (buf.length - p < 9 + len) break;
          const type = buf[p + 3] ?? 0;
          const flags = buf[p + 4] ?? 0;
          const list = seen.get(type) ?? [];
          list.push(buf.subarray(p + 9, p + 9 + len));
          seen.set(type, list);
          if (type === FrameType.DATA && flags & Flags.END_STREAM) resolve();
          p += 9 + len;
        }
        buf = buf.subarray(p);
      });
    });
    s.write(Buffer.concat([
      PREFACE, frame(FrameType.SETTINGS, 0, 0),
      frame(FrameType.PRIORITY, 0, 1, Buffer.from([0, 0, 0, 0, 16])),
      frame(FrameType.HEADERS, Flags.PADDED | Flags.PRIORITY, 1, hp),
      frame(FrameType.CONTINUATION, Flags.END_HEADERS, 1, block.subarray(3)),
      frame(FrameType.PING, 0, 0, Buffer.from("12345678")),
      frame(FrameType.DATA, Flags.PADDED | Flags.END_STREAM, 1, data),
    ]));
    await got;
    expect(Buffer.concat(seen.get(FrameType.DATA) ?? []).toString()).toBe("abc");
    expect(seen.get(FrameType.PING)?.[0]?.toString()).toBe("12345678");
    expect((seen.get(FrameType.SETTINGS) ?? []).some((p) => p.length === 0)).toBe(true); // our ack
  });
  it("SETTINGS_INITIAL_WINDOW_SIZE changes adjust open streams' send windows", async () => {
    const { port } = await tugServer();
    const s = await connect(port);
    cleanups.push(() => s.destroy());
    let dataBytes = 0;
    const expectBytes = (n: number): Promise<void> => new Promise((resolve) => {
      const check = (): void => {
        if (dataBytes >= n) resolve();
        else setTimeout(check, 5);
      };
      check();
    });
    let buf = Buffer.alloc(0);
    s.on("data", (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      let p = 0;
      while (buf.length - p >= 9) {
        const len = buf.readUIntBE(p, 3);
        if (buf.length - p < 9 + len) break;
        if (buf[p + 3] === FrameType.DATA) dataBytes += len;
        p += 9 + len;
      }
      buf = buf.subarray(p);
    });
    const body = frame(FrameType.DATA, Flags.END_STREAM, 1, Buffer.alloc(1000));
    // Peer stream window 100: the 1000-byte echo is held back after 100 bytes.
    s.write(Buffer.concat([PREFACE, frame(FrameType.SETTINGS, 0, 0, settingsPayload([[4, 100]])), hdrs(1, Flags.END_HEADERS, "/e"), body]));
    await expectBytes(100);
    await new Promise((r) => setTimeout(r, 20));
    expect(dataBytes).toBe(100);
    s.write(frame(FrameType.SETTINGS, 0, 0, settingsPayload([[4, 2000]])));
    await expectBytes(1000);
    expect(dataBytes).toBe(1000);
  });
});

describe("onLocalEnd", () => {
  it("fires when the server's END_STREAM is queued before the request ended, not after a normal exchange", async () => {
    const fired: number[] = [];
    const srv = net.createServer((sock) => {
      new H2Session(sock, {
        role: "server",
        onStream: (st, _h, end) => {
          const events: StreamEvents = {
            onHeaders() {},
            onData(s, _c, e) {
              if (e) {
                s.sendHeaders([":status", "200"], true);
              }
            },
            onReset() {},
            onLocalEnd(s) {
              fired.push(s.id);
              s.reset(ErrorCode.NO_ERROR);
            },
          };
          // answer stream 1 before its upload ended (after onStream returned: the events are registered then)
          if (!end && st.id === 1) {
            queueMicrotask(() => {
              st.sendHeaders([":status", "200"], false);
              st.write(Buffer.from("early"), true);
            });
          }
          return events;
        },
      });
    });
    const port = await listen(srv);
    cleanups.push(() => srv.close());
    const c = await tugClient(port);
    const early = new Collect();
    c.request(req("/upload", "POST"), false, early).write(Buffer.alloc(10), false);
    await early.done;
    expect(early.body.toString()).toBe("early");
    // the RST_STREAM(NO_ERROR) follows the response
    await new Promise((r) => setTimeout(r, 50));
    expect(fired).toEqual([1]);
    expect(early.resetCode).toBe(ErrorCode.NO_ERROR); // after the complete response: the upload stops
    const normal = new Collect();
    c.request(req("/after", "POST"), false, normal).write(Buffer.alloc(3), true);
    await normal.done;
    expect(normal.headers.slice(0, 2)).toEqual([":status", "200"]);
    expect(fired).toEqual([1]);
  });
});
