/**
 * A small in-process measure of the scheduling core (no API, no binding I/O): 5,000 nodes, 1,000
 * initial pods, then N pods scheduled through `scheduleOne` with every node filtered and scored.
 * Run: `npx tsx src/scheduler/bench_core.ts [ts|wasm-scalar|wasm-simd] [basic|nodeaffinity|antiaffinity|antiaffinity-green|antiaffinity-bench|spread|spread-bench] [pods]`.
 * `antiaffinity-bench` / `spread-bench` mirror bench/scheduler.ts's PodAntiAffinity / TopologySpread
 * (4-cpu nodes, init pods in namespace "init" scheduled first, measured pods in "measured", every
 * binding confirmed by an informer-style `updatePod` as the runner does).
 * `… preemption [pods] [legacy]`: upstream's PreemptionBasic shape in process (5,000 4-cpu nodes
 * filled by 20,000 low-priority 900m pods; each high-priority 3-cpu pod preempts 3); victims are
 * deleted at once and time is simulated, so the figure is the core's CPU per preempting pod
 * (failed attempt with preemption + the successful retry). `legacy` = per-cycle nominated overlay,
 * generic dry runs, scan from offset 0, in-flight evictions not terminating.
 * Not the official benchmark (bench/ owns that); a quick figure for the core alone.
 */
import type { Pod } from "../api/generated/core_v1.ts";
import { FakeClock } from "./clock.ts";
import { createKernel, createTwinKernel, type Kernel } from "./kernel/mod.ts";
import { NAME as PREEMPTION, newDefaultPreemption } from "./plugins/defaultpreemption/defaultpreemption.ts";
import { inTreeRegistry } from "./plugins/registry.ts";
import { Scheduler } from "./scheduler.ts";
import { makeNode, makePod, MemoryBinder } from "./testing.ts";

/** PreemptionBasic in process; returns a summary line. */
function preemption(kernel: Kernel, impl: string, pods: number, legacy: boolean): string {
  const nodes = 5000;
  const clock = new FakeClock(1_000_000);
  const registry = new Map(inTreeRegistry);
  if (legacy) registry.set(PREEMPTION, (args, ctx) => newDefaultPreemption(args, ctx, { resourceFastPath: false, random: () => 0, evictionsInFlightTerminate: false }));
  const sched = new Scheduler({ kernel, binder: new MemoryBinder(), clock, registry, ...(legacy ? { nominatedOverlay: "per-cycle" as const } : {}) });
  for (let i = 0; i < nodes; i++) sched.addNode(makeNode(`node-${i}`, { cpu: "4", memory: "32Gi", pods: "110" }));
  const all = new Map<string, Pod>();
  for (let i = 0; i < nodes * 4; i++) {
    const p = makePod(`low-${i}`, { nodeName: `node-${i % nodes}`, priority: 0, requests: { cpu: "900m", memory: "500Mi" } });
    all.set(`default/low-${i}`, p);
    sched.addPod(p);
  }
  for (let i = 0; i < pods; i++) sched.addPod(makePod(`high-${i}`, { priority: 10, requests: { cpu: "3", memory: "500Mi" } }));
  let attempts = 0, victims = 0, bound = 0;
  const t0 = performance.now();
  for (let rounds = 0; bound < pods && rounds < 10_000; rounds++) {
    for (;;) {
      const r = sched.scheduleOne();
      if (!r) break;
      attempts++;
      if (r.kind === "scheduled") { sched.cache.finishBinding(r.pod.key); sched.queue.done(r.pod.key); bound++; }
      else if (r.kind === "unschedulable") {
        for (const v of r.victims) { const vp = all.get(v.key); if (vp) { all.delete(v.key); victims++; sched.deletePod(vp); } }
      }
    }
    clock.step(1000);
    sched.flush();
  }
  const secs = (performance.now() - t0) / 1000;
  return `${impl} preemption${legacy ? " (legacy)" : ""}: ${bound}/${pods} preemptors bound in ${secs.toFixed(2)} s = ${(bound / secs).toFixed(0)} pods/s; ${(secs * 1000 / pods).toFixed(2)} ms/pod; ${attempts} attempts, ${victims} victims`;
}

/** bench/scheduler.ts's shapes: init pods scheduled (not pre-placed), bindings confirmed through updatePod. */
function benchRun(sched: Scheduler, workload: string, pods: number): void {
  const podOf = (name: string, ns: string, init: boolean): Pod => {
    const base = { namespace: ns, requests: { cpu: "100m", memory: "500Mi" } };
    if (workload === "antiaffinity-bench") {
      return makePod(name, { ...base, labels: { color: "green" }, spec: { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { color: "green" } }, topologyKey: "kubernetes.io/hostname", namespaces: ["init", "measured"] }] } } } });
    }
    if (init) return makePod(name, { ...base, labels: { app: "init" } });
    return makePod(name, { ...base, labels: { app: "spread" }, spec: { topologySpreadConstraints: [{ maxSkew: 5, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "DoNotSchedule", labelSelector: { matchLabels: { app: "spread" } } }] } });
  };
  const run = (n: number, prefix: string, ns: string, init: boolean): { secs: number; cpuMs: number; lat: number[] } => {
    const byKey = new Map<string, Pod>();
    for (let i = 0; i < n; i++) { const p = podOf(`${prefix}-${i}`, ns, init); byKey.set(`${ns}/${prefix}-${i}`, p); sched.addPod(p); }
    const lat: number[] = [];
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (;;) {
      const s = performance.now();
      const r = sched.scheduleOne();
      if (!r) break;
      lat.push(performance.now() - s);
      if (r.kind !== "scheduled") continue;
      sched.cache.finishBinding(r.pod.key);
      sched.queue.done(r.pod.key);
      const old = byKey.get(r.pod.key);
      if (old) sched.updatePod(old, { ...old, spec: { ...old.spec, containers: old.spec?.containers ?? [], nodeName: r.node } });
    }
    const c = process.cpuUsage(c0);
    return { secs: (performance.now() - t0) / 1000, cpuMs: (c.user + c.system) / 1000, lat };
  };
  const initN = 1000;
  run(initN, "init", "init", true);
  const { secs, cpuMs, lat } = run(pods, "pod", "measured", false);
  lat.sort((a, b) => a - b);
  const p = (q: number): string => (lat[Math.min(lat.length - 1, Math.floor(q * lat.length))] ?? 0).toFixed(3);
  console.log(`${workload}: ${pods} pods (after ${initN} init) on 5000 nodes in ${secs.toFixed(2)} s = ${(pods / secs).toFixed(0)} pods/s; CPU ${(cpuMs / pods).toFixed(3)} ms/pod; latency ms p50 ${p(0.5)} p99 ${p(0.99)}`);
}

async function main(): Promise<void> {
  const impl = process.argv[2] ?? "wasm-simd";
  const workload = process.argv[3] ?? "basic";
  const pods = Number(process.argv[4] ?? "10000");
  const nodes = 5000;
  const kernel: Kernel = impl === "ts" ? createTwinKernel({ initialCapacity: nodes }) : await createKernel({ simd: impl === "wasm-simd", initialCapacity: nodes });
  if (workload === "preemption") {
    console.log(preemption(kernel, impl, Number(process.argv[4] ?? "1000"), process.argv[5] === "legacy"));
    return;
  }
  const sched = new Scheduler({ kernel, binder: new MemoryBinder() });
  const benchShape = workload.endsWith("-bench");
  for (let i = 0; i < nodes; i++) {
    sched.addNode(makeNode(`node-${i}`, { cpu: benchShape ? "4" : "32", memory: benchShape ? "32Gi" : "128Gi", pods: "110", labels: { "topology.kubernetes.io/zone": `zone-${i % 10}` } }));
  }
  if (benchShape) { benchRun(sched, workload, pods); return; }
  const spec = (i: number): Pod => {
    const base = { requests: { cpu: "100m", memory: "128Mi" }, labels: { app: "bench" } };
    if (workload === "antiaffinity") {
      return makePod(`p-${i}`, { ...base, labels: { app: `anti-${i % 50}` }, spec: { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: `anti-${i % 50}` } }, topologyKey: "kubernetes.io/hostname" }] } } } });
    }
    if (workload === "antiaffinity-green") {
      // bench/scheduler.ts PodAntiAffinity: every pod is green and anti-affine to every green pod by hostname.
      return makePod(`p-${i}`, { ...base, labels: { color: "green" }, spec: { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { color: "green" } }, topologyKey: "kubernetes.io/hostname" }] } } } });
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
