/** Private helpers of the correlators: a bounded LRU map and a token bucket over an injected clock. */

/** A Map that keeps at most `max` entries, evicting the least recently used (get and set both count as use). */
export class LruMap<K, V> {
  readonly #m = new Map<K, V>();
  constructor(private readonly max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`LRU size must be a positive integer, got ${max}`);
  }
  get size(): number {
    return this.#m.size;
  }
  get(k: K): V | undefined {
    const v = this.#m.get(k);
    if (v !== undefined) {
      this.#m.delete(k);
      this.#m.set(k, v);
    }
    return v;
  }
  set(k: K, v: V): void {
    this.#m.delete(k);
    this.#m.set(k, v);
    while (this.#m.size > this.max) {
      const oldest = this.#m.keys().next();
      if (oldest.done === true) break;
      this.#m.delete(oldest.value);
    }
  }
  delete(k: K): void {
    this.#m.delete(k);
  }
  /** Entries from least to most recently used. */
  entries(): IterableIterator<[K, V]> {
    return this.#m.entries();
  }
}

/**
 * A token bucket: starts full with `burst` tokens and gains one every `refillMs` (never above
 * `burst`). `take(now)` spends a token and says whether there was one.
 */
export class TokenBucket {
  #tokens: number;
  #at: number;
  constructor(private readonly burst: number, private readonly refillMs: number, now: number) {
    this.#tokens = burst;
    this.#at = now;
  }
  take(now: number): boolean {
    if (now > this.#at) {
      this.#tokens = Math.min(this.burst, this.#tokens + (now - this.#at) / this.refillMs);
      this.#at = now;
    }
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
