/**
 * Shared vocabulary of the event library: references, sources, the recorded occurrence, stats.
 *
 * Events are held in the core/v1 Event shape inside the library (involvedObject, source, count,
 * firstTimestamp/lastTimestamp, series); `convert.ts` maps them to events.k8s.io/v1 at the sink
 * when that API is chosen.
 */
import type { KubeObject } from "../../api/object.ts";

export type EventType = "Normal" | "Warning";

/** core/v1 ObjectReference (the fields events use). */
export interface ObjectReference {
  apiVersion?: string;
  kind?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  resourceVersion?: string;
  /** e.g. `spec.containers{web}` for an event about one container of a pod. */
  fieldPath?: string;
}

/** Who records: core/v1 `source` plus the reporting instance (events.k8s.io `reportingInstance`). */
export interface EventSource {
  /** `source.component` and `reportingComponent`/`reportingController`, e.g. "kubelet". */
  readonly component: string;
  /** `source.host` (the kubelet's node name); absent for cluster components. */
  readonly host?: string;
  /** `reportingInstance` (default: `host`, else ""). */
  readonly instance?: string;
}

/** One call of a recorder, before correlation. */
export interface EventOccurrence {
  readonly regarding: ObjectReference;
  readonly related?: ObjectReference;
  readonly type: EventType;
  readonly reason: string;
  readonly message: string;
  /** events.k8s.io `action` (e.g. "Binding"); core/v1 carries it too. */
  readonly action?: string;
  readonly source: EventSource;
}

/**
 * Counters of one broadcaster. `created`/`patched` count successful writes; `dropped` occurrences
 * lost because the queue was full; `spamFiltered` occurrences the per-object token bucket refused;
 * `coalesced` writes folded into a later write of the same Event; `accumulated` series occurrences
 * that will be written by a later series refresh; `failed` writes given up after their last attempt.
 */
export interface EventStats {
  recorded: number;
  created: number;
  patched: number;
  coalesced: number;
  accumulated: number;
  dropped: number;
  spamFiltered: number;
  retried: number;
  failed: number;
}

export const newEventStats = (): EventStats => ({
  recorded: 0, created: 0, patched: 0, coalesced: 0, accumulated: 0, dropped: 0, spamFiltered: 0, retried: 0, failed: 0,
});

/**
 * A reference to `obj` (kind, apiVersion, namespace, name, uid, resourceVersion as present) with an
 * optional `fieldPath`. Objects from a LIST may lack kind/apiVersion: pass `defaults` then.
 */
export function referenceOf(obj: KubeObject, opts: { fieldPath?: string; kind?: string; apiVersion?: string } = {}): ObjectReference {
  const md = obj.metadata ?? {};
  const kind = obj.kind ?? opts.kind;
  const apiVersion = obj.apiVersion ?? opts.apiVersion;
  return {
    ...(kind !== undefined ? { kind } : {}),
    ...(md.namespace ? { namespace: md.namespace } : {}),
    ...(md.name !== undefined ? { name: md.name } : {}),
    ...(md.uid !== undefined ? { uid: md.uid } : {}),
    ...(apiVersion !== undefined ? { apiVersion } : {}),
    ...(md.resourceVersion !== undefined ? { resourceVersion: md.resourceVersion } : {}),
    ...(opts.fieldPath !== undefined ? { fieldPath: opts.fieldPath } : {}),
  };
}

/** RFC 3339 with second precision (metav1.Time). */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** RFC 3339 with microsecond precision (metav1.MicroTime). */
export function rfc3339Micro(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

/**
 * A unique Event name for `regarding`: `<name>.<hex>` where the hex part is the time in ns plus a
 * sequence number (upstream uses the time in ns; the sequence keeps names unique within one ms).
 * Recorders start their sequence at `eventSeqStart()`, not 0: two processes (the scheduler and a
 * kubelet) recording for the same pod in the same millisecond would otherwise pick the same name,
 * and the second create fails with AlreadyExists (the Event is lost).
 */
export function eventSeqStart(): number {
  return Math.floor(Math.random() * 1_000_000);
}

export function eventName(regarding: ObjectReference, nowMs: number, seq: number): string {
  return `${regarding.name || "unknown"}.${(BigInt(Math.floor(nowMs)) * 1_000_000n + BigInt(seq % 1_000_000)).toString(16)}`;
}

/** The namespace an Event about `regarding` lives in ("default" for cluster-scoped objects). */
export function eventNamespace(regarding: ObjectReference): string {
  return regarding.namespace || "default";
}
