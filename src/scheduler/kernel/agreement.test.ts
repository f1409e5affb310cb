/**
 * Agreement: the TypeScript twin, WASM scalar and WASM SIMD give identical filter codes, scores,
 * best node and reason counts on thousands of random clusters (random sizes including n not a
 * multiple of 4, requests, taints, selectors, weights, strategies, incremental updates, growth).
 * Half the clusters use cpu/memory-only profiles, the shape the SIMD build's fused loop handles;
 * the rest random profiles, which take the general SIMD path.
 */
import { describe, expect, it } from "vitest";
import { RandomCluster, rng } from "./_testing.ts";
import { createKernel, createTwinKernel } from "./mod.ts";
import type { Kernel } from "./types.ts";

const CLUSTERS = 2000;
const PODS_PER_CLUSTER = 3;

function snapshot(k: Kernel, best: number): string {
  return JSON.stringify({ best, feasible: k.lastFeasible(), status: Array.from(k.lastStatus()), scores: Array.from(k.lastScores()), reasons: Array.from(k.lastReasonCounts()) });
}

describe("twin / WASM scalar / WASM SIMD agreement", () => {
  it(`agree on ${CLUSTERS} random clusters × ${PODS_PER_CLUSTER} pods`, async () => {
    const deadline = Date.now() + 50_000;
    let compared = 0, feasibleNodes = 0, infeasibleNodes = 0, nonZeroScores = 0;
    const distinctScores = new Set<number>();
    for (let c = 0; c < CLUSTERS && Date.now() < deadline; c++) {
      const r = rng(0xc0ffee + c);
      const shape = { ext: Math.floor(r() * 4), taintWords: 1 + Math.floor(r() * 2) };
      // One cluster in four uses tiny amounts: exact divisions, ties and clamps everywhere.
      const rc = new RandomCluster(r, shape, c % 4 === 3);
      const opts = { extendedResources: Array.from({ length: shape.ext }, (_, k) => `example.com/r${k}`), taintWords: shape.taintWords, initialCapacity: rc.int(1, 64) };
      const ks = [createTwinKernel(opts), await createKernel({ ...opts, simd: false }), await createKernel({ ...opts, simd: true })];
      let n = rc.chance(0.05) ? rc.int(0, 3) : rc.int(1, 160);
      rc.fill(ks, n);
      // Every other cluster runs a cpu/memory profile: the SIMD build's fused loop (wasm/scheduler/_fast.ts).
      const profile = c % 2 === 0 ? rc.cpuMemoryProfile() : rc.profile();
      for (const k of ks) k.setProfile(profile);
      for (let p = 0; p < PODS_PER_CLUSTER; p++) {
        if (p > 0 && n > 0) {
          // incremental changes between pods, applied identically
          const pr = rc.podRequests();
          const i = rc.int(0, n - 1);
          for (const k of ks) k.addPodToNode(i, pr);
          if (rc.chance(0.3)) for (const k of ks) k.removePodFromNode(i, pr);
          if (rc.chance(0.2)) { const to = rc.int(0, n - 1); for (const k of ks) k.copyNode(i, to); }
          if (rc.chance(0.2)) {
            const grown = n + rc.int(1, 70);
            for (const k of ks) k.setNodeCount(grown);
            for (let j = n; j < grown; j++) { const nd = rc.node(); for (const k of ks) k.setNode(j, nd); }
            n = grown;
          }
        }
        const pod = rc.pod(n);
        const results = ks.map((k) => snapshot(k, k.filterAndScore(pod)));
        expect(results[1], `cluster ${c} pod ${p}: WASM scalar vs twin`).toBe(results[0]);
        expect(results[2], `cluster ${c} pod ${p}: WASM SIMD vs twin`).toBe(results[0]);
        compared++;
        const st = ks[0]?.lastStatus() ?? new Int32Array();
        const sc = ks[0]?.lastScores() ?? new Int32Array();
        for (let i = 0; i < n; i++) {
          if (st[i] === 0) { feasibleNodes++; if ((sc[i] ?? 0) !== 0) nonZeroScores++; distinctScores.add(sc[i] ?? 0); } else infeasibleNodes++;
        }
      }
    }
    // The random space must actually exercise both outcomes and a wide range of scores.
    expect(compared).toBeGreaterThan(1000);
    expect(feasibleNodes).toBeGreaterThan(10_000);
    expect(infeasibleNodes).toBeGreaterThan(10_000);
    expect(nonZeroScores).toBeGreaterThan(10_000);
    expect(distinctScores.size).toBeGreaterThan(300);
  }, 60_000);
});
