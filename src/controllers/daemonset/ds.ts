/**
 * The DaemonSet controller's pure core: which nodes should run a daemon pod, the pod for a node
 * (with the default daemon tolerations and required node affinity `metadata.name In [node]`, so
 * the scheduler binds it), the per-node plan (create / delete extras, failed pods and pods on
 * nodes that should not run one), the rolling update (maxUnavailable, maxSurge) and the status.
 */
import type { DaemonSet, DaemonSetStatus } from "../../api/generated/apps_v1.ts";
import type { Node, Pod, Taint, Toleration } from "../../api/generated/core_v1.ts";
import type { KubeObject } from "../../api/object.ts";
import { RequiredNodeAffinity, firstUntolerated } from "../../scheduler/_nodematch.ts";
import { scaledValue } from "../deployment/util.ts";
import { CONTROLLER_REVISION_HASH_LABEL } from "../framework/history.ts";
import { controllerRef } from "../framework/ownerrefs.ts";
import { isPodAvailable, isPodReady } from "../framework/pods.ts";

export const TEMPLATE_GENERATION_LABEL = "pod-template-generation";

/** The tolerations upstream adds to every daemon pod (hostNetwork pods also tolerate network-unavailable). */
export function defaultDaemonTolerations(hostNetwork: boolean): Toleration[] {
  const t: Toleration[] = [
    { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute" },
    { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute" },
    { key: "node.kubernetes.io/disk-pressure", operator: "Exists", effect: "NoSchedule" },
    { key: "node.kubernetes.io/memory-pressure", operator: "Exists", effect: "NoSchedule" },
    { key: "node.kubernetes.io/pid-pressure", operator: "Exists", effect: "NoSchedule" },
    { key: "node.kubernetes.io/unschedulable", operator: "Exists", effect: "NoSchedule" },
  ];
  if (hostNetwork) t.push({ key: "node.kubernetes.io/network-unavailable", operator: "Exists", effect: "NoSchedule" });
  return t;
}

function withTolerations(existing: readonly Toleration[], add: readonly Toleration[]): Toleration[] {
  const out = [...existing];
  for (const t of add) if (!out.some((x) => x.key === t.key && x.effect === t.effect && (x.operator ?? "Equal") === t.operator)) out.push(t);
  return out;
}

/** The pod template with the daemon tolerations, as the eligibility checks and pods see it. */
export function daemonTemplate(ds: DaemonSet): Pod {
  const tpl = structuredClone(ds.spec?.template ?? {});
  const spec = tpl.spec ?? {};
  spec.tolerations = withTolerations(spec.tolerations ?? [], defaultDaemonTolerations(spec.hostNetwork === true));
  return { apiVersion: "v1", kind: "Pod", metadata: tpl.metadata ?? {}, spec } as Pod;
}

export interface Eligibility {
  /** A new daemon pod belongs here. */
  readonly shouldRun: boolean;
  /** An existing daemon pod may stay (NoSchedule taints do not evict). */
  readonly shouldContinueRunning: boolean;
}

/** Upstream's NodeShouldRunDaemonPod: node name, selector/affinity, taints vs tolerations. */
export function nodeShouldRunDaemonPod(node: Node, template: Pod): Eligibility {
  const name = node.metadata?.name ?? "";
  const no = { shouldRun: false, shouldContinueRunning: false };
  if (template.spec?.nodeName && template.spec.nodeName !== name) return no;
  if (!new RequiredNodeAffinity(template).match(node.metadata?.labels ?? {}, name)) return no;
  const taints: Taint[] = node.spec?.taints ?? [];
  const tols = template.spec?.tolerations ?? [];
  if (firstUntolerated(taints, tols, ["NoExecute"])) return no;
  if (firstUntolerated(taints, tols, ["NoSchedule"])) return { shouldRun: false, shouldContinueRunning: true };
  return { shouldRun: true, shouldContinueRunning: true };
}

/** The node a daemon pod is for: its nodeName, else its `metadata.name In [node]` affinity. */
export function targetNode(pod: KubeObject): string | undefined {
  const spec = (pod["spec"] ?? {}) as Pod["spec"] & object; // Pod.spec by the kind's contract
  if (spec.nodeName) return spec.nodeName;
  for (const t of spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []) {
    for (const f of t.matchFields ?? []) if (f.key === "metadata.name" && f.operator === "In" && f.values?.length === 1) return f.values[0];
  }
  return undefined;
}

/** The daemon pod for one node at revision `hash`. */
export function podForNode(ds: DaemonSet, node: string, hash: string): Pod {
  const p = daemonTemplate(ds);
  const spec = p.spec ?? {};
  const affinity = spec.affinity ?? {};
  const na = affinity.nodeAffinity ?? {};
  na.requiredDuringSchedulingIgnoredDuringExecution = { nodeSelectorTerms: [{ matchFields: [{ key: "metadata.name", operator: "In", values: [node] }] }] };
  affinity.nodeAffinity = na;
  spec.affinity = affinity;
  return {
    apiVersion: "v1", kind: "Pod",
    metadata: {
      ...p.metadata,
      generateName: `${ds.metadata?.name ?? ""}-`,
      namespace: ds.metadata?.namespace ?? "",
      labels: { ...(p.metadata?.labels ?? {}), [CONTROLLER_REVISION_HASH_LABEL]: hash, [TEMPLATE_GENERATION_LABEL]: String(ds.metadata?.generation ?? 1) },
      ownerReferences: [controllerRef(ds as KubeObject, "apps/v1", "DaemonSet")],
    },
    spec,
  } as Pod;
}

function phase(p: KubeObject): string {
  return ((p["status"] ?? {}) as { phase?: string }).phase ?? ""; // Pod.status by the kind's contract
}

function byCreation(a: KubeObject, b: KubeObject): number {
  return (a.metadata?.creationTimestamp ?? "").localeCompare(b.metadata?.creationTimestamp ?? "") || (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? "");
}

export interface DsPlan {
  /** Node names to create a pod on. */
  readonly create: string[];
  readonly delete: KubeObject[];
  readonly status: DaemonSetStatus;
}

/**
 * One sync: `pods` are the set's (not yet deleted) pods, `hash` the current revision's hash.
 */
export function planDaemonSet(ds: DaemonSet, nodes: readonly Node[], pods: readonly KubeObject[], hash: string, nowMs: number): DsPlan {
  const tpl = daemonTemplate(ds);
  const minReady = ds.spec?.minReadySeconds ?? 0;
  const byNode = new Map<string, KubeObject[]>();
  for (const p of pods) {
    if (p.metadata?.deletionTimestamp !== undefined) continue;
    const n = targetNode(p) ?? "";
    byNode.set(n, [...(byNode.get(n) ?? []), p]);
  }
  const create: string[] = [];
  const del: KubeObject[] = [];
  const nodeNames = new Set(nodes.map((n) => n.metadata?.name ?? ""));
  const available = (p: KubeObject): boolean => isPodAvailable(p, minReady, nowMs);
  const isNew = (p: KubeObject): boolean => p.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL] === hash;
  let desired = 0, current = 0, mis = 0, ready = 0, avail = 0, updated = 0;
  const eligible: Array<{ node: string; pods: KubeObject[] }> = [];

  for (const node of nodes) {
    const name = node.metadata?.name ?? "";
    const e = nodeShouldRunDaemonPod(node, tpl);
    const here = [...(byNode.get(name) ?? [])].sort(byCreation);
    if (e.shouldRun) desired++;
    if (here.length > 0 && !e.shouldRun) mis++;
    if (!e.shouldContinueRunning) {
      del.push(...here);
      continue;
    }
    const failed = here.filter((p) => phase(p) === "Failed" || phase(p) === "Succeeded");
    del.push(...failed);
    const live = here.filter((p) => !failed.includes(p));
    if (live.length === 0) {
      if (e.shouldRun) create.push(name);
      continue;
    }
    if (e.shouldRun) current++;
    // More than one pod: keep the oldest (of the new revision, when surging), delete the rest.
    let keep = live;
    if (live.length > 1) {
      const newest = live.filter(isNew);
      const oldOnes = live.filter((p) => !isNew(p));
      const surge = newest.length === 1 && oldOnes.length === 1;
      if (!surge) {
        const keeper = newest[0] ?? live[0]!;
        keep = [keeper];
        del.push(...live.filter((p) => p !== keeper));
      }
    }
    const first = keep.find(isNew) ?? keep[0]!;
    if (isPodReady(first)) ready++;
    if (available(first)) avail++;
    if (keep.some(isNew)) updated++;
    if (e.shouldRun) eligible.push({ node: name, pods: keep });
  }
  // Pods for nodes that no longer exist (or no node at all).
  for (const [n, ps] of byNode) if (!nodeNames.has(n)) del.push(...ps);

  if (ds.spec?.updateStrategy?.type !== "OnDelete") {
    const ru = ds.spec?.updateStrategy?.rollingUpdate ?? {};
    const maxSurge = scaledValue(ru.maxSurge ?? 0, desired, true);
    const maxUnavailable = maxSurge > 0 ? scaledValue(ru.maxUnavailable ?? 0, desired, true) : Math.max(1, scaledValue(ru.maxUnavailable ?? 1, desired, true));
    let unavailable = desired - eligible.filter((x) => x.pods.some(available)).length;
    if (maxSurge === 0) {
      const candidates: KubeObject[] = [];
      for (const { pods: ps } of eligible) {
        const old = ps.filter((p) => !isNew(p));
        if (old.length === 0 || ps.some(isNew)) continue;
        for (const p of old) {
          if (!available(p)) del.push(p); // already unavailable: replace at once
          else candidates.push(p);
        }
      }
      for (const p of candidates) {
        if (unavailable >= maxUnavailable) break;
        del.push(p);
        unavailable++;
      }
    } else {
      // Nodes still surging: a new pod not yet available beside an old one.
      let surging = eligible.filter((x) => x.pods.some((p) => !isNew(p)) && x.pods.some(isNew) && !x.pods.some((p) => isNew(p) && available(p))).length;
      for (const { node, pods: ps } of eligible) {
        const old = ps.filter((p) => !isNew(p));
        const neu = ps.filter(isNew);
        if (old.length === 0) continue;
        if (neu.length === 0) {
          if (!old.some(available)) {
            del.push(...old); // nothing to keep available: replace
          } else if (surging < maxSurge) {
            create.push(node);
            surging++;
          } else if (unavailable < maxUnavailable) {
            del.push(...old);
            unavailable++;
          }
        } else if (neu.some(available)) del.push(...old);
      }
    }
  }
  const status: DaemonSetStatus = {
    desiredNumberScheduled: desired,
    currentNumberScheduled: current,
    numberMisscheduled: mis,
    numberReady: ready,
    numberAvailable: avail,
    numberUnavailable: Math.max(0, desired - avail),
    updatedNumberScheduled: updated,
    observedGeneration: ds.metadata?.generation ?? 0,
  };
  if (ds.status?.collisionCount !== undefined) status.collisionCount = ds.status.collisionCount;
  if (ds.status?.conditions) status.conditions = ds.status.conditions;
  return { create, delete: [...new Set(del)], status };
}
