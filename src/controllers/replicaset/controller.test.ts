import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../api/object.ts";
import { ApiError } from "../../api/errors.ts";
import { PODS, REPLICASETS } from "../framework/resources.ts";
import { fakeKit, pod } from "../framework/testing.ts";
import { ReplicaSetController } from "./controller.ts";

function replicaSet(name: string, replicas: number, extra: Partial<{ uid: string; deleting: boolean; selector: unknown; minReadySeconds: number }> = {}): KubeObject {
  return {
    apiVersion: "apps/v1", kind: "ReplicaSet",
    metadata: { name, namespace: "default", uid: extra.uid ?? `uid-${name}`, resourceVersion: "5", generation: 1, ...(extra.deleting ? { deletionTimestamp: "2024-01-01T00:00:00Z" } : {}) },
    spec: {
      replicas, selector: extra.selector ?? { matchLabels: { app: "web" } },
      ...(extra.minReadySeconds ? { minReadySeconds: extra.minReadySeconds } : {}),
      template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "c", image: "nginx" }] } },
    },
  };
}

function setup(rs: KubeObject, pods: KubeObject[] = []) {
  const kit = fakeKit();
  const c = new ReplicaSetController(kit.ctx, kit.queue);
  kit.informers.seed(REPLICASETS, rs);
  kit.writer.seed(REPLICASETS, rs);
  for (const p of pods) {
    kit.informers.seed(PODS, p);
    kit.writer.seed(PODS, p);
  }
  return { ...kit, c };
}

describe("ReplicaSet controller sync", () => {
  it("creates missing pods in slow-start batches, named from generateName, and writes the status", async () => {
    const rs = replicaSet("web-1", 3);
    const k = setup(rs);
    await k.c.sync("default/web-1");
    const creates = k.writer.writes("create", "pods");
    expect(creates).toHaveLength(3);
    expect(creates.every((c) => c.object?.metadata?.generateName === "web-1-")).toBe(true);
    expect(creates[0]?.object?.metadata?.ownerReferences).toEqual([{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "web-1", uid: "uid-web-1", controller: true, blockOwnerDeletion: true }]);
    expect(k.recorder.events.filter((e) => e.startsWith("Normal SuccessfulCreate Created pod: web-1-"))).toHaveLength(3);
    // status from the (still empty) cache; the creations are expected, not yet observed
    expect(k.writer.writes("updateStatus", "replicasets")).toHaveLength(1);
    expect(k.c.expectations.pending("default/web-1")).toEqual({ adds: 3, deletes: 0 });
  });

  it("does not create again while its own creations are in flight (expectations)", async () => {
    const k = setup(replicaSet("web-1", 2));
    await k.c.sync("default/web-1");
    k.writer.reset();
    await k.c.sync("default/web-1");
    expect(k.writer.writes("create", "pods")).toHaveLength(0);
    // observing the creations through the informer releases the key
    for (const name of ["web-1-a", "web-1-b"]) k.informers.add(PODS, pod(name, { labels: { app: "web" }, owner: k.informers.lister(REPLICASETS).get("default/web-1")! }));
    expect(k.c.expectations.satisfied("default/web-1", Date.now())).toBe(true);
    expect(k.queue.keys).toContain("default/web-1");
  });

  it("deletes the surplus, unscheduled and newest first", async () => {
    const rs = replicaSet("web-1", 1);
    const pods = [
      pod("p-old", { labels: { app: "web" }, owner: rs, node: "n1", phase: "Running", ready: true }),
      pod("p-pending", { labels: { app: "web" }, owner: rs }),
      pod("p-new", { labels: { app: "web" }, owner: rs, node: "n1", phase: "Running", ready: true, created: "2024-02-01T00:00:00Z" }),
    ];
    const k = setup(rs, pods);
    await k.c.sync("default/web-1");
    expect(k.writer.summary().filter((s) => s.startsWith("delete"))).toEqual(["delete pods default/p-pending", "delete pods default/p-new"]);
    expect(k.recorder.events).toContain("Normal SuccessfulDelete Deleted pod: p-new");
  });

  it("adopts matching orphans after a live check of the owner and releases pods that stopped matching", async () => {
    const rs = replicaSet("web-1", 2);
    const orphan = pod("orphan", { labels: { app: "web" } });
    const stray = pod("stray", { labels: { app: "other" }, owner: rs });
    const foreign = pod("foreign", { labels: { app: "web" }, owner: replicaSet("x", 1, { uid: "other-uid" }) });
    const k = setup(rs, [orphan, stray, foreign]);
    await k.c.sync("default/web-1");
    const patches = k.writer.writes("patch", "pods");
    expect(patches.map((p) => p.name).sort()).toEqual(["orphan", "stray"]);
    expect(k.writer.calls.some((c) => c.verb === "get" && c.resource === "replicasets")).toBe(true);
    const adopted = k.writer.stored(PODS, "default", "orphan");
    expect(adopted?.metadata?.ownerReferences?.[0]?.uid).toBe("uid-web-1");
    expect(k.writer.stored(PODS, "default", "stray")?.metadata?.ownerReferences).toBeUndefined();
    // orphan adopted (1 owned) -> one more pod to create
    expect(k.writer.writes("create", "pods")).toHaveLength(1);
  });

  it("does not adopt for an owner being deleted and does not manage replicas then", async () => {
    const rs = replicaSet("web-1", 3, { deleting: true });
    const k = setup(rs, [pod("orphan", { labels: { app: "web" } })]);
    await k.c.sync("default/web-1");
    expect(k.writer.summary()).toEqual(["updateStatus replicasets default/web-1"]);
  });

  it("records ReplicaFailure and a FailedCreate event, and stops after the first failing batch", async () => {
    const k = setup(replicaSet("web-1", 8));
    k.writer.reactors.push((c) => (c.verb === "create" && c.resource === "pods" ? new ApiError(403, "Forbidden", "pods is forbidden: quota") : undefined));
    await expect(k.c.sync("default/web-1")).rejects.toThrow("pods is forbidden: quota");
    expect(k.writer.calls.filter((c) => c.verb === "create")).toHaveLength(1); // batch of 1 failed: no 2, 4, ...
    expect(k.recorder.events).toEqual(["Warning FailedCreate Error creating: pods is forbidden: quota"]);
    const st = k.writer.writes("updateStatus", "replicasets")[0]?.object?.["status"] as { conditions?: Array<{ type: string; reason: string }> };
    expect(st.conditions?.[0]).toMatchObject({ type: "ReplicaFailure", reason: "FailedCreate" });
    expect(k.c.expectations.satisfied("default/web-1", Date.now())).toBe(true);
  });

  it("meets an invalid selector with a Warning event and no writes", async () => {
    const k = setup(replicaSet("bad", 1, { selector: { matchExpressions: [{ key: "app", operator: "Gt", values: ["1"] }] } }));
    await k.c.sync("default/bad");
    expect(k.writer.summary()).toEqual([]);
    expect(k.recorder.events[0]).toMatch(/^Warning InvalidSelector invalid selector: "Gt" is not a valid label selector operator/);
  });

  it("forgets a deleted RS", async () => {
    const k = setup(replicaSet("web-1", 1));
    await k.c.sync("default/web-1");
    await k.c.sync("default/gone");
    expect(k.writer.calls.filter((c) => c.name === "gone")).toEqual([]);
  });

  it("requeues after minReadySeconds while ready pods are not yet available", async () => {
    const rs = replicaSet("web-1", 1, { minReadySeconds: 30 });
    const k = setup(rs, [pod("p", { labels: { app: "web" }, owner: rs, ready: true, readySince: "2024-01-01T00:00:00Z" })]);
    expect(await k.c.sync("default/web-1")).toEqual({ requeueAfterMs: 30_000 });
  });

  it("handlers only enqueue: orphan pods enqueue matching RSs, owned pods their owner", () => {
    const rs = replicaSet("web-1", 1);
    const k = setup(rs);
    k.informers.add(PODS, pod("o", { labels: { app: "web" } }));
    k.informers.add(PODS, pod("n", { labels: { app: "nope" } }));
    expect(k.queue.keys).toEqual(["default/web-1"]);
    expect(k.writer.calls).toEqual([]);
  });
});
