/**
 * The embedded Store: the MVCC engine in memory plus a write-ahead log on disk.
 *
 * Write path: a transaction is applied to the engine at once (so later transactions see it), its
 * record is appended to the pending batch, and its promise resolves after the batch is written
 * and durable. Group commit: writes that arrive while a batch is being written and synced go
 * into the next batch together. Segments are opened with O_DSYNC, so a batch write returns once
 * its data is on disk (the guarantee of write + fdatasync, in one thread-pool round trip).
 *
 * Reads, `currentRevision()` and watch events only expose *durable* revisions: the engine keeps
 * history, so reading at the durable revision is a consistent snapshot even while newer, not yet
 * durable transactions sit in the engine. A read-only txn answers once everything it may have
 * seen is durable.
 *
 * Every `snapshotEvery` records the runner switches to a new segment, writes a snapshot of the
 * durable revision, and deletes segments and snapshots no longer needed (two snapshots are
 * kept so a damaged newest one can fall back to the older one plus the WAL).
 *
 * An I/O error while writing the log fails every pending and later operation with
 * StoreError("Closed", "store failed: …"): the in-memory state may then be ahead of the disk, so
 * the store must be reopened (recovery decides from what is on disk).
 */
import { constants } from "node:fs";
import { mkdir, open, unlink } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { type MvccState, MvccEngine } from "../mvcc/mvcc.ts";
import { WatchHub } from "../mvcc/watchhub.ts";
import {
  ErrClosed,
  ErrFutureRevision,
  type KeySelector,
  type RangeOptions,
  type RangeResult,
  type Store,
  StoreError,
  type Txn,
  type TxnResult,
  type Watch,
  type WatchHandlers,
  type WatchOptions,
} from "../types.ts";
import { Writer, writeChanges, writeCompact } from "./codec.ts";
import { crc32c } from "./crc32c.ts";
import { fsyncDir } from "./fsutil.ts";
import { type DirLock, lockDir } from "./lock.ts";
import { type SegmentInfo, recover } from "./recover.ts";
import { snapshotName, writeSnapshotFile } from "./snapshot.ts";
import { HEADER_SIZE, encodeHeader, segmentName } from "./wal.ts";

/** Zero-fill this much of a segment at a time, once less than PREALLOC_AHEAD is left. */
const PREALLOC_CHUNK = 4 * 1024 * 1024;
const PREALLOC_AHEAD = 256 * 1024;

export interface EmbeddedStoreOptions {
  /** Directory holding the WAL segments, snapshots and the LOCK file (created if missing). */
  readonly dataDir: string;
  /**
   * Take a snapshot (and truncate the log) after this many WAL records. Default 100,000 (etcd's
   * default snapshot count). A snapshot holds the whole retained state and is encoded on the
   * event loop, so its cost grows with the state: keep this large for big stores.
   */
  readonly snapshotEvery?: number;
  /** fsync each batch before acknowledging it. Default true; false only for tests and benches. */
  readonly fsync?: boolean;
  /** Switch to a new segment once the current one exceeds this size. Default 64 MiB. */
  readonly segmentBytes?: number;
  /** Receives notices (torn tail truncated, snapshot fallback). Default: console.warn. */
  readonly log?: (msg: string) => void;
}

/**
 * Opens (creating if needed) the store in `opts.dataDir`, recovering its state.
 * @throws StoreError("Corrupt") when the data on disk is damaged beyond a torn tail (message names
 *   the file and offset); StoreError("InvalidArgument") when another live process (or this one)
 *   has the directory open.
 */
export async function openEmbeddedStore(opts: EmbeddedStoreOptions): Promise<Store> {
  const snapshotEvery = opts.snapshotEvery ?? 100_000;
  if (!Number.isSafeInteger(snapshotEvery) || snapshotEvery < 1) {
    throw new StoreError("InvalidArgument", `snapshotEvery must be a positive integer, got ${String(opts.snapshotEvery)}`);
  }
  const dir = opts.dataDir;
  await mkdir(dir, { recursive: true });
  const lock = await lockDir(dir);
  try {
    const log = opts.log ?? ((m: string) => console.warn(m));
    const fsync = opts.fsync ?? true;
    const rec = await recover(dir, log, fsync);
    const store = new EmbeddedStore(dir, lock, rec.engine, rec.segments, rec.snapshots, {
      snapshotEvery,
      fsync,
      segmentBytes: opts.segmentBytes ?? 64 * 1024 * 1024,
      log,
    });
    await store.startSegment(rec.nextSeq);
    return store;
  } catch (err) {
    await lock.release();
    throw err;
  }
}

interface Waiter {
  readonly seq: number;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

interface Settings {
  readonly snapshotEvery: number;
  readonly fsync: boolean;
  readonly segmentBytes: number;
  readonly log: (msg: string) => void;
}

class EmbeddedStore implements Store {
  private readonly hub: WatchHub;
  private fh: FileHandle | undefined;
  private segPos = 0;
  /** Bytes of the current segment already zero-filled (preallocated) on disk. */
  private segAllocated = 0;
  private zeros: Uint8Array | undefined;
  /** Records appended but not yet handed to the disk. */
  private pending = new Writer(1 << 16);
  private spare = new Writer(1 << 16);
  private pendingRecords = 0;
  /** Sequence numbers of appended / durable records. */
  private appendedSeq = 0;
  private durableSeq = 0;
  /** Highest revision appended / durable (visible). */
  private appendedRev: number;
  private durableRev: number;
  private readonly waiters: Waiter[] = [];
  private flushing: Promise<void> | undefined;
  private flushScheduled = false;
  private recordsSinceSnapshot = 0;
  private snapshotting: Promise<void> | undefined;
  private closed = false;
  private closing: Promise<void> | undefined;
  private failed: Error | undefined;

  constructor(
    private readonly dir: string,
    private readonly lock: DirLock,
    private readonly engine: MvccEngine,
    private readonly segments: SegmentInfo[],
    private readonly snapshots: number[],
    private readonly cfg: Settings,
  ) {
    this.hub = new WatchHub(engine);
    this.appendedRev = engine.revision;
    this.durableRev = engine.revision;
  }

  // ---- Store ----

  range(opts: RangeOptions): Promise<RangeResult> {
    try {
      this.checkOpen();
      return Promise.resolve(this.engine.range(opts, this.durableRev));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  txn(t: Txn): Promise<TxnResult> {
    try {
      this.checkOpen();
      const out = this.engine.txn(t);
      const written = out.written;
      if (written) {
        this.appendedRev = written.revision;
        return this.append((w) => writeChanges(w, written)).then(() => out.result);
      }
      // A read-only txn may have seen not-yet-durable writes: answer once they are durable.
      return this.afterDurable(this.appendedSeq).then(() => out.result);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  async put(key: string, value: Uint8Array): Promise<number> {
    return (await this.txn({ success: [{ type: "put", key, value }] })).revision;
  }

  async delete(sel: KeySelector): Promise<{ deleted: number; revision: number }> {
    const r = await this.txn({ success: [{ type: "delete", ...sel }] });
    const first = r.results[0];
    return { deleted: first?.type === "delete" ? first.deleted : 0, revision: r.revision };
  }

  watch(opts: WatchOptions, handlers: WatchHandlers): Watch {
    if (this.closed || this.failed) {
      const err = this.failed ? this.failure() : ErrClosed();
      queueMicrotask(() => handlers.onError(err));
      return { cancel: () => {} };
    }
    const w = this.hub.add(opts, handlers, this.durableRev);
    queueMicrotask(() => {
      if (!this.closed && !this.failed) this.hub.deliver(this.durableRev);
    });
    return w;
  }

  compact(revision: number): Promise<void> {
    try {
      this.checkOpen();
      if (revision > this.durableRev) throw ErrFutureRevision(revision, this.durableRev);
      const before = this.engine.compacted;
      this.engine.compact(revision, this.durableRev);
      if (this.engine.compacted === before) return Promise.resolve();
      this.hub.deliver(this.durableRev);
      return this.append((w) => writeCompact(w, revision));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  currentRevision(): number {
    return this.durableRev;
  }

  compactedRevision(): number {
    return this.engine.compacted;
  }

  close(): Promise<void> {
    // Every caller waits for the same, complete shutdown.
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.closed = true;
    // Writes already accepted finish (or fail); nothing new is accepted.
    while (this.flushing || this.flushScheduled) await (this.flushing ?? Promise.resolve());
    if (this.pendingRecords > 0 && !this.failed) await this.flushLoop();
    await this.snapshotting;
    this.hub.failAll(ErrClosed());
    for (const w of this.waiters.splice(0)) w.reject(ErrClosed());
    await this.fh?.close().catch(() => {});
    this.fh = undefined;
    await this.lock.release();
  }

  // ---- log ----

  /** Opens a fresh segment whose records follow the durable revision. */
  async startSegment(seq: number): Promise<void> {
    const name = segmentName(seq);
    // With fsync on, O_DSYNC makes each write return only once its data is durable: one
    // thread-pool round trip per batch instead of write + fdatasync (same guarantee).
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (this.cfg.fsync ? constants.O_DSYNC : 0);
    const fh = await open(join(this.dir, name), flags, 0o644);
    try {
      const header = encodeHeader(this.durableRev);
      await fh.write(header, 0, header.length, 0);
      this.segAllocated = header.length;
      if (this.cfg.fsync) {
        await this.preallocate(fh, header.length);
        await fh.sync();
        await fsyncDir(this.dir);
      }
    } catch (err) {
      await fh.close();
      throw err;
    }
    const old = this.fh;
    this.fh = fh;
    this.segPos = HEADER_SIZE;
    this.segments.push({ seq, baseRevision: this.durableRev, name });
    await old?.close();
  }

  private checkOpen(): void {
    if (this.failed) throw this.failure();
    if (this.closed) throw ErrClosed();
  }

  private failure(): StoreError {
    return new StoreError("Closed", `store failed: ${this.failed?.message ?? "unknown error"}; reopen it`);
  }

  /** Appends one framed record to the pending batch; resolves when it is durable. */
  private append(write: (w: Writer) => void): Promise<void> {
    const w = this.pending;
    const at = w.length;
    w.u32(0);
    w.u32(0);
    write(w);
    const buf = w.view();
    w.patchU32(at, buf.length - at - 8);
    w.patchU32(at + 4, crc32c(buf, 0, at + 8, buf.length));
    this.pendingRecords++;
    const seq = ++this.appendedSeq;
    this.kick();
    return this.afterDurable(seq);
  }

  /** Starts the flush loop unless it runs or is about to. */
  private kick(): void {
    if (this.flushing || this.flushScheduled) return;
    // A microtask later, so the rest of this tick's writes join the first batch.
    this.flushScheduled = true;
    queueMicrotask(() => {
      this.flushScheduled = false;
      if (this.flushing) return;
      this.flushing = this.flushLoop().finally(() => {
        this.flushing = undefined;
        // Records appended after the loop's last check but before this callback.
        if (this.pendingRecords > 0 && !this.failed) this.kick();
      });
    });
  }

  private afterDurable(seq: number): Promise<void> {
    if (seq <= this.durableSeq) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ seq, resolve, reject }));
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.pendingRecords > 0 && !this.failed) {
        const batch = this.pending;
        const records = this.pendingRecords;
        const seq = this.appendedSeq;
        const rev = this.appendedRev;
        this.pending = this.spare;
        this.spare = batch;
        this.pendingRecords = 0;
        const fh = this.fh as FileHandle;
        const bytes = batch.view();
        let off = 0;
        while (off < bytes.length) {
          const { bytesWritten } = await fh.write(bytes, off, bytes.length - off, this.segPos + off);
          off += bytesWritten;
        }
        this.segPos += bytes.length;
        batch.reset();
        this.durableSeq = seq;
        this.durableRev = rev;
        this.recordsSinceSnapshot += records;
        let n = 0;
        while (n < this.waiters.length && (this.waiters[n] as Waiter).seq <= seq) n++;
        for (const w of this.waiters.splice(0, n)) w.resolve();
        this.hub.deliver(rev);
        if (this.cfg.fsync && this.segAllocated - this.segPos < PREALLOC_AHEAD) await this.preallocate(fh, this.segPos);
        if (this.recordsSinceSnapshot >= this.cfg.snapshotEvery && !this.snapshotting) {
          await this.beginSnapshot();
        } else if (this.segPos >= this.cfg.segmentBytes) {
          await this.startSegment(this.nextSeq());
        }
      }
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /**
   * Zero-fills the segment ahead of the write position, off the latency path of the next batch.
   * Synced writes into already allocated, already written blocks need no file-size or extent
   * change, so they avoid a file-system journal commit (as etcd does with its preallocated
   * segments). Recovery treats zeros up to the end of a segment as unused space, not damage.
   */
  private async preallocate(fh: FileHandle, from: number): Promise<void> {
    const chunk = Math.min(PREALLOC_CHUNK, Math.max(PREALLOC_AHEAD, this.cfg.segmentBytes));
    const zeros = (this.zeros ??= new Uint8Array(chunk));
    const start = Math.max(from, this.segAllocated);
    let off = 0;
    while (off < zeros.length) {
      const { bytesWritten } = await fh.write(zeros, off, zeros.length - off, start + off);
      off += bytesWritten;
    }
    this.segAllocated = start + zeros.length;
  }

  private nextSeq(): number {
    const last = this.segments[this.segments.length - 1];
    return last === undefined ? 1 : last.seq + 1;
  }

  private fail(err: Error): void {
    if (this.failed) return;
    this.failed = err;
    this.cfg.log(`store: write-ahead log failed, store unusable until reopened: ${err.message}`);
    const e = this.failure();
    for (const w of this.waiters.splice(0)) w.reject(e);
    this.hub.failAll(e);
  }

  // ---- snapshots ----

  /**
   * Rotates the segment (so older segments only hold revisions <= the snapshot), encodes the
   * durable state synchronously, and writes it in the background.
   */
  private async beginSnapshot(): Promise<void> {
    const rev = this.durableRev;
    this.recordsSinceSnapshot = 0;
    await this.startSegment(this.nextSeq());
    // Exporting is pointer work; encoding and writing happen piecewise in the background.
    const state = this.engine.exportState(rev);
    this.snapshotting = this.writeSnapshot(state)
      .catch((err: unknown) => this.cfg.log(`store: snapshot at revision ${rev} failed: ${String(err)}`))
      .finally(() => (this.snapshotting = undefined));
  }

  private async writeSnapshot(state: MvccState): Promise<void> {
    const rev = state.revision;
    if (this.snapshots.includes(rev)) return;
    await writeSnapshotFile(this.dir, state, this.cfg.fsync);
    this.snapshots.push(rev);
    // Keep two snapshots; drop segments the older kept one does not need.
    while (this.snapshots.length > 2) {
      const old = this.snapshots.shift() as number;
      await unlink(join(this.dir, snapshotName(old))).catch(() => {});
    }
    const oldest = this.snapshots[0] as number;
    while (this.segments.length > 1) {
      const next = this.segments[1] as SegmentInfo;
      if (next.baseRevision > oldest) break;
      const seg = this.segments.shift() as SegmentInfo;
      await unlink(join(this.dir, seg.name)).catch(() => {});
    }
    if (this.cfg.fsync) await fsyncDir(this.dir);
  }
}
