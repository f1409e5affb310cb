import { describe, expect, it } from "vitest";
import { FakeClock } from "./clock.ts";
import type { PermitPlugin, Plugin, ReservePlugin } from "./framework/interface.ts";
import type { PluginFactory } from "./framework/registry.ts";
import { parseSchedulerConfig } from "./framework/config.ts";
import { Status } from "./framework/status.ts";
import { createKernel, createTwinKernel, type Kernel } from "./kernel/mod.ts";
import { inTreeRegistry } from "./plugins/registry.ts";
import { Scheduler } from "./scheduler.ts";
import { makeNode, makePod, MemoryBinder, MemoryRecorder, MemoryStatusWriter } from "./testing.ts";
import { selectBest } from "./_select.ts";

function setup(extra: { registry?: Map<string, PluginFactory>; config?: string; kernel?: Kernel } = {}) {
  const clock = new FakeClock(0);
  const binder = new MemoryBinder();
  const recorder = new MemoryRecorder();
  const status = new MemoryStatusWriter();
  const sched = new Scheduler({
    kernel: extra.kernel ?? createTwinKernel(), binder, clock, recorder, statusWriter: status,
    ...(extra.registry ? { registry: extra.registry } : {}),
    ...(extra.config ? { config: parseSchedulerConfig(extra.config) } : {}),
  });
  return { clock, binder, recorder, status, sched };
}

describe("Scheduler core", () => {
  it("no nodes: FailedScheduling and backoff", () => {
    const { sched, recorder } = setup();
    sched.addPod(makePod("p"));
    const r = sched.scheduleOne();
    expect(r?.kind).toBe("unschedulable");
    expect(recorder.events[0]?.message).toBe("no nodes available to schedule pods");
    expect(sched.queue.where("default/p")).toBe("backoff");
  });
  it("binding failure forgets the assumption and requeues with backoff", async () => {
    const { sched, binder, status } = setup();
    sched.addNode(makeNode("n1", { cpu: "1" }));
    sched.addPod(makePod("p", { requests: { cpu: "1" } }));
    binder.failFor.add("default/p");
    const r = sched.scheduleOne();
    if (r?.kind !== "scheduled") throw new Error(`expected scheduled, got ${r?.kind}`);
    expect(sched.cache.isAssumed("default/p")).toBe(true);
    expect(await sched.bindingCycle(r)).toBe(false);
    expect(sched.cache.isAssumed("default/p")).toBe(false);
    expect(sched.cache.getNode("n1")?.requestedCpu).toBe(0);
    expect(sched.queue.where("default/p")).toBe("backoff");
    expect(status.writes.at(-1)).toMatchObject({ reason: "SchedulerError", message: "Binding rejected: binding default/p to n1 refused" });
  });
  it("assumed pods count for the next pod before binding completes", () => {
    const { sched } = setup();
    sched.addNode(makeNode("n1", { cpu: "1" }));
    sched.addPod(makePod("a", { requests: { cpu: "1" } }));
    sched.addPod(makePod("b", { requests: { cpu: "1" } }));
    expect(sched.scheduleOne()?.kind).toBe("scheduled");
    const r = sched.scheduleOne();
    expect(r?.kind === "unschedulable" && r.message).toBe("0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.");
  });
  it("Permit wait: bound after allow; rejected and rolled back on timeout", async () => {
    const permit: PermitPlugin = { name: "Gate", permit: () => ({ status: new Status("Wait"), timeoutMs: 5000 }) };
    const registry = new Map(inTreeRegistry);
    registry.set("Gate", () => permit as Plugin);
    const { sched, clock, binder } = setup({ registry, config: "profiles: [{plugins: {permit: {enabled: [{name: Gate}]}}}]" });
    sched.addNode(makeNode("n1"));
    sched.addPod(makePod("a"));
    sched.addPod(makePod("b"));
    const ra = sched.scheduleOne();
    const rb = sched.scheduleOne();
    if (ra?.kind !== "scheduled" || rb?.kind !== "scheduled") throw new Error("expected scheduled");
    const pa = sched.bindingCycle(ra);
    const pb = sched.bindingCycle(rb);
    sched.allowWaitingPod("default/a", "Gate");
    expect(await pa).toBe(true);
    clock.step(5000);
    sched.flush();
    expect(await pb).toBe(false);
    expect(binder.bound.map((b) => b.pod)).toEqual(["default/a"]);
    expect(sched.cache.isAssumed("default/b")).toBe(false);
  });
  it("Reserve failure unreserves and reports", () => {
    const calls: string[] = [];
    const res: ReservePlugin = { name: "Res", reserve: () => { calls.push("reserve"); return Status.unschedulable("no room in the ledger"); }, unreserve: () => { calls.push("unreserve"); } };
    const registry = new Map(inTreeRegistry);
    registry.set("Res", () => res as Plugin);
    const { sched } = setup({ registry, config: "profiles: [{plugins: {reserve: {enabled: [{name: Res}]}}}]" });
    sched.addNode(makeNode("n1"));
    sched.addPod(makePod("a"));
    const r = sched.scheduleOne();
    expect(r?.kind === "unschedulable" && r.message).toBe("no room in the ledger");
    expect(calls).toEqual(["reserve", "unreserve"]);
    expect(sched.cache.isAssumed("default/a")).toBe(false);
  });
  it("PreFilter rejection: the plugin's message, counted once", () => {
    const { sched } = setup();
    sched.addNode(makeNode("n1"));
    sched.addPod(makePod("a", { spec: { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchExpressions: [{ key: "a", operator: "Bogus" }] }, topologyKey: "zone" }] } } } }));
    const r = sched.scheduleOne();
    expect(r?.kind === "unschedulable" && r.message).toBe('0/1 nodes are available: "Bogus" is not a valid label selector operator. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.');
  });
  it("our own status writes do not requeue an unschedulable pod", () => {
    const { sched } = setup();
    sched.addNode(makeNode("n1", { cpu: "1" }));
    const pod = makePod("big", { requests: { cpu: "2" } });
    sched.addPod(pod);
    expect(sched.scheduleOne()?.kind).toBe("unschedulable");
    expect(sched.queue.where("default/big")).toBe("unschedulable");
    sched.updatePod(pod, { ...pod, metadata: { ...pod.metadata, resourceVersion: "9" }, status: { ...pod.status, conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable" }] } });
    expect(sched.queue.where("default/big")).toBe("unschedulable");
    sched.updatePod(pod, { ...pod, spec: { ...pod.spec, containers: [{ name: "c", image: "x", resources: { requests: { cpu: "500m" } } }] } });
    expect(sched.queue.where("default/big")).toBe("backoff");
  });
  it("ignores pods of other schedulers and pods already bound", () => {
    const { sched } = setup();
    sched.addNode(makeNode("n1"));
    sched.addPod(makePod("x", { schedulerName: "someone-else" }));
    sched.addPod(makePod("y", { nodeName: "n1" }));
    expect(sched.scheduleOne()).toBeUndefined();
    expect(sched.cache.getNode("n1")?.pods.map((p) => p.name)).toEqual(["y"]);
  });
});

describe("selectBest matches the kernel's tie-breaking", () => {
  it("on random ties", () => {
    const k = createTwinKernel({ initialCapacity: 64 });
    k.setNodeCount(64);
    for (let i = 0; i < 64; i++) {
      k.setNode(i, { allocatable: { cpu: 4000, memory: 2 ** 33, ephemeralStorage: 0, pods: 110 }, requested: { cpu: (i % 4) * 1000, memory: 0, ephemeralStorage: 0 },
        nonZeroRequested: { cpu: (i % 4) * 1000, memory: 0 }, podCount: 0, unschedulable: i % 7 === 0, taints: [0], preferNoScheduleTaints: [0] });
    }
    for (let seed = 1; seed < 200; seed++) {
      const best = k.filterAndScore({ requests: { cpu: 100, memory: 0, ephemeralStorage: 0, nonZeroCpu: 100, nonZeroMemory: 0 }, toleratesUnschedulable: false, toleratedTaints: [0], toleratedPreferTaints: [0], numContainers: 1, seed });
      expect(selectBest(k.lastStatus(), k.lastScores(), 64, seed)).toBe(best);
    }
  });
});

describe("kernel and TypeScript twin give identical decisions", () => {
  it("on random clusters with every plugin in play", async () => {
    let wasm: Kernel | undefined;
    try { wasm = await createKernel({ simd: true, extendedResources: ["example.com/gpu"] }); } catch { return; }
    for (let seed = 1; seed <= 6; seed++) {
      const a = runRandom(createTwinKernel({ extendedResources: ["example.com/gpu"] }), seed);
      const b = runRandom(seed === 1 ? wasm : await createKernel({ simd: seed % 2 === 0, extendedResources: ["example.com/gpu"] }), seed);
      expect(b).toEqual(a);
      expect(a.filter((x) => x.includes("->")).length).toBeGreaterThan(10);
    }
  });
});

function runRandom(kernel: Kernel, seed: number): string[] {
  let s = seed * 2654435761 >>> 0;
  const rnd = (n: number): number => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s % n; };
  const { sched } = setup({ kernel });
  const zones = ["a", "b", "c"];
  for (let i = 0; i < 40; i++) {
    const taints = rnd(5) === 0 ? [{ key: "dedicated", value: `t${rnd(2)}`, effect: "NoSchedule" }] : rnd(5) === 0 ? [{ key: "soft", effect: "PreferNoSchedule" }] : [];
    sched.addNode(makeNode(`n${i}`, {
      cpu: String(2 + rnd(6)), memory: `${4 + rnd(12)}Gi`, labels: { zone: zones[rnd(3)] ?? "a", disk: rnd(2) ? "ssd" : "hdd" }, taints,
      unschedulable: rnd(20) === 0, images: rnd(3) === 0 ? [{ names: ["app:v1"], sizeBytes: 300 * 2 ** 20 }] : [],
      extended: rnd(4) === 0 ? { "example.com/gpu": "2" } : {},
    }));
  }
  const out: string[] = [];
  for (let i = 0; i < 120; i++) {
    const app = `app${rnd(4)}`;
    const spec: Record<string, unknown> = {};
    const r = rnd(6);
    if (r === 0) spec["affinity"] = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app } }, topologyKey: "kubernetes.io/hostname" }] } };
    if (r === 1) spec["topologySpreadConstraints"] = [{ maxSkew: 1, topologyKey: "zone", whenUnsatisfiable: rnd(2) ? "DoNotSchedule" : "ScheduleAnyway", labelSelector: { matchLabels: { app } } }];
    if (r === 2) spec["affinity"] = { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 5, preference: { matchExpressions: [{ key: "disk", operator: "In", values: ["ssd"] }] } }] },
      podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 3, podAffinityTerm: { labelSelector: { matchLabels: { app } }, topologyKey: "zone" } }] } };
    const requests: Record<string, string> = { cpu: `${100 * (1 + rnd(20))}m`, memory: `${128 * (1 + rnd(16))}Mi` };
    if (rnd(10) === 0) requests["example.com/gpu"] = "1";
    sched.addPod(makePod(`p${i}`, {
      labels: { app }, requests, priority: rnd(3) * 10, spec,
      ...(rnd(4) === 0 ? { nodeSelector: { zone: zones[rnd(3)] ?? "a" } } : {}),
      ...(rnd(5) === 0 ? { tolerations: [{ key: "dedicated", operator: "Exists" }] } : {}),
      ...(rnd(8) === 0 ? { images: ["app:v1"] } : {}),
    }));
    if (i % 10 === 9) {
      for (let res = sched.scheduleOne(); res; res = sched.scheduleOne()) {
        if (res.kind === "scheduled") {
          out.push(`${res.pod.key} -> ${res.node}`);
          sched.cache.finishBinding(res.pod.key);
          sched.queue.done(res.pod.key);
        } else out.push(`${res.pod.key}: ${res.kind === "unschedulable" || res.kind === "error" ? res.message : res.reason}`);
      }
    }
  }
  return out;
}
