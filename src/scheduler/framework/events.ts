/**
 * Cluster events and queueing hints: which changes can make an unschedulable pod schedulable.
 * Plugins register the events that can resolve their rejections, optionally with a hint function
 * that looks at the concrete change (kube-scheduler's QueueingHint).
 */
import type { Node, Pod } from "../../api/generated/core_v1.ts";
import type { PodInfo } from "../types.ts";

export const ActionType = {
  Add: 1,
  Delete: 2,
  UpdateNodeAllocatable: 4,
  UpdateNodeLabel: 8,
  UpdateNodeTaint: 16,
  UpdateNodeCondition: 32,
  UpdatePodLabel: 64,
  UpdatePodScaleDown: 128,
  UpdatePodTolerations: 256,
  UpdatePodSchedulingGatesEliminated: 512,
  UpdateOther: 1024,
  Update: 4 | 8 | 16 | 32 | 64 | 128 | 256 | 512 | 1024,
  All: 2047,
} as const;

/** "AssignedPod": pods bound to a node; "Pod": the unscheduled pod itself. */
export type EventResource = "Node" | "AssignedPod" | "Pod" | "Namespace" | "PodDisruptionBudget" | "Service" | "WildCard";

export interface ClusterEvent {
  readonly resource: EventResource;
  readonly actionType: number;
  /** Shown in logs/metrics, e.g. "NodeAdd", "AssignedPodDelete". */
  readonly label: string;
}

export type QueueingHint = "Queue" | "QueueSkip";
/** Decides whether `event` may make `pod` schedulable (old/new are the changed objects). */
export type QueueingHintFn = (pod: PodInfo, oldObj: unknown, newObj: unknown) => QueueingHint;

export interface ClusterEventWithHint {
  readonly resource: EventResource;
  readonly actionType: number;
  readonly hint?: QueueingHintFn;
}

export const Events = {
  NodeAdd: { resource: "Node", actionType: ActionType.Add, label: "NodeAdd" },
  AssignedPodDelete: { resource: "AssignedPod", actionType: ActionType.Delete, label: "AssignedPodDelete" },
  AssignedPodAdd: { resource: "AssignedPod", actionType: ActionType.Add, label: "AssignedPodAdd" },
  UnschedulableTimeout: { resource: "WildCard", actionType: ActionType.All, label: "UnschedulableTimeout" },
  ForceActivate: { resource: "WildCard", actionType: ActionType.All, label: "ForceActivate" },
} as const satisfies Record<string, ClusterEvent>;

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/** The update action bits for a node change (upstream's nodeSchedulingPropertiesChange). */
export function nodeUpdateActions(oldNode: Node, newNode: Node): number {
  let a = 0;
  if (!same(oldNode.status?.allocatable, newNode.status?.allocatable)) a |= ActionType.UpdateNodeAllocatable;
  if (!same(oldNode.metadata?.labels, newNode.metadata?.labels)) a |= ActionType.UpdateNodeLabel;
  if (!same(oldNode.spec?.taints, newNode.spec?.taints) || (oldNode.spec?.unschedulable ?? false) !== (newNode.spec?.unschedulable ?? false)) {
    a |= ActionType.UpdateNodeTaint;
  }
  if (!same(oldNode.status?.conditions?.map((c) => [c.type, c.status]), newNode.status?.conditions?.map((c) => [c.type, c.status]))) {
    a |= ActionType.UpdateNodeCondition;
  }
  if (!same(oldNode.status?.images, newNode.status?.images)) a |= ActionType.UpdateOther;
  return a;
}

/** The update action bits for an assigned pod's change. */
export function podUpdateActions(oldPod: Pod, newPod: Pod, oldInfo: PodInfo, newInfo: PodInfo): number {
  let a = 0;
  if (!same(oldPod.metadata?.labels, newPod.metadata?.labels)) a |= ActionType.UpdatePodLabel;
  const r0 = oldInfo.requests, r1 = newInfo.requests;
  if (r1.cpu < r0.cpu || r1.memory < r0.memory || r1.ephemeralStorage < r0.ephemeralStorage) a |= ActionType.UpdatePodScaleDown;
  if (!same(oldPod.spec?.tolerations, newPod.spec?.tolerations)) a |= ActionType.UpdatePodTolerations;
  if ((oldPod.spec?.schedulingGates?.length ?? 0) > 0 && (newPod.spec?.schedulingGates?.length ?? 0) === 0) {
    a |= ActionType.UpdatePodSchedulingGatesEliminated;
  }
  return a === 0 ? ActionType.UpdateOther : a;
}
