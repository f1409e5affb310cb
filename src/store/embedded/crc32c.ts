/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of iSCSI, ext4 and etcd's
 * WAL. Table-driven, slicing-by-8: eight bytes per step.
 */

const POLY = 0x82f63b78;
const T = new Int32Array(8 * 256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
  T[n] = c;
}
for (let n = 0; n < 256; n++) {
  let c = T[n] as number;
  for (let t = 1; t < 8; t++) {
    c = (T[c & 0xff] as number) ^ (c >>> 8);
    T[t * 256 + n] = c;
  }
}

/**
 * CRC-32C of `buf[start, end)`, continuing from `crc` (0 for a fresh checksum; pass a previous
 * result to checksum data in pieces). Returns an unsigned 32-bit integer.
 */
export function crc32c(buf: Uint8Array, crc = 0, start = 0, end: number = buf.length): number {
  let c = ~crc;
  let i = start;
  const t = T;
  for (; i + 8 <= end; i += 8) {
    const lo = c ^ ((buf[i] as number) | ((buf[i + 1] as number) << 8) | ((buf[i + 2] as number) << 16) | ((buf[i + 3] as number) << 24));
    c =
      (t[7 * 256 + (lo & 0xff)] as number) ^
      (t[6 * 256 + ((lo >>> 8) & 0xff)] as number) ^
      (t[5 * 256 + ((lo >>> 16) & 0xff)] as number) ^
      (t[4 * 256 + (lo >>> 24)] as number) ^
      (t[3 * 256 + (buf[i + 4] as number)] as number) ^
      (t[2 * 256 + (buf[i + 5] as number)] as number) ^
      (t[256 + (buf[i + 6] as number)] as number) ^
      (t[buf[i + 7] as number] as number);
  }
  for (; i < end; i++) c = (t[(c ^ (buf[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return ~c >>> 0;
}
