/**
 * `EventBroadcaster`: the thin runner around the pure correlators. One per process or component
 * (a hollow fleet shares one among all its agents); recorders made by `newRecorder` stamp their
 * source on each occurrence and hand it over. Recording never throws, never waits and never
 * slows the caller: correlation is a few map operations, the write goes to the bounded queue.
 *
 *   const b = new EventBroadcaster({ sink: clientEventSink(client) });
 *   const rec = b.newRecorder({ component: "replicaset-controller" });
 *   rec.event(referenceOf(rs), "Normal", "SuccessfulCreate", "Created pod: web-1-x");
 *   await b.flush(); b.close();
 *
 * Two styles: `correlated` (core/v1 recording: aggregation, count patches, spam filter — see
 * correlator.ts) and `series` (events.k8s.io recording: isomorphic events form a series whose
 * count is written periodically — see series.ts). The API the Events go to is the sink's choice.
 */
import { EventCorrelator, type CorrelatorOptions } from "./correlator.ts";
import { EventWriteQueue, type QueueOptions } from "./queue.ts";
import { EventSeriesCorrelator, type SeriesOptions } from "./series.ts";
import { writeEvent, type EventSink } from "./sink.ts";
import { newEventStats, type EventOccurrence, type EventSource, type EventStats, type EventType, type ObjectReference } from "./types.ts";

export type RecordingStyle = "correlated" | "series";

export interface EventBroadcasterOptions {
  readonly sink: EventSink;
  /** Milliseconds since the epoch (default `Date.now`); drives correlation, not the timers. */
  readonly clock?: () => number;
  readonly correlator?: Omit<CorrelatorOptions, "clock">;
  readonly series?: Omit<SeriesOptions, "clock">;
  readonly queue?: QueueOptions;
  /** Period of the series refresh timer (default 1,000 ms; 0: only `tick()`/`flush()` write refreshes). */
  readonly tickIntervalMs?: number;
}

export interface RecordOptions {
  /** events.k8s.io `action` (what was done or failed, e.g. "Binding"). */
  readonly action?: string;
  /** A second object involved (e.g. the preemptor of a `Preempted` pod). */
  readonly related?: ObjectReference;
}

/** What components call. Never throws, never waits. */
export interface EventRecorder {
  event(regarding: ObjectReference, type: EventType, reason: string, message: string, opts?: RecordOptions): void;
}

export interface RecorderOptions extends EventSource {
  /** Default `correlated`. */
  readonly style?: RecordingStyle;
}

export class EventBroadcaster {
  readonly stats: EventStats = newEventStats();
  readonly #correlator: EventCorrelator;
  readonly #series: EventSeriesCorrelator;
  readonly #queue: EventWriteQueue;
  readonly #tickMs: number;
  #timer: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  constructor(opts: EventBroadcasterOptions) {
    const clock = opts.clock ?? Date.now;
    this.#correlator = new EventCorrelator({ ...opts.correlator, clock });
    this.#series = new EventSeriesCorrelator({ ...opts.series, clock });
    const sink = opts.sink;
    this.#queue = new EventWriteQueue((w) => writeEvent(sink, w), this.stats, opts.queue);
    this.#tickMs = opts.tickIntervalMs ?? 1000;
  }

  /** A recorder stamping `source` on every occurrence. */
  newRecorder(source: RecorderOptions): EventRecorder {
    const { style, ...src } = source;
    const series = style === "series";
    if (series) this.#startTimer();
    return {
      event: (regarding, type, reason, message, o = {}) => {
        this.record({
          regarding, type, reason, message, source: src,
          ...(o.action !== undefined ? { action: o.action } : {}),
          ...(o.related !== undefined ? { related: o.related } : {}),
        }, series ? "series" : "correlated");
      },
    };
  }

  /** Correlates and queues one occurrence. Never throws. */
  record(o: EventOccurrence, style: RecordingStyle = "correlated"): void {
    this.stats.recorded++;
    if (this.#closed) {
      this.stats.dropped++;
      return;
    }
    try {
      const c = style === "series" ? this.#series.observe(o) : this.#correlator.correlate(o);
      if (c.kind === "skip") {
        if (style === "series") this.stats.accumulated++;
        else this.stats.spamFiltered++;
        return;
      }
      const md = c.event.metadata ?? {};
      this.#queue.push({
        key: `${md.namespace ?? ""}/${md.name ?? ""}`, create: c.kind === "create", event: c.event,
        ...(c.kind === "patch" ? { patch: c.patch } : {}),
      });
    } catch {
      this.stats.failed++; // a malformed occurrence must not disturb the caller
    }
  }

  /** Queues the series refreshes that are due (the timer calls this; runners may too). */
  tick(all = false): void {
    if (this.#closed) return;
    for (const w of this.#series.due(all)) {
      const md = w.event.metadata ?? {};
      this.#queue.push({ key: `${md.namespace ?? ""}/${md.name ?? ""}`, create: false, event: w.event, patch: w.patch });
    }
  }

  /** Writes every pending series count now and resolves once the queue is idle (tests, shutdown). */
  async flush(): Promise<void> {
    this.tick(true);
    await this.#queue.idle();
  }

  /** Writes held (queued, waiting or backing off). */
  get queued(): number {
    return this.#queue.length;
  }

  /** Stops the timer and drops what is still queued (call `flush()` first to write it). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#queue.close();
  }

  #startTimer(): void {
    if (this.#timer !== undefined || this.#tickMs <= 0 || this.#closed) return;
    this.#timer = setInterval(() => this.tick(), this.#tickMs);
    (this.#timer as { unref?: () => void }).unref?.(); // Node: the refresh timer must not keep the process alive
  }
}
