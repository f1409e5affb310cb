/**
 * Protobuf base-128 varints for non-negative integers up to 2^53 (lengths, field sizes), shared
 * by the hand-written encoders (watch frames, stamped envelopes, list bodies).
 */

/** Bytes the varint of `n` takes. */
export function varintLength(n: number): number {
  if (n < 0x80) return 1;
  if (n < 0x4000) return 2;
  if (n < 0x200000) return 3;
  if (n < 0x10000000) return 4;
  let len = 5;
  for (let v = Math.floor(n / 0x800000000); v > 0; v = Math.floor(v / 128)) len++;
  return len;
}

/** Writes the varint of `n` at `at`; returns the index after it. */
export function putVarint(out: Uint8Array, at: number, n: number): number {
  while (n >= 0x80) {
    out[at++] = (n < 0x80000000 ? n & 127 : n % 128) | 128;
    n = n < 0x80000000 ? n >>> 7 : Math.floor(n / 128);
  }
  out[at++] = n;
  return at;
}
