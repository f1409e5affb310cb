/**
 * The ReplicaSet controller's pure decisions: how many pods to create or delete, in which batches,
 * which pods go first, and the status a set of pods adds up to.
 */
import type { KubeObject } from "../../api/object.ts";
import type { ReplicaSet, ReplicaSetCondition, ReplicaSetStatus } from "../../api/generated/apps_v1.ts";
import { compareForDeletion, isPodAvailable, isPodReady } from "../framework/pods.ts";

/** Upstream's burstReplicas: at most this many creates/deletes per sync. */
export const BURST_REPLICAS = 500;

/**
 * Slow-start batch sizes for `count` creations: 1, 2, 4, ... capped by what remains, so a
 * template that cannot be created fails after one call instead of `count`.
 */
export function slowStartBatches(count: number, initial = 1): number[] {
  const out: number[] = [];
  let remaining = count;
  for (let size = Math.min(remaining, initial); size > 0; size = Math.min(2 * size, remaining)) {
    out.push(size);
    remaining -= size;
  }
  return out;
}

/** Positive: pods to create; negative: pods to delete (both capped at BURST_REPLICAS). */
export function replicaDiff(rs: ReplicaSet, activePods: number): number {
  const diff = (rs.spec?.replicas ?? 1) - activePods;
  return Math.max(-BURST_REPLICAS, Math.min(BURST_REPLICAS, diff));
}

/**
 * The `count` pods to delete first. `related` are all active pods of the owner (for ranking: pods
 * sharing a node with more siblings go first).
 */
export function podsToDelete(pods: readonly KubeObject[], related: readonly KubeObject[], count: number): KubeObject[] {
  if (count >= pods.length) return [...pods];
  const perNode = new Map<string, number>();
  for (const p of related) {
    const n = ((p["spec"] ?? {}) as { nodeName?: string }).nodeName ?? "";
    if (n !== "") perNode.set(n, (perNode.get(n) ?? 0) + 1);
  }
  const rank = (p: KubeObject): number => perNode.get(((p["spec"] ?? {}) as { nodeName?: string }).nodeName ?? "") ?? 0;
  return [...pods].sort((a, b) => compareForDeletion(a, b, rank)).slice(0, count);
}

/** True when every label of the template is on the pod with the same value. */
function fullyLabeled(pod: KubeObject, template: Record<string, string>): boolean {
  const labels = pod.metadata?.labels ?? {};
  return Object.entries(template).every(([k, v]) => labels[k] === v);
}

/**
 * The status `pods` (the RS's active, owned pods) add up to. `manageError` (with the diff sign of
 * the failed operation) sets the ReplicaFailure condition; success clears it.
 */
export function calculateStatus(rs: ReplicaSet, pods: readonly KubeObject[], manageError: { message: string; creating: boolean } | undefined, nowMs: number): ReplicaSetStatus {
  const template = rs.spec?.template?.metadata?.labels ?? {};
  const minReady = rs.spec?.minReadySeconds ?? 0;
  let full = 0, ready = 0, available = 0;
  for (const p of pods) {
    if (fullyLabeled(p, template)) full++;
    if (isPodReady(p)) {
      ready++;
      if (isPodAvailable(p, minReady, nowMs)) available++;
    }
  }
  let conditions: ReplicaSetCondition[] = [...(rs.status?.conditions ?? [])];
  const failure = conditions.find((c) => c.type === "ReplicaFailure");
  if (manageError && !failure) {
    conditions.push({
      type: "ReplicaFailure", status: "True",
      lastTransitionTime: new Date(nowMs).toISOString().replace(/\.\d{3}Z$/, "Z"),
      reason: manageError.creating ? "FailedCreate" : "FailedDelete", message: manageError.message,
    });
  } else if (!manageError && failure) {
    conditions = conditions.filter((c) => c.type !== "ReplicaFailure");
  }
  const status: ReplicaSetStatus = {
    replicas: pods.length,
    fullyLabeledReplicas: full,
    readyReplicas: ready,
    availableReplicas: available,
    ...(rs.metadata?.generation !== undefined ? { observedGeneration: rs.metadata.generation } : {}),
  };
  if (conditions.length > 0) status.conditions = conditions;
  return status;
}

/** Status equality ignoring absent-vs-zero differences. */
export function statusEqual(a: ReplicaSetStatus | undefined, b: ReplicaSetStatus): boolean {
  const n = (s: ReplicaSetStatus | undefined): string => JSON.stringify({
    r: s?.replicas ?? 0, f: s?.fullyLabeledReplicas ?? 0, rd: s?.readyReplicas ?? 0, a: s?.availableReplicas ?? 0,
    g: s?.observedGeneration ?? 0, c: s?.conditions ?? [],
  });
  return n(a) === n(b);
}

/** A pod from the RS's template (upstream GetPodFromTemplate): labels, annotations, finalizers, spec, owner. */
export function podFromTemplate(rs: ReplicaSet, owner: { apiVersion: string; kind: string }): KubeObject {
  const t = rs.spec?.template ?? {};
  const md = t.metadata ?? {};
  const name = rs.metadata?.name ?? "";
  return {
    apiVersion: "v1", kind: "Pod",
    metadata: {
      generateName: `${name}-`,
      namespace: rs.metadata?.namespace ?? "",
      ...(md.labels ? { labels: { ...md.labels } } : {}),
      ...(md.annotations ? { annotations: { ...md.annotations } } : {}),
      ...(md.finalizers ? { finalizers: [...md.finalizers] } : {}),
      ownerReferences: [{ apiVersion: owner.apiVersion, kind: owner.kind, name, uid: rs.metadata?.uid ?? "", controller: true, blockOwnerDeletion: true }],
    },
    spec: structuredClone(t.spec ?? {}),
  };
}
