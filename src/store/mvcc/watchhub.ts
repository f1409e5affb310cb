/**
 * Watch fan-out over an `MvccEngine`'s event log: pure and synchronous. The runner calls
 * `deliver(visible)` whenever the visible revision advances (and once after adding a watcher, on
 * a later tick, so replays never run inside `watch()`); each watcher then receives, revision by
 * revision, the matching events it has not seen yet. A watcher that falls below the compacted
 * revision gets `onError(ErrCompacted)` and is dropped.
 */
import { ErrCompacted, type Watch, type WatchEvent, type WatchHandlers, type WatchOptions, StoreError } from "../types.ts";
import type { MvccEngine } from "./mvcc.ts";
import { type KeyInterval, intervalHas, toInterval } from "./selector.ts";

interface Watcher {
  readonly iv: KeyInterval;
  readonly handlers: WatchHandlers;
  /** The next revision this watcher has to look at. */
  next: number;
  done: boolean;
}

export class WatchHub {
  private watchers = new Set<Watcher>();
  private delivering = false;
  private again = false;
  private lastVisible = 0;

  constructor(private readonly engine: MvccEngine) {}

  get size(): number {
    return this.watchers.size;
  }

  /**
   * Registers a watcher. `visible` is the newest revision the runner exposes; without a
   * `startRevision` the watcher starts after it. Delivers nothing by itself.
   * @throws StoreError("InvalidArgument") for a bad selector or start revision.
   */
  add(opts: WatchOptions, handlers: WatchHandlers, visible: number): Watch {
    const iv = toInterval(opts);
    const start = opts.startRevision ?? 0;
    if (!Number.isSafeInteger(start) || start < 0) {
      throw new StoreError("InvalidArgument", `startRevision must be a non-negative integer, got ${String(start)}`);
    }
    const w: Watcher = { iv, handlers, next: start === 0 ? visible + 1 : start, done: false };
    this.watchers.add(w);
    return {
      cancel: () => {
        w.done = true;
        this.watchers.delete(w);
      },
    };
  }

  /**
   * Brings every watcher up to `visible`. Re-entrant calls (a callback that writes) are folded
   * into the running loop, so callbacks never nest and each watcher sees revisions in order.
   */
  deliver(visible: number): void {
    if (visible > this.lastVisible) this.lastVisible = visible;
    if (this.delivering) {
      this.again = true;
      return;
    }
    this.delivering = true;
    try {
      do {
        this.again = false;
        const upTo = this.lastVisible;
        for (const w of this.watchers) this.catchUp(w, upTo);
      } while (this.again);
    } finally {
      this.delivering = false;
    }
  }

  /** Ends every watcher with `err` (e.g. the store closed). */
  failAll(err: Error): void {
    const all = [...this.watchers];
    this.watchers.clear();
    for (const w of all) this.end(w, err);
  }

  private catchUp(w: Watcher, upTo: number): void {
    const engine = this.engine;
    if (w.done) return;
    if (w.next <= upTo && w.next < engine.compacted) {
      this.end(w, ErrCompacted(w.next, engine.compacted));
      return;
    }
    while (!w.done && w.next <= upTo) {
      const rev = w.next++;
      const events = engine.eventsAt(rev);
      let matched: WatchEvent[] | undefined;
      for (const ev of events) {
        if (intervalHas(w.iv, ev.kv.key)) (matched ??= []).push(ev);
      }
      if (matched === undefined) continue;
      try {
        w.handlers.onEvents(matched, rev);
      } catch (err) {
        // A throwing callback breaks its contract; it must not break the commit path of the
        // store (or other watchers): end only that watch, telling it why.
        this.end(w, err instanceof Error ? err : new Error(String(err)));
      }
    }
  }

  private end(w: Watcher, err: Error): void {
    if (w.done) return;
    w.done = true;
    this.watchers.delete(w);
    try {
      w.handlers.onError(err);
    } catch {
      // Nothing more can be done for a watcher whose error handler throws too.
    }
  }
}
