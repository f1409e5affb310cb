import { describe, expect, it } from "vitest";
import type { ReplicaSet } from "../../api/generated/apps_v1.ts";
import { pod, T0 } from "../framework/testing.ts";
import { calculateStatus, podFromTemplate, podsToDelete, replicaDiff, slowStartBatches } from "./replicas.ts";

const rs: ReplicaSet = {
  apiVersion: "apps/v1", kind: "ReplicaSet",
  metadata: { name: "web-abc", namespace: "default", uid: "rs-uid", generation: 3 },
  spec: { replicas: 3, selector: { matchLabels: { app: "web" } }, template: { metadata: { labels: { app: "web", tier: "fe" }, annotations: { a: "1" } }, spec: { containers: [{ name: "c", image: "nginx" }] } } },
};

describe("slowStartBatches", () => {
  it.each([
    [0, []], [1, [1]], [3, [1, 2]], [5, [1, 2, 2]], [7, [1, 2, 4]], [10, [1, 2, 4, 3]], [16, [1, 2, 4, 8, 1]],
  ])("%i -> %j", (n, want) => {
    expect(slowStartBatches(n)).toEqual(want);
  });
});

describe("replicaDiff", () => {
  it.each([
    [3, 0, 3], [3, 5, -2], [3, 3, 0], [1000, 0, 500], [0, 900, -500],
  ])("replicas %i with %i active pods -> %i", (replicas, active, want) => {
    expect(replicaDiff({ spec: { replicas } }, active)).toBe(want);
  });
  it("defaults replicas to 1", () => {
    expect(replicaDiff({ spec: {} }, 0)).toBe(1);
  });
});

describe("podsToDelete", () => {
  const cases: Array<[string, ReturnType<typeof pod>[], number, string[]]> = [
    ["unscheduled before scheduled", [pod("a", { node: "n1", phase: "Running", ready: true }), pod("b")], 1, ["b"]],
    ["pending before running", [pod("a", { node: "n1", phase: "Running" }), pod("b", { node: "n1", phase: "Pending" })], 1, ["b"]],
    ["not ready before ready", [pod("a", { node: "n1", phase: "Running", ready: true }), pod("b", { node: "n2", phase: "Running", ready: false })], 1, ["b"]],
    ["newer before older", [pod("old", { created: "2024-01-01T00:00:00Z" }), pod("new", { created: "2024-01-02T00:00:00Z" })], 1, ["new"]],
    ["doubled-up node first", [pod("x", { node: "n1", phase: "Running", ready: true }), pod("y", { node: "n2", phase: "Running", ready: true }), pod("z", { node: "n2", phase: "Running", ready: true })], 1, ["y"]],
    ["all when count >= pods", [pod("a"), pod("b")], 5, ["a", "b"]],
  ];
  it.each(cases)("%s", (_name, pods, n, want) => {
    expect(podsToDelete(pods, pods, n).map((p) => p.metadata?.name)).toEqual(want);
  });
});

describe("calculateStatus", () => {
  const now = Date.parse(T0) + 60_000;
  it("counts replicas, fully labeled, ready and available", () => {
    const pods = [
      pod("a", { labels: { app: "web", tier: "fe" }, ready: true }),
      pod("b", { labels: { app: "web" }, ready: true }),
      pod("c", { labels: { app: "web", tier: "fe" }, ready: false }),
    ];
    expect(calculateStatus(rs, pods, undefined, now)).toEqual({ replicas: 3, fullyLabeledReplicas: 2, readyReplicas: 2, availableReplicas: 2, observedGeneration: 3 });
  });
  it("honors minReadySeconds", () => {
    const slow: ReplicaSet = { ...rs, spec: { ...rs.spec, minReadySeconds: 120 } };
    const pods = [pod("a", { ready: true, readySince: T0 }), pod("b", { ready: true, readySince: "2023-12-31T23:00:00Z" })];
    const s = calculateStatus(slow, pods, undefined, now);
    expect([s.readyReplicas, s.availableReplicas]).toEqual([2, 1]);
  });
  it("sets and clears ReplicaFailure", () => {
    const failed = calculateStatus(rs, [], { message: "pods is forbidden", creating: true }, now);
    expect(failed.conditions).toEqual([{ type: "ReplicaFailure", status: "True", lastTransitionTime: "2024-01-01T00:01:00Z", reason: "FailedCreate", message: "pods is forbidden" }]);
    const del = calculateStatus(rs, [], { message: "x", creating: false }, now);
    expect(del.conditions?.[0]?.reason).toBe("FailedDelete");
    expect(calculateStatus({ ...rs, status: failed }, [], undefined, now).conditions).toBeUndefined();
  });
});

describe("podFromTemplate", () => {
  it("copies labels/annotations/spec, sets generateName and the controller reference", () => {
    expect(podFromTemplate(rs, { apiVersion: "apps/v1", kind: "ReplicaSet" })).toEqual({
      apiVersion: "v1", kind: "Pod",
      metadata: {
        generateName: "web-abc-", namespace: "default", labels: { app: "web", tier: "fe" }, annotations: { a: "1" },
        ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "web-abc", uid: "rs-uid", controller: true, blockOwnerDeletion: true }],
      },
      spec: { containers: [{ name: "c", image: "nginx" }] },
    });
  });
});
