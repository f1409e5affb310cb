/**
 * The StatefulSet controller's pure core: stable pod identities (`<set>-<ordinal>`, hostname,
 * subdomain, `statefulset.kubernetes.io/pod-name` / `apps.kubernetes.io/pod-index` labels, claims
 * `<claim>-<set>-<ordinal>`), and one step of upstream's update algorithm:
 *
 * 1. replicas in ordinal order: a finished pod is deleted (to be re-created), a missing one
 *    created; with OrderedReady (monotonic) the step stops at the first creation, terminating pod
 *    or pod not Running and Ready (available for `minReadySeconds`);
 * 2. condemned pods (ordinals beyond the range), highest first; monotonic: one at a time and only
 *    when every other pod is healthy;
 * 3. RollingUpdate: from the highest ordinal down to `partition`, pods not at the update revision
 *    are deleted (re-created at it by step 1), at most `maxUnavailable` unavailable at a time,
 *    waiting for unhealthy pods. OnDelete: nothing (pods change revision only when deleted).
 */
import type { StatefulSet, StatefulSetStatus } from "../../api/generated/apps_v1.ts";
import type { PersistentVolumeClaim, Pod } from "../../api/generated/core_v1.ts";
import type { KubeObject } from "../../api/object.ts";
import { scaledValue } from "../deployment/util.ts";
import { CONTROLLER_REVISION_HASH_LABEL } from "../framework/history.ts";
import { controllerRef } from "../framework/ownerrefs.ts";
import { isPodAvailable, isPodReady } from "../framework/pods.ts";

export const POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name";
export const POD_INDEX_LABEL = "apps.kubernetes.io/pod-index";

function phase(p: KubeObject): string {
  return ((p["status"] ?? {}) as { phase?: string }).phase ?? ""; // Pod.status by the kind's contract
}

/** The ordinal of a pod of `setName` (`<set>-<n>`), else undefined. */
export function ordinalOf(setName: string, podName: string): number | undefined {
  if (!podName.startsWith(`${setName}-`)) return undefined;
  const rest = podName.slice(setName.length + 1);
  return /^(0|[1-9][0-9]{0,9})$/.test(rest) ? Number(rest) : undefined;
}

export function startOrdinal(set: StatefulSet): number {
  return set.spec?.ordinals?.start ?? 0;
}

export function revisionOfPod(p: KubeObject): string | undefined {
  return p.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL];
}

export function isTerminating(p: KubeObject): boolean {
  return p.metadata?.deletionTimestamp !== undefined;
}

export function isFinished(p: KubeObject): boolean {
  const ph = phase(p);
  return ph === "Succeeded" || ph === "Failed";
}

/** Running, Ready and (with minReadySeconds) available. */
export function isHealthy(p: KubeObject, minReadySeconds: number, nowMs: number): boolean {
  return phase(p) === "Running" && isPodReady(p) && !isTerminating(p) && isPodAvailable(p, minReadySeconds, nowMs);
}

export function claimName(claim: string, setName: string, ordinal: number): string {
  return `${claim}-${setName}-${ordinal}`;
}

/** The claims a pod of the set uses (from `volumeClaimTemplates`). */
export function claimsFor(set: StatefulSet, ordinal: number): PersistentVolumeClaim[] {
  const setName = set.metadata?.name ?? "";
  const sel = set.spec?.selector?.matchLabels ?? {};
  const policy = set.spec?.persistentVolumeClaimRetentionPolicy;
  return (set.spec?.volumeClaimTemplates ?? []).map((t) => {
    const c = structuredClone(t);
    const refs = policy?.whenDeleted === "Delete"
      ? [{ apiVersion: "apps/v1", kind: "StatefulSet", name: setName, uid: set.metadata?.uid ?? "" }]
      : undefined;
    return {
      apiVersion: "v1", kind: "PersistentVolumeClaim",
      metadata: {
        name: claimName(t.metadata?.name ?? "", setName, ordinal),
        namespace: set.metadata?.namespace ?? "",
        labels: { ...(t.metadata?.labels ?? {}), ...sel },
        ...(t.metadata?.annotations ? { annotations: { ...t.metadata.annotations } } : {}),
        ...(refs ? { ownerReferences: refs } : {}),
      },
      spec: c.spec ?? {},
    } as PersistentVolumeClaim;
  });
}

/** The pod for `ordinal` from `template` at `revision` (the revision's name). */
export function podForOrdinal(set: StatefulSet, template: Record<string, unknown> | undefined, ordinal: number, revision: string): Pod {
  const setName = set.metadata?.name ?? "";
  const name = `${setName}-${ordinal}`;
  const tpl = structuredClone((template ?? set.spec?.template ?? {}) as NonNullable<StatefulSet["spec"]>["template"] & object);
  const spec = tpl.spec ?? {};
  const volumes = [...(spec.volumes ?? [])];
  for (const t of set.spec?.volumeClaimTemplates ?? []) {
    const vname = t.metadata?.name ?? "";
    const v = { name: vname, persistentVolumeClaim: { claimName: claimName(vname, setName, ordinal) } };
    const i = volumes.findIndex((x) => x.name === vname);
    if (i >= 0) volumes[i] = v;
    else volumes.push(v);
  }
  if (volumes.length > 0) spec.volumes = volumes;
  spec.hostname = name;
  if (set.spec?.serviceName) spec.subdomain = set.spec.serviceName;
  return {
    apiVersion: "v1", kind: "Pod",
    metadata: {
      name,
      namespace: set.metadata?.namespace ?? "",
      labels: { ...(tpl.metadata?.labels ?? {}), [POD_NAME_LABEL]: name, [POD_INDEX_LABEL]: String(ordinal), [CONTROLLER_REVISION_HASH_LABEL]: revision },
      ...(tpl.metadata?.annotations ? { annotations: { ...tpl.metadata.annotations } } : {}),
      ownerReferences: [controllerRef(set as KubeObject, "apps/v1", "StatefulSet")],
    },
    spec,
  } as Pod;
}

export interface Revisions {
  readonly current: string;
  readonly update: string;
  /** Templates by revision name. */
  readonly templates: ReadonlyMap<string, Record<string, unknown>>;
}

export interface StsStep {
  /** Ordinals to create (with the revision to create them at). */
  readonly create: Array<{ ordinal: number; revision: string }>;
  readonly delete: KubeObject[];
  /** Why the step stopped early (for logs/tests). */
  readonly waiting?: string;
}

export function partitionOf(set: StatefulSet): number {
  return set.spec?.updateStrategy?.type === "OnDelete" ? 0 : set.spec?.updateStrategy?.rollingUpdate?.partition ?? 0;
}

/** The revision a newly created pod gets (upstream newVersionedStatefulSetPod). */
export function revisionForNewPod(set: StatefulSet, ordinal: number, rev: Revisions): string {
  if (set.spec?.updateStrategy?.type !== "OnDelete" && rev.current !== rev.update && ordinal < startOrdinal(set) + partitionOf(set)) return rev.current;
  return rev.update;
}

/** One step of the update algorithm (see the module comment). */
export function planStatefulSet(set: StatefulSet, pods: readonly KubeObject[], rev: Revisions, nowMs: number): StsStep {
  const setName = set.metadata?.name ?? "";
  const replicas = Math.max(0, set.spec?.replicas ?? 1);
  const start = startOrdinal(set);
  const minReady = set.spec?.minReadySeconds ?? 0;
  const monotonic = set.spec?.podManagementPolicy !== "Parallel";
  const slots: Array<KubeObject | undefined> = new Array<KubeObject | undefined>(replicas).fill(undefined);
  const condemned: Array<{ ordinal: number; pod: KubeObject }> = [];
  for (const p of pods) {
    const ord = ordinalOf(setName, p.metadata?.name ?? "");
    if (ord === undefined) continue;
    if (ord >= start && ord < start + replicas) slots[ord - start] = p;
    else condemned.push({ ordinal: ord, pod: p });
  }
  condemned.sort((a, b) => b.ordinal - a.ordinal);
  const create: StsStep["create"] = [];
  const del: KubeObject[] = [];
  const done = (waiting?: string): StsStep => ({ create, delete: del, ...(waiting ? { waiting } : {}) });
  const healthy = (p: KubeObject): boolean => isHealthy(p, minReady, nowMs);

  let firstUnhealthy: KubeObject | undefined;
  for (let i = 0; i < replicas; i++) {
    const p = slots[i];
    const ord = start + i;
    if (p && isFinished(p) && !isTerminating(p)) {
      del.push(p);
      if (monotonic) return done(`recreating ${p.metadata?.name ?? ""}`);
      continue;
    }
    if (!p) {
      create.push({ ordinal: ord, revision: revisionForNewPod(set, ord, rev) });
      if (monotonic) return done(`creating ${setName}-${ord}`);
      continue;
    }
    if (!healthy(p)) {
      firstUnhealthy ??= p;
      if (monotonic) return done(`waiting for ${p.metadata?.name ?? ""} to be ${isTerminating(p) ? "deleted" : "Running and Ready"}`);
    }
  }
  for (const { pod } of condemned) {
    if (isTerminating(pod)) {
      if (monotonic) return done(`waiting for ${pod.metadata?.name ?? ""} to terminate`);
      continue;
    }
    if (monotonic) {
      firstUnhealthy ??= condemned.find((c) => !healthy(c.pod))?.pod;
      if (firstUnhealthy && firstUnhealthy !== pod) return done(`waiting for ${firstUnhealthy.metadata?.name ?? ""} before scaling down`);
    }
    del.push(pod);
    if (monotonic) return done();
  }
  if (set.spec?.updateStrategy?.type === "OnDelete") return done();
  if (create.length > 0 || del.length > 0) return done();
  // RollingUpdate: highest ordinal first, down to the partition.
  const maxUnavailable = Math.max(1, scaledValue(set.spec?.updateStrategy?.rollingUpdate?.maxUnavailable ?? 1, replicas, false));
  let unavailable = slots.filter((p) => p !== undefined && !healthy(p)).length;
  const minOrdinal = start + partitionOf(set);
  for (let ord = start + replicas - 1; ord >= minOrdinal; ord--) {
    const p = slots[ord - start];
    if (!p) continue;
    if (revisionOfPod(p) !== rev.update && !isTerminating(p)) {
      if (healthy(p)) {
        if (unavailable >= maxUnavailable) return done(`${unavailable} unavailable (maxUnavailable ${maxUnavailable})`);
        unavailable++;
      }
      del.push(p);
      continue;
    }
    if (!healthy(p) && maxUnavailable === 1) return done(`waiting for ${p.metadata?.name ?? ""} to update`);
  }
  return done();
}

/** The status from the pods (upstream's computation, rollout completion included). */
export function statefulSetStatus(set: StatefulSet, pods: readonly KubeObject[], rev: Revisions, nowMs: number, collisionCount: number | undefined): StatefulSetStatus {
  const setName = set.metadata?.name ?? "";
  const mine = pods.filter((p) => ordinalOf(setName, p.metadata?.name ?? "") !== undefined);
  const minReady = set.spec?.minReadySeconds ?? 0;
  const s: StatefulSetStatus = {
    observedGeneration: set.metadata?.generation ?? 0,
    replicas: mine.length,
    readyReplicas: mine.filter((p) => phase(p) === "Running" && isPodReady(p)).length,
    availableReplicas: mine.filter((p) => isHealthy(p, minReady, nowMs)).length,
    currentReplicas: mine.filter((p) => revisionOfPod(p) === rev.current).length,
    updatedReplicas: mine.filter((p) => revisionOfPod(p) === rev.update).length,
    currentRevision: rev.current,
    updateRevision: rev.update,
    collisionCount: collisionCount ?? 0,
  };
  if (set.status?.conditions) s.conditions = set.status.conditions;
  const want = set.spec?.replicas ?? 1;
  if (s.updatedReplicas === want && s.readyReplicas === want && s.replicas === want) {
    s.currentRevision = rev.update;
    s.currentReplicas = s.updatedReplicas;
  }
  return s;
}
