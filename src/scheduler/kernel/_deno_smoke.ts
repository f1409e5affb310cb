/**
 * Run by deno.test.ts under Deno: loads both WASM builds and the twin, runs 20 random clusters and
 * prints one JSON line {runtime, compared, mismatches}.
 */
import { RandomCluster, rng } from "./_testing.ts";
import { createKernel, createTwinKernel } from "./mod.ts";

const g = globalThis as unknown as { Deno?: { version: { deno: string } } };
let compared = 0, mismatches = 0;
for (let c = 0; c < 20; c++) {
  const r = rng(4242 + c);
  const rc = new RandomCluster(r, { ext: 1, taintWords: 1 }, c % 2 === 1);
  const opts = { extendedResources: ["example.com/x"], taintWords: 1 };
  const ks = [createTwinKernel(opts), await createKernel({ ...opts, simd: false }), await createKernel({ ...opts, simd: true })];
  const n = rc.int(1, 200);
  rc.fill(ks, n);
  // Half the clusters run a cpu/memory profile (the SIMD build's fused loop), half a random one.
  const profile = c % 4 < 2 ? rc.cpuMemoryProfile() : rc.profile();
  for (const k of ks) k.setProfile(profile);
  const pod = rc.pod(n);
  const out = ks.map((k) => JSON.stringify([k.filterAndScore(pod), Array.from(k.lastStatus()), Array.from(k.lastScores()), Array.from(k.lastReasonCounts())]));
  compared++;
  if (out[1] !== out[0] || out[2] !== out[0]) mismatches++;
}
console.log(JSON.stringify({ runtime: g.Deno ? `deno ${g.Deno.version.deno}` : "not deno", compared, mismatches }));
