/**
 * Protobuf writer over one growable, reusable buffer.
 *
 * Length-delimited fields are written in place: `fork()` reserves one byte for the length, the body is
 * written after it, and `ldelim(start)` fills the length in, moving the body right in the rare case the
 * length needs more than one varint byte. That keeps encoding single-pass with no size precomputation.
 *
 * Values come from JSON-shaped objects that may not match their declared types, so every typed write
 * checks its input and throws `EncodeTypeError` on a mismatch (callers turn it into a 400).
 */

/** Thrown by typed writes when a value does not have the expected JSON type. */
export class EncodeTypeError extends Error {
  constructor(readonly expected: string, readonly value: unknown) {
    super(`expected ${expected}, got ${describe(value)}`);
    this.name = "EncodeTypeError";
  }
}

export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "string") return `string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + "…" : value)}`;
  if (typeof value === "number") return `number ${value}`;
  return typeof value;
}

const encoder = new TextEncoder();
/** Strings at least this long go through the native encoder; shorter ones are encoded by hand (faster). */
const NATIVE_UTF8_MIN = 256;

export class Writer {
  buf: Uint8Array;
  pos = 0;

  constructor(initialSize = 4096) {
    this.buf = new Uint8Array(initialSize);
  }

  reset(): void {
    this.pos = 0;
  }

  /** Makes room for at least `n` more bytes. */
  ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.grow(n);
  }

  private grow(n: number): void {
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  /** A copy of the bytes written so far. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }

  /** One raw byte (single-byte tags are emitted this way by generated code). */
  byte(b: number): void {
    if (this.pos >= this.buf.length) this.grow(1);
    this.buf[this.pos++] = b;
  }

  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** Unsigned varint of a value in [0, 2^32). */
  uint32(v: number): void {
    this.ensure(5);
    const buf = this.buf;
    let p = this.pos;
    while (v > 127) {
      buf[p++] = (v & 127) | 128;
      v >>>= 7;
    }
    buf[p++] = v;
    this.pos = p;
  }

  private varint64(lo: number, hi: number): void {
    this.ensure(10);
    const buf = this.buf;
    let p = this.pos;
    while (hi > 0) {
      buf[p++] = (lo & 127) | 128;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    while (lo > 127) {
      buf[p++] = (lo & 127) | 128;
      lo >>>= 7;
    }
    buf[p++] = lo;
    this.pos = p;
  }

  int32(v: unknown): void {
    if (typeof v !== "number" || (v | 0) !== v) throw new EncodeTypeError("int32", v);
    if (v >= 0) this.uint32(v);
    else this.varint64(v >>> 0, 0xffffffff);
  }

  int64(v: unknown): void {
    if (typeof v !== "number" || !Number.isSafeInteger(v)) throw new EncodeTypeError("integer", v);
    if (v >= 0) {
      if (v < 0x80000000) this.uint32(v);
      else this.varint64(v % 0x100000000 >>> 0, Math.floor(v / 0x100000000) >>> 0);
      return;
    }
    const m = -v;
    let lo = (~(m % 0x100000000) >>> 0) + 1;
    let hi = ~Math.floor(m / 0x100000000) >>> 0;
    if (lo > 0xffffffff) {
      lo = 0;
      hi = (hi + 1) >>> 0;
    }
    this.varint64(lo, hi);
  }

  bool(v: unknown): void {
    if (typeof v !== "boolean") throw new EncodeTypeError("boolean", v);
    this.byte(v ? 1 : 0);
  }

  double(v: unknown): void {
    if (typeof v !== "number") throw new EncodeTypeError("number", v);
    this.ensure(8);
    new DataView(this.buf.buffer, this.buf.byteOffset).setFloat64(this.pos, v, true);
    this.pos += 8;
  }

  float(v: unknown): void {
    if (typeof v !== "number") throw new EncodeTypeError("number", v);
    this.ensure(4);
    new DataView(this.buf.buffer, this.buf.byteOffset).setFloat32(this.pos, v, true);
    this.pos += 4;
  }

  /** A length-delimited UTF-8 string (the length prefix included). */
  string(v: unknown): void {
    if (typeof v !== "string") throw new EncodeTypeError("string", v);
    const len = v.length;
    // UTF-8 needs at least one byte per UTF-16 unit, so varintSize(len) is a lower bound of the prefix.
    const reserved = len < 128 ? 1 : varintSize(len);
    this.ensure(reserved + len * 3 + 5);
    const buf = this.buf;
    const start = this.pos + reserved;
    let p = start;
    if (len >= NATIVE_UTF8_MIN) {
      p += encoder.encodeInto(v, buf.subarray(start)).written;
    } else {
      for (let i = 0; i < len; i++) {
        const c = v.charCodeAt(i);
        if (c < 0x80) {
          buf[p++] = c;
        } else {
          p = utf8Tail(v, i, buf, p);
          break;
        }
      }
    }
    const n = p - start;
    if (n < 128 && reserved === 1) {
      buf[this.pos] = n;
      this.pos = p;
      return;
    }
    const need = varintSize(n);
    if (need > reserved) buf.copyWithin(start + need - reserved, start, p);
    let q = this.pos;
    let x = n;
    while (x > 127) {
      buf[q++] = (x & 127) | 128;
      x >>>= 7;
    }
    buf[q++] = x;
    this.pos = q + n;
  }

  /** Length-delimited bytes (the length prefix included). */
  bytes(b: Uint8Array): void {
    this.uint32(b.length);
    this.raw(b);
  }

  /** Reserves the length byte of a nested message and returns its position for `ldelim`. */
  fork(): number {
    if (this.pos >= this.buf.length) this.grow(1);
    return this.pos++;
  }

  /** Completes a `fork()`: writes the body length at `start`, shifting the body if it is >= 128 bytes. */
  ldelim(start: number): void {
    const len = this.pos - start - 1;
    if (len < 128) {
      this.buf[start] = len;
      return;
    }
    const extra = varintSize(len) - 1;
    this.ensure(extra);
    const buf = this.buf;
    buf.copyWithin(start + 1 + extra, start + 1, this.pos);
    let q = start;
    let x = len;
    while (x > 127) {
      buf[q++] = (x & 127) | 128;
      x >>>= 7;
    }
    buf[q] = x;
    this.pos += extra;
  }
}

export function varintSize(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

/** Encodes `s` from index `i` on (the first non-ASCII unit) into `buf` at `p`; returns the new end. */
function utf8Tail(s: string, i: number, buf: Uint8Array, p: number): number {
  const len = s.length;
  for (; i < len; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      buf[p++] = c;
    } else if (c < 0x800) {
      buf[p++] = 0xc0 | (c >> 6);
      buf[p++] = 0x80 | (c & 63);
    } else if (c >= 0xd800 && c < 0xdc00 && i + 1 < len && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      c = 0x10000 + ((c - 0xd800) << 10) + (s.charCodeAt(++i) - 0xdc00);
      buf[p++] = 0xf0 | (c >> 18);
      buf[p++] = 0x80 | ((c >> 12) & 63);
      buf[p++] = 0x80 | ((c >> 6) & 63);
      buf[p++] = 0x80 | (c & 63);
    } else {
      if (c >= 0xd800 && c < 0xe000) c = 0xfffd; // lone surrogate: what TextEncoder does too
      buf[p++] = 0xe0 | (c >> 12);
      buf[p++] = 0x80 | ((c >> 6) & 63);
      buf[p++] = 0x80 | (c & 63);
    }
  }
  return p;
}
