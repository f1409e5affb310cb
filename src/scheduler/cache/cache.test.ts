import { describe, expect, it } from "vitest";
import { FakeClock } from "../clock.ts";
import { createTwinKernel } from "../kernel/mod.ts";
import { makeNode, makePod } from "../testing.ts";
import { SchedulerCache } from "./cache.ts";
import { Snapshot } from "./snapshot.ts";

function setup(ttl = 1000) {
  const clock = new FakeClock(0);
  const cache = new SchedulerCache({ clock, assumedPodTtlMs: ttl });
  const kernel = createTwinKernel();
  const snap = new Snapshot(kernel);
  return { clock, cache, snap, kernel };
}

describe("SchedulerCache", () => {
  it("accounts requests, non-zero requests, ports and affinity pods", () => {
    const { cache } = setup();
    cache.addNode(makeNode("n1"));
    cache.addPod(makePod("a", { nodeName: "n1", requests: { cpu: "500m", memory: "1Gi" }, hostPorts: [{ port: 80 }] }));
    cache.addPod(makePod("b", { nodeName: "n1", spec: { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: {}, topologyKey: "zone" }] } } } }));
    const ni = cache.getNode("n1");
    expect([ni?.requestedCpu, ni?.requestedMemory, ni?.nonZeroCpu, ni?.nonZeroMemory]).toEqual([500, 2 ** 30, 600, 2 ** 30 + 200 * 2 ** 20]);
    expect(ni?.usedPorts).toEqual([{ ip: "0.0.0.0", protocol: "TCP", port: 80 }]);
    expect([ni?.podsWithAffinity.length, ni?.podsWithRequiredAntiAffinity.length]).toEqual([1, 1]);
    cache.removePod(makePod("b", { nodeName: "n1" }));
    expect([ni?.pods.length, ni?.podsWithAffinity.length]).toEqual([1, 0]);
  });
  it("assume → finishBinding → expire; confirm stops expiry", () => {
    const { cache, clock } = setup(1000);
    cache.addNode(makeNode("n1"));
    const a = cache.podInfo(makePod("a", { requests: { cpu: "1" } }));
    const b = cache.podInfo(makePod("b", { requests: { cpu: "1" } }));
    cache.assumePod(a, "n1");
    cache.assumePod(b, "n1");
    expect(() => cache.assumePod(a, "n1")).toThrow("pod default/a is in the cache, so can't be assumed");
    cache.finishBinding("default/a");
    cache.finishBinding("default/b");
    cache.addPod(makePod("b", { nodeName: "n1", requests: { cpu: "1" } }));
    clock.step(1000);
    expect(cache.cleanupExpiredAssumedPods()).toEqual(["default/a"]);
    expect(cache.getNode("n1")?.requestedCpu).toBe(1000);
    expect(cache.isAssumed("default/b")).toBe(false);
  });
  it("forget rolls back an assumption; forgetting an unknown pod throws", () => {
    const { cache } = setup();
    cache.addNode(makeNode("n1"));
    cache.assumePod(cache.podInfo(makePod("a", { requests: { cpu: "1" } })), "n1");
    cache.forgetPod("default/a");
    expect(cache.getNode("n1")?.requestedCpu).toBe(0);
    expect(() => cache.forgetPod("default/a")).toThrow("pod default/a wasn't assumed so cannot be forgotten");
  });
  it("rejects an unparsable allocatable quantity with the resource named", () => {
    const { cache } = setup();
    const n = makeNode("n1");
    if (n.status?.allocatable) n.status.allocatable["cpu"] = "lots";
    expect(() => cache.addNode(n)).toThrow(/invalid quantity "lots" for cpu/);
  });
});

describe("Snapshot", () => {
  it("copies only changed nodes and keeps the kernel in step (swap-remove on delete)", () => {
    const { cache, snap, kernel } = setup();
    for (let i = 0; i < 5; i++) cache.addNode(makeNode(`n${i}`));
    cache.updateSnapshot(snap);
    expect(kernel.nodeCount).toBe(5);
    const before = snap.nodes.slice();
    cache.addPod(makePod("a", { nodeName: "n2", requests: { cpu: "1" } }));
    cache.updateSnapshot(snap);
    snap.nodes.forEach((n, i) => { if (n.name !== "n2") expect(n).toBe(before[i]); else expect(n).not.toBe(before[i]); });
    cache.removeNode(makeNode("n0"));
    cache.updateSnapshot(snap);
    expect(kernel.nodeCount).toBe(4);
    expect(snap.nodes.map((n) => n.name)).toEqual(["n4", "n1", "n2", "n3"]);
    expect(snap.index.get("n4")).toBe(0);
    // n2 keeps its pod in the kernel: a pod asking 4 cpus no longer fits there.
    kernel.filterAndScore({ requests: { cpu: 3500, memory: 0, ephemeralStorage: 0, nonZeroCpu: 3500, nonZeroMemory: 0 }, toleratesUnschedulable: false, toleratedTaints: [], toleratedPreferTaints: [], numContainers: 1, seed: 1 });
    expect(Array.from(kernel.lastStatus())).toEqual([0, 0, 16, 0]);
  });
  it("interns taints and releases bits when nodes go", () => {
    const { cache, snap } = setup();
    cache.addNode(makeNode("n1", { taints: [{ key: "a", effect: "NoSchedule" }] }));
    cache.addNode(makeNode("n2", { taints: [{ key: "a", effect: "NoSchedule" }, { key: "b", effect: "PreferNoSchedule" }] }));
    cache.updateSnapshot(snap);
    const v = snap.hardTaints.version;
    expect(Array.from(snap.hardTaints.tolerated([{ key: "a", operator: "Exists" }], new Uint32Array(1)))).toEqual([1]);
    cache.removeNode(makeNode("n1"));
    cache.removeNode(makeNode("n2"));
    cache.updateSnapshot(snap);
    expect(snap.hardTaints.version).toBeGreaterThan(v);
    expect(Array.from(snap.hardTaints.tolerated([{ operator: "Exists" }], new Uint32Array(1)))).toEqual([0]);
  });
});
