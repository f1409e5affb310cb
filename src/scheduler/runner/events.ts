/**
 * The scheduler's event recorder (`Scheduled`, `FailedScheduling`, `Preempted`): a thin adapter
 * over the shared event library (src/client/events/) in its events.k8s.io style — isomorphic
 * events (same pod, reason, action, related pod) form a series whose `series.count` and
 * `lastObservedTime` are written periodically (at most every `patchIntervalMs`) instead of a write
 * per occurrence, as upstream kube-scheduler's events.k8s.io recorder does.
 *
 * The Events go to core/v1 by default (`clientEventSink(client)`): Tugboat stores core/v1 and
 * events.k8s.io/v1 Events apart, and `kubectl describe` reads core/v1. Pass
 * `clientEventSink(client, "events.k8s.io/v1")` as the sink to write the events.k8s.io API instead.
 *
 * Never throws and never blocks the caller; failures and drops are counted in `stats`.
 */
import type { Pod } from "../../api/generated/core_v1.ts";
import type { KubeObject } from "../../api/object.ts";
import { EventBroadcaster, referenceOf, type EventRecorder as LibraryRecorder, type EventSink, type EventStats } from "../../client/events/mod.ts";
import type { EventRecorder } from "../ports.ts";

export type { EventSink, EventStats };

export interface SchedulerEventRecorderOptions {
  /** source.component / reportingComponent (default "default-scheduler"). */
  readonly component?: string;
  /** reportingInstance (e.g. the leader election identity). */
  readonly instance?: string;
  /**
   * Concurrent writes (default 128: one `Scheduled` event per bound pod and four per preemption,
   * thousands per second in a burst; at 32 a 2-core box left most of a burst's events queued behind
   * the bindings — upstream writes each event in its own goroutine).
   */
  readonly concurrency?: number;
  /** Writes held before new events are dropped (default 1,000). */
  readonly maxQueued?: number;
  /** Minimum time between two writes of one growing series (default 10 s). */
  readonly patchIntervalMs?: number;
  readonly now?: () => number;
}

export class SchedulerEventRecorder implements EventRecorder {
  readonly broadcaster: EventBroadcaster;
  readonly #rec: LibraryRecorder;

  constructor(sink: EventSink, opts: SchedulerEventRecorderOptions = {}) {
    this.broadcaster = new EventBroadcaster({
      sink,
      ...(opts.now !== undefined ? { clock: opts.now } : {}),
      series: { refreshMs: opts.patchIntervalMs ?? 10_000 },
      queue: { concurrency: opts.concurrency ?? 128, maxQueued: opts.maxQueued ?? 1000 },
      tickIntervalMs: 0, // the runner calls tick() on its own flush timer
    });
    this.#rec = this.broadcaster.newRecorder({ component: opts.component ?? "default-scheduler", instance: opts.instance ?? "", style: "series" });
  }

  get stats(): EventStats {
    return this.broadcaster.stats;
  }

  event(regarding: Pod, type: "Normal" | "Warning", reason: string, action: string, message: string, related?: Pod): void {
    // Informer objects from a LIST may lack kind/apiVersion; kubectl describe selects by kind. A
    // pod's resourceVersion changes with every retry: leaving it out keeps retries one series.
    const md = regarding.metadata ?? {};
    const ref = {
      apiVersion: "v1", kind: "Pod",
      ...(md.namespace !== undefined ? { namespace: md.namespace } : {}),
      ...(md.name !== undefined ? { name: md.name } : {}),
      ...(md.uid !== undefined ? { uid: md.uid } : {}),
    };
    this.#rec.event(ref, type, reason, message, {
      action,
      ...(related !== undefined ? { related: referenceOf(related as KubeObject, { kind: "Pod", apiVersion: "v1" }) } : {}),
    });
  }

  /** Queues the series writes that are due (the runner calls this about once a second). */
  tick(): void {
    this.broadcaster.tick();
  }

  /** Writes every pending series count now and resolves when all writes finished (tests, shutdown). */
  flush(): Promise<void> {
    return this.broadcaster.flush();
  }

  /** Drops what is still queued. */
  close(): void {
    this.broadcaster.close();
  }
}
