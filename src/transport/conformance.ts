/**
 * The one conformance suite every HTTP adapter runs. It is client-side: `start` brings up a
 * server serving `createConformanceHandler()` (in-process, or another runtime in a child process)
 * and the suite talks to it over loopback with node:http, node:https, node:http2 and node:tls.
 *
 * Cases for optional features run only where the adapter declares them in its
 * `TransportCapabilities`; the others are registered as skipped under the capability's name.
 *
 * Usage (in a vitest file):
 *   runTransportConformance("node-http2", capabilities, (opts) => startInProcess(transport, opts));
 */
import { describe, expect, it, beforeAll, afterAll } from "vitest";
import * as http from "node:http";
import * as https from "node:https";
import * as http2 from "node:http2";
import * as net from "node:net";
import * as tls from "node:tls";
import { PassThrough } from "node:stream";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensurePki, type Pki } from "../pki/mod.ts";
import { createConformanceHandler, fnv1a, type StreamProbe } from "./conformance-handler.ts";
import type { TlsOptions, Transport, TransportCapabilities } from "./types.ts";

export interface StartOptions {
  /** Serve TLS with these (ALPN h2 + http/1.1 where supported); absent: plaintext. */
  readonly tls?: TlsOptions;
}

export interface StartedServer {
  /** Base URL, e.g. `https://127.0.0.1:43121`. */
  readonly url: string;
  close(): Promise<void>;
}

export type StartServer = (opts: StartOptions) => Promise<StartedServer>;

/** Starts an in-process adapter serving the conformance handler. */
export function startInProcess(transport: Transport): StartServer {
  return async (opts) => {
    const server = await transport.listen(createConformanceHandler(), {
      host: "127.0.0.1",
      port: 0,
      ...(opts.tls ? { tls: opts.tls } : {}),
    });
    return { url: `${opts.tls ? "https" : "http"}://127.0.0.1:${server.port}`, close: () => server.close() };
  };
}

// ---- client side ----

type Proto = "h1" | "h2";

interface Endpoint {
  readonly label: string;
  readonly proto: Proto;
  readonly url: string;
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
}

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

interface RequestOptions {
  method?: string;
  headers?: Record<string, string | string[]>;
  body?: Uint8Array | string;
}

/** A streaming response under test: chunks are buffered as they arrive. */
interface OpenStream {
  status: Promise<number>;
  received: () => number;
  text: () => string;
  ended: Promise<void>;
  pause(): void;
  resume(): void;
  destroy(): void;
}

const sessions = new Map<string, http2.ClientHttp2Session>();

function h2session(ep: Endpoint): http2.ClientHttp2Session {
  const key = `${ep.url}|${ep.cert ?? ""}`;
  let s = sessions.get(key);
  if (!s || s.closed || s.destroyed) {
    s = http2.connect(ep.url, {
      maxSessionMemory: 256,
      ...(ep.ca !== undefined ? { ca: ep.ca } : {}),
      ...(ep.cert !== undefined && ep.key !== undefined ? { cert: ep.cert, key: ep.key } : {}),
    });
    s.on("error", () => undefined);
    sessions.set(key, s);
  }
  return s;
}

function closeSessions(): void {
  for (const s of sessions.values()) s.destroy();
  sessions.clear();
}

function h1options(ep: Endpoint, path: string, o: RequestOptions): https.RequestOptions {
  const u = new URL(ep.url);
  return {
    host: u.hostname,
    port: u.port,
    path,
    method: o.method ?? "GET",
    headers: o.headers ?? {},
    agent: false,
    ...(ep.ca !== undefined ? { ca: ep.ca } : {}),
    ...(ep.cert !== undefined && ep.key !== undefined ? { cert: ep.cert, key: ep.key } : {}),
  };
}

interface Opened {
  stream: NodeJS.ReadableStream;
  destroy(): void;
  status: Promise<number>;
  headers: Promise<Record<string, string | string[] | undefined>>;
}

function open(ep: Endpoint, path: string, o: RequestOptions = {}): Opened {
  if (ep.proto === "h2") {
    const s = h2session(ep);
    const req = s.request({ ":method": o.method ?? "GET", ":path": path, ...(o.headers ?? {}) }, { endStream: o.body === undefined });
    req.on("error", () => undefined);
    if (o.body !== undefined) req.end(o.body);
    const headers = new Promise<Record<string, string | string[] | undefined>>((resolve, reject) => {
      req.once("response", (h) => resolve(h));
      req.once("close", () => reject(new Error(`h2 stream closed before a response (rst ${req.rstCode})`)));
    });
    return { stream: req, destroy: () => req.destroy(), headers, status: headers.then((h) => Number(h[":status"])) };
  }
  const mod = ep.url.startsWith("https:") ? https : http;
  let resolveRes: (r: http.IncomingMessage) => void = () => undefined;
  let rejectRes: (e: Error) => void = () => undefined;
  const res = new Promise<http.IncomingMessage>((resolve, reject) => {
    resolveRes = resolve;
    rejectRes = reject;
  });
  const req = (mod as typeof https).request(h1options(ep, path, o), resolveRes);
  req.on("error", (e) => rejectRes(e));
  if (o.body !== undefined) req.end(o.body);
  else req.end();
  // A PassThrough-like facade: the IncomingMessage once it exists.
  const pass = new PassThrough();
  let incoming: http.IncomingMessage | undefined;
  res.then((r) => {
    incoming = r;
    r.pipe(pass);
    r.on("error", () => pass.destroy());
    r.on("aborted", () => pass.destroy());
  }, () => pass.destroy());
  return {
    stream: pass,
    destroy: (): void => {
      req.destroy();
      incoming?.destroy();
      pass.destroy();
    },
    status: res.then((r) => r.statusCode ?? 0),
    headers: res.then((r) => r.headers as Record<string, string | string[] | undefined>),
  };
}

async function request(ep: Endpoint, path: string, o: RequestOptions = {}): Promise<Reply> {
  const { stream, headers, status } = open(ep, path, o);
  const chunks: Buffer[] = [];
  const body = new Promise<Buffer>((resolve, reject) => {
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("end", () => resolve(Buffer.concat(chunks)));
    stream.on("error", reject);
  });
  const h = await withTimeout(headers, 10_000, `response head for ${path}`);
  const b = await withTimeout(body, 10_000, `response body for ${path}`);
  return { status: await status, headers: h, body: b };
}

function watch(ep: Endpoint, path: string): OpenStream {
  const { stream, status, destroy } = open(ep, path);
  const chunks: Buffer[] = [];
  let n = 0;
  const ended = new Promise<void>((resolve) => {
    stream.on("data", (c: Buffer) => {
      chunks.push(c);
      n += c.length;
    });
    stream.on("end", () => resolve());
    stream.on("close", () => resolve());
    stream.on("error", () => resolve());
  });
  return {
    status,
    ended,
    received: () => n,
    text: () => Buffer.concat(chunks).toString("utf8"),
    pause: () => stream.pause(),
    resume: () => stream.resume(),
    destroy,
  };
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        t = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(t);
  }
}

/** Polls `cond` every 20 ms until true or `ms` elapse; returns the last value. */
async function until(cond: () => Promise<boolean> | boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    if (await cond()) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function probe(ep: Endpoint, id: string): Promise<StreamProbe | null> {
  const r = await request(ep, `/probe?id=${id}`);
  return JSON.parse(r.body.toString("utf8")) as StreamProbe | null;
}

interface EchoReply {
  method: string;
  path: string;
  rawQuery: string;
  query: [string, string][];
  headers: Record<string, string>;
  httpVersion: string;
  peer: { commonName: string; organizations: string[] } | null;
  bodyLength: number;
  bodyHash: number;
  bodyText: string;
}

async function echo(ep: Endpoint, path: string, o: RequestOptions = {}): Promise<EchoReply> {
  const r = await request(ep, path, o);
  expect(r.status, r.body.toString("utf8")).toBe(200);
  return JSON.parse(r.body.toString("utf8")) as EchoReply;
}

function pattern(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + (i >>> 11)) & 0xff;
  return b;
}

let seq = 0;
const uid = (): string => `${process.pid}-${Date.now().toString(36)}-${seq++}`;

const MiB = 1024 * 1024;

/**
 * Registers the suite for one adapter. `caps` says which optional cases apply.
 */
export function runTransportConformance(name: string, caps: TransportCapabilities, start: StartServer): void {
  describe(`transport conformance: ${name}`, () => {
    let dir = "";
    let pki: Pki;
    let plain: StartedServer;
    let secure: StartedServer;
    const eps: Endpoint[] = [];
    let h1plain: Endpoint;
    let h1tls: Endpoint;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), "tug-conformance-"));
      pki = await ensurePki(dir, { hosts: [] });
      plain = await start({});
      secure = await start({ tls: { cert: pki.serverCert, key: pki.serverKey, clientCa: pki.caCert } });
      h1plain = { label: "http/1.1", proto: "h1", url: plain.url };
      h1tls = { label: "http/1.1+tls", proto: "h1", url: secure.url, ca: pki.caCert };
      eps.push(h1plain, h1tls);
      if (caps.h2c) eps.push({ label: "h2c", proto: "h2", url: plain.url });
      if (caps.tlsH2) eps.push({ label: "h2+tls", proto: "h2", url: secure.url, ca: pki.caCert });
    });
    afterAll(async () => {
      closeSessions();
      await Promise.all([plain?.close(), secure?.close()]);
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    const each = (title: string, fn: (ep: Endpoint) => Promise<void>): void => {
      it(title, async () => {
        for (const ep of eps) {
          try {
            await fn(ep);
          } catch (err) {
            if (err instanceof Error) err.message = `[${ep.label}] ${err.message}`;
            throw err;
          }
        }
      });
    };

    each("methods reach the handler; HEAD has no body", async (ep) => {
      for (const method of ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]) {
        expect((await echo(ep, "/echo", { method })).method).toBe(method);
      }
      const head = await request(ep, "/echo", { method: "HEAD" });
      expect(head.status).toBe(200);
      expect(head.body.length).toBe(0);
    });

    each("path is decoded, query kept raw and parsed", async (ep) => {
      const r = await echo(ep, "/echo/a%20b/%E2%9C%93/x%2Fy?x=1&y=a%20b&x=2&e=");
      expect(r.path).toBe("/echo/a b/✓/x/y");
      expect(r.rawQuery).toBe("x=1&y=a%20b&x=2&e=");
      expect(r.query).toEqual([["x", "1"], ["y", "a b"], ["x", "2"], ["e", ""]]);
      const none = await echo(ep, "/echo");
      expect(none.rawQuery).toBe("");
      expect(none.query).toEqual([]);
    });

    each("a malformed percent-encoding is a 400 Status, and the server keeps serving", async (ep) => {
      const r = await request(ep, "/echo/%zz");
      expect(r.status).toBe(400);
      expect(JSON.parse(new TextDecoder().decode(r.body))).toMatchObject({ kind: "Status", code: 400, reason: "BadRequest" });
      expect((await request(ep, "/echo")).status).toBe(200);
    });

    each("answers that leave a large body unread do not starve the connection", async (ep) => {
      // 30 × 600 KB on one session, far beyond HTTP/2's connection window: unread DATA must be
      // discarded server-side or later requests on the session stall. (Node's *client* also caps
      // its own buffered outbound data with maxSessionMemory, 10 MB by default, and then resets its
      // own streams with ENHANCE_YOUR_CALM; h2session raises that cap so the test sees the server.)
      const big = pattern(600 * 1024);
      for (let i = 0; i < 30; i++) {
        const r = await request(ep, "/status/404", { method: "POST", body: big });
        expect(r.status).toBe(404);
      }
      expect((await request(ep, "/echo")).status).toBe(200);
    });

    each("header names are lower-case, repeated headers joined with ', '", async (ep) => {
      const r = await echo(ep, "/echo", { headers: { "X-Mixed-Case": "v1", "x-rep": ["a", "b"], accept: "application/json" } });
      expect(r.headers["x-mixed-case"]).toBe("v1");
      expect(r.headers["x-rep"]).toBe("a, b");
      expect(r.headers["accept"]).toBe("application/json");
      expect(r.headers["host"]).toMatch(/^127\.0\.0\.1:\d+$/);
      for (const k of Object.keys(r.headers)) expect(k).toBe(k.toLowerCase());
    });

    each("request bodies: empty, small, 1 MiB", async (ep) => {
      const empty = await echo(ep, "/echo", { method: "POST" });
      expect(empty.bodyLength).toBe(0);
      const small = await echo(ep, "/echo", { method: "POST", body: "hello, tugboat" });
      expect(small.bodyText).toBe("hello, tugboat");
      const big = pattern(MiB);
      const r = await echo(ep, "/echo", { method: "POST", body: big });
      expect(r.bodyLength).toBe(MiB);
      expect(r.bodyHash).toBe(fnv1a(big));
    });

    each("a body over the limit: handler sees BodyTooLargeError (413), server keeps working", async (ep) => {
      const r = await request(ep, `/echo?limit=${MiB}`, { method: "POST", body: pattern(2 * MiB) });
      expect(r.status).toBe(413);
      expect(r.body.toString()).toBe("BodyTooLargeError");
      // declared length over the limit is refused before reading
      const small = await request(ep, "/echo?limit=4", { method: "POST", body: "12345" });
      expect(small.status).toBe(413);
      expect((await echo(ep, "/echo", { method: "POST", body: "after" })).bodyText).toBe("after");
    });

    each("status codes and response headers", async (ep) => {
      for (const code of [200, 201, 202, 204, 400, 404, 409, 418, 422, 500, 503]) {
        const r = await request(ep, `/status/${code}`);
        expect(r.status).toBe(code);
        expect(r.headers["x-custom"]).toBe("yes");
        expect(r.body.toString()).toBe(code === 204 ? "" : `status ${code}`);
      }
      const h = await request(ep, "/headers");
      expect(h.headers["x-one"]).toBe("1");
      expect(h.headers["x-multi"]).toBe("a, b");
      expect(h.headers["content-type"]).toBe("text/plain; charset=utf-8");
      expect(h.headers["cache-control"]).toBe("no-cache");
      expect(h.headers["content-length"]).toBe("7");
      expect(h.body.toString()).toBe("headers");
    });

    each("streaming: chunk 1 arrives while the handler still waits to produce chunk 2", async (ep) => {
      const id = uid();
      const s = watch(ep, `/stream/gated?id=${id}`);
      expect(await s.status).toBe(200);
      expect(await until(() => s.text() === "chunk-1\n", 3000)).toBe(true);
      expect((await request(ep, `/release?id=${id}`)).status).toBe(200);
      await withTimeout(s.ended, 3000, "end of the gated stream");
      expect(s.text()).toBe("chunk-1\nchunk-2\n");
    });

    each("client disconnect aborts the signal and calls return() on the body iterator", async (ep) => {
      const id = uid();
      const s = watch(ep, `/stream/forever?id=${id}`);
      expect(await s.status).toBe(200);
      expect(await until(() => s.received() > 0, 3000)).toBe(true);
      s.destroy();
      let last: StreamProbe | null = null;
      const ok = await until(async () => {
        last = await probe(ep, id);
        return last !== null && last.aborted && last.returned;
      }, 3000);
      expect(ok, JSON.stringify(last)).toBe(true);
    });

    it("backpressure: a client that stops reading makes the producer wait", async () => {
      const targets = eps.filter((e) => e === h1plain || e.label === "h2+tls" || (e.label === "h2c" && !caps.tlsH2));
      for (const ep of targets) {
        const id = uid();
        const chunks = 1024;
        const size = 64 * 1024; // 64 MiB if nothing pushed back
        const s = watch(ep, `/stream/big?id=${id}&chunks=${chunks}&size=${size}`);
        expect(await s.status).toBe(200);
        s.pause();
        await new Promise((r) => setTimeout(r, 400));
        const p1 = await probe(ep, id);
        await new Promise((r) => setTimeout(r, 200));
        const p2 = await probe(ep, id);
        expect(p1, ep.label).not.toBeNull();
        // kernel socket buffers (a few MiB on loopback) plus one chunk in flight, far from 64 MiB
        expect(p2!.produced, `${ep.label}: produced while paused`).toBeLessThan(chunks / 4);
        expect(p2!.produced - p1!.produced, `${ep.label}: kept producing while paused`).toBeLessThanOrEqual(2);
        s.resume();
        const target = (p2!.produced + 8) * size;
        expect(await until(() => s.received() >= target, 5000), `${ep.label}: resumes after reading`).toBe(true);
        s.destroy();
        let last: StreamProbe | null = null;
        const returned = await until(async () => (last = await probe(ep, id))?.returned === true, 3000);
        expect(returned, `${ep.label}: return() after disconnect ${JSON.stringify(last)}`).toBe(true);
      }
    });

    it("concurrent requests are served in parallel", async () => {
      for (const ep of eps) {
        const t0 = Date.now();
        const rs = await Promise.all(Array.from({ length: 20 }, () => request(ep, "/slow?ms=300")));
        for (const r of rs) expect(r.status).toBe(200);
        expect(Date.now() - t0, ep.label).toBeLessThan(3000);
      }
    });

    it("TLS: HTTP/1.1 without ALPN on the TLS port", async () => {
      const r = await echo(h1tls, "/echo");
      expect(r.httpVersion).toBe("1.1");
      const alpn = await alpnOf(secure.url, pki.caCert, ["http/1.1"]);
      expect(alpn === "http/1.1" || alpn === false).toBe(true);
    });

    it.skipIf(!caps.tlsH2)("TLS: ALPN selects h2 and HTTP/1.1 shares the port [capability tlsH2]", async () => {
      expect(await alpnOf(secure.url, pki.caCert, ["h2", "http/1.1"])).toBe("h2");
      const ep: Endpoint = { label: "h2+tls", proto: "h2", url: secure.url, ca: pki.caCert };
      expect((await echo(ep, "/echo")).httpVersion).toBe("2");
      expect((await echo(h1tls, "/echo")).httpVersion).toBe("1.1");
    });

    it.skipIf(!caps.h2c)("plaintext: h2c prior knowledge and HTTP/1.1 on the same port [capability h2c]", async () => {
      expect((await echo({ label: "h2c", proto: "h2", url: plain.url }, "/echo")).httpVersion).toBe("2");
      expect((await echo(h1plain, "/echo")).httpVersion).toBe("1.1");
    });

    it.skipIf(!caps.clientCertificates)("client certificates: verified cert -> peerCertificate, others -> none [capability clientCertificates]", async () => {
      const withCert = (proto: Proto, cert: string, key: string): Endpoint => ({ label: `${proto}+cert`, proto, url: secure.url, ca: pki.caCert, cert, key });
      const protos: Proto[] = caps.tlsH2 ? ["h1", "h2"] : ["h1"];
      // a certificate from a foreign CA is not trusted: no identity, but the request is served
      const otherDir = mkdtempSync(join(tmpdir(), "tug-conformance-other-"));
      try {
        const other = await ensurePki(otherDir, { hosts: [] });
        for (const proto of protos) {
          const admin = await echo(withCert(proto, pki.adminCert, pki.adminKey), "/echo");
          expect(admin.peer).toEqual({ commonName: "admin", organizations: ["system:masters"] });
          const anon = await echo({ label: proto, proto, url: secure.url, ca: pki.caCert }, "/echo");
          expect(anon.peer).toBeNull();
          const foreign = await echo(withCert(proto, other.adminCert, other.adminKey), "/echo");
          expect(foreign.peer).toBeNull();
        }
      } finally {
        rmSync(otherDir, { recursive: true, force: true });
      }
    });

    it.skipIf(caps.clientCertificates)("client certificates: not supported, peerCertificate stays unset", async () => {
      const r = await echo({ label: "h1+cert", proto: "h1", url: secure.url, ca: pki.caCert, cert: pki.adminCert, key: pki.adminKey }, "/echo");
      expect(r.peer).toBeNull();
    });

    it.skipIf(!caps.upgrade)("HTTP/1.1 Upgrade: 101 and the raw connection is handed over [capability upgrade]", async () => {
      for (const url of [plain.url, secure.url]) {
        const got = await rawUpgrade(url, pki.caCert, "hello-after-head", "and-more");
        expect(got).toMatch(/^HTTP\/1\.1 101 /);
        expect(got).toMatch(/\r\nupgrade: tug-echo\r\n/i);
        expect(got.endsWith("\r\n\r\nhello-after-headand-more")).toBe(true);
      }
    });

    it.skipIf(caps.upgrade)("HTTP/1.1 Upgrade without support: answered (501), no crash", async () => {
      const got = await rawUpgrade(plain.url, pki.caCert, "", "");
      expect(got).toMatch(/^HTTP\/1\.1 (501|426|400|404) /);
      expect((await request(h1plain, "/echo")).status).toBe(200);
    });

    it("close() resolves while streams are open", async () => {
      const srv = await start({});
      const ep: Endpoint = { label: "h1", proto: "h1", url: srv.url };
      const streams = [watch(ep, `/stream/forever?id=${uid()}`)];
      if (caps.h2c) streams.push(watch({ label: "h2c", proto: "h2", url: srv.url }, `/stream/forever?id=${uid()}`));
      for (const s of streams) expect(await until(() => s.received() > 0, 3000)).toBe(true);
      await withTimeout(srv.close(), 5000, "close() with open streams");
      for (const s of streams) await withTimeout(s.ended, 3000, "client side of a stream after close()");
      closeSessions();
    });
  });
}

function alpnOf(url: string, ca: string, protocols: string[]): Promise<string | false> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const sock = tls.connect({ host: u.hostname, port: Number(u.port), ca, ALPNProtocols: protocols, servername: "localhost" }, () => {
      const p = sock.alpnProtocol ?? false;
      sock.destroy();
      resolve(p);
    });
    sock.on("error", reject);
  });
}

/** Sends an Upgrade request with `head` right after it, then `more`; returns everything read. */
function rawUpgrade(url: string, ca: string, head: string, more: string): Promise<string> {
  const u = new URL(url);
  const port = Number(u.port);
  return new Promise((resolve, reject) => {
    const onConnect = (): void => {
      sock.write(`GET /upgrade HTTP/1.1\r\nHost: ${u.host}\r\nConnection: Upgrade\r\nUpgrade: tug-echo\r\n\r\n${head}`);
      setTimeout(() => {
        if (more) sock.write(more);
        setTimeout(() => sock.end(), 150);
      }, 100);
    };
    const sock: net.Socket = u.protocol === "https:"
      ? tls.connect({ host: u.hostname, port, ca, servername: "localhost" }, onConnect)
      : net.connect({ host: u.hostname, port }, onConnect);
    let data = "";
    sock.setEncoding("utf8");
    sock.on("data", (c: string) => (data += c));
    sock.on("close", () => resolve(data));
    sock.on("error", (e) => (data ? resolve(data) : reject(e)));
    setTimeout(() => sock.destroy(), 5000).unref();
  });
}
