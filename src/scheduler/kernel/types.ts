/**
 * The scheduler kernel port: filter + score every node for one pod in a single call, over node
 * state kept as struct-of-arrays (in WASM linear memory for the WASM kernels, in an ArrayBuffer
 * with the same layout for the TypeScript twin). Semantics are kube-scheduler's for the numeric
 * plugins; see docs/scheduler-kernel.md for the exact formulas and limits.
 *
 * Units: cpu in millicores, memory and ephemeral storage in bytes, extended resources in their
 * integer units. All amounts must be non-negative integers ≤ `MAX_AMOUNT` (2^46) so every integer
 * division the kernel performs on f64 equals Go's int64 division.
 */

/** Largest accepted resource amount (2^46: 64 TiB of memory). */
export const MAX_AMOUNT = 2 ** 46;

/** Filter reason bits (a node's status is 0 when feasible, else the failing plugin's bits). */
export const Reason = {
  Unschedulable: 1,
  UntoleratedTaint: 2,
  NodeAffinity: 4,
  TooManyPods: 8,
  InsufficientCpu: 16,
  InsufficientMemory: 32,
  InsufficientEphemeralStorage: 64,
  /** A filter evaluated outside the kernel rejected the node (`PodInput.externalReject`). */
  External: 128,
  /** `Reason.InsufficientExtended0 << k` for extended resource k. */
  InsufficientExtended0: 256,
} as const;
export const REASON_COUNT = 16;

/** A scoring resource: a core name or an extended resource index (as given to `createKernel`). */
export type ResourceId = "cpu" | "memory" | "ephemeral-storage" | number;

export type FitStrategy = "LeastAllocated" | "MostAllocated" | "RequestedToCapacityRatio";

/** A profile's scoring configuration (kube-scheduler plugin weights and args). */
export interface ScoringProfile {
  /** Score plugin weights (integers ≥ 0; 0 disables the plugin). */
  readonly weights: {
    readonly nodeResourcesFit: number;
    readonly balancedAllocation: number;
    readonly taintToleration: number;
    readonly nodeAffinity: number;
    readonly imageLocality: number;
  };
  /** NodeResourcesFit scoringStrategy. */
  readonly fit: {
    readonly strategy: FitStrategy;
    /** At most 8 resources; weights integers ≥ 1. Upstream default: cpu 1, memory 1. */
    readonly resources: readonly { readonly name: ResourceId; readonly weight: number }[];
    /** RequestedToCapacityRatio shape: utilization 0..100 strictly increasing, score 0..10. */
    readonly shape?: readonly { readonly utilization: number; readonly score: number }[];
  };
  /** NodeResourcesBalancedAllocation resources (at most 8). Upstream default: cpu, memory. */
  readonly balancedResources: readonly ResourceId[];
}

/** The upstream default profile's numeric part (weights from kube-scheduler's default plugins). */
export const DEFAULT_PROFILE: ScoringProfile = {
  weights: { nodeResourcesFit: 1, balancedAllocation: 1, taintToleration: 3, nodeAffinity: 2, imageLocality: 1 },
  fit: { strategy: "LeastAllocated", resources: [{ name: "cpu", weight: 1 }, { name: "memory", weight: 1 }] },
  balancedResources: ["cpu", "memory"],
};

/** Resource amounts; `extended[k]` is extended resource k (missing = 0). */
export interface Amounts {
  readonly cpu: number;
  readonly memory: number;
  readonly ephemeralStorage: number;
  readonly extended?: ArrayLike<number>;
}

/** A pod's requests as the cache adds them to a node. */
export interface PodRequests extends Amounts {
  /** Requests with kube-scheduler's non-zero defaults (100m cpu, 200 MiB memory) for containers without requests. */
  readonly nonZeroCpu: number;
  readonly nonZeroMemory: number;
}

/** Everything the kernel keeps about one node. */
export interface NodeState {
  readonly allocatable: Amounts & { readonly pods: number };
  readonly requested: Amounts;
  readonly nonZeroRequested: { readonly cpu: number; readonly memory: number };
  readonly podCount: number;
  readonly unschedulable: boolean;
  /** Interned NoSchedule/NoExecute taints as a bitset (`taintWords` words). */
  readonly taints: ArrayLike<number>;
  /** Interned PreferNoSchedule taints as a bitset (`taintWords` words). */
  readonly preferNoScheduleTaints: ArrayLike<number>;
}

/**
 * One scheduling attempt's inputs. Per-node arrays are copied into the kernel during the call
 * (the caller may reuse them afterwards) unless they are the kernel's own `podInputViews()`; each
 * must cover at least `nodeCount` nodes.
 */
export interface PodInput {
  readonly requests: PodRequests;
  /** The pod tolerates `node.kubernetes.io/unschedulable:NoSchedule`. */
  readonly toleratesUnschedulable: boolean;
  /** Bits of the interned hard taints the pod tolerates (`taintWords` words; missing words = 0). */
  readonly toleratedTaints: ArrayLike<number>;
  /** Bits of the interned PreferNoSchedule taints the pod tolerates. */
  readonly toleratedPreferTaints: ArrayLike<number>;
  /** Required node affinity / nodeSelector result, bit i = node i matches. Absent = all match. */
  readonly selector?: Uint32Array;
  /** Sum of matching preferred node-affinity term weights per node (≥ 0). Absent = all 0. */
  readonly preferredWeights?: Int32Array;
  /** Per node: Σ over the pod's images present on the node of trunc(size × nodesWithImage / totalNodes). */
  readonly imageSums?: Float64Array;
  /** Init containers + containers (≥ 1), for ImageLocality's threshold. */
  readonly numContainers: number;
  /** Filters run outside the kernel: bit i = node i rejected (counted as `Reason.External`). */
  readonly externalReject?: Uint32Array;
  /** Already weighted and normalized scores of plugins run outside the kernel, added per node. */
  readonly extraScore?: Int32Array;
  /** Seed of the tie-breaking xorshift32 (0 is replaced by a fixed non-zero constant). */
  readonly seed: number;
}

/**
 * Views of the per-node pod input areas inside kernel memory. Filling these and passing the same
 * views back in `PodInput` skips the copy (pods of one workload share selector, affinity and images,
 * so a scheduler can leave them in place across consecutive pods). Valid until the kernel's capacity
 * grows (`setNodeCount` beyond `capacity`); fetch them again after that. Entries at index ≥
 * nodeCount are ignored.
 */
export interface PodInputViews {
  readonly selector: Uint32Array;
  readonly externalReject: Uint32Array;
  readonly preferredWeights: Int32Array;
  readonly imageSums: Float64Array;
  readonly extraScore: Int32Array;
}

/** Caller-owned output buffers for `filterAndScoreInto`. */
export interface ScoreOutput {
  /** Per node filter status (0 = feasible); length ≥ nodeCount. */
  readonly status: Int32Array;
  /** Per node final weighted score (0 for infeasible nodes); length ≥ nodeCount. */
  readonly scores: Int32Array;
  /** Infeasible nodes per reason bit (index b counts bit 1 << b); length ≥ REASON_COUNT. */
  readonly reasonCounts: Int32Array;
  /** Best node index, -1 if none is feasible. */
  best: number;
  feasible: number;
}

export type KernelImpl = "ts" | "wasm-scalar" | "wasm-simd";

export interface Kernel {
  readonly impl: KernelImpl;
  readonly extendedResources: readonly string[];
  readonly taintWords: number;
  /** Number of nodes considered: indices [0, nodeCount). */
  readonly nodeCount: number;
  /** Allocated node slots (grows on demand, never shrinks). */
  readonly capacity: number;
  /** Sets nodeCount, growing storage if needed. New slots are zeroed (allocatable 0: infeasible). */
  setNodeCount(n: number): void;
  /** Replaces the profile's scoring configuration. Throws RangeError on invalid input. */
  setProfile(profile: ScoringProfile): void;
  /** Overwrites node i (0 ≤ i < nodeCount). */
  setNode(i: number, node: NodeState): void;
  /** Adds a pod's requests to node i (requested, non-zero requested, pod count). */
  addPodToNode(i: number, pod: PodRequests): void;
  /** Subtracts a pod's requests from node i. */
  removePodFromNode(i: number, pod: PodRequests): void;
  /** Copies node `from` over node `to` (swap-remove on node deletion). */
  copyNode(from: number, to: number): void;
  /** Kernel-memory input areas (zero-copy inputs); see `PodInputViews` for their lifetime. */
  podInputViews(): PodInputViews;
  /** Filters and scores all nodes; returns the best index (-1 if none). Results in `lastStatus` etc. */
  filterAndScore(pod: PodInput): number;
  /** As `filterAndScore`, copying the results into caller buffers (no allocation). */
  filterAndScoreInto(pod: PodInput, out: ScoreOutput): ScoreOutput;
  /**
   * Views of the last call's results inside kernel memory. Valid until the next `filterAndScore*`,
   * `setNodeCount` or growth; copy what must outlive that.
   */
  lastStatus(): Int32Array;
  lastScores(): Int32Array;
  lastReasonCounts(): Int32Array;
  lastFeasible(): number;
}
