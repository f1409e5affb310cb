/**
 * Coalesces concurrent identical reads (the docker runtime's container lists) without ever
 * answering with a result older than the call.
 *
 *   const lists = new Coalescer<Summary[]>();
 *   const xs = await lists.run(filtersJson, () => docker.listContainers({ all: true, filters: filtersJson }));
 *
 * Contract, per key:
 * - No read in flight: `fn` starts now; the caller gets its result.
 * - A read in flight (it may have started before this call, so it may miss a write the caller just
 *   made): the caller waits for the one follow-up read that starts when the in-flight one settles;
 *   every caller arriving meanwhile shares that follow-up. So each caller's result comes from a read
 *   that started after the call did (read-your-writes holds), and at most two reads per key are
 *   ever pending.
 * - A failed read rejects exactly the callers that shared it; nothing is cached after settling.
 * Callers share one result object: treat it as read-only.
 */
export class Coalescer<T> {
  readonly #inflight = new Map<string, Promise<T>>();
  readonly #queued = new Map<string, Promise<T>>();
  /** Reads actually started (for tests and stats). */
  started = 0;

  run(key: string, fn: () => Promise<T>): Promise<T> {
    const queued = this.#queued.get(key);
    if (queued !== undefined) return queued;
    const current = this.#inflight.get(key);
    if (current === undefined) return this.#start(key, fn);
    const settle = (): Promise<T> => {
      this.#queued.delete(key);
      return this.#start(key, fn);
    };
    const next = current.then(settle, settle);
    this.#queued.set(key, next);
    return next;
  }

  /** Number of keys with a read in flight or queued. */
  get pending(): number {
    return new Set([...this.#inflight.keys(), ...this.#queued.keys()]).size;
  }

  #start(key: string, fn: () => Promise<T>): Promise<T> {
    this.started++;
    let p: Promise<T>;
    try {
      p = fn();
    } catch (err) {
      p = Promise.reject(err);
    }
    this.#inflight.set(key, p);
    const clear = (): void => {
      if (this.#inflight.get(key) === p) this.#inflight.delete(key);
    };
    p.then(clear, clear);
    return p;
  }
}
