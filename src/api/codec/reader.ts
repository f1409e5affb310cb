/**
 * Protobuf reader over a byte array. Every read takes the `end` of the enclosing message and never
 * reads past it, so a length that lies cannot pull bytes from a sibling field or the buffer's tail.
 * All malformed input throws `ApiError` 400 (BadRequest) with the offset.
 */
import { ApiError, badRequest } from "../errors.ts";

const decoder = new TextDecoder("utf-8");
/**
 * Strings shorter than this are decoded by hand when ASCII; longer ones use TextDecoder, whose fixed
 * call cost (~130 ns here) beats per-character concatenation from about 12 characters on.
 */
const MANUAL_ASCII_MAX = 12;

/**
 * Short ASCII strings (enum-like values, label keys, image names, paths) repeat across objects:
 * decoded objects kept by the watch cache would hold one copy per occurrence (JSON.parse shares
 * strings of up to 10 characters through V8's string table). A direct-mapped table of recently
 * decoded strings, probed by a hash of the bytes and confirmed by comparing characters, returns
 * the same string instance for the same bytes (no allocation on a hit). Unique strings simply
 * replace their slot's occupant.
 */
const INTERN_MAX = 48;
const INTERN_BITS = 13;
const internTable: string[] = new Array<string>(1 << INTERN_BITS).fill("");

export function malformed(what: string, offset: number): ApiError {
  return badRequest(`invalid protobuf: ${what} at offset ${offset}`);
}

export class Reader {
  pos: number;

  constructor(readonly buf: Uint8Array, pos = 0) {
    this.pos = pos;
  }

  /** Varint as an unsigned 32-bit number (tags, lengths, enums); bits above 32 are dropped. */
  uint32(end: number): number {
    const buf = this.buf;
    let p = this.pos;
    if (p >= end) throw malformed("unexpected end of data", p);
    let b = buf[p++]!;
    if (b < 0x80) {
      this.pos = p;
      return b;
    }
    let v = b & 0x7f;
    for (let shift = 7; shift < 70; shift += 7) {
      if (p >= end) throw malformed("truncated varint", p);
      b = buf[p++]!;
      if (shift < 32) v |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.pos = p;
        return v >>> 0;
      }
    }
    throw malformed("varint longer than 10 bytes", p);
  }

  tag(end: number): number {
    return this.uint32(end);
  }

  int32(end: number): number {
    return this.uint32(end) | 0;
  }

  /** Varint as a signed 64-bit value; exact up to 2^53. */
  int64(end: number): number {
    const buf = this.buf;
    let p = this.pos;
    if (p >= end) throw malformed("unexpected end of data", p);
    let b = buf[p++]!;
    if (b < 0x80) {
      this.pos = p;
      return b;
    }
    let lo = b & 0x7f;
    let hi = 0;
    let i = 1;
    for (; i < 10; i++) {
      if (p >= end) throw malformed("truncated varint", p);
      b = buf[p++]!;
      const shift = i * 7;
      if (shift < 28) lo |= (b & 0x7f) << shift;
      else if (shift === 28) {
        lo |= (b & 0x0f) << 28;
        hi = (b & 0x7f) >> 4;
      } else hi |= (b & 0x7f) << (shift - 32);
      if (b < 0x80) break;
    }
    if (i === 10) throw malformed("varint longer than 10 bytes", p);
    this.pos = p;
    lo >>>= 0;
    return hi & 0x80000000 ? -((~hi >>> 0) * 0x100000000 + (~lo >>> 0) + 1) : (hi >>> 0) * 0x100000000 + lo;
  }

  bool(end: number): boolean {
    return this.uint32(end) !== 0;
  }

  double(end: number): number {
    const p = this.pos;
    if (p + 8 > end) throw malformed("truncated fixed64", p);
    this.pos = p + 8;
    return new DataView(this.buf.buffer, this.buf.byteOffset).getFloat64(p, true);
  }

  float(end: number): number {
    const p = this.pos;
    if (p + 4 > end) throw malformed("truncated fixed32", p);
    this.pos = p + 4;
    return new DataView(this.buf.buffer, this.buf.byteOffset).getFloat32(p, true);
  }

  /** Reads a length prefix and returns the end offset of the delimited bytes (checked against `end`). */
  ldEnd(end: number): number {
    const at = this.pos;
    const len = this.uint32(end);
    const e = this.pos + len;
    if (e > end) throw malformed(`length ${len} overruns its message`, at);
    return e;
  }

  string(end: number): string {
    const e = this.ldEnd(end);
    const buf = this.buf;
    let p = this.pos;
    const len = e - p;
    this.pos = e;
    if (len === 0) return "";
    if (len > INTERN_MAX) return decoder.decode(buf.subarray(p, e));
    // FNV-1a over the bytes, checking for ASCII on the way.
    let h = 0x811c9dc5;
    for (let i = p; i < e; i++) {
      const c = buf[i]!;
      if (c >= 0x80) return decoder.decode(buf.subarray(p, e));
      h = Math.imul(h ^ c, 0x01000193);
    }
    const slot = (h ^ (h >>> INTERN_BITS)) & ((1 << INTERN_BITS) - 1);
    const seen = internTable[slot]!;
    if (seen.length === len) {
      let j = 0;
      while (j < len && seen.charCodeAt(j) === buf[p + j]) j++;
      if (j === len) return seen;
    }
    let s: string;
    if (len < MANUAL_ASCII_MAX) {
      s = "";
      for (let i = p; i < e; i++) s += String.fromCharCode(buf[i]!);
    } else {
      s = decoder.decode(buf.subarray(p, e));
    }
    internTable[slot] = s;
    return s;
  }

  /** Length-delimited bytes as a view into the input (not a copy). */
  bytes(end: number): Uint8Array {
    const e = this.ldEnd(end);
    const v = this.buf.subarray(this.pos, e);
    this.pos = e;
    return v;
  }

  /** Skips the value of a field whose tag was just read. Rejects invalid tags and wire types. */
  skip(tag: number, end: number): void {
    const at = this.pos;
    if (tag >>> 3 === 0) throw malformed(`invalid field number 0 (tag ${tag})`, at);
    switch (tag & 7) {
      case 0:
        this.int64(end);
        return;
      case 1:
        if (at + 8 > end) throw malformed("truncated fixed64", at);
        this.pos = at + 8;
        return;
      case 2:
        this.pos = this.ldEnd(end);
        return;
      case 5:
        if (at + 4 > end) throw malformed("truncated fixed32", at);
        this.pos = at + 4;
        return;
      case 3:
        this.skipGroup(tag >>> 3, end);
        return;
      default:
        throw malformed(`invalid wire type ${tag & 7} for field ${tag >>> 3}`, at);
    }
  }

  private skipGroup(field: number, end: number): void {
    // Iterative so that nested groups cannot exhaust the stack.
    const open: number[] = [field];
    while (open.length > 0) {
      const t = this.uint32(end);
      const wt = t & 7;
      if (wt === 4) {
        if (t >>> 3 !== open.pop()) throw malformed("mismatched end group", this.pos);
      } else if (wt === 3) {
        if (open.length > 100) throw malformed("groups nested too deeply", this.pos);
        open.push(t >>> 3);
      } else {
        this.skip(t, end);
      }
    }
  }
}
