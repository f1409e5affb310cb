/**
 * One timer for many deadlines. A `TimerQueue` keeps every scheduled task of every runtime that
 * shares it in a binary min-heap and arms exactly one `Clock` timer, for the earliest deadline.
 * This is what lets one process simulate thousands of nodes: an idle container costs no timer,
 * and ten thousand pending crash/exit transitions cost one heap entry each plus one host timer.
 *
 * Cancellation is lazy (the entry is marked dead and dropped when it reaches the top); the heap
 * is rebuilt when more than half its entries are dead, so memory stays proportional to live tasks.
 */
import { type Clock, type TimerHandle, systemClock } from "./clock.ts";

/** A scheduled task; `cancel()` is idempotent and a no-op after it ran. */
export interface ScheduledTask {
  readonly at: number;
  cancel(): void;
}

class Entry implements ScheduledTask {
  constructor(
    readonly at: number,
    readonly seq: number,
    public fn: (() => void) | null,
    readonly queue: TimerQueue,
  ) {}
  cancel(): void {
    if (this.fn === null) return;
    this.fn = null;
    this.queue._cancelled();
  }
}

const before = (a: Entry, b: Entry): boolean => a.at < b.at || (a.at === b.at && a.seq < b.seq);

export class TimerQueue {
  readonly clock: Clock;
  #heap: Entry[] = [];
  #dead = 0;
  #seq = 0;
  #armedAt = Infinity;
  #handle: TimerHandle | undefined;
  #running = false;

  readonly #onError: (err: unknown) => void;

  /**
   * `onError` receives what a task throws (default: logged to stderr); the other tasks still run.
   */
  constructor(clock: Clock = systemClock, onError?: (err: unknown) => void) {
    this.clock = clock;
    this.#onError = onError ?? ((err) => console.error("TimerQueue: a scheduled task threw:", err));
  }

  /** Live scheduled tasks. */
  get size(): number {
    return this.#heap.length - this.#dead;
  }

  /** Calls `fn` at absolute time `atMs` (clock milliseconds); in the past means "as soon as possible". */
  scheduleAt(atMs: number, fn: () => void): ScheduledTask {
    if (Number.isNaN(atMs)) throw new RangeError("TimerQueue.scheduleAt: time is NaN");
    const e = new Entry(atMs, this.#seq++, fn, this);
    this.#push(e);
    this.#arm();
    return e;
  }

  /** Calls `fn` after `ms` milliseconds. */
  schedule(ms: number, fn: () => void): ScheduledTask {
    return this.scheduleAt(this.clock.now() + Math.max(0, ms), fn);
  }

  /** Drops every task and the host timer (for tests and shutdown). */
  clear(): void {
    for (const e of this.#heap) e.fn = null;
    this.#heap = [];
    this.#dead = 0;
    this.#disarm();
  }

  /** @internal called by Entry.cancel */
  _cancelled(): void {
    this.#dead++;
    if (this.#dead > 64 && this.#dead * 2 > this.#heap.length) this.#compact();
    if (this.size === 0) this.#disarm();
  }

  #compact(): void {
    const live = this.#heap.filter((e) => e.fn !== null);
    this.#heap = [];
    this.#dead = 0;
    for (const e of live) this.#push(e);
  }

  #push(e: Entry): void {
    const h = this.#heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  #pop(): Entry | undefined {
    const h = this.#heap;
    const top = h[0];
    const last = h.pop();
    if (top === undefined || last === undefined) return undefined;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l]!, h[m]!)) m = l;
        if (r < h.length && before(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }

  /** Earliest live entry, dropping dead ones off the top. */
  #peek(): Entry | undefined {
    for (;;) {
      const top = this.#heap[0];
      if (top === undefined || top.fn !== null) return top;
      this.#pop();
      this.#dead--;
    }
  }

  #disarm(): void {
    if (this.#handle !== undefined) this.clock.clearTimeout(this.#handle);
    this.#handle = undefined;
    this.#armedAt = Infinity;
  }

  #arm(): void {
    if (this.#running) return; // #fire re-arms when it is done
    const top = this.#peek();
    if (top === undefined) return this.#disarm();
    if (this.#handle !== undefined && this.#armedAt <= top.at) return;
    this.#disarm();
    this.#armedAt = top.at;
    this.#handle = this.clock.setTimeout(() => this.#fire(), top.at - this.clock.now());
  }

  #fire(): void {
    this.#handle = undefined;
    this.#armedAt = Infinity;
    this.#running = true;
    try {
      // Run everything due now; bounded by the heap size at entry plus what callbacks add for "now".
      for (let n = 0; n < 1_000_000; n++) {
        const top = this.#peek();
        if (top === undefined || top.at > this.clock.now()) break;
        this.#pop();
        const fn = top.fn!;
        top.fn = null;
        try {
          fn();
        } catch (err) {
          // A failing task must not stop the others (or kill a process simulating thousands of nodes).
          this.#onError(err);
        }
      }
    } finally {
      this.#running = false;
      this.#arm();
    }
  }
}

let shared: TimerQueue | undefined;

/** The process-wide queue on the system clock that runtimes use unless given their own. */
export function sharedTimerQueue(): TimerQueue {
  shared ??= new TimerQueue(systemClock);
  return shared;
}
