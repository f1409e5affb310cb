/**
 * Snapshot files: the MVCC state at one revision.
 *
 *   "TUGSNAP1" | u32 format version (1) | state (codec.ts writeState) | u32 CRC-32C of all bytes before
 *
 * Named `snap-<revision, 16 digits>.snap`. Written to `<name>.tmp`, fsynced, renamed into place
 * and the directory fsynced, so a named snapshot is always complete; a bad one is corruption.
 */
import { Buffer } from "node:buffer";
import { open, rename, unlink } from "node:fs/promises";
import { join } from "node:path";
import type { MvccState } from "../mvcc/mvcc.ts";
import { StoreError } from "../types.ts";
import { crc32c } from "./crc32c.ts";
import { DecodeError, Reader, Writer, readState, writeState } from "./codec.ts";
import { fsyncDir } from "./fsutil.ts";

const MAGIC = new TextEncoder().encode("TUGSNAP1");
const VERSION = 1;

export function snapshotName(revision: number): string {
  return `snap-${String(revision).padStart(16, "0")}.snap`;
}

export function parseSnapshotName(name: string): number | undefined {
  const m = /^snap-(\d{16})\.snap$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/**
 * Encodes a snapshot file as a sequence of chunks of about `chunk` bytes. Each yielded view is
 * only valid until the generator resumes (write it out first).
 */
export function* snapshotChunks(state: MvccState, chunk = 1 << 20): Generator<Uint8Array> {
  const w = new Writer(chunk + (64 << 10));
  let crc = 0;
  w.raw(MAGIC);
  w.u32(VERSION);
  for (const _ of writeState(w, state, chunk)) {
    const v = w.view();
    crc = crc32c(v, crc);
    yield v;
    w.reset();
  }
  crc = crc32c(w.view(), crc);
  w.u32(crc);
  yield w.view();
}

/** Encodes a whole snapshot file in memory. */
export function encodeSnapshot(state: MvccState): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const c of snapshotChunks(state)) parts.push(c.slice());
  return Buffer.concat(parts);
}

/**
 * Decodes a snapshot file's bytes. @throws StoreError("Corrupt") naming `file` and the offset.
 */
export function decodeSnapshot(buf: Uint8Array, file: string): MvccState {
  const corrupt = (msg: string, off: number): StoreError => new StoreError("Corrupt", `snapshot ${file}: ${msg} at offset ${off}`);
  if (buf.length < MAGIC.length + 8) throw corrupt(`file too short (${buf.length} bytes)`, 0);
  for (let i = 0; i < MAGIC.length; i++) if (buf[i] !== MAGIC[i]) throw corrupt("bad magic", 0);
  const end = buf.length - 4;
  const want = new Reader(buf, end).u32();
  if (crc32c(buf, 0, 0, end) !== want) throw corrupt("checksum mismatch", end);
  const r = new Reader(buf, MAGIC.length, end);
  const version = r.u32();
  if (version !== VERSION) throw corrupt(`unsupported format version ${version}`, MAGIC.length);
  try {
    const state = readState(r);
    if (!r.done) throw new DecodeError("trailing bytes", r.pos);
    return state;
  } catch (err) {
    if (err instanceof DecodeError) throw corrupt(err.message, err.offset);
    throw err;
  }
}

/**
 * Writes the snapshot of `state` into `dir` atomically and durably, encoding it piece by piece
 * between writes so the event loop is never blocked for long. `state` must not change meanwhile
 * (an `MvccEngine.exportState` result never does). Returns the file name.
 */
export async function writeSnapshotFile(dir: string, state: MvccState, fsync: boolean): Promise<string> {
  const name = snapshotName(state.revision);
  const tmp = join(dir, `${name}.tmp`);
  const fh = await open(tmp, "w");
  try {
    let pos = 0;
    for (const bytes of snapshotChunks(state)) {
      let off = 0;
      while (off < bytes.length) {
        const { bytesWritten } = await fh.write(bytes, off, bytes.length - off, pos);
        off += bytesWritten;
        pos += bytesWritten;
      }
    }
    if (fsync) await fh.sync();
  } catch (err) {
    await fh.close();
    await unlink(tmp).catch(() => {});
    throw err;
  }
  await fh.close();
  await rename(tmp, join(dir, name));
  if (fsync) await fsyncDir(dir);
  return name;
}
