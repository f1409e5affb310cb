/**
 * Runtime-neutral helpers shared by the adapters (Node and Deno): request-target parsing, header
 * joining, bounded body collection and the response-body pump. No I/O here beyond what callers
 * pass in.
 */
import { BodyTooLargeError, type Handler, type HttpRequest, type HttpResponse, type ResponseBody } from "./types.ts";

/** The request target split and decoded; `undefined` when the path is not valid percent-encoding. */
export interface Target {
  readonly path: string;
  readonly rawQuery: string;
  readonly query: URLSearchParams;
}

/** Splits `/a%20b?x=1` into a decoded path and the raw query. Returns undefined for a bad target. */
export function parseTarget(target: string): Target | undefined {
  const q = target.indexOf("?");
  const rawPath = q === -1 ? target : target.slice(0, q);
  const rawQuery = q === -1 ? "" : target.slice(q + 1);
  let path: string;
  try {
    path = rawPath.includes("%") ? decodeURIComponent(rawPath) : rawPath;
  } catch {
    return undefined;
  }
  if (!path.startsWith("/")) {
    // absolute-form ("http://host/path") or asterisk-form; keep only the path of absolute-form
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) {
      try {
        const u = new URL(rawPath);
        return { path: decodeURIComponent(u.pathname), rawQuery, query: new URLSearchParams(rawQuery) };
      } catch {
        return undefined;
      }
    }
    return undefined;
  }
  return { path, rawQuery, query: new URLSearchParams(rawQuery) };
}

/**
 * Lower-cases names and joins repeated headers with ", " from a flat [name, value, …] list.
 * Names starting with ":" (HTTP/2 pseudo-headers) are dropped; `:authority` becomes `host` when
 * no host header is present.
 */
export function joinRawHeaders(raw: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  let authority: string | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    const value = raw[i + 1] as string;
    if (name.charCodeAt(0) === 58 /* : */) {
      if (name === ":authority") authority = value;
      continue;
    }
    const prev = out[name];
    out[name] = prev === undefined ? value : `${prev}, ${value}`;
  }
  if (authority !== undefined && out["host"] === undefined) out["host"] = authority;
  return out;
}

/**
 * Collects an async byte stream up to `limit` bytes. Throws `BodyTooLargeError` as soon as the
 * declared `contentLength` or the received total exceeds the limit; `onTooLarge` runs first so
 * the adapter can stop reading.
 */
export async function collectBody(
  chunks: AsyncIterable<Uint8Array>,
  limit: number,
  contentLength: number | undefined,
  onTooLarge: () => void,
): Promise<Uint8Array> {
  if (!(limit >= 0)) throw new RangeError(`body(limit): limit must be a non-negative number, got ${limit}`);
  if (contentLength !== undefined && contentLength > limit) {
    onTooLarge();
    throw new BodyTooLargeError(limit);
  }
  const parts: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of chunks) {
    total += chunk.byteLength;
    if (total > limit) {
      onTooLarge();
      throw new BodyTooLargeError(limit);
    }
    parts.push(chunk);
  }
  return concat(parts, total);
}

export function concat(parts: readonly Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array;
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.byteLength;
  }
  return out;
}

/** Parses a content-length header; undefined when absent or not a plain decimal. */
export function contentLengthOf(headers: Readonly<Record<string, string>>): number | undefined {
  const v = headers["content-length"];
  if (v === undefined || !/^\d{1,15}$/.test(v)) return undefined;
  return Number(v);
}

/** Connection-specific headers HTTP/2 forbids (RFC 9113 §8.2.2) in either direction. */
export const H2_FORBIDDEN: ReadonlySet<string> = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"]);

const encoder = new TextEncoder();

/** A fixed body as bytes, or undefined for a streaming body. */
export function fixedBody(body: ResponseBody | undefined): Uint8Array | undefined {
  if (body === undefined) return new Uint8Array(0);
  if (typeof body === "string") return encoder.encode(body);
  if (body instanceof Uint8Array) return body;
  return undefined;
}

/** Statuses (and HEAD) that never carry a body. */
export function bodyForbidden(method: string, status: number): boolean {
  return method === "HEAD" || status === 204 || status === 304 || (status >= 100 && status < 200);
}

/** Response used when the handler throws (the error stays server-side). */
export function internalError(): HttpResponse {
  return statusResponse(500, "InternalError", "Internal error occurred: the request handler failed");
}

/**
 * Answers the adapter itself gives (before any handler runs) are Kubernetes `Status` objects in
 * JSON, so every client of the apiserver sees one error shape whatever layer refused the request.
 */
function statusResponse(code: number, reason: string, message: string): HttpResponse {
  const status = { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code };
  return { status: code, headers: { "content-type": "application/json" }, body: `${JSON.stringify(status)}\n` };
}

export function badRequest(message: string): HttpResponse {
  return statusResponse(400, "BadRequest", message);
}

export function notImplemented(message: string): HttpResponse {
  return statusResponse(501, "NotImplemented", message);
}

/**
 * Sink for `pumpBody`: `write` returns false when the chunk was queued beyond the socket's
 * buffer, then `waitWritable` resolves once the sink drained (or was closed).
 */
export interface ChunkSink {
  write(chunk: Uint8Array): boolean;
  waitWritable(): Promise<void>;
}

/** What a pending pump step resolves with when the signal aborted. */
const ABORTED: unique symbol = Symbol("aborted");

/**
 * Pulls a streaming body into `sink` one chunk at a time, waiting for the sink to drain before
 * asking for the next chunk. Returns true when the iterator finished, false when `signal` aborted
 * first; in that case (and when the iterator throws) `return()` is called on the iterator without
 * waiting for a pending `next()`. Rethrows the iterator's error.
 */
export async function pumpBody(
  body: AsyncIterable<Uint8Array>,
  sink: ChunkSink,
  signal: AbortSignal,
): Promise<boolean> {
  const it = body[Symbol.asyncIterator]();
  let finished = false;
  // One abort listener for the pump's life wakes whatever step is pending (no per-chunk
  // Promise.race against a long-lived promise: each race would leave a reaction on it).
  let wake: ((v: typeof ABORTED) => void) | undefined;
  const onAbort = (): void => wake?.(ABORTED);
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    while (!signal.aborted) {
      const step = it.next();
      const r = await new Promise<IteratorResult<Uint8Array> | typeof ABORTED>((resolve, reject) => {
        wake = resolve;
        step.then(resolve, reject);
      });
      if (r === ABORTED) break;
      if (r.done) {
        finished = true;
        break;
      }
      if (r.value.byteLength === 0) continue;
      if (!sink.write(r.value)) {
        const drained = sink.waitWritable();
        const w = await new Promise<void | typeof ABORTED>((resolve, reject) => {
          wake = resolve;
          drained.then(resolve, reject);
        });
        if (w === ABORTED) break;
      }
    }
  } finally {
    wake = undefined;
    signal.removeEventListener("abort", onAbort);
    if (!finished && typeof it.return === "function") {
      // A pending next() may never settle (e.g. an idle watch): do not wait for return() either.
      it.return().then(undefined, () => undefined);
    }
  }
  return finished;
}

function noop(): void {}

/** A streaming body that will not be sent: tell its producer (`return()`), so it can release resources. */
export function discardBody(body: ResponseBody | undefined): void {
  if (body === undefined || typeof body === "string" || body instanceof Uint8Array) return;
  try {
    body[Symbol.asyncIterator]().return?.().then(undefined, noop);
  } catch {
    // a producer that fails to stop has nothing left to release here
  }
}

/**
 * Runs the handler: a throw becomes a 500 (the error stays server-side) and, unless the request
 * may take over its connection (`upgradeAllowed`), an upgrade answer becomes a 501 (its streaming
 * body, if any, is released).
 */
export async function callHandler(handler: Handler, req: HttpRequest, upgradeAllowed = false): Promise<HttpResponse> {
  let response: HttpResponse;
  try {
    response = await handler(req);
  } catch {
    return internalError();
  }
  if (!upgradeAllowed && (response.upgrade !== undefined || response.status === 101)) {
    discardBody(response.body);
    return notImplemented("upgrade requested on a request that did not ask to upgrade");
  }
  return response;
}

/** Something `Server.close()` can abort: the in-flight requests. */
export interface Abortable {
  abort(reason?: unknown): void;
}

/**
 * An abort signal created only when someone asks for it. `abort()` before that just records the
 * fact, and the signal handed out later is already aborted.
 */
export class LazyAbort implements Abortable {
  private ac: AbortController | undefined;
  private reason: unknown;
  aborted = false;

  get signal(): AbortSignal {
    if (this.ac === undefined) {
      this.ac = new AbortController();
      if (this.aborted) this.ac.abort(this.reason);
    }
    return this.ac.signal;
  }

  abort(reason?: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.ac?.abort(reason);
  }
}
