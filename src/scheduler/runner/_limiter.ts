/**
 * Bounded concurrency for fire-and-forget API writes: at most `max` run at once, at most
 * `maxQueued` wait; beyond that `run` rejects at once with `LimiterFullError` (callers drop the
 * write, as upstream's event broadcaster drops events when its channel is full).
 */
export class LimiterFullError extends Error {
  constructor() {
    super("too many pending writes");
    this.name = "LimiterFullError";
  }
}

export class Limiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly max: number, private readonly maxQueued = Infinity) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`limiter concurrency must be a positive integer, got ${max}`);
  }

  /** Running + waiting tasks. */
  get size(): number {
    return this.active + this.waiting.length;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.max) {
      if (this.waiting.length >= this.maxQueued) throw new LimiterFullError();
      // The finishing task hands its slot over: `active` stays as it is.
      await new Promise<void>((r) => this.waiting.push(r));
    } else this.active++;
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else if (--this.active === 0) for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  /** Resolves once nothing runs or waits. */
  idle(): Promise<void> {
    if (this.size === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }
}
