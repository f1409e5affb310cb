/**
 * HPACK (RFC 7541): header block encoder and decoder with the dynamic table.
 * Header lists are flat string arrays [name0, value0, name1, value1, …]; strings are octets
 * as latin1 code units (HTTP/2 field values are octets).
 */
import { HuffmanError, huffmanDecode, huffmanEncodeInto, huffmanLength } from "./huffman.ts";

/** A malformed header block (maps to COMPRESSION_ERROR at the connection level). */
export class HpackError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "HpackError";
  }
}

/** RFC 7541 Appendix A static table (index 1..61). */
export const STATIC_TABLE: ReadonlyArray<readonly [string, string]> = [
  [":authority", ""], [":method", "GET"], [":method", "POST"], [":path", "/"], [":path", "/index.html"],
  [":scheme", "http"], [":scheme", "https"], [":status", "200"], [":status", "204"], [":status", "206"],
  [":status", "304"], [":status", "400"], [":status", "404"], [":status", "500"], ["accept-charset", ""],
  ["accept-encoding", "gzip, deflate"], ["accept-language", ""], ["accept-ranges", ""], ["accept", ""],
  ["access-control-allow-origin", ""], ["age", ""], ["allow", ""], ["authorization", ""],
  ["cache-control", ""], ["content-disposition", ""], ["content-encoding", ""], ["content-language", ""],
  ["content-length", ""], ["content-location", ""], ["content-range", ""], ["content-type", ""],
  ["cookie", ""], ["date", ""], ["etag", ""], ["expect", ""], ["expires", ""], ["from", ""], ["host", ""],
  ["if-match", ""], ["if-modified-since", ""], ["if-none-match", ""], ["if-range", ""],
  ["if-unmodified-since", ""], ["last-modified", ""], ["link", ""], ["location", ""], ["max-forwards", ""],
  ["proxy-authenticate", ""], ["proxy-authorization", ""], ["range", ""], ["referer", ""], ["refresh", ""],
  ["retry-after", ""], ["server", ""], ["set-cookie", ""], ["strict-transport-security", ""],
  ["transfer-encoding", ""], ["user-agent", ""], ["vary", ""], ["via", ""], ["www-authenticate", ""],
];
const STATIC_LEN = STATIC_TABLE.length;
const staticNameIndex = new Map<string, number>();
const staticPairIndex = new Map<string, number>();
STATIC_TABLE.forEach(([n, v], i) => {
  if (!staticNameIndex.has(n)) staticNameIndex.set(n, i + 1);
  staticPairIndex.set(n + "\0" + v, i + 1);
});

const latin1 = new TextDecoder("latin1");

/** Dynamic table: ring of entries, newest at the front (index 62). */
class DynamicTable {
  names: string[] = [];
  values: string[] = [];
  size = 0;
  maxSize: number;
  /** Bumped on every insertion/eviction (decoder memo invalidation). */
  version = 0;
  constructor(max: number) {
    this.maxSize = max;
  }
  get length(): number {
    return this.names.length;
  }
  add(name: string, value: string): void {
    const sz = name.length + value.length + 32;
    this.version++;
    if (sz > this.maxSize) {
      this.names.length = 0;
      this.values.length = 0;
      this.size = 0;
      return;
    }
    while (this.size + sz > this.maxSize) this.evict();
    this.names.unshift(name);
    this.values.unshift(value);
    this.size += sz;
  }
  evict(): void {
    const n = this.names.pop() ?? "";
    const v = this.values.pop() ?? "";
    this.size -= n.length + v.length + 32;
    this.version++;
  }
  setMax(max: number): void {
    this.maxSize = max;
    while (this.size > max) this.evict();
    this.version++;
  }
}

/** Decoder: one per connection direction. */
export class HpackDecoder {
  private table: DynamicTable;
  /** SETTINGS_HEADER_TABLE_SIZE we advertised: the upper bound for size updates. */
  private limit: number;
  private memoBlock: Uint8Array | undefined;
  private memoVersion = -1;
  private memoResult: string[] = [];
  private memoSize = 0;

  constructor(maxTableSize = 4096) {
    this.table = new DynamicTable(maxTableSize);
    this.limit = maxTableSize;
  }

  /** Current dynamic table size in octets (for tests). */
  get tableSize(): number {
    return this.table.size;
  }

  /** Decodes a complete header block. `maxListSize` bounds the decoded size (name+value+32 per
   *  field); over it → HpackError with `tooLarge` true (the block is still fully consumed so the
   *  table stays in sync). Returns a fresh array the caller may keep. */
  decode(block: Uint8Array, maxListSize = Infinity): string[] {
    // Memo: an identical small block while the table is unchanged decodes identically, provided
    // the block does not itself change the table (then version would differ afterwards).
    if (this.memoBlock !== undefined && this.memoVersion === this.table.version && block.length === this.memoBlock.length && equalBytes(block, this.memoBlock)) {
      if (this.memoSize > maxListSize) throw new HeaderListTooLarge();
      return this.memoResult.slice();
    }
    const before = this.table.version;
    const out: string[] = [];
    let listSize = 0;
    let p = 0;
    const end = block.length;
    let allowSizeUpdate = true;
    while (p < end) {
      const b = block[p] ?? 0;
      if (b & 0x80) {
        const [idx, np] = readInt(block, p, 7);
        p = np;
        if (idx === 0) throw new HpackError("index 0");
        const [n, v] = this.entry(idx);
        out.push(n, v);
        listSize += n.length + v.length + 32;
        allowSizeUpdate = false;
      } else if ((b & 0xe0) === 0x20) {
        if (!allowSizeUpdate) throw new HpackError("dynamic table size update not at the start of the block");
        const [sz, np] = readInt(block, p, 5);
        p = np;
        if (sz > this.limit) throw new HpackError(`dynamic table size update ${sz} above the limit ${this.limit}`);
        this.table.setMax(sz);
      } else {
        allowSizeUpdate = false;
        const incremental = (b & 0xc0) === 0x40;
        const prefix = incremental ? 6 : 4;
        const [idx, np] = readInt(block, p, prefix);
        p = np;
        let name: string;
        if (idx === 0) {
          const [s, np2] = readString(block, p);
          name = s;
          p = np2;
        } else {
          name = this.entry(idx)[0];
        }
        const [value, np3] = readString(block, p);
        p = np3;
        out.push(name, value);
        listSize += name.length + value.length + 32;
        if (incremental) this.table.add(name, value);
      }
    }
    if (this.table.version === before && block.length <= 256) {
      this.memoBlock = Uint8Array.prototype.slice.call(block);
      this.memoVersion = before;
      this.memoResult = out.slice();
      this.memoSize = listSize;
    }
    if (listSize > maxListSize) throw new HeaderListTooLarge();
    return out;
  }

  /** Sets the limit we advertise (SETTINGS_HEADER_TABLE_SIZE). */
  setLimit(n: number): void {
    this.limit = n;
  }

  private entry(idx: number): readonly [string, string] {
    if (idx <= STATIC_LEN) {
      const e = STATIC_TABLE[idx - 1];
      if (e === undefined) throw new HpackError(`bad index ${idx}`);
      return e;
    }
    const d = idx - STATIC_LEN - 1;
    const n = this.table.names[d];
    const v = this.table.values[d];
    if (n === undefined || v === undefined) throw new HpackError(`bad index ${idx}`);
    return [n, v];
  }
}

/** The header list exceeds the decoder's limit (the block was consumed, table in sync). */
export class HeaderListTooLarge extends HpackError {
  constructor() {
    super("header list larger than the limit");
    this.name = "HeaderListTooLarge";
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Reads an N-bit prefix integer at `p`. Returns [value, next]. */
export function readInt(buf: Uint8Array, p: number, prefix: number): [number, number] {
  const mask = (1 << prefix) - 1;
  if (p >= buf.length) throw new HpackError("truncated integer");
  let v = (buf[p] ?? 0) & mask;
  p++;
  if (v < mask) return [v, p];
  let m = 0;
  while (true) {
    if (p >= buf.length) throw new HpackError("truncated integer");
    const b = buf[p++] ?? 0;
    v += (b & 0x7f) * 2 ** m;
    m += 7;
    if (v > 0x7fffffff) throw new HpackError("integer overflow");
    if ((b & 0x80) === 0) return [v, p];
    if (m > 28) throw new HpackError("integer overflow");
  }
}

function readString(buf: Uint8Array, p: number): [string, number] {
  if (p >= buf.length) throw new HpackError("truncated string");
  const huff = ((buf[p] ?? 0) & 0x80) !== 0;
  const [len, np] = readInt(buf, p, 7);
  const end = np + len;
  if (end > buf.length) throw new HpackError("truncated string");
  if (huff) {
    try {
      return [huffmanDecode(buf, np, end), end];
    } catch (e) {
      if (e instanceof HuffmanError) throw new HpackError(e.message);
      throw e;
    }
  }
  return [latin1.decode(buf.subarray(np, end)), end];
}

/** Names never indexed by the encoder (sensitive or too variable). */
const NEVER_INDEX = new Set(["authorization", "cookie", "set-cookie", "proxy-authorization"]);
const NO_INDEX = new Set([":path", "content-length", "date", "etag", "last-modified", "if-none-match", "location"]);

/** Encoder: one per connection direction. Indexes repeated fields in the dynamic table
 *  (so steady-state blocks are a few bytes), Huffman-codes literals when shorter. */
export class HpackEncoder {
  private table: DynamicTable;
  /** name\0value → insertion counter; index = (inserted - counter) + 62. */
  private pairIndex = new Map<string, number>();
  private nameIdx = new Map<string, number>();
  private inserted = 0;
  private pendingSizeUpdate = -1;
  private buf = new Uint8Array(4096);
  private huffman: boolean;

  constructor(opts: { maxTableSize?: number; huffman?: boolean } = {}) {
    this.table = new DynamicTable(opts.maxTableSize ?? 4096);
    this.huffman = opts.huffman ?? true;
  }

  /** The peer's SETTINGS_HEADER_TABLE_SIZE: we use min(4096, it) and signal the change. */
  setPeerLimit(n: number): void {
    const size = Math.min(n, 4096);
    if (size === this.table.maxSize && this.pendingSizeUpdate < 0) return;
    this.pendingSizeUpdate = this.pendingSizeUpdate < 0 ? size : Math.min(this.pendingSizeUpdate, size);
    this.table.setMax(size);
    this.pruneMaps();
  }

  /** Encodes a header list into a fresh Buffer. */
  encode(headers: readonly string[]): Buffer {
    let o = 0;
    this.ensure(64);
    if (this.pendingSizeUpdate >= 0) {
      o = writeInt(this.buf, o, 5, 0x20, this.pendingSizeUpdate);
      if (this.pendingSizeUpdate !== this.table.maxSize) o = writeInt(this.buf, o, 5, 0x20, this.table.maxSize);
      this.pendingSizeUpdate = -1;
    }
    for (let i = 0; i + 1 < headers.length; i += 2) {
      const name = headers[i] ?? "";
      const value = headers[i + 1] ?? "";
      this.ensure(o + 16 + 2 * (name.length + value.length));
      const key = name + "\0" + value;
      const st = staticPairIndex.get(key);
      if (st !== undefined) {
        o = writeInt(this.buf, o, 7, 0x80, st);
        continue;
      }
      const dyn = this.pairIndex.get(key);
      if (dyn !== undefined) {
        const idx = this.inserted - dyn + STATIC_LEN + 1;
        if (idx - STATIC_LEN <= this.table.length) {
          o = writeInt(this.buf, o, 7, 0x80, idx);
          continue;
        }
        this.pairIndex.delete(key);
      }
      let nameIndex = staticNameIndex.get(name) ?? 0;
      if (nameIndex === 0) {
        const dn = this.nameIdx.get(name);
        if (dn !== undefined) {
          const idx = this.inserted - dn + STATIC_LEN + 1;
          if (idx - STATIC_LEN <= this.table.length) nameIndex = idx;
        }
      }
      const sensitive = NEVER_INDEX.has(name);
      const index = !sensitive && !NO_INDEX.has(name) && name.length + value.length + 32 <= this.table.maxSize / 2;
      if (index) o = writeInt(this.buf, o, 6, 0x40, nameIndex);
      else o = writeInt(this.buf, o, 4, sensitive ? 0x10 : 0x00, nameIndex);
      if (nameIndex === 0) o = this.writeString(o, name);
      o = this.writeString(o, value);
      if (index) {
        const evictBefore = this.table.length;
        this.table.add(name, value);
        this.inserted++;
        this.pairIndex.set(key, this.inserted);
        this.nameIdx.set(name, this.inserted);
        if (this.table.length <= evictBefore) this.pruneMaps();
      }
    }
    return Buffer.from(this.buf.subarray(0, o));
  }

  private pruneMaps(): void {
    const len = this.table.length;
    for (const [k, v] of this.pairIndex) if (this.inserted - v >= len) this.pairIndex.delete(k);
    for (const [k, v] of this.nameIdx) if (this.inserted - v >= len) this.nameIdx.delete(k);
  }

  private ensure(n: number): void {
    if (this.buf.length < n) {
      const nb = new Uint8Array(Math.max(n, this.buf.length * 2));
      nb.set(this.buf);
      this.buf = nb;
    }
  }

  private writeString(o: number, s: string): number {
    if (this.huffman) {
      const hl = huffmanLength(s);
      if (hl < s.length) {
        o = writeInt(this.buf, o, 7, 0x80, hl);
        return huffmanEncodeInto(s, this.buf, o);
      }
    }
    o = writeInt(this.buf, o, 7, 0, s.length);
    for (let i = 0; i < s.length; i++) this.buf[o++] = s.charCodeAt(i) & 0xff;
    return o;
  }
}

/** Writes an N-bit prefix integer with the high `flags` bits; returns the new offset. */
export function writeInt(buf: Uint8Array, o: number, prefix: number, flags: number, v: number): number {
  const mask = (1 << prefix) - 1;
  if (v < mask) {
    buf[o++] = flags | v;
    return o;
  }
  buf[o++] = flags | mask;
  v -= mask;
  while (v >= 128) {
    buf[o++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  buf[o++] = v;
  return o;
}
