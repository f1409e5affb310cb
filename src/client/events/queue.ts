/**
 * `EventWriteQueue`: the broadcaster's bounded, non-blocking write queue.
 *
 * Contract:
 * - `push` never blocks and never throws: it returns false (and counts `dropped`) when the queue
 *   holds `maxQueued` writes (waiting, held or backing off) and the write cannot be folded into one
 *   it already holds. Events are best effort, as upstream's broadcaster.
 * - At most `concurrency` writes run at once; writes of one Event (`key` = namespace/name) run one
 *   at a time in order. A write pushed while an earlier write of the same Event waits is folded
 *   into it (`coalesced`): writes carry the Event's full state, so the newest state wins and a
 *   pending create stays a create (of the newest state).
 * - A failed write is retried with exponential backoff when `retriable(err)` (transport errors,
 *   429 and 5xx by default), at most `maxAttempts` attempts in all; then it is given up (`failed`).
 * - `idle()` resolves once nothing is queued, running or backing off. `close()` drops what waits.
 */
import type { KubeObject } from "../../api/object.ts";
import { isApiError } from "../../api/errors.ts";
import { backoffDelay, type BackoffOptions } from "../backoff.ts";
import type { EventStats } from "./types.ts";

/** One write of one Event: `create` (the Event may not exist yet) or a `patch` of it. */
export interface EventWrite {
  /** `namespace/name` of the Event. */
  readonly key: string;
  readonly create: boolean;
  /** The Event's full state after this write (used to create it). */
  readonly event: KubeObject;
  /** For `create: false`: the merge patch (absolute values, so the newest patch supersedes older ones). */
  readonly patch?: Record<string, unknown>;
}

export interface QueueOptions {
  /** Writes in flight at once (default 4). */
  readonly concurrency?: number;
  /** Writes held at most (default 1,000, as upstream's broadcaster queue). */
  readonly maxQueued?: number;
  /** Attempts per write, the first included (default 3). */
  readonly maxAttempts?: number;
  /** Retry delays (default 500 ms doubling, at most 10 s, 20% jitter). */
  readonly backoff?: BackoffOptions;
  /** Which errors are worth another attempt (default: non-API errors, 429, 500, 502, 503, 504). */
  readonly retriable?: (err: unknown) => boolean;
}

export type WriteOutcome = "created" | "patched";

export function defaultRetriable(err: unknown): boolean {
  if (!isApiError(err)) return true;
  return err.code === 429 || err.code === 500 || err.code === 502 || err.code === 503 || err.code === 504;
}

function merge(older: EventWrite, newer: EventWrite): EventWrite {
  return { key: newer.key, create: older.create || newer.create, event: newer.event, ...(newer.patch !== undefined ? { patch: newer.patch } : {}) };
}

export class EventWriteQueue {
  readonly #write: (w: EventWrite) => Promise<WriteOutcome>;
  readonly #stats: EventStats;
  readonly #concurrency: number;
  readonly #maxQueued: number;
  readonly #maxAttempts: number;
  readonly #backoff: BackoffOptions;
  readonly #retriable: (err: unknown) => boolean;
  /** Writes whose Event has nothing in flight, oldest first. */
  readonly #ready = new Map<string, EventWrite>();
  /** Writes waiting for an earlier write of the same Event. */
  readonly #held = new Map<string, EventWrite>();
  /** Events with a write running or backing off. */
  readonly #busy = new Set<string>();
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  /** Failed attempts so far of the Event's current write. */
  readonly #attempts = new Map<string, number>();
  #running = 0;
  #backingOff = 0;
  #closed = false;
  #idle: Array<() => void> = [];

  constructor(write: (w: EventWrite) => Promise<WriteOutcome>, stats: EventStats, opts: QueueOptions = {}) {
    this.#write = write;
    this.#stats = stats;
    this.#concurrency = opts.concurrency ?? 4;
    this.#maxQueued = opts.maxQueued ?? 1000;
    this.#maxAttempts = opts.maxAttempts ?? 3;
    this.#backoff = opts.backoff ?? { initialMs: 500, maxMs: 10_000 };
    this.#retriable = opts.retriable ?? defaultRetriable;
    for (const [k, v] of [["concurrency", this.#concurrency], ["maxQueued", this.#maxQueued], ["maxAttempts", this.#maxAttempts]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`${k} must be a positive integer, got ${v}`);
    }
  }

  /** Writes held (waiting, held behind their Event's write, or backing off); running ones excluded. */
  get length(): number {
    return this.#ready.size + this.#held.size + this.#backingOff;
  }

  get running(): number {
    return this.#running;
  }

  /** Queues `w`; false when it was dropped (queue full or closed). Never blocks. */
  push(w: EventWrite): boolean {
    if (this.#closed) {
      this.#stats.dropped++;
      return false;
    }
    const waiting = this.#ready.get(w.key);
    if (waiting !== undefined) {
      this.#ready.set(w.key, merge(waiting, w)); // keeps its place in line
      this.#stats.coalesced++;
      return true;
    }
    const held = this.#held.get(w.key);
    if (held !== undefined) {
      this.#held.set(w.key, merge(held, w));
      this.#stats.coalesced++;
      return true;
    }
    if (this.length >= this.#maxQueued) {
      this.#stats.dropped++;
      return false;
    }
    if (this.#busy.has(w.key)) this.#held.set(w.key, w);
    else this.#ready.set(w.key, w);
    this.#pump();
    return true;
  }

  /** Resolves once nothing is queued, running or backing off. */
  idle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Drops what waits (counted as dropped) and cancels retries; running writes finish. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#stats.dropped += this.#ready.size + this.#held.size + this.#backingOff;
    this.#timers.clear();
    this.#ready.clear();
    this.#held.clear();
    this.#backingOff = 0;
    this.#busy.clear();
    this.#attempts.clear();
    this.#settle();
  }

  #isIdle(): boolean {
    return this.#running === 0 && this.length === 0;
  }

  #settle(): void {
    if (!this.#isIdle()) return;
    const waiters = this.#idle;
    this.#idle = [];
    for (const r of waiters) r();
  }

  #pump(): void {
    while (this.#running < this.#concurrency && this.#ready.size > 0) {
      const first = this.#ready.entries().next();
      if (first.done === true) break;
      const [key, w] = first.value;
      this.#ready.delete(key);
      this.#busy.add(key);
      this.#run(w);
    }
  }

  #run(w: EventWrite): void {
    this.#running++;
    let p: Promise<WriteOutcome>;
    try {
      p = this.#write(w);
    } catch (e) {
      p = Promise.reject(e);
    }
    p.then(
      (outcome) => {
        this.#stats[outcome]++;
        this.#release(w.key);
      },
      (err: unknown) => {
        const attempt = (this.#attempts.get(w.key) ?? 0) + 1;
        if (!this.#closed && attempt < this.#maxAttempts && this.#retriable(err)) {
          this.#stats.retried++;
          this.#attempts.set(w.key, attempt);
          this.#running--;
          this.#backingOff++;
          const t = setTimeout(() => {
            this.#timers.delete(t);
            this.#backingOff--;
            // Back in line (the key stays busy until now, so nothing of this Event overtook it);
            // a newer write of the same Event that waited meanwhile supersedes this one's state.
            const newer = this.#held.get(w.key);
            this.#held.delete(w.key);
            this.#busy.delete(w.key);
            this.#ready.set(w.key, newer !== undefined ? merge(w, newer) : w);
            this.#pump();
          }, backoffDelay(attempt - 1, this.#backoff));
          (t as { unref?: () => void }).unref?.(); // Node timers: do not keep the process alive for an event
          this.#timers.add(t);
          this.#pump();
          return;
        }
        this.#stats.failed++;
        this.#release(w.key);
      },
    );
  }

  #release(key: string): void {
    this.#running--;
    this.#busy.delete(key);
    this.#attempts.delete(key);
    const next = this.#held.get(key);
    if (next !== undefined && !this.#closed) {
      this.#held.delete(key);
      this.#ready.set(key, next);
    }
    this.#pump();
    this.#settle();
  }
}
