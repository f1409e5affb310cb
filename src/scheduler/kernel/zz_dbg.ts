import { RandomCluster, rng } from "./_testing.ts";
import { createKernel, createTwinKernel } from "./mod.ts";
const c = 76;
const r = rng(0xc0ffee + c);
const shape = { ext: Math.floor(r() * 4), taintWords: 1 + Math.floor(r() * 2) };
const rc = new RandomCluster(r, shape);
const opts = { extendedResources: Array.from({ length: shape.ext }, (_, k) => `example.com/r${k}`), taintWords: shape.taintWords, initialCapacity: rc.int(1, 64) };
const ks = [createTwinKernel(opts), await createKernel({ ...opts, simd: true })];
let n = rc.chance(0.05) ? rc.int(0, 3) : rc.int(1, 160);
rc.fill(ks, n);
const profile = rc.profile();
console.log(JSON.stringify(profile));
for (const k of ks) k.setProfile(profile);
const pod = rc.pod(n);
console.log(JSON.stringify({ ...pod, selector: undefined, preferredWeights: pod.preferredWeights?.slice(0, 8), imageSums: pod.imageSums?.slice(0, 8), extraScore: undefined, externalReject: undefined }));
for (const w of ["nodeResourcesFit", "balancedAllocation", "taintToleration", "nodeAffinity", "imageLocality"] as const) {
  const p = { ...profile, weights: { nodeResourcesFit: 0, balancedAllocation: 0, taintToleration: 0, nodeAffinity: 0, imageLocality: 0, [w]: 1 } };
  const res = ks.map((k) => { k.setProfile(p); k.filterAndScore(pod); return Array.from(k.lastScores()).slice(0, 16).join(","); });
  console.log(w, res[0] === res[1] ? "same" : res);
}
