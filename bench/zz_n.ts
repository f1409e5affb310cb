import process from "node:process";
import { createKernel, createTwinKernel, DEFAULT_PROFILE, type Kernel } from "../src/scheduler/kernel/mod.ts";
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
for (const N of [256, 1000, 5000, 20000]) {
  const ks: Kernel[] = [createTwinKernel({ initialCapacity: N }), await createKernel({ simd: true, initialCapacity: N })];
  for (const k of ks) {
    k.setNodeCount(N);
    for (let i = 0; i < N; i++) k.setNode(i, { allocatable: { cpu: 8000, memory: 32 * 2 ** 30, ephemeralStorage: 2 ** 36, pods: 110 }, requested: { cpu: 1000 + (i % 5000), memory: 2 ** 30 + i * 1000, ephemeralStorage: 0 }, nonZeroRequested: { cpu: 1000 + (i % 5000), memory: 2 ** 30 }, podCount: 3, unschedulable: false, taints: [0], preferNoScheduleTaints: [i % 7 == 0 ? 1 : 0] });
    k.setProfile(DEFAULT_PROFILE);
  }
  const pod = { requests: { cpu: 100, memory: 2 ** 27, ephemeralStorage: 0, nonZeroCpu: 100, nonZeroMemory: 2 ** 27 }, toleratesUnschedulable: false, toleratedTaints: [0], toleratedPreferTaints: [0], numContainers: 1, seed: 1 };
  const reps = Math.ceil(2e6 / N);
  const res: string[] = [];
  for (const k of ks) {
    for (let w = 0; w < 20; w++) k.filterAndScore(pod);
    const xs: number[] = [];
    for (let r = 0; r < 5; r++) { const t0 = cpu(); for (let q = 0; q < reps; q++) k.filterAndScore(pod); xs.push(((cpu() - t0) * 1e6) / (reps * N)); }
    res.push(`${k.impl} ${xs.sort((a, b) => a - b)[2]!.toFixed(2)}`);
  }
  console.log(N, res.join("  "));
}
