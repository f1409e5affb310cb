import { describe, expect, it } from "vitest";
import type { Node, Pod } from "../../api/generated/core_v1.ts";
import type { KubeObject } from "../../api/object.ts";
import { LEASES, NODES, PODS } from "../framework/resources.ts";
import { fakeKit } from "../framework/testing.ts";
import { NodeLifecycleController, optionsFromEnv } from "./controller.ts";
import { DEFAULT_NODE_LIFECYCLE, desiredTaints, evictionDecision, observeHealth, TokenBucket, unknownConditions, zoneRate, zoneState } from "./health.ts";

const T = Date.parse("2024-01-01T00:00:00Z");
const O = DEFAULT_NODE_LIFECYCLE;

function node(name: string, ready: string | undefined, o: { hb?: string; zone?: string; taints?: Node["spec"] extends infer S ? S extends { taints?: infer X } ? X : never : never; unschedulable?: boolean; extra?: Array<{ type: string; status: string }> } = {}): Node {
  const conds = [
    ...(ready !== undefined ? [{ type: "Ready", status: ready, reason: "KubeletReady", lastHeartbeatTime: o.hb ?? "2024-01-01T00:00:00Z", lastTransitionTime: "2024-01-01T00:00:00Z" }] : []),
    ...(o.extra ?? []),
  ];
  return {
    apiVersion: "v1", kind: "Node",
    metadata: { name, resourceVersion: "1", creationTimestamp: "2024-01-01T00:00:00Z", labels: o.zone ? { "topology.kubernetes.io/zone": o.zone } : {} },
    spec: { ...(o.taints ? { taints: o.taints } : {}), ...(o.unschedulable ? { unschedulable: true } : {}) },
    status: { conditions: conds },
  } as Node;
}

function podOn(name: string, nodeName: string, tolerations: unknown[] = [], ready = true): Pod {
  return {
    apiVersion: "v1", kind: "Pod",
    metadata: { name, namespace: "default", uid: `uid-${name}`, resourceVersion: "1" },
    spec: { nodeName, containers: [{ name: "c" }], tolerations },
    status: { phase: "Running", conditions: [{ type: "Ready", status: ready ? "True" : "False" }] },
  } as Pod;
}

describe("node health", () => {
  it("probe time moves when the heartbeat or the lease renewal changes", () => {
    const h0 = observeHealth(undefined, node("n", "True"), "2024-01-01T00:00:00.000000Z", T);
    expect(h0.probeTimestamp).toBe(T);
    expect(observeHealth(h0, node("n", "True"), "2024-01-01T00:00:00.000000Z", T + 30_000).probeTimestamp).toBe(T);
    expect(observeHealth(h0, node("n", "True"), "2024-01-01T00:00:10.000000Z", T + 30_000).probeTimestamp).toBe(T + 30_000);
    expect(observeHealth(h0, node("n", "True", { hb: "2024-01-01T00:00:20Z" }), undefined, T + 30_000).probeTimestamp).toBe(T + 30_000);
    expect(observeHealth(undefined, node("n", undefined), undefined, T + 99_000).probeTimestamp).toBe(T); // never posted: from creation
  });

  it("after the grace period every watched condition is Unknown", () => {
    const n = node("n", "True", { extra: [{ type: "MemoryPressure", status: "False" }] });
    const h = observeHealth(undefined, n, undefined, T);
    expect(unknownConditions(n, h, T + 40_000, O)).toBeUndefined();
    const conds = unknownConditions(n, h, T + 40_001, O)!;
    expect(conds.map((c) => [c.type, c.status, c.reason])).toEqual([
      ["Ready", "Unknown", "NodeStatusUnknown"], ["MemoryPressure", "Unknown", "NodeStatusUnknown"],
      ["DiskPressure", "Unknown", "NodeStatusNeverUpdated"], ["PIDPressure", "Unknown", "NodeStatusNeverUpdated"],
    ]);
    expect(conds[0]).toMatchObject({ message: "Kubelet stopped posting node status.", lastHeartbeatTime: "2024-01-01T00:00:00Z", lastTransitionTime: "2024-01-01T00:00:40Z" });
  });

  it.each([
    ["Ready", node("n", "True"), true, []],
    ["NotReady", node("n", "False"), true, ["node.kubernetes.io/not-ready:NoSchedule", "node.kubernetes.io/not-ready:NoExecute"]],
    ["Unknown", node("n", "Unknown"), true, ["node.kubernetes.io/unreachable:NoSchedule", "node.kubernetes.io/unreachable:NoExecute"]],
    ["Unknown, limited", node("n", "Unknown"), false, ["node.kubernetes.io/unreachable:NoSchedule"]],
    ["swap not-ready -> unreachable without the limiter", node("n", "Unknown", { taints: [{ key: "node.kubernetes.io/not-ready", effect: "NoExecute", timeAdded: "2024-01-01T00:00:00Z" }] }), false, ["node.kubernetes.io/unreachable:NoSchedule", "node.kubernetes.io/unreachable:NoExecute"]],
    ["pressure and unschedulable", node("n", "True", { unschedulable: true, extra: [{ type: "DiskPressure", status: "True" }, { type: "PIDPressure", status: "True" }, { type: "NetworkUnavailable", status: "True" }] }), true,
      ["node.kubernetes.io/disk-pressure:NoSchedule", "node.kubernetes.io/pid-pressure:NoSchedule", "node.kubernetes.io/network-unavailable:NoSchedule", "node.kubernetes.io/unschedulable:NoSchedule"]],
    ["healthy again: managed taints removed, others kept", node("n", "True", { taints: [{ key: "node.kubernetes.io/unreachable", effect: "NoExecute" }, { key: "dedicated", effect: "NoSchedule" }] }), true, ["dedicated:NoSchedule"]],
  ])("taints: %s", (_n, n, allow, want) => {
    expect(desiredTaints(n, T, allow).taints.map((t) => `${t.key}:${t.effect}`)).toEqual(want);
  });

  it("NoExecute taints get timeAdded", () => {
    expect(desiredTaints(node("n", "Unknown"), T, true).taints[1]?.timeAdded).toBe("2024-01-01T00:00:00Z");
  });

  it.each([
    [["True", "True", "False"], "Normal"],
    [["False", "Unknown"], "FullDisruption"],
    [["True", "False", "False"], "Normal"], // only 2 not ready
    [["True", "False", "False", "Unknown"], "PartialDisruption"],
    [["True", "True", "False", "False", "Unknown"], "PartialDisruption"],
    [["True", "True", "True", "False", "False", "Unknown"], "Normal"], // 50% < 55%
  ])("zone state of %j", (sts, want) => {
    expect(zoneState(sts, O)).toBe(want);
  });

  it("zone rates: primary, secondary for large partially disrupted zones, 0 for small ones", () => {
    expect(zoneRate("Normal", 3, O)).toBe(0.1);
    expect(zoneRate("FullDisruption", 3, O)).toBe(0.1);
    expect(zoneRate("PartialDisruption", 51, O)).toBe(0.01);
    expect(zoneRate("PartialDisruption", 50, O)).toBe(0);
  });

  it("token bucket: burst 1, then one per 1/qps", () => {
    const b = new TokenBucket(0.1);
    expect(b.tryAccept(T)).toBe(true);
    expect(b.tryAccept(T + 1000)).toBe(false);
    expect(b.waitMs(T + 1000)).toBe(9000);
    expect(b.tryAccept(T + 10_000)).toBe(true);
    expect(new TokenBucket(0).waitMs(T)).toBe(Infinity);
  });

  const unreachable = [{ key: "node.kubernetes.io/unreachable", effect: "NoExecute", timeAdded: "2024-01-01T00:00:00Z" }];
  it.each([
    ["no tolerations: evict", [], T, "evict"],
    ["300 s toleration: wait", [{ key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 }], T + 1000, `wait ${T + 300_000}`],
    ["300 s toleration: evict after", [{ key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 }], T + 300_000, "evict"],
    ["forever", [{ key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute" }], T + 1e9, "none"],
    ["shortest wins", [{ operator: "Exists" }, { key: "node.kubernetes.io/unreachable", operator: "Exists", tolerationSeconds: 5 }], T + 1000, `wait ${T + 5000}`],
  ])("eviction: %s", (_n, tols, now, want) => {
    const d = evictionDecision(podOn("p", "n", tols), unreachable, T, now);
    expect(d.action === "wait" ? `wait ${d.atMs}` : d.action).toBe(want);
  });

  it("options from the environment", () => {
    expect(optionsFromEnv({ TUG_NODE_MONITOR_GRACE_PERIOD: "5s", TUG_NODE_EVICTION_RATE: "1" })).toEqual({ nodeMonitorGracePeriodMs: 5000, evictionLimiterQps: 1 });
    expect(optionsFromEnv({ TUG_NODE_MONITOR_GRACE_PERIOD: "7" })).toEqual({ nodeMonitorGracePeriodMs: 7000 });
    expect(() => optionsFromEnv({ TUG_NODE_MONITOR_GRACE_PERIOD: "soon" })).toThrow('invalid duration "soon" (want e.g. 40s)');
    expect(() => optionsFromEnv({ TUG_NODE_EVICTION_RATE: "-1" })).toThrow('invalid rate "-1" (want a number >= 0)');
  });
});

describe("node lifecycle controller", () => {
  function setup(nodes: Node[], pods: Pod[] = []) {
    const k = fakeKit();
    const c = new NodeLifecycleController(k.ctx, k.queue);
    for (const n of nodes) { k.informers.seed(NODES, n as KubeObject); k.writer.seed(NODES, n as KubeObject); }
    for (const p of pods) { k.informers.seed(PODS, p as KubeObject); k.writer.seed(PODS, p as KubeObject); }
    return { ...k, c };
  }
  const lease = (name: string, renew: string): KubeObject => ({ apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name, namespace: "kube-node-lease" }, spec: { renewTime: renew } });

  it("a node whose lease stops: Unknown after the grace period, tainted, pods marked not ready and evicted", async () => {
    const tolerating = podOn("tol", "n1", [{ key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 }]);
    const k = setup([node("n1", "True"), node("n2", "True")], [podOn("plain", "n1"), tolerating]);
    k.informers.add(LEASES, lease("n1", "2024-01-01T00:00:00.000000Z"));
    expect(k.queue.keys).toEqual(["n1"]);
    expect(await k.c.sync("n1")).toEqual({ requeueAfterMs: 40_001 });
    expect(k.writer.summary()).toEqual([]);
    k.setNow("2024-01-01T00:00:41Z");
    // keep the cache in step with the writes, as the informer would
    const r = await k.c.sync("n1");
    expect(k.writer.summary()).toEqual([
      "updateStatus nodes n1", "patch pods/status default/plain", "patch pods/status default/tol", "update nodes n1",
      "patch pods/status default/plain", "delete pods default/plain",
    ]);
    const n1 = k.writer.stored(NODES, "", "n1") as Node | undefined;
    expect(n1?.spec?.taints?.map((t) => `${t.key}:${t.effect}`)).toEqual(["node.kubernetes.io/unreachable:NoSchedule", "node.kubernetes.io/unreachable:NoExecute"]);
    expect(k.recorder.events).toEqual(["Normal NodeNotReady Node n1 status is now: NodeNotReady", "Warning NodeNotReady Node is not ready", "Warning NodeNotReady Node is not ready", "Normal TaintManagerEviction Marking for deletion Pod default/plain"]);
    expect(r).toEqual({ requeueAfterMs: 300_000 }); // the tolerating pod, 300 s after the taint
  });

  it("rate limiting: the second node in a zone waits for a token", async () => {
    const old = "2023-12-31T23:00:00Z";
    const nodes = ["a", "b", "c", "d", "e", "f"].map((n) => node(n, "True", { zone: "z" }));
    const k = setup(nodes);
    for (const n of nodes) await k.c.sync(n.metadata?.name ?? "");
    void old;
    k.setNow("2024-01-01T00:01:00Z"); // every node silent for 60 s; zone: 2 of 6 down after these syncs
    k.writer.reset();
    await k.c.sync("a");
    k.informers.seed(NODES, k.writer.stored(NODES, "", "a")!);
    const rb = await k.c.sync("b");
    const tainted = (n: string): string[] => ((k.writer.stored(NODES, "", n) as Node | undefined)?.spec?.taints ?? []).map((t) => `${t.key}:${t.effect}`);
    expect(tainted("a")).toContain("node.kubernetes.io/unreachable:NoExecute");
    expect(tainted("b")).toEqual(["node.kubernetes.io/unreachable:NoSchedule"]);
    expect(rb).toEqual({ requeueAfterMs: 10_000 });
  });

  it("when every zone is fully disrupted no NoExecute taint is added", async () => {
    const k = setup([node("a", "True"), node("b", "True")]);
    await k.c.sync("a");
    await k.c.sync("b");
    k.setNow("2024-01-01T00:01:00Z");
    await k.c.sync("a");
    k.informers.seed(NODES, k.writer.stored(NODES, "", "a")!);
    k.queue.clear();
    await k.c.sync("b");
    expect(k.queue.keys.sort()).toEqual(["a", "b"]); // every node re-checked
    k.informers.seed(NODES, k.writer.stored(NODES, "", "b")!);
    await k.c.sync("a");
    for (const n of ["a", "b"]) {
      expect(((k.writer.stored(NODES, "", n) as Node | undefined)?.spec?.taints ?? []).map((t) => t.effect)).toEqual(["NoSchedule"]);
    }
  });

  it("a node that recovers loses its taints at once", async () => {
    const k = setup([node("n", "True", { taints: [{ key: "node.kubernetes.io/unreachable", effect: "NoExecute" }, { key: "node.kubernetes.io/unreachable", effect: "NoSchedule" }] })]);
    await k.c.sync("n");
    expect(k.writer.summary()).toEqual(["update nodes n"]);
    expect((k.writer.stored(NODES, "", "n") as Node | undefined)?.spec?.taints).toBeUndefined();
  });
});
