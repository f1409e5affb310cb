/**
 * RestClient: authenticated requests to one apiserver over `Http2Connection`, with the client's
 * encoding (protobuf by default) applied to Accept/Content-Type, bearer-token auth, gzip decoding
 * and per-request timeouts. `request` returns raw bytes for any HTTP status; `object` decodes and
 * turns non-2xx responses into the server's Status as `ApiError`; `stream` hands back a live body
 * (watches).
 */
import type { ApiError } from "../api/errors.ts";
import type { KubeObject } from "../api/object.ts";
import { acceptFor, decodeObjectBody, encodeBody, errorFromResponse, type Encoding } from "./encoding.ts";
import { sleep } from "./backoff.ts";
import { Http2Connection, readAll, type RawRequest, type StreamingResponse } from "./http2.ts";
import type { ClientConfig } from "./kubeconfig.ts";

export type QueryValue = string | number | boolean | undefined;

export interface RestRequest {
  readonly method: string;
  /** Absolute API path without the query, e.g. `/api/v1/namespaces/default/pods`. */
  readonly path: string;
  /** Query parameters; `undefined` values are skipped. */
  readonly query?: Readonly<Record<string, QueryValue>> | URLSearchParams;
  /** Raw bytes or text (sent as is), or an object encoded with the client's encoding. */
  readonly body?: Uint8Array | string | KubeObject;
  /** Overrides the Content-Type derived from the body. */
  readonly contentType?: string;
  /** Overrides the client's Accept header. */
  readonly accept?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal;
  /** Fails with a `TimeoutError` after this long (default: the client's `timeoutMs`; 0 = none). */
  readonly timeoutMs?: number;
}

export interface RestResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** The whole body, already decompressed. */
  readonly body: Uint8Array;
}

export interface RestClientOptions extends ClientConfig {
  /** Default "protobuf". */
  readonly encoding?: Encoding;
  readonly userAgent?: string;
  /** Ask for gzip responses (default false: on loopback/LAN compression costs more than it saves). */
  readonly compression?: boolean;
  /** Default timeout of non-streaming requests (default 60 s; 0 = none). */
  readonly timeoutMs?: number;
  /** Largest accepted non-streaming response body (default 2 GiB - 1). */
  readonly maxResponseBytes?: number;
  /**
   * Retries of a request answered 429 (or 5xx) with a `Retry-After` header, after waiting that
   * long (default 10, as client-go; 0 = none). Applies to every verb: the server did not act on it.
   */
  readonly maxRetries?: number;
}

/** Longest Retry-After honoured (longer values are clamped). */
const MAX_RETRY_AFTER_S = 60;

/**
 * The wait (seconds) a response asks for before a retry: 429 or 5xx with a delta-seconds
 * `Retry-After` header (client-go's rule); undefined when it must not be retried.
 */
export function retryAfterOf(status: number, headers: Readonly<Record<string, string>>): number | undefined {
  if (status !== 429 && (status < 500 || status > 599)) return undefined;
  const v = headers["retry-after"];
  if (v === undefined || !/^\s*\d+\s*$/.test(v)) return undefined;
  return Math.min(MAX_RETRY_AFTER_S, Number(v));
}

const utf8 = new TextEncoder();

/** Builds `path?query` from a record or URLSearchParams. */
export function withQuery(path: string, query: RestRequest["query"]): string {
  if (query === undefined) return path;
  let qs: string;
  if (query instanceof URLSearchParams) qs = query.toString();
  else {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) p.set(k, String(v));
    qs = p.toString();
  }
  return qs === "" ? path : `${path}?${qs}`;
}

function isBytes(v: unknown): v is Uint8Array {
  return v instanceof Uint8Array;
}

export class RestClient {
  readonly encoding: Encoding;
  readonly config: ClientConfig;
  private readonly conn: Http2Connection;
  private readonly base: Record<string, string>;
  private readonly ownsConnection: boolean;

  /**
   * Throws `TypeError` when `server` is not an http(s) URL. Connects lazily. `shared`: use that
   * connection instead of opening one (see `withToken`).
   */
  constructor(private readonly opts: RestClientOptions, shared?: Http2Connection) {
    this.config = opts;
    this.encoding = opts.encoding ?? "protobuf";
    this.conn = shared ?? new Http2Connection(opts);
    this.ownsConnection = shared === undefined;
    this.base = { "user-agent": opts.userAgent ?? "tugboat-client/0.1" };
    if (opts.token !== undefined) this.base["authorization"] = `Bearer ${opts.token}`;
    if (opts.compression === true) this.base["accept-encoding"] = "gzip";
  }

  private headersFor(req: RestRequest): { headers: Record<string, string>; body: Uint8Array | undefined } {
    const headers: Record<string, string> = { ...this.base, accept: req.accept ?? acceptFor(this.encoding) };
    let body: Uint8Array | undefined;
    let ct: string | undefined;
    if (req.body === undefined) body = undefined;
    else if (typeof req.body === "string") {
      body = utf8.encode(req.body);
      ct = "application/json";
    } else if (isBytes(req.body)) body = req.body;
    else {
      const e = encodeBody(req.body, this.encoding);
      body = e.bytes;
      ct = e.contentType;
    }
    if (req.contentType !== undefined) ct = req.contentType;
    if (body !== undefined && ct !== undefined) headers["content-type"] = ct;
    if (req.headers) Object.assign(headers, req.headers);
    return { headers, body };
  }

  /**
   * Sends a request and returns the response, whatever its status. Streaming requests must use
   * `stream`. Rejects with `ConnectionError`, `TimeoutError` or the signal's `AbortError`.
   */
  async request(req: RestRequest): Promise<RestResponse> {
    const timeoutMs = req.timeoutMs ?? this.opts.timeoutMs ?? 60_000;
    const deadline = timeoutMs > 0 ? performance.now() + timeoutMs : undefined;
    const { headers, body } = this.headersFor(req);
    const res = await this.send(req, headers, body, deadline);
    const bytes = await readAll(res.body, this.opts.maxResponseBytes);
    return { status: res.status, headers: res.headers, body: bytes };
  }

  /**
   * Sends a request and decodes the response object by its Content-Type.
   * Throws `ApiError` (the server's Status) for non-2xx responses, `DecodeError` for bodies it
   * cannot read, and whatever `request` throws.
   */
  async object(req: RestRequest): Promise<KubeObject> {
    const res = await this.request(req);
    if (res.status < 200 || res.status > 299) throw this.errorOf(res);
    return decodeObjectBody(res.body, res.headers["content-type"]);
  }

  /**
   * Starts a streaming request (no timeout unless given). Resolves once a 2xx status arrives.
   * Throws `ApiError` for a non-2xx status (after reading the error body).
   */
  async stream(req: RestRequest): Promise<StreamingResponse> {
    const { headers, body } = this.headersFor(req);
    const deadline = req.timeoutMs !== undefined && req.timeoutMs > 0 ? performance.now() + req.timeoutMs : undefined;
    const res = await this.send(req, headers, body, deadline);
    if (res.status < 200 || res.status > 299) {
      const bytes = await readAll(res.body, 1 << 20).catch(() => new Uint8Array(0));
      throw errorFromResponse(res.status, res.headers["content-type"], bytes);
    }
    return res;
  }

  /**
   * Sends, retrying responses that carry a Retry-After (see `maxRetries`); returns the last response.
   * `deadline` (`performance.now()` ms) bounds the whole exchange, retries and waits included.
   */
  private async send(req: RestRequest, headers: Record<string, string>, body: Uint8Array | undefined, deadline: number | undefined): Promise<StreamingResponse> {
    const retries = this.opts.maxRetries ?? 10;
    const raw: RawRequest = {
      method: req.method, path: withQuery(req.path, req.query), headers,
      ...(body !== undefined ? { body } : {}), ...(req.signal !== undefined ? { signal: req.signal } : {}),
      ...(deadline !== undefined ? { deadline } : {}),
    };
    for (let attempt = 0; ; attempt++) {
      const res = await this.conn.request(raw);
      const wait = attempt < retries ? retryAfterOf(res.status, res.headers) : undefined;
      if (wait === undefined) return res;
      await readAll(res.body, 1 << 20).catch(() => undefined);
      // Past the deadline the next attempt fails at once with the TimeoutError.
      const left = deadline === undefined ? Infinity : Math.max(0, deadline - performance.now());
      await sleep(Math.min(wait * 1000, left), req.signal);
    }
  }

  /** The `ApiError` for a non-2xx response. */
  errorOf(res: RestResponse): ApiError {
    return errorFromResponse(res.status, res.headers["content-type"], res.body);
  }

  /**
   * A client that authenticates with `token` over this client's connection (many identities, one
   * HTTP/2 session: e.g. hollow nodes). Its `close()` leaves the shared connection open.
   */
  withToken(token: string): RestClient {
    return new RestClient({ ...this.opts, token }, this.conn);
  }

  /** The same identity over the same connection with another `maxRetries` (e.g. 0 where a caller retries itself). */
  withRetries(maxRetries: number): RestClient {
    return new RestClient({ ...this.opts, maxRetries }, this.conn);
  }

  /** Closes the HTTP/2 session (unless shared); later requests fail with `ConnectionError`. */
  close(): void {
    if (this.ownsConnection) this.conn.close();
  }
}
