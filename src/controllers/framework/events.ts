/**
 * Event recording: core/v1 Events about the objects controllers act on (reason, message,
 * involvedObject), with a simple form of upstream's event correlator:
 *
 * - identical events (same object, type, reason, message, component) within the window are
 *   aggregated into one Event whose `count` and `lastTimestamp` are patched;
 * - more than `aggregateThreshold` events that differ only in message within the window become one
 *   Event with the message prefixed `(combined from similar events): `.
 *
 * `EventCorrelator` is the pure part (state machine over time given by the caller); the
 * `EventRecorder` writes asynchronously through the `ObjectWriter` so a slow or failing event write
 * never blocks or fails a sync. `FakeRecorder` collects `"<type> <reason> <message>"` strings.
 */
import type { KubeObject } from "../../api/object.ts";
import { EVENTS } from "./resources.ts";
import type { ObjectWriter } from "./writer.ts";

export type EventType = "Normal" | "Warning";

/** What controllers call. Never throws and never waits. */
export interface EventRecorder {
  event(obj: KubeObject, type: EventType, reason: string, message: string): void;
}

export interface ObjectReference {
  apiVersion?: string;
  kind?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  resourceVersion?: string;
}

export function referenceOf(obj: KubeObject): ObjectReference {
  const md = obj.metadata ?? {};
  return {
    ...(obj.kind !== undefined ? { kind: obj.kind } : {}),
    ...(md.namespace ? { namespace: md.namespace } : {}),
    ...(md.name !== undefined ? { name: md.name } : {}),
    ...(md.uid !== undefined ? { uid: md.uid } : {}),
    ...(obj.apiVersion !== undefined ? { apiVersion: obj.apiVersion } : {}),
    ...(md.resourceVersion !== undefined ? { resourceVersion: md.resourceVersion } : {}),
  };
}

export type CorrelatedEvent =
  | { readonly action: "create"; readonly event: KubeObject }
  | { readonly action: "patch"; readonly namespace: string; readonly name: string; readonly patch: Record<string, unknown> };

export interface CorrelatorOptions {
  readonly component: string;
  /** Window for aggregation (default 10 min, as upstream). */
  readonly windowMs?: number;
  /** Distinct messages per (object, reason) within the window before they are combined (default 10). */
  readonly aggregateThreshold?: number;
  /** Cached event keys (default 4096; the oldest are dropped). */
  readonly maxKeys?: number;
}

interface Seen {
  namespace: string;
  name: string;
  count: number;
  first: string;
  last: number;
}

const COMBINED = "(combined from similar events): ";

function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** Pure state machine: decides whether an event is a new Event or a count patch of an earlier one. */
export class EventCorrelator {
  private readonly seen = new Map<string, Seen>();
  private readonly similar = new Map<string, { messages: Set<string>; last: number }>();
  private readonly windowMs: number;
  private readonly threshold: number;
  private readonly maxKeys: number;

  constructor(private readonly opts: CorrelatorOptions) {
    this.windowMs = opts.windowMs ?? 600_000;
    this.threshold = opts.aggregateThreshold ?? 10;
    this.maxKeys = opts.maxKeys ?? 4096;
  }

  correlate(obj: KubeObject, type: EventType, reason: string, message: string, nowMs: number): CorrelatedEvent {
    const ref = referenceOf(obj);
    const base = [this.opts.component, ref.kind, ref.namespace, ref.name, ref.uid, ref.apiVersion, type, reason].join("\u0000");
    let sim = this.similar.get(base);
    if (!sim || nowMs - sim.last > this.windowMs) this.similar.set(base, (sim = { messages: new Set(), last: nowMs }));
    sim.messages.add(message);
    sim.last = nowMs;
    const combined = sim.messages.size > this.threshold;
    const msg = combined ? `${COMBINED}${message}` : message;
    const key = combined ? `${base}\u0000${COMBINED}` : `${base}\u0000${message}`;
    const prev = this.seen.get(key);
    const now = rfc3339(nowMs);
    if (prev && nowMs - prev.last <= this.windowMs) {
      prev.count++;
      prev.last = nowMs;
      return { action: "patch", namespace: prev.namespace, name: prev.name, patch: { count: prev.count, lastTimestamp: now, message: msg } };
    }
    const namespace = ref.namespace ?? "default";
    const name = `${ref.name ?? "unknown"}.${(BigInt(nowMs) * 1_000_000n + BigInt(this.seen.size)).toString(16)}`;
    this.seen.delete(key);
    this.seen.set(key, { namespace, name, count: 1, first: now, last: nowMs });
    while (this.seen.size > this.maxKeys) {
      const oldest = this.seen.keys().next().value;
      if (oldest === undefined) break;
      this.seen.delete(oldest);
    }
    if (this.similar.size > this.maxKeys) this.similar.clear();
    const { resourceVersion: _rv, ...involved } = ref;
    return {
      action: "create",
      event: {
        apiVersion: "v1", kind: "Event",
        metadata: { name, namespace },
        involvedObject: involved,
        reason, message: msg, type,
        source: { component: this.opts.component },
        firstTimestamp: now, lastTimestamp: now, count: 1,
        reportingComponent: this.opts.component, reportingInstance: "",
      },
    };
  }
}

/**
 * Writes correlated events in the background, in order, dropping events beyond `maxPending`
 * (events are best effort, as upstream's broadcaster). `flush()` resolves once the backlog is written.
 */
export class WritingEventRecorder implements EventRecorder {
  private readonly correlator: EventCorrelator;
  private chain: Promise<void> = Promise.resolve();
  private pending = 0;
  dropped = 0;
  failed = 0;

  constructor(private readonly writer: ObjectWriter, opts: CorrelatorOptions & { maxPending?: number; now?: () => number }) {
    this.correlator = new EventCorrelator(opts);
    this.maxPending = opts.maxPending ?? 1000;
    this.now = opts.now ?? Date.now;
  }

  private readonly maxPending: number;
  private readonly now: () => number;

  event(obj: KubeObject, type: EventType, reason: string, message: string): void {
    if (this.pending >= this.maxPending) {
      this.dropped++;
      return;
    }
    const c = this.correlator.correlate(obj, type, reason, message, this.now());
    this.pending++;
    this.chain = this.chain.then(async () => {
      try {
        if (c.action === "create") await this.writer.create(EVENTS, c.event);
        else await this.writer.patch(EVENTS, c.namespace, c.name, c.patch, "merge");
      } catch {
        this.failed++; // best effort: a lost event must not disturb the controller
      } finally {
        this.pending--;
      }
    });
  }

  flush(): Promise<void> {
    return this.chain;
  }
}

/** Collects events as `"<type> <reason> <message>"` (upstream FakeRecorder's shape). */
export class FakeRecorder implements EventRecorder {
  readonly events: string[] = [];
  readonly objects: KubeObject[] = [];
  event(obj: KubeObject, type: EventType, reason: string, message: string): void {
    this.events.push(`${type} ${reason} ${message}`);
    this.objects.push(obj);
  }
}
