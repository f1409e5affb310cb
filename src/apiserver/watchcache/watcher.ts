/**
 * One watch on the cache: an async iterator over WatchItems fed from three sources, in order:
 * (1) synthetic ADDED events for a snapshot (resourceVersion ""/"0"), (2) a backlog of window
 * events after the requested resourceVersion, (3) live events pushed by the cache's dispatcher.
 * Only (3) is buffered; once `bufferSize` live items wait unread, the watcher drops its buffer:
 * - with a `replay` source (the cache's event window), it stops taking live events and, when its
 *   reader gets there, continues with the window's events after the last one it handed out, then
 *   live again — a slow client loses nothing while the window still holds its place, and is cut
 *   off (410 Expired) only once it does not;
 * - without one, it is cut off at once: iteration ends and `error` is a 410 Expired ApiError.
 * Either way a slow client costs at most `bufferSize` references and never slows other watchers.
 */
import { ApiError } from "../../api/errors.ts";
import type { CacheEvent, CacheWatch, CachedObject, ObjectFilter, WatchItem } from "./types.ts";

/** An event as the cache keeps it: knows how to show its previous state as a DELETED object. */
export interface WindowEvent extends CacheEvent {
  /** `prev` re-stamped with this event's revision (memoized): the object of a DELETED sent to
   * a watcher whose filter the object left. */
  exitObject(): CachedObject;
}

export const DEFAULT_BUFFER_SIZE = 1000;

function visible(filter: ObjectFilter, obj: CachedObject): boolean {
  if (filter.namespace !== undefined && filter.namespace !== obj.namespace) return false;
  return filter.everything === true || filter.matches(obj.labels, obj.fields);
}

/**
 * What a watcher with `filter` sees of `ev`: the event itself, ADDED/DELETED when the object
 * enters/leaves the filter, or nothing.
 */
export function translate(filter: ObjectFilter, ev: WindowEvent): CacheEvent | undefined {
  if (ev.type !== "MODIFIED" || ev.prev === undefined) return visible(filter, ev.object) ? ev : undefined;
  const now = visible(filter, ev.object);
  const before = visible(filter, ev.prev);
  if (now && before) return ev;
  if (now) return { type: "ADDED", object: ev.object, prev: ev.prev, revision: ev.revision };
  if (before) return { type: "DELETED", object: ev.exitObject(), prev: ev.prev, revision: ev.revision };
  return undefined;
}

export function cutOffError(bufferSize: number): ApiError {
  return new ApiError(410, "Expired",
    `watch closed: the client fell more than ${bufferSize} events behind; list again and restart the watch`);
}

/** A lagging watcher whose place the event window no longer holds. */
export function fellOutOfWindowError(revision: number): ApiError {
  return new ApiError(410, "Expired",
    `watch closed: the client fell behind the watch cache's event window (last event sent: ${revision}); list again and restart the watch`);
}

/** Events after a revision from the event window; undefined when that revision was evicted. */
export type ReplaySource = (afterRevision: number) => readonly WindowEvent[] | undefined;

export class CacheWatcher implements CacheWatch {
  error?: Error;
  /** Set by the cache once the watcher is registered for live events. */
  registered = false;
  /** True when the watcher was ended for falling `bufferSize` items behind. */
  cutOff = false;
  private initial: readonly CachedObject[] = [];
  private initialPos = 0;
  private backlog: readonly WindowEvent[] = [];
  private backlogPos = 0;
  private queue: Array<WatchItem | undefined> = [];
  private queueHead = 0;
  private waiters: Array<(r: IteratorResult<WatchItem>) => void> = [];
  private done = false;
  /**
   * Every event up to this revision is handed out or waiting in `initial`/`backlog` (which come
   * before the live queue): where a lagging watcher resumes.
   */
  private position = 0;
  /** Dropped its live buffer; reads continue from the replay source. */
  private lagging = false;
  /** Times the buffer was dropped for replay (stats/tests). */
  lagCount = 0;

  constructor(
    readonly filter: ObjectFilter,
    readonly bufferSize: number,
    readonly allowBookmarks: boolean,
    private readonly onClose: (w: CacheWatcher) => void,
    private readonly replay?: ReplaySource,
  ) {}

  get closed(): boolean {
    return this.done;
  }

  /** Items waiting in the live buffer. */
  get buffered(): number {
    return this.queue.length - this.queueHead;
  }

  /** A snapshot at `revision` (sent as ADDED first). */
  setInitial(items: readonly CachedObject[], revision = 0): void {
    this.initial = items;
    this.initialPos = 0;
    this.position = revision;
    this.wake();
  }

  /** The window's events after `revision` (the watch's resourceVersion). */
  setBacklog(events: readonly WindowEvent[], revision = 0): void {
    this.backlog = events;
    this.backlogPos = 0;
    this.position = revision;
    this.wake();
  }

  /** Hands pending items to waiting `next()` calls. */
  private wake(): void {
    while (this.waiters.length > 0) {
      const item = this.take();
      if (item === undefined) return;
      (this.waiters.shift() as (r: IteratorResult<WatchItem>) => void)({ done: false, value: item });
    }
  }

  /** Live event from the dispatcher (already known to concern this watcher's index bucket). */
  deliver(ev: WindowEvent): void {
    if (this.done || this.lagging) return; // a lagging watcher reads the window instead
    const item = translate(this.filter, ev);
    if (item !== undefined) this.push(item);
  }

  /** A bookmark, only when the watcher is idle (nothing pending): a busy one needs none. */
  bookmark(revision: number): void {
    if (this.done || !this.allowBookmarks || this.pending()) return;
    this.push({ type: "BOOKMARK", revision });
  }

  /** Ends the watch with `err` (dropping anything unread). */
  fail(err: Error): void {
    if (this.done) return;
    this.error = err;
    this.finish();
  }

  stop(): void {
    this.finish();
  }

  [Symbol.asyncIterator](): AsyncIterator<WatchItem> {
    return {
      next: () => this.next(),
      return: () => {
        this.stop();
        return Promise.resolve({ done: true, value: undefined });
      },
    };
  }

  private pending(): boolean {
    return this.lagging || this.initialPos < this.initial.length || this.backlogPos < this.backlog.length || this.buffered > 0;
  }

  private push(item: WatchItem): void {
    const w = this.pending() ? undefined : this.waiters.shift();
    if (w !== undefined) {
      if (item.type !== "BOOKMARK") this.position = item.revision;
      w({ done: false, value: item });
      return;
    }
    if (this.buffered >= this.bufferSize) {
      const next = this.firstPendingRevision();
      if (this.replay !== undefined && (next === undefined || next > this.position)) {
        if (item.type === "BOOKMARK") return;
        // Drop the buffer (and the rest of a backlog): all of it is in the window after
        // `next - 1`, and nothing before `next` concerns this watcher any more (it took all of
        // that), so resuming there does not depend on how long the watcher was idle before.
        if (next !== undefined) this.position = Math.max(this.position, next - 1);
        this.lagging = true;
        this.lagCount++;
        this.queue = [];
        this.queueHead = 0;
        this.backlog = [];
        this.backlogPos = 0;
        return;
      }
      this.cutOff = true;
      this.fail(cutOffError(this.bufferSize));
      return;
    }
    this.queue.push(item);
  }

  /** Revision of the first event not handed out yet from the backlog or the live buffer. */
  private firstPendingRevision(): number | undefined {
    if (this.backlogPos < this.backlog.length) return (this.backlog[this.backlogPos] as WindowEvent).revision;
    for (let i = this.queueHead; i < this.queue.length; i++) {
      const it = this.queue[i];
      if (it !== undefined && it.type !== "BOOKMARK") return it.revision;
    }
    return undefined;
  }

  private take(): WatchItem | undefined {
    while (this.initialPos < this.initial.length) {
      const obj = this.initial[this.initialPos++] as CachedObject;
      return { type: "ADDED", object: obj, revision: obj.revision };
    }
    for (;;) {
      while (this.backlogPos < this.backlog.length) {
        const ev = this.backlog[this.backlogPos++] as WindowEvent;
        this.position = ev.revision;
        const item = translate(this.filter, ev);
        if (item !== undefined) return item;
      }
      if (!this.lagging) break;
      // Caught up with what was read before falling behind: continue from the window, which
      // holds every event up to now; live events queue up behind it again.
      const events = (this.replay as ReplaySource)(this.position);
      this.lagging = false;
      if (events === undefined) {
        this.cutOff = true;
        this.fail(fellOutOfWindowError(this.position));
        return undefined;
      }
      this.backlog = events;
      this.backlogPos = 0;
    }
    if (this.queueHead < this.queue.length) {
      const item = this.queue[this.queueHead] as WatchItem;
      this.queue[this.queueHead++] = undefined; // release the reference
      if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.queueHead);
        this.queueHead = 0;
      }
      if (item.type !== "BOOKMARK") this.position = item.revision;
      return item;
    }
    return undefined;
  }

  private next(): Promise<IteratorResult<WatchItem>> {
    if (this.done) return Promise.resolve({ done: true, value: undefined });
    const item = this.take();
    if (item !== undefined) {
      // Release the snapshot/backlog arrays once consumed.
      if (this.initialPos >= this.initial.length && this.initial.length) { this.initial = []; this.initialPos = 0; }
      if (this.backlogPos >= this.backlog.length && this.backlog.length) { this.backlog = []; this.backlogPos = 0; }
      return Promise.resolve({ done: false, value: item });
    }
    if (this.done) return Promise.resolve({ done: true, value: undefined }); // take() may end the watch
    return new Promise((resolve) => { this.waiters.push(resolve); });
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.initial = [];
    this.backlog = [];
    this.queue = [];
    this.queueHead = 0;
    this.onClose(this);
    for (const w of this.waiters.splice(0)) w({ done: true, value: undefined });
  }
}
