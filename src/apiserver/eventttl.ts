/**
 * Event TTL (kube-apiserver `--event-ttl`, default 1 h): Events — core/v1 and events.k8s.io/v1 —
 * are deleted `ttlMs` after their last update, so they disappear from lists and watchers see a
 * DELETED event.
 *
 * kube-apiserver attaches an etcd lease to every Event write. The Store port has no leases (see
 * src/store/types.ts), so this is an expiry sweeper beside the store instead:
 *
 * - `ExpiryTracker` (pure): key → (modRevision, expiry time), ordered by expiry. Every write
 *   re-arms its key; `due(now)` lists the expired ones in O(expired).
 * - `startEventTtl` (runner): lists the event prefixes, watches them from that revision on (every
 *   put re-arms, every delete forgets), and every `sweepIntervalMs` deletes the due keys with a
 *   compare on their modRevision, so an Event updated meanwhile is never lost — it was re-armed.
 *   The delete goes through the store, so the watch caches emit DELETED as for any delete.
 *
 * Events found at start (or after a watch restart) get a full TTL from then, as etcd does with
 * leases when a new leader takes over: an expiry can come late, never early.
 */
import type { KindInfo } from "./ports.ts";
import type { Store, Watch } from "../store/types.ts";

/** Pure: which keys expire when. Keys are kept in expiry order (a touch moves its key to the end). */
export class ExpiryTracker {
  readonly #keys = new Map<string, { rev: number; at: number }>();
  constructor(private readonly ttlMs: number) {
    if (!(ttlMs > 0)) throw new RangeError(`the event TTL must be positive, got ${ttlMs} ms`);
  }
  get size(): number {
    return this.#keys.size;
  }
  /** The key was written at `modRevision`, seen at `now`: it expires at now + TTL. */
  touch(key: string, modRevision: number, now: number): void {
    this.#keys.delete(key);
    this.#keys.set(key, { rev: modRevision, at: now + this.ttlMs });
  }
  /** Like `touch`, but keeps the expiry of a key already known at that revision (re-lists). */
  seen(key: string, modRevision: number, now: number): void {
    if (this.#keys.get(key)?.rev === modRevision) return;
    this.touch(key, modRevision, now);
  }
  /** Forgets `key` (only if it is still at `modRevision`, when given). */
  forget(key: string, modRevision?: number): void {
    if (modRevision !== undefined && this.#keys.get(key)?.rev !== modRevision) return;
    this.#keys.delete(key);
  }
  /** Keys whose expiry is at or before `now` (at most `limit`), with the revision they expire at. */
  due(now: number, limit = Infinity): Array<{ key: string; modRevision: number }> {
    const out: Array<{ key: string; modRevision: number }> = [];
    for (const [key, v] of this.#keys) {
      if (v.at > now || out.length >= limit) break;
      out.push({ key, modRevision: v.rev });
    }
    return out;
  }
}

/** The storage prefixes of the Event resources among `resources` (core/v1 and events.k8s.io). */
export function eventPrefixes(resources: Iterable<{ readonly info: KindInfo; readonly prefix: string }>): string[] {
  const out = new Set<string>();
  for (const r of resources) {
    if (r.info.plural === "events" && (r.info.group === "" || r.info.group === "events.k8s.io")) out.add(r.prefix);
  }
  return [...out];
}

export interface EventTtlOptions {
  readonly store: Store;
  /** Storage prefixes to expire (see `eventPrefixes`). */
  readonly prefixes: readonly string[];
  readonly ttlMs: number;
  /** Milliseconds since the epoch (default `Date.now`). */
  readonly now?: () => number;
  /** Sweep period (default TTL / 10, between 100 ms and 60 s). */
  readonly sweepIntervalMs?: number;
  /** Deletes per sweep at most (default 10,000; the rest wait for the next sweep). */
  readonly maxPerSweep?: number;
  readonly log?: (msg: string, err: unknown) => void;
}

export interface EventTtl {
  /** Resolves once the existing Events are tracked and the watches run. */
  readonly ready: Promise<void>;
  readonly stats: { tracked: number; expired: number; skipped: number; restarts: number };
  /** Deletes what is due now; resolves with the number deleted. */
  sweep(): Promise<number>;
  /** Stops the watches and the timer. Idempotent. */
  stop(): void;
}

const DELETE_CONCURRENCY = 8;

export function startEventTtl(opts: EventTtlOptions): EventTtl {
  const now = opts.now ?? Date.now;
  const tracker = new ExpiryTracker(opts.ttlMs);
  const log = opts.log ?? ((m: string, e: unknown) => console.error(m, e));
  const every = opts.sweepIntervalMs ?? Math.min(60_000, Math.max(100, Math.floor(opts.ttlMs / 10)));
  const maxPerSweep = opts.maxPerSweep ?? 10_000;
  const stats = { tracked: 0, expired: 0, skipped: 0, restarts: 0 };
  let watches: Watch[] = [];
  let stopped = false;
  let sweeping: Promise<number> | undefined;

  const start = async (): Promise<void> => {
    for (const w of watches) w.cancel();
    watches = [];
    for (const prefix of opts.prefixes) {
      const r = await opts.store.range({ key: prefix, prefix: true });
      if (stopped) return;
      const t = now();
      for (const kv of r.kvs) tracker.seen(kv.key, kv.modRevision, t);
      watches.push(opts.store.watch({ key: prefix, prefix: true, startRevision: r.revision + 1 }, {
        onEvents: (events) => {
          const t2 = now();
          for (const ev of events) {
            if (ev.type === "put") tracker.touch(ev.kv.key, ev.kv.modRevision, t2);
            else tracker.forget(ev.kv.key);
          }
          stats.tracked = tracker.size;
        },
        onError: (err) => {
          if (stopped) return;
          stats.restarts++;
          log("apiserver: event TTL watch ended, restarting", err);
          setTimeout(() => { if (!stopped) start().catch((e: unknown) => log("apiserver: event TTL restart failed", e)); }, 1000).unref?.();
        },
      }));
    }
    stats.tracked = tracker.size;
  };

  const sweepOnce = async (): Promise<number> => {
    const due = tracker.due(now(), maxPerSweep);
    let deleted = 0;
    for (let i = 0; i < due.length && !stopped; i += DELETE_CONCURRENCY) {
      await Promise.all(due.slice(i, i + DELETE_CONCURRENCY).map(async ({ key, modRevision }) => {
        try {
          const r = await opts.store.txn({
            compare: [{ key, target: "modRevision", op: "=", value: modRevision }],
            success: [{ type: "delete", key }],
          });
          if (r.succeeded) {
            deleted++;
            stats.expired++;
            tracker.forget(key); // the watch will say so too
          } else {
            // Updated or deleted meanwhile: the watch re-arms or forgets it (a put re-adds it).
            stats.skipped++;
            tracker.forget(key, modRevision);
          }
        } catch (e) {
          log(`apiserver: expiring ${key} failed`, e);
        }
      }));
    }
    stats.tracked = tracker.size;
    return deleted;
  };

  const sweep = (): Promise<number> => {
    sweeping ??= sweepOnce().finally(() => { sweeping = undefined; });
    return sweeping;
  };

  const ready = start();
  ready.catch((e: unknown) => log("apiserver: event TTL could not start", e));
  const timer = setInterval(() => { if (!stopped) sweep().catch((e: unknown) => log("apiserver: event TTL sweep failed", e)); }, every);
  timer.unref?.();

  return {
    ready, stats, sweep,
    stop(): void {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      for (const w of watches) w.cancel();
      watches = [];
    },
  };
}
