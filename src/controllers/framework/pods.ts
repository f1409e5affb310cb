/**
 * Pod facts controllers share (pure): active, ready, available, and the order in which surplus
 * pods are deleted.
 */
import type { KubeObject } from "../../api/object.ts";

interface PodCondition { type?: string; status?: string; lastTransitionTime?: string }
interface PodStatusLike { phase?: string; conditions?: PodCondition[]; containerStatuses?: Array<{ restartCount?: number }> }

function statusOf(pod: KubeObject): PodStatusLike {
  return (pod["status"] ?? {}) as PodStatusLike; // Pod.status by the kind's contract
}

function readyCondition(pod: KubeObject): PodCondition | undefined {
  return (statusOf(pod).conditions ?? []).find((c) => c.type === "Ready");
}

/** Not finished and not being deleted. */
export function isPodActive(pod: KubeObject): boolean {
  const phase = statusOf(pod).phase;
  return phase !== "Succeeded" && phase !== "Failed" && pod.metadata?.deletionTimestamp === undefined;
}

export function isPodReady(pod: KubeObject): boolean {
  return readyCondition(pod)?.status === "True";
}

/** Ready for at least `minReadySeconds` at `nowMs`. */
export function isPodAvailable(pod: KubeObject, minReadySeconds: number, nowMs: number): boolean {
  const c = readyCondition(pod);
  if (c?.status !== "True") return false;
  if (minReadySeconds <= 0) return true;
  const since = c.lastTransitionTime ? Date.parse(c.lastTransitionTime) : NaN;
  return Number.isFinite(since) && since + minReadySeconds * 1000 <= nowMs;
}

const PHASE_ORDER: Readonly<Record<string, number>> = { Pending: 0, Unknown: 1, Running: 2 };

function restarts(pod: KubeObject): number {
  return (statusOf(pod).containerStatuses ?? []).reduce((n, c) => n + (c.restartCount ?? 0), 0);
}

function time(s: string | undefined): number {
  const t = s ? Date.parse(s) : NaN;
  return Number.isFinite(t) ? t : 0;
}

/**
 * Compares pods so that the ones to delete first sort first (upstream's ActivePodsWithRanks):
 * unscheduled before scheduled; Pending before Unknown before Running; not ready before ready;
 * more co-located siblings (`rank`) first; ready for less time first; more restarts first; newer
 * first; then by name for a total order.
 */
export function compareForDeletion(a: KubeObject, b: KubeObject, rank: (p: KubeObject) => number = () => 0): number {
  const nodeA = ((a["spec"] ?? {}) as { nodeName?: string }).nodeName ?? "";
  const nodeB = ((b["spec"] ?? {}) as { nodeName?: string }).nodeName ?? "";
  if ((nodeA === "") !== (nodeB === "")) return nodeA === "" ? -1 : 1;
  const pa = PHASE_ORDER[statusOf(a).phase ?? "Pending"] ?? 0;
  const pb = PHASE_ORDER[statusOf(b).phase ?? "Pending"] ?? 0;
  if (pa !== pb) return pa - pb;
  const ra = isPodReady(a), rb = isPodReady(b);
  if (ra !== rb) return ra ? 1 : -1;
  const ka = rank(a), kb = rank(b);
  if (ka !== kb) return kb - ka;
  if (ra && rb) {
    const ta = time(readyCondition(a)?.lastTransitionTime), tb = time(readyCondition(b)?.lastTransitionTime);
    if (ta !== tb) return tb - ta;
  }
  const xa = restarts(a), xb = restarts(b);
  if (xa !== xb) return xb - xa;
  const ca = time(a.metadata?.creationTimestamp), cb = time(b.metadata?.creationTimestamp);
  if (ca !== cb) return cb - ca;
  return (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? "");
}
