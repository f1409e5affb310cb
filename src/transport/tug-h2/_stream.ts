/**
 * One HTTP/2 request stream on Tugboat's own session core (`src/h2/`): the runtime-neutral
 * `HttpRequest`, the stream's `StreamEvents` and the in-flight handle `close()` aborts, in one
 * object (no closures or emitters per request).
 *
 * Request bodies use manual flow control: DATA that arrives before the handler asks for the body is
 * held (at most one stream window, 256 KiB), and the window is returned only as the handler takes
 * the bytes. A body over the handler's limit is refused (`BodyTooLargeError`) and the rest is
 * discarded; after a response that left the upload unfinished the stream is reset with NO_ERROR
 * (RFC 9113 §8.1), so the client stops sending without treating the response as failed.
 */
import { ErrorCode } from "../../h2/frames.ts";
import type { H2Stream, HeaderList, StreamEvents } from "../../h2/session.ts";
import {
  badRequest, bodyForbidden, callHandler, discardBody, concat, contentLengthOf, fixedBody, internalError, notImplemented, parseTarget, pumpBody,
  type Abortable, LazyAbort,
} from "../_shared.ts";
import { BodyTooLargeError, type Handler, type HttpRequest, type HttpResponse, type PeerCertificate } from "../types.ts";
import { parseRequestHead, responseHead } from "./_headers.ts";

/** What is known about the connection a stream belongs to (computed once per connection). */
export interface ConnectionInfo {
  readonly remoteAddress: string;
  readonly peer: PeerCertificate | undefined;
  readonly inflight: Set<Abortable>;
  readonly handler: Handler;
}

const GONE = "client closed the connection";

/** Events for a stream we refused: nothing more to do for it. */
const IGNORED: StreamEvents = {
  onHeaders(): void {},
  onData(): void {},
  onReset(): void {},
};

/**
 * The session's `onStream`: validates the request head (malformed → RST_STREAM PROTOCOL_ERROR)
 * and starts serving it. The handler runs in a microtask, after the session registered the
 * returned events, so whatever it does to the stream reaches this object.
 */
export function openStream(stream: H2Stream, list: HeaderList, endStream: boolean, conn: ConnectionInfo): StreamEvents {
  const head = parseRequestHead(list);
  if (typeof head === "string") {
    stream.reset(ErrorCode.PROTOCOL_ERROR);
    return IGNORED;
  }
  const req = new StreamRequest(stream, head.method, head.target, head.headers, endStream, conn);
  stream.setManualFlow(true);
  queueMicrotask(req.start);
  return req;
}

interface BodyWaiter {
  readonly limit: number;
  readonly resolve: (body: Uint8Array) => void;
  readonly reject: (err: Error) => void;
}

class StreamRequest implements HttpRequest, StreamEvents, Abortable {
  readonly httpVersion = "2" as const;
  readonly remoteAddress: string;
  readonly peerCertificate?: PeerCertificate;
  path = "/";
  rawQuery = "";
  private q: URLSearchParams | undefined;
  private readonly lazy = new LazyAbort();
  /** Body bytes received and not yet handed over (before `body()` was called). */
  private held: Uint8Array[] = [];
  private received = 0;
  /** Bytes received whose window was not yet returned (held before `body()`). */
  private unconsumed = 0;
  private readonly declared: number | undefined;
  private reading: BodyWaiter | undefined;
  private bodyCalled = false;
  /** The upload is no longer wanted (limit hit or response done): DATA is dropped as it comes. */
  private discarding = false;
  private drainWaiter: (() => void) | undefined;
  /** Set once the stream is reset or fully closed. */
  private gone = false;

  constructor(
    private readonly stream: H2Stream,
    readonly method: string,
    private readonly target: string,
    readonly headers: Readonly<Record<string, string>>,
    private remoteEnded: boolean,
    private readonly conn: ConnectionInfo,
  ) {
    this.remoteAddress = conn.remoteAddress;
    if (conn.peer !== undefined) this.peerCertificate = conn.peer;
    this.declared = contentLengthOf(headers);
    if (remoteEnded && this.declared !== undefined && this.declared !== 0) this.malformed();
  }

  get query(): URLSearchParams {
    return (this.q ??= new URLSearchParams(this.rawQuery));
  }

  get signal(): AbortSignal {
    return this.lazy.signal;
  }

  abort(reason?: unknown): void {
    this.lazy.abort(reason);
    this.wakeWriter();
  }

  // ---- body ----

  body(limit: number): Promise<Uint8Array> {
    if (this.bodyCalled) return Promise.reject(new Error("HttpRequest.body() may be called only once"));
    this.bodyCalled = true;
    if (!(limit >= 0)) return Promise.reject(new RangeError(`body(limit): limit must be a non-negative number, got ${limit}`));
    if ((this.declared !== undefined && this.declared > limit) || this.received > limit) {
      this.stopReading();
      return Promise.reject(new BodyTooLargeError(limit));
    }
    if (this.gone && !this.remoteEnded) return Promise.reject(new Error("the client reset the stream before its body was complete"));
    // What was held is taken now: return its window to the client.
    this.returnWindow();
    if (this.remoteEnded) return Promise.resolve(this.takeHeld());
    return new Promise((resolve, reject) => {
      this.reading = { limit, resolve, reject };
    });
  }

  private takeHeld(): Uint8Array {
    const body = concat(this.held, this.received);
    this.held = [];
    return body;
  }

  private returnWindow(): void {
    if (this.unconsumed > 0 && !this.gone) this.stream.consumed(this.unconsumed);
    this.unconsumed = 0;
  }

  /** Drops what was held and everything still to come; a pending `body()` read fails. */
  private stopReading(): void {
    this.discarding = true;
    this.held = [];
    this.returnWindow();
    const r = this.reading;
    this.reading = undefined;
    r?.reject(new Error("the response was sent before the request body was read"));
  }

  /** Content-length disagrees with the DATA received: a malformed request (RFC 9113 §8.1.1). */
  private malformed(): void {
    this.stream.reset(ErrorCode.PROTOCOL_ERROR);
    this.onReset(this.stream, ErrorCode.PROTOCOL_ERROR, undefined);
  }

  // ---- StreamEvents ----

  onHeaders(_stream: H2Stream, _trailers: HeaderList, endStream: boolean): void {
    if (endStream) this.onData(this.stream, EMPTY, true);
  }

  onData(stream: H2Stream, chunk: Uint8Array, endStream: boolean): void {
    const n = chunk.byteLength;
    this.received += n;
    if (endStream) this.remoteEnded = true;
    if (this.declared !== undefined && (this.received > this.declared || (endStream && this.received !== this.declared))) {
      return this.malformed();
    }
    if (this.discarding) {
      if (n > 0) stream.consumed(n);
      return;
    }
    const r = this.reading;
    if (r !== undefined && this.received > r.limit) {
      this.reading = undefined;
      this.stopReading();
      if (n > 0) stream.consumed(n);
      r.reject(new BodyTooLargeError(r.limit));
      return;
    }
    if (n > 0) {
      this.held.push(chunk);
      if (r !== undefined) stream.consumed(n);
      else this.unconsumed += n;
    }
    if (endStream && r !== undefined) {
      this.reading = undefined;
      r.resolve(this.takeHeld());
    }
  }

  onReset(_stream: H2Stream, _code: number, _err: Error | undefined): void {
    if (this.gone) return;
    this.gone = true;
    this.held = [];
    const r = this.reading;
    this.reading = undefined;
    r?.reject(new Error("the client reset the stream before its body was complete"));
    this.lazy.abort(new Error(GONE));
    this.wakeWriter();
  }

  onClose(): void {
    this.gone = true;
    this.wakeWriter();
  }

  onDrain(): void {
    this.wakeWriter();
  }

  /** The response is out while the upload is still open: tell the client to stop (NO_ERROR). */
  onLocalEnd(stream: H2Stream): void {
    stream.reset(ErrorCode.NO_ERROR);
    this.gone = true;
    this.held = [];
  }

  private wakeWriter(): void {
    const w = this.drainWaiter;
    this.drainWaiter = undefined;
    w?.();
  }

  // ---- serving ----

  /** Runs the handler and sends its response (bound: handed to queueMicrotask). */
  readonly start = (): void => {
    void this.serve();
  };

  private async serve(): Promise<void> {
    if (this.gone) return;
    const t = parseTarget(this.target);
    if (t === undefined) {
      return this.respond(this.method === "CONNECT" ? notImplemented("CONNECT is not supported") : badRequest("malformed request target"));
    }
    this.path = t.path;
    this.rawQuery = t.rawQuery;
    const inflight = this.conn.inflight;
    inflight.add(this);
    try {
      await this.respond(await callHandler(this.conn.handler, this));
    } finally {
      inflight.delete(this);
    }
  }

  private async respond(res: HttpResponse): Promise<void> {
    const stream = this.stream;
    if (this.gone || stream.closed) return discardBody(res.body); // the client went away while we were busy
    this.stopReading(); // an upload the handler did not take is not wanted any more
    const noBody = bodyForbidden(this.method, res.status);
    const fixed = fixedBody(res.body);
    const head = responseHead(res, noBody, fixed?.byteLength);
    if (head === undefined) {
      // Invalid status or field from the handler: answer 500 instead.
      discardBody(res.body);
      return this.respond(internalError());
    }
    if (noBody || (fixed !== undefined && fixed.byteLength === 0)) {
      stream.sendHeaders(head, true);
      return discardBody(res.body);
    }
    stream.sendHeaders(head, false);
    if (fixed !== undefined) {
      stream.write(fixed, true);
      return;
    }
    try {
      await pumpBody(res.body as AsyncIterable<Uint8Array>, this, this.signal);
    } catch {
      stream.reset(ErrorCode.INTERNAL_ERROR);
      return;
    }
    if (!stream.closed && !stream.localEnded) stream.end();
  }

  /** `ChunkSink.write` for `pumpBody`. */
  write(chunk: Uint8Array): boolean {
    if (this.stream.closed) return true; // nothing to wait for: the pump sees the abort next
    return this.stream.write(chunk, false);
  }

  /** `ChunkSink.waitWritable` for `pumpBody`. */
  waitWritable(): Promise<void> {
    if (this.gone || this.stream.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.drainWaiter = resolve;
    });
  }
}

const EMPTY = new Uint8Array(0);

