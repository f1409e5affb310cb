/**
 * The scheduler's parsed view of a pod (`PodInfo`), built once per pod version so plugins never
 * re-parse selectors, quantities or affinity terms in the hot path.
 */
import type { Pod, PodAffinityTerm, Toleration } from "../api/generated/core_v1.ts";
import { labelSelectorFromObject, type LabelSelector, type LabelSelectorObject, type Labels } from "../api/selectors/labels.ts";
import type { LabelSelector as LabelSelectorMeta } from "../api/generated/meta_v1.ts";
import type { PodRequests } from "./kernel/types.ts";
import { computePodRequests, isScalarResource } from "./_resources.ts";

/** A parsed pod affinity term (namespaces resolved as upstream: none given = the pod's own). */
export interface AffinityTerm {
  readonly selector: LabelSelector;
  readonly namespaces: ReadonlySet<string>;
  /** Matches namespaces by their labels; undefined = only `namespaces` count. */
  readonly namespaceSelector: LabelSelector | undefined;
  readonly topologyKey: string;
}
export interface WeightedAffinityTerm extends AffinityTerm {
  readonly weight: number;
}

export interface HostPort {
  readonly ip: string;
  readonly protocol: string;
  readonly port: number;
}

export interface PodInfo {
  readonly pod: Pod;
  readonly uid: string;
  /** "namespace/name". */
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  readonly labels: Labels;
  readonly priority: number;
  /** Requests in kernel units; `extended[k]` follows the scheduler's extended resource list. */
  readonly requests: PodRequests;
  /** Every scalar resource request by name (extended resources outside the kernel list included). */
  readonly scalarRequests: ReadonlyMap<string, number>;
  readonly hostPorts: readonly HostPort[];
  /** Normalized image names of init containers and containers. */
  readonly images: readonly string[];
  readonly numContainers: number;
  readonly tolerations: readonly Toleration[];
  readonly requiredAffinity: readonly AffinityTerm[];
  readonly requiredAntiAffinity: readonly AffinityTerm[];
  readonly preferredAffinity: readonly WeightedAffinityTerm[];
  readonly preferredAntiAffinity: readonly WeightedAffinityTerm[];
  /** A term failed to parse; the pod is unschedulable with this message. */
  readonly parseError: string | undefined;
  readonly nodeName: string;
  readonly schedulingGates: readonly string[];
  readonly preemptNever: boolean;
  readonly terminating: boolean;
  /** status.startTime (or creation time) in ms, for victim ordering. */
  readonly startTime: number;
}

/** "ns/name" for a pod object. */
export function podKey(pod: Pod): string {
  return `${pod.metadata?.namespace ?? "default"}/${pod.metadata?.name ?? ""}`;
}

/** ImageLocality's normalization: an untagged, undigested reference gets ":latest". */
export function normalizedImageName(name: string): string {
  const lastSlash = name.lastIndexOf("/");
  const tail = name.slice(lastSlash + 1);
  if (tail.includes(":") || name.includes("@")) return name;
  return `${name}:latest`;
}

/** A generated `metav1.LabelSelector` as the selectors module's structured form. */
export function selectorObject(sel: LabelSelectorMeta | undefined): LabelSelectorObject | null {
  if (!sel) return null;
  return {
    matchLabels: sel.matchLabels ?? {},
    matchExpressions: (sel.matchExpressions ?? []).map((e) => ({ key: e.key ?? "", operator: e.operator ?? "", values: e.values ?? [] })),
  };
}

function parseTerm(t: PodAffinityTerm, ns: string): AffinityTerm {
  const namespaces = new Set(t.namespaces ?? []);
  const nsSel = t.namespaceSelector ? labelSelectorFromObject(selectorObject(t.namespaceSelector)) : undefined;
  if (namespaces.size === 0 && nsSel === undefined) namespaces.add(ns);
  return {
    selector: labelSelectorFromObject(selectorObject(t.labelSelector)),
    namespaces,
    namespaceSelector: nsSel,
    topologyKey: t.topologyKey ?? "",
  };
}

function timeMs(t: string | undefined): number {
  if (!t) return 0;
  const v = Date.parse(t);
  return Number.isFinite(v) ? v : 0;
}

/**
 * Parses a pod. `extendedResources` is the kernel's extended resource list (index k of
 * `requests.extended`). Throws RangeError on an unparsable quantity.
 */
export function newPodInfo(pod: Pod, extendedResources: readonly string[]): PodInfo {
  const meta = pod.metadata ?? {};
  const spec = pod.spec ?? {};
  const namespace = meta.namespace ?? "default";
  const req = computePodRequests(pod);
  const extended = new Float64Array(extendedResources.length);
  extendedResources.forEach((r, k) => { extended[k] = req.requests.get(r) ?? 0; });
  const scalar = new Map<string, number>();
  for (const [k, v] of req.requests) if (isScalarResource(k) && v > 0) scalar.set(k, v);
  const hostPorts: HostPort[] = [];
  const images: string[] = [];
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
    if (c.image) images.push(normalizedImageName(c.image));
  }
  for (const c of spec.containers ?? []) {
    for (const p of c.ports ?? []) {
      if (p.hostPort && p.hostPort > 0) hostPorts.push({ ip: p.hostIP || "0.0.0.0", protocol: p.protocol || "TCP", port: p.hostPort });
    }
  }
  let parseError: string | undefined;
  const terms = <T>(f: () => T[]): T[] => {
    try { return f(); } catch (e) { parseError ??= e instanceof Error ? e.message : String(e); return []; }
  };
  const pa = spec.affinity?.podAffinity;
  const paa = spec.affinity?.podAntiAffinity;
  return {
    pod,
    uid: meta.uid ?? `${namespace}/${meta.name ?? ""}`,
    key: `${namespace}/${meta.name ?? ""}`,
    namespace,
    name: meta.name ?? "",
    labels: meta.labels ?? {},
    priority: spec.priority ?? 0,
    requests: {
      cpu: req.requests.get("cpu") ?? 0,
      memory: req.requests.get("memory") ?? 0,
      ephemeralStorage: req.requests.get("ephemeral-storage") ?? 0,
      extended,
      nonZeroCpu: req.nonZeroCpu,
      nonZeroMemory: req.nonZeroMemory,
    },
    scalarRequests: scalar,
    hostPorts,
    images,
    numContainers: Math.max(1, (spec.initContainers?.length ?? 0) + (spec.containers?.length ?? 0)),
    tolerations: spec.tolerations ?? [],
    requiredAffinity: terms(() => (pa?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => parseTerm(t, namespace))),
    requiredAntiAffinity: terms(() => (paa?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => parseTerm(t, namespace))),
    preferredAffinity: terms(() => (pa?.preferredDuringSchedulingIgnoredDuringExecution ?? [])
      .map((w) => ({ ...parseTerm(w.podAffinityTerm ?? {}, namespace), weight: w.weight ?? 0 }))),
    preferredAntiAffinity: terms(() => (paa?.preferredDuringSchedulingIgnoredDuringExecution ?? [])
      .map((w) => ({ ...parseTerm(w.podAffinityTerm ?? {}, namespace), weight: w.weight ?? 0 }))),
    parseError,
    nodeName: spec.nodeName ?? "",
    schedulingGates: (spec.schedulingGates ?? []).map((g) => g.name ?? ""),
    preemptNever: spec.preemptionPolicy === "Never",
    terminating: meta.deletionTimestamp !== undefined && meta.deletionTimestamp !== null,
    startTime: timeMs(pod.status?.startTime ?? meta.creationTimestamp),
  };
}

/** True when the pod carries any inter-pod affinity or anti-affinity term. */
export function hasAffinityTerms(p: PodInfo): boolean {
  return p.requiredAffinity.length + p.requiredAntiAffinity.length + p.preferredAffinity.length + p.preferredAntiAffinity.length > 0;
}

/** Upstream's AffinityTerm.Matches: namespace (by name or namespace labels) and label selector. */
export function termMatches(t: AffinityTerm, pod: PodInfo, nsLabels: (ns: string) => Labels | undefined): boolean {
  if (!t.namespaces.has(pod.namespace)) {
    if (t.namespaceSelector === undefined) return false;
    const l = nsLabels(pod.namespace);
    if (!t.namespaceSelector.empty && (l === undefined || !t.namespaceSelector.matches(l))) return false;
  }
  return t.selector.matches(pod.labels);
}
