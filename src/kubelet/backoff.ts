/**
 * Per-key exponential backoff with the semantics of the kubelet's CrashLoopBackOff (and image
 * pull backoff): the first failure is retried at once and arms `initialMs`; every further failure
 * within the window doubles the delay up to `maxMs`; an entry untouched for `2 × maxMs` starts
 * over. Pure: time is passed in (epoch ms), so tests drive it without a clock.
 *
 *   const b = new Backoff();                 // 10 s doubling to 5 min (the kubelet's defaults)
 *   if (b.inBackoffSince(key, finishedAt, now)) → wait b.remaining(key, finishedAt, now) ms
 *   else { b.next(key, finishedAt); restart }
 */

export interface BackoffOptions {
  /** First delay (default 10,000 ms, the kubelet's backOffPeriod). */
  readonly initialMs?: number;
  /** Cap (default 300,000 ms, the kubelet's MaxContainerBackOff). */
  readonly maxMs?: number;
}

export const DEFAULT_BACKOFF_INITIAL_MS = 10_000;
export const DEFAULT_BACKOFF_MAX_MS = 300_000;

interface Entry {
  delayMs: number;
  lastUpdate: number;
}

export class Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly #entries = new Map<string, Entry>();

  /** Throws `RangeError` for a non-positive initial delay or a cap below it. */
  constructor(opts: BackoffOptions = {}) {
    this.initialMs = opts.initialMs ?? DEFAULT_BACKOFF_INITIAL_MS;
    this.maxMs = opts.maxMs ?? DEFAULT_BACKOFF_MAX_MS;
    if (!(this.initialMs > 0)) throw new RangeError(`backoff initialMs must be > 0, got ${this.initialMs}`);
    if (!(this.maxMs >= this.initialMs)) throw new RangeError(`backoff maxMs (${this.maxMs}) must be >= initialMs (${this.initialMs})`);
  }

  #expired(e: Entry, at: number): boolean {
    return at - e.lastUpdate > 2 * this.maxMs;
  }

  /** The current delay for `key` (0 when there is none). */
  get(key: string): number {
    return this.#entries.get(key)?.delayMs ?? 0;
  }

  /** Records a failure at `eventMs`: arms the initial delay, or doubles the current one (capped). */
  next(key: string, eventMs: number): number {
    const e = this.#entries.get(key);
    if (e === undefined || this.#expired(e, eventMs)) {
      this.#entries.set(key, { delayMs: this.initialMs, lastUpdate: eventMs });
      return this.initialMs;
    }
    e.delayMs = Math.min(e.delayMs * 2, this.maxMs);
    e.lastUpdate = eventMs;
    return e.delayMs;
  }

  /** True while `nowMs` is within the current delay counted from `eventMs` (e.g. the container's finishedAt). */
  inBackoffSince(key: string, eventMs: number, nowMs: number): boolean {
    return this.remaining(key, eventMs, nowMs) > 0;
  }

  /** Milliseconds left of the delay counted from `eventMs` (0 when not backing off). */
  remaining(key: string, eventMs: number, nowMs: number): number {
    const e = this.#entries.get(key);
    // Expiry is judged at the failure: a container that ran fine for 2 × max before failing starts over.
    if (e === undefined || this.#expired(e, eventMs)) return 0;
    return Math.max(0, eventMs + e.delayMs - nowMs);
  }

  /** Forgets `key` (a pod went away). */
  reset(key: string): void {
    this.#entries.delete(key);
  }

  /** Drops entries untouched for `2 × maxMs` (call now and then). */
  gc(nowMs: number): void {
    for (const [k, e] of this.#entries) if (this.#expired(e, nowMs)) this.#entries.delete(k);
  }

  get size(): number {
    return this.#entries.size;
  }
}
