/**
 * Events the node agent records about pods (`source.component: kubelet`, `source.host: <node>`),
 * with the kubelet's reasons: Pulling, Pulled, Failed, BackOff, Created, Started, Killing,
 * Unhealthy, FailedMount, FailedPostStartHook, FailedPreStopHook, DeadlineExceeded,
 * InvalidEnvironmentVariableNames. Container events name the container in
 * `involvedObject.fieldPath` (`spec.containers{web}`), as `kubectl describe` shows them.
 *
 * Identical events (same object, field path, type, reason and message) within 10 minutes become
 * one Event whose `count` and `lastTimestamp` are patched (upstream's correlator, simplified).
 * Writing is asynchronous, in order, best effort and bounded: a slow apiserver never blocks a pod
 * sync, and beyond `maxPending` events are dropped and counted.
 */
import type { KubeObject } from "../../api/object.ts";
import type { PodObject } from "../types.ts";

export type EventType = "Normal" | "Warning";

/** What the pod worker calls; never throws, never waits. */
export interface PodEventSink {
  /** `container`: the container name (with `init` for init containers) the event is about. */
  event(pod: PodObject, type: EventType, reason: string, message: string, container?: { name: string; init?: boolean }): void;
}

/** Where events go (the agent: the client's Event resource). */
export interface EventWriter {
  create(namespace: string, event: KubeObject): Promise<unknown>;
  patch(namespace: string, name: string, patch: Record<string, unknown>): Promise<unknown>;
}

export interface KubeletEventRecorderOptions {
  readonly writer: EventWriter;
  readonly nodeName: string;
  readonly now?: () => number;
  /** Aggregation window (default 10 min). */
  readonly windowMs?: number;
  /** Remembered event keys (default 4096, oldest dropped). */
  readonly maxKeys?: number;
  /** Writes queued at most (default 1000); beyond, events are dropped. */
  readonly maxPending?: number;
}

const rfc3339 = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

export class KubeletEventRecorder implements PodEventSink {
  readonly #o: KubeletEventRecorderOptions;
  readonly #seen = new Map<string, { namespace: string; name: string; count: number; last: number }>();
  #chain: Promise<void> = Promise.resolve();
  #pending = 0;
  #seq = 0;
  readonly stats = { recorded: 0, dropped: 0, failed: 0 };

  constructor(o: KubeletEventRecorderOptions) {
    this.#o = o;
  }

  event(pod: PodObject, type: EventType, reason: string, message: string, container?: { name: string; init?: boolean }): void {
    if (this.#pending >= (this.#o.maxPending ?? 1000)) {
      this.stats.dropped++;
      return;
    }
    const now = (this.#o.now ?? Date.now)();
    const m = pod.metadata ?? {};
    const ns = m.namespace ?? "default";
    const fieldPath = container !== undefined ? `spec.${container.init ? "initContainers" : "containers"}{${container.name}}` : undefined;
    const key = [ns, m.name, m.uid, fieldPath ?? "", type, reason, message].join("\u0000");
    const prev = this.#seen.get(key);
    let write: () => Promise<unknown>;
    if (prev !== undefined && now - prev.last <= (this.#o.windowMs ?? 600_000)) {
      prev.count++;
      prev.last = now;
      const patch = { count: prev.count, lastTimestamp: rfc3339(now) };
      write = () => this.#o.writer.patch(prev.namespace, prev.name, patch);
    } else {
      const name = `${m.name ?? "pod"}.${(BigInt(now) * 1_000_000n + BigInt(this.#seq++ % 1_000_000)).toString(16)}`;
      this.#seen.delete(key);
      this.#seen.set(key, { namespace: ns, name, count: 1, last: now });
      while (this.#seen.size > (this.#o.maxKeys ?? 4096)) {
        const oldest = this.#seen.keys().next().value;
        if (oldest === undefined) break;
        this.#seen.delete(oldest);
      }
      const ev: KubeObject = {
        apiVersion: "v1", kind: "Event",
        metadata: { name, namespace: ns },
        involvedObject: {
          kind: "Pod", namespace: ns, name: m.name ?? "", uid: m.uid ?? "", apiVersion: "v1",
          ...(m.resourceVersion !== undefined ? { resourceVersion: m.resourceVersion } : {}),
          ...(fieldPath !== undefined ? { fieldPath } : {}),
        },
        reason, message, type,
        source: { component: "kubelet", host: this.#o.nodeName },
        firstTimestamp: rfc3339(now), lastTimestamp: rfc3339(now), count: 1,
        reportingComponent: "kubelet", reportingInstance: this.#o.nodeName,
      };
      write = () => this.#o.writer.create(ns, ev);
    }
    this.stats.recorded++;
    this.#pending++;
    this.#chain = this.#chain.then(async () => {
      try {
        await write();
      } catch {
        this.stats.failed++; // best effort: a lost event must not disturb the pod worker
      } finally {
        this.#pending--;
      }
    });
  }

  /** Resolves once queued events are written. */
  flush(): Promise<void> {
    return this.#chain;
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
