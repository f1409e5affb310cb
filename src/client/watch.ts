/**
 * Watch streams. Two pure incremental decoders turn arbitrary byte chunks into events:
 * `JsonLinesDecoder` (one `{"type","object"}` JSON document per line) and `ProtobufFrameDecoder`
 * (4-byte big-endian length + metav1.WatchEvent, the object a "k8s\0" body). `WatchStream` wraps a
 * live response body as an async iterable of `WatchEvent`s with `stop()`.
 *
 * Event types: ADDED, MODIFIED, DELETED, BOOKMARK (object carries only metadata.resourceVersion)
 * and ERROR (object is a Status; `watchErrorOf` turns it into an `ApiError`, e.g. 410 Expired).
 */
import { decodeWatchEventMessage, PROTOBUF_CONTENT_TYPE } from "../api/codec/wire.ts";
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
      out.push(checkEvent(ev.type, ev.object));
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

  async *[Symbol.asyncIterator](): AsyncIterator<WatchEvent<T>> {
    if (this.iterated) throw new Error("a WatchStream can be iterated only once");
    this.iterated = true;
    try {
      for await (const chunk of this.body) {
        if (this.stopped) return;
        for (const ev of this.decoder.push(chunk)) {
          yield ev as WatchEvent<T>; // the decoder checked the shape; T is the caller's claim
          if (this.stopped) return;
        }
      }
      if (!this.stopped) for (const ev of this.decoder.end()) yield ev as WatchEvent<T>;
    } catch (e) {
      if (!this.stopped) throw e;
    } finally {
      this.stop();
    }
  }
}

function concat(parts: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let p = 0;
  for (const x of parts) {
    out.set(x, p);
    p += x.length;
  }
  return out;
}
