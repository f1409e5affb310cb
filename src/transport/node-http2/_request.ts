/**
 * Builds the runtime-neutral `HttpRequest` from a Node request (HTTP/1.1 `IncomingMessage` or
 * HTTP/2 compat `Http2ServerRequest`).
 */
import type { IncomingMessage } from "node:http";
import type { Http2ServerRequest } from "node:http2";
import type { Socket } from "node:net";
import type { Readable } from "node:stream";
import { TLSSocket } from "node:tls";
import { concat, contentLengthOf, joinRawHeaders, type Target } from "../_shared.ts";
import { BodyTooLargeError, type HttpRequest, type PeerCertificate } from "../types.ts";

export type NodeRequest = IncomingMessage | Http2ServerRequest;

/** Verified client identity per TLS socket (parsed once per connection). */
const peerCache = new WeakMap<TLSSocket, PeerCertificate | null>();

/** The TLS socket under a request, if any (HTTP/2: the session's socket). */
export function tlsSocketOf(req: NodeRequest): TLSSocket | undefined {
  const sock: unknown = "stream" in req ? req.stream.session?.socket : req.socket;
  return sock instanceof TLSSocket ? sock : undefined;
}

/** The peer certificate only when the TLS layer verified it against the client CA. */
export function peerOf(sock: TLSSocket | undefined): PeerCertificate | undefined {
  if (!sock) return undefined;
  const cached = peerCache.get(sock);
  if (cached !== undefined) return cached ?? undefined;
  let peer: PeerCertificate | null = null;
  if (sock.authorized) {
    const cert = sock.getPeerCertificate();
    const subject: Record<string, unknown> = cert && typeof cert.subject === "object" ? { ...cert.subject } : {};
    const cn = subject["CN"];
    const o = subject["O"];
    const commonName = typeof cn === "string" ? cn : Array.isArray(cn) && typeof cn[0] === "string" ? cn[0] : "";
    const organizations = typeof o === "string" ? [o] : Array.isArray(o) ? o.filter((x): x is string => typeof x === "string") : [];
    if (commonName !== "") peer = { commonName, organizations };
  }
  peerCache.set(sock, peer);
  return peer ?? undefined;
}

/**
 * `signal` aborts when the client goes away. `stopReading` is called when the body limit is hit.
 */
export function buildRequest(
  req: NodeRequest,
  target: Target,
  signal: AbortSignal,
  stopReading: () => void,
): HttpRequest {
  const headers = joinRawHeaders(req.rawHeaders);
  const sock = tlsSocketOf(req);
  const peer = peerOf(sock);
  const socket: Socket | undefined = "stream" in req ? req.stream.session?.socket as Socket | undefined : req.socket;
  let read = false;
  return {
    method: req.method ?? "GET",
    path: target.path,
    rawQuery: target.rawQuery,
    query: target.query,
    headers,
    httpVersion: req.httpVersionMajor === 2 ? "2" : "1.1",
    remoteAddress: socket?.remoteAddress ?? "",
    ...(peer ? { peerCertificate: peer } : {}),
    signal,
    body(limit: number): Promise<Uint8Array> {
      if (read) return Promise.reject(new Error("HttpRequest.body() may be called only once"));
      read = true;
      return readBody(req, limit, contentLengthOf(headers), stopReading);
    },
  };
}

/**
 * Collects the body through 'data' events. (Async iteration would destroy the request when we
 * stop early, which tears down the HTTP/1.1 socket or the HTTP/2 stream before the 413 is sent.)
 */
export function readBody(req: Readable, limit: number, contentLength: number | undefined, stopReading: () => void): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    if (!(limit >= 0)) return reject(new RangeError(`body(limit): limit must be a non-negative number, got ${limit}`));
    if (contentLength !== undefined && contentLength > limit) {
      stopReading();
      return reject(new BodyTooLargeError(limit));
    }
    if (req.readableEnded) return resolve(new Uint8Array(0));
    // The read's state rides on the stream; the listeners are module-level functions (no
    // closures per request).
    (req as Reading)[kBodyRead] = { parts: [], total: 0, limit, stopReading, resolve, reject };
    req.on("data", onBodyData);
    req.on("end", onBodyEnd);
    req.on("error", onBodyError);
    req.on("close", onBodyClose);
  });
}

const kBodyRead = Symbol("tugboat.bodyRead");

interface BodyRead {
  readonly parts: Uint8Array[];
  total: number;
  readonly limit: number;
  readonly stopReading: () => void;
  readonly resolve: (body: Uint8Array) => void;
  readonly reject: (err: Error) => void;
}

type Reading = Readable & { [kBodyRead]?: BodyRead | undefined };

/** Detaches the listeners and returns the read's state (undefined when it already finished). */
function finishBodyRead(s: Reading): BodyRead | undefined {
  const st = s[kBodyRead];
  if (st === undefined) return undefined;
  s[kBodyRead] = undefined;
  s.off("data", onBodyData);
  s.off("end", onBodyEnd);
  s.off("error", onBodyError);
  s.off("close", onBodyClose);
  return st;
}

function onBodyData(this: Reading, chunk: Buffer): void {
  const st = this[kBodyRead];
  if (st === undefined) return;
  st.total += chunk.byteLength;
  if (st.total > st.limit) {
    finishBodyRead(this);
    st.stopReading();
    st.reject(new BodyTooLargeError(st.limit));
    return;
  }
  st.parts.push(chunk);
}

function onBodyEnd(this: Reading): void {
  const st = finishBodyRead(this);
  st?.resolve(concat(st.parts, st.total));
}

function onBodyError(this: Reading, err: Error): void {
  finishBodyRead(this)?.reject(err);
}

function onBodyClose(this: Reading): void {
  finishBodyRead(this)?.reject(new Error("the client closed the request before its body was complete"));
}
