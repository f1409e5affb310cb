/** The collector with discovered (custom) resources: informers from discovery, CR dependents and owners. */
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../api/object.ts";
import type { ObjectWriter } from "../framework/writer.ts";
import { fakeKit } from "../framework/testing.ts";
import { collectableResources, DISCOVERY_KEY, GarbageCollector, gcKey } from "./controller.ts";
import { StaticDiscovery, type DiscoveredResource } from "./discovery.ts";
import { FakeDynamicInformers } from "./dynamic.ts";

const CRONTAB: DiscoveredResource = { group: "stable.example.com", version: "v1", plural: "crontabs", kind: "CronTab", namespaced: true, verbs: ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"] };
const CT = { apiVersion: "stable.example.com/v1", kind: "CronTab" };
const CM = { apiVersion: "v1", kind: "ConfigMap" };
const PODS_D: DiscoveredResource = { group: "", version: "v1", plural: "pods", kind: "Pod", namespaced: true, verbs: CRONTAB.verbs };

/** Records calls on custom resources; `objects` answers live GETs. */
class DynWriter implements ObjectWriter {
  readonly calls: string[] = [];
  readonly objects = new Map<string, KubeObject>();
  private rec(s: string): void { this.calls.push(s); }
  async create<T extends KubeObject>(_r: unknown, o: T): Promise<T> { this.rec("create"); return o; }
  async update<T extends KubeObject>(_r: unknown, o: T): Promise<T> { this.rec("update"); return o; }
  async updateStatus<T extends KubeObject>(_r: unknown, o: T): Promise<T> { this.rec("updateStatus"); return o; }
  async patch<T extends KubeObject>(r: { kind: string }, ns: string, name: string, patch: unknown): Promise<T> { this.rec(`patch ${r.kind} ${ns}/${name} ${JSON.stringify(patch)}`); return {} as T; }
  async delete(r: { kind: string }, ns: string, name: string, opts?: unknown): Promise<void> { this.rec(`delete ${r.kind} ${ns}/${name} ${JSON.stringify(opts)}`); }
  async updateSubresource<T extends KubeObject>(_r: unknown, o: T): Promise<T> { return o; }
  async deleteCollection(r: { kind: string }, ns: string): Promise<void> { this.rec(`deleteCollection ${r.kind} ${ns}`); }
  async list<T extends KubeObject>(): Promise<T[]> { return []; }
  async get<T extends KubeObject>(r: { kind: string }, ns: string, name: string): Promise<T | undefined> { this.rec(`get ${r.kind} ${ns}/${name}`); return this.objects.get(`${r.kind} ${ns}/${name}`) as T | undefined; }
}

const cm = (): KubeObject => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "owner", namespace: "default", uid: "uid-cm", resourceVersion: "5" } });
const ct = (name: string, owners: Array<{ apiVersion: string; kind: string; name: string; uid: string }> = []): KubeObject => ({
  apiVersion: "meta.k8s.io/v1", kind: "PartialObjectMetadata",
  metadata: { name, namespace: "default", uid: `uid-${name}`, resourceVersion: "7", ...(owners.length ? { ownerReferences: owners } : {}) },
});

function setup(list: DiscoveredResource[] = [CRONTAB, PODS_D]) {
  const k = fakeKit();
  const discovery = new StaticDiscovery(list);
  const informers = new FakeDynamicInformers();
  const writer = new DynWriter();
  const gc = new GarbageCollector(k.ctx, k.queue, undefined, { discovery, informers, writer });
  return { ...k, gc, discovery, dyn: informers, dynWriter: writer };
}

describe("garbage collector: discovered resources", () => {
  it("collectableResources: custom, deletable, preferred version only", () => {
    const v2 = { ...CRONTAB, version: "v2" };
    const ro = { ...CRONTAB, plural: "readonly", kind: "ReadOnly", verbs: ["get", "list", "watch"] };
    expect(collectableResources([v2, CRONTAB, PODS_D, ro]).map((d) => `${d.version}/${d.plural}`)).toEqual(["v2/crontabs"]);
  });

  it("the discovery key starts informers for new custom resources, requeues every 30 s, stops removed ones", async () => {
    const k = setup();
    expect(k.queue.keys).toContain(DISCOVERY_KEY);
    expect(await k.gc.sync(DISCOVERY_KEY)).toEqual({ requeueAfterMs: 30_000 });
    expect(k.dyn.ensured).toEqual(["stable.example.com/v1 CronTab"]); // pods stay on the shared informer
    await k.gc.sync(DISCOVERY_KEY);
    expect(k.dyn.ensured).toHaveLength(1);
    k.discovery.list = [PODS_D];
    await k.gc.sync(DISCOVERY_KEY);
    expect(k.dyn.resources()).toEqual([]);
  });

  it("a failing discovery is logged and retried in 5 s (never dropped)", async () => {
    const k = setup();
    k.discovery.resources = async () => { throw new Error("discovery down"); };
    expect(await k.gc.sync(DISCOVERY_KEY)).toEqual({ requeueAfterMs: 5_000 });
    expect(k.logs).toEqual(["garbagecollector: discovery: discovery down"]);
  });

  it("CRD events invalidate discovery and enqueue a refresh (now and 2 s later)", () => {
    const k = setup();
    k.queue.clear();
    k.informers.add({ apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition" }, { metadata: { name: "crontabs.stable.example.com", uid: "u" } });
    expect(k.queue.keys).toEqual([DISCOVERY_KEY]);
    expect(k.queue.delayed).toEqual([{ key: DISCOVERY_KEY, ms: 2_000 }]);
    expect(k.discovery.invalidations).toBe(1);
  });

  it("a CR owned by a deleted ConfigMap is enqueued by the owner's DELETE and deleted through the dynamic writer", async () => {
    const k = setup();
    await k.gc.sync(DISCOVERY_KEY);
    const owner = cm();
    k.informers.seed(CM, owner);
    const dep = ct("tab", [{ apiVersion: "v1", kind: "ConfigMap", name: "owner", uid: "uid-cm" }]);
    k.dyn.fake.add(CT, dep);
    expect(k.queue.keys).toContain(gcKey(CT, dep));
    k.queue.clear();
    k.informers.remove(CM, owner);
    expect(k.queue.keys).toEqual([gcKey(CT, dep)]);
    await k.gc.sync(gcKey(CT, dep));
    expect(k.writer.calls.map((c) => `${c.verb} ${c.name}`)).toEqual(["get owner"]); // live check of the built-in owner
    expect(k.dynWriter.calls).toEqual([`delete CronTab default/tab {"propagationPolicy":"Background","preconditions":{"uid":"uid-tab"}}`]);
  });

  it("a ConfigMap owned by a CR: the owner is found in the dynamic cache, else confirmed live through discovery", async () => {
    const k = setup();
    await k.gc.sync(DISCOVERY_KEY);
    const owner = ct("tab");
    const dep: KubeObject = { ...cm(), metadata: { ...cm().metadata, ownerReferences: [{ apiVersion: "stable.example.com/v1", kind: "CronTab", name: "tab", uid: "uid-tab" }] } };
    k.dyn.fake.add(CT, owner);
    k.informers.seed(CM, dep);
    await k.gc.sync(gcKey(CM, dep));
    expect(k.writer.calls).toEqual([]);
    expect(k.dynWriter.calls).toEqual([]);
    // Gone from the cache: a live GET of the custom resource decides (absent -> delete the ConfigMap).
    k.dyn.fake.remove(CT, owner);
    await k.gc.sync(gcKey(CM, dep));
    expect(k.dynWriter.calls).toEqual(["get CronTab default/tab"]);
    expect(k.writer.writes("delete", "configmaps")[0]?.options).toEqual({ propagationPolicy: "Background", preconditions: { uid: "uid-cm" } });
  });

  it("an owner of a kind discovery does not know is kept and triggers a discovery refresh", async () => {
    const k = setup();
    await k.gc.sync(DISCOVERY_KEY);
    k.queue.clear();
    const dep: KubeObject = { ...cm(), metadata: { ...cm().metadata, ownerReferences: [{ apiVersion: "new.example.com/v1", kind: "Fresh", name: "f", uid: "uid-f" }] } };
    k.informers.seed(CM, dep);
    await k.gc.sync(gcKey(CM, dep));
    expect(k.writer.calls).toEqual([]);
    expect(k.queue.keys).toEqual([DISCOVERY_KEY]);
    expect(k.discovery.invalidations).toBe(1);
  });

  it("orphan deletion releases custom-resource dependents through the dynamic writer; the finalizer waits for unsynced informers", async () => {
    const k = setup();
    await k.gc.sync(DISCOVERY_KEY);
    const owner: KubeObject = { ...cm(), metadata: { ...cm().metadata, finalizers: ["orphan"], deletionTimestamp: "2024-01-01T00:00:00Z" } };
    k.informers.seed(CM, owner);
    k.writer.seed(CM, owner);
    k.dyn.fake.add(CT, ct("tab", [{ apiVersion: "v1", kind: "ConfigMap", name: "owner", uid: "uid-cm" }]));
    await k.gc.sync(gcKey(CM, owner));
    expect(k.dynWriter.calls[0]).toMatch(/^patch CronTab default\/tab /);
    expect(k.writer.summary()).toEqual(["patch configmaps default/owner"]);
    // With no dependents left but a custom-resource informer still listing, the owner waits.
    k.writer.reset();
    k.dyn.fake.replace(CT, []);
    k.dyn.isSynced = false;
    expect(await k.gc.sync(gcKey(CM, owner))).toEqual({ requeueAfterMs: 1_000 });
    expect(k.writer.calls).toEqual([]);
  });

  it("keys of custom resources that are no longer watched are ignored", async () => {
    const k = setup([]);
    await k.gc.sync(DISCOVERY_KEY);
    await k.gc.sync(gcKey(CT, ct("tab")));
    expect(k.writer.calls).toEqual([]);
    expect(k.dynWriter.calls).toEqual([]);
  });
});
