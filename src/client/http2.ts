/**
 * The client's HTTP/2 connection to one apiserver: one session, many concurrent
 * streams, reconnect on demand. TLS (`https://`, ALPN h2) with the configured CA and client
 * certificate, or plaintext h2c with prior knowledge (`http://`, tests and benchmarks).
 *
 * Session lifecycle: the session is opened by the first request; when the server sends GOAWAY,
 * or the session closes or fails, it is dropped and the next request opens a new one. Streams
 * already running on a going-away session finish there. A request the server refused (GOAWAY
 * before it was processed, REFUSED_STREAM) or that failed before any response on a dead session is
 * retried once on a fresh session when that is safe: always for GET/HEAD, and for other methods
 * only when the server provably did not process it (refused stream).
 * The session is unref'd while no stream is open, so an idle client never keeps a process alive.
 */
import * as http2 from "node:http2";
import { pipeline, Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { type Deadline, DeadlineSet, timeoutError } from "./_deadlines.ts";
import { TugEngine } from "./_h2_tug.ts";

export interface ConnectionOptions {
  /** `https://host:port` or `http://host:port`. */
  readonly server: string;
  readonly caPem?: string;
  readonly clientCertPem?: string;
  readonly clientKeyPem?: string;
  readonly insecureSkipTlsVerify?: boolean;
  readonly tlsServerName?: string;
  /** Fails the connect after this long (default 10 s). */
  readonly connectTimeoutMs?: number;
  /**
   * Session memory cap in MiB (node:http2 `maxSessionMemory`, default here 256; Node's own default
   * of 10 refuses streams with ENHANCE_YOUR_CALM once a few large list responses are in flight).
   */
  readonly maxSessionMemoryMiB?: number;
  /**
   * HTTP/2 receive windows in bytes (per stream, and for the whole session). Node's default of
   * 64 KiB makes a large LIST wait on a WINDOW_UPDATE every 64 KiB; default here 8 MiB per stream
   * and 32 MiB per session.
   */
  readonly streamWindowBytes?: number;
  readonly sessionWindowBytes?: number;
  /**
   * The HTTP/2 implementation: "tug" (Tugboat's own core, src/h2; the default) or "node"
   * (node:http2). Default from `TUG_CLIENT_H2`, else "tug".
   */
  readonly engine?: "tug" | "node";
}

export interface RawRequest {
  readonly method: string;
  /** Path and query, e.g. `/api/v1/pods?limit=500`. */
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Uint8Array;
  readonly signal?: AbortSignal;
  /**
   * When the request (including reading its body) must be over, in `performance.now()` ms: then
   * it fails with a `TimeoutError` (as `AbortSignal.timeout` would abort it) and its stream is
   * cancelled. One shared timer serves all deadlines (no timer or signal per request).
   */
  readonly deadline?: number;
}

/** A response whose body is still streaming. Decompressed when the server sent gzip. */
export interface StreamingResponse {
  readonly status: number;
  /** Lower-case header names; repeated headers joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
  /** The body chunks; ends when the stream ends, throws when it fails. Iterate at most once. */
  readonly body: AsyncIterable<Uint8Array>;
  /** Stops the stream (RST_STREAM CANCEL); the body iteration then ends. Idempotent. */
  cancel(): void;
}

/** A transport-level failure (connect, TLS, reset stream, dead session): no HTTP status exists. */
export class ConnectionError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ConnectionError";
  }
}

function errCode(e: unknown): string {
  return typeof e === "object" && e !== null && "code" in e && typeof e.code === "string" ? e.code : "";
}

function headerRecord(h: http2.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k in h) {
    const v = h[k];
    if (v === undefined || k.charCodeAt(0) === 58 /* ':' */) continue;
    out[k] = Array.isArray(v) ? v.join(", ") : String(v);
  }
  return out;
}

/** Deadlines of all connections' requests (one timer for the process). */
const deadlines = new DeadlineSet();

/** Errors after which the request provably was not processed by the server. */
function refused(e: unknown): boolean {
  const c = errCode(e);
  return c === "ERR_HTTP2_GOAWAY_SESSION" || /REFUSED_STREAM/.test(e instanceof Error ? e.message : "");
}

/** Errors from a session that died before this stream got a response. */
function sessionDied(e: unknown): boolean {
  const c = errCode(e);
  return refused(e) || c === "ERR_HTTP2_INVALID_SESSION" || c === "ERR_HTTP2_SESSION_ERROR" ||
    c === "ERR_HTTP2_STREAM_CANCEL" || c === "ECONNRESET" || c === "EPIPE";
}

export class Http2Connection {
  private session: http2.ClientHttp2Session | undefined;
  private readonly origin: string;
  private readonly connectOpts: http2.SecureClientSessionOptions;
  private open = 0;
  private closed = false;
  /** Tugboat's own HTTP/2 engine (the default); undefined: node:http2 (`engine: "node"`). */
  private readonly tug: TugEngine | undefined;

  constructor(private readonly opts: ConnectionOptions) {
    let url: URL;
    try {
      url = new URL(opts.server);
    } catch {
      throw new TypeError(`server "${opts.server}" is not a URL`);
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") {
      throw new TypeError(`server "${opts.server}" must use https:// or http://`);
    }
    this.origin = url.origin;
    const tls: http2.SecureClientSessionOptions = {
      maxSessionMemory: opts.maxSessionMemoryMiB ?? 256,
      settings: { initialWindowSize: opts.streamWindowBytes ?? 8 << 20 },
    };
    if (url.protocol === "https:") {
      if (opts.caPem !== undefined) tls.ca = opts.caPem;
      if (opts.clientCertPem !== undefined) tls.cert = opts.clientCertPem;
      if (opts.clientKeyPem !== undefined) tls.key = opts.clientKeyPem;
      if (opts.insecureSkipTlsVerify === true) tls.rejectUnauthorized = false;
      if (opts.tlsServerName !== undefined) tls.servername = opts.tlsServerName;
    }
    this.connectOpts = tls;
    const engine = opts.engine ?? (process.env["TUG_CLIENT_H2"] === "node" ? "node" : "tug");
    this.tug = engine === "tug" ? new TugEngine(opts, deadlines, connectionFailure) : undefined;
  }

  /** Opens (or reuses) the session. */
  private getSession(): http2.ClientHttp2Session {
    if (this.closed) throw new ConnectionError("the connection was closed by the client");
    const cur = this.session;
    if (cur && !cur.closed && !cur.destroyed) return cur;
    const s = http2.connect(this.origin, this.connectOpts);
    this.session = s;
    const drop = (): void => {
      if (this.session === s) this.session = undefined;
    };
    s.on("goaway", drop);
    s.on("close", drop);
    s.on("error", drop); // errors reach the streams; the session is simply replaced
    const timeout = this.opts.connectTimeoutMs ?? 10_000;
    const timer = setTimeout(() => {
      if (!s.connecting) return;
      s.destroy(new ConnectionError(`cannot connect to ${this.origin}: timed out after ${timeout} ms`));
    }, timeout);
    timer.unref();
    s.once("connect", () => {
      clearTimeout(timer);
      try {
        s.setLocalWindowSize(this.opts.sessionWindowBytes ?? 32 << 20);
      } catch {
        // the session died between connect and here; its streams report that
      }
    });
    s.once("close", () => clearTimeout(timer));
    if (this.open === 0) s.unref();
    return s;
  }

  private streamOpened(s: http2.ClientHttp2Session): void {
    if (this.open++ === 0) s.ref();
  }

  private streamClosed(): void {
    if (--this.open === 0) this.session?.unref();
  }

  /**
   * Sends a request and resolves with the status and headers once they arrive; the body streams.
   * Rejects with `ConnectionError` on transport failures, with the signal's reason (an
   * `AbortError`) when aborted.
   */
  async request(req: RawRequest): Promise<StreamingResponse> {
    try {
      return await this.attempt(req);
    } catch (e) {
      if (req.signal?.aborted || this.closed) throw e;
      const idempotent = req.method === "GET" || req.method === "HEAD";
      if (!(idempotent ? sessionDied(e) : refused(e))) throw e;
      return await this.attempt(req); // once, on a fresh session
    }
  }

  private attempt(req: RawRequest): Promise<StreamingResponse> {
    if (this.tug !== undefined) return this.tug.attempt(req);
    return new Promise<StreamingResponse>((resolve, reject) => {
      const signal = req.signal;
      if (signal?.aborted) {
        reject(abortError(signal));
        return;
      }
      if (req.deadline !== undefined && req.deadline <= performance.now()) {
        reject(timeoutError());
        return;
      }
      let session: http2.ClientHttp2Session;
      try {
        session = this.getSession();
      } catch (e) {
        reject(e);
        return;
      }
      const headers: http2.OutgoingHttpHeaders = req.headers === undefined ? {} : { ...req.headers };
      headers[":method"] = req.method;
      headers[":path"] = req.path;
      const hasBody = req.body !== undefined && req.body.length > 0;
      let stream: http2.ClientHttp2Stream;
      try {
        stream = session.request(headers, { endStream: !hasBody });
      } catch (e) {
        if (this.session === session) this.session = undefined;
        reject(wrap(e, this.origin));
        return;
      }
      this.streamOpened(session);
      const call = new Call(stream, req.deadline ?? Infinity, signal, reject);
      stream.once("close", () => {
        this.streamClosed();
        if (signal !== undefined) signal.removeEventListener("abort", call);
        if (req.deadline !== undefined) deadlines.delete(call);
        if (!call.settled) {
          call.settled = true;
          const code = stream.rstCode;
          reject(new ConnectionError(`stream to ${this.origin} closed before a response (code ${code ?? "?"})`));
        }
      });
      stream.on("error", (e) => {
        if (!call.settled) {
          call.settled = true;
          reject(wrap(e, this.origin));
        }
      });
      if (signal !== undefined) signal.addEventListener("abort", call, { once: true });
      if (req.deadline !== undefined) deadlines.add(call);
      stream.once("response", (h) => {
        if (call.settled) return;
        call.settled = true;
        const status = Number(h[":status"] ?? 0);
        const rh = headerRecord(h);
        const ce = rh["content-encoding"];
        const gz = ce !== undefined && ce.toLowerCase() === "gzip";
        const source: AsyncIterable<Uint8Array> = gz ? pipeline(stream, createGunzip(), () => undefined) : stream;
        resolve({ status, headers: rh, body: source, cancel: cancelStream.bind(stream) });
      });
      if (hasBody) stream.end(req.body);
    });
  }

  /** Closes the session (running streams are cancelled) and refuses further requests. */
  close(): void {
    this.closed = true;
    this.tug?.close();
    const s = this.session;
    this.session = undefined;
    s?.destroy();
  }
}

/**
 * One request's in-flight state. It is also the request's abort listener (`handleEvent`) and its
 * deadline (`expire`): abort and deadline end the request the same way — reject if the response
 * has not come yet, and cancel the stream.
 */
class Call implements Deadline {
  settled = false;

  constructor(
    private readonly stream: http2.ClientHttp2Stream,
    readonly at: number,
    private readonly signal: AbortSignal | undefined,
    private readonly reject: (e: Error) => void,
  ) {}

  handleEvent(): void {
    if (this.signal !== undefined) this.fail(abortError(this.signal));
  }

  expire(): void {
    this.fail(timeoutError());
  }

  private fail(reason: Error): void {
    if (!this.settled) {
      this.settled = true;
      this.reject(reason);
    }
    this.stream.close(http2.constants.NGHTTP2_CANCEL);
  }
}

/** `StreamingResponse.cancel` (bound to the stream). */
function cancelStream(this: http2.ClientHttp2Stream): void {
  if (!this.closed) this.close(http2.constants.NGHTTP2_CANCEL);
}

/** A `ConnectionError` carrying a Node-style `code` (what the retry rules look at). */
function connectionFailure(message: string, code?: string): Error {
  const err = new ConnectionError(message);
  if (code) Object.defineProperty(err, "code", { value: code, enumerable: false });
  return err;
}

function wrap(e: unknown, origin: string): Error {
  if (e instanceof ConnectionError || (e instanceof Error && e.name === "AbortError")) return e;
  const msg = e instanceof Error ? e.message : String(e);
  const err = new ConnectionError(`request to ${origin} failed: ${msg}`, { cause: e });
  const code = errCode(e);
  if (code) Object.defineProperty(err, "code", { value: code, enumerable: false });
  return err;
}

function abortError(signal: AbortSignal): Error {
  const r: unknown = signal.reason;
  if (r instanceof Error) return r;
  const e = new Error("the request was aborted");
  e.name = "AbortError";
  return e;
}

/** Reads a whole body, failing with `ConnectionError` past `limit` bytes. */
export function readAll(body: AsyncIterable<Uint8Array>, limit = 2 ** 31 - 1): Promise<Uint8Array> {
  if (body instanceof Readable) return readStream(body, limit);
  return readIterable(body, limit);
}

async function readIterable(body: AsyncIterable<Uint8Array>, limit: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let n = 0;
  for await (const c of body) {
    n += c.length;
    if (n > limit) throw new ConnectionError(`response body exceeds ${limit} bytes`);
    chunks.push(c);
  }
  return join(chunks, n);
}

/**
 * `readIterable` for a node stream (a response body without gzip), with plain listeners: the
 * stream's async iterator costs a finished() watcher and a promise per chunk for what is mostly a
 * one-chunk body. Same outcomes: the stream's error, "Premature close" (ERR_STREAM_PREMATURE_CLOSE)
 * when it closes before its end, `ConnectionError` past the limit (the stream is destroyed).
 */
function readStream(stream: Readable, limit: number): Promise<Uint8Array> {
  return new Promise<Uint8Array>((resolve, reject) => {
    if (stream.errored) return reject(stream.errored);
    if (stream.readableEnded) return resolve(new Uint8Array(0));
    if (stream.destroyed) return reject(prematureClose());
    // The read's state rides on the stream; the listeners are module-level functions (no
    // closures per request).
    (stream as Reading)[kRead] = { chunks: [], n: 0, limit, resolve, reject };
    stream.on("data", onReadData);
    stream.on("end", onReadEnd);
    stream.on("error", onReadError);
    stream.on("close", onReadClose);
  });
}

const kRead = Symbol("tugboat.readAll");

interface ReadState {
  readonly chunks: Uint8Array[];
  n: number;
  readonly limit: number;
  readonly resolve: (body: Uint8Array) => void;
  readonly reject: (err: Error) => void;
}

type Reading = Readable & { [kRead]?: ReadState | undefined };

function finishRead(s: Reading): ReadState | undefined {
  const st = s[kRead];
  if (st === undefined) return undefined;
  s[kRead] = undefined;
  s.off("data", onReadData);
  s.off("end", onReadEnd);
  s.off("error", onReadError);
  s.off("close", onReadClose);
  return st;
}

function onReadData(this: Reading, c: Uint8Array): void {
  const st = this[kRead];
  if (st === undefined) return;
  st.n += c.length;
  if (st.n > st.limit) {
    finishRead(this);
    st.reject(new ConnectionError(`response body exceeds ${st.limit} bytes`));
    this.destroy();
    return;
  }
  st.chunks.push(c);
}

function onReadEnd(this: Reading): void {
  const st = finishRead(this);
  st?.resolve(join(st.chunks, st.n));
}

function onReadError(this: Reading, e: Error): void {
  finishRead(this)?.reject(e);
}

function onReadClose(this: Reading): void {
  // 'end' comes before 'close' for a complete body; an error before 'close' too.
  const errored = this.errored;
  const st = finishRead(this);
  if (st === undefined) return;
  if (this.readableEnded) st.resolve(join(st.chunks, st.n));
  else st.reject(errored ?? prematureClose());
}

function prematureClose(): Error {
  return Object.assign(new Error("Premature close"), { code: "ERR_STREAM_PREMATURE_CLOSE" });
}

function join(chunks: Uint8Array[], n: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  return Buffer.concat(chunks, n);
}
