/**
 * Binary encodings of the embedded backend: a growable writer and a bounds-checked reader with
 * LEB128 varints (up to 2^53), and the payloads of WAL records and snapshots. Pure functions;
 * every decode error throws `DecodeError`, which callers turn into StoreError("Corrupt") naming
 * the file and offset.
 */
import { Buffer } from "node:buffer";
import type { KeyValue } from "../types.ts";
import type { Change, MvccState, RevisionChanges } from "../mvcc/mvcc.ts";

export class DecodeError extends Error {
  constructor(message: string, readonly offset: number) {
    super(message);
    this.name = "DecodeError";
  }
}

const utf8 = new TextEncoder();
const utf8d = new TextDecoder("utf-8", { fatal: true });

export class Writer {
  private buf: Uint8Array;
  private pos = 0;
  constructor(initial = 256) {
    this.buf = new Uint8Array(initial);
  }
  get length(): number {
    return this.pos;
  }
  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }
  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }
  u32(v: number): void {
    this.ensure(4);
    const b = this.buf;
    b[this.pos++] = v & 0xff;
    b[this.pos++] = (v >>> 8) & 0xff;
    b[this.pos++] = (v >>> 16) & 0xff;
    b[this.pos++] = (v >>> 24) & 0xff;
  }
  /** Unsigned LEB128 of a safe integer >= 0. */
  varint(v: number): void {
    this.ensure(8);
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.pos++] = v;
  }
  bytes(v: Uint8Array): void {
    this.varint(v.length);
    this.raw(v);
  }
  raw(v: Uint8Array): void {
    this.ensure(v.length);
    this.buf.set(v, this.pos);
    this.pos += v.length;
  }
  string(s: string): void {
    this.bytes(utf8.encode(s));
  }
  /** Overwrites 4 bytes at `at` (little-endian). */
  patchU32(at: number, v: number): void {
    const b = this.buf;
    b[at] = v & 0xff;
    b[at + 1] = (v >>> 8) & 0xff;
    b[at + 2] = (v >>> 16) & 0xff;
    b[at + 3] = (v >>> 24) & 0xff;
  }
  /** The bytes written so far (a view; copy before writing more if kept). */
  view(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
  reset(): void {
    this.pos = 0;
  }
}

export class Reader {
  pos: number;
  readonly buf: Uint8Array;
  constructor(buf: Uint8Array, start = 0, readonly end: number = buf.length) {
    // A Buffer's slice() is a view; values must be plain, independent Uint8Array copies.
    this.buf = Buffer.isBuffer(buf) ? new Uint8Array(buf.buffer, buf.byteOffset, buf.length) : buf;
    this.pos = start;
  }
  private need(n: number, what: string): void {
    if (this.pos + n > this.end) throw new DecodeError(`truncated ${what}`, this.pos);
  }
  u8(): number {
    this.need(1, "byte");
    return this.buf[this.pos++] as number;
  }
  u32(): number {
    this.need(4, "u32");
    const b = this.buf;
    const p = this.pos;
    this.pos += 4;
    return ((b[p] as number) | ((b[p + 1] as number) << 8) | ((b[p + 2] as number) << 16) | ((b[p + 3] as number) << 24)) >>> 0;
  }
  varint(): number {
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      const byte = this.u8();
      v += (byte & 0x7f) * mul;
      if (byte < 0x80) {
        if (!Number.isSafeInteger(v)) break;
        return v;
      }
      mul *= 0x80;
    }
    throw new DecodeError("bad varint", this.pos);
  }
  bytes(): Uint8Array {
    const n = this.varint();
    this.need(n, "bytes");
    const out = this.buf.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  string(): string {
    const n = this.varint();
    this.need(n, "string");
    try {
      const s = utf8d.decode(this.buf.subarray(this.pos, this.pos + n));
      this.pos += n;
      return s;
    } catch {
      throw new DecodeError("invalid UTF-8 in key", this.pos);
    }
  }
  get done(): boolean {
    return this.pos === this.end;
  }
}

// ---- WAL record payloads ----

export const REC_CHANGES = 1;
export const REC_COMPACT = 2;
const OP_PUT = 1;
const OP_DELETE = 2;

export type WalRecord = { readonly type: "changes"; readonly rc: RevisionChanges } | { readonly type: "compact"; readonly revision: number };

/** Appends the payload of a changes record to `w`. */
export function writeChanges(w: Writer, rc: RevisionChanges): void {
  w.u8(REC_CHANGES);
  w.varint(rc.revision);
  w.varint(rc.changes.length);
  for (const ch of rc.changes) {
    w.u8(ch.type === "put" ? OP_PUT : OP_DELETE);
    w.string(ch.key);
    if (ch.type === "put") w.bytes(ch.value);
  }
}

export function writeCompact(w: Writer, revision: number): void {
  w.u8(REC_COMPACT);
  w.varint(revision);
}

/** Decodes one record payload occupying exactly `buf[start, end)`. @throws DecodeError */
export function decodeRecord(buf: Uint8Array, start: number, end: number): WalRecord {
  const r = new Reader(buf, start, end);
  const type = r.u8();
  let rec: WalRecord;
  if (type === REC_CHANGES) {
    const revision = r.varint();
    const n = r.varint();
    if (n === 0 || n > end - start) throw new DecodeError(`bad change count ${n}`, r.pos);
    const changes: Change[] = [];
    for (let i = 0; i < n; i++) {
      const op = r.u8();
      const key = r.string();
      if (op === OP_PUT) changes.push({ type: "put", key, value: r.bytes() });
      else if (op === OP_DELETE) changes.push({ type: "delete", key });
      else throw new DecodeError(`unknown change op ${op}`, r.pos - 1);
    }
    rec = { type: "changes", rc: { revision, changes } };
  } else if (type === REC_COMPACT) {
    rec = { type: "compact", revision: r.varint() };
  } else {
    throw new DecodeError(`unknown record type ${type}`, start);
  }
  if (!r.done) throw new DecodeError("trailing bytes in record", r.pos);
  return rec;
}

// ---- snapshot body ----

/**
 * Appends an MvccState, calling `flush` whenever `w` holds more than `chunk` bytes (the callback
 * takes the bytes and resets the writer), so big states stream out in bounded pieces.
 */
export function* writeState(w: Writer, s: MvccState, chunk = Infinity): Generator<void> {
  w.varint(s.revision);
  w.varint(s.compacted);
  w.varint(s.base.length);
  for (const kv of s.base) {
    w.string(kv.key);
    w.bytes(kv.value);
    w.varint(kv.createRevision);
    w.varint(kv.modRevision);
    w.varint(kv.version);
    if (w.length >= chunk) yield;
  }
  w.varint(s.log.length);
  for (const rc of s.log) {
    writeChanges(w, rc);
    if (w.length >= chunk) yield;
  }
}

/** Reads an MvccState written by `writeState`. @throws DecodeError */
export function readState(r: Reader): MvccState {
  const revision = r.varint();
  const compacted = r.varint();
  const nb = r.varint();
  const base: KeyValue[] = [];
  for (let i = 0; i < nb; i++) {
    const key = r.string();
    const value = r.bytes();
    const createRevision = r.varint();
    const modRevision = r.varint();
    const version = r.varint();
    base.push({ key, value, createRevision, modRevision, version });
  }
  const nl = r.varint();
  const log: RevisionChanges[] = [];
  for (let i = 0; i < nl; i++) {
    // Each entry is a changes payload; find its end by decoding in place.
    const start = r.pos;
    if (r.u8() !== REC_CHANGES) throw new DecodeError("bad log entry in snapshot", start);
    const revision = r.varint();
    const n = r.varint();
    const changes: Change[] = [];
    for (let j = 0; j < n; j++) {
      const op = r.u8();
      const key = r.string();
      if (op === OP_PUT) changes.push({ type: "put", key, value: r.bytes() });
      else if (op === OP_DELETE) changes.push({ type: "delete", key });
      else throw new DecodeError(`unknown change op ${op}`, r.pos - 1);
    }
    log.push({ revision, changes });
  }
  return { revision, compacted, base, log };
}
