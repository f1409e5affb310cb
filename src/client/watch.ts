/**
 * Watch streams. Two pure incremental decoders turn arbitrary byte chunks into events:
 * `JsonLinesDecoder` (one `{"type","object"}` JSON document per line) and `ProtobufFrameDecoder`
 * (4-byte big-endian length + metav1.WatchEvent, the object a "k8s\0" body). `WatchStream` wraps a
 * live response body as an async iterable of `WatchEvent`s with `stop()`.
 *
 * Event types: ADDED, MODIFIED, DELETED, BOOKMARK (object carries only metadata.resourceVersion)
 * and ERROR (object is a Status; `watchErrorOf` turns it into an `ApiError`, e.g. 410 Expired).
 */
import { decodeWatchEventMessage, PROTOBUF_CONTENT_TYPE, type DecodedWatchEvent } from "../api/codec/wire.ts";
import type { ApiError, Status } from "../api/errors.ts";
import type { KubeObject } from "../api/object.ts";
import { apiErrorFromStatus, DecodeError, mediaType } from "./encoding.ts";

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";

export interface WatchEvent<T extends KubeObject = KubeObject> {
  readonly type: WatchEventType;
  /** The object (ADDED/MODIFIED/DELETED), a stub with the resourceVersion (BOOKMARK) or a Status (ERROR). */
  readonly object: T;
}

const TYPES: ReadonlySet<string> = new Set(["ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"]);

/** Default cap on one JSON line or protobuf frame (objects are at most ~3 MiB; lists never stream). */
export const MAX_EVENT_BYTES = 16 << 20;

function checkEvent(type: unknown, object: unknown): WatchEvent {
  if (typeof type !== "string" || !TYPES.has(type)) throw new DecodeError(`watch event has an unknown type ${JSON.stringify(type)}`);
  if (typeof object !== "object" || object === null || Array.isArray(object)) {
    throw new DecodeError(`watch event ${type} has no object`);
  }
  return { type: type as WatchEventType, object: object as KubeObject }; // both checked above
}

/** `checkEvent` for the codec's decoded event, which already has the event's shape: no copy. */
function checkDecoded(ev: DecodedWatchEvent): WatchEvent {
  if (!TYPES.has(ev.type)) return checkEvent(ev.type, ev.object); // throws
  if (typeof ev.object !== "object" || ev.object === null || Array.isArray(ev.object)) return checkEvent(ev.type, ev.object);
  return ev as WatchEvent; // type checked against TYPES just above
}

/** Incremental decoder of a JSON-lines watch body. Tolerates lines and UTF-8 sequences split across chunks. */
export class JsonLinesDecoder {
  private pending: Uint8Array[] = [];
  private pendingLen = 0;
  private readonly text = new TextDecoder("utf-8", { fatal: true });

  constructor(private readonly maxLine = MAX_EVENT_BYTES) {}

  /** Feeds a chunk; returns the events completed by it. Throws `DecodeError` on a bad line or an over-long one. */
  push(chunk: Uint8Array): WatchEvent[] {
    const out: WatchEvent[] = [];
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl < 0) break;
      const part = chunk.subarray(start, nl);
      let line: Uint8Array;
      if (this.pendingLen > 0) {
        line = concat([...this.pending, part], this.pendingLen + part.length);
        this.pending = [];
        this.pendingLen = 0;
      } else line = part;
      start = nl + 1;
      const ev = this.parseLine(line);
      if (ev) out.push(ev);
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      this.pendingLen += rest.length;
      if (this.pendingLen > this.maxLine) throw new DecodeError(`watch event line exceeds ${this.maxLine} bytes`);
      this.pending.push(rest.slice()); // copy: the caller may reuse its buffer
    }
    return out;
  }

  /** Signals the end of the stream: a final unterminated line is decoded; returns its event, if any. */
  end(): WatchEvent[] {
    if (this.pendingLen === 0) return [];
    const line = concat(this.pending, this.pendingLen);
    this.pending = [];
    this.pendingLen = 0;
    const ev = this.parseLine(line);
    return ev ? [ev] : [];
  }

  private parseLine(line: Uint8Array): WatchEvent | undefined {
    let s: string;
    try {
      s = this.text.decode(line);
    } catch {
      throw new DecodeError("watch event line is not valid UTF-8");
    }
    if (s.trim() === "") return undefined;
    let v: unknown;
    try {
      v = JSON.parse(s);
    } catch (e) {
      throw new DecodeError(`watch event line is not JSON: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (typeof v !== "object" || v === null) throw new DecodeError("watch event line is not a JSON object");
    const o = v as { type?: unknown; object?: unknown };
    return checkEvent(o.type, o.object);
  }
}

/** Incremental decoder of a length-framed protobuf watch body. Tolerates frames split anywhere. */
export class ProtobufFrameDecoder {
  /** Buffered bytes not yet consumed, kept as chunks until `need` bytes are there (no quadratic copying). */
  private parts: Uint8Array[] = [];
  private len = 0;
  private need = 4;

  constructor(private readonly maxFrame = MAX_EVENT_BYTES) {}

  /**
   * Feeds a chunk (not to be mutated afterwards: it may be kept); returns the events completed by
   * it. Throws `DecodeError` on a bad or over-long frame.
   */
  push(chunk: Uint8Array): WatchEvent[] {
    this.parts.push(chunk);
    this.len += chunk.length;
    if (this.len < this.need) return [];
    const data = this.parts.length === 1 ? this.parts[0]! : concat(this.parts, this.len);
    this.parts = [];
    this.len = 0;
    const out: WatchEvent[] = [];
    let p = 0;
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    this.need = 4;
    while (data.length - p >= 4) {
      const len = view.getUint32(p, false);
      if (len > this.maxFrame) throw new DecodeError(`watch frame of ${len} bytes exceeds the ${this.maxFrame}-byte limit`);
      if (data.length - p - 4 < len) {
        this.need = 4 + len;
        break;
      }
      let ev;
      try {
        ev = decodeWatchEventMessage(data.subarray(p + 4, p + 4 + len));
      } catch (e) {
        throw new DecodeError(`bad protobuf watch frame: ${e instanceof Error ? e.message : String(e)}`);
      }
      out.push(checkDecoded(ev));
      p += 4 + len;
    }
    if (p < data.length) {
      this.parts.push(data.subarray(p));
      this.len = data.length - p;
    }
    return out;
  }

  /** Signals the end of the stream. Throws `DecodeError` when a partial frame is left over. */
  end(): WatchEvent[] {
    if (this.len > 0) {
      const n = this.len;
      this.parts = [];
      this.len = 0;
      throw new DecodeError(`watch stream ended inside a frame (${n} bytes left over)`);
    }
    return [];
  }
}

/** The decoder for a watch response's Content-Type (protobuf, else JSON lines). */
export function decoderFor(contentType: string | undefined): JsonLinesDecoder | ProtobufFrameDecoder {
  return mediaType(contentType) === PROTOBUF_CONTENT_TYPE ? new ProtobufFrameDecoder() : new JsonLinesDecoder();
}

/** The `ApiError` an ERROR event carries (its Status), e.g. 410 Expired when the watch fell behind. */
export function watchErrorOf(ev: WatchEvent): ApiError {
  const st = ev.object as unknown as Partial<Status>; // ERROR events carry a Status by contract
  return apiErrorFromStatus({
    kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure",
    code: typeof st.code === "number" ? st.code : 500,
    ...(typeof st.message === "string" ? { message: st.message } : {}),
    ...(st.reason !== undefined ? { reason: st.reason } : {}),
    ...(st.details !== undefined ? { details: st.details } : {}),
  });
}

/**
 * A running watch: iterate it (once) for events; the iteration ends when the server ends the
 * stream (timeout) or `stop()` is called, and throws `DecodeError`/`ConnectionError` if the stream
 * breaks. ERROR events are yielded like any other; the caller decides (informers re-list on 410).
 */
export class WatchStream<T extends KubeObject = KubeObject> implements AsyncIterable<WatchEvent<T>> {
  private stopped = false;
  private iterated = false;

  constructor(
    private readonly body: AsyncIterable<Uint8Array>,
    private readonly decoder: JsonLinesDecoder | ProtobufFrameDecoder,
    private readonly cancel: () => void,
  ) {}

  /** Ends the watch: the server stream is cancelled and the iteration finishes. Idempotent. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.cancel();
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /**
   * The events, in order. Only the first iteration to start gets them; a later one rejects.
   * Hand-written rather than an async generator: an event of a chunk that carried several is handed
   * out as an already resolved promise, without the generator's per-yield await and resumption.
   */
  [Symbol.asyncIterator](): AsyncIterator<WatchEvent<T>> {
    return new WatchIterator<T>(this, this.decoder);
  }

  /** @internal The body's iterator for the first iteration to start; undefined for any later one. */
  openBody(): AsyncIterator<Uint8Array> | undefined {
    if (this.iterated) return undefined;
    this.iterated = true;
    return this.body[Symbol.asyncIterator]();
  }
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ value: undefined, done: true });
const NO_EVENTS: WatchEvent[] = [];

/**
 * The iteration of one WatchStream: pulls body chunks, decodes them, hands out their events one at
 * a time. Same outcomes as a generator looping over the body: stop() ends it (before the next
 * event is handed out), an error from the body or the decoder rejects (unless stopped), and ending
 * it in any way stops the stream and closes the body's iterator if it is still open.
 */
class WatchIterator<T extends KubeObject> implements AsyncIterator<WatchEvent<T>> {
  /** The body's iterator, taken at the first next() (as the generator did): undefined before. */
  private src: AsyncIterator<Uint8Array> | undefined;
  private events: WatchEvent[] = NO_EVENTS;
  private i = 0;
  /** The body has ended (or failed): nothing left to pull, nothing to close. */
  private srcDone = false;
  private finished = false;
  /** The pull in flight, if any (concurrent next() calls are served in order). */
  private busy: Promise<IteratorResult<WatchEvent<T>>> | undefined;

  constructor(
    private readonly stream: WatchStream<T>,
    private readonly decoder: JsonLinesDecoder | ProtobufFrameDecoder,
  ) {}

  next(): Promise<IteratorResult<WatchEvent<T>>> {
    if (this.busy !== undefined) return this.busy.then(() => this.next(), () => this.next());
    if (this.finished) return Promise.resolve(DONE);
    if (this.src === undefined) {
      this.src = this.stream.openBody();
      if (this.src === undefined) {
        // Not the iteration: the running one (and the stream) are left alone.
        this.finished = true;
        return Promise.reject(new Error("a WatchStream can be iterated only once"));
      }
    }
    if (this.stream.isStopped) {
      this.finish();
      return Promise.resolve(DONE);
    }
    const i = this.i;
    if (i < this.events.length) {
      this.i = i + 1;
      // The decoder checked the shape; T is the caller's claim.
      return Promise.resolve({ value: this.events[i] as WatchEvent<T>, done: false });
    }
    if (this.srcDone) {
      this.finish();
      return Promise.resolve(DONE);
    }
    const p = this.pull();
    this.busy = p;
    return p;
  }

  return(): Promise<IteratorResult<WatchEvent<T>>> {
    if (this.src === undefined) this.finished = true; // never started: nothing to end (as a generator)
    else this.finish();
    return Promise.resolve(DONE);
  }

  private async pull(): Promise<IteratorResult<WatchEvent<T>>> {
    try {
      for (;;) {
        let r: IteratorResult<Uint8Array>;
        try {
          r = await this.src!.next(); // set by next() before any pull
        } catch (e) {
          this.srcDone = true;
          throw e;
        }
        if (this.stream.isStopped) {
          if (r.done) this.srcDone = true;
          this.finish();
          return DONE;
        }
        const evs = r.done ? this.decoder.end() : this.decoder.push(r.value);
        if (r.done) this.srcDone = true;
        if (evs.length > 0) {
          this.events = evs;
          this.i = 1;
          return { value: evs[0] as WatchEvent<T>, done: false }; // as in next()
        }
        if (r.done) {
          this.finish();
          return DONE;
        }
      }
    } catch (e) {
      const stopped = this.stream.isStopped;
      this.finish();
      if (stopped) return DONE;
      throw e;
    } finally {
      this.busy = undefined;
    }
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.events = NO_EVENTS;
    if (!this.srcDone && this.src !== undefined) {
      this.srcDone = true;
      const ret = this.src.return?.();
      if (ret !== undefined) ret.then(undefined, ignore); // closing a failed body may reject; nothing to do
    }
    this.stream.stop();
  }
}

function ignore(): void {}

function concat(parts: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let p = 0;
  for (const x of parts) {
    out.set(x, p);
    p += x.length;
  }
  return out;
}
