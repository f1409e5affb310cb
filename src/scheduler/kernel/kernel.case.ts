/**
 * The conformance suite of the `Kernel` port: every implementation (TypeScript twin, WASM scalar,
 * WASM SIMD) runs these cases. Expected scores are computed by hand from kube-scheduler's formulas.
 */
import { describe, expect, it } from "vitest";
import { createScoreOutput } from "./mod.ts";
import {
  DEFAULT_PROFILE, type Kernel, type NodeState, type PodInput, type PodRequests, Reason, type ScoringProfile,
} from "./types.ts";

const GiB = 2 ** 30;
const MiB = 2 ** 20;

type Factory = (opts?: { extendedResources?: string[]; taintWords?: number }) => Promise<Kernel>;

function node(over: Partial<{
  cpu: number; memory: number; eph: number; pods: number; reqCpu: number; reqMem: number; nzCpu: number; nzMem: number;
  podCount: number; unschedulable: boolean; taints: number[]; prefer: number[]; ext: number[]; reqExt: number[];
}> = {}): NodeState {
  const reqCpu = over.reqCpu ?? 0;
  const reqMem = over.reqMem ?? 0;
  return {
    allocatable: { cpu: over.cpu ?? 4000, memory: over.memory ?? 8 * GiB, ephemeralStorage: over.eph ?? 100 * GiB, pods: over.pods ?? 110, extended: over.ext ?? [] },
    requested: { cpu: reqCpu, memory: reqMem, ephemeralStorage: 0, extended: over.reqExt ?? [] },
    nonZeroRequested: { cpu: over.nzCpu ?? reqCpu, memory: over.nzMem ?? reqMem },
    podCount: over.podCount ?? 0,
    unschedulable: over.unschedulable ?? false,
    taints: over.taints ?? [0],
    preferNoScheduleTaints: over.prefer ?? [0],
  };
}

function req(cpu: number, memory: number, extra: Partial<PodRequests> = {}): PodRequests {
  return { cpu, memory, ephemeralStorage: 0, nonZeroCpu: cpu || 100, nonZeroMemory: memory || 200 * MiB, ...extra };
}

function pod(r: PodRequests, extra: Partial<PodInput> = {}): PodInput {
  return { requests: r, toleratesUnschedulable: false, toleratedTaints: [0], toleratedPreferTaints: [0], numContainers: 1, seed: 1, ...extra };
}

const only = (w: Partial<ScoringProfile["weights"]>, fit: ScoringProfile["fit"] = DEFAULT_PROFILE.fit): ScoringProfile => ({
  weights: { nodeResourcesFit: 0, balancedAllocation: 0, taintToleration: 0, nodeAffinity: 0, imageLocality: 0, ...w },
  fit,
  balancedResources: ["cpu", "memory"],
});

async function withNodes(make: Factory, nodes: NodeState[], opts?: { extendedResources?: string[]; taintWords?: number }): Promise<Kernel> {
  const k = await make(opts);
  k.setNodeCount(nodes.length);
  nodes.forEach((n, i) => k.setNode(i, n));
  return k;
}

/** Registers the suite for one implementation. */
export function kernelConformance(name: string, make: Factory): void {
  describe(`Kernel conformance: ${name}`, () => {
    // cpu 30% used (10000m allocatable, 2000m on the node + 1000m pod), memory 50% (8 GiB, 3 + 1 GiB)
    const half = node({ cpu: 10000, memory: 8 * GiB, reqCpu: 2000, reqMem: 3 * GiB });
    const pr = req(1000, GiB);

    it("LeastAllocated: cpu 30% + memory 50% used, weights 1:1 → (70 + 50) / 2 = 60", async () => {
      const k = await withNodes(make, [half]);
      k.setProfile(only({ nodeResourcesFit: 1 }));
      expect(k.filterAndScore(pod(pr))).toBe(0);
      expect(Array.from(k.lastScores())).toEqual([60]);
    });

    it("LeastAllocated with weights cpu 3 : memory 1 → (70·3 + 50) / 4 = 65", async () => {
      const k = await withNodes(make, [half]);
      k.setProfile(only({ nodeResourcesFit: 1 }, { strategy: "LeastAllocated", resources: [{ name: "cpu", weight: 3 }, { name: "memory", weight: 1 }] }));
      k.filterAndScore(pod(pr));
      expect(Array.from(k.lastScores())).toEqual([65]);
    });

    it("MostAllocated: (30 + 50) / 2 = 40; requested above allocatable is clamped to 100", async () => {
      const over = node({ cpu: 1000, memory: 8 * GiB, reqCpu: 0, nzCpu: 5000, reqMem: 4 * GiB - GiB });
      const k = await withNodes(make, [half, over]);
      k.setProfile(only({ nodeResourcesFit: 1 }, { strategy: "MostAllocated", resources: [{ name: "cpu", weight: 1 }, { name: "memory", weight: 1 }] }));
      k.filterAndScore(pod(pr));
      expect(Array.from(k.lastScores())).toEqual([40, 75]);
    });

    it("uses NonZeroRequested for fit scoring (pod without requests counts 100m / 200 MiB)", async () => {
      const k = await withNodes(make, [node({ cpu: 1000, memory: 1000 * MiB })]);
      k.setProfile(only({ nodeResourcesFit: 1 }));
      k.filterAndScore(pod(req(0, 0)));
      // cpu (1000-100)/1000 → 90, memory (1000-200)/1000 → 80 → 85
      expect(Array.from(k.lastScores())).toEqual([85]);
    });

    it("RequestedToCapacityRatio: shape (0,0)-(100,10), cpu 75% memory 50% → round(62.5) = 63", async () => {
      const k = await withNodes(make, [node({ cpu: 4000, memory: 10000 * MiB, reqCpu: 2000, reqMem: 4000 * MiB })]);
      k.setProfile(only({ nodeResourcesFit: 1 }, {
        strategy: "RequestedToCapacityRatio",
        resources: [{ name: "cpu", weight: 1 }, { name: "memory", weight: 1 }],
        shape: [{ utilization: 0, score: 0 }, { utilization: 100, score: 10 }],
      }));
      k.filterAndScore(pod(req(1000, 1000 * MiB)));
      expect(Array.from(k.lastScores())).toEqual([63]);
    });

    it("RequestedToCapacityRatio: resources scoring 0 do not count in the weight sum", async () => {
      const k = await withNodes(make, [node({ cpu: 4000, memory: 10000 * MiB, reqCpu: 2000, reqMem: 0, nzMem: 0 })]);
      k.setProfile(only({ nodeResourcesFit: 1 }, {
        strategy: "RequestedToCapacityRatio",
        resources: [{ name: "cpu", weight: 1 }, { name: "memory", weight: 5 }],
        shape: [{ utilization: 10, score: 0 }, { utilization: 100, score: 10 }],
      }));
      // cpu 75% → 0 + (100·65)/90 = 72; memory 2% → 0 (skipped) → 72
      k.filterAndScore(pod(req(1000, 200 * MiB)));
      expect(Array.from(k.lastScores())).toEqual([72]);
    });

    it("BalancedAllocation: fractions 0.75 and 0.5 → trunc((1 − 0.125)·100) = 87; best-effort pod → 0", async () => {
      const k = await withNodes(make, [node({ cpu: 4000, memory: 10000, reqCpu: 2000, reqMem: 4000 })]);
      k.setProfile(only({ balancedAllocation: 1 }));
      k.filterAndScore(pod(req(1000, 1000)));
      expect(Array.from(k.lastScores())).toEqual([87]);
      k.filterAndScore(pod(req(0, 0)));
      expect(Array.from(k.lastScores())).toEqual([0]);
    });

    it("BalancedAllocation over three resources uses the standard deviation", async () => {
      const k = await withNodes(make, [node({ cpu: 1000, memory: 1000, eph: 1000, reqCpu: 0, reqMem: 500 })]);
      k.setProfile({ ...only({ balancedAllocation: 1 }), balancedResources: ["cpu", "memory", "ephemeral-storage"] });
      k.filterAndScore(pod(req(100, 100, { ephemeralStorage: 1000 })));
      // fractions 0.1, 0.6, 1 → mean 0.5667, std ≈ 0.3682 → 63
      const f = [0.1, 0.6, 1];
      const mean = (0.1 + 0.6 + 1) / 3;
      const std = Math.sqrt(f.reduce((s, x) => s + (x - mean) * (x - mean), 0) / 3);
      expect(Array.from(k.lastScores())).toEqual([Math.trunc((1 - std) * 100)]);
      expect(k.lastScores()[0]).toBe(63);
    });

    it("TaintToleration: PreferNoSchedule counts 0, 1, 2 normalize (reversed) to 100, 50, 0", async () => {
      const k = await withNodes(make, [node(), node({ prefer: [1] }), node({ prefer: [0b110] })]);
      k.setProfile(only({ taintToleration: 1 }));
      k.filterAndScore(pod(req(100, MiB)));
      expect(Array.from(k.lastScores())).toEqual([100, 50, 0]);
      k.filterAndScore(pod(req(100, MiB), { toleratedPreferTaints: [0b111] }));
      expect(Array.from(k.lastScores())).toEqual([100, 100, 100]);
    });

    it("NodeAffinity: preferred weights 0, 3, 7 normalize to 0, 42, 100 with weight 2", async () => {
      const k = await withNodes(make, [node(), node(), node()]);
      k.setProfile(only({ nodeAffinity: 2 }));
      expect(k.filterAndScore(pod(req(100, MiB), { preferredWeights: Int32Array.of(0, 3, 7) }))).toBe(2);
      expect(Array.from(k.lastScores())).toEqual([0, 84, 200]);
    });

    it("ImageLocality: 250 MiB present → 100·(250−23)/(1000−23) = 23; clamps at both thresholds", async () => {
      const k = await withNodes(make, [node(), node(), node(), node()]);
      k.setProfile(only({ imageLocality: 1 }));
      k.filterAndScore(pod(req(100, MiB), { imageSums: Float64Array.of(250 * MiB, 10 * MiB, 5000 * MiB, 1500 * MiB), numContainers: 2 }));
      // two containers: max threshold 2000 MiB → 250: trunc(100·227/1977) = 11; 1500: trunc(100·1477/1977) = 74
      expect(Array.from(k.lastScores())).toEqual([11, 0, 100, 74]);
      k.filterAndScore(pod(req(100, MiB), { imageSums: Float64Array.of(250 * MiB, 0, 0, 0) }));
      expect(Array.from(k.lastScores())).toEqual([23, 0, 0, 0]);
    });

    it("default profile sums weight × score over the enabled plugins", async () => {
      const k = await withNodes(make, [half]);
      k.setProfile(DEFAULT_PROFILE);
      k.filterAndScore(pod(pr));
      // fit 60·1 + balanced trunc((1 − 0.1)·100) = 90·1 + taint 100·3 + affinity 0·2 + image 0·1
      expect(Array.from(k.lastScores())).toEqual([450]);
    });

    it("filters in upstream plugin order and counts reasons of the first failing plugin", async () => {
      const k = await withNodes(make, [
        node({ unschedulable: true, taints: [1] }), // NodeUnschedulable first
        node({ taints: [2] }), // TaintToleration
        node(), // NodeAffinity (selector bit 0)
        node({ cpu: 500, memory: 100 }), // Insufficient cpu + memory
        node({ pods: 3, podCount: 3 }), // Too many pods
        node({ ext: [2], reqExt: [0] }), // feasible, has 2 free gpus
        node({ ext: [1], reqExt: [1] }), // gpus all used
      ], { extendedResources: ["example.com/gpu"] });
      const sel = Uint32Array.of(0b1111011);
      const out = createScoreOutput(7);
      k.filterAndScoreInto(pod(req(1000, GiB), { selector: sel }), out);
      expect(Array.from(out.status)).toEqual([
        Reason.Unschedulable, Reason.UntoleratedTaint, Reason.NodeAffinity,
        Reason.InsufficientCpu | Reason.InsufficientMemory, Reason.TooManyPods, 0, 0,
      ]);
      expect([5, 6]).toContain(out.best);
      expect(out.feasible).toBe(2);
      const tolerant = { selector: sel, toleratesUnschedulable: true, toleratedTaints: [3] };
      k.filterAndScoreInto(pod(req(1000, GiB), tolerant), out);
      expect(Array.from(out.status)).toEqual([0, 0, Reason.NodeAffinity, Reason.InsufficientCpu | Reason.InsufficientMemory, Reason.TooManyPods, 0, 0]);
      expect(Array.from(out.reasonCounts.subarray(0, 9))).toEqual([0, 0, 1, 1, 1, 1, 0, 0, 0]);
      expect(out.feasible).toBe(4);
      const ext = Reason.InsufficientExtended0;
      k.filterAndScoreInto(pod(req(1000, GiB, { extended: [1] }), tolerant), out);
      expect(Array.from(out.status)).toEqual([ext, ext, Reason.NodeAffinity, Reason.InsufficientCpu | Reason.InsufficientMemory | ext,
        Reason.TooManyPods | ext, 0, ext]);
      expect(Array.from(out.reasonCounts.subarray(0, 9))).toEqual([0, 0, 1, 1, 1, 1, 0, 0, 5]);
      expect(out.best).toBe(5);
      expect(out.feasible).toBe(1);
    });

    it("a pod without requests is only checked for the pod count; external rejects come last", async () => {
      const k = await withNodes(make, [node({ cpu: 0, memory: 0 }), node({ pods: 0 }), node()]);
      k.filterAndScore(pod(req(0, 0), { externalReject: Uint32Array.of(0b101) }));
      expect(Array.from(k.lastStatus())).toEqual([Reason.External, Reason.TooManyPods, Reason.External]);
      // node 0 has no allocatable cpu/memory: fit scoring skips both resources → lower score than node 2
      expect(k.filterAndScore(pod(req(0, 0)))).toBe(2);
      expect(k.lastFeasible()).toBe(2);
    });

    it("returns -1 when nothing fits and 0 scores for infeasible nodes", async () => {
      const k = await withNodes(make, [node({ cpu: 100 }), node({ cpu: 100 })]);
      expect(k.filterAndScore(pod(req(1000, 0)))).toBe(-1);
      expect(Array.from(k.lastScores())).toEqual([0, 0]);
      expect(k.lastReasonCounts()[4]).toBe(2);
    });

    it("breaks ties uniformly and deterministically by seed", async () => {
      const k = await withNodes(make, Array.from({ length: 5 }, () => node()));
      const seen = new Set<number>();
      for (let s = 1; s <= 200; s++) {
        const b = k.filterAndScore(pod(req(100, MiB), { seed: s }));
        expect(k.filterAndScore(pod(req(100, MiB), { seed: s }))).toBe(b);
        seen.add(b);
      }
      expect([...seen].sort()).toEqual([0, 1, 2, 3, 4]);
      k.filterAndScore(pod(req(100, MiB), { extraScore: Int32Array.of(0, 0, 1, 0, 0) }));
      expect(k.filterAndScore(pod(req(100, MiB), { extraScore: Int32Array.of(0, 0, 1, 0, 0) }))).toBe(2);
    });

    it("applies incremental pod add/remove, node copy and growth without losing state", async () => {
      const k = await withNodes(make, [node({ cpu: 1000 }), node({ cpu: 2000 })]);
      const p = req(600, 0);
      k.addPodToNode(0, p);
      expect(k.filterAndScore(pod(p))).toBe(1);
      expect(Array.from(k.lastStatus())).toEqual([Reason.InsufficientCpu, 0]);
      k.removePodFromNode(0, p);
      k.filterAndScore(pod(p));
      expect(Array.from(k.lastStatus())).toEqual([0, 0]);
      k.setNodeCount(1000);
      expect(k.capacity).toBeGreaterThanOrEqual(1000);
      k.addPodToNode(1, p);
      k.copyNode(1, 999);
      k.filterAndScore(pod(req(1500, 0)));
      const st = k.lastStatus();
      expect(st[0]).toBe(Reason.InsufficientCpu);
      expect(st[1]).toBe(Reason.InsufficientCpu);
      expect(st[999]).toBe(Reason.InsufficientCpu);
      expect(st[500]).toBe(Reason.TooManyPods | Reason.InsufficientCpu); // a zeroed slot
      k.setNodeCount(1);
      k.setNodeCount(2);
      k.filterAndScore(pod(req(100, 0)));
      expect(k.lastStatus()[1]).toBe(Reason.TooManyPods | Reason.InsufficientCpu);
    });

    it("reads inputs left in place in podInputViews() without copying", async () => {
      const k = await withNodes(make, [node(), node(), node()]);
      k.setProfile(only({ nodeAffinity: 1 }));
      const views = k.podInputViews();
      views.preferredWeights.set([5, 0, 10]);
      views.selector[0] = 0b011;
      const p = pod(req(100, MiB), { preferredWeights: views.preferredWeights, selector: views.selector });
      expect(k.filterAndScore(p)).toBe(0);
      // node 2 is filtered out, so the maximum over feasible nodes is 5 → 100, 0
      expect(Array.from(k.lastScores())).toEqual([100, 0, 0]);
      expect(Array.from(k.lastStatus())).toEqual([0, 0, Reason.NodeAffinity]);
      views.selector[0] = 0b111; // the next pod of the workload sees the updated views
      expect(k.filterAndScore(p)).toBe(2);
      // Without the flag in PodInput the views are ignored.
      k.filterAndScore(pod(req(100, MiB)));
      expect(Array.from(k.lastScores())).toEqual([0, 0, 0]);
    });

    it("rejects bad input with RangeError naming the field", async () => {
      const k = await withNodes(make, [node(), node()], { extendedResources: ["a"], taintWords: 1 });
      expect(() => k.setNode(2, node())).toThrow(/node index 2 out of range/);
      expect(() => k.setNode(0, node({ cpu: -1 }))).toThrow(/allocatable.cpu must be an integer/);
      expect(() => k.setNode(0, node({ memory: 2 ** 50 }))).toThrow(/allocatable.memory/);
      expect(() => k.setNode(0, node({ cpu: 1.5 }))).toThrow(/allocatable.cpu/);
      expect(() => k.setNode(0, node({ ext: [1, 2] }))).toThrow(/extended has 2 entries/);
      expect(() => k.setNode(0, node({ taints: [0, 0] }))).toThrow(/taints has 2 words/);
      expect(() => k.addPodToNode(0, req(-5, 0))).toThrow(/pod.cpu/);
      expect(() => k.removePodFromNode(0, req(1, 0))).toThrow(/no pods to remove/);
      expect(() => k.setNodeCount(-1)).toThrow(/node count/);
      expect(() => k.filterAndScore(pod(req(1, 1), { numContainers: 0 }))).toThrow(/numContainers/);
      expect(() => k.filterAndScore(pod(req(1, 1), { preferredWeights: new Int32Array(1) }))).toThrow(/preferredWeights has length 1/);
      expect(() => k.filterAndScore(pod(req(1, 1), { toleratedTaints: [0, 1] }))).toThrow(/toleratedTaints/);
      expect(() => k.filterAndScoreInto(pod(req(1, 1)), createScoreOutput(1))).toThrow(/output buffers must hold 2/);
      const bad = (p: Partial<ScoringProfile>, re: RegExp): void => expect(() => k.setProfile({ ...DEFAULT_PROFILE, ...p })).toThrow(re);
      bad({ weights: { ...DEFAULT_PROFILE.weights, taintToleration: -1 } }, /weight of taintToleration/);
      bad({ fit: { strategy: "Nope" as "LeastAllocated", resources: [{ name: "cpu", weight: 1 }] } }, /unknown scoring strategy/);
      bad({ fit: { strategy: "LeastAllocated", resources: [] } }, /fit.resources must have/);
      bad({ fit: { strategy: "LeastAllocated", resources: [{ name: 3, weight: 1 }] } }, /unknown resource 3/);
      bad({ fit: { strategy: "LeastAllocated", resources: [{ name: "cpu", weight: 0 }] } }, /weight must be an integer in \[1, 100\]/);
      bad({ fit: { strategy: "RequestedToCapacityRatio", resources: [{ name: "cpu", weight: 1 }] } }, /fit.shape is required/);
      bad({ fit: { strategy: "RequestedToCapacityRatio", resources: [{ name: "cpu", weight: 1 }], shape: [{ utilization: 50, score: 1 }, { utilization: 50, score: 2 }] } }, /greater than the previous/);
      bad({ fit: { strategy: "RequestedToCapacityRatio", resources: [{ name: "cpu", weight: 1 }], shape: [{ utilization: 0, score: 11 }] } }, /score must be an integer in \[0, 10\]/);
      bad({ balancedResources: ["cpu", "cpu"] }, /duplicate/);
      // The kernel still works after rejected calls.
      expect(k.filterAndScore(pod(req(1, 1)))).toBeGreaterThanOrEqual(0);
    });
  });
}
