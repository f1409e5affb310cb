import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../api/object.ts";
import { DEPLOYMENTS, PODS, REPLICASETS } from "../framework/resources.ts";
import { fakeKit, pod } from "../framework/testing.ts";
import { GarbageCollector, gcKey } from "./controller.ts";

function rs(name: string, extra: { owner?: KubeObject; deleting?: boolean; finalizers?: string[] } = {}): KubeObject {
  return {
    apiVersion: "apps/v1", kind: "ReplicaSet",
    metadata: {
      name, namespace: "default", uid: `uid-${name}`, resourceVersion: "3",
      ...(extra.owner ? { ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name: extra.owner.metadata?.name ?? "", uid: extra.owner.metadata?.uid ?? "", controller: true, blockOwnerDeletion: true }] } : {}),
      ...(extra.deleting ? { deletionTimestamp: "2024-01-01T00:00:00Z" } : {}),
      ...(extra.finalizers ? { finalizers: extra.finalizers } : {}),
    },
  };
}

const dep = (finalizers?: string[]): KubeObject => ({
  apiVersion: "apps/v1", kind: "Deployment",
  metadata: { name: "web", namespace: "default", uid: "uid-web", resourceVersion: "2", ...(finalizers ? { finalizers, deletionTimestamp: "2024-01-01T00:00:00Z" } : {}) },
});

function setup() {
  const k = fakeKit();
  const gc = new GarbageCollector(k.ctx, k.queue);
  return { ...k, gc };
}

describe("garbage collector", () => {
  it("Background: a dependent whose owner is gone (confirmed live) is deleted with uid precondition", async () => {
    const k = setup();
    const r = rs("web-1", { owner: dep() });
    k.informers.seed(REPLICASETS, r);
    await k.gc.sync(gcKey(REPLICASETS, r));
    expect(k.writer.calls.find((c) => c.verb === "get")?.name).toBe("web");
    expect(k.writer.writes("delete", "replicasets")[0]?.options).toEqual({ propagationPolicy: "Background", preconditions: { uid: "uid-web-1" } });
  });

  it("keeps a dependent whose owner exists (in the cache or only live)", async () => {
    const k = setup();
    const d = dep();
    const r = rs("web-1", { owner: d });
    k.informers.seed(REPLICASETS, r);
    k.writer.seed(DEPLOYMENTS, d);
    await k.gc.sync(gcKey(REPLICASETS, r));
    expect(k.writer.summary()).toEqual([]);
    k.informers.seed(DEPLOYMENTS, d);
    k.writer.reset();
    await k.gc.sync(gcKey(REPLICASETS, r));
    expect(k.writer.calls).toEqual([]); // no live read needed
  });

  it("the owner's DELETE event enqueues its dependents", () => {
    const k = setup();
    const d = dep();
    k.informers.seed(DEPLOYMENTS, d);
    const r = rs("web-1", { owner: d });
    k.informers.seed(REPLICASETS, r);
    k.informers.remove(DEPLOYMENTS, d);
    expect(k.queue.keys).toContain(gcKey(REPLICASETS, r));
  });

  it("Orphan: removes the owner reference from dependents, then the orphan finalizer", async () => {
    const k = setup();
    const d = dep(["orphan"]);
    const r = rs("web-1", { owner: d });
    k.informers.seed(DEPLOYMENTS, d).seed(REPLICASETS, r);
    k.writer.seed(DEPLOYMENTS, d).seed(REPLICASETS, r);
    await k.gc.sync(gcKey(DEPLOYMENTS, d));
    expect(k.writer.summary()).toEqual(["patch replicasets default/web-1", "patch deployments default/web"]);
    expect(k.writer.stored(REPLICASETS, "default", "web-1")?.metadata?.ownerReferences).toBeUndefined();
    expect(k.writer.stored(DEPLOYMENTS, "default", "web")?.metadata?.finalizers).toBeUndefined();
  });

  it("Foreground: dependents are deleted (foreground when they have dependents), then the finalizer goes", async () => {
    const k = setup();
    const d = dep(["foregroundDeletion"]);
    const r = rs("web-1", { owner: d });
    const p = pod("web-1-a", { owner: r });
    k.informers.seed(DEPLOYMENTS, d).seed(REPLICASETS, r).seed(PODS, p);
    k.writer.seed(DEPLOYMENTS, d);
    await k.gc.sync(gcKey(DEPLOYMENTS, d));
    expect(k.writer.summary()).toEqual([]); // waits: the RS is enqueued
    expect(k.queue.keys).toContain(gcKey(REPLICASETS, r));
    await k.gc.sync(gcKey(REPLICASETS, r));
    expect(k.writer.writes("delete", "replicasets")[0]?.options?.propagationPolicy).toBe("Foreground");
    // The RS (and its pod) are gone: the deployment's finalizer is removed.
    k.informers.replace(REPLICASETS, []).replace(PODS, []);
    await k.gc.sync(gcKey(DEPLOYMENTS, d));
    expect(k.writer.summary().at(-1)).toBe("patch deployments default/web");
    expect(k.writer.writes("patch", "deployments")[0]?.patch).toEqual({ metadata: { finalizers: null, resourceVersion: "2" } });
  });

  it("removes references to gone owners while another owner holds on", async () => {
    const k = setup();
    const d = dep();
    const cm: KubeObject = {
      apiVersion: "v1", kind: "ConfigMap",
      metadata: { name: "cm", namespace: "default", uid: "uid-cm", resourceVersion: "4", ownerReferences: [
        { apiVersion: "apps/v1", kind: "Deployment", name: "web", uid: "uid-web" },
        { apiVersion: "apps/v1", kind: "Deployment", name: "gone", uid: "uid-gone" },
      ] },
    };
    k.informers.seed(DEPLOYMENTS, d).seed({ apiVersion: "v1", kind: "ConfigMap" }, cm);
    k.writer.seed({ apiVersion: "v1", kind: "ConfigMap" }, cm);
    await k.gc.sync(gcKey({ apiVersion: "v1", kind: "ConfigMap" }, cm));
    expect(k.writer.calls.filter((c) => c.verb === "patch").map((c) => c.patch)).toEqual([
      { metadata: { ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name: "web", uid: "uid-web" }], resourceVersion: "4" } },
    ]);
  });

  it("never deletes for an owner of an unknown kind, and ignores malformed keys", async () => {
    const k = setup();
    const r: KubeObject = { ...rs("x"), metadata: { ...rs("x").metadata, ownerReferences: [{ apiVersion: "example.com/v1", kind: "Widget", name: "w", uid: "uid-w" }] } };
    k.informers.seed(REPLICASETS, r);
    await k.gc.sync(gcKey(REPLICASETS, r));
    await k.gc.sync("garbage");
    expect(k.writer.calls).toEqual([]);
  });
});
