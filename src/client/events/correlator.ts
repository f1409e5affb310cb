/**
 * `EventCorrelator`: the pure core of core/v1 event recording (upstream client-go's
 * tools/record correlator, same keys and defaults). No timers and no I/O: time comes from the
 * injected clock, and the result says what to write.
 *
 * For every occurrence, in this order:
 * 1. **Aggregation.** Occurrences that differ only in message (same source, involved object,
 *    type, reason, reporting controller/instance) are tracked per 10-minute window; once
 *    `aggregateMaxEvents` (10) distinct messages were seen, further ones become one Event with
 *    the message `(combined from similar events): <latest message>`.
 * 2. **Deduplication.** An occurrence identical to an earlier one (same key, including the message
 *    and field path, or the same combined Event) is a `patch` of that Event's `count`,
 *    `lastTimestamp` and `message` instead of a new Event. Remembered in an LRU of `maxKeys`.
 * 3. **Spam filter.** A token bucket per source + involved object (burst 25, one token back every
 *    5 minutes) decides whether the result is written at all (`skip`). The dedup state is updated
 *    either way, so the next written patch carries the true count.
 */
import type { KubeObject } from "../../api/object.ts";
import { LruMap, TokenBucket } from "./_cache.ts";
import { eventName, eventSeqStart, eventNamespace, rfc3339, type EventOccurrence, type ObjectReference } from "./types.ts";

export const COMBINED_PREFIX = "(combined from similar events): ";

export interface CorrelatorOptions {
  /** Milliseconds since the epoch (tests pass a fake clock). */
  readonly clock: () => number;
  /** Distinct messages per aggregate key before they are combined (default 10). */
  readonly aggregateMaxEvents?: number;
  /** Aggregation window, measured from the previous similar occurrence (default 10 min). */
  readonly aggregateIntervalMs?: number;
  /** Entries of each LRU cache (default 4096). */
  readonly maxKeys?: number;
  /** Spam filter burst per source + object (default 25); 0 turns the filter off. */
  readonly spamBurst?: number;
  /** One spam token returns every this many ms (default 300,000: 1/300 per second). */
  readonly spamRefillMs?: number;
}

/** What to do with one occurrence. `event` is always the Event's full state after it. */
export type Correlation =
  | { readonly kind: "create"; readonly event: KubeObject }
  | { readonly kind: "patch"; readonly event: KubeObject; readonly patch: Record<string, unknown> }
  | { readonly kind: "skip"; readonly event: KubeObject };

interface Observation {
  readonly namespace: string;
  readonly name: string;
  readonly firstTimestamp: string;
  count: number;
}

const SEP = "\u0000";

function refKey(r: ObjectReference): string {
  return [r.kind, r.namespace, r.name, r.uid, r.apiVersion].join(SEP);
}

/** Builds a core/v1 Event for `o` (count 1); `extra` adds or overrides fields. */
export function coreEvent(o: EventOccurrence, name: string, nowMs: number, message: string, extra: Record<string, unknown> = {}): KubeObject {
  const now = rfc3339(nowMs);
  return {
    apiVersion: "v1", kind: "Event",
    metadata: { name, namespace: eventNamespace(o.regarding) },
    involvedObject: o.regarding,
    reason: o.reason, message, type: o.type,
    source: { component: o.source.component, ...(o.source.host !== undefined ? { host: o.source.host } : {}) },
    firstTimestamp: now, lastTimestamp: now, count: 1,
    reportingComponent: o.source.component, reportingInstance: o.source.instance ?? o.source.host ?? "",
    ...(o.action !== undefined ? { action: o.action } : {}),
    ...(o.related !== undefined ? { related: o.related } : {}),
    ...extra,
  };
}

export class EventCorrelator {
  readonly #clock: () => number;
  readonly #maxEvents: number;
  readonly #intervalMs: number;
  readonly #burst: number;
  readonly #refillMs: number;
  readonly #aggregates: LruMap<string, { messages: Set<string>; last: number }>;
  readonly #observed: LruMap<string, Observation>;
  readonly #spam: LruMap<string, TokenBucket>;
  #seq = eventSeqStart();

  constructor(opts: CorrelatorOptions) {
    this.#clock = opts.clock;
    this.#maxEvents = opts.aggregateMaxEvents ?? 10;
    this.#intervalMs = opts.aggregateIntervalMs ?? 600_000;
    this.#burst = opts.spamBurst ?? 25;
    this.#refillMs = opts.spamRefillMs ?? 300_000;
    if (!(this.#maxEvents >= 1)) throw new RangeError(`aggregateMaxEvents must be >= 1, got ${this.#maxEvents}`);
    if (!(this.#burst >= 0) || !(this.#refillMs > 0)) throw new RangeError(`invalid spam filter: burst ${this.#burst}, refill ${this.#refillMs} ms`);
    const max = opts.maxKeys ?? 4096;
    this.#aggregates = new LruMap(max);
    this.#observed = new LruMap(max);
    this.#spam = new LruMap(max);
  }

  correlate(o: EventOccurrence): Correlation {
    const now = this.#clock();
    const src = [o.source.component, o.source.host ?? ""].join(SEP);
    const obj = refKey(o.regarding);

    // 1. aggregation by everything but the message
    const aggKey = [src, obj, o.type, o.reason, o.source.component, o.source.instance ?? o.source.host ?? ""].join(SEP);
    let agg = this.#aggregates.get(aggKey);
    if (agg === undefined || now - agg.last > this.#intervalMs) agg = { messages: new Set(), last: now };
    agg.messages.add(o.message);
    agg.last = now;
    this.#aggregates.set(aggKey, agg);
    const combined = agg.messages.size >= this.#maxEvents;
    if (combined) agg.messages.delete(o.message); // the set stays at its cap, as upstream's
    const message = combined ? `${COMBINED_PREFIX}${o.message}` : o.message;
    const key = combined ? `A${SEP}${aggKey}` : ["E", src, obj, o.regarding.fieldPath ?? "", o.type, o.reason, o.message].join(SEP);

    // 2. deduplication
    const prev = this.#observed.get(key);
    let result: Correlation;
    if (prev !== undefined) {
      prev.count++;
      const event = coreEvent(o, prev.name, now, message, { firstTimestamp: prev.firstTimestamp, count: prev.count });
      result = { kind: "patch", event, patch: { count: prev.count, lastTimestamp: rfc3339(now), message } };
    } else {
      const event = coreEvent(o, eventName(o.regarding, now, this.#seq++), now, message);
      this.#observed.set(key, { namespace: event.metadata?.namespace ?? "", name: event.metadata?.name ?? "", firstTimestamp: rfc3339(now), count: 1 });
      result = { kind: "create", event };
    }

    // 3. spam filter per source + object
    if (this.#burst > 0) {
      const spamKey = `${src}${SEP}${obj}`;
      let bucket = this.#spam.get(spamKey);
      if (bucket === undefined) this.#spam.set(spamKey, (bucket = new TokenBucket(this.#burst, this.#refillMs, now)));
      if (!bucket.take(now)) return { kind: "skip", event: result.event };
    }
    return result;
  }
}
