/**
 * The per-cycle view of the cluster: NodeInfo clones indexed like the kernel's node slots, plus
 * the kernel itself kept in step. `SchedulerCache.updateSnapshot` copies only nodes changed since
 * the snapshot's generation, so a cycle costs O(changed nodes), not O(all nodes).
 */
import type { Labels } from "../../api/selectors/labels.ts";
import { type Kernel, MAX_AMOUNT, type NodeState } from "../kernel/types.ts";
import { NodeInfo } from "./node_info.ts";
import type { PodInfo } from "../types.ts";
import { PodIndex } from "./_podindex.ts";
import { SpreadIndex } from "./_spreadindex.ts";
import { TaintInterner } from "./_taints.ts";

const HARD = ["NoSchedule", "NoExecute"];
const clamp = (v: number): number => (v > MAX_AMOUNT ? MAX_AMOUNT : v < 0 ? 0 : v);

export class Snapshot {
  /** Node slot i ↔ kernel node i. */
  readonly nodes: NodeInfo[] = [];
  readonly index = new Map<string, number>();
  readonly hardTaints: TaintInterner;
  readonly preferTaints: TaintInterner;
  /** Nodes with taints that found no free bit (TaintToleration checks them in TypeScript). */
  readonly overflowTaintNodes = new Set<string>();
  readonly nodesWithAffinityPods = new Set<string>();
  readonly nodesWithRequiredAntiAffinityPods = new Set<string>();
  /** Nodes with pods whose required affinity or preferred (anti-)affinity terms score incoming pods. */
  readonly nodesWithScoringAffinityPods = new Set<string>();
  /** Label indexes over every pod in the snapshot (inter-pod affinity, topology spread). */
  readonly pods = new PodIndex();
  /** Topology spread counts shared by equal constraints, kept in step with `pods` (PodTopologySpread). */
  readonly spread = new SpreadIndex(this.pods);
  /** Image name → number of nodes reporting it. */
  readonly imageNodes = new Map<string, number>();
  /** Cache generation this snapshot reflects. */
  generation = 0;
  /** Bumped when node slots or labels change (invalidates per-node bitsets computed from labels). */
  labelsEpoch = 0;
  /** Bumped when node slots or node images change. */
  imagesEpoch = 0;
  /**
   * Called with a node's name whenever its kernel slot is overwritten (`setNode`) or the node is
   * removed: anything layered on the kernel state of that node (nominated pods) must be re-applied.
   */
  onKernelReset: ((nodeName: string) => void) | undefined = undefined;
  private readonly hardBits: Uint32Array[] = [];
  private readonly preferBits: Uint32Array[] = [];

  constructor(readonly kernel: Kernel, readonly namespaceLabels: (ns: string) => Labels | undefined = () => undefined) {
    this.hardTaints = new TaintInterner(kernel.taintWords);
    this.preferTaints = new TaintInterner(kernel.taintWords);
    kernel.setNodeCount(0);
  }

  get size(): number { return this.nodes.length; }

  /**
   * Node slots by value of label `key` (nodes without the label are absent), rebuilt lazily after
   * slots or labels changed. Lets a plugin visit only the nodes of the topology domains it counted
   * instead of every node. Callers must not modify the result.
   */
  domainSlots(key: string): ReadonlyMap<string, readonly number[]> {
    if (this.domainsEpoch !== this.labelsEpoch) { this.domains.clear(); this.domainsEpoch = this.labelsEpoch; }
    let m = this.domains.get(key);
    if (m) return m;
    const built = new Map<string, number[]>();
    for (let i = 0; i < this.nodes.length; i++) {
      const v = this.nodes[i]?.labels[key];
      if (v === undefined) continue;
      const list = built.get(v);
      if (list) list.push(i); else built.set(v, [i]);
    }
    m = built;
    this.domains.set(key, m);
    return m;
  }
  private readonly domains = new Map<string, ReadonlyMap<string, readonly number[]>>();
  private domainsEpoch = -1;

  /** Number of nodes carrying label `key` (from `domainSlots`, same lazy rebuild). */
  nodesWithLabel(key: string): number {
    const slots = this.domainSlots(key);
    let n = this.labelCounts.get(slots);
    if (n === undefined) {
      n = 0;
      for (const list of slots.values()) n += list.length;
      this.labelCounts.set(slots, n);
    }
    return n;
  }
  private readonly labelCounts = new WeakMap<ReadonlyMap<string, readonly number[]>, number>();

  get(name: string): NodeInfo | undefined {
    const i = this.index.get(name);
    return i === undefined ? undefined : this.nodes[i];
  }

  /** Inserts or replaces a node (a clone owned by the snapshot) and pushes it to the kernel. */
  upsert(ni: NodeInfo): void {
    let i = this.index.get(ni.name);
    const old = i === undefined ? undefined : this.nodes[i];
    if (i === undefined) {
      i = this.nodes.length;
      this.nodes.push(ni);
      this.index.set(ni.name, i);
      this.hardBits.push(new Uint32Array(this.kernel.taintWords));
      this.preferBits.push(new Uint32Array(this.kernel.taintWords));
      this.kernel.setNodeCount(this.nodes.length);
      this.labelsEpoch++;
      this.imagesEpoch++;
    } else {
      this.nodes[i] = ni;
      if (old && old.labels !== ni.labels) this.labelsEpoch++;
      if (old && old.images !== ni.images) this.imagesEpoch++;
    }
    if (old) this.countImages(old, -1);
    this.countImages(ni, 1);
    if (old && old.labels === ni.labels) {
      // Same labels: only the pods that came or went change the index (PodInfos are immutable, so
      // identity tells them apart); index refs carry the labels, so a label change re-adds all.
      const small = old.pods.length + ni.pods.length <= 32; // linear scans beat two Sets on small nodes
      const before: { has(p: PodInfo): boolean } = small ? { has: (p) => old.pods.includes(p) } : new Set(old.pods);
      const after: { has(p: PodInfo): boolean } = small ? { has: (p) => ni.pods.includes(p) } : new Set(ni.pods);
      const gone = old.pods.filter((p) => !after.has(p)), come = ni.pods.filter((p) => !before.has(p));
      if (gone.length > 0) { this.pods.remove(ni.name, gone, old.labels); this.spread.remove(gone, old.labels); }
      if (come.length > 0) { this.pods.add(ni.name, come, ni.labels); this.spread.add(come, ni.labels); }
    } else {
      if (old) { this.pods.remove(ni.name, old.pods, old.labels); this.spread.remove(old.pods, old.labels); }
      this.pods.add(ni.name, ni.pods, ni.labels);
      this.spread.add(ni.pods, ni.labels);
    }
    this.track(ni);
    this.pushToKernel(i, ni, old === undefined || old.taints !== ni.taints);
  }

  /** Removes a node by swapping the last slot into its place (kernel `copyNode`). */
  remove(name: string): void {
    const i = this.index.get(name);
    if (i === undefined) return;
    const gone = this.nodes[i];
    const last = this.nodes.length - 1;
    const hb = this.hardBits[i], pb = this.preferBits[i];
    if (hb) this.hardTaints.release(hb);
    if (pb) this.preferTaints.release(pb);
    if (i !== last) {
      const moved = this.nodes[last];
      const mh = this.hardBits[last], mp = this.preferBits[last];
      if (moved === undefined || mh === undefined || mp === undefined) throw new Error("snapshot: slot table corrupt");
      this.nodes[i] = moved;
      this.hardBits[i] = mh;
      this.preferBits[i] = mp;
      this.index.set(moved.name, i);
      this.kernel.copyNode(last, i);
    }
    this.nodes.pop();
    this.hardBits.pop();
    this.preferBits.pop();
    this.index.delete(name);
    this.kernel.setNodeCount(this.nodes.length);
    if (gone) { this.countImages(gone, -1); this.pods.remove(name, gone.pods, gone.labels); this.spread.remove(gone.pods, gone.labels); }
    this.overflowTaintNodes.delete(name);
    this.nodesWithAffinityPods.delete(name);
    this.nodesWithRequiredAntiAffinityPods.delete(name);
    this.nodesWithScoringAffinityPods.delete(name);
    this.labelsEpoch++;
    this.imagesEpoch++;
    this.onKernelReset?.(name);
  }

  private track(ni: NodeInfo): void {
    if (ni.podsWithAffinity.length > 0) this.nodesWithAffinityPods.add(ni.name); else this.nodesWithAffinityPods.delete(ni.name);
    if (ni.podsWithRequiredAntiAffinity.length > 0) this.nodesWithRequiredAntiAffinityPods.add(ni.name);
    else this.nodesWithRequiredAntiAffinityPods.delete(ni.name);
    if (ni.podsWithAffinity.some((p) => p.requiredAffinity.length + p.preferredAffinity.length + p.preferredAntiAffinity.length > 0)) {
      this.nodesWithScoringAffinityPods.add(ni.name);
    } else this.nodesWithScoringAffinityPods.delete(ni.name);
  }

  private countImages(ni: NodeInfo, sign: 1 | -1): void {
    for (const name of ni.images.keys()) {
      const n = (this.imageNodes.get(name) ?? 0) + sign;
      if (n <= 0) this.imageNodes.delete(name); else this.imageNodes.set(name, n);
    }
  }

  private pushToKernel(i: number, ni: NodeInfo, taintsChanged: boolean): void {
    const hb = this.hardBits[i], pb = this.preferBits[i];
    if (hb === undefined || pb === undefined) throw new Error("snapshot: slot table corrupt");
    if (taintsChanged) {
      this.hardTaints.release(hb);
      this.preferTaints.release(pb);
      const okH = this.hardTaints.acquire(ni.taints.filter((t) => HARD.includes(t.effect ?? "")), hb);
      const okP = this.preferTaints.acquire(ni.taints.filter((t) => t.effect === "PreferNoSchedule"), pb);
      if (okH && okP) this.overflowTaintNodes.delete(ni.name); else this.overflowTaintNodes.add(ni.name);
    }
    const ext = this.kernel.extendedResources;
    const state: NodeState = {
      allocatable: {
        cpu: clamp(ni.alloc("cpu")), memory: clamp(ni.alloc("memory")), ephemeralStorage: clamp(ni.alloc("ephemeral-storage")),
        pods: clamp(ni.alloc("pods")), extended: ext.map((r) => clamp(ni.alloc(r))),
      },
      requested: {
        cpu: clamp(ni.requestedCpu), memory: clamp(ni.requestedMemory), ephemeralStorage: clamp(ni.requestedEphemeral),
        extended: ext.map((r) => clamp(ni.requested(r))),
      },
      nonZeroRequested: { cpu: clamp(ni.nonZeroCpu), memory: clamp(ni.nonZeroMemory) },
      podCount: ni.pods.length,
      unschedulable: ni.unschedulable,
      taints: hb,
      preferNoScheduleTaints: pb,
    };
    this.kernel.setNode(i, state);
    this.onKernelReset?.(ni.name);
  }
}
