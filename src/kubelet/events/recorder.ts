/**
 * Events the node agent records about pods (`source.component: kubelet`, `source.host: <node>`),
 * with the kubelet's reasons: Pulling, Pulled, Failed, BackOff, Created, Started, Killing,
 * Unhealthy, FailedMount, FailedPostStartHook, FailedPreStopHook, DeadlineExceeded,
 * InvalidEnvironmentVariableNames. Container events name the container in
 * `involvedObject.fieldPath` (`spec.containers{web}`), as `kubectl describe` shows them.
 *
 * `KubeletEventRecorder` is a thin adapter over the shared event library (src/client/events/):
 * correlation (count patches, aggregation, spam filter) and the bounded, non-blocking write queue
 * live in its `EventBroadcaster`, which a hollow fleet shares among all its agents.
 */
import type { EventBroadcaster, EventRecorder, EventStats } from "../../client/events/mod.ts";
import { referenceOf } from "../../client/events/mod.ts";
import type { PodObject } from "../types.ts";

export type EventType = "Normal" | "Warning";

/** What the pod worker calls; never throws, never waits. */
export interface PodEventSink {
  /** `container`: the container name (with `init` for init containers) the event is about. */
  event(pod: PodObject, type: EventType, reason: string, message: string, container?: { name: string; init?: boolean }): void;
}

export interface KubeletEventRecorderOptions {
  /** Where events go (the agent's own, or one shared by a hollow fleet). */
  readonly broadcaster: EventBroadcaster;
  readonly nodeName: string;
}

export class KubeletEventRecorder implements PodEventSink {
  readonly #broadcaster: EventBroadcaster;
  readonly #rec: EventRecorder;

  constructor(o: KubeletEventRecorderOptions) {
    this.#broadcaster = o.broadcaster;
    this.#rec = o.broadcaster.newRecorder({ component: "kubelet", host: o.nodeName });
  }

  event(pod: PodObject, type: EventType, reason: string, message: string, container?: { name: string; init?: boolean }): void {
    const fieldPath = container !== undefined ? `spec.${container.init ? "initContainers" : "containers"}{${container.name}}` : undefined;
    this.#rec.event(referenceOf(pod, { kind: "Pod", apiVersion: "v1", ...(fieldPath !== undefined ? { fieldPath } : {}) }), type, reason, message);
  }

  /** The broadcaster's counters (shared with every recorder of that broadcaster). */
  get stats(): EventStats {
    return this.#broadcaster.stats;
  }

  /** Resolves once queued events are written. */
  flush(): Promise<void> {
    return this.#broadcaster.flush();
  }
}

/** Collects `"<type> <reason> <message>"` lines (tests, hollow fleets). */
export class CollectingEventSink implements PodEventSink {
  readonly events: Array<{ pod: string; type: EventType; reason: string; message: string; container?: string }> = [];
  event(pod: PodObject, type: EventType, reason: string, message: string, container?: { name: string; init?: boolean }): void {
    this.events.push({ pod: pod.metadata?.name ?? "", type, reason, message, ...(container !== undefined ? { container: container.name } : {}) });
  }
  lines(): string[] {
    return this.events.map((e) => `${e.type} ${e.reason} ${e.message}`);
  }
}

/** Discards everything. */
export const noEvents: PodEventSink = { event: () => undefined };
