/**
 * `EventSeriesCorrelator`: the pure core of events.k8s.io-style recording (upstream client-go's
 * tools/events broadcaster). Isomorphic occurrences — same action, reason, reporting controller,
 * regarding object (with field path) and related object; the message does not count — form a
 * series instead of one write each:
 *
 * - the first occurrence is a `create`;
 * - the second is a `patch` setting `series: {count: 2, lastObservedTime}` at once;
 * - later ones only bump the cached series (`skip`, counted as accumulated); `due()` hands back a
 *   patch for every series that grew since its last write once `refreshMs` passed since then
 *   (upstream refreshes every 30 min; the default here is 30 s so `kubectl describe` stays current);
 * - a series not observed for `finishMs` (6 min, as upstream) is finished: forgotten after a last
 *   write of its unwritten count, so the next occurrence starts a new Event.
 *
 * Deviation: patches also carry the newest message (`message`), which upstream leaves at the
 * first one; a scheduler's FailedScheduling text changes with the cluster and the newest is the
 * useful one. Events are kept in the core/v1 shape (see types.ts).
 */
import type { KubeObject } from "../../api/object.ts";
import { LruMap } from "./_cache.ts";
import { coreEvent, type Correlation } from "./correlator.ts";
import { eventName, eventSeqStart, rfc3339, rfc3339Micro, type EventOccurrence, type ObjectReference } from "./types.ts";

export interface SeriesOptions {
  readonly clock: () => number;
  /** Minimum time between two writes of one growing series (default 30 s). */
  readonly refreshMs?: number;
  /** A series unobserved this long is finished (default 6 min). */
  readonly finishMs?: number;
  /** Cached events (default 4096; the least recently observed are forgotten). */
  readonly maxKeys?: number;
}

interface Cached {
  event: KubeObject;
  /** Occurrences so far (1 = no series yet). */
  count: number;
  /** `count` as last handed out for writing. */
  written: number;
  lastObserved: number;
  lastWrite: number;
  message: string;
}

/** A write `due()` asks for. */
export interface SeriesWrite {
  readonly event: KubeObject;
  readonly patch: Record<string, unknown>;
}

function refKey(r: ObjectReference | undefined): string {
  return r === undefined ? "" : [r.kind, r.namespace, r.name, r.uid, r.apiVersion, r.fieldPath].join("\u0001");
}

export class EventSeriesCorrelator {
  readonly #clock: () => number;
  readonly #refreshMs: number;
  readonly #finishMs: number;
  readonly #cache: LruMap<string, Cached>;
  #seq = eventSeqStart();

  constructor(opts: SeriesOptions) {
    this.#clock = opts.clock;
    this.#refreshMs = opts.refreshMs ?? 30_000;
    this.#finishMs = opts.finishMs ?? 360_000;
    if (!(this.#refreshMs >= 0) || !(this.#finishMs > 0)) throw new RangeError(`invalid series timing: refresh ${this.#refreshMs} ms, finish ${this.#finishMs} ms`);
    this.#cache = new LruMap(opts.maxKeys ?? 4096);
  }

  observe(o: EventOccurrence): Correlation {
    const now = this.#clock();
    const key = [o.action ?? "", o.reason, o.source.component, refKey(o.regarding), refKey(o.related)].join("\u0000");
    const c = this.#cache.get(key);
    if (c === undefined || now - c.lastObserved > this.#finishMs) {
      const event = coreEvent(o, eventName(o.regarding, now, this.#seq++), now, o.message, { eventTime: rfc3339Micro(now) });
      this.#cache.set(key, { event, count: 1, written: 1, lastObserved: now, lastWrite: now, message: o.message });
      return { kind: "create", event };
    }
    c.count++;
    c.lastObserved = now;
    c.message = o.message;
    if (c.count === 2) return { kind: "patch", ...this.#write(c, now) };
    return { kind: "skip", event: this.#state(c) };
  }

  /**
   * Writes the scheduler-style runner asks for now: series grown since their last write whose
   * last write is at least `refreshMs` old, and a last write of finished series (then forgotten).
   * `all` ignores `refreshMs` (flush on shutdown).
   */
  due(all = false): SeriesWrite[] {
    const now = this.#clock();
    const out: SeriesWrite[] = [];
    const finished: string[] = [];
    for (const [key, c] of this.#cache.entries()) {
      const done = now - c.lastObserved > this.#finishMs;
      if (c.count > c.written && (all || done || now - c.lastWrite >= this.#refreshMs)) out.push(this.#write(c, now));
      if (done) finished.push(key);
    }
    for (const k of finished) this.#cache.delete(k);
    return out;
  }

  #state(c: Cached): KubeObject {
    if (c.count < 2) return c.event;
    return { ...c.event, message: c.message, series: { count: c.count, lastObservedTime: rfc3339Micro(c.lastObserved) }, lastTimestamp: rfc3339(c.lastObserved) };
  }

  #write(c: Cached, now: number): SeriesWrite {
    c.written = c.count;
    c.lastWrite = now;
    const event = this.#state(c);
    return { event, patch: { series: event["series"], message: c.message, lastTimestamp: event["lastTimestamp"] } };
  }
}
