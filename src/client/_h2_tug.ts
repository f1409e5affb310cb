/**
 * The client's default HTTP/2 engine, on Tugboat's own core (`src/h2`); `TUG_CLIENT_H2=node` or
 * `engine: "node"` select node:http2 instead (http2.ts). Same contract as the node:http2 engine: one session per
 * apiserver, reopened on demand after GOAWAY / close / failure; TLS with ALPN "h2" (a server that
 * does not negotiate h2 fails the request with `ConnectionError`) or h2c by prior knowledge; the
 * session is unref'd while no stream is open; a request the server refused (REFUSED_STREAM,
 * GOAWAY above its id) or that failed before any response on a dead session is retried once by
 * http2.ts, as for the node engine.
 *
 * Per request: one `TugCall` object is the stream's callbacks, the abort listener, the deadline
 * and the response body (an async iterable over the DATA chunks; receive windows are returned as
 * the body is consumed, so a slow reader — a watch — holds back the server instead of buffering).
 */
import * as net from "node:net";
import * as tls from "node:tls";
import { Readable, pipeline } from "node:stream";
import { createGunzip } from "node:zlib";
import { ErrorCode } from "../h2/frames.ts";
import { H2Session, type H2Stream, type HeaderList, type StreamEvents } from "../h2/session.ts";
import type { Deadline, DeadlineSet } from "./_deadlines.ts";
import { timeoutError } from "./_deadlines.ts";
import type { ConnectionOptions, RawRequest, StreamingResponse } from "./http2.ts";

/** Builds the transport failure (http2.ts's ConnectionError) with an optional code. */
export type FailureFactory = (message: string, code?: string) => Error;

export class TugEngine {
  private session: H2Session | undefined;
  private open = 0;
  private closed = false;
  private readonly url: URL;
  private readonly authority: string;

  constructor(private readonly opts: ConnectionOptions, private readonly deadlines: DeadlineSet, private readonly fail: FailureFactory) {
    this.url = new URL(opts.server);
    this.authority = this.url.host;
  }

  private getSession(): H2Session {
    if (this.closed) throw this.fail("the connection was closed by the client");
    const cur = this.session;
    if (cur && !cur.closed && !cur.goawayReceived) return cur;
    const tlsMode = this.url.protocol === "https:";
    const port = Number(this.url.port || (tlsMode ? 443 : 80));
    const host = this.url.hostname.replace(/^\[|\]$/g, "");
    const sock: net.Socket = tlsMode
      ? tls.connect({
        host, port, ALPNProtocols: ["h2"],
        ...(this.opts.caPem !== undefined ? { ca: this.opts.caPem } : {}),
        ...(this.opts.clientCertPem !== undefined ? { cert: this.opts.clientCertPem } : {}),
        ...(this.opts.clientKeyPem !== undefined ? { key: this.opts.clientKeyPem } : {}),
        ...(this.opts.insecureSkipTlsVerify === true ? { rejectUnauthorized: false } : {}),
        ...(this.opts.tlsServerName !== undefined ? { servername: this.opts.tlsServerName } : net.isIP(host) === 0 ? { servername: host } : {}),
      })
      : net.connect({ host, port });
    sock.setNoDelay(true);
    const s = new H2Session(sock, {
      role: "client",
      streamWindow: this.opts.streamWindowBytes ?? 8 << 20,
      connectionWindow: this.opts.sessionWindowBytes ?? 32 << 20,
      onGoaway: () => { if (this.session === s) this.session = undefined; },
      onClose: () => { if (this.session === s) this.session = undefined; },
    });
    this.session = s;
    const timeout = this.opts.connectTimeoutMs ?? 10_000;
    const origin = this.url.origin;
    const timer = setTimeout(() => s.destroy(this.fail(`cannot connect to ${origin}: timed out after ${timeout} ms`)), timeout);
    timer.unref();
    const connected = tlsMode ? "secureConnect" : "connect";
    sock.once(connected, () => {
      clearTimeout(timer);
      if (tlsMode && (sock as tls.TLSSocket).alpnProtocol !== "h2") {
        s.destroy(this.fail(`cannot connect to ${origin}: the server did not negotiate HTTP/2 (ALPN h2)`));
      }
    });
    sock.once("error", (e) => { clearTimeout(timer); s.destroy(this.fail(`request to ${origin} failed: ${e.message}`, (e as { code?: string }).code)); });
    sock.once("close", () => clearTimeout(timer));
    if (this.open === 0) s.unref();
    return s;
  }

  /** One attempt (http2.ts owns the retry rule). */
  attempt(req: RawRequest): Promise<StreamingResponse> {
    return new Promise<StreamingResponse>((resolve, reject) => {
      const signal = req.signal;
      if (signal?.aborted) { reject(abortError(signal)); return; }
      if (req.deadline !== undefined && req.deadline <= performance.now()) { reject(timeoutError()); return; }
      let session: H2Session;
      try {
        session = this.getSession();
      } catch (e) {
        reject(e);
        return;
      }
      const headers: HeaderList = [":method", req.method, ":scheme", this.url.protocol === "https:" ? "https" : "http", ":authority", this.authority, ":path", req.path];
      if (req.headers !== undefined) for (const k in req.headers) headers.push(k.toLowerCase(), req.headers[k] ?? "");
      const hasBody = req.body !== undefined && req.body.length > 0;
      const call = new TugCall(this, req.deadline ?? Infinity, signal, resolve, reject);
      let stream: H2Stream;
      try {
        stream = session.request(headers, !hasBody, call);
      } catch (e) {
        if (this.session === session) this.session = undefined;
        reject(this.fail(`request to ${this.url.origin} failed: ${e instanceof Error ? e.message : String(e)}`, "ERR_HTTP2_INVALID_SESSION"));
        return;
      }
      call.stream = stream;
      stream.setManualFlow(true);
      if (this.open++ === 0) session.ref();
      if (signal !== undefined) signal.addEventListener("abort", call, { once: true });
      if (req.deadline !== undefined) this.deadlines.add(call);
      if (hasBody && req.body !== undefined) stream.write(req.body, true);
    });
  }

  /** A call's stream is over (either way). */
  finished(call: TugCall): void {
    if (call.signal !== undefined) call.signal.removeEventListener("abort", call);
    if (call.at !== Infinity) this.deadlines.delete(call);
    if (--this.open === 0) this.session?.unref();
  }

  failure(message: string, code?: string): Error { return this.fail(message, code); }

  close(): void {
    this.closed = true;
    const s = this.session;
    this.session = undefined;
    s?.destroy();
  }
}

/** One request: the stream's callbacks, abort listener, deadline and response body. */
class TugCall implements StreamEvents, Deadline, AsyncIterable<Uint8Array>, AsyncIterator<Uint8Array> {
  stream: H2Stream | undefined;
  private settled = false;
  private done = false;
  private over = false;
  private error: Error | undefined;
  private readonly chunks: Uint8Array[] = [];
  private wake: ((r: IteratorResult<Uint8Array>) => void) | undefined;
  private wakeErr: ((e: Error) => void) | undefined;

  constructor(
    private readonly engine: TugEngine,
    readonly at: number,
    readonly signal: AbortSignal | undefined,
    private readonly resolve: (r: StreamingResponse) => void,
    private readonly reject: (e: Error) => void,
  ) {}

  onHeaders(_stream: H2Stream, h: HeaderList, endStream: boolean): void {
    if (this.settled) { if (endStream) this.end(); return; } // trailers
    let status = 0;
    const headers: Record<string, string> = {};
    for (let i = 0; i + 1 < h.length; i += 2) {
      const k = h[i]!, v = h[i + 1]!;
      if (k === ":status") { status = Number(v); continue; }
      if (k.charCodeAt(0) === 58) continue;
      const prev = headers[k];
      headers[k] = prev === undefined ? v : `${prev}, ${v}`;
    }
    if (status >= 100 && status < 200) return; // informational
    this.settled = true;
    const ce = headers["content-encoding"];
    const gz = ce !== undefined && ce.toLowerCase() === "gzip";
    const body: AsyncIterable<Uint8Array> = gz ? pipeline(Readable.from(this), createGunzip(), () => undefined) : this;
    this.resolve({ status, headers, body, cancel: () => this.cancel() });
    if (endStream) this.end();
  }

  onData(stream: H2Stream, chunk: Uint8Array, endStream: boolean): void {
    if (chunk.length > 0) {
      const w = this.wake;
      if (w !== undefined) { this.wake = undefined; this.wakeErr = undefined; stream.consumed(chunk.length); w({ value: chunk, done: false }); }
      else this.chunks.push(chunk);
    }
    if (endStream) this.end();
  }

  onReset(_stream: H2Stream, code: number, err: Error | undefined): void {
    const e = this.engine.failure(
      code === ErrorCode.REFUSED_STREAM ? `stream refused by the server (REFUSED_STREAM)` : `stream closed before its end (code ${code})${err ? `: ${err.message}` : ""}`,
      code === ErrorCode.REFUSED_STREAM ? "ERR_HTTP2_GOAWAY_SESSION" : err !== undefined ? "ERR_HTTP2_SESSION_ERROR" : "ERR_HTTP2_STREAM_CANCEL",
    );
    this.fail(e);
  }

  onClose(): void {
    this.end();
  }

  handleEvent(): void {
    if (this.signal !== undefined) this.fail(abortError(this.signal), true);
  }

  expire(): void {
    this.fail(timeoutError(), true);
  }

  private fail(e: Error, cancel = false): void {
    if (this.over) return;
    if (!this.settled) { this.settled = true; this.reject(e); }
    this.error = e;
    this.finish();
    if (cancel) this.stream?.reset(ErrorCode.CANCEL);
    const we = this.wakeErr;
    this.wake = undefined;
    this.wakeErr = undefined;
    we?.(e);
  }

  private end(): void {
    if (this.over) return;
    this.done = true;
    this.finish();
    const w = this.wake;
    if (w !== undefined && this.chunks.length === 0) { this.wake = undefined; this.wakeErr = undefined; w({ value: undefined, done: true }); }
  }

  private finish(): void {
    if (this.over) return;
    this.over = true;
    this.engine.finished(this);
  }

  cancel(): void {
    if (this.done && this.chunks.length === 0) return;
    this.stream?.reset(ErrorCode.CANCEL);
    this.chunks.length = 0;
    this.end();
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> { return this; }

  next(): Promise<IteratorResult<Uint8Array>> {
    const c = this.chunks.shift();
    if (c !== undefined) {
      if (!this.over) this.stream?.consumed(c.length);
      return Promise.resolve({ value: c, done: false });
    }
    if (this.error !== undefined && !this.done) return Promise.reject(this.error);
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => { this.wake = resolve; this.wakeErr = reject; });
  }

  return(): Promise<IteratorResult<Uint8Array>> {
    this.cancel();
    return Promise.resolve({ value: undefined, done: true });
  }
}

function abortError(signal: AbortSignal): Error {
  const r: unknown = signal.reason;
  if (r instanceof Error) return r;
  const e = new Error("the request was aborted");
  e.name = "AbortError";
  return e;
}
