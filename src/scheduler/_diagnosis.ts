/**
 * FailedScheduling diagnosis: per-node statuses reconstructed from the kernel's status bits (the
 * exact taint named by re-running TaintToleration's TypeScript filter on that node) and the
 * external filters' statuses, and kube-scheduler's message format:
 * "0/5000 nodes are available: 10 node(s) had untolerated taint {k: v}, 4990 Insufficient cpu."
 */
import type { Snapshot } from "./cache/snapshot.ts";
import type { Framework } from "./framework/framework.ts";
import type { NodeStatusReader } from "./framework/interface.ts";
import { type CycleState, Status } from "./framework/status.ts";
import { Reason } from "./kernel/types.ts";
import type { PodInfo } from "./types.ts";

const FIT_BITS = Reason.TooManyPods | Reason.InsufficientCpu | Reason.InsufficientMemory | Reason.InsufficientEphemeralStorage;
const NOT_FIT_BITS = Reason.Unschedulable | Reason.UntoleratedTaint | Reason.NodeAffinity | Reason.External;

/** The plugin a kernel status bit belongs to. */
export function pluginOfBits(bits: number): string {
  if (bits & Reason.Unschedulable) return "NodeUnschedulable";
  if (bits & Reason.UntoleratedTaint) return "TaintToleration";
  if (bits & Reason.NodeAffinity) return "NodeAffinity";
  if (bits & (FIT_BITS | ~(Reason.External * 2 - 1))) return "NodeResourcesFit";
  return "";
}

export class NodeStatuses implements NodeStatusReader {
  /** Per node: the computed status, null = feasible, undefined = not computed yet. */
  private readonly cache: (Status | null | undefined)[] = [];
  /** Statuses that depend on the kernel bits only (not taints), shared by every node with those bits. */
  private readonly byBits = new Map<number, Status>();
  private lastBits = 0;
  private lastShared: Status | undefined;
  constructor(
    private readonly fw: Framework,
    private readonly state: CycleState,
    private readonly pod: PodInfo,
    private readonly snap: Snapshot,
    private readonly kernelStatus: Int32Array,
    private readonly external: readonly (Status | undefined)[],
    private readonly extendedResources: readonly string[],
    /** Set when PreFilter rejected the pod: every node has this status. */
    private readonly preFilter: Status | undefined,
  ) {}
  get size(): number { return this.snap.size; }
  get(i: number): Status | undefined {
    if (this.preFilter) return this.preFilter;
    const c = this.cache[i];
    if (c !== undefined) return c ?? undefined;
    const st = this.compute(i);
    this.cache[i] = st ?? null;
    return st;
  }
  /** Only NodeResourcesFit rejected node i: the kernel's fit bits alone and no external filter's status. */
  resourcesOnly(i: number): boolean {
    if (this.preFilter) return false;
    const bits = this.kernelStatus[i] ?? 0;
    if (bits === 0 || (bits & NOT_FIT_BITS) !== 0) return false;
    // The kernel reports fit before the external filters' bit, so their statuses must be absent too.
    return this.external[i] === undefined;
  }
  private compute(i: number): Status | undefined {
    const bits = this.kernelStatus[i] ?? 0;
    if (bits === 0) return undefined;
    if (bits === Reason.External) return this.external[i];
    const node = this.snap.nodes[i];
    const plugin = pluginOfBits(bits);
    if (plugin === "TaintToleration" && node) {
      const p = this.fw.plugins.get(plugin);
      const st = p && "filter" in p && typeof p.filter === "function" ? (p.filter as (s: CycleState, pod: PodInfo, n: typeof node) => Status | undefined)(this.state, this.pod, node) : undefined;
      if (st) return st.withPlugin(plugin);
      return Status.unresolvable("node(s) had untolerated taint").withPlugin(plugin);
    }
    // Most nodes of a cluster fail for the same reasons: one entry before the map.
    if (bits === this.lastBits && this.lastShared) return this.lastShared;
    let st = this.byBits.get(bits);
    if (!st) { st = this.fromBits(bits, plugin); this.byBits.set(bits, st); }
    this.lastBits = bits;
    this.lastShared = st;
    return st;
  }
  private fromBits(bits: number, plugin: string): Status {
    if (bits & Reason.Unschedulable) return Status.unresolvable("node(s) were unschedulable").withPlugin(plugin);
    if (bits & Reason.NodeAffinity) return Status.unresolvable("node(s) didn't match Pod's node affinity/selector").withPlugin(plugin);
    const reasons: string[] = [];
    if (bits & Reason.TooManyPods) reasons.push("Too many pods");
    if (bits & Reason.InsufficientCpu) reasons.push("Insufficient cpu");
    if (bits & Reason.InsufficientMemory) reasons.push("Insufficient memory");
    if (bits & Reason.InsufficientEphemeralStorage) reasons.push("Insufficient ephemeral-storage");
    for (let k = 0; k < this.extendedResources.length; k++) {
      if (bits & (Reason.InsufficientExtended0 << k)) reasons.push(`Insufficient ${this.extendedResources[k] ?? `extended-${k}`}`);
    }
    return Status.unschedulable(...reasons).withPlugin(plugin);
  }
}

/** "N reason" histogram over every node's reasons, sorted as strings (upstream's FitError). */
export function filterHistogram(statuses: NodeStatusReader): string {
  // Nodes with the same kernel bits share one Status: count statuses first, then their reasons.
  // (runs of one status are counted before touching the map)
  const perStatus = new Map<Status, number>();
  let run: Status | undefined, runLength = 0;
  for (let i = 0; i < statuses.size; i++) {
    const st = statuses.get(i);
    if (st === run) { runLength++; continue; }
    if (run) perStatus.set(run, (perStatus.get(run) ?? 0) + runLength);
    run = st;
    runLength = 1;
  }
  if (run) perStatus.set(run, (perStatus.get(run) ?? 0) + runLength);
  const counts = new Map<string, number>();
  for (const [st, n] of perStatus) for (const r of st.reasons) counts.set(r, (counts.get(r) ?? 0) + n);
  return [...counts].map(([r, n]) => `${n} ${r}`).sort().join(", ");
}

/** The FailedScheduling message: "0/N nodes are available: <histogram>. <postFilter message>." */
export function fitErrorMessage(numNodes: number, preFilterMsg: string, histogram: string, postFilterMsg: string): string {
  let msg = `0/${numNodes} nodes are available:`;
  const body = preFilterMsg !== "" ? preFilterMsg : histogram;
  if (body !== "") msg += ` ${body}.`;
  if (postFilterMsg !== "") msg += ` ${postFilterMsg.endsWith(".") ? postFilterMsg : `${postFilterMsg}.`}`;
  return msg;
}
