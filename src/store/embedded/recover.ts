/**
 * Recovery of a data directory at open: newest valid snapshot, then WAL replay.
 *
 * Outcomes:
 * - a torn tail in the last segment (an incomplete record, or a bad one with no valid record
 *   after it: a write that was never acknowledged) is truncated, with a notice through `log`;
 * - damage anywhere else (a bad record followed by a valid one, a bad record in an older segment,
 *   a revision gap, a bad segment header with data after it, a bad snapshot with no older valid
 *   one) throws StoreError("Corrupt") naming the file and offset. Acknowledged data is never
 *   dropped silently.
 */
import { open, readFile, readdir, rename, unlink } from "node:fs/promises";
import { join } from "node:path";
import { MvccEngine } from "../mvcc/mvcc.ts";
import { StoreError } from "../types.ts";
import { fsyncDir } from "./fsutil.ts";
import { decodeSnapshot, parseSnapshotName } from "./snapshot.ts";
import { HEADER_SIZE, decodeHeader, parseSegmentName, scanSegment } from "./wal.ts";

export interface SegmentInfo {
  readonly seq: number;
  readonly baseRevision: number;
  readonly name: string;
}

export interface Recovered {
  readonly engine: MvccEngine;
  /** Remaining segments, oldest first. */
  readonly segments: SegmentInfo[];
  /** Snapshot revisions present, oldest first. */
  readonly snapshots: number[];
  /** Sequence number for the next segment. */
  readonly nextSeq: number;
}

const corrupt = (msg: string): StoreError => new StoreError("Corrupt", msg);

const segmentFileName = (seq: number): string => `wal-${String(seq).padStart(16, "0")}.log`;

/** The first HEADER_SIZE bytes of a file (fewer if it is shorter). */
async function readHead(file: string): Promise<Uint8Array> {
  const fh = await open(file, "r");
  try {
    const buf = new Uint8Array(HEADER_SIZE);
    const { bytesRead } = await fh.read(buf, 0, HEADER_SIZE, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

export async function recover(dir: string, log: (msg: string) => void, fsync: boolean): Promise<Recovered> {
  const names = await readdir(dir);
  for (const n of names) {
    if (n.endsWith(".snap.tmp")) {
      // An unfinished snapshot write: never renamed into place, so never relied upon.
      await unlink(join(dir, n));
      log(`store: removed unfinished snapshot ${n}`);
    }
  }

  // Snapshots, newest first; fall back to an older one when the newest is bad.
  const snapRevs = names.map(parseSnapshotName).filter((r): r is number => r !== undefined).sort((a, b) => b - a);
  let engine: MvccEngine | undefined;
  let firstError: StoreError | undefined;
  const bad: string[] = [];
  for (const rev of snapRevs) {
    const file = join(dir, `snap-${String(rev).padStart(16, "0")}.snap`);
    try {
      const state = decodeSnapshot(await readFile(file), file);
      if (state.revision !== rev) throw corrupt(`snapshot ${file}: holds revision ${state.revision}, name says ${rev}`);
      try {
        engine = MvccEngine.fromState(state);
      } catch (err) {
        throw err instanceof StoreError ? corrupt(`snapshot ${file}: ${err.message}`) : err;
      }
      break;
    } catch (err) {
      if (!(err instanceof StoreError)) throw err;
      firstError ??= err;
      bad.push(file);
      log(`store: ${err.message}; trying an older snapshot`);
    }
  }
  if (engine === undefined && firstError !== undefined) {
    throw corrupt(`${firstError.message} (and no older valid snapshot)`);
  }
  // Snapshots still in rotation: the loaded one and older ones (the damaged were all newer).
  const loaded = engine?.revision;
  const usable = loaded === undefined ? [] : snapRevs.filter((r) => r <= loaded);
  engine ??= new MvccEngine();

  const seqs = names.map(parseSegmentName).filter((s): s is number => s !== undefined).sort((a, b) => a - b);
  const segments: SegmentInfo[] = [];
  // Segments wholly covered by the loaded snapshot are not read: segment i holds revisions
  // (base_i, base_i+1], so every segment before the last one whose base <= the snapshot's
  // revision is covered. (They stay on disk for the older snapshot until retention drops them.)
  let firstNeeded = 0;
  if (loaded !== undefined) {
    for (let i = 0; i < seqs.length; i++) {
      const h = decodeHeader(await readHead(join(dir, segmentFileName(seqs[i] as number))));
      if (!("error" in h) && h.baseRevision <= loaded) firstNeeded = i;
    }
  }
  for (let i = 0; i < seqs.length; i++) {
    const seq = seqs[i] as number;
    const name = segmentFileName(seq);
    const file = join(dir, name);
    const isLast = i === seqs.length - 1;
    if (i < firstNeeded) {
      const h = decodeHeader(await readHead(file));
      segments.push({ seq, baseRevision: "error" in h ? 0 : h.baseRevision, name });
      continue;
    }
    const buf = await readFile(file);
    const header = decodeHeader(buf);
    if ("error" in header) {
      // A segment is created with its header fsynced before any record goes in, so a bad header
      // is a torn creation only when it is the last file and holds nothing else.
      const rest = buf.subarray(Math.min(HEADER_SIZE, buf.length));
      if (isLast && (buf.length <= HEADER_SIZE || rest.every((x) => x === 0))) {
        log(`store: removed WAL segment ${file} with an incomplete header (${header.error})`);
        await unlink(file);
        if (fsync) await fsyncDir(dir);
        continue;
      }
      throw corrupt(`WAL segment ${file}: ${header.error} at offset 0`);
    }
    const scan = scanSegment(buf);
    for (const { offset, record } of scan.records) {
      if (record.type === "changes") {
        const rev = record.rc.revision;
        if (rev <= engine.revision) continue; // already in the snapshot
        if (rev !== engine.revision + 1) {
          throw corrupt(`WAL segment ${file}: revision gap at offset ${offset}: expected revision ${engine.revision + 1}, found ${rev}`);
        }
        try {
          engine.apply(record.rc);
        } catch (err) {
          throw err instanceof StoreError ? corrupt(`WAL segment ${file}: ${err.message} at offset ${offset}`) : err;
        }
      } else {
        if (record.revision > engine.revision) {
          throw corrupt(`WAL segment ${file}: compaction at revision ${record.revision} beyond revision ${engine.revision} at offset ${offset}`);
        }
        engine.compact(record.revision);
      }
    }
    if (scan.damage) {
      const d = scan.damage;
      if (d.validAfter !== undefined) {
        throw corrupt(`WAL segment ${file}: bad record at offset ${d.offset} (${d.reason}) followed by a valid record at offset ${d.validAfter}`);
      }
      if (!isLast) {
        throw corrupt(`WAL segment ${file}: bad record at offset ${d.offset} (${d.reason}) in a segment that is not the last`);
      }
      log(`store: WAL segment ${file}: truncating torn tail at offset ${d.offset} (${d.reason}; ${buf.length - d.offset} bytes never acknowledged)`);
      const fh = await open(file, "r+");
      try {
        await fh.truncate(d.offset);
        if (fsync) await fh.sync();
      } finally {
        await fh.close();
      }
    }
    segments.push({ seq, baseRevision: header.baseRevision, name });
  }
  // Keep damaged snapshots as evidence, out of rotation (only once recovery has succeeded
  // without them).
  for (const file of bad) {
    await rename(file, `${file}.corrupt`);
    log(`store: kept damaged snapshot as ${file}.corrupt`);
  }
  const last = seqs[seqs.length - 1];
  return { engine, segments, snapshots: usable.reverse(), nextSeq: last === undefined ? 1 : last + 1 };
}
