/**
 * A rate-limited work queue with client-go's semantics, for controllers:
 *
 * - `add(key)` is deduplicated: a key waiting in the queue is not queued twice.
 * - A key being processed (handed out by `get` and not yet `done`) is never handed out again
 *   concurrently; if it is added meanwhile it is marked dirty and re-queued by `done`.
 * - `addRateLimited(key)` re-adds after the rate limiter's delay (per-item exponential backoff
 *   combined with an overall token bucket); `forget(key)` resets the item's backoff.
 * - `addAfter(key, ms)` re-adds after a fixed delay.
 * - `shutDown()` stops accepting adds; keys already queued are still handed out, after which `get`
 *   resolves undefined (callers already waiting get undefined at once). `shutDownWithDrain()`
 *   also waits until every handed-out key is `done`.
 *
 *   for (let key; (key = await queue.get()) !== undefined;) {
 *     try { await sync(key); queue.forget(key); } catch { queue.addRateLimited(key); }
 *     finally { queue.done(key); }
 *   }
 *
 * Time comes from an injectable `Clock` so tests run without waiting.
 */

/** Decides how long an item waits before it is re-added after a failure. */
export interface RateLimiter<K> {
  /** The delay for the next retry of `item` (and records the attempt). */
  when(item: K): number;
  /** Clears the item's failure history. */
  forget(item: K): void;
  /** How many times `when` was asked for `item` since it was last forgotten. */
  numRequeues(item: K): number;
}

/** Per-item exponential backoff: base * 2^failures, capped (client-go: 5 ms .. 1000 s). */
export class ItemExponentialRateLimiter<K> implements RateLimiter<K> {
  private readonly failures = new Map<K, number>();
  constructor(private readonly baseMs = 5, private readonly maxMs = 1_000_000) {}

  when(item: K): number {
    const n = this.failures.get(item) ?? 0;
    this.failures.set(item, n + 1);
    return Math.min(this.maxMs, this.baseMs * 2 ** Math.min(n, 60));
  }

  forget(item: K): void {
    this.failures.delete(item);
  }

  numRequeues(item: K): number {
    return this.failures.get(item) ?? 0;
  }
}

/** Overall token bucket: `qps` tokens per second, at most `burst` saved up (client-go: 10 qps, 100 burst). */
export class BucketRateLimiter<K> implements RateLimiter<K> {
  private tokens: number;
  private last: number;
  constructor(private readonly qps = 10, private readonly burst = 100, private readonly now: () => number = Date.now) {
    if (!(qps > 0) || !(burst >= 1)) throw new RangeError("BucketRateLimiter needs qps > 0 and burst >= 1");
    this.tokens = burst;
    this.last = now();
  }

  when(_item: K): number {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.qps);
    this.last = t;
    this.tokens -= 1; // reserve a token; a negative balance is the wait
    return this.tokens >= 0 ? 0 : (-this.tokens / this.qps) * 1000;
  }

  forget(_item: K): void {}

  numRequeues(_item: K): number {
    return 0;
  }
}

/** The largest delay of several limiters. */
export class MaxOfRateLimiter<K> implements RateLimiter<K> {
  private readonly limiters: readonly RateLimiter<K>[];
  constructor(...limiters: RateLimiter<K>[]) {
    this.limiters = limiters;
  }

  when(item: K): number {
    let d = 0;
    for (const l of this.limiters) d = Math.max(d, l.when(item));
    return d;
  }

  forget(item: K): void {
    for (const l of this.limiters) l.forget(item);
  }

  numRequeues(item: K): number {
    let n = 0;
    for (const l of this.limiters) n = Math.max(n, l.numRequeues(item));
    return n;
  }
}

/** client-go's default controller rate limiter. */
export function defaultRateLimiter<K>(): RateLimiter<K> {
  return new MaxOfRateLimiter<K>(new ItemExponentialRateLimiter<K>(5, 1_000_000), new BucketRateLimiter<K>(10, 100));
}

export interface Clock {
  now(): number;
  /** Calls `fn` after `ms`; returns a cancel function. */
  setTimer(fn: () => void, ms: number): () => void;
}

export const realClock: Clock = {
  now: () => Date.now(),
  setTimer: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return () => clearTimeout(t);
  },
};

export interface WorkQueueOptions<K> {
  readonly rateLimiter?: RateLimiter<K>;
  readonly clock?: Clock;
  /** Names the queue (metrics, logs). */
  readonly name?: string;
}

export class WorkQueue<K = string> {
  readonly name: string;
  private readonly queue: K[] = [];
  private head = 0;
  private readonly dirty = new Set<K>();
  private readonly processing = new Set<K>();
  /** Delayed adds: item -> time it becomes ready (earliest wins). */
  private readonly waiting = new Map<K, { at: number; cancel: () => void }>();
  private readonly getters: Array<(k: K | undefined) => void> = [];
  private drainWaiters: Array<() => void> = [];
  private shuttingDown = false;
  private readonly limiter: RateLimiter<K>;
  private readonly clock: Clock;

  constructor(opts: WorkQueueOptions<K> = {}) {
    this.name = opts.name ?? "";
    this.limiter = opts.rateLimiter ?? defaultRateLimiter<K>();
    this.clock = opts.clock ?? realClock;
  }

  /** Keys queued and not yet handed out. */
  get length(): number {
    return this.queue.length - this.head;
  }

  /** Keys handed out and not yet `done`. */
  get processingCount(): number {
    return this.processing.size;
  }

  isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** Queues `item` unless it is already waiting; ignored after shutdown. */
  add(item: K): void {
    if (this.shuttingDown || this.dirty.has(item)) return;
    this.dirty.add(item);
    if (this.processing.has(item)) return; // re-queued by done()
    const g = this.getters.shift();
    if (g) {
      this.dirty.delete(item);
      this.processing.add(item);
      g(item);
      return;
    }
    this.queue.push(item);
  }

  /**
   * The next key, waiting for one if the queue is empty. Resolves undefined once the queue is
   * shut down (immediately for callers waiting then; queued keys are still handed out first).
   * The caller must call `done(key)` when finished with it.
   */
  get(): Promise<K | undefined> {
    if (this.length > 0) {
      const item = this.queue[this.head]!;
      this.head++;
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
      this.dirty.delete(item);
      this.processing.add(item);
      return Promise.resolve(item);
    }
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.getters.push(resolve));
  }

  /** Marks `item` finished; if it was added while processing, it is queued again. */
  done(item: K): void {
    if (!this.processing.delete(item)) return;
    if (this.dirty.has(item)) {
      this.dirty.delete(item);
      this.add(item);
    }
    if (this.processing.size === 0) for (const w of this.drainWaiters.splice(0)) w();
  }

  /** Adds `item` after `ms` (at once when ms <= 0). An earlier pending delayed add wins. */
  addAfter(item: K, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) {
      this.add(item);
      return;
    }
    const at = this.clock.now() + ms;
    const cur = this.waiting.get(item);
    if (cur && cur.at <= at) return;
    cur?.cancel();
    const cancel = this.clock.setTimer(() => {
      this.waiting.delete(item);
      this.add(item);
    }, ms);
    this.waiting.set(item, { at, cancel });
  }

  /** Adds `item` after the rate limiter's delay (exponential per item). */
  addRateLimited(item: K): void {
    this.addAfter(item, this.limiter.when(item));
  }

  /** Resets `item`'s backoff (call after a successful sync). */
  forget(item: K): void {
    this.limiter.forget(item);
  }

  numRequeues(item: K): number {
    return this.limiter.numRequeues(item);
  }

  /** Stops the queue: no more adds; waiting `get` calls resolve undefined; delayed adds are dropped. */
  shutDown(): void {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    for (const w of this.waiting.values()) w.cancel();
    this.waiting.clear();
    for (const g of this.getters.splice(0)) g(undefined);
  }

  /** Shuts down and resolves once every handed-out key is `done`. */
  shutDownWithDrain(): Promise<void> {
    this.shutDown();
    if (this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }
}
