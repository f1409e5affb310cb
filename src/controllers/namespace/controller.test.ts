import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../api/object.ts";
import { NAMESPACES, PODS } from "../framework/resources.ts";
import { fakeKit, pod } from "../framework/testing.ts";
import { ApiError } from "../../api/errors.ts";
import type { ObjectWriter } from "../framework/writer.ts";
import { StaticDiscovery, type DiscoveredResource } from "../garbagecollector/discovery.ts";
import { deletableNamespaced, deletionConditions, NamespaceController, namespacedResources } from "./controller.ts";

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

  describe("with discovery", () => {
    const VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];
    const d = (group: string, version: string, plural: string, kind: string, namespaced = true, verbs = VERBS): DiscoveredResource => ({ group, version, plural, kind, namespaced, verbs });
    const CRONTABS = d("stable.example.com", "v1", "crontabs", "CronTab");

    /** Custom resources: `left` answers lists; `fail` makes every call throw it. */
    class CrWriter implements ObjectWriter {
      readonly calls: string[] = [];
      left: KubeObject[] = [];
      fail: Error | undefined;
      private go(s: string): void { this.calls.push(s); if (this.fail) throw this.fail; }
      async create<T extends KubeObject>(_r: unknown, o: T): Promise<T> { return o; }
      async update<T extends KubeObject>(_r: unknown, o: T): Promise<T> { return o; }
      async updateStatus<T extends KubeObject>(_r: unknown, o: T): Promise<T> { return o; }
      async patch<T extends KubeObject>(): Promise<T> { return {} as T; }
      async delete(r: { kind: string }, ns: string, name: string): Promise<void> { this.go(`delete ${r.kind} ${ns}/${name}`); }
      async updateSubresource<T extends KubeObject>(_r: unknown, o: T): Promise<T> { return o; }
      async deleteCollection(r: { kind: string }, ns: string): Promise<void> { this.go(`deleteCollection ${r.kind} ${ns}`); }
      async list<T extends KubeObject>(r: { kind: string }, ns: string): Promise<T[]> { this.go(`list ${r.kind} ${ns}`); return this.left as T[]; }
      async get<T extends KubeObject>(): Promise<T | undefined> { return undefined; }
    }

    function dsetup(list: DiscoveredResource[]) {
      const k = fakeKit();
      const discovery = new StaticDiscovery(list);
      const cr = new CrWriter();
      const c = new NamespaceController(k.ctx, k.queue, undefined, { discovery, writer: cr });
      k.informers.seed(NAMESPACES, ns(true));
      k.writer.seed(NAMESPACES, ns(true));
      return { ...k, c, cr, discovery };
    }

    it("deletableNamespaced: namespaced, listable and deletable, preferred version", () => {
      const got = deletableNamespaced([
        d("", "v1", "pods", "Pod"), d("", "v1", "nodes", "Node", false), d("", "v1", "bindings", "Binding", true, ["create"]),
        d("stable.example.com", "v2", "crontabs", "CronTab"), CRONTABS, d("x.io", "v1", "onlydelete", "OnlyDelete", true, ["delete", "list"]),
      ]);
      expect(got.map((r) => `${r.version}/${r.plural}`)).toEqual(["v1/pods", "v2/crontabs", "v1/onlydelete"]);
    });

    it("empties custom resources through the dynamic writer and built-ins through the context writer", async () => {
      const k = dsetup([d("", "v1", "pods", "Pod"), CRONTABS]);
      await k.c.sync("team");
      expect(k.writer.summary()).toEqual(["deleteCollection pods team/", "updateStatus namespaces team", "updateSubresource namespaces/finalize team"]);
      expect(k.cr.calls).toEqual(["deleteCollection CronTab team", "list CronTab team"]);
    });

    it("remaining custom resources hold the namespace; resources without deletecollection are deleted one by one", async () => {
      const k = dsetup([{ ...CRONTABS, verbs: ["delete", "get", "list"] }]);
      k.cr.left = [{ metadata: { name: "held", namespace: "team", finalizers: ["x/y"] } }];
      expect(await k.c.sync("team")).toEqual({ requeueAfterMs: 5000 });
      expect(k.cr.calls).toEqual(["list CronTab team", "delete CronTab team/held", "list CronTab team"]);
      const status = k.writer.writes("updateStatus", "namespaces")[0]?.object?.["status"] as { conditions: Array<{ type: string; message: string }> };
      expect(status.conditions.find((c) => c.type === "NamespaceContentRemaining")?.message).toBe("Some resources are remaining: CronTab has 1 resource instances");
    });

    it("a 404 (the CRD went away) counts as empty and invalidates discovery; other errors are failures", async () => {
      const k = dsetup([CRONTABS]);
      k.cr.fail = new ApiError(404, "NotFound", "the server could not find the requested resource", {});
      await k.c.sync("team");
      expect(k.discovery.invalidations).toBe(1);
      expect(k.writer.summary().at(-1)).toBe("updateSubresource namespaces/finalize team");
      const k2 = dsetup([CRONTABS]);
      k2.cr.fail = new ApiError(500, "InternalError", "boom", {});
      await expect(k2.c.sync("team")).rejects.toThrow("namespace team: CronTab: boom");
      expect(k2.writer.writes("updateSubresource", "namespaces")).toEqual([]);
    });

    it("a discovery failure fails the sync before anything is finalized", async () => {
      const k = dsetup([]);
      k.discovery.resources = async () => { throw new Error("discovery down"); };
      await expect(k.c.sync("team")).rejects.toThrow("discovery down");
      expect(k.writer.calls).toEqual([]);
    });
  });
});
