import process from 'node:process';
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
import { createKernel, DEFAULT_PROFILE, type ScoringProfile } from "../src/scheduler/kernel/mod.ts";
const N = 5000;
const k = await createKernel({ simd: true, initialCapacity: N });
k.setNodeCount(N);
for (let i = 0; i < N; i++) k.setNode(i, { allocatable: { cpu: 8000, memory: 32 * 2 ** 30, ephemeralStorage: 2 ** 36, pods: 110 }, requested: { cpu: 1000 + i, memory: 2 ** 30 + i * 1000, ephemeralStorage: 0 }, nonZeroRequested: { cpu: 1000 + i, memory: 2 ** 30 }, podCount: 3, unschedulable: false, taints: [0], preferNoScheduleTaints: [i % 7 == 0 ? 1 : 0] });
const pod = { requests: { cpu: 100, memory: 2 ** 27, ephemeralStorage: 0, nonZeroCpu: 100, nonZeroMemory: 2 ** 27 }, toleratesUnschedulable: false, toleratedTaints: [0], toleratedPreferTaints: [0], numContainers: 1, seed: 1 };
const z = { nodeResourcesFit: 0, balancedAllocation: 0, taintToleration: 0, nodeAffinity: 0, imageLocality: 0 };
const profs: [string, ScoringProfile][] = [["default", DEFAULT_PROFILE], ["fit", { ...DEFAULT_PROFILE, weights: { ...z, nodeResourcesFit: 1 } }], ["bal", { ...DEFAULT_PROFILE, weights: { ...z, balancedAllocation: 1 } }], ["taint", { ...DEFAULT_PROFILE, weights: { ...z, taintToleration: 1 } }], ["none", { ...DEFAULT_PROFILE, weights: z }]];
const s: Record<string, number[]> = {};
for (let r = 0; r < 15; r++) for (const [name, prof] of profs) {
  k.setProfile(prof);
  for (let w = 0; w < 5; w++) k.filterAndScore(pod);
  const t0 = cpu();
  for (let q = 0; q < 100; q++) k.filterAndScore(pod);
  (s[name] ??= []).push(((cpu() - t0) * 1e6) / (100 * N));
}
const a = new Float64Array(5000).fill(3), b = new Float64Array(5000).fill(7);
let sum = 0; const t0 = cpu();
for (let r = 0; r < 2000; r++) for (let i = 0; i < 5000; i++) sum += Math.trunc((a[i]! * 100) / b[i]!);
console.log("baseline div loop ns/elem", ((cpu() - t0) * 1e6) / 1e7, sum);
for (const [n, xs] of Object.entries(s)) console.log(n, xs.sort((x, y) => x - y)[7]?.toFixed(2));
