/**
 * The Store port: a key-value store in etcd v3's model. Every backend (embedded, raft, etcd)
 * implements it and runs the shared conformance suite in `conformance.ts`.
 *
 * Model:
 * - One global, strictly increasing `revision`. Every successful write transaction (one that puts or
 *   deletes at least one key) bumps it by exactly one; all its changes share that revision.
 *   A fresh store is at revision 1 (etcd's convention: revision 1 is the empty store).
 * - Every key carries `createRevision` (revision of the put that created this incarnation),
 *   `modRevision` (revision of its last change) and `version` (puts since creation, 1 after create).
 *   Deleting a key ends its incarnation; a later put starts a new one with version 1.
 * - Reads may be served at any revision not yet compacted; a compacted revision fails with
 *   `ErrCompacted`, a revision above the current one with `ErrFutureRevision`.
 * - Keys are strings (the apiserver's keys are ASCII paths like `/registry/pods/default/web`)
 *   compared by UTF-16 code unit order, which equals byte order for ASCII.
 *
 * Durability: a write's promise resolves only after the change is durable by the backend's
 * standard (for the embedded backend: fsynced to the write-ahead log). A rejected write changed
 * nothing. Reads, `currentRevision()` and watch events only ever expose durable revisions.
 *
 * Values are opaque bytes. A backend copies the bytes given to `put` (the caller may reuse its
 * buffer); values it returns are shared and must be treated as immutable.
 *
 * Errors: every method rejects with `StoreError`; bad input is `InvalidArgument` (empty key, both
 * `prefix` and `end`, negative or fractional `limit`/`revision`, malformed compares or ops).
 */

export interface KeyValue {
  readonly key: string;
  readonly value: Uint8Array;
  readonly createRevision: number;
  readonly modRevision: number;
  readonly version: number;
}

/**
 * Selects one key, a prefix, or a half-open range `[key, end)`. `key` must be non-empty, except
 * with `prefix: true` where `""` selects every key.
 */
export interface KeySelector {
  readonly key: string;
  /** All keys starting with `key`. Exclusive with `end`. */
  readonly prefix?: boolean;
  /** Exclusive upper bound: selects `[key, end)` (nothing when `end <= key`). Exclusive with `prefix`. */
  readonly end?: string;
}

export interface RangeOptions extends KeySelector {
  /** At most this many kvs are returned (0 or absent: no limit); `more` tells if any were left. */
  readonly limit?: number;
  /** Read as of this revision (0 or absent: the current revision). */
  readonly revision?: number;
  /** Return no kvs, only `count`. */
  readonly countOnly?: boolean;
}

export interface RangeResult {
  /** Matching kvs in key order. */
  readonly kvs: readonly KeyValue[];
  /** True when `limit` cut the result short. */
  readonly more: boolean;
  /** Number of keys matching the selector at that revision, ignoring `limit`. */
  readonly count: number;
  /** The store's current revision when the read was served (not the read revision). */
  readonly revision: number;
}

export type CompareTarget = "createRevision" | "modRevision" | "version" | "value";
export type CompareOp = "=" | "!=" | "<" | ">";

/**
 * A guard of a transaction, evaluated against the latest state. A missing key has
 * createRevision, modRevision and version 0, as in etcd: `{target:"modRevision", op:"=", value:0}`
 * means "key absent". As in etcd, a `value` compare on a missing key is always false (whatever
 * the op). Values compare byte-wise (shorter prefix first). `value` must be a number for the
 * revision/version targets and a Uint8Array for `value`.
 */
export interface Compare {
  readonly key: string;
  readonly target: CompareTarget;
  readonly op: CompareOp;
  readonly value: number | Uint8Array;
}

export type TxnOp =
  | { readonly type: "put"; readonly key: string; readonly value: Uint8Array }
  | ({ readonly type: "delete" } & KeySelector)
  | ({ readonly type: "range" } & RangeOptions);

export type TxnOpResult =
  | { readonly type: "put"; readonly prevKv?: KeyValue }
  | { readonly type: "delete"; readonly deleted: number; readonly prevKvs: readonly KeyValue[] }
  | { readonly type: "range"; readonly result: RangeResult };

/**
 * An atomic transaction. The ops of the branch that runs execute in order at one new revision; a
 * `range` op sees the writes of earlier ops of the same branch (as in etcd). As in etcd, a branch
 * may not put one key twice nor put a key that one of its deletes covers (InvalidArgument).
 */
export interface Txn {
  readonly compare?: readonly Compare[];
  readonly success?: readonly TxnOp[];
  readonly failure?: readonly TxnOp[];
}

export interface TxnResult {
  /** True when every compare held and `success` ran; false when `failure` ran. */
  readonly succeeded: boolean;
  /** The store revision after the transaction (unchanged if it wrote nothing). */
  readonly revision: number;
  /** One result per op of the branch that ran, in order. */
  readonly results: readonly TxnOpResult[];
}

export interface WatchEvent {
  readonly type: "put" | "delete";
  /** For a delete: the key with an empty value and `modRevision` = the delete's revision. */
  readonly kv: KeyValue;
  /** The key's previous state, when it existed (always provided; backends must keep it). */
  readonly prevKv?: KeyValue;
}

export interface WatchOptions extends KeySelector {
  /**
   * Deliver every change with modRevision >= startRevision, then live changes.
   * 0 or absent: only changes after the current revision.
   * A compacted startRevision calls `onError(ErrCompacted)` and ends the watch.
   */
  readonly startRevision?: number;
}

export interface WatchHandlers {
  /**
   * Called with the events of one revision at a time (all changes of one transaction that match),
   * in revision order, never concurrently. The callback must not throw and should not block:
   * backends call it synchronously from their commit path or delivery loop, but never from inside
   * `watch()` itself (replays start on a later tick). It may call the store (e.g. write); the
   * resulting events are delivered after it returns, not nested.
   */
  readonly onEvents: (events: readonly WatchEvent[], revision: number) => void;
  /** The watch ended abnormally (compaction, backend closed, ...). No more events follow. */
  readonly onError: (err: Error) => void;
  /**
   * Optional progress notification (etcd's RequestProgress): after `Watch.requestProgress()`, the
   * backend calls this with a revision R such that every event of this watch with revision <= R
   * has already been passed to `onEvents`. Consumers (the watch cache) use it to know they are
   * fresh up to the store's revision even when the newest revisions touched other keys.
   */
  readonly onProgress?: (revision: number) => void;
}

export interface Watch {
  /** Stops delivery. Idempotent. */
  cancel(): void;
  /**
   * Optional: asks for one `onProgress` call (see WatchHandlers.onProgress). Backends that call
   * `onEvents` synchronously from their commit path may omit it; consumers then assume every
   * revision <= currentRevision() has been delivered once a macrotask turn has passed.
   */
  requestProgress?(): void;
}

export interface Store {
  /** Reads keys. Throws ErrCompacted / ErrFutureRevision for unusable revisions. */
  range(opts: RangeOptions): Promise<RangeResult>;
  /** Runs an atomic compare-and-swap transaction. Resolves once durable. */
  txn(txn: Txn): Promise<TxnResult>;
  /** Shorthand for an unconditional single put. Returns the new revision. */
  put(key: string, value: Uint8Array): Promise<number>;
  /** Shorthand for an unconditional delete. Returns number deleted and the new revision. */
  delete(sel: KeySelector): Promise<{ deleted: number; revision: number }>;
  /** Subscribes to changes. Events of revisions <= the current one at call time may replay. */
  watch(opts: WatchOptions, handlers: WatchHandlers): Watch;
  /**
   * Discards history older than `revision` (reads below it then fail with ErrCompacted).
   * Current values are kept. Compacting at or below the last compaction is a no-op.
   */
  compact(revision: number): Promise<void>;
  /** The current revision. */
  currentRevision(): number;
  /** The oldest revision still readable (1 when never compacted). */
  compactedRevision(): number;
  /** Flushes and releases resources; pending writes finish or fail with ErrClosed. */
  close(): Promise<void>;
}

export class StoreError extends Error {
  constructor(
    readonly code: "Compacted" | "FutureRevision" | "Closed" | "Corrupt" | "InvalidArgument",
    message: string,
  ) {
    super(message);
    this.name = "StoreError";
  }
}

export const ErrCompacted = (rev: number, compacted: number): StoreError =>
  new StoreError("Compacted", `required revision ${rev} has been compacted (oldest available ${compacted})`);
export const ErrFutureRevision = (rev: number, current: number): StoreError =>
  new StoreError("FutureRevision", `required revision ${rev} is a future revision (current ${current})`);
export const ErrClosed = (): StoreError => new StoreError("Closed", "store is closed");
