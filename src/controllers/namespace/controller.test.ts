import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../api/object.ts";
import { NAMESPACES, PODS } from "../framework/resources.ts";
import { fakeKit, pod } from "../framework/testing.ts";
import { deletionConditions, NamespaceController, namespacedResources } from "./controller.ts";

const CM = { apiVersion: "v1", kind: "ConfigMap" };
const ns = (deleting: boolean): KubeObject => ({
  apiVersion: "v1", kind: "Namespace",
  metadata: { name: "team", uid: "uid-team", resourceVersion: "1", ...(deleting ? { deletionTimestamp: "2024-01-01T00:00:00Z" } : {}) },
  spec: { finalizers: ["kubernetes"] }, status: { phase: deleting ? "Terminating" : "Active" },
});

function setup(n: KubeObject, content: Array<[typeof CM, KubeObject]>) {
  const k = fakeKit();
  const c = new NamespaceController(k.ctx, k.queue, [PODS, CM]);
  k.informers.seed(NAMESPACES, n);
  k.writer.seed(NAMESPACES, n);
  for (const [r, o] of content) k.writer.seed(r, o);
  return { ...k, c };
}

describe("namespace controller", () => {
  it("covers every namespaced built-in resource", () => {
    const kinds = namespacedResources().map((r) => r.kind);
    expect(kinds).toEqual(expect.arrayContaining(["Pod", "ConfigMap", "Deployment", "ReplicaSet", "Secret", "Service", "Event", "Lease"]));
    expect(kinds).not.toContain("Namespace");
    expect(kinds).not.toContain("Node");
  });

  it("deletes the content of a terminating namespace, then removes the kubernetes finalizer via finalize", async () => {
    const k = setup(ns(true), [[PODS, pod("a", { ns: "team" })], [CM, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace: "team" } }]]);
    await k.c.sync("team");
    expect(k.writer.summary()).toEqual([
      "deleteCollection pods team/", "deleteCollection configmaps team/", "updateStatus namespaces team", "updateSubresource namespaces/finalize team",
    ]);
    expect(k.writer.writes("updateSubresource", "namespaces")[0]?.object?.["spec"]).toEqual({ finalizers: [] });
  });

  it("reports remaining content and requeues instead of finalizing", async () => {
    const k = setup(ns(true), [[CM, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "held", namespace: "team", finalizers: ["example.com/hold"] } }]]);
    expect(await k.c.sync("team")).toEqual({ requeueAfterMs: 5000 });
    const status = k.writer.writes("updateStatus", "namespaces")[0]?.object?.["status"] as { conditions: Array<{ type: string; status: string; message: string }> };
    expect(status.conditions.find((c) => c.type === "NamespaceContentRemaining")).toMatchObject({ status: "True", message: "Some resources are remaining: ConfigMap has 1 resource instances" });
    expect(k.writer.writes("updateSubresource", "namespaces")).toEqual([]);
  });

  it("leaves active namespaces alone; handlers enqueue only deleting ones", async () => {
    const k = setup(ns(false), []);
    await k.c.sync("team");
    expect(k.writer.calls).toEqual([]);
    k.informers.add(NAMESPACES, ns(false));
    expect(k.queue.keys).toEqual([]);
    k.informers.add(NAMESPACES, ns(true));
    expect(k.queue.keys).toEqual(["team"]);
  });

  it("deletionConditions names failures", () => {
    const c = deletionConditions(new Map(), ["Pod: boom"], "t");
    expect(c[0]).toMatchObject({ type: "NamespaceDeletionContentFailure", status: "True", message: "Failed to delete all resource types, 1 remaining: Pod: boom" });
  });
});
