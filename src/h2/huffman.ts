/**
 * HPACK Huffman code (RFC 7541 Appendix B). The (code, bit length) list per symbol is the RFC's;
 * the decoder is a 4-bit state machine built at module load from that list.
 */

/** Thrown for invalid Huffman input (EOS in the data, padding longer than 7 bits or not all ones). */
export class HuffmanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "HuffmanError";
  }
}

// Symbol 0..255 and 256 (EOS): codes (right-aligned) and lengths in bits.
const CODES: readonly number[] = [
  0x1ff8, 0x7fffd8, 0xfffffe2, 0xfffffe3, 0xfffffe4, 0xfffffe5, 0xfffffe6, 0xfffffe7,
  0xfffffe8, 0xffffea, 0x3ffffffc, 0xfffffe9, 0xfffffea, 0x3ffffffd, 0xfffffeb, 0xfffffec,
  0xfffffed, 0xfffffee, 0xfffffef, 0xffffff0, 0xffffff1, 0xffffff2, 0x3ffffffe, 0xffffff3,
  0xffffff4, 0xffffff5, 0xffffff6, 0xffffff7, 0xffffff8, 0xffffff9, 0xffffffa, 0xffffffb,
  0x14, 0x3f8, 0x3f9, 0xffa, 0x1ff9, 0x15, 0xf8, 0x7fa, 0x3fa, 0x3fb, 0xf9, 0x7fb, 0xfa, 0x16, 0x17, 0x18,
  0x0, 0x1, 0x2, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x5c, 0xfb, 0x7ffc, 0x20, 0xffb, 0x3fc,
  0x1ffa, 0x21, 0x5d, 0x5e, 0x5f, 0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a,
  0x6b, 0x6c, 0x6d, 0x6e, 0x6f, 0x70, 0x71, 0x72, 0xfc, 0x73, 0xfd, 0x1ffb, 0x7fff0, 0x1ffc, 0x3ffc, 0x22,
  0x7ffd, 0x3, 0x23, 0x4, 0x24, 0x5, 0x25, 0x26, 0x27, 0x6, 0x74, 0x75, 0x28, 0x29, 0x2a, 0x7,
  0x2b, 0x76, 0x2c, 0x8, 0x9, 0x2d, 0x77, 0x78, 0x79, 0x7a, 0x7b, 0x7ffe, 0x7fc, 0x3ffd, 0x1ffd, 0xffffffc,
  0xfffe6, 0x3fffd2, 0xfffe7, 0xfffe8, 0x3fffd3, 0x3fffd4, 0x3fffd5, 0x7fffd9,
  0x3fffd6, 0x7fffda, 0x7fffdb, 0x7fffdc, 0x7fffdd, 0x7fffde, 0xffffeb, 0x7fffdf,
  0xffffec, 0xffffed, 0x3fffd7, 0x7fffe0, 0xffffee, 0x7fffe1, 0x7fffe2, 0x7fffe3,
  0x7fffe4, 0x1fffdc, 0x3fffd8, 0x7fffe5, 0x3fffd9, 0x7fffe6, 0x7fffe7, 0xffffef,
  0x3fffda, 0x1fffdd, 0xfffe9, 0x3fffdb, 0x3fffdc, 0x7fffe8, 0x7fffe9, 0x1fffde,
  0x7fffea, 0x3fffdd, 0x3fffde, 0xfffff0, 0x1fffdf, 0x3fffdf, 0x7fffeb, 0x7fffec,
  0x1fffe0, 0x1fffe1, 0x3fffe0, 0x1fffe2, 0x7fffed, 0x3fffe1, 0x7fffee, 0x7fffef,
  0xfffea, 0x3fffe2, 0x3fffe3, 0x3fffe4, 0x7ffff0, 0x3fffe5, 0x3fffe6, 0x7ffff1,
  0x3ffffe0, 0x3ffffe1, 0xfffeb, 0x7fff1, 0x3fffe7, 0x7ffff2, 0x3fffe8, 0x1ffffec,
  0x3ffffe2, 0x3ffffe3, 0x3ffffe4, 0x7ffffde, 0x7ffffdf, 0x3ffffe5, 0xfffff1, 0x1ffffed,
  0x7fff2, 0x1fffe3, 0x3ffffe6, 0x7ffffe0, 0x7ffffe1, 0x3ffffe7, 0x7ffffe2, 0xfffff2,
  0x1fffe4, 0x1fffe5, 0x3ffffe8, 0x3ffffe9, 0xffffffd, 0x7ffffe3, 0x7ffffe4, 0x7ffffe5,
  0xfffec, 0xfffff3, 0xfffed, 0x1fffe6, 0x3fffe9, 0x1fffe7, 0x1fffe8, 0x7ffff3,
  0x3fffea, 0x3fffeb, 0x1ffffee, 0x1ffffef, 0xfffff4, 0xfffff5, 0x3ffffea, 0x7ffff4,
  0x3ffffeb, 0x7ffffe6, 0x3ffffec, 0x3ffffed, 0x7ffffe7, 0x7ffffe8, 0x7ffffe9, 0x7ffffea,
  0x7ffffeb, 0xffffffe, 0x7ffffec, 0x7ffffed, 0x7ffffee, 0x7ffffef, 0x7fffff0, 0x3ffffee,
  0x3fffffff,
];
const LENGTHS: readonly number[] = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,
  28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,
  5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
  7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,
  6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,
  24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,
  21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
  19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,
  26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
  30,
];

/** Exposed for tests. */
export const HUFFMAN_CODES = CODES;
export const HUFFMAN_LENGTHS = LENGTHS;

// Decoder: binary tree flattened, then a 4-bit (nibble) state table.
// Tree nodes: child[node*2 + bit]; value >= 0 → -(sym+1) marker for leaves.
const treeChild: number[] = [0, 0];
let treeNodes = 1;
const leafSym: number[] = [-1];
for (let sym = 0; sym <= 256; sym++) {
  const code = CODES[sym] ?? 0;
  const len = LENGTHS[sym] ?? 0;
  let node = 0;
  for (let i = len - 1; i >= 0; i--) {
    const bit = Math.floor(code / 2 ** i) & 1;
    let next = treeChild[node * 2 + bit] ?? 0;
    if (next === 0) {
      next = treeNodes++;
      treeChild.push(0, 0);
      leafSym.push(-1);
      treeChild[node * 2 + bit] = next;
    }
    node = next;
  }
  leafSym[node] = sym;
}

// Nibble state machine over internal nodes. For each internal node and nibble: next internal
// node, up to one emitted symbol (a nibble can complete at most one code since the shortest is 5
// bits... codes of 5 bits can complete at most once per 4 bits), flags.
// Entry packing: next(16) | sym(9)<<16 | emit(1)<<25 | fail(1)<<26 | accept(1)<<27
// accept = after this nibble we are at a node reachable only via all-ones from the root with depth <= 7
// (valid padding end state).
const internalIndex = new Int32Array(treeNodes).fill(-1);
const internalList: number[] = [];
for (let n = 0; n < treeNodes; n++) {
  if (leafSym[n] === -1) {
    internalIndex[n] = internalList.length;
    internalList.push(n);
  }
}
// depth and "all ones" path for padding check
const onesDepth = new Int32Array(treeNodes).fill(-1);
{
  let n = 0;
  let d = 0;
  onesDepth[0] = 0;
  while (true) {
    const next = treeChild[n * 2 + 1] ?? 0;
    if (next === 0 || leafSym[next] !== -1) break;
    d++;
    onesDepth[next] = d;
    n = next;
  }
}
const STATE = new Uint32Array(internalList.length * 16);
const FLAG_EMIT = 1 << 25;
const FLAG_FAIL = 1 << 26;
const FLAG_ACCEPT = 1 << 27;
for (let s = 0; s < internalList.length; s++) {
  const start = internalList[s] ?? 0;
  for (let nib = 0; nib < 16; nib++) {
    let node = start;
    let sym = -1;
    let fail = false;
    for (let i = 3; i >= 0; i--) {
      const bit = (nib >> i) & 1;
      node = treeChild[node * 2 + bit] ?? 0;
      const leaf = leafSym[node] ?? -1;
      if (leaf !== -1) {
        if (leaf === 256 || sym !== -1) {
          fail = true;
          break;
        }
        sym = leaf;
        node = 0;
      }
    }
    let entry = (internalIndex[node] ?? 0) & 0xffff;
    if (fail) entry = FLAG_FAIL;
    else {
      if (sym !== -1) entry |= FLAG_EMIT | (sym << 16);
      const od = onesDepth[node] ?? -1;
      if (od >= 0 && od <= 7) entry |= FLAG_ACCEPT;
    }
    STATE[s * 16 + nib] = entry >>> 0;
  }
}

const latin1 = new TextDecoder("latin1");
let scratch = new Uint8Array(256);

/** Decodes `src[start, end)` to a string (bytes as latin1 code units, the header octets). */
export function huffmanDecode(src: Uint8Array, start: number, end: number): string {
  if (scratch.length < (end - start) * 2) scratch = new Uint8Array((end - start) * 2 + 64);
  const out = scratch;
  let o = 0;
  let state = 0;
  let accept = true;
  for (let i = start; i < end; i++) {
    const b = src[i] ?? 0;
    let e = STATE[state * 16 + (b >> 4)] ?? FLAG_FAIL;
    if (e & FLAG_FAIL) throw new HuffmanError("invalid Huffman code (EOS or bad symbol)");
    if (e & FLAG_EMIT) out[o++] = (e >> 16) & 0xff;
    state = e & 0xffff;
    e = STATE[state * 16 + (b & 15)] ?? FLAG_FAIL;
    if (e & FLAG_FAIL) throw new HuffmanError("invalid Huffman code (EOS or bad symbol)");
    if (e & FLAG_EMIT) out[o++] = (e >> 16) & 0xff;
    state = e & 0xffff;
    accept = (e & FLAG_ACCEPT) !== 0;
  }
  if (!accept) throw new HuffmanError("invalid Huffman padding");
  return latin1.decode(out.subarray(0, o));
}

/** Encoded length in bytes of `s` (latin1 code units). */
export function huffmanLength(s: string): number {
  let bits = 0;
  for (let i = 0; i < s.length; i++) bits += LENGTHS[s.charCodeAt(i) & 0xff] ?? 0;
  return (bits + 7) >> 3;
}

/** Writes the Huffman encoding of `s` into `dst` at `off`; returns the new offset. */
export function huffmanEncodeInto(s: string, dst: Uint8Array, off: number): number {
  let acc = 0; // pending bits (at most 7 + 30 → use float-safe arithmetic by flushing)
  let nbits = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) & 0xff;
    const code = CODES[c] ?? 0;
    let len = LENGTHS[c] ?? 0;
    // feed in chunks of at most 16 bits to keep acc < 2^31
    while (len > 0) {
      const take = len > 16 ? len - 16 : len;
      const part = Math.floor(code / 2 ** (len - take)) & ((1 << take) - 1);
      acc = (acc << take) | part;
      nbits += take;
      len -= take;
      while (nbits >= 8) {
        nbits -= 8;
        dst[off++] = (acc >>> nbits) & 0xff;
      }
      acc &= (1 << nbits) - 1;
    }
  }
  if (nbits > 0) dst[off++] = ((acc << (8 - nbits)) | ((1 << (8 - nbits)) - 1)) & 0xff;
  return off;
}
