/**
 * One priority level's fair queuing (pure state machine: no timers, no I/O; the caller passes the
 * clock and acts on what the methods return).
 *
 * - At most `concurrencyLimit` requests execute at once ("seats"; every request takes one).
 * - A request that cannot execute at once is put on one of the `queues`: its flow's hash deals a
 *   hand of `handSize` queues (shuffle sharding) and it joins the one with the fewest requests
 *   waiting plus executing from it; a full queue (`queueLengthLimit`) rejects it.
 * - When a seat frees up, the next request comes from the queues in round-robin order, so
 *   every busy queue (and so every flow that is not sharing all its queues with a heavy flow)
 *   gets an equal part of the seats however many requests a heavy flow piles up. (Upstream
 *   orders queues by virtual finish time; with equal-cost requests that is this same rotation.)
 * - `queues: 0` (LimitResponse Reject): nothing waits; over the limit is rejected.
 */
import { dealHand } from "./shuffle.ts";

export interface QueueSetConfig {
  /** Seats; at least 1. */
  readonly concurrencyLimit: number;
  /** 0: reject instead of queuing. */
  readonly queues: number;
  readonly handSize: number;
  readonly queueLengthLimit: number;
}

/** A request known to the queue set (waiting or executing). */
export interface Entry<T> {
  readonly value: T;
  /** Queue index, or -1 when it never waited. */
  readonly queue: number;
  readonly enqueuedAt: number;
  state: "waiting" | "executing" | "done" | "removed";
}

export type OfferResult<T> =
  | { readonly outcome: "execute"; readonly entry: Entry<T> }
  | { readonly outcome: "queued"; readonly entry: Entry<T> }
  | { readonly outcome: "rejected"; readonly reason: "queue-full" | "concurrency-limit" };

interface Queue<T> {
  items: Entry<T>[];
  /** Index of the first live item in `items` (dequeued ones are dropped lazily). */
  head: number;
  /** Requests from this queue that are executing. */
  executing: number;
}

export class QueueSet<T> {
  private readonly cfg: QueueSetConfig;
  private readonly queues: Queue<T>[];
  private executingCount = 0;
  private waitingCount = 0;
  private robin = 0;

  /** Throws `RangeError` for a limit below 1 or an impossible queuing configuration. */
  constructor(cfg: QueueSetConfig) {
    if (!Number.isInteger(cfg.concurrencyLimit) || cfg.concurrencyLimit < 1) throw new RangeError(`concurrencyLimit must be a positive integer, got ${cfg.concurrencyLimit}`);
    if (!Number.isInteger(cfg.queues) || cfg.queues < 0) throw new RangeError(`queues must be a non-negative integer, got ${cfg.queues}`);
    if (cfg.queues > 0) {
      if (!Number.isInteger(cfg.queueLengthLimit) || cfg.queueLengthLimit < 1) throw new RangeError(`queueLengthLimit must be a positive integer, got ${cfg.queueLengthLimit}`);
      dealHand(0, cfg.queues, cfg.handSize); // validates handSize against the deck
    }
    this.cfg = cfg;
    this.queues = Array.from({ length: cfg.queues }, () => ({ items: [], head: 0, executing: 0 }));
  }

  get concurrencyLimit(): number {
    return this.cfg.concurrencyLimit;
  }

  get executing(): number {
    return this.executingCount;
  }

  get waiting(): number {
    return this.waitingCount;
  }

  /**
   * Admits a request of the flow with hash `flowHash`: executes at once when a seat is free and
   * nobody waits, else queues it, else rejects it.
   */
  offer(value: T, flowHash: number, now: number): OfferResult<T> {
    if (this.executingCount < this.cfg.concurrencyLimit && this.waitingCount === 0) {
      this.executingCount++;
      return { outcome: "execute", entry: { value, queue: -1, enqueuedAt: now, state: "executing" } };
    }
    if (this.cfg.queues === 0) return { outcome: "rejected", reason: "concurrency-limit" };
    let best = -1;
    let bestLoad = Infinity;
    for (const qi of dealHand(flowHash, this.cfg.queues, this.cfg.handSize)) {
      const q = this.queues[qi] as Queue<T>;
      const load = q.items.length - q.head + q.executing;
      if (load < bestLoad) {
        best = qi;
        bestLoad = load;
      }
    }
    const q = this.queues[best] as Queue<T>;
    if (q.items.length - q.head >= this.cfg.queueLengthLimit) return { outcome: "rejected", reason: "queue-full" };
    const entry: Entry<T> = { value, queue: best, enqueuedAt: now, state: "waiting" };
    q.items.push(entry);
    this.waitingCount++;
    return { outcome: "queued", entry };
  }

  /**
   * Marks an executing request done and returns the waiting requests that now execute (in
   * dispatch order; they are counted as executing already). Calling it twice for one entry, or
   * for an entry that is not executing, changes nothing and returns [].
   */
  finish(entry: Entry<T>): Entry<T>[] {
    if (entry.state !== "executing") return [];
    entry.state = "done";
    this.executingCount--;
    if (entry.queue >= 0) (this.queues[entry.queue] as Queue<T>).executing--;
    return this.dispatch();
  }

  /**
   * Takes a waiting request out (timed out, client gone). Returns false when it was not waiting
   * (already dispatched, finished or removed).
   */
  remove(entry: Entry<T>): boolean {
    if (entry.state !== "waiting") return false;
    const q = this.queues[entry.queue] as Queue<T>;
    const i = q.items.indexOf(entry, q.head);
    if (i < 0) return false;
    q.items.splice(i, 1);
    entry.state = "removed";
    this.waitingCount--;
    return true;
  }

  /** Waiting requests enqueued at or before `cutoff` (oldest first per queue). */
  waitingSince(cutoff: number): Entry<T>[] {
    const out: Entry<T>[] = [];
    for (const q of this.queues) {
      for (let i = q.head; i < q.items.length; i++) {
        const e = q.items[i] as Entry<T>;
        if (e.enqueuedAt > cutoff) break;
        out.push(e);
      }
    }
    return out;
  }

  private dispatch(): Entry<T>[] {
    const started: Entry<T>[] = [];
    const n = this.queues.length;
    while (this.executingCount < this.cfg.concurrencyLimit && this.waitingCount > 0) {
      // next non-empty queue after the one served last
      let qi = -1;
      for (let k = 0; k < n; k++) {
        const cand = (this.robin + k) % n;
        const q = this.queues[cand] as Queue<T>;
        if (q.items.length > q.head) {
          qi = cand;
          break;
        }
      }
      if (qi < 0) break; // unreachable while waitingCount > 0
      this.robin = (qi + 1) % n;
      const q = this.queues[qi] as Queue<T>;
      const e = q.items[q.head] as Entry<T>;
      q.head++;
      if (q.head > 32 && q.head * 2 > q.items.length) {
        q.items = q.items.slice(q.head);
        q.head = 0;
      }
      e.state = "executing";
      q.executing++;
      this.waitingCount--;
      this.executingCount++;
      started.push(e);
    }
    return started;
  }
}
