/**
 * SPDY/3.1 framing (SPDY Protocol Draft 3.1 §2.2, §2.6) as a pure incremental parser and
 * encoders. Header blocks stay compressed here: compression is a per-direction stateful zlib
 * context that the session owns (compression.ts).
 *
 * Control frame:  |1| version(15) | type(16) | flags(8) | length(24) | data
 * Data frame:     |0| stream-id(31)           | flags(8) | length(24) | data
 */
import { ByteBuffer } from "../_queue.ts";

export const SPDY_VERSION = 3;

export const FrameType = {
  SynStream: 1,
  SynReply: 2,
  RstStream: 3,
  Settings: 4,
  Ping: 6,
  GoAway: 7,
  Headers: 8,
  WindowUpdate: 9,
} as const;

export const FLAG_FIN = 0x01;
export const FLAG_UNIDIRECTIONAL = 0x02;
export const FLAG_SETTINGS_CLEAR = 0x01;

/** RST_STREAM status codes (§2.6.3). */
export const RstStatus = {
  ProtocolError: 1,
  InvalidStream: 2,
  RefusedStream: 3,
  UnsupportedVersion: 4,
  Cancel: 5,
  InternalError: 6,
  FlowControlError: 7,
  StreamInUse: 8,
  StreamAlreadyClosed: 9,
  FrameTooLarge: 11,
} as const;

/** GOAWAY status codes (§2.6.6). */
export const GoAwayStatus = { Ok: 0, ProtocolError: 1, InternalError: 2 } as const;

/** SETTINGS ids (§2.6.4). */
export const SettingsId = {
  UploadBandwidth: 1,
  DownloadBandwidth: 2,
  RoundTripTime: 3,
  MaxConcurrentStreams: 4,
  CurrentCwnd: 5,
  DownloadRetransRate: 6,
  InitialWindowSize: 7,
  ClientCertificateVectorSize: 8,
} as const;

export interface SettingsEntry {
  readonly id: number;
  readonly flags: number;
  readonly value: number;
}

export type SpdyFrame =
  | { readonly type: "data"; readonly streamId: number; readonly fin: boolean; readonly data: Uint8Array }
  | {
    readonly type: "syn_stream";
    readonly streamId: number;
    readonly associatedStreamId: number;
    /** 0 (highest) .. 7. */
    readonly priority: number;
    readonly slot: number;
    readonly fin: boolean;
    readonly unidirectional: boolean;
    /** Compressed. */
    readonly headerBlock: Uint8Array;
  }
  | { readonly type: "syn_reply"; readonly streamId: number; readonly fin: boolean; readonly headerBlock: Uint8Array }
  | { readonly type: "rst_stream"; readonly streamId: number; readonly status: number }
  | { readonly type: "settings"; readonly clear: boolean; readonly entries: readonly SettingsEntry[] }
  | { readonly type: "ping"; readonly id: number }
  | { readonly type: "goaway"; readonly lastGoodStreamId: number; readonly status: number }
  | { readonly type: "headers"; readonly streamId: number; readonly fin: boolean; readonly headerBlock: Uint8Array }
  | { readonly type: "window_update"; readonly streamId: number; readonly delta: number }
  /** A control frame type this version does not define; the spec says to ignore it. */
  | { readonly type: "unknown"; readonly frameType: number; readonly flags: number };

/** The peer broke the framing; the session must end (GOAWAY PROTOCOL_ERROR). */
export class SpdyProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SpdyProtocolError";
  }
}

const MAX_LENGTH = 0xffffff;

function u32(b: Uint8Array, off: number): number {
  return (((b[off] ?? 0) << 24) | ((b[off + 1] ?? 0) << 16) | ((b[off + 2] ?? 0) << 8) | (b[off + 3] ?? 0)) >>> 0;
}

export interface SpdyFrameParserOptions {
  /** Frames whose payload is longer are a protocol error. Default 16 MiB - 1 (the field's limit). */
  readonly maxFrameBytes?: number;
}

/** Incremental parser: `push(bytes)` returns the frames completed; throws `SpdyProtocolError`. */
export class SpdyFrameParser {
  readonly #buf = new ByteBuffer();
  readonly #max: number;
  #dead = false;

  constructor(opts: SpdyFrameParserOptions = {}) {
    this.#max = opts.maxFrameBytes ?? MAX_LENGTH;
  }

  push(chunk: Uint8Array): SpdyFrame[] {
    if (this.#dead) return [];
    this.#buf.append(chunk);
    const out: SpdyFrame[] = [];
    try {
      // Each iteration consumes one whole frame; bounded by the bytes available.
      while (this.#buf.length >= 8) {
        const len = (this.#buf.at(5) << 16) | (this.#buf.at(6) << 8) | this.#buf.at(7);
        if (len > this.#max) throw new SpdyProtocolError(`frame of ${len} bytes exceeds the limit of ${this.#max}`);
        if (this.#buf.length < 8 + len) break;
        const head = this.#buf.take(8);
        const payload = this.#buf.take(len);
        out.push(parseFrame(head, payload));
      }
    } catch (err) {
      this.#dead = true;
      this.#buf.clear();
      throw err;
    }
    return out;
  }
}

function parseFrame(head: Uint8Array, p: Uint8Array): SpdyFrame {
  const first = u32(head, 0);
  const flags = head[4] ?? 0;
  const len = p.byteLength;
  if ((first & 0x80000000) === 0) {
    const streamId = first & 0x7fffffff;
    if (streamId === 0) throw new SpdyProtocolError("DATA frame on stream 0");
    return { type: "data", streamId, fin: (flags & FLAG_FIN) !== 0, data: p };
  }
  const version = (first >>> 16) & 0x7fff;
  const type = first & 0xffff;
  if (version !== SPDY_VERSION) throw new SpdyProtocolError(`unsupported SPDY version ${version}`);
  const need = (n: number, exact: boolean): void => {
    if (exact ? len !== n : len < n) {
      throw new SpdyProtocolError(`control frame type ${type} with a ${len}-byte payload (${exact ? "" : "at least "}${n} expected)`);
    }
  };
  const streamIdAt = (off: number): number => {
    const id = u32(p, off) & 0x7fffffff;
    if (id === 0) throw new SpdyProtocolError(`control frame type ${type} on stream 0`);
    return id;
  };
  switch (type) {
    case FrameType.SynStream:
      need(10, false);
      return {
        type: "syn_stream",
        streamId: streamIdAt(0),
        associatedStreamId: u32(p, 4) & 0x7fffffff,
        priority: (p[8] ?? 0) >>> 5,
        slot: p[9] ?? 0,
        fin: (flags & FLAG_FIN) !== 0,
        unidirectional: (flags & FLAG_UNIDIRECTIONAL) !== 0,
        headerBlock: p.subarray(10),
      };
    case FrameType.SynReply:
      need(4, false);
      return { type: "syn_reply", streamId: streamIdAt(0), fin: (flags & FLAG_FIN) !== 0, headerBlock: p.subarray(4) };
    case FrameType.RstStream: {
      need(8, true);
      const status = u32(p, 4);
      if (status === 0) throw new SpdyProtocolError("RST_STREAM with status 0");
      return { type: "rst_stream", streamId: streamIdAt(0), status };
    }
    case FrameType.Settings: {
      need(4, false);
      const n = u32(p, 0);
      if (len !== 4 + 8 * n) throw new SpdyProtocolError(`SETTINGS announces ${n} entries in ${len} bytes`);
      const entries: SettingsEntry[] = [];
      for (let i = 0; i < n; i++) {
        const w = u32(p, 4 + 8 * i);
        entries.push({ flags: w >>> 24, id: w & 0xffffff, value: u32(p, 8 + 8 * i) });
      }
      return { type: "settings", clear: (flags & FLAG_SETTINGS_CLEAR) !== 0, entries };
    }
    case FrameType.Ping:
      need(4, true);
      return { type: "ping", id: u32(p, 0) };
    case FrameType.GoAway:
      need(8, true);
      return { type: "goaway", lastGoodStreamId: u32(p, 0) & 0x7fffffff, status: u32(p, 4) };
    case FrameType.Headers:
      need(4, false);
      return { type: "headers", streamId: streamIdAt(0), fin: (flags & FLAG_FIN) !== 0, headerBlock: p.subarray(4) };
    case FrameType.WindowUpdate: {
      need(8, true);
      const streamId = u32(p, 0) & 0x7fffffff; // 0: the session window (SPDY/3.1)
      return { type: "window_update", streamId, delta: u32(p, 4) & 0x7fffffff };
    }
    default:
      return { type: "unknown", frameType: type, flags };
  }
}

function control(type: number, flags: number, payload: Uint8Array): Uint8Array {
  if (payload.byteLength > MAX_LENGTH) throw new RangeError("SPDY frame payload too long");
  const out = new Uint8Array(8 + payload.byteLength);
  const v = new DataView(out.buffer);
  v.setUint16(0, 0x8000 | SPDY_VERSION);
  v.setUint16(2, type);
  v.setUint32(4, ((flags & 0xff) << 24 | payload.byteLength) >>> 0);
  out.set(payload, 8);
  return out;
}

function words(...ws: number[]): Uint8Array {
  const out = new Uint8Array(4 * ws.length);
  const v = new DataView(out.buffer);
  ws.forEach((w, i) => v.setUint32(4 * i, w >>> 0));
  return out;
}

function checkStreamId(id: number): void {
  if (!Number.isInteger(id) || id < 1 || id > 0x7fffffff) throw new RangeError(`invalid SPDY stream id ${id}`);
}

/**
 * Serializes a frame (header blocks must already be compressed). Throws RangeError for values
 * that do not fit the wire format (stream id 0 where one is required, over-long payloads).
 */
export function encodeFrame(f: SpdyFrame): Uint8Array {
  switch (f.type) {
    case "data": {
      checkStreamId(f.streamId);
      if (f.data.byteLength > MAX_LENGTH) throw new RangeError("SPDY DATA payload too long");
      const out = new Uint8Array(8 + f.data.byteLength);
      const v = new DataView(out.buffer);
      v.setUint32(0, f.streamId);
      v.setUint32(4, ((f.fin ? FLAG_FIN : 0) << 24 | f.data.byteLength) >>> 0);
      out.set(f.data, 8);
      return out;
    }
    case "syn_stream": {
      checkStreamId(f.streamId);
      const p = new Uint8Array(10 + f.headerBlock.byteLength);
      p.set(words(f.streamId, f.associatedStreamId), 0);
      p[8] = (f.priority & 7) << 5;
      p[9] = f.slot & 0xff;
      p.set(f.headerBlock, 10);
      return control(FrameType.SynStream, (f.fin ? FLAG_FIN : 0) | (f.unidirectional ? FLAG_UNIDIRECTIONAL : 0), p);
    }
    case "syn_reply": {
      checkStreamId(f.streamId);
      const p = new Uint8Array(4 + f.headerBlock.byteLength);
      p.set(words(f.streamId), 0);
      p.set(f.headerBlock, 4);
      return control(FrameType.SynReply, f.fin ? FLAG_FIN : 0, p);
    }
    case "headers": {
      checkStreamId(f.streamId);
      const p = new Uint8Array(4 + f.headerBlock.byteLength);
      p.set(words(f.streamId), 0);
      p.set(f.headerBlock, 4);
      return control(FrameType.Headers, f.fin ? FLAG_FIN : 0, p);
    }
    case "rst_stream":
      checkStreamId(f.streamId);
      if (f.status === 0) throw new RangeError("RST_STREAM status must not be 0");
      return control(FrameType.RstStream, 0, words(f.streamId, f.status));
    case "settings": {
      const ws = [f.entries.length];
      for (const e of f.entries) ws.push(((e.flags & 0xff) << 24 | (e.id & 0xffffff)) >>> 0, e.value);
      return control(FrameType.Settings, f.clear ? FLAG_SETTINGS_CLEAR : 0, words(...ws));
    }
    case "ping":
      if (f.id === 0) throw new RangeError("PING id must not be 0");
      return control(FrameType.Ping, 0, words(f.id));
    case "goaway":
      return control(FrameType.GoAway, 0, words(f.lastGoodStreamId & 0x7fffffff, f.status));
    case "window_update":
      if (f.delta < 1 || f.delta > 0x7fffffff) throw new RangeError(`invalid WINDOW_UPDATE delta ${f.delta}`);
      return control(FrameType.WindowUpdate, 0, words(f.streamId & 0x7fffffff, f.delta));
    case "unknown":
      throw new RangeError(`cannot encode unknown control frame type ${f.frameType}`);
  }
}
