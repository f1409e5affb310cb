import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../api/object.ts";
import { DEPLOYMENTS, PODS, REPLICASETS, STATEFULSETS } from "../framework/resources.ts";
import { fakeKit, pod, T0 } from "../framework/testing.ts";
import { computeStatus, countHealthy, expectedCounts, failSafeStatus, liveDisruptions, scaledValue } from "./budget.ts";
import { DisruptionController, PDBS } from "./controller.ts";

const NOW = new Date(T0);
const ready = (name: string, extra: Parameters<typeof pod>[1] = {}) => pod(name, { labels: { app: "web" }, phase: "Running", ready: true, ...extra });

describe("budget arithmetic", () => {
  it.each([
    [3, 10, true, 3], ["50%", 3, true, 2], ["50%", 3, false, 1], ["0%", 7, true, 0], ["100%", 4, true, 4],
  ] as const)("scaledValue(%s of %s, roundUp %s) = %s", (v, total, up, want) => {
    expect(scaledValue(v, total, up)).toBe(want);
  });

  it.each([
    ["5", "invalid value for IntOrString: invalid type: string is not a percentage"],
    ["x%", 'invalid value for IntOrString: invalid value "x%": strconv.Atoi: parsing "x": invalid syntax'],
    [undefined, "nil value for IntOrString"],
  ] as const)("scaledValue rejects %s", (v, msg) => {
    expect(() => scaledValue(v, 3, true)).toThrow(msg);
  });

  it("expectedCounts: minAvailable int uses the pods, percentages and maxUnavailable the scale", () => {
    const scale = () => 4;
    expect(expectedCounts({ minAvailable: 2 }, 3, () => { throw new Error("no scale needed"); })).toEqual({ expected: 3, desired: 2 });
    expect(expectedCounts({ minAvailable: "50%" }, 3, scale)).toEqual({ expected: 4, desired: 2 });
    expect(expectedCounts({ maxUnavailable: 1 }, 3, scale)).toEqual({ expected: 4, desired: 3 });
    expect(expectedCounts({ maxUnavailable: "30%" }, 3, scale)).toEqual({ expected: 4, desired: 2 });
    expect(expectedCounts({ maxUnavailable: 9 }, 3, scale)).toEqual({ expected: 4, desired: 0 });
    expect(expectedCounts({}, 3, scale)).toEqual({ expected: 0, desired: 0 });
  });

  it("disrupted pods: kept while present, not deleting and younger than 2 min; they do not count as healthy", () => {
    const pods = [ready("a"), ready("b"), ready("c", { deleting: true })];
    const rec = { a: "2023-12-31T23:59:00Z", b: "2023-12-31T23:57:00Z", c: "2023-12-31T23:59:30Z", gone: "2023-12-31T23:59:30Z" };
    const { disrupted, recheckAtMs } = liveDisruptions(rec, pods, NOW.getTime());
    expect(disrupted).toEqual({ a: "2023-12-31T23:59:00Z" });
    expect(recheckAtMs).toBe(Date.parse("2024-01-01T00:01:00Z"));
    expect(countHealthy(pods, disrupted, NOW.getTime())).toBe(1); // b (a is disrupted, c deleting)
  });

  it("computeStatus: allowed = healthy - desired, condition and observedGeneration", () => {
    const pods = [ready("a"), ready("b"), pod("c", { labels: { app: "web" }, phase: "Running", ready: false })];
    const { status } = computeStatus(3, { minAvailable: 1 }, {}, pods, () => 0, NOW);
    expect(status).toMatchObject({ observedGeneration: 3, disruptionsAllowed: 1, currentHealthy: 2, desiredHealthy: 1, expectedPods: 3 });
    expect(status.conditions).toEqual([{ type: "DisruptionAllowed", status: "True", reason: "SufficientPods", message: "", observedGeneration: 3, lastTransitionTime: "2024-01-01T00:00:00Z" }]);
    const none = computeStatus(1, { minAvailable: 2 }, status, pods, () => 0, new Date("2024-01-01T00:05:00Z")).status;
    expect(none.disruptionsAllowed).toBe(0);
    expect(none.conditions?.[0]).toMatchObject({ status: "False", reason: "InsufficientPods", lastTransitionTime: "2024-01-01T00:05:00Z" });
    expect(computeStatus(1, { maxUnavailable: 0 }, {}, [], () => 0, NOW).status.disruptionsAllowed).toBe(0); // nothing expected
  });

  it("failSafeStatus: no disruptions, SyncFailed with the error", () => {
    expect(failSafeStatus({ disruptionsAllowed: 3, observedGeneration: 2 }, "boom", NOW)).toMatchObject({
      disruptionsAllowed: 0, conditions: [{ type: "DisruptionAllowed", status: "False", reason: "SyncFailed", message: "boom", observedGeneration: 2 }],
    });
  });
});

function budget(spec: Record<string, unknown>, status: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: "policy/v1", kind: "PodDisruptionBudget", metadata: { name: "web", namespace: "default", uid: "uid-pdb", generation: 2, resourceVersion: "9" }, spec: { selector: { matchLabels: { app: "web" } }, ...spec }, status };
}

function setup(pdb: KubeObject) {
  const k = fakeKit();
  const c = new DisruptionController(k.ctx, k.queue);
  k.informers.seed(PDBS, pdb);
  k.writer.seed(PDBS, pdb);
  return { ...k, c };
}

describe("disruption controller", () => {
  it("writes the status from the selected pods in the namespace", async () => {
    const k = setup(budget({ minAvailable: 1 }));
    k.informers.seed(PODS, ready("a"), ready("b"), ready("other-ns", { ns: "x" }), pod("nolabel", { phase: "Running", ready: true }));
    await k.c.sync("default/web");
    expect(k.writer.writes("updateStatus", "poddisruptionbudgets")[0]?.object?.["status"]).toMatchObject({ observedGeneration: 2, currentHealthy: 2, desiredHealthy: 1, expectedPods: 2, disruptionsAllowed: 1 });
    // Same inputs again: nothing to write.
    const written = k.writer.stored(PDBS, "default", "web");
    k.informers.seed(PDBS, written ?? budget({}));
    k.writer.reset();
    await k.c.sync("default/web");
    expect(k.writer.calls).toEqual([]);
  });

  it("maxUnavailable and percentages use the Deployment's replicas (through its ReplicaSet) and StatefulSets", async () => {
    const dep: KubeObject = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", namespace: "default", uid: "uid-dep" }, spec: { replicas: 4 } };
    const rs: KubeObject = { apiVersion: "apps/v1", kind: "ReplicaSet", metadata: { name: "web-1", namespace: "default", uid: "uid-rs", ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name: "web", uid: "uid-dep", controller: true }] }, spec: { replicas: 2 } };
    const sts: KubeObject = { apiVersion: "apps/v1", kind: "StatefulSet", metadata: { name: "db", namespace: "default", uid: "uid-sts" }, spec: { replicas: 3 } };
    const k = setup(budget({ maxUnavailable: "50%" }));
    k.informers.seed(DEPLOYMENTS, dep).seed(REPLICASETS, rs).seed(STATEFULSETS, sts);
    k.informers.seed(PODS, ready("a", { owner: rs }), ready("b", { owner: rs }), ready("db-0", { owner: sts, ownerKind: "StatefulSet" }));
    await k.c.sync("default/web");
    // expected = 4 + 3 = 7, maxUnavailable = ceil(3.5) = 4, desired = 3; healthy 3 -> 0 allowed.
    expect(k.writer.writes("updateStatus", "poddisruptionbudgets")[0]?.object?.["status"]).toMatchObject({ expectedPods: 7, desiredHealthy: 3, currentHealthy: 3, disruptionsAllowed: 0 });
  });

  it("a pod without a usable controller fails safe with SyncFailed and a warning", async () => {
    const k = setup(budget({ maxUnavailable: 1 }, { disruptionsAllowed: 2 }));
    k.informers.seed(PODS, ready("bare"));
    await k.c.sync("default/web");
    const st = k.writer.writes("updateStatus", "poddisruptionbudgets")[0]?.object?.["status"] as { disruptionsAllowed: number; conditions: unknown[] };
    expect(st.disruptionsAllowed).toBe(0);
    expect(st.conditions[0]).toMatchObject({ reason: "SyncFailed", message: 'found no controller ref for pod "bare"' });
    expect(k.recorder.events).toContain('Warning CalculateExpectedPodCountFailed Failed to calculate the number of expected pods: found no controller ref for pod "bare"');
  });

  it("keeps recent disruptions, drops finished ones, and requeues for the expiry", async () => {
    const k = setup(budget({ minAvailable: 1 }, { disruptedPods: { a: "2023-12-31T23:59:30Z", gone: "2023-12-31T23:59:30Z" } }));
    k.informers.seed(PODS, ready("a"), ready("b"), ready("c"));
    expect(await k.c.sync("default/web")).toEqual({ requeueAfterMs: 90_000 });
    expect(k.writer.writes("updateStatus", "poddisruptionbudgets")[0]?.object?.["status"]).toMatchObject({ disruptedPods: { a: "2023-12-31T23:59:30Z" }, currentHealthy: 2, disruptionsAllowed: 1 });
  });

  it("pod events enqueue the matching budgets; replica changes enqueue the namespace's budgets", () => {
    const k = setup(budget({ minAvailable: 1 }));
    k.informers.add(PODS, pod("x", { labels: { app: "db" } }));
    expect(k.queue.keys).toEqual([]);
    k.informers.add(PODS, ready("a"));
    expect(k.queue.keys).toEqual(["default/web"]);
    k.queue.clear();
    const rs: KubeObject = { apiVersion: "apps/v1", kind: "ReplicaSet", metadata: { name: "r", namespace: "default" }, spec: { replicas: 1 } };
    k.informers.add(REPLICASETS, rs);
    k.informers.add(REPLICASETS, { ...rs, spec: { replicas: 1 }, metadata: { ...rs.metadata, labels: { a: "b" } } });
    expect(k.queue.keys).toEqual([]);
    k.informers.add(REPLICASETS, { ...rs, spec: { replicas: 2 } });
    expect(k.queue.keys).toEqual(["default/web"]);
  });

  it("an invalid selector fails safe", async () => {
    const k = setup(budget({ minAvailable: 1, selector: { matchExpressions: [{ key: "a", operator: "Gt", values: ["1"] }] } }));
    await k.c.sync("default/web");
    const st = k.writer.writes("updateStatus", "poddisruptionbudgets")[0]?.object?.["status"] as { conditions: Array<{ message: string }> };
    expect(st.conditions[0]?.message).toBe('invalid selector: "Gt" is not a valid label selector operator');
  });
});
