/**
 * The MVCC engine shared by every local backend: pure and synchronous (no I/O, timers or promises).
 *
 * State:
 * - `keys`: key -> its versions in modRevision order. A version is a `KeyValue`; a delete is a
 *   tombstone version (version 0, createRevision 0, empty value, modRevision = the delete's revision).
 * - `index`: the same keys, ordered, for range scans.
 * - `log`: the watch events of every revision from `compacted` to `revision` (events share the
 *   version objects, so the log costs a few pointers per change).
 *
 * Compaction at C keeps, per key, every version with modRevision >= C plus the newest older one
 * when it is live (it is the value read at C and the prevKv of the key's next change); keys left
 * without versions leave the index. Memory is thus proportional to the live history.
 *
 * Runners (memory.ts, embedded/) own durability and visibility: they may apply transactions here
 * before they are durable and serve reads at an older `visible` revision (see `range`).
 */
import {
  type Compare,
  ErrCompacted,
  ErrFutureRevision,
  type KeyValue,
  type RangeOptions,
  type RangeResult,
  StoreError,
  type Txn,
  type TxnOp,
  type TxnOpResult,
  type TxnResult,
  type WatchEvent,
} from "../types.ts";
import { KeyIndex } from "./keyindex.ts";
import { type KeyInterval, intervalsOverlap, toInterval } from "./selector.ts";

/** One change of a revision as written to a log: a put of a value or the delete of one key. */
export type Change =
  | { readonly type: "put"; readonly key: string; readonly value: Uint8Array }
  | { readonly type: "delete"; readonly key: string };

/** The changes of one revision (what a write-ahead log records for a writing transaction). */
export interface RevisionChanges {
  readonly revision: number;
  readonly changes: readonly Change[];
}

/**
 * A portable picture of the engine at `revision`: `base` is every live version older than
 * `compacted` (the state at `compacted - 1`), `log` the changes of revisions `compacted..revision`.
 * `MvccEngine.fromState` rebuilds an identical engine (same reads, same watch history).
 */
export interface MvccState {
  readonly revision: number;
  readonly compacted: number;
  readonly base: readonly KeyValue[];
  readonly log: readonly RevisionChanges[];
}

export interface TxnOutcome {
  readonly result: TxnResult;
  /** The changes written, or null when the transaction wrote nothing (revision unchanged). */
  readonly written: RevisionChanges | null;
}

const EMPTY = new Uint8Array(0);

/** A key and its versions; the same object sits in the map and in the ordered index. */
interface KeyRecord {
  readonly key: string;
  versions: KeyValue[];
}

export class MvccEngine {
  private readonly keys = new Map<string, KeyRecord>();
  private readonly index = new KeyIndex<KeyRecord>();
  /** log[i] = events of revision compactedRev + i; log.length === head - compactedRev + 1. */
  private log: WatchEvent[][] = [[]];
  private head = 1;
  private compactedRev = 1;

  /** The newest applied revision (1 for an empty engine). */
  get revision(): number {
    return this.head;
  }

  /** The oldest readable revision (1 when never compacted). */
  get compacted(): number {
    return this.compactedRev;
  }

  /** Number of keys with any retained version (live or tombstoned). */
  get keyCount(): number {
    return this.keys.size;
  }

  /**
   * Reads at `opts.revision` (0/absent: `visible`). `visible` (default: the head) is the newest
   * revision the caller may expose; it is also the `revision` reported in the result.
   * @throws StoreError Compacted / FutureRevision / InvalidArgument.
   */
  range(opts: RangeOptions, visible: number = this.head): RangeResult {
    const iv = toInterval(opts);
    const limit = checkCount(opts.limit, "limit");
    const req = checkCount(opts.revision, "revision");
    const rev = req === 0 ? visible : req;
    if (rev > visible) throw ErrFutureRevision(rev, visible);
    if (rev < this.compactedRev) throw ErrCompacted(rev, this.compactedRev);
    return this.read(iv, rev, limit, opts.countOnly === true, visible);
  }

  /**
   * Runs a transaction at the head. Compares see the head state; ops run in order, and a range
   * op sees the writes of earlier ops of the same transaction (as in etcd).
   * @throws StoreError("InvalidArgument") for malformed compares or ops, and (as etcd) when a
   *   branch puts one key twice or puts a key that a delete of the same branch covers. Nothing is
   *   applied when it throws.
   */
  txn(t: Txn): TxnOutcome {
    const compares = t.compare ?? [];
    for (const c of compares) checkCompare(c);
    const success = t.success ?? [];
    const failure = t.failure ?? [];
    checkOps(success);
    checkOps(failure);
    const succeeded = compares.every((c) => this.evalCompare(c));
    const ops = succeeded ? success : failure;
    const rev = this.head + 1;
    const events: WatchEvent[] = [];
    const changes: Change[] = [];
    const results: TxnOpResult[] = [];
    for (const op of ops) {
      if (op.type === "put") {
        // Copy: the caller may reuse its buffer; stored values must never change.
        const value = op.value.slice();
        const ev = this.putAt(rev, op.key, value);
        events.push(ev);
        changes.push({ type: "put", key: op.key, value });
        results.push(ev.prevKv ? { type: "put", prevKv: ev.prevKv } : { type: "put" });
      } else if (op.type === "delete") {
        const iv = toInterval(op);
        const victims = this.read(iv, events.length > 0 ? rev : this.head, 0, false, this.head).kvs;
        for (const kv of victims) {
          events.push(this.deleteAt(rev, kv.key));
          changes.push({ type: "delete", key: kv.key });
        }
        results.push({ type: "delete", deleted: victims.length, prevKvs: victims });
      } else {
        const seen = events.length > 0 ? rev : this.head;
        results.push({ type: "range", result: this.rangeInTxn(op, seen) });
      }
    }
    if (events.length === 0) return { result: { succeeded, revision: this.head, results }, written: null };
    this.head = rev;
    this.log.push(events);
    return { result: { succeeded, revision: rev, results }, written: { revision: rev, changes } };
  }

  /**
   * Applies logged changes (WAL replay). `rc.revision` must be exactly `revision + 1`.
   * @throws StoreError("Corrupt") on a revision gap or an empty change list.
   */
  apply(rc: RevisionChanges): void {
    if (rc.revision !== this.head + 1) {
      throw new StoreError("Corrupt", `revision gap: expected revision ${this.head + 1}, found ${rc.revision}`);
    }
    if (rc.changes.length === 0) throw new StoreError("Corrupt", `revision ${rc.revision} has no changes`);
    const events: WatchEvent[] = [];
    for (const ch of rc.changes) {
      events.push(ch.type === "put" ? this.putAt(rc.revision, ch.key, ch.value) : this.deleteAt(rc.revision, ch.key));
    }
    this.head = rc.revision;
    this.log.push(events);
  }

  /**
   * Discards history below `rev`. No-op when `rev` <= the compacted revision.
   * @throws StoreError FutureRevision when `rev` > `visible` (default: the head).
   */
  compact(rev: number, visible: number = this.head): void {
    if (!Number.isSafeInteger(rev) || rev < 0) throw new StoreError("InvalidArgument", `invalid compaction revision ${rev}`);
    if (rev > visible) throw ErrFutureRevision(rev, visible);
    if (rev <= this.compactedRev) return;
    for (const [key, rec] of this.keys) {
      const vs = rec.versions;
      const first = vs[0] as KeyValue;
      // Most keys hold one live version: nothing to drop.
      if (first.modRevision >= rev || (vs.length === 1 && first.version > 0)) continue;
      // First version at or after rev; keep the one before it when live.
      let i = 0;
      while (i < vs.length && (vs[i] as KeyValue).modRevision < rev) i++;
      const before = vs[i - 1] as KeyValue;
      const from = before.version > 0 ? i - 1 : i;
      if (from >= vs.length) {
        this.keys.delete(key);
        this.index.delete(key);
      } else if (from > 0) {
        vs.splice(0, from);
      }
    }
    this.log.splice(0, rev - this.compactedRev);
    this.compactedRev = rev;
  }

  /**
   * The events of one revision in `[compacted, revision]` (empty for a revision that wrote nothing,
   * i.e. revision 1). @throws StoreError Compacted / FutureRevision outside that window.
   */
  eventsAt(rev: number): readonly WatchEvent[] {
    if (rev < this.compactedRev) throw ErrCompacted(rev, this.compactedRev);
    if (rev > this.head) throw ErrFutureRevision(rev, this.head);
    return this.log[rev - this.compactedRev] as WatchEvent[];
  }

  /** The engine's content as of revision `at` (default: head); `at` must be in [compacted, head]. */
  exportState(at: number = this.head): MvccState {
    if (at < this.compactedRev || at > this.head) throw new StoreError("InvalidArgument", `cannot export revision ${at}`);
    const base: KeyValue[] = [];
    this.index.scan("", undefined, (rec) => {
      const first = rec.versions[0] as KeyValue;
      if (first.modRevision < this.compactedRev) base.push(first);
      return true;
    });
    // Revision `compacted`'s own versions are not in `base`, so the log starts there (revision 1
    // is the empty store and has no changes).
    const log: RevisionChanges[] = [];
    for (let r = Math.max(this.compactedRev, 2); r <= at; r++) {
      log.push({ revision: r, changes: (this.log[r - this.compactedRev] as WatchEvent[]).map(toChange) });
    }
    return { revision: at, compacted: this.compactedRev, base, log };
  }

  /**
   * Rebuilds an engine from `exportState` output.
   * @throws StoreError("Corrupt") when the state is inconsistent (revision gaps, base versions at or
   *   above `compacted`, unsorted or duplicate base keys).
   */
  static fromState(s: MvccState): MvccEngine {
    const e = new MvccEngine();
    if (!(s.compacted >= 1 && s.revision >= s.compacted)) {
      throw new StoreError("Corrupt", `bad state header: revision ${s.revision}, compacted ${s.compacted}`);
    }
    let prevKey: string | undefined;
    for (const kv of s.base) {
      if (kv.modRevision >= s.compacted || kv.version < 1 || kv.createRevision > kv.modRevision || kv.createRevision < 1) {
        throw new StoreError("Corrupt", `bad base version of ${JSON.stringify(kv.key)}`);
      }
      if (prevKey !== undefined && kv.key <= prevKey) throw new StoreError("Corrupt", "base keys not in order");
      prevKey = kv.key;
      const rec: KeyRecord = { key: kv.key, versions: [kv] };
      e.keys.set(kv.key, rec);
      e.index.insert(rec);
    }
    e.head = Math.max(1, s.compacted - 1);
    e.compactedRev = e.head;
    e.log = [[]];
    for (const rc of s.log) e.apply(rc);
    if (e.head !== s.revision) {
      throw new StoreError("Corrupt", `state ends at revision ${e.head}, header says ${s.revision}`);
    }
    // Drop the placeholder revision the replay started from.
    e.log.splice(0, s.compacted - e.compactedRev);
    e.compactedRev = s.compacted;
    return e;
  }

  // ---- internals ----

  private latest(key: string): KeyValue | undefined {
    const vs = this.keys.get(key)?.versions;
    if (vs === undefined) return undefined;
    const last = vs[vs.length - 1] as KeyValue;
    return last.version > 0 ? last : undefined;
  }

  private putAt(rev: number, key: string, value: Uint8Array): WatchEvent {
    let rec = this.keys.get(key);
    if (rec === undefined) {
      rec = { key, versions: [] };
      this.keys.set(key, rec);
      this.index.insert(rec);
    }
    const vs = rec.versions;
    const last = vs[vs.length - 1];
    const prev = last !== undefined && last.version > 0 ? last : undefined;
    const kv: KeyValue = {
      key,
      value,
      createRevision: prev ? prev.createRevision : rev,
      modRevision: rev,
      version: prev ? prev.version + 1 : 1,
    };
    vs.push(kv);
    return prev ? { type: "put", kv, prevKv: prev } : { type: "put", kv };
  }

  private deleteAt(rev: number, key: string): WatchEvent {
    const prev = this.latest(key);
    if (prev === undefined) throw new StoreError("Corrupt", `delete of absent key ${JSON.stringify(key)} at revision ${rev}`);
    const kv: KeyValue = { key, value: EMPTY, createRevision: 0, modRevision: rev, version: 0 };
    (this.keys.get(key) as KeyRecord).versions.push(kv);
    return { type: "delete", kv, prevKv: prev };
  }

  private rangeInTxn(op: RangeOptions, seen: number): RangeResult {
    const req = checkCount(op.revision, "revision");
    const rev = req === 0 ? seen : req;
    if (rev > seen) throw ErrFutureRevision(rev, seen);
    if (rev < this.compactedRev) throw ErrCompacted(rev, this.compactedRev);
    return this.read(toInterval(op), rev, checkCount(op.limit, "limit"), op.countOnly === true, seen);
  }

  private read(iv: KeyInterval, rev: number, limit: number, countOnly: boolean, reported: number): RangeResult {
    if (iv.end === null) {
      const vs = this.keys.get(iv.start)?.versions;
      const kv = vs === undefined ? undefined : versionAt(vs, rev);
      if (kv === undefined) return { kvs: [], more: false, count: 0, revision: reported };
      return { kvs: countOnly ? [] : [kv], more: false, count: 1, revision: reported };
    }
    const kvs: KeyValue[] = [];
    let count = 0;
    let more = false;
    if (iv.end !== undefined && iv.end <= iv.start) return { kvs, more, count, revision: reported };
    this.index.scan(iv.start, iv.end, (rec) => {
      const kv = versionAt(rec.versions, rev);
      if (kv === undefined) return true;
      count++;
      if (countOnly) return true;
      if (limit === 0 || kvs.length < limit) kvs.push(kv);
      else more = true;
      return true;
    });
    return { kvs, more, count, revision: reported };
  }

  private evalCompare(c: Compare): boolean {
    const kv = this.latest(c.key);
    if (c.target === "value") {
      // As etcd: a value compare against an absent key is always false.
      if (kv === undefined) return false;
      return holds(compareBytes(kv.value, c.value as Uint8Array), c.op);
    }
    const actual = kv === undefined ? 0 : kv[c.target];
    const want = c.value as number;
    return holds(actual < want ? -1 : actual > want ? 1 : 0, c.op);
  }
}

function toChange(e: WatchEvent): Change {
  return e.type === "put" ? { type: "put", key: e.kv.key, value: e.kv.value } : { type: "delete", key: e.kv.key };
}

/** The live version at `rev`, if any. */
function versionAt(vs: readonly KeyValue[], rev: number): KeyValue | undefined {
  let hi = vs.length - 1;
  const last = vs[hi] as KeyValue;
  if (last.modRevision <= rev) return last.version > 0 ? last : undefined;
  let lo = 0;
  // Find the last index with modRevision <= rev.
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if ((vs[mid] as KeyValue).modRevision <= rev) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  if (found < 0) return undefined;
  const kv = vs[found] as KeyValue;
  return kv.version > 0 ? kv : undefined;
}

function holds(cmp: number, op: Compare["op"]): boolean {
  switch (op) {
    case "=":
      return cmp === 0;
    case "!=":
      return cmp !== 0;
    case "<":
      return cmp < 0;
    case ">":
      return cmp > 0;
  }
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

function checkCount(v: number | undefined, what: string): number {
  if (v === undefined) return 0;
  if (!Number.isSafeInteger(v) || v < 0) throw new StoreError("InvalidArgument", `${what} must be a non-negative integer, got ${String(v)}`);
  return v;
}

const TARGETS = new Set(["createRevision", "modRevision", "version", "value"]);
const OPS = new Set(["=", "!=", "<", ">"]);

function checkCompare(c: Compare): void {
  if (typeof c.key !== "string" || c.key === "") throw new StoreError("InvalidArgument", "compare: key is not provided");
  if (!TARGETS.has(c.target)) throw new StoreError("InvalidArgument", `compare: unknown target ${String(c.target)}`);
  if (!OPS.has(c.op)) throw new StoreError("InvalidArgument", `compare: unknown op ${String(c.op)}`);
  if (c.target === "value") {
    if (!(c.value instanceof Uint8Array)) throw new StoreError("InvalidArgument", "compare: value target needs a Uint8Array");
  } else if (typeof c.value !== "number" || !Number.isSafeInteger(c.value)) {
    throw new StoreError("InvalidArgument", `compare: ${c.target} target needs an integer`);
  }
}

function checkOps(ops: readonly TxnOp[]): void {
  const puts = new Set<string>();
  const deletes: KeyInterval[] = [];
  for (const op of ops) {
    if (op.type === "put") {
      if (typeof op.key !== "string" || op.key === "") throw new StoreError("InvalidArgument", "put: key is not provided");
      if (!(op.value instanceof Uint8Array)) throw new StoreError("InvalidArgument", `put ${op.key}: value must be a Uint8Array`);
      if (puts.has(op.key)) throw new StoreError("InvalidArgument", `duplicate key given in txn request: ${op.key}`);
      puts.add(op.key);
    } else if (op.type === "delete") {
      deletes.push(toInterval(op));
    } else if (op.type === "range") {
      toInterval(op);
      checkCount(op.limit, "limit");
      checkCount(op.revision, "revision");
    } else {
      // `op` is `never` here for typed callers; untyped ones still deserve a clear error.
      throw new StoreError("InvalidArgument", `unknown txn op type ${String((op as { type: unknown }).type)}`);
    }
  }
  for (const iv of deletes) {
    for (const key of puts) {
      if (intervalsOverlap(iv, { start: key, end: null })) {
        throw new StoreError("InvalidArgument", `duplicate key given in txn request: ${key} is both put and deleted`);
      }
    }
  }
}
