/**
 * The watch cache: one per resource, fed by a store watch on the resource's key prefix.
 *
 * State: every current object (decoded once, encodings memoized), the keys in sorted order, an
 * index of keys by the values of `indexFields`, and a bounded window (ring) of the latest events.
 * Watchers whose filter pins an indexed field are kept in buckets by value, so an event visits
 * only the watchers of its old and new value plus the unindexed ones.
 *
 * Revisions: `revision()` is the store revision up to which the cache is known to be complete.
 * It advances with each applied event and, for consistent reads, to the store's current revision
 * once the store has confirmed (progress notification) or — for stores that deliver watch events
 * synchronously from the commit path, which may omit progress support — once a macrotask turn has
 * passed since reading `store.currentRevision()`.
 *
 * Upstream behaviours kept: list resourceVersion semantics (unset = consistent, "0" = any,
 * N = not older than, Exact), continue tokens in kube-apiserver's format served at the same
 * snapshot (from the cache when nothing changed since, else from the store at that revision),
 * 410 texts, 504 "Too large resource version" after ~3 s, DELETED carrying the last state with the
 * delete's revision, filtered watches turning MODIFIED into ADDED/DELETED, bookmarks.
 */
import { ApiError, badRequest, gone } from "../../api/errors.ts";
import type { KubeObject } from "../../api/object.ts";
import type { KeyValue, Store, Watch, WatchEvent } from "../../store/types.ts";
import { StoreError } from "../../store/types.ts";
import { CachedObjectImpl, type Encoders, makeCachedObject, makeLazyCachedObject, MemoPool, restamp } from "./cached.ts";
import { writtenFacts, type WrittenFacts, type WrittenFactsTable } from "./handoff.ts";
import { KeyIndex } from "../../store/mvcc/keyindex.ts";

/** Debug switch: decode handed-off values anyway and fail loudly when the facts differ. */
const VERIFY_HANDOFF = typeof process !== "undefined" && process.env["TUG_VERIFY_HANDOFF"] === "1";
import { decodeContinue, encodeContinue } from "./continue.ts";
import type { CacheWatch, CachedObject, ListOptions, ListResult, ObjectFilter, WatchOptions } from "./types.ts";
import { CacheWatcher, DEFAULT_BUFFER_SIZE, type WindowEvent } from "./watcher.ts";
import { EventWindow } from "./window.ts";

export interface WatchCacheOptions {
  readonly store: Store;
  /** Key prefix of the resource, with a trailing slash: `/registry/pods/`. */
  readonly prefix: string;
  /** Decodes a stored value (throws on corrupt data; such keys are skipped and counted). */
  decode(kv: KeyValue): KubeObject;
  /** Field-selector attributes of an object (the kind's strategy `fields`). */
  fields(obj: KubeObject): Record<string, string>;
  readonly encoders: Encoders;
  /**
   * Stored values that are `k8s\0` envelopes are the object's protobuf encoding minus
   * metadata.resourceVersion (the apiserver's storage layout): derive protobuf from them instead of
   * encoding (and keeping) it per object. Default false (encoders.protobuf is used).
   */
  readonly protobufFromStored?: boolean;
  /** Budget for kept encodings (may be shared between caches). Default: a pool of its own. */
  readonly memo?: MemoPool;
  /** Fields to index (e.g. `["spec.nodeName"]` for pods). */
  readonly indexFields?: readonly string[];
  /**
   * Facts the REST layer offers about values it writes (handoff.ts): a put whose bytes match an
   * offer is not decoded until its object is needed. Default: the process-wide table; `null`
   * disables the hand-off (every value is decoded when it arrives).
   */
  readonly written?: WrittenFactsTable | null;
  /**
   * Events kept for watches resuming from a resourceVersion: a fixed number when given, else the
   * dynamic window (window.ts: every event of the last `windowMs`, 10,000 to 102,400 events).
   */
  readonly windowSize?: number;
  /**
   * Live events buffered per watcher that set no `bufferSize` of its own (default 1,000). Such a
   * watcher is not cut off when it falls this far behind: it continues from the event window.
   */
  readonly bufferSize?: number;
  /** Dynamic window: how long events are kept (default 75 s, as kube-apiserver). */
  readonly windowMs?: number;
  /** Dynamic window: largest capacity (default 102,400 events). */
  readonly maxWindowSize?: number;
  /** Bookmark period for watchers that allow them (default 60 s; 0 disables). */
  readonly bookmarkIntervalMs?: number;
  /** How long a read/watch waits for a resourceVersion the cache has not reached (default 3 s). */
  readonly freshnessTimeoutMs?: number;
  /** Clock (ms) for timeouts. */
  readonly now?: () => number;
}

export interface WatchCacheStats {
  /** Registered (live) watchers. */
  readonly watchers: number;
  /** Events applied since start. */
  readonly events: number;
  /** Watchers ended because they fell `bufferSize` events behind. */
  readonly cutOffWatchers: number;
  /** Watcher visits made by the dispatcher (each visit = one filter test). */
  readonly dispatchVisits: number;
  /** Objects in the cache. */
  readonly objects: number;
  /** Times the cache re-listed after losing its store watch. */
  readonly relists: number;
  /** Stored values that failed to decode (skipped). */
  readonly decodeErrors: number;
}

export interface WatchCache {
  /** Lists the prefix and starts watching; resolves once the cache holds the listed state. */
  start(): Promise<void>;
  /** Stops the store watch and timers, ends every watcher. */
  stop(): void;
  /** The revision the cache is complete up to. */
  revision(): number;
  /**
   * Resolves once the cache is complete up to `revision`. Rejects with ApiError 504 Timeout
   * (`Timeout: Too large resource version: N, current: M`, cause ResourceVersionTooLarge) after
   * `freshnessTimeoutMs`, or with `signal.reason` when aborted.
   */
  waitUntilFresh(revision: number, signal?: AbortSignal): Promise<void>;
  get(namespace: string, name: string): CachedObject | undefined;
  /** See the module comment. Throws ApiError 400 / 410 / 504. */
  list(opts: ListOptions): Promise<ListResult>;
  /** Returns at once; errors (410 too old, 504, 400 bad resourceVersion) end the iteration. */
  watch(opts: WatchOptions): CacheWatch;
  stats(): WatchCacheStats;
}

const LIST_TOO_OLD = "The resourceVersion for the provided list is too old.";
const CONTINUE_TOO_OLD =
  "The provided continue parameter is too old to display a consistent list result. You can start a new list " +
  "without the continue parameter, or use the continue token in this response to retrieve the remainder of the " +
  "results. Continuing with the provided token results in an inconsistent list - objects that were created, " +
  "modified, or deleted between the time the first chunk was returned and now may show up in the list.";

/** Smallest key greater than every key with this prefix. */
function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}


function parseRevision(rv: string): number {
  if (!/^[0-9]{1,15}$/.test(rv)) {
    throw badRequest(`invalid resource version "${rv}": must be a non-negative integer`);
  }
  return Number(rv);
}

export function tooLargeResourceVersion(wanted: number, current: number): ApiError {
  return new ApiError(504, "Timeout", `Timeout: Too large resource version: ${wanted}, current: ${current}`, {
    causes: [{ reason: "ResourceVersionTooLarge", message: "Too large resource version" }],
    retryAfterSeconds: 1,
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const macrotask = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Creates a watch cache; call `start()` before use. */
export function createWatchCache(opts: WatchCacheOptions): WatchCache {
  return new WatchCacheImpl(opts);
}

class WatchCacheImpl implements WatchCache {
  private readonly store: Store;
  private readonly prefix: string;
  private readonly end: string;
  private readonly indexFields: readonly string[];
  private readonly timeoutMs: number;
  private readonly now: () => number;
  private readonly written: WrittenFactsTable | undefined;

  private objects = new Map<string, CachedObjectImpl>();
  private readonly pool: MemoPool;
  /** The current objects in key order (for lists). */
  private keys = new KeyIndex<CachedObject>();
  /** field -> value -> keys */
  private index = new Map<string, Map<string, Set<string>>>();

  /** Complete up to this revision. */
  private rev = 0;
  /** Revision of the last applied store event (or of the last list). */
  private appliedRev = 0;
  /** Revision of the last change to the cached state (a list counts as a change). */
  private lastChangeRev = 0;

  private readonly window: EventWindow<WindowEvent>;

  private unindexed = new Set<CacheWatcher>();
  private watcherIndex = new Map<string, Map<string, Set<CacheWatcher>>>();
  private watcherCount = 0;

  private storeWatch: Watch | undefined;
  private freshWaiters: Array<{ rev: number; resolve: () => void }> = [];
  private progressWaiters: Array<(rev: number) => void> = [];
  private bookmarkTimer: ReturnType<typeof setInterval> | undefined;
  private stopped = false;
  private started = false;
  private relisting = false;

  private counters = { events: 0, cutOffWatchers: 0, dispatchVisits: 0, relists: 0, decodeErrors: 0 };

  constructor(private readonly opts: WatchCacheOptions) {
    if (!opts.prefix.endsWith("/")) throw new Error(`watch cache prefix must end with "/": ${opts.prefix}`);
    this.store = opts.store;
    this.prefix = opts.prefix;
    this.end = prefixEnd(opts.prefix);
    this.indexFields = opts.indexFields ?? [];
    for (const f of this.indexFields) {
      this.index.set(f, new Map());
      this.watcherIndex.set(f, new Map());
    }
    this.window = new EventWindow<WindowEvent>({
      ...(opts.windowSize !== undefined ? { capacity: opts.windowSize } : {}),
      ...(opts.windowMs !== undefined ? { windowMs: opts.windowMs } : {}),
      ...(opts.maxWindowSize !== undefined ? { maxCapacity: opts.maxWindowSize } : {}),
      ...(opts.now !== undefined ? { now: opts.now } : {}),
    });
    this.timeoutMs = opts.freshnessTimeoutMs ?? 3000;
    this.now = opts.now ?? Date.now;
    this.pool = opts.memo ?? new MemoPool();
    this.written = opts.written === undefined ? writtenFacts : opts.written ?? undefined;
  }

  // ------------------------------------------------------------------------------------------
  // Lifecycle

  async start(): Promise<void> {
    if (this.started) throw new Error("watch cache already started");
    this.started = true;
    await this.listAndWatch();
    const every = this.opts.bookmarkIntervalMs ?? 60_000;
    if (every > 0) {
      this.bookmarkTimer = setInterval(() => this.sendBookmarks(), every);
      this.bookmarkTimer.unref?.();
    }
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.storeWatch?.cancel();
    this.storeWatch = undefined;
    if (this.bookmarkTimer) clearInterval(this.bookmarkTimer);
    for (const w of this.allWatchers()) w.stop();
    for (const p of this.progressWaiters.splice(0)) p(this.rev);
    for (const o of this.objects.values()) o.release();
  }

  revision(): number {
    return this.rev;
  }

  stats(): WatchCacheStats {
    return { watchers: this.watcherCount, objects: this.objects.size, ...this.counters };
  }

  private async listAndWatch(): Promise<void> {
    const res = await this.store.range({ key: this.prefix, prefix: true });
    if (this.stopped) return;
    const objects = new Map<string, CachedObjectImpl>();
    const keys = new KeyIndex<CachedObject>();
    for (const kv of res.kvs) {
      const obj = this.decodeOrSkip(kv, kv.modRevision);
      if (obj === undefined) continue;
      obj.resident = true;
      objects.set(kv.key, obj);
      keys.insert(obj); // range returns key order: every insert appends
    }
    for (const o of this.objects.values()) o.release();
    this.objects = objects;
    this.keys = keys;
    for (const m of this.index.values()) m.clear();
    for (const obj of objects.values()) this.indexAdd(obj);
    const r = res.revision;
    this.appliedRev = r;
    this.lastChangeRev = r;
    this.rev = Math.max(this.rev, r);
    this.window.reset(r);
    this.resolveFresh();
    this.storeWatch = this.store.watch({ key: this.prefix, prefix: true, startRevision: r + 1 }, {
      onEvents: (events, revision) => this.onStoreEvents(events, revision),
      onError: (err) => this.onStoreError(err),
      onProgress: (revision) => this.onProgress(revision),
    });
  }

  private onStoreError(err: Error): void {
    if (this.stopped || this.relisting) return;
    this.storeWatch = undefined;
    if (err instanceof StoreError && err.code === "Closed") return;
    void this.relist();
  }

  /** Re-lists after the store watch failed. Every watcher loses its position: 410. */
  private async relist(): Promise<void> {
    this.relisting = true;
    this.counters.relists++;
    for (const w of this.allWatchers()) {
      w.fail(gone("watch cache lost its store watch and re-listed; the watch position is gone, list again"));
    }
    let delay = 50;
    try {
      while (!this.stopped) {
        try {
          await this.listAndWatch();
          return;
        } catch (e) {
          if (e instanceof StoreError && e.code === "Closed") return;
          await sleep(delay);
          delay = Math.min(delay * 2, 5000);
        }
      }
    } finally {
      this.relisting = false;
    }
  }

  // ------------------------------------------------------------------------------------------
  // Applying store events

  private wrap(kv: KeyValue, revision: number): CachedObjectImpl {
    return makeCachedObject(kv.key, this.opts.decode(kv), revision, this.opts.fields, this.opts.encoders, this.pool,
      this.opts.protobufFromStored === true ? kv.value : undefined);
  }

  /** A put's object: from the writer's hand-off when it matches (decoded lazily), else decoded now. */
  private wrapPut(kv: KeyValue): CachedObjectImpl | undefined {
    const facts = this.written?.take(kv.key, kv.value);
    if (facts === undefined) return this.decodeOrSkip(kv, kv.modRevision);
    if (VERIFY_HANDOFF) this.verifyFacts(kv, facts);
    const decode = this.opts.decode;
    return makeLazyCachedObject(kv.key, () => decode(kv), kv.modRevision, facts, this.opts.encoders, this.pool,
      this.opts.protobufFromStored === true ? kv.value : undefined);
  }

  /** Debug check (TUG_VERIFY_HANDOFF=1): the offered facts equal those of the decoded value. */
  private verifyFacts(kv: KeyValue, facts: WrittenFacts): void {
    const obj = this.wrap(kv, kv.modRevision);
    const same = (a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean =>
      Object.keys(a).length === Object.keys(b).length && Object.keys(a).every((k) => a[k] === b[k]);
    if (obj.namespace !== facts.namespace || obj.name !== facts.name || !same(obj.labels, facts.labels) || !same(obj.fields, facts.fields)) {
      console.error(`watch cache hand-off mismatch for ${kv.key}`);
      throw new Error(`watch cache hand-off mismatch for ${kv.key}: offered ${JSON.stringify(facts)}, decoded ${
        JSON.stringify({ namespace: obj.namespace, name: obj.name, labels: obj.labels, fields: obj.fields })}`);
    }
  }

  private decodeOrSkip(kv: KeyValue, revision: number): CachedObjectImpl | undefined {
    try {
      return this.wrap(kv, revision);
    } catch {
      this.counters.decodeErrors++;
      return undefined;
    }
  }

  private onStoreEvents(events: readonly WatchEvent[], revision: number): void {
    if (this.stopped || revision <= this.appliedRev) return;
    for (const ev of events) {
      if (!ev.kv.key.startsWith(this.prefix)) continue;
      const we = this.toWindowEvent(ev, revision);
      if (we === undefined) continue;
      this.applyToState(we);
      this.append(we);
      this.counters.events++;
      this.dispatch(we);
    }
    this.appliedRev = revision;
    this.lastChangeRev = revision;
    if (revision > this.rev) this.rev = revision;
    this.resolveFresh();
  }

  private toWindowEvent(ev: WatchEvent, revision: number): WindowEvent | undefined {
    const key = ev.kv.key;
    const prev = this.objects.get(key);
    let type: "ADDED" | "MODIFIED" | "DELETED";
    let object: CachedObject | undefined;
    if (ev.type === "put") {
      object = this.wrapPut(ev.kv);
      if (object === undefined) return undefined;
      type = prev ? "MODIFIED" : "ADDED";
    } else {
      if (!prev && !ev.prevKv) return undefined;
      // The last state comes from the delete's prevKv; it is re-stamped with the delete revision.
      // When the cache holds that very state (same modRevision), it is re-stamped instead of
      // decoding prevKv again.
      const samePrev = prev !== undefined && ev.prevKv !== undefined && prev.revision === ev.prevKv.modRevision;
      object = samePrev ? restamp(prev, revision, this.opts.encoders, this.pool)
        : ev.prevKv ? this.decodeOrSkip(ev.prevKv, revision) : undefined;
      if (object === undefined && prev) object = restamp(prev, revision, this.opts.encoders, this.pool);
      if (object === undefined) return undefined;
      type = "DELETED";
    }
    const encoders = this.opts.encoders;
    const pool = this.pool;
    let exit: CachedObject | undefined;
    const obj = object;
    return {
      type, object: obj, revision,
      ...(prev && type !== "ADDED" ? { prev } : {}),
      exitObject(): CachedObject {
        return (exit ??= prev ? restamp(prev, revision, encoders, pool) : obj);
      },
    };
  }

  private applyToState(ev: WindowEvent): void {
    const key = ev.object.key;
    const prev = this.objects.get(key);
    if (prev) {
      this.indexRemove(prev);
      prev.release();
    }
    if (ev.type === "DELETED") {
      if (prev) {
        this.objects.delete(key);
        this.keys.delete(key);
      }
      return;
    }
    const cur = ev.object as CachedObjectImpl; // puts are always decoded here (decodeOrSkip)
    cur.resident = true;
    this.objects.set(key, cur);
    this.indexAdd(cur);
    this.keys.upsert(cur);
  }

  private indexAdd(obj: CachedObject): void {
    for (const [field, byValue] of this.index) {
      const v = obj.fields[field] ?? "";
      let set = byValue.get(v);
      if (!set) byValue.set(v, (set = new Set()));
      set.add(obj.key);
    }
  }

  private indexRemove(obj: CachedObject): void {
    for (const [field, byValue] of this.index) {
      const v = obj.fields[field] ?? "";
      const set = byValue.get(v);
      if (!set) continue;
      set.delete(obj.key);
      if (set.size === 0) byValue.delete(v);
    }
  }

  private append(ev: WindowEvent): void {
    this.window.append(ev);
  }

  /** Window events with revision > rev, oldest first (undefined: rev was evicted). */
  private eventsAfter(rev: number): WindowEvent[] | undefined {
    return this.window.after(rev);
  }

  private dispatch(ev: WindowEvent): void {
    for (const w of this.unindexed) {
      this.counters.dispatchVisits++;
      w.deliver(ev);
    }
    for (const [field, byValue] of this.watcherIndex) {
      if (byValue.size === 0) continue;
      const v = ev.object.fields[field] ?? "";
      const bucket = byValue.get(v);
      if (bucket) for (const w of bucket) { this.counters.dispatchVisits++; w.deliver(ev); }
      const pv = ev.prev ? (ev.prev.fields[field] ?? "") : v;
      if (pv !== v) {
        const old = byValue.get(pv);
        if (old) for (const w of old) { this.counters.dispatchVisits++; w.deliver(ev); }
      }
    }
  }

  private sendBookmarks(): void {
    for (const w of this.allWatchers()) w.bookmark(this.rev);
  }

  private *allWatchers(): Iterable<CacheWatcher> {
    yield* [...this.unindexed];
    for (const byValue of this.watcherIndex.values()) for (const set of byValue.values()) yield* [...set];
  }

  // ------------------------------------------------------------------------------------------
  // Freshness

  private onProgress(revision: number): void {
    if (revision > this.rev) {
      this.rev = revision;
      this.resolveFresh();
    }
    for (const p of this.progressWaiters.splice(0)) p(revision);
  }

  private resolveFresh(): void {
    if (this.freshWaiters.length === 0) return;
    const keep: typeof this.freshWaiters = [];
    for (const w of this.freshWaiters) (w.rev <= this.rev ? w.resolve() : keep.push(w));
    this.freshWaiters = keep;
  }

  /** Makes the cache complete up to `target` <= store.currentRevision(). */
  private async syncTo(target: number): Promise<void> {
    if (this.rev >= target) return;
    const watch = this.storeWatch;
    if (watch?.requestProgress) {
      const got = new Promise<number>((resolve) => this.progressWaiters.push(resolve));
      watch.requestProgress();
      const rev = await Promise.race([got, sleep(this.timeoutMs).then(() => -1)]);
      if (rev >= target || this.rev >= target) return;
    }
    // The store delivers synchronously (or has no progress support): once a macrotask turn has
    // passed, every event up to `target` has reached onStoreEvents.
    await macrotask();
    if (target > this.rev && !this.stopped && !this.relisting) {
      this.rev = target;
      this.resolveFresh();
    }
  }

  async waitUntilFresh(revision: number, signal?: AbortSignal): Promise<void> {
    if (this.rev >= revision) return;
    const deadline = this.now() + this.timeoutMs;
    for (;;) {
      if (signal?.aborted) throw signal.reason ?? new Error("aborted");
      const current = this.store.currentRevision();
      if (current >= revision) {
        await this.syncTo(current);
        if (this.rev >= revision) return;
      }
      const left = deadline - this.now();
      if (left <= 0) throw tooLargeResourceVersion(revision, this.rev);
      // Wake on our own events, or poll: writes to other resources advance the store only.
      await new Promise<void>((resolve) => {
        const entry = { rev: revision, resolve };
        this.freshWaiters.push(entry);
        const t = setTimeout(() => {
          this.freshWaiters = this.freshWaiters.filter((w) => w !== entry);
          resolve();
        }, Math.min(left, 20));
        const orig = entry.resolve;
        entry.resolve = () => { clearTimeout(t); orig(); };
      });
      if (this.rev >= revision) return;
    }
  }

  // ------------------------------------------------------------------------------------------
  // Reads

  get(namespace: string, name: string): CachedObject | undefined {
    return this.objects.get(namespace ? `${this.prefix}${namespace}/${name}` : `${this.prefix}${name}`);
  }

  async list(opts: ListOptions): Promise<ListResult> {
    const filter = opts.filter;
    const limit = opts.limit && opts.limit > 0 ? Math.floor(opts.limit) : 0;
    const rvString = opts.resourceVersion ?? "";
    const match = opts.resourceVersionMatch;
    if (opts.continueToken) {
      if (rvString !== "" && rvString !== "0") {
        throw badRequest("specifying resource version is not allowed when using continue");
      }
      if (match) throw badRequest("resourceVersionMatch is forbidden when continue is provided");
      const tok = decodeContinue(opts.continueToken, this.prefix);
      if (tok.revision === -1) return this.listFromCache(filter, limit, tok.startKey, this.rev);
      if (this.lastChangeRev <= tok.revision && this.rev >= tok.revision) {
        return this.listFromCache(filter, limit, tok.startKey, tok.revision);
      }
      return this.listFromStore(filter, limit, tok.startKey, tok.revision, true);
    }
    if (match !== undefined && (match as string) !== "" && match !== "NotOlderThan" && match !== "Exact") {
      throw badRequest(`resourceVersionMatch: Unsupported value: "${String(match)}": supported values: "Exact", "NotOlderThan", ""`);
    }
    if (match && rvString === "") throw badRequest("resourceVersionMatch is forbidden unless resourceVersion is provided");
    if (match === "Exact" && rvString === "0") {
      throw badRequest("resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"");
    }
    if (rvString === "") {
      await this.waitUntilFresh(this.store.currentRevision());
      return this.listFromCache(filter, limit, undefined, this.rev);
    }
    const rv = parseRevision(rvString);
    if (rv === 0) return this.listFromCache(filter, limit, undefined, this.rev);
    await this.waitUntilFresh(rv);
    if (match !== "Exact") return this.listFromCache(filter, limit, undefined, this.rev);
    if (this.lastChangeRev <= rv) return this.listFromCache(filter, limit, undefined, rv);
    return this.listFromStore(filter, limit, this.prefix, rv, false);
  }

  /** Key range [from, to) of the filter's namespace (or the whole prefix). */
  private rangeOf(filter: ObjectFilter): { from: string; to: string } {
    if (filter.namespace) {
      const from = `${this.prefix}${filter.namespace}/`;
      return { from, to: prefixEnd(from) };
    }
    return { from: this.prefix, to: this.end };
  }

  private listFromCache(filter: ObjectFilter, limit: number, startKey: string | undefined, revision: number): ListResult {
    const { from, to } = this.rangeOf(filter);
    const start = startKey !== undefined && startKey > from ? startKey : from;
    const items: CachedObject[] = [];
    const all = filter.everything === true;
    const take = (obj: CachedObject): boolean => {
      if (all || filter.matches(obj.labels, obj.fields)) items.push(obj);
      return !(limit > 0 && items.length >= limit);
    };
    let more = false; // keys in range after the last item taken
    let remaining = 0;
    if (filter.indexHint && this.index.has(filter.indexHint.field)) {
      const hinted = this.index.get(filter.indexHint.field)?.get(filter.indexHint.value);
      const keys: string[] = [];
      for (const k of hinted ?? []) if (k >= start && k < to) keys.push(k);
      keys.sort();
      let i = 0;
      while (i < keys.length && take(this.objects.get(keys[i] as string) as CachedObject)) i++;
      more = i + 1 < keys.length;
      remaining = keys.length - i - 1;
    } else {
      this.keys.scan(start, to, take);
      if (limit > 0 && items.length >= limit) {
        const lastKey = (items[items.length - 1] as CachedObject).key;
        remaining = this.keys.rank(to) - this.keys.rank(lastKey) - 1;
        more = remaining > 0;
      }
    }
    if (limit > 0 && items.length >= limit && more) {
      const last = items[items.length - 1] as CachedObject;
      return {
        items, revision,
        continueToken: encodeContinue(last.key + "\0", this.prefix, revision),
        ...(all ? { remainingItemCount: remaining } : {}),
      };
    }
    return { items, revision };
  }

  private async listFromStore(
    filter: ObjectFilter, limit: number, startKey: string, revision: number, continuing: boolean,
  ): Promise<ListResult> {
    const { from, to } = this.rangeOf(filter);
    let key = startKey > from ? startKey : from;
    const items: CachedObject[] = [];
    const all = filter.everything === true;
    const chunk = limit > 0 ? Math.max(limit * 2, 100) : 0;
    try {
      for (;;) {
        const res = await this.store.range({ key, end: to, revision, ...(chunk ? { limit: chunk } : {}) });
        for (let j = 0; j < res.kvs.length; j++) {
          const kv = res.kvs[j] as KeyValue;
          const obj = this.wrap(kv, kv.modRevision);
          if (!all && !filter.matches(obj.labels, obj.fields)) continue;
          items.push(obj);
          if (limit > 0 && items.length >= limit) {
            const moreHere = j < res.kvs.length - 1;
            if (!moreHere && !res.more) return { items, revision };
            return {
              items, revision,
              continueToken: encodeContinue(kv.key + "\0", this.prefix, revision),
              ...(all ? { remainingItemCount: res.count - (j + 1) } : {}),
            };
          }
        }
        const last = res.kvs[res.kvs.length - 1];
        if (!res.more || last === undefined) return { items, revision };
        key = last.key + "\0";
      }
    } catch (e) {
      if (e instanceof StoreError && e.code === "Compacted") {
        if (continuing) {
          const err = gone(CONTINUE_TOO_OLD);
          err.status.metadata.continue = encodeContinue(startKey, this.prefix, -1);
          throw err;
        }
        throw gone(LIST_TOO_OLD);
      }
      if (e instanceof StoreError && e.code === "FutureRevision") throw tooLargeResourceVersion(revision, this.rev);
      throw e;
    }
  }

  // ------------------------------------------------------------------------------------------
  // Watches

  watch(opts: WatchOptions): CacheWatch {
    // Without an explicit bufferSize a watcher that falls behind is not cut off: it drops its
    // buffer and continues from the event window (cut off only once the window lost its place).
    const replay = opts.bufferSize === undefined ? (after: number) => this.eventsAfter(after) : undefined;
    const w = new CacheWatcher(opts.filter, Math.max(1, opts.bufferSize ?? this.opts.bufferSize ?? DEFAULT_BUFFER_SIZE),
      opts.allowBookmarks === true, (x) => this.unregister(x), replay);
    if (this.stopped) {
      w.fail(new ApiError(503, "ServiceUnavailable", "watch cache is stopped"));
      return w;
    }
    void this.setUpWatch(w, opts.resourceVersion ?? "").catch((e: unknown) => {
      w.fail(e instanceof Error ? e : new Error(String(e)));
    });
    return w;
  }

  private async setUpWatch(w: CacheWatcher, rvString: string): Promise<void> {
    if (rvString === "" || rvString === "0") {
      if (rvString === "") await this.waitUntilFresh(this.store.currentRevision());
      if (w.closed) return;
      // Snapshot and registration happen in one synchronous step: no event falls between them.
      const snapshot = this.listFromCache(w.filter, 0, undefined, this.rev);
      w.setInitial(snapshot.items, snapshot.revision);
      this.register(w);
      return;
    }
    const rv = parseRevision(rvString);
    if (rv > this.rev) await this.waitUntilFresh(rv);
    if (w.closed) return;
    const backlog = this.eventsAfter(rv);
    if (backlog === undefined) {
      w.fail(gone(`too old resource version: ${rv} (${this.window.floor})`));
      return;
    }
    w.setBacklog(backlog, rv);
    this.register(w);
  }

  private register(w: CacheWatcher): void {
    const hint = w.filter.indexHint;
    const byValue = hint ? this.watcherIndex.get(hint.field) : undefined;
    if (hint && byValue) {
      let set = byValue.get(hint.value);
      if (!set) byValue.set(hint.value, (set = new Set()));
      set.add(w);
    } else {
      this.unindexed.add(w);
    }
    w.registered = true;
    this.watcherCount++;
  }

  private unregister(w: CacheWatcher): void {
    if (!w.registered) return;
    w.registered = false;
    this.watcherCount--;
    if (w.cutOff) this.counters.cutOffWatchers++;
    const hint = w.filter.indexHint;
    const byValue = hint ? this.watcherIndex.get(hint.field) : undefined;
    if (hint && byValue) {
      const set = byValue.get(hint.value);
      set?.delete(w);
      if (set && set.size === 0) byValue.delete(hint.value);
    } else {
      this.unindexed.delete(w);
    }
  }
}
