/**
 * NodeInfo: one node and what the scheduler has placed on it — the aggregate the filters and
 * scores read (requested and non-zero requested resources, pods, host ports, images, the pods
 * carrying affinity terms). Mutated only by the cache; snapshots hold clones.
 */
import type { Node, Taint } from "../../api/generated/core_v1.ts";
import type { Labels } from "../../api/selectors/labels.ts";
import { resourceList } from "../_resources.ts";
import { type HostPort, hasAffinityTerms, normalizedImageName, type PodInfo } from "../types.ts";

const EMPTY_LABELS: Labels = Object.freeze({});

export class NodeInfo {
  node: Node | undefined = undefined;
  labels: Labels = EMPTY_LABELS;
  taints: readonly Taint[] = [];
  unschedulable = false;
  private allocs: ReadonlyMap<string, number> = new Map();
  /** The four common allocatable amounts as fields (read per node in preemption's scans). */
  allocCpu = 0;
  allocMemory = 0;
  allocEphemeral = 0;
  allocPods = 0;
  /** Allocatable by resource name in kernel units ("pods" included). */
  get allocatable(): ReadonlyMap<string, number> {
    return this.allocs;
  }
  set allocatable(m: ReadonlyMap<string, number>) {
    this.allocs = m;
    this.allocCpu = m.get("cpu") ?? 0;
    this.allocMemory = m.get("memory") ?? 0;
    this.allocEphemeral = m.get("ephemeral-storage") ?? 0;
    this.allocPods = m.get("pods") ?? 0;
  }
  /** Image name → size in bytes (every name of every image the node reports). */
  images: ReadonlyMap<string, number> = new Map();
  pods: PodInfo[] = [];
  podsWithAffinity: PodInfo[] = [];
  podsWithRequiredAntiAffinity: PodInfo[] = [];
  requestedCpu = 0;
  requestedMemory = 0;
  requestedEphemeral = 0;
  /** Requested scalar (extended, hugepages) resources by name. */
  requestedScalar: Map<string, number> = new Map();
  nonZeroCpu = 0;
  nonZeroMemory = 0;
  usedPorts: HostPort[] = [];
  /** Cache generation of the last change (snapshots copy nodes newer than theirs). */
  generation = 0;

  constructor(readonly name: string) {}

  /** Replaces the node object; throws RangeError on an unparsable allocatable quantity. */
  setNode(node: Node): void {
    this.node = node;
    this.labels = node.metadata?.labels ?? EMPTY_LABELS;
    this.taints = node.spec?.taints ?? [];
    this.unschedulable = node.spec?.unschedulable === true;
    this.allocatable = resourceList(node.status?.allocatable as Record<string, string> | undefined);
    const images = new Map<string, number>();
    for (const img of node.status?.images ?? []) {
      for (const n of img.names ?? []) images.set(normalizedImageName(n), img.sizeBytes ?? 0);
    }
    this.images = images;
  }

  alloc(resource: string): number {
    return this.allocs.get(resource) ?? 0;
  }

  requested(resource: string): number {
    if (resource === "cpu") return this.requestedCpu;
    if (resource === "memory") return this.requestedMemory;
    if (resource === "ephemeral-storage") return this.requestedEphemeral;
    if (resource === "pods") return this.pods.length;
    return this.requestedScalar.get(resource) ?? 0;
  }

  addPod(p: PodInfo): void {
    this.pods.push(p);
    if (hasAffinityTerms(p)) this.podsWithAffinity.push(p);
    if (p.requiredAntiAffinity.length > 0) this.podsWithRequiredAntiAffinity.push(p);
    this.account(p, 1);
  }

  /** Removes the pod with this key; returns false when it was not on the node. */
  removePod(key: string): boolean {
    const i = this.pods.findIndex((x) => x.key === key);
    if (i < 0) return false;
    const p = this.pods[i];
    if (p === undefined) return false;
    this.pods.splice(i, 1);
    const drop = (list: PodInfo[]): void => {
      const j = list.findIndex((x) => x.key === key);
      if (j >= 0) list.splice(j, 1);
    };
    drop(this.podsWithAffinity);
    drop(this.podsWithRequiredAntiAffinity);
    this.account(p, -1);
    return true;
  }

  private account(p: PodInfo, sign: 1 | -1): void {
    const r = p.requests;
    this.requestedCpu += sign * r.cpu;
    this.requestedMemory += sign * r.memory;
    this.requestedEphemeral += sign * r.ephemeralStorage;
    this.nonZeroCpu += sign * r.nonZeroCpu;
    this.nonZeroMemory += sign * r.nonZeroMemory;
    for (const [k, v] of p.scalarRequests) {
      const n = (this.requestedScalar.get(k) ?? 0) + sign * v;
      if (n === 0) this.requestedScalar.delete(k); else this.requestedScalar.set(k, n);
    }
    if (sign > 0) this.usedPorts.push(...p.hostPorts);
    else {
      for (const hp of p.hostPorts) {
        const j = this.usedPorts.findIndex((u) => u.ip === hp.ip && u.protocol === hp.protocol && u.port === hp.port);
        if (j >= 0) this.usedPorts.splice(j, 1);
      }
    }
  }

  /** A copy whose lists can change independently (pod infos themselves are immutable). */
  clone(): NodeInfo {
    const c = new NodeInfo(this.name);
    c.node = this.node;
    c.labels = this.labels;
    c.taints = this.taints;
    c.unschedulable = this.unschedulable;
    c.allocatable = this.allocatable;
    c.images = this.images;
    c.pods = this.pods.slice();
    c.podsWithAffinity = this.podsWithAffinity.slice();
    c.podsWithRequiredAntiAffinity = this.podsWithRequiredAntiAffinity.slice();
    c.requestedCpu = this.requestedCpu;
    c.requestedMemory = this.requestedMemory;
    c.requestedEphemeral = this.requestedEphemeral;
    c.requestedScalar = new Map(this.requestedScalar);
    c.nonZeroCpu = this.nonZeroCpu;
    c.nonZeroMemory = this.nonZeroMemory;
    c.usedPorts = this.usedPorts.slice();
    c.generation = this.generation;
    return c;
  }
}

/** True when `want` conflicts with a used port (same protocol and port; 0.0.0.0 overlaps any IP). */
export function portConflicts(used: readonly HostPort[], want: HostPort): boolean {
  for (const u of used) {
    if (u.port !== want.port || u.protocol !== want.protocol) continue;
    if (u.ip === want.ip || u.ip === "0.0.0.0" || want.ip === "0.0.0.0") return true;
  }
  return false;
}
