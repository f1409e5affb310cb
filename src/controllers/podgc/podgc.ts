/**
 * Pod garbage collection, pure decisions (upstream's PodGC passes):
 * - terminated pods (Succeeded/Failed) beyond `terminatedPodThreshold`, oldest first (evicted
 *   pods before others);
 * - pods bound to nodes that no longer exist, once the node has been missing for the quarantine
 *   period (the caller confirms with a live read);
 * - terminating pods never scheduled;
 * - terminating pods on NotReady nodes tainted `node.kubernetes.io/out-of-service`.
 */
import type { Node, Pod } from "../../api/generated/core_v1.ts";

export const OUT_OF_SERVICE_TAINT = "node.kubernetes.io/out-of-service";

export interface PodGcOptions {
  /** Terminated pods kept before the oldest are deleted (default 12500; 0 disables). */
  readonly terminatedPodThreshold: number;
  /** How long a node must be missing before its pods go (default 40 s). */
  readonly quarantineMs: number;
  /** Period of the passes (default 20 s). */
  readonly periodMs: number;
}

export const DEFAULT_PODGC: PodGcOptions = { terminatedPodThreshold: 12_500, quarantineMs: 40_000, periodMs: 20_000 };

export function isTerminated(p: Pod): boolean {
  return p.status?.phase === "Succeeded" || p.status?.phase === "Failed";
}

/** The terminated pods to delete so that at most `threshold` remain. */
export function terminatedToDelete(pods: readonly Pod[], threshold: number): Pod[] {
  if (threshold <= 0) return [];
  const done = pods.filter((p) => isTerminated(p) && p.metadata?.deletionTimestamp === undefined);
  const excess = done.length - threshold;
  if (excess <= 0) return [];
  const evicted = (p: Pod): number => (p.status?.reason === "Evicted" ? 0 : 1);
  return [...done].sort((a, b) => evicted(a) - evicted(b) ||
    (a.metadata?.creationTimestamp ?? "").localeCompare(b.metadata?.creationTimestamp ?? "") ||
    (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? "")).slice(0, excess);
}

/** Node names pods are bound to that are not among `nodes`. */
export function missingNodes(pods: readonly Pod[], nodes: ReadonlySet<string>): Set<string> {
  const out = new Set<string>();
  for (const p of pods) {
    const n = p.spec?.nodeName;
    if (n && !nodes.has(n)) out.add(n);
  }
  return out;
}

export function unscheduledTerminating(pods: readonly Pod[]): Pod[] {
  return pods.filter((p) => p.metadata?.deletionTimestamp !== undefined && !p.spec?.nodeName);
}

/** Terminating pods on NotReady nodes with the out-of-service taint. */
export function terminatingOnOutOfService(pods: readonly Pod[], nodes: ReadonlyMap<string, Node>): Pod[] {
  return pods.filter((p) => {
    if (p.metadata?.deletionTimestamp === undefined || !p.spec?.nodeName) return false;
    const n = nodes.get(p.spec.nodeName);
    if (!n) return false;
    const ready = (n.status?.conditions ?? []).find((c) => c.type === "Ready")?.status === "True";
    return !ready && (n.spec?.taints ?? []).some((t) => t.key === OUT_OF_SERVICE_TAINT && t.effect === "NoExecute");
  });
}
