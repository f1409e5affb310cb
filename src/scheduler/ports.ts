/**
 * The narrow interfaces the scheduler core needs from its runner (informers + API client). The
 * core never touches the network: it calls these and the runner implements them over the API.
 * In-memory implementations for tests and scripts live in `testing.ts`.
 */
import type { Pod } from "../api/generated/core_v1.ts";

/**
 * Writes a binding (`POST pods/<name>/binding`). Resolves when the API accepted it; rejects with
 * the API error otherwise — the core then forgets the assumed pod, runs Unreserve and requeues
 * the pod with backoff. Many bindings may be in flight at once.
 */
export interface Binder {
  bind(pod: Pod, nodeName: string): Promise<void>;
}

/**
 * Records Kubernetes Events (`Scheduled`, `FailedScheduling`, `Preempted`). Fire and forget: the
 * runner batches/aggregates as it likes; failures must not reach the core.
 */
export interface EventRecorder {
  /** `regarding` is the object the event is about; `related` e.g. the preemptor for `Preempted`. */
  event(regarding: Pod, type: "Normal" | "Warning", reason: string, action: string, message: string, related?: Pod): void;
}

/**
 * Pod status writes the core asks for (kube-scheduler's `PodScheduled=False` condition and
 * `status.nominatedNodeName`). Fire and forget; the runner retries or drops on conflict.
 */
export interface PodStatusWriter {
  /** `nominatedNodeName` undefined = leave unchanged; "" = clear. */
  markUnschedulable(pod: Pod, reason: "Unschedulable" | "SchedulingGated" | "SchedulerError", message: string, nominatedNodeName: string | undefined): void;
}

/**
 * Evicts preemption victims (delete with a DisruptionTarget condition). Resolves once the API
 * accepted the deletion; the informer's delete event later frees the room.
 */
export interface PodPreemptor {
  preempt(victim: Pod, preemptor: Pod, nodeName: string): Promise<void>;
}

export type SchedulePhase = "snapshot" | "preFilter" | "filter" | "kernel" | "score" | "postFilter" | "reserve" | "permit" | "bind";

/** Prometheus-style observations (names follow kube-scheduler's metrics). */
export interface Metrics {
  /** scheduler_schedule_attempts_total{result,profile} and scheduler_scheduling_attempt_duration_seconds. */
  scheduleAttempt(result: "scheduled" | "unschedulable" | "error", profile: string, seconds: number): void;
  /** scheduler_framework_extension_point_duration_seconds-like per phase. */
  phase(phase: SchedulePhase, profile: string, seconds: number): void;
  /** scheduler_pending_pods{queue}. */
  queueDepth(queue: "active" | "backoff" | "unschedulable" | "gated", n: number): void;
  /** scheduler_preemption_victims / attempts. */
  preemption(victims: number): void;
}

/** Metrics that drop everything. */
export const noMetrics: Metrics = { scheduleAttempt() {}, phase() {}, queueDepth() {}, preemption() {} };
