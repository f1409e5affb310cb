/**
 * HTTP/2 frame constants (RFC 9113) and small parse/serialize helpers.
 * Frame header: length (24) | type (8) | flags (8) | R + stream id (31).
 */

/** RFC 9113 section 7 error codes. */
export const ErrorCode = {
  NO_ERROR: 0,
  PROTOCOL_ERROR: 1,
  INTERNAL_ERROR: 2,
  FLOW_CONTROL_ERROR: 3,
  SETTINGS_TIMEOUT: 4,
  STREAM_CLOSED: 5,
  FRAME_SIZE_ERROR: 6,
  REFUSED_STREAM: 7,
  CANCEL: 8,
  COMPRESSION_ERROR: 9,
  CONNECT_ERROR: 10,
  ENHANCE_YOUR_CALM: 11,
  INADEQUATE_SECURITY: 12,
  HTTP_1_1_REQUIRED: 13,
} as const;

/** Frame type codes (RFC 9113 section 6). */
export const FrameType = {
  DATA: 0x0,
  HEADERS: 0x1,
  PRIORITY: 0x2,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PUSH_PROMISE: 0x5,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
} as const;

/** Frame flags. */
export const Flags = {
  END_STREAM: 0x1,
  ACK: 0x1,
  END_HEADERS: 0x4,
  PADDED: 0x8,
  PRIORITY: 0x20,
} as const;

/** SETTINGS identifiers (RFC 9113 section 6.5.2). */
export const SettingId = {
  HEADER_TABLE_SIZE: 0x1,
  ENABLE_PUSH: 0x2,
  MAX_CONCURRENT_STREAMS: 0x3,
  INITIAL_WINDOW_SIZE: 0x4,
  MAX_FRAME_SIZE: 0x5,
  MAX_HEADER_LIST_SIZE: 0x6,
  ENABLE_CONNECT_PROTOCOL: 0x8,
} as const;

/** The client connection preface (RFC 9113 section 3.4). */
export const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");
export const FRAME_HEADER_SIZE = 9;
export const DEFAULT_MAX_FRAME_SIZE = 16384;
export const MAX_MAX_FRAME_SIZE = 16777215;
export const DEFAULT_WINDOW = 65535;
export const MAX_WINDOW = 0x7fffffff;

/** Writes a 9-byte frame header into `buf` at `off`. */
export function writeFrameHeader(buf: Uint8Array, off: number, length: number, type: number, flags: number, streamId: number): void {
  buf[off] = (length >>> 16) & 0xff;
  buf[off + 1] = (length >>> 8) & 0xff;
  buf[off + 2] = length & 0xff;
  buf[off + 3] = type;
  buf[off + 4] = flags;
  buf[off + 5] = (streamId >>> 24) & 0x7f;
  buf[off + 6] = (streamId >>> 16) & 0xff;
  buf[off + 7] = (streamId >>> 8) & 0xff;
  buf[off + 8] = streamId & 0xff;
}

/** Builds a whole frame (header + payload) as one Buffer. */
export function frame(type: number, flags: number, streamId: number, payload?: Uint8Array): Buffer {
  const len = payload === undefined ? 0 : payload.length;
  const b = Buffer.allocUnsafe(FRAME_HEADER_SIZE + len);
  writeFrameHeader(b, 0, len, type, flags, streamId);
  if (payload !== undefined) b.set(payload, FRAME_HEADER_SIZE);
  return b;
}

/** Reads a big-endian 31-bit value (reserved bit cleared). */
export function readU31(b: Uint8Array, off: number): number {
  return (((b[off] ?? 0) & 0x7f) * 0x1000000) + ((b[off + 1] ?? 0) << 16) + ((b[off + 2] ?? 0) << 8) + (b[off + 3] ?? 0);
}

/** Reads a big-endian 32-bit unsigned value. */
export function readU32(b: Uint8Array, off: number): number {
  return ((b[off] ?? 0) * 0x1000000) + ((b[off + 1] ?? 0) << 16) + ((b[off + 2] ?? 0) << 8) + (b[off + 3] ?? 0);
}

export function writeU32(b: Uint8Array, off: number, v: number): void {
  b[off] = (v >>> 24) & 0xff;
  b[off + 1] = (v >>> 16) & 0xff;
  b[off + 2] = (v >>> 8) & 0xff;
  b[off + 3] = v & 0xff;
}

/** SETTINGS payload from (id, value) pairs. */
export function settingsPayload(pairs: ReadonlyArray<readonly [number, number]>): Buffer {
  const b = Buffer.allocUnsafe(pairs.length * 6);
  let o = 0;
  for (const [id, v] of pairs) {
    b[o] = (id >>> 8) & 0xff;
    b[o + 1] = id & 0xff;
    writeU32(b, o + 2, v);
    o += 6;
  }
  return b;
}

/** GOAWAY frame. */
export function goawayFrame(lastStreamId: number, code: number, debug?: string): Buffer {
  const d = debug === undefined ? Buffer.alloc(0) : Buffer.from(debug, "utf8");
  const p = Buffer.allocUnsafe(8 + d.length);
  writeU32(p, 0, lastStreamId & 0x7fffffff);
  writeU32(p, 4, code);
  p.set(d, 8);
  return frame(FrameType.GOAWAY, 0, 0, p);
}

export function rstFrame(streamId: number, code: number): Buffer {
  const b = Buffer.allocUnsafe(13);
  writeFrameHeader(b, 0, 4, FrameType.RST_STREAM, 0, streamId);
  writeU32(b, 9, code);
  return b;
}

export function windowUpdateFrame(streamId: number, inc: number): Buffer {
  const b = Buffer.allocUnsafe(13);
  writeFrameHeader(b, 0, 4, FrameType.WINDOW_UPDATE, 0, streamId);
  writeU32(b, 9, inc & 0x7fffffff);
  return b;
}
