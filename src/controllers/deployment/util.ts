/**
 * Pure deployment arithmetic (upstream pkg/controller/deployment/util facts): surge/unavailable
 * fenceposts, revisions and their annotations, the size of the new ReplicaSet during a rolling
 * update, how far old ReplicaSets may be scaled down, proportional scaling, conditions and status.
 */
import type { Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet } from "../../api/generated/apps_v1.ts";
import type { IntOrString } from "../../api/generated/intstr.ts";
import { equalIgnoreHash } from "./hash.ts";

export const REVISION_ANNOTATION = "deployment.kubernetes.io/revision";
export const REVISION_HISTORY_ANNOTATION = "deployment.kubernetes.io/revision-history";
export const DESIRED_REPLICAS_ANNOTATION = "deployment.kubernetes.io/desired-replicas";
export const MAX_REPLICAS_ANNOTATION = "deployment.kubernetes.io/max-replicas";
const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";
const SKIP_COPY = new Set([LAST_APPLIED, REVISION_ANNOTATION, REVISION_HISTORY_ANNOTATION, DESIRED_REPLICAS_ANNOTATION, MAX_REPLICAS_ANNOTATION,
  "deployment.kubernetes.io/error-selector-overlapping-with", "deployment.kubernetes.io/selector-updated-at"]);

export const Reasons = {
  ReplicaSetUpdated: "ReplicaSetUpdated",
  FailedRSCreate: "ReplicaSetCreateError",
  NewReplicaSet: "NewReplicaSetCreated",
  FoundNewRS: "FoundNewReplicaSet",
  NewRSAvailable: "NewReplicaSetAvailable",
  TimedOut: "ProgressDeadlineExceeded",
  Paused: "DeploymentPaused",
  Resumed: "DeploymentResumed",
  MinimumReplicasAvailable: "MinimumReplicasAvailable",
  MinimumReplicasUnavailable: "MinimumReplicasUnavailable",
} as const;

export function replicasOf(x: Deployment | ReplicaSet | undefined): number {
  return x?.spec?.replicas ?? 0;
}

/**
 * An int or a percentage of `total`, rounded up or down. Throws `Error` for a malformed string.
 */
export function scaledValue(v: IntOrString | undefined, total: number, roundUp: boolean): number {
  if (v === undefined) return 0;
  if (typeof v === "number") return v;
  const m = /^(-?\d+)%$/.exec(v);
  if (!m) throw new Error(`invalid value for IntOrString: invalid type: string is not a percentage: ${JSON.stringify(v)}`);
  const x = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(x) : Math.floor(x);
}

export function isRollingUpdate(d: Deployment): boolean {
  return (d.spec?.strategy?.type ?? "RollingUpdate") === "RollingUpdate";
}

/** [maxSurge, maxUnavailable]: surge rounds up, unavailable down; both 0 -> unavailable 1. */
export function resolveFenceposts(maxSurge: IntOrString | undefined, maxUnavailable: IntOrString | undefined, desired: number): [number, number] {
  const surge = scaledValue(maxSurge ?? "25%", desired, true);
  let unavailable = scaledValue(maxUnavailable ?? "25%", desired, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return [surge, unavailable];
}

export function maxSurge(d: Deployment): number {
  if (!isRollingUpdate(d)) return 0;
  const ru = d.spec?.strategy?.rollingUpdate;
  return resolveFenceposts(ru?.maxSurge, ru?.maxUnavailable, replicasOf(d))[0];
}

export function maxUnavailable(d: Deployment): number {
  if (!isRollingUpdate(d) || replicasOf(d) === 0) return 0;
  const ru = d.spec?.strategy?.rollingUpdate;
  return Math.min(resolveFenceposts(ru?.maxSurge, ru?.maxUnavailable, replicasOf(d))[1], replicasOf(d));
}

/** The revision annotation as a number (0 when absent or malformed). */
export function revisionOf(o: { metadata?: { annotations?: Record<string, string> } } | undefined): number {
  const v = o?.metadata?.annotations?.[REVISION_ANNOTATION];
  if (v === undefined || !/^\d+$/.test(v)) return 0;
  return Number(v);
}

export function maxRevision(rss: readonly ReplicaSet[]): number {
  return rss.reduce((m, rs) => Math.max(m, revisionOf(rs)), 0);
}

function time(s: string | undefined): number {
  const t = s ? Date.parse(s) : NaN;
  return Number.isFinite(t) ? t : 0;
}

/** Oldest first, ties by name. */
export function byCreation(a: ReplicaSet, b: ReplicaSet): number {
  return time(a.metadata?.creationTimestamp) - time(b.metadata?.creationTimestamp) || (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? "");
}

/** The RS whose template equals the deployment's (the oldest such when several). */
export function findNewReplicaSet(d: Deployment, rss: readonly ReplicaSet[]): ReplicaSet | undefined {
  return [...rss].sort(byCreation).find((rs) => equalIgnoreHash(rs.spec?.template, d.spec?.template));
}

export function findOldReplicaSets(d: Deployment, rss: readonly ReplicaSet[]): ReplicaSet[] {
  const n = findNewReplicaSet(d, rss);
  return rss.filter((rs) => rs.metadata?.uid !== n?.metadata?.uid);
}

export function filterActive(rss: readonly (ReplicaSet | undefined)[]): ReplicaSet[] {
  return rss.filter((rs): rs is ReplicaSet => rs !== undefined && replicasOf(rs) > 0);
}

const sum = (rss: readonly (ReplicaSet | undefined)[], f: (rs: ReplicaSet) => number): number =>
  rss.reduce((n, rs) => n + (rs ? f(rs) : 0), 0);

export const specReplicas = (rss: readonly (ReplicaSet | undefined)[]): number => sum(rss, (r) => r.spec?.replicas ?? 0);
export const actualReplicas = (rss: readonly (ReplicaSet | undefined)[]): number => sum(rss, (r) => r.status?.replicas ?? 0);
export const readyReplicas = (rss: readonly (ReplicaSet | undefined)[]): number => sum(rss, (r) => r.status?.readyReplicas ?? 0);
export const availableReplicas = (rss: readonly (ReplicaSet | undefined)[]): number => sum(rss, (r) => r.status?.availableReplicas ?? 0);

/**
 * Annotations for the new RS (upstream SetNewReplicaSetAnnotations): copies the deployment's
 * annotations (except the bookkeeping ones), raises the revision to `newRevision` (recording
 * the previous one in revision-history: that is a rollback to this RS), and for a new RS the
 * desired/max replicas. Returns the new annotations and whether they changed.
 */
export function newReplicaSetAnnotations(d: Deployment, rs: ReplicaSet, newRevision: number, exists: boolean): { annotations: Record<string, string>; changed: boolean } {
  const a: Record<string, string> = { ...(rs.metadata?.annotations ?? {}) };
  let changed = false;
  for (const [k, v] of Object.entries(d.metadata?.annotations ?? {})) {
    if (SKIP_COPY.has(k) || a[k] === v) continue;
    a[k] = v;
    changed = true;
  }
  const old = a[REVISION_ANNOTATION];
  const oldNum = old !== undefined && /^\d+$/.test(old) ? Number(old) : 0;
  if (oldNum < newRevision) {
    a[REVISION_ANNOTATION] = String(newRevision);
    changed = true;
    if (old !== undefined) {
      const hist = a[REVISION_HISTORY_ANNOTATION];
      a[REVISION_HISTORY_ANNOTATION] = hist ? `${hist},${old}` : old;
    }
  }
  if (!exists) {
    a[DESIRED_REPLICAS_ANNOTATION] = String(replicasOf(d));
    a[MAX_REPLICAS_ANNOTATION] = String(replicasOf(d) + maxSurge(d));
    changed = true;
  }
  return { annotations: a, changed };
}

/** Deployment annotations to write after a rollback to `rs` is not needed: kubectl copies them. */
export function replicasAnnotationsNeedUpdate(rs: ReplicaSet, desired: number, max: number): boolean {
  const a = rs.metadata?.annotations ?? {};
  return a[DESIRED_REPLICAS_ANNOTATION] !== String(desired) || a[MAX_REPLICAS_ANNOTATION] !== String(max);
}

/** How many replicas the new RS should have now (upstream NewRSNewReplicas). */
export function newRSNewReplicas(d: Deployment, allRSs: readonly ReplicaSet[], newRS: ReplicaSet): number {
  if (!isRollingUpdate(d)) return replicasOf(d);
  const current = specReplicas(allRSs);
  const maxTotal = replicasOf(d) + maxSurge(d);
  if (current >= maxTotal) return replicasOf(newRS);
  const up = Math.min(maxTotal - current, replicasOf(d) - replicasOf(newRS));
  return replicasOf(newRS) + up;
}

/** New RS at full size, annotated for this size, and fully available. */
export function isSaturated(d: Deployment, rs: ReplicaSet | undefined): boolean {
  if (!rs) return false;
  const desired = rs.metadata?.annotations?.[DESIRED_REPLICAS_ANNOTATION];
  return replicasOf(rs) === replicasOf(d) && desired === String(replicasOf(d)) && (rs.status?.availableReplicas ?? 0) === replicasOf(d);
}

/**
 * Old RSs that are not fully available give up their unhealthy replicas first (oldest first),
 * at most `maxCleanup` in total. Returns new sizes by RS name.
 */
export function planCleanupUnhealthy(oldRSs: readonly ReplicaSet[], maxCleanup: number): Map<string, number> {
  const out = new Map<string, number>();
  let done = 0;
  for (const rs of [...oldRSs].sort(byCreation)) {
    if (done >= maxCleanup) break;
    const r = replicasOf(rs);
    const avail = rs.status?.availableReplicas ?? 0;
    if (r === 0 || r === avail) continue;
    const n = Math.min(maxCleanup - done, r - avail);
    out.set(rs.metadata?.name ?? "", r - n);
    done += n;
  }
  return out;
}

/** Scale-down of old RSs limited by availability (upstream scaleDownOldReplicaSetsForRollingUpdate). */
export function planScaleDownOld(d: Deployment, allRSs: readonly ReplicaSet[], oldRSs: readonly ReplicaSet[]): Map<string, number> {
  const out = new Map<string, number>();
  const minAvailable = replicasOf(d) - maxUnavailable(d);
  const available = availableReplicas(allRSs);
  if (available <= minAvailable) return out;
  const total = available - minAvailable;
  let done = 0;
  for (const rs of [...oldRSs].sort(byCreation)) {
    if (done >= total) break;
    const r = replicasOf(rs);
    if (r === 0) continue;
    const n = Math.min(r, total - done);
    out.set(rs.metadata?.name ?? "", r - n);
    done += n;
  }
  return out;
}

/** How many old replicas may go now (upstream reconcileOldReplicaSets' maxScaledDown). */
export function maxScaledDown(d: Deployment, allRSs: readonly ReplicaSet[], newRS: ReplicaSet | undefined): number {
  const minAvailable = replicasOf(d) - maxUnavailable(d);
  const newUnavailable = replicasOf(newRS) - (newRS?.status?.availableReplicas ?? 0);
  return specReplicas(allRSs) - minAvailable - newUnavailable;
}

function annotatedMax(rs: ReplicaSet): number | undefined {
  const v = rs.metadata?.annotations?.[MAX_REPLICAS_ANNOTATION];
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
}

/**
 * Proportional scaling while several RSs are active (upstream scale()): the surplus or deficit
 * against `replicas + maxSurge` is spread over the RSs by their share of the previous size (from
 * the max-replicas annotation); what rounding leaves goes to the largest (newest on ties).
 * Returns the new size of every active RS.
 */
export function planProportionalScale(d: Deployment, active: readonly ReplicaSet[]): Map<string, number> {
  const out = new Map<string, number>();
  const total = specReplicas(active);
  const allowed = replicasOf(d) > 0 ? replicasOf(d) + maxSurge(d) : 0;
  const toAdd = allowed - total;
  if (toAdd === 0) return out;
  const sorted = [...active].sort((a, b) => {
    const s = replicasOf(b) - replicasOf(a);
    if (s !== 0) return s;
    // scaling up: newer first; scaling down: older first
    return toAdd > 0 ? -byCreation(a, b) : byCreation(a, b);
  });
  let added = 0;
  const deploymentReplicas = replicasOf(d) + maxSurge(d);
  for (const rs of sorted) {
    let p = 0;
    if (replicasOf(rs) !== 0 && toAdd !== added) {
      const fraction = replicasOf(d) === 0 ? -replicasOf(rs)
        : Math.round((replicasOf(rs) * deploymentReplicas) / (annotatedMax(rs) ?? (d.status?.replicas || 1))) - replicasOf(rs);
      const allowedLeft = toAdd - added;
      p = toAdd > 0 ? Math.min(fraction, allowedLeft) : Math.max(fraction, allowedLeft);
    }
    out.set(rs.metadata?.name ?? "", replicasOf(rs) + p);
    added += p;
  }
  if (added !== toAdd && sorted[0]) {
    const n = sorted[0].metadata?.name ?? "";
    out.set(n, Math.max(0, (out.get(n) ?? 0) + toAdd - added));
  }
  return out;
}

// ---------------------------------------------------------------- conditions and status

export function getCondition(status: DeploymentStatus | undefined, type: string): DeploymentCondition | undefined {
  return (status?.conditions ?? []).find((c) => c.type === type);
}

/** Sets a condition unless one with the same status and reason exists; keeps the transition time when the status is unchanged. */
export function setCondition(status: DeploymentStatus, c: DeploymentCondition): void {
  const cur = getCondition(status, c.type ?? "");
  if (cur && cur.status === c.status && cur.reason === c.reason) return;
  const next = { ...c };
  if (cur && cur.status === c.status && cur.lastTransitionTime !== undefined) next.lastTransitionTime = cur.lastTransitionTime;
  status.conditions = [...(status.conditions ?? []).filter((x) => x.type !== c.type), next];
}

export function removeCondition(status: DeploymentStatus, type: string): void {
  const rest = (status.conditions ?? []).filter((x) => x.type !== type);
  if (rest.length > 0) status.conditions = rest;
  else delete status.conditions;
}

export function condition(type: string, status: "True" | "False" | "Unknown", reason: string, message: string, now: string): DeploymentCondition {
  return { type, status, lastUpdateTime: now, lastTransitionTime: now, reason, message };
}

/** The status the RSs add up to, with the Available condition (upstream calculateStatus). */
export function calculateStatus(d: Deployment, allRSs: readonly ReplicaSet[], newRS: ReplicaSet | undefined, now: string): DeploymentStatus {
  const available = availableReplicas(allRSs);
  const unavailable = Math.max(0, specReplicas(allRSs) - available);
  const status: DeploymentStatus = {
    ...(d.metadata?.generation !== undefined ? { observedGeneration: d.metadata.generation } : {}),
    replicas: actualReplicas(allRSs),
    updatedReplicas: actualReplicas([newRS]),
    readyReplicas: readyReplicas(allRSs),
    availableReplicas: available,
    unavailableReplicas: unavailable,
    ...(d.status?.collisionCount !== undefined ? { collisionCount: d.status.collisionCount } : {}),
    ...(d.status?.conditions ? { conditions: structuredClone(d.status.conditions) } : {}),
  };
  if (available >= replicasOf(d) - maxUnavailable(d)) {
    setCondition(status, condition("Available", "True", Reasons.MinimumReplicasAvailable, "Deployment has minimum availability.", now));
  } else {
    setCondition(status, condition("Available", "False", Reasons.MinimumReplicasUnavailable, "Deployment does not have minimum availability.", now));
  }
  return status;
}

export function hasProgressDeadline(d: Deployment): boolean {
  const p = d.spec?.progressDeadlineSeconds;
  return p !== undefined && p !== 2147483647;
}

export function deploymentComplete(d: Deployment, s: DeploymentStatus): boolean {
  const r = replicasOf(d);
  return (s.updatedReplicas ?? 0) === r && (s.replicas ?? 0) === r && (s.availableReplicas ?? 0) === r && (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0);
}

export function deploymentProgressing(d: Deployment, s: DeploymentStatus): boolean {
  const o = d.status ?? {};
  const oldOld = (o.replicas ?? 0) - (o.updatedReplicas ?? 0);
  const newOld = (s.replicas ?? 0) - (s.updatedReplicas ?? 0);
  return (s.updatedReplicas ?? 0) > (o.updatedReplicas ?? 0) || newOld < oldOld || (s.readyReplicas ?? 0) > (o.readyReplicas ?? 0) || (s.availableReplicas ?? 0) > (o.availableReplicas ?? 0);
}

export function deploymentTimedOut(d: Deployment, s: DeploymentStatus, nowMs: number): boolean {
  if (!hasProgressDeadline(d)) return false;
  const c = getCondition(s, "Progressing");
  if (!c) return false;
  if (c.reason === Reasons.NewRSAvailable) return false;
  if (c.reason === Reasons.TimedOut) return true;
  return time(c.lastUpdateTime) + (d.spec?.progressDeadlineSeconds ?? 0) * 1000 < nowMs;
}

/** Status equality ignoring absent-vs-zero. */
export function statusEqual(a: DeploymentStatus | undefined, b: DeploymentStatus): boolean {
  const n = (s: DeploymentStatus | undefined): string => JSON.stringify([
    s?.observedGeneration ?? 0, s?.replicas ?? 0, s?.updatedReplicas ?? 0, s?.readyReplicas ?? 0, s?.availableReplicas ?? 0,
    s?.unavailableReplicas ?? 0, s?.collisionCount ?? null, s?.conditions ?? [],
  ]);
  return n(a) === n(b);
}

/**
 * The old RSs that revisionHistoryLimit lets go: fully scaled down, settled, not being deleted,
 * lowest revisions first.
 */
export function replicaSetsToCleanUp(d: Deployment, oldRSs: readonly ReplicaSet[]): ReplicaSet[] {
  const limit = d.spec?.revisionHistoryLimit;
  if (limit === undefined) return [];
  const alive = oldRSs.filter((rs) => rs.metadata?.deletionTimestamp === undefined);
  const diff = alive.length - limit;
  if (diff <= 0) return [];
  const sorted = [...alive].sort((a, b) => revisionOf(a) - revisionOf(b) || byCreation(a, b));
  const out: ReplicaSet[] = [];
  for (const rs of sorted.slice(0, diff)) {
    if ((rs.status?.replicas ?? 0) !== 0 || replicasOf(rs) !== 0) continue;
    if ((rs.metadata?.generation ?? 0) > (rs.status?.observedGeneration ?? 0)) continue;
    out.push(rs);
  }
  return out;
}
