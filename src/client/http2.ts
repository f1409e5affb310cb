/**
 * The client's HTTP/2 connection to one apiserver (node:http2): one session, many concurrent
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
import { pipeline } from "node:stream";
import { createGunzip } from "node:zlib";

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
}

export interface RawRequest {
  readonly method: string;
  /** Path and query, e.g. `/api/v1/pods?limit=500`. */
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Uint8Array;
  readonly signal?: AbortSignal;
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
  for (const [k, v] of Object.entries(h)) {
    if (k.startsWith(":") || v === undefined) continue;
    out[k] = Array.isArray(v) ? v.join(", ") : String(v);
  }
  return out;
}

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
    return new Promise<StreamingResponse>((resolve, reject) => {
      if (req.signal?.aborted) {
        reject(abortError(req.signal));
        return;
      }
      let session: http2.ClientHttp2Session;
      try {
        session = this.getSession();
      } catch (e) {
        reject(e);
        return;
      }
      const headers: http2.OutgoingHttpHeaders = { ":method": req.method, ":path": req.path, ...req.headers };
      let stream: http2.ClientHttp2Stream;
      try {
        stream = session.request(headers, { endStream: req.body === undefined || req.body.length === 0 });
      } catch (e) {
        if (this.session === session) this.session = undefined;
        reject(wrap(e, this.origin));
        return;
      }
      this.streamOpened(session);
      let settled = false;
      let onAbort: (() => void) | undefined;
      stream.once("close", () => {
        this.streamClosed();
        if (onAbort && req.signal) req.signal.removeEventListener("abort", onAbort);
        if (!settled) {
          settled = true;
          const code = stream.rstCode;
          reject(new ConnectionError(`stream to ${this.origin} closed before a response (code ${code ?? "?"})`));
        }
      });
      stream.on("error", (e) => {
        if (!settled) {
          settled = true;
          reject(wrap(e, this.origin));
        }
      });
      if (req.signal) {
        onAbort = () => {
          const reason = abortError(req.signal!);
          if (!settled) {
            settled = true;
            reject(reason);
          }
          stream.close(http2.constants.NGHTTP2_CANCEL);
        };
        req.signal.addEventListener("abort", onAbort, { once: true });
      }
      stream.once("response", (h) => {
        if (settled) return;
        settled = true;
        const status = Number(h[":status"] ?? 0);
        const rh = headerRecord(h);
        const gz = (rh["content-encoding"] ?? "").toLowerCase() === "gzip";
        const source: AsyncIterable<Uint8Array> = gz ? pipeline(stream, createGunzip(), () => undefined) : stream;
        resolve({
          status,
          headers: rh,
          body: source,
          cancel: () => {
            if (!stream.closed) stream.close(http2.constants.NGHTTP2_CANCEL);
          },
        });
      });
      if (req.body !== undefined && req.body.length > 0) stream.end(req.body);
    });
  }

  /** Closes the session (running streams are cancelled) and refuses further requests. */
  close(): void {
    this.closed = true;
    const s = this.session;
    this.session = undefined;
    s?.destroy();
  }
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
export async function readAll(body: AsyncIterable<Uint8Array>, limit = 2 ** 31 - 1): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let n = 0;
  for await (const c of body) {
    n += c.length;
    if (n > limit) throw new ConnectionError(`response body exceeds ${limit} bytes`);
    chunks.push(c);
  }
  if (chunks.length === 1) return chunks[0]!;
  return Buffer.concat(chunks, n);
}
