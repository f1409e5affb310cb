/**
 * The scheduler's numeric hot loop: `createKernel({ simd })` (WASM) and `createTwinKernel()` (the
 * TypeScript twin) implement the same `Kernel` port. See docs/scheduler-kernel.md.
 */
import { type Backing, arrayBacking, KernelState } from "./_state.ts";
import { instantiate, memoryBacking } from "./_wasm.ts";
import { filterAndScoreTwin } from "./twin.ts";
import type { Kernel, KernelImpl, NodeState, PodInput, PodInputViews, PodRequests, ScoreOutput, ScoringProfile } from "./types.ts";
import { DEFAULT_PROFILE, REASON_COUNT } from "./types.ts";

export * from "./types.ts";
export { reasonMessages } from "./reasons.ts";

export interface KernelOptions {
  /** Names of extended resources (at most 8); index k is `extended[k]` everywhere. */
  readonly extendedResources?: readonly string[];
  /** 32-bit words per taint bitset (1..8, default 1 → 32 interned taints per effect class). */
  readonly taintWords?: number;
  /** Initial node capacity (grown on demand). */
  readonly initialCapacity?: number;
  /** Scoring profile (default: kube-scheduler's default profile). */
  readonly profile?: ScoringProfile;
}

class KernelImplBase implements Kernel {
  readonly state: KernelState;
  constructor(readonly impl: KernelImpl, backing: Backing, opts: KernelOptions, private readonly compute: (n: number) => number) {
    this.state = new KernelState(backing, opts.extendedResources ?? [], opts.taintWords ?? 1, opts.initialCapacity ?? 32);
    this.state.setProfile(opts.profile ?? DEFAULT_PROFILE);
  }
  get extendedResources(): readonly string[] { return this.state.extendedResources; }
  get taintWords(): number { return this.state.taintWords; }
  get nodeCount(): number { return this.state.nodeCount; }
  get capacity(): number { return this.state.capacity; }
  setNodeCount(n: number): void { this.state.setNodeCount(n); }
  setProfile(profile: ScoringProfile): void { this.state.setProfile(profile); }
  setNode(i: number, node: NodeState): void { this.state.setNode(i, node); }
  addPodToNode(i: number, pod: PodRequests): void { this.state.addPodToNode(i, pod, 1); }
  removePodFromNode(i: number, pod: PodRequests): void { this.state.addPodToNode(i, pod, -1); }
  copyNode(from: number, to: number): void { this.state.copyNode(from, to); }
  podInputViews(): PodInputViews {
    const v = this.state.views();
    return { selector: v.selector, externalReject: v.externalReject, preferredWeights: v.preferredWeights, imageSums: v.imageSums, extraScore: v.extraScore };
  }
  filterAndScore(pod: PodInput): number {
    const n = this.state.writePod(pod);
    const best = this.compute(n);
    if (best < -1) throw new Error("scheduler kernel: memory header missing (layout mismatch)");
    return best;
  }
  filterAndScoreInto(pod: PodInput, out: ScoreOutput): ScoreOutput {
    const n = this.state.nodeCount;
    if (out.status.length < n || out.scores.length < n) throw new RangeError(`output buffers must hold ${n} nodes`);
    if (out.reasonCounts.length < REASON_COUNT) throw new RangeError(`reasonCounts must hold ${REASON_COUNT} entries`);
    out.best = this.filterAndScore(pod);
    const v = this.state.views();
    out.status.set(v.status.subarray(0, n));
    out.scores.set(v.score.subarray(0, n));
    out.reasonCounts.set(v.reasons.subarray(0, REASON_COUNT));
    out.feasible = this.state.feasible();
    return out;
  }
  lastStatus(): Int32Array { return this.state.views().status.subarray(0, this.state.nodeCount); }
  lastScores(): Int32Array { return this.state.views().score.subarray(0, this.state.nodeCount); }
  lastReasonCounts(): Int32Array { return this.state.reasonCountsView(); }
  lastFeasible(): number { return this.state.feasible(); }
}

/** Creates a WASM kernel (SIMD or scalar build). Rejects if the .wasm is missing (`npm run asbuild`). */
export async function createKernel(opts: KernelOptions & { readonly simd: boolean }): Promise<Kernel> {
  const ex = await instantiate(opts.simd);
  return new KernelImplBase(opts.simd ? "wasm-simd" : "wasm-scalar", memoryBacking(ex.memory), opts, (n) => ex.filterAndScore(n));
}

/** Creates the TypeScript twin (same layout in an ArrayBuffer). */
export function createTwinKernel(opts: KernelOptions = {}): Kernel {
  let k: KernelImplBase | undefined = undefined;
  k = new KernelImplBase("ts", arrayBacking(), opts, (n) => {
    if (!k) throw new Error("unreachable: kernel not constructed");
    return filterAndScoreTwin(k.state.views(), n);
  });
  return k;
}

/** Allocates output buffers for `filterAndScoreInto` sized for `nodes`. */
export function createScoreOutput(nodes: number): ScoreOutput {
  return { status: new Int32Array(nodes), scores: new Int32Array(nodes), reasonCounts: new Int32Array(REASON_COUNT), best: -1, feasible: 0 };
}
