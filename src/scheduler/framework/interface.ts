/**
 * Plugin extension points (kube-scheduler's framework interfaces, TypeScript-shaped). A plugin is
 * an object with a `name` and the methods of the points it implements; each plugin declares them
 * with `satisfies` so a missing method is a compile error. Return `undefined` for success.
 *
 * Two ways to filter and score: per node (`filter`, `score`), which any plugin may implement and
 * which preemption's dry runs always use, and the batched forms the default plugins use on the
 * hot path — `KernelPlugin` (contributes inputs to the one kernel call per pod) and `filterAll` /
 * `scoreAll` (one pass over all nodes with per-pod precomputation).
 */
import type { PodInput } from "../kernel/types.ts";
import type { NodeInfo } from "../cache/node_info.ts";
import type { Snapshot } from "../cache/snapshot.ts";
import type { PodInfo } from "../types.ts";
import type { ClusterEventWithHint } from "./events.ts";
import type { CycleState, MaybeStatus, Status } from "./status.ts";

export interface Plugin {
  readonly name: string;
}

/** Services plugins may use (kube-scheduler's framework.Handle). */
export interface Handle {
  /** Pods nominated to run on `nodeName` (by earlier preemptions), highest priority first. */
  nominatedPodsForNode(nodeName: string): readonly PodInfo[];
  /**
   * Every node that has nominated pods, with `nominatedPodsForNode`'s list for it. A node's list is
   * replaced, never edited in place, when it changes: results derived from it may be kept while
   * the list is the same array.
   */
  nominations(): Iterable<readonly [node: string, pods: readonly PodInfo[]]>;
  /**
   * The nodes whose nominated list changed since change number `since`, and the number to pass
   * next time; `nodes` is undefined when that is too far back (read `nominations()` instead).
   */
  nominationChanges(since: number): { readonly next: number; readonly nodes: readonly string[] | undefined };
  /** The node the scheduler's nominator holds for this pod key (may be newer than the pod's status). */
  nominatedNode(podKey: string): string | undefined;
  /**
   * True while a victim this scheduler evicted has not been seen deleted yet. Upstream deletes
   * victims inside the preempting cycle, so by the preemptor's retry they are terminating; here the
   * eviction is asynchronous and this stands in for that state.
   */
  preemptionInFlight(podKey: string): boolean;
  /**
   * True while the evictions this pod's last preemption issued are still running: some victim's
   * eviction has not failed and the victim has not been seen deleted or terminating. Upstream's
   * async preemption (`IsPodRunningPreemption`) keeps the preemptor out of the active queue for
   * that time through DefaultPreemption's PreEnqueue.
   */
  preemptionRunning(podKey: string): boolean;
  namespaceLabels(ns: string): Readonly<Record<string, string>> | undefined;
  /** Selectors of services / replica sets / stateful sets / RCs matching the pod (for default spreading). */
  workloadSelectorsFor(pod: PodInfo): readonly import("../../api/selectors/labels.ts").LabelSelector[];
  /** PodDisruptionBudgets known to the scheduler: the same array until one changes (results derived from it may be kept while it is). */
  pdbs(): readonly PdbInfo[];
  /** Runs every enabled filter (per-node form) on `node`, first with higher-or-equal-priority nominated pods added (upstream's RunFilterPluginsWithNominatedPods). */
  runFilterPluginsWithNominatedPods(state: CycleState, pod: PodInfo, node: NodeInfo): MaybeStatus;
  runPreFilterExtensionAddPod(state: CycleState, pod: PodInfo, added: PodInfo, node: NodeInfo): void;
  runPreFilterExtensionRemovePod(state: CycleState, pod: PodInfo, removed: PodInfo, node: NodeInfo): void;
  /** Names of the profile's enabled Filter plugins, in order. */
  enabledFilters(): readonly string[];
}

/** A PodDisruptionBudget as preemption needs it. */
export interface PdbInfo {
  readonly namespace: string;
  readonly name: string;
  readonly selector: import("../../api/selectors/labels.ts").LabelSelector;
  /** status.disruptionsAllowed. */
  readonly disruptionsAllowed: number;
  /** status.disruptedPods keys (pods already being disrupted do not count again). */
  readonly disruptedPods: ReadonlySet<string>;
}

export interface EnqueueExtensions {
  /** Events that may make pods this plugin rejected schedulable. */
  eventsToRegister(): readonly ClusterEventWithHint[];
}

export interface PreEnqueuePlugin extends Plugin {
  /** Gate before the active queue; a non-success keeps the pod out (e.g. SchedulingGated). */
  preEnqueue(pod: PodInfo): MaybeStatus;
}

export interface QueuedPodInfo {
  info: PodInfo;
  /** Time the pod entered the active queue most recently (ms). */
  timestamp: number;
  /** Monotonic arrival order (ties). */
  seq: number;
  attempts: number;
  initialAttemptTimestamp: number | undefined;
  unschedulablePlugins: Set<string>;
  gatedBy: string | undefined;
}

export interface QueueSortPlugin extends Plugin {
  less(a: QueuedPodInfo, b: QueuedPodInfo): boolean;
}

export interface PreFilterExtensions {
  /** Adjusts PreFilter state as if `added` were on `node` (preemption and nominated pods). */
  addPod(state: CycleState, pod: PodInfo, added: PodInfo, node: NodeInfo): void;
  removePod(state: CycleState, pod: PodInfo, removed: PodInfo, node: NodeInfo): void;
}

export interface PreFilterPlugin extends Plugin {
  /** Skip = this plugin's Filter is not needed for the pod. */
  preFilter(state: CycleState, pod: PodInfo, snap: Snapshot): MaybeStatus;
  readonly preFilterExtensions?: PreFilterExtensions;
}

/** Where batched filters record rejections (first rejection per node wins). */
export interface FilterSink {
  /** Rejects one node. A node keeps the first status it is rejected with. */
  reject(nodeIndex: number, status: Status): void;
  /**
   * Optional bulk form: rejects every node whose bit is set in `mask` (bit i & 31 of word i >>> 5;
   * bits past the snapshot's nodes are ignored), with the same first-status-wins rule. The sink
   * reads `mask` during the call only.
   */
  rejectMask?(mask: Uint32Array, status: Status): void;
}

export interface FilterPlugin extends Plugin {
  /** Per-node check on `node` (which may be a modified copy during preemption). */
  filter(state: CycleState, pod: PodInfo, node: NodeInfo): MaybeStatus;
  /** Optional batched form over every snapshot node. */
  filterAll?(state: CycleState, pod: PodInfo, snap: Snapshot, sink: FilterSink): void;
}

/** Mutable view of the kernel's per-pod input while plugins fill it. */
export type KernelPodInput = { -readonly [K in keyof PodInput]: PodInput[K] };

/** A numeric plugin evaluated inside the kernel. Its `filter` is the TypeScript reference used for diagnosis and preemption. */
export interface KernelPlugin extends Plugin {
  /** Which kernel score weight this plugin's Score weight drives (if it scores). */
  readonly kernelWeight?: "nodeResourcesFit" | "balancedAllocation" | "taintToleration" | "nodeAffinity" | "imageLocality";
  /** Writes this plugin's part of the kernel input. `filterEnabled` false = make its kernel filter pass everything. */
  fillKernelInput(state: CycleState, pod: PodInfo, snap: Snapshot, input: KernelPodInput, filterEnabled: boolean): MaybeStatus;
}

export interface PostFilterResult {
  readonly nominatedNodeName: string | undefined;
  /** Pods to evict (runner deletes them). */
  readonly victims: readonly PodInfo[];
}

/** Per-node filter outcome for diagnosis and PostFilter (index = snapshot slot; undefined = feasible). */
export interface NodeStatusReader {
  readonly size: number;
  get(index: number): Status | undefined;
  /**
   * True when NodeResourcesFit is known to be the only filter that rejected the node (every other
   * enabled filter passed it). Optional: a reader that cannot tell omits it (or answers false).
   */
  resourcesOnly?(index: number): boolean;
}

export interface PostFilterPlugin extends Plugin {
  postFilter(state: CycleState, pod: PodInfo, snap: Snapshot, statuses: NodeStatusReader): { result: PostFilterResult | undefined; status: Status };
}

export interface PreScorePlugin extends Plugin {
  /**
   * `feasible()` lists the nodes that passed filtering (built on first call, so plugins that Skip
   * without looking cost O(1)). Return Skip when Score has nothing to do for this pod.
   */
  preScore(state: CycleState, pod: PodInfo, snap: Snapshot, feasible: () => readonly NodeInfo[]): MaybeStatus;
}

export interface ScorePlugin extends Plugin {
  score(state: CycleState, pod: PodInfo, node: NodeInfo): number;
  /** Rewrites raw scores (aligned with the feasible node list) into 0..100. */
  normalizeScore?(state: CycleState, pod: PodInfo, scores: Float64Array, nodes: readonly NodeInfo[]): void;
}

export interface ReservePlugin extends Plugin {
  reserve(state: CycleState, pod: PodInfo, nodeName: string): MaybeStatus;
  unreserve(state: CycleState, pod: PodInfo, nodeName: string): void;
}

export interface PermitResult {
  readonly status: MaybeStatus;
  /** For a Wait status: how long to wait before rejecting (ms). */
  readonly timeoutMs?: number;
}
export interface PermitPlugin extends Plugin {
  permit(state: CycleState, pod: PodInfo, nodeName: string): PermitResult;
}

export interface PreBindPlugin extends Plugin {
  preBind(state: CycleState, pod: PodInfo, nodeName: string): Promise<MaybeStatus>;
}

export interface BindPlugin extends Plugin {
  /** Skip = let the next bind plugin handle it. */
  bind(state: CycleState, pod: PodInfo, nodeName: string): Promise<MaybeStatus>;
}

export interface PostBindPlugin extends Plugin {
  postBind(state: CycleState, pod: PodInfo, nodeName: string): void;
}

export type ExtensionPoint =
  | "preEnqueue" | "queueSort" | "preFilter" | "filter" | "postFilter" | "preScore" | "score"
  | "reserve" | "permit" | "preBind" | "bind" | "postBind";

export const EXTENSION_POINTS: readonly ExtensionPoint[] = [
  "preEnqueue", "queueSort", "preFilter", "filter", "postFilter", "preScore", "score", "reserve", "permit", "preBind", "bind", "postBind",
];

/** Which extension points an object implements (by method presence). */
export function implementedPoints(p: object): Set<ExtensionPoint> {
  const has = (m: string): boolean => m in p && typeof (p as Record<string, unknown>)[m] === "function";
  const s = new Set<ExtensionPoint>();
  if (has("preEnqueue")) s.add("preEnqueue");
  if (has("less")) s.add("queueSort");
  if (has("preFilter")) s.add("preFilter");
  if (has("filter")) s.add("filter");
  if (has("postFilter")) s.add("postFilter");
  if (has("preScore")) s.add("preScore");
  if (has("score") || "kernelWeight" in p) s.add("score");
  if (has("reserve")) s.add("reserve");
  if (has("permit")) s.add("permit");
  if (has("preBind")) s.add("preBind");
  if (has("bind")) s.add("bind");
  if (has("postBind")) s.add("postBind");
  return s;
}
