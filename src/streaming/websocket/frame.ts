/**
 * RFC 6455 framing as a pure state machine: `WsReader.push(bytes)` returns the events the bytes
 * complete (whole messages, pings, pongs, close, or one protocol error after which the reader is
 * dead); `encodeFrame` serializes one frame. No sockets, no timers.
 *
 * Checks (RFC 6455 §5): reserved bits must be 0 (no extension is negotiated), opcodes 3-7 and
 * 11-15 are reserved, client frames must be masked (server frames must not be), control frames
 * carry at most 125 bytes and are never fragmented, continuation frames need an open message, a
 * new data frame may not interrupt one, 64-bit lengths must have the top bit clear, text must be
 * UTF-8, close payloads are empty or a valid code plus UTF-8 reason.
 */
import { ByteBuffer, concatBytes } from "../_queue.ts";

export const Opcode = {
  Continuation: 0x0,
  Text: 0x1,
  Binary: 0x2,
  Close: 0x8,
  Ping: 0x9,
  Pong: 0xa,
} as const;
export type OpcodeValue = (typeof Opcode)[keyof typeof Opcode];

/** Close codes (RFC 6455 §7.4.1). 1005 and 1006 are never sent on the wire. */
export const CloseCode = {
  Normal: 1000,
  GoingAway: 1001,
  ProtocolError: 1002,
  UnsupportedData: 1003,
  NoStatus: 1005,
  Abnormal: 1006,
  InvalidPayload: 1007,
  PolicyViolation: 1008,
  MessageTooBig: 1009,
  InternalError: 1011,
} as const;

export type WsEvent =
  | { readonly type: "message"; readonly binary: boolean; readonly data: Uint8Array }
  | { readonly type: "ping"; readonly data: Uint8Array }
  | { readonly type: "pong"; readonly data: Uint8Array }
  /** `code` is undefined when the close frame had no payload (1005 "no status"). */
  | { readonly type: "close"; readonly code: number | undefined; readonly reason: string }
  /** The peer broke the protocol: answer with a close frame carrying `code`, then drop. */
  | { readonly type: "error"; readonly code: number; readonly reason: string };

export interface WsReaderOptions {
  /** Frames from the peer must be masked (true on the server side). */
  readonly requireMask: boolean;
  /** Largest reassembled message accepted; larger ones end with 1009. */
  readonly maxMessageBytes: number;
}

const MAX_CONTROL_PAYLOAD = 125;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** True for close codes a peer may send (RFC 6455 §7.4 plus the IANA registry and private ranges). */
export function isValidCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** Incremental frame parser and message reassembler. */
export class WsReader {
  readonly #buf = new ByteBuffer();
  #dead = false;
  /** Opcode of the fragmented message in progress, or undefined. */
  #fragOpcode: number | undefined;
  #fragments: Uint8Array[] = [];
  #fragBytes = 0;

  constructor(private readonly opts: WsReaderOptions) {}

  /** True once an error or close event was returned: later input is ignored. */
  get done(): boolean {
    return this.#dead;
  }

  push(chunk: Uint8Array): WsEvent[] {
    const events: WsEvent[] = [];
    if (this.#dead) return events;
    this.#buf.append(chunk);
    // Each iteration consumes one whole frame; bounded by the bytes available.
    for (;;) {
      const ev = this.#step();
      if (ev === undefined) break;
      if (ev !== null) events.push(ev);
      if (ev !== null && (ev.type === "error" || ev.type === "close")) {
        this.#dead = true;
        this.#buf.clear();
        break;
      }
    }
    return events;
  }

  /** One frame: undefined = need more bytes; null = consumed without an event. */
  #step(): WsEvent | null | undefined {
    const buf = this.#buf;
    if (buf.length < 2) return undefined;
    const b0 = buf.at(0);
    const b1 = buf.at(1);
    const fin = (b0 & 0x80) !== 0;
    const rsv = b0 & 0x70;
    const opcode = b0 & 0x0f;
    const masked = (b1 & 0x80) !== 0;
    let len = b1 & 0x7f;
    let headerLen = 2;
    if (len === 126) {
      if (buf.length < 4) return undefined;
      len = (buf.at(2) << 8) | buf.at(3);
      headerLen = 4;
    } else if (len === 127) {
      if (buf.length < 10) return undefined;
      if ((buf.at(2) & 0x80) !== 0) return protocolError("64-bit payload length has the top bit set");
      let n = 0;
      for (let i = 2; i < 10; i++) n = n * 256 + buf.at(i);
      len = n;
      headerLen = 10;
    }
    if (rsv !== 0) return protocolError("reserved bits set without a negotiated extension");
    const isControl = (opcode & 0x8) !== 0;
    if (!isKnownOpcode(opcode)) return protocolError(`reserved opcode ${opcode}`);
    if (this.opts.requireMask && !masked) return protocolError("client frame is not masked");
    if (!this.opts.requireMask && masked) return protocolError("server frame is masked");
    if (isControl) {
      if (!fin) return protocolError("fragmented control frame");
      if (len > MAX_CONTROL_PAYLOAD) return protocolError("control frame payload longer than 125 bytes");
    } else {
      const total = (opcode === Opcode.Continuation ? this.#fragBytes : 0) + len;
      if (total > this.opts.maxMessageBytes) {
        return { type: "error", code: CloseCode.MessageTooBig, reason: "message too big" };
      }
      if (opcode === Opcode.Continuation && this.#fragOpcode === undefined) {
        return protocolError("continuation frame without a message in progress");
      }
      if (opcode !== Opcode.Continuation && this.#fragOpcode !== undefined) {
        return protocolError("new data frame inside a fragmented message");
      }
    }
    const maskLen = masked ? 4 : 0;
    if (buf.length < headerLen + maskLen + len) return undefined;
    buf.take(headerLen);
    const mask = masked ? buf.take(4) : undefined;
    let payload = buf.take(len);
    if (mask !== undefined) payload = unmask(payload, mask);

    if (isControl) return this.#control(opcode, payload);
    if (opcode !== Opcode.Continuation && fin) return this.#message(opcode, payload);
    if (opcode !== Opcode.Continuation) this.#fragOpcode = opcode;
    this.#fragments.push(payload);
    this.#fragBytes += payload.byteLength;
    if (!fin) return null;
    const whole = concatBytes(this.#fragments);
    const op = this.#fragOpcode ?? Opcode.Binary;
    this.#fragOpcode = undefined;
    this.#fragments = [];
    this.#fragBytes = 0;
    return this.#message(op, whole);
  }

  #message(opcode: number, data: Uint8Array): WsEvent {
    if (opcode === Opcode.Text && decodeUtf8(data) === undefined) {
      return { type: "error", code: CloseCode.InvalidPayload, reason: "text message is not valid UTF-8" };
    }
    return { type: "message", binary: opcode === Opcode.Binary, data };
  }

  #control(opcode: number, payload: Uint8Array): WsEvent {
    if (opcode === Opcode.Ping) return { type: "ping", data: payload };
    if (opcode === Opcode.Pong) return { type: "pong", data: payload };
    // Close
    if (payload.byteLength === 0) return { type: "close", code: undefined, reason: "" };
    if (payload.byteLength === 1) return protocolError("close frame with a 1-byte payload");
    const code = ((payload[0] ?? 0) << 8) | (payload[1] ?? 0);
    if (!isValidCloseCode(code)) return protocolError(`invalid close code ${code}`);
    const reason = decodeUtf8(payload.subarray(2));
    if (reason === undefined) {
      return { type: "error", code: CloseCode.InvalidPayload, reason: "close reason is not valid UTF-8" };
    }
    return { type: "close", code, reason };
  }
}

function isKnownOpcode(op: number): boolean {
  return op === 0 || op === 1 || op === 2 || op === 8 || op === 9 || op === 10;
}

function protocolError(reason: string): WsEvent {
  return { type: "error", code: CloseCode.ProtocolError, reason };
}

/** XORs `data` with the 4-byte `mask` (a copy; `data` is untouched). */
export function unmask(data: Uint8Array, mask: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.byteLength);
  for (let i = 0; i < data.byteLength; i++) out[i] = (data[i] ?? 0) ^ (mask[i & 3] ?? 0);
  return out;
}

export interface EncodeOptions {
  /** Default true. */
  readonly fin?: boolean;
  /** 4 bytes: mask the payload (clients must; servers must not). */
  readonly mask?: Uint8Array;
}

/** Serializes one frame. Throws RangeError for a control payload over 125 bytes or a bad mask. */
export function encodeFrame(opcode: OpcodeValue, payload: Uint8Array, opts: EncodeOptions = {}): Uint8Array {
  const fin = opts.fin ?? true;
  const len = payload.byteLength;
  if ((opcode & 0x8) !== 0 && (len > MAX_CONTROL_PAYLOAD || !fin)) {
    throw new RangeError("control frames carry at most 125 bytes and cannot be fragmented");
  }
  if (opts.mask !== undefined && opts.mask.byteLength !== 4) throw new RangeError("mask must be 4 bytes");
  const ext = len < 126 ? 0 : len < 0x10000 ? 2 : 8;
  const maskLen = opts.mask !== undefined ? 4 : 0;
  const out = new Uint8Array(2 + ext + maskLen + len);
  out[0] = (fin ? 0x80 : 0) | opcode;
  const maskBit = opts.mask !== undefined ? 0x80 : 0;
  if (ext === 0) {
    out[1] = maskBit | len;
  } else if (ext === 2) {
    out[1] = maskBit | 126;
    out[2] = len >>> 8;
    out[3] = len & 0xff;
  } else {
    out[1] = maskBit | 127;
    let n = len;
    for (let i = 9; i >= 2; i--) {
      out[i] = n % 256;
      n = Math.floor(n / 256);
    }
  }
  const off = 2 + ext;
  if (opts.mask !== undefined) {
    out.set(opts.mask, off);
    out.set(unmask(payload, opts.mask), off + 4);
  } else {
    out.set(payload, off);
  }
  return out;
}

/** The payload of a close frame: 2-byte code plus a UTF-8 reason truncated to fit 125 bytes. */
export function closePayload(code: number, reason = ""): Uint8Array {
  let r = new TextEncoder().encode(reason);
  if (r.byteLength > MAX_CONTROL_PAYLOAD - 2) {
    // Cut on a character boundary so the reason stays valid UTF-8.
    let cut = MAX_CONTROL_PAYLOAD - 2;
    while (cut > 0 && ((r[cut] ?? 0) & 0xc0) === 0x80) cut--;
    r = r.subarray(0, cut);
  }
  const out = new Uint8Array(2 + r.byteLength);
  out[0] = code >>> 8;
  out[1] = code & 0xff;
  out.set(r, 2);
  return out;
}
