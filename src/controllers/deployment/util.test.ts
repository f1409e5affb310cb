import { describe, expect, it } from "vitest";
import type { Deployment, ReplicaSet } from "../../api/generated/apps_v1.ts";
import { canonicalJson, computeHash, equalIgnoreHash, fnv32a, safeEncodeString } from "./hash.ts";
import {
  calculateStatus, deploymentTimedOut, maxScaledDown, maxSurge, maxUnavailable, newReplicaSetAnnotations, newRSNewReplicas,
  planCleanupUnhealthy, planProportionalScale, planScaleDownOld, replicaSetsToCleanUp, resolveFenceposts, scaledValue,
} from "./util.ts";

function dep(replicas: number, surge: number | string = "25%", unavailable: number | string = "25%", extra: Partial<Deployment["spec"]> = {}): Deployment {
  return { metadata: { name: "web", namespace: "default", uid: "d-uid", generation: 1 }, spec: { replicas, strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: surge, maxUnavailable: unavailable } }, ...extra } };
}

function rs(name: string, replicas: number, available = 0, extra: { created?: string; revision?: number; max?: number; statusReplicas?: number } = {}): ReplicaSet {
  return {
    metadata: {
      name, uid: `uid-${name}`, creationTimestamp: extra.created ?? "2024-01-01T00:00:00Z", generation: 1,
      annotations: {
        ...(extra.revision !== undefined ? { "deployment.kubernetes.io/revision": String(extra.revision) } : {}),
        ...(extra.max !== undefined ? { "deployment.kubernetes.io/max-replicas": String(extra.max) } : {}),
      },
    },
    spec: { replicas },
    status: { replicas: extra.statusReplicas ?? replicas, availableReplicas: available, readyReplicas: available, observedGeneration: 1 },
  };
}

describe("fenceposts", () => {
  it.each([
    // [replicas, surge, unavailable, want surge, want unavailable]
    [3, "25%", "25%", 1, 0],
    [10, "25%", "25%", 3, 2],
    [4, "25%", "25%", 1, 1],
    [5, 0, 0, 0, 1],
    [5, "0%", "0%", 0, 1],
    [10, 2, "50%", 2, 5],
    [1, "100%", 0, 1, 0],
  ] as const)("replicas %i surge %s unavailable %s -> %i/%i", (n, s, u, ws, wu) => {
    expect(resolveFenceposts(s, u, n)).toEqual([ws, wu]);
  });
  it("rejects malformed percentages", () => {
    expect(() => scaledValue("abc", 10, true)).toThrow(/not a percentage/);
  });
  it("Recreate has no surge and no unavailability budget; unavailability is capped by replicas", () => {
    expect(maxSurge({ spec: { replicas: 3, strategy: { type: "Recreate" } } })).toBe(0);
    expect(maxUnavailable(dep(2, 0, 5))).toBe(2);
    expect(maxUnavailable(dep(0))).toBe(0);
  });
});

describe("pod-template-hash", () => {
  it("FNV-32a matches the reference vectors", () => {
    expect(fnv32a(new TextEncoder().encode(""))).toBe(0x811c9dc5);
    expect(fnv32a(new TextEncoder().encode("a"))).toBe(0xe40c292c);
    expect(fnv32a(new TextEncoder().encode("foobar"))).toBe(0xbf9cf968);
  });
  it("safe-encodes into consonants and safe digits", () => {
    expect(safeEncodeString("0123456789")).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{10}$/);
    expect(safeEncodeString("0")).toBe("bcdfghjklmnpqrstvwxz2456789"[48 % 27]);
  });
  it("is stable under key order and empty fields, and changes with the template and the collision count", () => {
    const a = { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "c", image: "nginx" }] } };
    const b = { spec: { containers: [{ image: "nginx", name: "c", ports: [] }] }, metadata: { labels: { app: "web" }, annotations: {} } };
    expect(canonicalJson(a)).toBe(canonicalJson(b));
    expect(computeHash(a, undefined)).toBe(computeHash(b, undefined));
    expect(computeHash(a, undefined)).not.toBe(computeHash({ ...a, spec: { containers: [{ name: "c", image: "nginx:2" }] } }, undefined));
    expect(computeHash(a, 1)).not.toBe(computeHash(a, undefined));
    expect(computeHash(a, 1)).not.toBe(computeHash(a, 2));
    expect(computeHash(a, undefined)).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
  });
  it("equalIgnoreHash ignores only the pod-template-hash label", () => {
    const t = { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "c", image: "nginx" }] } };
    expect(equalIgnoreHash(t, { ...t, metadata: { labels: { app: "web", "pod-template-hash": "abc" } } })).toBe(true);
    expect(equalIgnoreHash(t, { ...t, metadata: { labels: { app: "web2" } } })).toBe(false);
  });
});

describe("newRSNewReplicas", () => {
  it.each([
    ["first rollout: surge above zero", dep(3), [rs("new", 0)], 3],
    ["set image on 3: one surge pod", dep(3), [rs("old", 3, 3), rs("new", 0)], 1],
    ["at the surge limit: no growth", dep(3), [rs("old", 3, 3), rs("new", 1)], 1],
    ["10 replicas, surge 3", dep(10), [rs("old", 10, 10), rs("new", 0)], 3],
    ["never beyond replicas", dep(3, 10), [rs("old", 1, 1), rs("new", 2)], 3],
  ])("%s", (_n, d, all, want) => {
    expect(newRSNewReplicas(d, all, all.at(-1)!)).toBe(want);
  });
  it("Recreate wants the full size", () => {
    expect(newRSNewReplicas({ spec: { replicas: 4, strategy: { type: "Recreate" } } }, [rs("new", 0)], rs("new", 0))).toBe(4);
  });
});

describe("scaling old replica sets down", () => {
  it("no budget while nothing is available (maxUnavailable 0)", () => {
    const all = [rs("old", 3, 0), rs("new", 1, 0)];
    expect(maxScaledDown(dep(3), all, all[1])).toBeLessThanOrEqual(0);
  });
  it("unhealthy replicas go first, within the budget", () => {
    expect([...planCleanupUnhealthy([rs("a", 3, 1), rs("b", 2, 2)], 5)]).toEqual([["a", 1]]);
    expect([...planCleanupUnhealthy([rs("a", 3, 0)], 1)]).toEqual([["a", 2]]);
  });
  it("available replicas above minAvailable go, oldest first", () => {
    const old = [rs("b", 2, 2, { created: "2024-01-02T00:00:00Z" }), rs("a", 2, 2)];
    const all = [...old, rs("new", 2, 2)];
    // replicas 4, maxUnavailable 1 -> minAvailable 3; available 6 -> 3 may go: a -> 0, b -> 1
    expect([...planScaleDownOld(dep(4, 1, 1), all, old)]).toEqual([["a", 0], ["b", 1]]);
  });
});

describe("proportional scaling", () => {
  it("spreads a scale-up over active RSs by size", () => {
    // 10 -> 20 mid-rollout (surge 3 -> 5): old 8 + new 5 = 13; allowed 25
    const d = dep(20);
    const plan = planProportionalScale(d, [rs("old", 8, 8, { max: 13 }), rs("new", 5, 0, { max: 13, created: "2024-01-02T00:00:00Z" })]);
    expect((plan.get("old") ?? 0) + (plan.get("new") ?? 0)).toBe(25);
    expect(plan.get("old")).toBeGreaterThan(plan.get("new") ?? 0);
  });
  it("scales everything to zero for replicas 0", () => {
    const plan = planProportionalScale(dep(0), [rs("a", 2, 0, { max: 4 }), rs("b", 2, 0, { max: 4 })]);
    expect([...plan.values()]).toEqual([0, 0]);
  });
});

describe("annotations", () => {
  it("a new RS gets the revision and desired/max replicas; bookkeeping annotations are not copied", () => {
    const d = { ...dep(3), metadata: { ...dep(3).metadata, annotations: { "kubernetes.io/change-cause": "x", "deployment.kubernetes.io/revision": "7" } } };
    expect(newReplicaSetAnnotations(d, rs("n", 0), 2, false).annotations).toEqual({
      "kubernetes.io/change-cause": "x", "deployment.kubernetes.io/revision": "2",
      "deployment.kubernetes.io/desired-replicas": "3", "deployment.kubernetes.io/max-replicas": "4",
    });
  });
  it("a rollback to an old RS raises its revision and records the old one in revision-history", () => {
    const first = newReplicaSetAnnotations(dep(3), rs("a", 0, 0, { revision: 1 }), 3, true).annotations;
    expect(first["deployment.kubernetes.io/revision"]).toBe("3");
    expect(first["deployment.kubernetes.io/revision-history"]).toBe("1");
    const again = newReplicaSetAnnotations(dep(3), { metadata: { annotations: first } }, 5, true).annotations;
    expect(again["deployment.kubernetes.io/revision-history"]).toBe("1,3");
  });
  it("does not lower a revision", () => {
    expect(newReplicaSetAnnotations(dep(3), rs("a", 0, 0, { revision: 9 }), 3, true).changed).toBe(false);
  });
});

describe("status", () => {
  it("adds up the RSs and sets Available", () => {
    const s = calculateStatus(dep(3), [rs("old", 3, 3), rs("new", 1, 0)], rs("new", 1, 0), "2024-01-01T00:00:00Z");
    expect(s).toMatchObject({ observedGeneration: 1, replicas: 4, updatedReplicas: 1, readyReplicas: 3, availableReplicas: 3, unavailableReplicas: 1 });
    expect(s.conditions).toEqual([{ type: "Available", status: "True", reason: "MinimumReplicasAvailable", message: "Deployment has minimum availability.", lastUpdateTime: "2024-01-01T00:00:00Z", lastTransitionTime: "2024-01-01T00:00:00Z" }]);
    const none = calculateStatus(dep(3), [rs("new", 3, 0)], rs("new", 3, 0), "t");
    expect(none.conditions?.[0]).toMatchObject({ status: "False", reason: "MinimumReplicasUnavailable" });
  });
  it("times out after progressDeadlineSeconds without progress", () => {
    const d = dep(3, "25%", "25%", { progressDeadlineSeconds: 60 });
    const s = { conditions: [{ type: "Progressing", status: "True", reason: "ReplicaSetUpdated", lastUpdateTime: "2024-01-01T00:00:00Z" }] };
    expect(deploymentTimedOut(d, s, Date.parse("2024-01-01T00:00:59Z"))).toBe(false);
    expect(deploymentTimedOut(d, s, Date.parse("2024-01-01T00:01:01Z"))).toBe(true);
  });
  it("revisionHistoryLimit cleans the lowest settled revisions only", () => {
    const d = dep(3, "25%", "25%", { revisionHistoryLimit: 1 });
    const old = [rs("r1", 0, 0, { revision: 1 }), rs("r2", 0, 0, { revision: 2 }), rs("r3", 1, 0, { revision: 3 })];
    expect(replicaSetsToCleanUp(d, old).map((r) => r.metadata?.name)).toEqual(["r1", "r2"]);
    expect(replicaSetsToCleanUp(dep(3, "25%", "25%", { revisionHistoryLimit: 5 }), old)).toEqual([]);
  });
});
