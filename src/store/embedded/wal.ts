/**
 * The write-ahead log format (pure: bytes in, records out).
 *
 * A WAL is a sequence of segment files `wal-<seq, 16 digits>.log`. Each starts with a 24-byte
 * header and holds framed records:
 *
 *   header: "TUGWAL01" | u32 format version (1) | u32 baseRevision low | u32 high | u32 CRC-32C of the 20 bytes before
 *   frame:  u32 payload length | u32 CRC-32C of payload | payload (see codec.ts)
 *
 * All integers little-endian. `baseRevision` is the store revision before the segment's first
 * record. A segment may end with zeros (space preallocated by the writer): zeros from a record
 * boundary to the end of the file are not damage. `scanSegment` classifies damage: an incomplete or bad record after which no valid
 * record follows is a torn tail (a write that was never acknowledged); a bad record followed by
 * a valid one is corruption.
 */
import { crc32c } from "./crc32c.ts";
import { DecodeError, type WalRecord, decodeRecord } from "./codec.ts";

export const SEGMENT_MAGIC = new TextEncoder().encode("TUGWAL01");
export const SEGMENT_VERSION = 1;
export const HEADER_SIZE = 24;
export const FRAME_HEADER = 8;
/** Records larger than this are treated as damage (a sane bound for a length field). */
export const MAX_RECORD = 512 * 1024 * 1024;

export function segmentName(seq: number): string {
  return `wal-${String(seq).padStart(16, "0")}.log`;
}

/** The sequence number of a segment file name, or undefined for other names. */
export function parseSegmentName(name: string): number | undefined {
  const m = /^wal-(\d{16})\.log$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

export function encodeHeader(baseRevision: number): Uint8Array {
  const h = new Uint8Array(HEADER_SIZE);
  const dv = new DataView(h.buffer);
  h.set(SEGMENT_MAGIC, 0);
  dv.setUint32(8, SEGMENT_VERSION, true);
  dv.setUint32(12, baseRevision % 0x100000000, true);
  dv.setUint32(16, Math.floor(baseRevision / 0x100000000), true);
  dv.setUint32(20, crc32c(h, 0, 0, 20), true);
  return h;
}

/** The base revision of a valid header, or a reason it is not one. */
export function decodeHeader(buf: Uint8Array): { baseRevision: number } | { error: string } {
  if (buf.length < HEADER_SIZE) return { error: `header truncated (${buf.length} bytes)` };
  for (let i = 0; i < SEGMENT_MAGIC.length; i++) if (buf[i] !== SEGMENT_MAGIC[i]) return { error: "bad magic" };
  const dv = new DataView(buf.buffer, buf.byteOffset, HEADER_SIZE);
  if (dv.getUint32(20, true) !== crc32c(buf, 0, 0, 20)) return { error: "header checksum mismatch" };
  const version = dv.getUint32(8, true);
  if (version !== SEGMENT_VERSION) return { error: `unsupported format version ${version}` };
  return { baseRevision: dv.getUint32(12, true) + dv.getUint32(16, true) * 0x100000000 };
}

/** Frames a payload: returns length + CRC header followed by the payload. */
export function frame(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER + payload.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, payload.length, true);
  dv.setUint32(4, crc32c(payload), true);
  out.set(payload, FRAME_HEADER);
  return out;
}

export interface ScannedRecord {
  readonly offset: number;
  readonly record: WalRecord;
}

export interface SegmentScan {
  readonly records: ScannedRecord[];
  /** Offset just past the last valid record (where a torn tail starts). */
  readonly validEnd: number;
  /** Set when bytes after `validEnd` do not form a valid record. */
  readonly damage?: {
    readonly offset: number;
    readonly reason: string;
    /** Offset of a valid record found after the damage: proof of mid-log corruption. */
    readonly validAfter?: number;
  };
}

/** Tries to read one frame at `off`; returns the record and its end, or a reason. */
function readFrame(buf: Uint8Array, off: number): { record: WalRecord; end: number } | { reason: string } {
  if (off + FRAME_HEADER > buf.length) return { reason: "incomplete record header" };
  const dv = new DataView(buf.buffer, buf.byteOffset + off, FRAME_HEADER);
  const len = dv.getUint32(0, true);
  const crc = dv.getUint32(4, true);
  if (len === 0 || len > MAX_RECORD) return { reason: `bad record length ${len}` };
  const end = off + FRAME_HEADER + len;
  if (end > buf.length) return { reason: `incomplete record (length ${len}, ${buf.length - off - FRAME_HEADER} bytes present)` };
  if (crc32c(buf, 0, off + FRAME_HEADER, end) !== crc) return { reason: "checksum mismatch" };
  try {
    return { record: decodeRecord(buf, off + FRAME_HEADER, end), end };
  } catch (err) {
    return { reason: `undecodable record: ${err instanceof DecodeError ? err.message : String(err)}` };
  }
}

/**
 * Reads every record of a segment body (`buf` is the whole file, header included and already
 * checked). On damage, searches the rest of the file for any valid record whose revision is
 * above `lastRevision` of the valid prefix; finding one means the damage is not a torn tail.
 */
export function scanSegment(buf: Uint8Array): SegmentScan {
  const records: ScannedRecord[] = [];
  let off = HEADER_SIZE;
  let lastRev = 0;
  while (off < buf.length) {
    const f = readFrame(buf, off);
    if ("reason" in f) {
      // Zeros up to the end are preallocated space that was never written: a clean end.
      if (allZero(buf, off)) return { records, validEnd: off };
      const validAfter = findValidAfter(buf, off + 1, lastRev);
      const damage = validAfter === undefined ? { offset: off, reason: f.reason } : { offset: off, reason: f.reason, validAfter };
      return { records, validEnd: off, damage };
    }
    records.push({ offset: off, record: f.record });
    if (f.record.type === "changes") lastRev = f.record.rc.revision;
    off = f.end;
  }
  return { records, validEnd: off };
}

function allZero(buf: Uint8Array, from: number): boolean {
  for (let i = from; i < buf.length; i++) if (buf[i] !== 0) return false;
  return true;
}

function findValidAfter(buf: Uint8Array, from: number, lastRev: number): number | undefined {
  for (let off = from; off + FRAME_HEADER < buf.length; off++) {
    // Cheap filters before the checksum: plausible length, known record type.
    const len = (buf[off] as number) | ((buf[off + 1] as number) << 8) | ((buf[off + 2] as number) << 16) | ((buf[off + 3] as number) << 24);
    if (len <= 0 || off + FRAME_HEADER + len > buf.length) continue;
    const type = buf[off + FRAME_HEADER];
    if (type !== 1 && type !== 2) continue;
    const f = readFrame(buf, off);
    if ("reason" in f) continue;
    if (f.record.type === "changes" && f.record.rc.revision <= lastRev) continue;
    return off;
  }
  return undefined;
}
