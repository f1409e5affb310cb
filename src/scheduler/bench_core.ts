/**
 * A small in-process measure of the scheduling core (no API, no binding I/O): 5,000 nodes, 1,000
 * initial pods, then N pods scheduled through `scheduleOne` with every node filtered and scored.
 * Run: `npx tsx src/scheduler/bench_core.ts [ts|wasm-scalar|wasm-simd] [basic|nodeaffinity|antiaffinity|spread] [pods]`.
 * Not the official benchmark (bench/ owns that); a quick figure for the core alone.
 */
import type { Pod } from "../api/generated/core_v1.ts";
import { createKernel, createTwinKernel, type Kernel } from "./kernel/mod.ts";
import { Scheduler } from "./scheduler.ts";
import { makeNode, makePod, MemoryBinder } from "./testing.ts";

async function main(): Promise<void> {
  const impl = process.argv[2] ?? "wasm-simd";
  const workload = process.argv[3] ?? "basic";
  const pods = Number(process.argv[4] ?? "10000");
  const nodes = 5000;
  const kernel: Kernel = impl === "ts" ? createTwinKernel({ initialCapacity: nodes }) : await createKernel({ simd: impl === "wasm-simd", initialCapacity: nodes });
  const sched = new Scheduler({ kernel, binder: new MemoryBinder() });
  for (let i = 0; i < nodes; i++) {
    sched.addNode(makeNode(`node-${i}`, { cpu: "32", memory: "128Gi", pods: "110", labels: { "topology.kubernetes.io/zone": `zone-${i % 10}` } }));
  }
  const spec = (i: number): Pod => {
    const base = { requests: { cpu: "100m", memory: "128Mi" }, labels: { app: "bench" } };
    if (workload === "antiaffinity") {
      return makePod(`p-${i}`, { ...base, labels: { app: `anti-${i % 50}` }, spec: { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: `anti-${i % 50}` } }, topologyKey: "kubernetes.io/hostname" }] } } } });
    }
    if (workload === "nodeaffinity") {
      return makePod(`p-${i}`, { ...base, spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "topology.kubernetes.io/zone", operator: "In", values: ["zone-1", "zone-3", "zone-5"] }] }] } } } } });
    }
    if (workload === "spread") {
      return makePod(`p-${i}`, { ...base, spec: { topologySpreadConstraints: [{ maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "DoNotSchedule", labelSelector: { matchLabels: { app: "bench" } } }] } });
    }
    return makePod(`p-${i}`, base);
  };
  for (let i = 0; i < 1000; i++) sched.addPod({ ...spec(-1 - i), spec: { ...spec(-1 - i).spec, nodeName: `node-${i % nodes}` } });
  const run = (n: number, offset: number): { secs: number; lat: number[] } => {
    for (let i = 0; i < n; i++) sched.addPod(spec(offset + i));
    const lat: number[] = [];
    const t0 = performance.now();
    for (;;) {
      const s = performance.now();
      const r = sched.scheduleOne();
      if (!r) break;
      if (r.kind === "scheduled") { sched.cache.finishBinding(r.pod.key); sched.queue.done(r.pod.key); }
      lat.push(performance.now() - s);
    }
    return { secs: (performance.now() - t0) / 1000, lat };
  };
  run(Math.min(500, pods), 1_000_000); // warm-up
  const { secs, lat } = run(pods, 0);
  lat.sort((a, b) => a - b);
  const p = (q: number): string => (lat[Math.min(lat.length - 1, Math.floor(q * lat.length))] ?? 0).toFixed(3);
  console.log(`${impl} ${workload}: ${pods} pods on ${nodes} nodes in ${secs.toFixed(2)} s = ${(pods / secs).toFixed(0)} pods/s; latency ms p50 ${p(0.5)} p99 ${p(0.99)}`);
}

main().catch((e: unknown) => { console.error(e); process.exitCode = 1; });
