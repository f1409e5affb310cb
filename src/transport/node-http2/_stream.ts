/**
 * HTTP/2 streams served with node:http2's core API (`'stream'` events: a `ServerHttp2Stream` and
 * its header block) instead of the compat layer (`Http2ServerRequest`/`Http2ServerResponse`),
 * which costs several stream/event objects and a header-object round trip per request. HTTP/1.1
 * (including kubectl's exec/port-forward upgrades) stays on node:http's request path.
 *
 * Per-request work is kept to what the request uses: the abort signal, the parsed query and the
 * peer identity are created on first access; peer identity and remote address are computed once
 * per session.
 */
import * as http2 from "node:http2";
import { TLSSocket } from "node:tls";
import {
  badRequest, bodyForbidden, callHandler, discardBody, contentLengthOf, fixedBody, internalError, joinRawHeaders, parseTarget, pumpBody,
  type Abortable, H2_FORBIDDEN, LazyAbort,
} from "../_shared.ts";
import type { Handler, HttpRequest, HttpResponse, PeerCertificate } from "../types.ts";
import { peerOf, readBody } from "./_request.ts";

const { NGHTTP2_NO_ERROR, NGHTTP2_INTERNAL_ERROR } = http2.constants;

/** What is known about a session's connection, computed once per session. */
interface SessionInfo {
  readonly remoteAddress: string;
  readonly peer: PeerCertificate | undefined;
}

const sessionInfo = new WeakMap<http2.Http2Session, SessionInfo>();

function infoOf(session: http2.Http2Session | undefined): SessionInfo {
  if (session === undefined) return { remoteAddress: "", peer: undefined };
  let info = sessionInfo.get(session);
  if (info === undefined) {
    const sock: unknown = session.socket;
    const tls = sock instanceof TLSSocket ? sock : undefined;
    const remoteAddress = (sock as { remoteAddress?: string } | undefined)?.remoteAddress ?? "";
    info = { remoteAddress, peer: peerOf(tls) };
    sessionInfo.set(session, info);
  }
  return info;
}

const GONE = "client closed the connection";

/**
 * The runtime-neutral request over one HTTP/2 stream; also the in-flight handle `close()` aborts.
 * Methods, not per-request closures: the request path stays allocation-light.
 */
class StreamRequest implements HttpRequest, Abortable {
  readonly httpVersion = "2" as const;
  readonly remoteAddress: string;
  readonly peerCertificate?: PeerCertificate;
  private q: URLSearchParams | undefined;
  private read = false;
  private readonly lazy = new LazyAbort();
  /** Whether 'close'/'aborted' listeners are attached (done on first need). */
  private watching = false;
  /** Set when the handler's body read stopped early (limit hit); the rest is discarded. */
  stoppedReading = false;

  constructor(
    private readonly stream: http2.ServerHttp2Stream,
    readonly method: string,
    readonly path: string,
    readonly rawQuery: string,
    readonly headers: Readonly<Record<string, string>>,
    info: SessionInfo,
  ) {
    this.remoteAddress = info.remoteAddress;
    if (info.peer !== undefined) this.peerCertificate = info.peer;
  }

  get query(): URLSearchParams {
    return (this.q ??= new URLSearchParams(this.rawQuery));
  }

  /** Aborted when the client goes away (listeners are attached on first access). */
  get signal(): AbortSignal {
    this.watchClose();
    return this.lazy.signal;
  }

  abort(reason?: unknown): void {
    this.lazy.abort(reason);
  }

  body(limit: number): Promise<Uint8Array> {
    if (this.read) return Promise.reject(new Error("HttpRequest.body() may be called only once"));
    this.read = true;
    return readBody(this.stream, limit, contentLengthOf(this.headers), () => {
      this.stoppedReading = true;
      this.stream.resume(); // discard the rest instead of buffering it
    });
  }

  /** Starts watching for the client going away: a stream closed before we ended it. */
  watchClose(): void {
    if (this.watching) return;
    this.watching = true;
    const stream = this.stream;
    if (stream.destroyed || stream.closed) {
      if (!stream.writableEnded) this.lazy.abort(new Error(GONE));
      return;
    }
    const gone = (): void => {
      if (!stream.writableEnded) this.lazy.abort(new Error(GONE));
    };
    stream.once("close", gone);
    // A reset stream with unflushed data emits only 'aborted' (no 'close' until destroyed).
    stream.once("aborted", () => {
      gone();
      stream.destroy();
    });
  }
}

function ignoreError(): void {}

/**
 * Serves one HTTP/2 stream: builds the request, runs the handler, writes the response. Resolves
 * when the response is done or the client went away.
 */
export async function serveStream(
  handler: Handler,
  stream: http2.ServerHttp2Stream,
  headers: http2.IncomingHttpHeaders,
  rawHeaders: readonly string[],
  inflight: Set<Abortable>,
): Promise<void> {
  // Reset streams emit 'error' (ERR_HTTP2_STREAM_ERROR); they concern this stream only.
  stream.on("error", ignoreError);
  const method = headers[":method"] ?? "GET";
  const target = parseTarget(headers[":path"] ?? "/");
  if (!target) return respond(stream, method, badRequest("malformed request target"), undefined); // fixed body
  const request = new StreamRequest(stream, method, target.path, target.rawQuery, joinRawHeaders(rawHeaders), infoOf(stream.session));
  inflight.add(request);
  try {
    await respond(stream, method, await callHandler(handler, request), request);
    if (request.stoppedReading && !stream.closed) {
      // RFC 9113 §8.1: after a complete response, RST_STREAM(NO_ERROR) tells the client to stop sending.
      if (stream.writableFinished) stream.close(NGHTTP2_NO_ERROR);
      else stream.once("finish", () => stream.close(NGHTTP2_NO_ERROR));
    }
  } finally {
    inflight.delete(request);
  }
}


/** The response head in node:http2's shape (names lower-cased, connection-specific ones dropped). */
function headBlock(res: HttpResponse, noBody: boolean, bodyLength: number | undefined): http2.OutgoingHttpHeaders {
  const h: http2.OutgoingHttpHeaders = { ":status": res.status };
  const src = res.headers;
  if (src !== undefined) {
    for (const k in src) {
      const name = k.toLowerCase();
      if (H2_FORBIDDEN.has(name)) continue;
      h[name] = src[k];
    }
  }
  if (bodyLength !== undefined && !noBody && h["content-length"] === undefined) h["content-length"] = bodyLength;
  return h;
}

async function respond(
  stream: http2.ServerHttp2Stream,
  method: string,
  res: HttpResponse,
  request: StreamRequest | undefined,
): Promise<void> {
  if (stream.destroyed || stream.closed) return discardBody(res.body); // the client went away while we were busy
  const noBody = bodyForbidden(method, res.status);
  const fixed = fixedBody(res.body);
  const endStream = noBody || (fixed !== undefined && fixed.byteLength === 0);
  try {
    stream.respond(headBlock(res, noBody, fixed?.byteLength), { endStream });
  } catch {
    // Invalid status or header value from the handler: answer 500 instead of crashing.
    discardBody(res.body);
    if (stream.destroyed || stream.closed || stream.headersSent) {
      if (!stream.closed) stream.close(NGHTTP2_INTERNAL_ERROR);
      return;
    }
    const fallback = internalError();
    const body = fixedBody(fallback.body) as Uint8Array;
    stream.respond(headBlock(fallback, false, body.byteLength));
    stream.end(body);
    return;
  }
  if (endStream) return discardBody(res.body);
  if (fixed !== undefined) {
    stream.end(fixed);
    return;
  }
  // streaming: watch for the client going away, pull chunks with backpressure
  const signal = request !== undefined ? request.signal : new AbortController().signal;
  let corked = false;
  const uncork = (): void => {
    corked = false;
    if (!stream.destroyed) stream.uncork();
  };
  try {
    await pumpBody(
      res.body as AsyncIterable<Uint8Array>,
      {
        write: (chunk) => {
          // Chunks produced in the same tick (a watch's events from one batch of writes) go out
          // in one writev: the stream is corked at the first and uncorked after the tick.
          if (!corked) {
            corked = true;
            stream.cork();
            process.nextTick(uncork);
          }
          return stream.write(chunk);
        },
        waitWritable: () =>
          new Promise<void>((resolve) => {
            const done = (): void => {
              stream.off("drain", done);
              stream.off("close", done);
              resolve();
            };
            stream.on("drain", done);
            stream.on("close", done);
          }),
      },
      signal,
    );
  } catch {
    if (!stream.closed) stream.close(NGHTTP2_INTERNAL_ERROR);
    return;
  }
  try {
    if (!stream.closed) stream.end(); // after a client abort the stream is already gone
  } catch {
    // the stream is already gone
  }
}
