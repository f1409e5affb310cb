/**
 * Informers: keep a local, indexed copy of one resource in sync with the apiserver by list+watch,
 * and tell event handlers what changed. The shape of client-go's reflector + shared informer:
 *
 *   1. LIST (paged, consistent read) -> replace the store, emit adds/updates/deletes, remember the
 *      list's resourceVersion; `hasSynced()` turns true after the first complete list.
 *   2. WATCH from that resourceVersion with bookmarks; apply each event, track resourceVersion
 *      (bookmarks only advance it).
 *   3. When the server ends the watch normally (its timeout), watch again from the last
 *      resourceVersion. When the watch fails — 410 Expired (HTTP or in-stream ERROR), a broken or
 *      undecodable stream, any other error — LIST again, after an exponential backoff that resets
 *      once a list succeeds (a 410 re-lists at once the first time).
 *
 * The pure part (`replaceAll`, `applyWatchEvent`) is separate from the loop so it can be tested
 * alone; the loop takes its list/watch functions (`ListWatch`) and its sleep from options, so tests
 * drive it with fakes and no network.
 */
import type { KubeObject } from "../api/object.ts";
import { ApiError } from "../api/errors.ts";
import { backoffDelay, sleep as realSleep, type BackoffOptions } from "./backoff.ts";
import { Indexer, keyOf, type IndexFunc, type Lister } from "./indexer.ts";
import type { ObjectList, ResourceClient } from "./resource.ts";
import { watchErrorOf, type WatchEvent } from "./watch.ts";

/** A running watch as the informer needs it. */
export interface WatchLike<T extends KubeObject> extends AsyncIterable<WatchEvent<T>> {
  stop(): void;
}

/** The two calls an informer makes; `listWatchFor` builds them from a `ResourceClient`. */
export interface ListWatch<T extends KubeObject> {
  list(opts: { resourceVersion: string; limit: number; continue?: string; signal: AbortSignal }): Promise<ObjectList<T>>;
  watch(opts: { resourceVersion: string; allowWatchBookmarks: boolean; timeoutSeconds: number; signal: AbortSignal }): Promise<WatchLike<T>>;
}

export interface SelectorOptions {
  /** Restrict to one namespace (namespaced resources). */
  readonly namespace?: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
}

/** List/watch calls for a resource client, with selectors applied. */
export function listWatchFor<T extends KubeObject>(rc: ResourceClient<T>, sel: SelectorOptions = {}): ListWatch<T> {
  const r = sel.namespace !== undefined ? rc.namespace(sel.namespace) : rc;
  const s = {
    ...(sel.labelSelector !== undefined ? { labelSelector: sel.labelSelector } : {}),
    ...(sel.fieldSelector !== undefined ? { fieldSelector: sel.fieldSelector } : {}),
  };
  return {
    list: (o) => r.list({ ...s, resourceVersion: o.resourceVersion, limit: o.limit, ...(o.continue ? { continue: o.continue } : {}), signal: o.signal }),
    watch: (o) => r.watch({ ...s, ...o }),
  };
}

export interface EventHandler<T extends KubeObject> {
  /** `initialList`: the object came from a LIST (not a watch event). */
  onAdd?(obj: T, initialList: boolean): void;
  onUpdate?(oldObj: T, newObj: T): void;
  /** `finalStateUnknown`: the object vanished between lists; `obj` is the last state seen. */
  onDelete?(obj: T, finalStateUnknown: boolean): void;
}

/** A change computed by the pure core, to be dispatched to handlers. */
export type Change<T extends KubeObject> =
  | { readonly type: "add"; readonly obj: T; readonly initialList: boolean }
  | { readonly type: "update"; readonly old: T; readonly obj: T }
  | { readonly type: "delete"; readonly obj: T; readonly finalStateUnknown: boolean };

function rvOf(o: KubeObject): string | undefined {
  return o.metadata?.resourceVersion;
}

/**
 * Replaces the store's content with a full list. Returns the changes: adds for new keys, updates
 * for keys whose resourceVersion changed, deletes (final state unknown) for keys no longer listed.
 */
export function replaceAll<T extends KubeObject>(store: Indexer<T>, items: readonly T[]): Change<T>[] {
  const changes: Change<T>[] = [];
  const seen = new Set<string>();
  for (const obj of items) {
    const key = keyOf(obj);
    seen.add(key);
    const old = store.upsert(obj);
    if (!old) changes.push({ type: "add", obj, initialList: true });
    else if (rvOf(old) !== rvOf(obj)) changes.push({ type: "update", old, obj });
  }
  for (const key of store.keys()) {
    if (seen.has(key)) continue;
    const old = store.remove(key);
    if (old) changes.push({ type: "delete", obj: old, finalStateUnknown: true });
  }
  return changes;
}

/**
 * Applies one ADDED/MODIFIED/DELETED event. Returns the change, or undefined for BOOKMARK.
 * Throws the event's `ApiError` for ERROR events.
 */
export function applyWatchEvent<T extends KubeObject>(store: Indexer<T>, ev: WatchEvent<T>): Change<T> | undefined {
  switch (ev.type) {
    case "ADDED":
    case "MODIFIED": {
      const old = store.upsert(ev.object);
      return old ? { type: "update", old, obj: ev.object } : { type: "add", obj: ev.object, initialList: false };
    }
    case "DELETED": {
      store.remove(keyOf(ev.object));
      return { type: "delete", obj: ev.object, finalStateUnknown: false };
    }
    case "BOOKMARK":
      return undefined;
    case "ERROR":
      throw watchErrorOf(ev);
  }
}

export interface InformerOptions<T extends KubeObject> extends SelectorOptions {
  /** LIST page size (default 500). */
  readonly pageSize?: number;
  /** Server-side watch timeout; default a random 5–10 min so many informers do not re-watch together. */
  readonly watchTimeoutSeconds?: number;
  readonly backoff?: BackoffOptions;
  readonly indexers?: Readonly<Record<string, IndexFunc<T>>>;
  /** Errors the loop recovered from (list/watch failures); default: ignored. */
  readonly onError?: (err: unknown) => void;
  /** Injectable for tests. */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly random?: () => number;
}

export interface InformerStats {
  lists: number;
  watches: number;
  /** Events applied (not counting bookmarks). */
  events: number;
  bookmarks: number;
  errors: number;
}

export interface Informer<T extends KubeObject> {
  /** The local cache (read-only for everyone but the informer). */
  readonly store: Lister<T>;
  /**
   * Registers handlers. When added after the informer synced, `onAdd` is replayed for every
   * object in the store. Returns a function that removes them.
   */
  addEventHandler(h: EventHandler<T>): () => void;
  /** Starts the list+watch loop (idempotent). */
  start(): void;
  /** Stops the loop and the running watch; resolves when the loop has exited. */
  stop(): Promise<void>;
  /** True once the first full LIST has been applied. */
  hasSynced(): boolean;
  /** Resolves when synced; rejects with `Error` on timeout or abort. */
  waitForSync(opts?: { timeoutMs?: number; signal?: AbortSignal }): Promise<void>;
  /** The resourceVersion the cache reflects ("" before the first list). */
  lastSyncResourceVersion(): string;
  readonly stats: Readonly<InformerStats>;
}

function isGone(e: unknown): boolean {
  return e instanceof ApiError && (e.code === 410 || e.reason === "Expired" || e.reason === "Gone");
}

class InformerImpl<T extends KubeObject> implements Informer<T> {
  readonly store: Indexer<T>;
  readonly stats: InformerStats = { lists: 0, watches: 0, events: 0, bookmarks: 0, errors: 0 };
  private readonly handlers = new Set<EventHandler<T>>();
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;
  private synced = false;
  private rv = "";
  private syncWaiters: Array<() => void> = [];

  constructor(private readonly lw: ListWatch<T>, private readonly opts: InformerOptions<T>) {
    this.store = new Indexer<T>(opts.indexers ?? {});
  }

  addEventHandler(h: EventHandler<T>): () => void {
    this.handlers.add(h);
    if (this.synced && h.onAdd) for (const o of this.store.list()) this.call(() => h.onAdd!(o, true));
    return () => this.handlers.delete(h);
  }

  start(): void {
    this.running ??= this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
  }

  hasSynced(): boolean {
    return this.synced;
  }

  lastSyncResourceVersion(): string {
    return this.rv;
  }

  waitForSync(o: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const onAbort = (): void => fail("waiting for the informer to sync was aborted");
      const done = (): void => {
        if (timer) clearTimeout(timer);
        o.signal?.removeEventListener("abort", onAbort); // the signal usually outlives the wait
        resolve();
      };
      this.syncWaiters.push(done);
      const fail = (msg: string): void => {
        if (timer) clearTimeout(timer);
        o.signal?.removeEventListener("abort", onAbort);
        this.syncWaiters = this.syncWaiters.filter((w) => w !== done);
        reject(new Error(msg));
      };
      if (o.timeoutMs !== undefined) timer = setTimeout(() => fail(`informer did not sync within ${o.timeoutMs} ms`), o.timeoutMs);
      o.signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  private call(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      // A failing handler must not stop the informer or starve other handlers.
      this.opts.onError?.(e);
    }
  }

  private dispatch(changes: readonly Change<T>[]): void {
    for (const c of changes) this.dispatchOne(c);
  }

  /** One change to every handler (no closure or array per event: this runs for every watch event). */
  private dispatchOne(c: Change<T>): void {
    for (const h of this.handlers) {
      try {
        if (c.type === "add") h.onAdd?.(c.obj, c.initialList);
        else if (c.type === "update") h.onUpdate?.(c.old, c.obj);
        else h.onDelete?.(c.obj, c.finalStateUnknown);
      } catch (e) {
        // A failing handler must not stop the informer or starve other handlers.
        this.opts.onError?.(e);
      }
    }
  }

  private async list(signal: AbortSignal): Promise<void> {
    const items: T[] = [];
    let cont: string | undefined;
    let rv = "";
    const limit = this.opts.pageSize ?? 500;
    for (let page = 0; page < 1_000_000; page++) {
      const l = await this.lw.list({ resourceVersion: "", limit, ...(cont ? { continue: cont } : {}), signal });
      for (const it of l.items) items.push(it);
      rv = l.metadata.resourceVersion ?? rv;
      cont = l.metadata.continue;
      if (!cont) break;
    }
    this.stats.lists++;
    if (signal.aborted) return;
    const changes = replaceAll(this.store, items);
    this.rv = rv;
    this.dispatch(changes);
    if (!this.synced) {
      this.synced = true;
      for (const w of this.syncWaiters.splice(0)) w();
    }
  }

  /** Watches until the server ends the stream normally (returns) or it fails (throws). */
  private async watchOnce(signal: AbortSignal): Promise<number> {
    const timeoutSeconds = this.opts.watchTimeoutSeconds ?? 300 + Math.floor((this.opts.random ?? Math.random)() * 300);
    const w = await this.lw.watch({ resourceVersion: this.rv, allowWatchBookmarks: true, timeoutSeconds, signal });
    this.stats.watches++;
    let n = 0;
    const onAbort = (): void => w.stop();
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      for await (const ev of w) {
        if (signal.aborted) break;
        const change = applyWatchEvent(this.store, ev); // throws on ERROR events
        const rv = rvOf(ev.object);
        if (rv !== undefined && rv !== "") this.rv = rv;
        if (ev.type === "BOOKMARK") this.stats.bookmarks++;
        else this.stats.events++;
        if (change) this.dispatchOne(change);
        n++;
      }
    } finally {
      signal.removeEventListener("abort", onAbort);
      w.stop();
    }
    return n;
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    const sleep = this.opts.sleep ?? realSleep;
    const random = this.opts.random ?? Math.random;
    let failures = 0;
    while (!signal.aborted) {
      try {
        await this.list(signal);
        failures = 0;
        // Watch, re-watching from the last resourceVersion while the server ends streams normally.
        for (let quiet = 0; !signal.aborted;) {
          const t0 = Date.now();
          const n = await this.watchOnce(signal);
          if (signal.aborted) return;
          // A stream that ends at once with nothing in it: do not spin.
          quiet = n === 0 && Date.now() - t0 < 1000 ? quiet + 1 : 0;
          if (quiet > 0) await sleep(backoffDelay(quiet - 1, this.opts.backoff, random), signal);
        }
      } catch (e) {
        if (signal.aborted) return;
        this.stats.errors++;
        this.opts.onError?.(e);
        const delay = isGone(e) && failures === 0 ? 0 : backoffDelay(failures, this.opts.backoff, random);
        failures++;
        if (delay > 0) await sleep(delay, signal);
      }
    }
  }
}

/**
 * Creates (does not start) an informer for a resource client or explicit list/watch functions.
 *
 *   const inf = createInformer(client.resourceFor("v1", "Pod"), { fieldSelector: "spec.nodeName=n1" });
 *   inf.addEventHandler({ onAdd: (p) => queue.add(keyOf(p)) });
 *   inf.start(); await inf.waitForSync();
 */
export function createInformer<T extends KubeObject>(
  source: ResourceClient<T> | ListWatch<T>,
  opts: InformerOptions<T> = {},
): Informer<T> {
  const lw = "ref" in source ? listWatchFor(source, opts) : source;
  return new InformerImpl<T>(lw, opts);
}
