/**
 * DefaultPreemption's resource-only dry run against the generic one: two schedulers fed the same
 * random clusters and pods (some with host ports, anti-affinity, spread constraints, PDBs, taints,
 * extended resources, pod-count limits, nominated pods) must nominate the same nodes and pick the
 * same victims with the same messages.
 */
import { describe, expect, it } from "vitest";
import type { Pod } from "../api/generated/core_v1.ts";
import { parseLabelSelector } from "../api/selectors/labels.ts";
import { FakeClock } from "./clock.ts";
import { createTwinKernel } from "./kernel/mod.ts";
import { type DefaultPreemptionPlugin, NAME as PREEMPTION, newDefaultPreemption } from "./plugins/defaultpreemption/defaultpreemption.ts";
import { inTreeRegistry } from "./plugins/registry.ts";
import { Scheduler, type ScheduleResult } from "./scheduler.ts";
import { makeNode, makePod, MemoryBinder, MemoryPreemptor, MemoryRecorder, MemoryStatusWriter, type PodSpecLite } from "./testing.ts";

const GPU = "example.com/gpu";

function scheduler(fast: boolean, gate = true): { sched: Scheduler; clock: FakeClock; plugin: DefaultPreemptionPlugin; preemptor: MemoryPreemptor } {
  const clock = new FakeClock(0);
  const registry = new Map(inTreeRegistry);
  registry.set(PREEMPTION, (args, ctx) => newDefaultPreemption(args, ctx, { resourceFastPath: fast, gateWhilePreempting: gate }));
  const preemptor = new MemoryPreemptor();
  const sched = new Scheduler({
    kernel: createTwinKernel({ extendedResources: [GPU] }), binder: new MemoryBinder(), clock, recorder: new MemoryRecorder(),
    statusWriter: new MemoryStatusWriter(), preemptor, registry,
  });
  const plugin = sched.profiles.get("default-scheduler")?.plugins.get(PREEMPTION);
  if (!plugin || !("stats" in plugin)) throw new Error("no DefaultPreemption plugin");
  return { sched, clock, plugin: plugin as DefaultPreemptionPlugin, preemptor }; // narrowed by the "stats" check above
}

function summary(r: ScheduleResult | undefined): unknown {
  if (!r) return undefined;
  switch (r.kind) {
    case "scheduled": return [r.kind, r.pod.key, r.node];
    case "unschedulable": return [r.kind, r.pod.key, r.message, r.nominatedNodeName, r.victims.map((v) => v.key)];
    default: return [r.kind, r.pod.key];
  }
}

describe("DefaultPreemption resource-only dry run", () => {
  it("picks the same node and victims as the generic dry run on random clusters", () => {
    let seed = 987654321;
    const rnd = (n: number): number => {
      seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const chance = (pct: number): boolean => rnd(100) < pct;
    const fast = { arithmetic: 0, generic: 0, rejected: 0, reused: 0, confirmFailed: 0 };
    let preemptions = 0, compared = 0, partialScans = 0;
    const deadline = Date.now() + 25_000;
    for (let cluster = 0; cluster < 60 && Date.now() < deadline; cluster++) {
      const a = scheduler(true), b = scheduler(false);
      const both = (f: (s: Scheduler) => void): void => { f(a.sched); f(b.sched); };
      const big = cluster % 6 === 5;
      const nodeCount = big ? 110 + rnd(60) : 2 + rnd(10);
      const nodeNames: string[] = [];
      for (let i = 0; i < nodeCount; i++) {
        const name = `n${i}`;
        nodeNames.push(name);
        const n = makeNode(name, {
          cpu: String(2 + rnd(3)), memory: `${4 + rnd(5)}Gi`, pods: String(3 + rnd(6)), labels: { zone: `z${rnd(3)}` },
          ...(chance(10) ? { taints: [{ key: "dedicated", value: "x", effect: "NoSchedule" }] } : {}),
          ...(chance(25) ? { extended: { [GPU]: String(1 + rnd(3)) } } : {}),
        });
        both((s) => s.addNode(n));
      }
      const guard = (): void => {
        const pdb = { namespace: "default", name: "guard", selector: parseLabelSelector("app=a"), disruptionsAllowed: rnd(3), disruptedPods: new Set<string>() };
        both((s) => s.setPdb("default", "guard", pdb));
      };
      if (chance(50)) guard();
      const pods = new Map<string, Pod>();
      let seq = 0;
      const existing = nodeCount * (big ? 6 : 2 + rnd(3)); // big clusters are full (six pods on every node): their pods preempt
      for (let k = 0; k < existing; k++) {
        const name = `e${seq++}`;
        const spec: PodSpecLite = {
          nodeName: nodeNames[big ? k % nodeCount : rnd(nodeCount)] ?? "n0", priority: rnd(4) * 10, labels: { app: chance(50) ? "a" : "b" },
          requests: { cpu: `${(1 + rnd(4)) * 250}m`, memory: `${1 + rnd(2)}Gi`, ...(chance(15) ? { [GPU]: "1" } : {}) },
          startTime: `2026-01-01T00:${String(rnd(60)).padStart(2, "0")}:00Z`,
          ...(chance(10) ? { hostPorts: [{ port: 8080 }] } : {}),
          ...(chance(10) ? { spec: { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: "x" } }, topologyKey: "kubernetes.io/hostname" }] } } } } : {}),
        };
        const p = makePod(name, spec);
        pods.set(name, p);
        both((s) => s.addPod(p));
      }
      const incoming = big ? 8 : 4 + rnd(8);
      // Big clusters: every preemptor has the same priority and requests (PreemptionBasic's shape),
      // so outcomes kept from one scan are reused by the next.
      const shape = { priority: 15 + rnd(4) * 10, cpu: `${(4 + rnd(6)) * 250}m`, memory: `${1 + rnd(3)}Gi` };
      for (let k = 0; k < incoming; k++) {
        const name = `p${seq++}`;
        const extra: Record<string, unknown> = {};
        if (chance(12)) extra["affinity"] = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: chance(50) ? "b" : "x" } }, topologyKey: "kubernetes.io/hostname" }] } };
        if (chance(10)) extra["topologySpreadConstraints"] = [{ maxSkew: 1, topologyKey: "zone", whenUnsatisfiable: "DoNotSchedule", labelSelector: { matchLabels: { app: "x" } } }];
        if (chance(10)) extra["topologySpreadConstraints"] = [{ maxSkew: 1, topologyKey: "zone", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: { app: "x" } } }];
        const p = makePod(name, {
          priority: big ? shape.priority : 15 + rnd(4) * 10, labels: { app: chance(70) ? "x" : "a" },
          requests: big ? { cpu: shape.cpu, memory: shape.memory } : { cpu: `${(2 + rnd(8)) * 250}m`, memory: `${1 + rnd(3)}Gi`, ...(chance(15) ? { [GPU]: String(1 + rnd(2)) } : {}) },
          ...(chance(10) ? { hostPorts: [{ port: 8080 }] } : {}),
          ...(chance(15) ? { nodeSelector: { zone: `z${rnd(3)}` } } : {}),
          ...(chance(10) ? { tolerations: [{ key: "dedicated", operator: "Exists", effect: "NoSchedule" }] } : {}),
          ...(Object.keys(extra).length > 0 ? { spec: extra } : {}),
        });
        pods.set(name, p);
        both((s) => s.addPod(p));
      }
      for (let step = 0; step < incoming * 3; step++) {
        if (chance(5)) guard(); // a PDB changes: outcomes kept under the old list must not be reused
        const ra = a.sched.scheduleOne(), rb = b.sched.scheduleOne();
        expect(summary(ra)).toEqual(summary(rb));
        if (!ra) {
          a.clock.step(11_000); b.clock.step(11_000);
          both((s) => s.flush());
          continue;
        }
        compared++;
        if (ra.kind === "scheduled") {
          const old = pods.get(ra.pod.name);
          if (old) {
            const bound: Pod = { ...old, spec: { ...old.spec, nodeName: ra.node } };
            pods.set(ra.pod.name, bound);
            both((s) => s.updatePod(old, bound));
          }
        } else if (ra.kind === "unschedulable" && ra.victims.length > 0) {
          preemptions++;
          // Victims leave one cycle later sometimes, so nominated pods meet other preemptors.
          if (chance(70)) {
            for (const v of ra.victims) {
              const vp = pods.get(v.name);
              if (!vp) continue;
              pods.delete(v.name);
              both((s) => s.deletePod(vp));
            }
          }
        }
      }
      fast.arithmetic += a.plugin.stats.arithmetic;
      fast.generic += a.plugin.stats.generic;
      fast.rejected += a.plugin.stats.rejected;
      fast.reused += a.plugin.stats.reused;
      // Big clusters hold more potential nodes than the 100 candidates a scan looks for.
      if (big && a.plugin.stats.arithmetic + a.plugin.stats.generic > 100) partialScans++;
      fast.confirmFailed += a.plugin.stats.confirmFailed;
      expect(b.plugin.stats.arithmetic).toBe(0);
    }
    expect(compared).toBeGreaterThan(200);
    expect(preemptions).toBeGreaterThan(40);
    expect(partialScans).toBeGreaterThan(3);
    // Both paths were exercised, and no resource-only choice failed its confirmation.
    expect(fast.arithmetic).toBeGreaterThan(500);
    expect(fast.generic).toBeGreaterThan(100);
    expect(fast.rejected).toBeGreaterThan(100); // nodes ruled out without a dry run: same messages as the generic path
    expect(fast.reused).toBeGreaterThan(200); // outcomes kept across scans gave the same choices
    expect(fast.confirmFailed).toBe(0);
  });

  it("a preemptor stays gated while its evictions run and leaves the gate when its last victim is deleted", async () => {
    const { sched, plugin, clock, preemptor } = scheduler(true);
    sched.addNode(makeNode("n1", { cpu: "2" }));
    sched.addNode(makeNode("n2", { cpu: "4" }));
    const lows = [
      makePod("low-a", { nodeName: "n1", priority: 0, requests: { cpu: "1" } }),
      makePod("low-b", { nodeName: "n1", priority: 0, requests: { cpu: "1" } }),
      makePod("mid", { nodeName: "n2", priority: 5, requests: { cpu: "4" } }),
    ];
    for (const p of lows) sched.addPod(p);
    const other = makePod("other", { nodeName: "n2", priority: 0, requests: { cpu: "1" } });
    const high = makePod("high", { priority: 10, requests: { cpu: "2" } });
    sched.addPod(high);
    const first = sched.scheduleOne();
    if (first?.kind !== "unschedulable") throw new Error(`expected unschedulable, got ${first?.kind}`);
    expect(first.nominatedNodeName).toBe("n1");
    expect(first.victims.map((v) => v.key).sort()).toEqual(["default/low-a", "default/low-b"]);
    await Promise.resolve(); // the evictions' API calls returned; the deletes are not seen yet
    expect(preemptor.evicted.map((e) => e.victim).sort()).toEqual(["default/low-a", "default/low-b"]);
    // Other pods' events requeue it into the gate, not into an attempt: no writes, no dry run.
    sched.queue.onEvent({ resource: "WildCard", actionType: 0, label: "test" }, undefined, undefined);
    sched.addPod(other);
    sched.deletePod(other);
    for (let i = 0; i < 15; i++) { clock.step(1000); sched.flush(); }
    expect(sched.queue.where("default/high")).toBe("gated");
    expect(sched.scheduleOne()).toBeUndefined();
    // One victim gone: still waiting for the other.
    const [a, b] = lows;
    if (!a || !b) throw new Error("fixture");
    sched.deletePod(a);
    expect(sched.queue.where("default/high")).toBe("gated");
    // The other starts terminating (deletion started counts as done, as upstream): out of the gate.
    const terminating: Pod = { ...b, metadata: { ...b.metadata, deletionTimestamp: "2026-01-01T00:00:00Z" } };
    sched.updatePod(b, terminating);
    expect(sched.queue.where("default/high")).toBe("active");
    expect(sched.scheduleOne()?.kind).toBe("unschedulable"); // room not free yet: the terminating pod still holds it
    sched.deletePod(terminating);
    for (let i = 0; i < 20 && sched.queue.stats().active === 0; i++) { clock.step(1000); sched.flush(); }
    const r = sched.scheduleOne();
    expect(r?.kind === "scheduled" && r.node).toBe("n1");
    expect(plugin.stats.arithmetic + plugin.stats.generic).toBeGreaterThan(0);
    expect(preemptor.evicted).toHaveLength(2); // no second preemption
  });

  it("a failed eviction opens the gate at once", async () => {
    const clock = new FakeClock(0);
    const failing = { evicted: [] as string[], preempt: (v: Pod): Promise<void> => { failing.evicted.push(v.metadata?.name ?? ""); return Promise.reject(new Error("apiserver down")); } };
    const sched = new Scheduler({ kernel: createTwinKernel(), binder: new MemoryBinder(), clock, preemptor: failing });
    sched.addNode(makeNode("n1", { cpu: "2" }));
    sched.addPod(makePod("low", { nodeName: "n1", priority: 0, requests: { cpu: "2" } }));
    sched.addPod(makePod("high", { priority: 10, requests: { cpu: "2" } }));
    expect(sched.scheduleOne()?.kind).toBe("unschedulable");
    sched.queue.onEvent({ resource: "WildCard", actionType: 0, label: "test" }, undefined, undefined);
    clock.step(2000);
    sched.flush(); // backoff over: PreEnqueue runs and gates it (the eviction has not failed yet)
    expect(sched.queue.where("default/high")).toBe("gated");
    await new Promise((r) => setTimeout(r, 0));
    expect(failing.evicted).toEqual(["low"]);
    expect(sched.queue.where("default/high")).toBe("active");
  });

  it("without the gate, a preemptor retried before its victims are gone waits instead of preempting again", () => {
    const { sched, plugin, clock } = scheduler(true, false);
    sched.addNode(makeNode("n1", { cpu: "2" }));
    sched.addNode(makeNode("n2", { cpu: "2" }));
    const lows = ["n1", "n2"].map((n) => makePod(`low-${n}`, { nodeName: n, priority: 0, requests: { cpu: "2" } }));
    for (const p of lows) sched.addPod(p);
    const high = makePod("high", { priority: 10, requests: { cpu: "2" } });
    sched.addPod(high);
    const first = sched.scheduleOne();
    if (first?.kind !== "unschedulable") throw new Error(`expected unschedulable, got ${first?.kind}`);
    expect(first.nominatedNodeName).toBe("n1");
    expect(first.victims.map((v) => v.key)).toEqual(["default/low-n1"]);
    // An unrelated event requeues it before the victim's delete arrived: no second preemption.
    sched.queue.onEvent({ resource: "WildCard", actionType: 0, label: "test" }, undefined, undefined);
    for (let i = 0; i < 20 && sched.queue.stats().active === 0; i++) { sched.queue.flush(); clock.step(1000); }
    const again = sched.scheduleOne();
    if (again?.kind !== "unschedulable") throw new Error(`expected unschedulable, got ${again?.kind}`);
    expect(again.victims).toEqual([]);
    expect(again.message).toBe("0/2 nodes are available: 2 Insufficient cpu. preemption: not eligible due to a terminating pod on the nominated node.");
    expect(plugin.stats.arithmetic + plugin.stats.generic).toBe(2);
    // The delete arrives: the preemptor goes where it made room.
    const victim = lows[0];
    if (victim) sched.deletePod(victim);
    for (let i = 0; i < 20 && sched.queue.stats().active === 0; i++) { sched.queue.flush(); clock.step(1000); }
    const r = sched.scheduleOne();
    expect(r?.kind === "scheduled" && r.node).toBe("n1");
  });

  it("scans from a random offset: with more potential nodes than needed, different offsets reach different nodes", () => {
    const picks = new Set<string>();
    for (let s = 0; s < 6; s++) {
      const clock = new FakeClock(0);
      const x = s * 0.16;
      const registry = new Map(inTreeRegistry);
      registry.set(PREEMPTION, (args, ctx) => newDefaultPreemption(args, ctx, { random: () => x }));
      const sched = new Scheduler({ kernel: createTwinKernel(), binder: new MemoryBinder(), clock, registry });
      // 300 identical full nodes: want = max(10% of 300, 100) = 100 candidates, all equally good.
      for (let i = 0; i < 300; i++) sched.addNode(makeNode(`n${String(i).padStart(3, "0")}`, { cpu: "1" }));
      for (let i = 0; i < 300; i++) sched.addPod(makePod(`low${i}`, { nodeName: `n${String(i).padStart(3, "0")}`, priority: 0, requests: { cpu: "1" } }));
      sched.addPod(makePod("high", { priority: 10, requests: { cpu: "1" } }));
      const r = sched.scheduleOne();
      if (r?.kind !== "unschedulable" || !r.nominatedNodeName) throw new Error(`expected a nomination, got ${r?.kind}`);
      expect(r.victims).toHaveLength(1);
      picks.add(r.nominatedNodeName);
    }
    // Lowest slot of each scanned window: offsets 0, 48, 96, 144, 192, 240 (the last wraps: n000).
    expect([...picks].sort()).toEqual(["n000", "n048", "n096", "n144", "n192"]);
  });
});
