/**
 * The shared informer factory: one informer per resource for the whole controller-manager, so the
 * ReplicaSet, Deployment and garbage collector controllers share one pod watch and one cache.
 * Every cache carries two extra indexes the controllers use: `uid` (object uid) and `ownerUid`
 * (the uids in `metadata.ownerReferences`).
 *
 * Controllers see the factory through `InformerSource` (listers + handler registration), which the
 * test double `FakeInformers` also implements.
 */
import type { KubeObject } from "../../api/object.ts";
import type { Client } from "../../client/client.ts";
import { Indexer, type IndexFunc, type Lister } from "../../client/indexer.ts";
import { createInformer, type EventHandler, type Informer } from "../../client/informer.ts";
import { resourceKey, type ResourceId } from "./resources.ts";

export const UID_INDEX = "uid";
export const OWNER_UID_INDEX = "ownerUid";
/** Pods by `spec.nodeName` (other kinds index nothing). */
export const NODE_NAME_INDEX = "nodeName";

export const STANDARD_INDEXERS: Readonly<Record<string, IndexFunc<KubeObject>>> = {
  [UID_INDEX]: (o) => (o.metadata?.uid ? [o.metadata.uid] : []),
  [OWNER_UID_INDEX]: (o) => (o.metadata?.ownerReferences ?? []).map((r) => r.uid),
  [NODE_NAME_INDEX]: (o) => {
    if (o.kind !== undefined && o.kind !== "Pod") return [];
    const n = (o["spec"] as { nodeName?: unknown } | undefined)?.nodeName; // Pod.spec by the kind's contract
    return typeof n === "string" && n !== "" ? [n] : [];
  },
};

/** What controllers need from the informers: caches to read and handlers to register. */
export interface InformerSource {
  /** The cache of a resource (its informer is created on first use). */
  lister(r: ResourceId): Lister<KubeObject>;
  /** Registers handlers on the resource's shared informer. Handlers must only enqueue keys. */
  on(r: ResourceId, h: EventHandler<KubeObject>): void;
}

export class SharedInformerFactory implements InformerSource {
  private readonly informers = new Map<string, Informer<KubeObject>>();
  private started = false;

  constructor(private readonly client: Client, private readonly onError: (r: ResourceId, err: unknown) => void = () => {}) {}

  /** The shared informer for `r`; informers created after `start()` start at once. */
  informerFor(r: ResourceId): Informer<KubeObject> {
    const key = resourceKey(r);
    let inf = this.informers.get(key);
    if (!inf) {
      inf = createInformer(this.client.resourceFor(r.apiVersion, r.kind), {
        indexers: STANDARD_INDEXERS,
        onError: (e) => this.onError(r, e),
      });
      this.informers.set(key, inf);
      if (this.started) inf.start();
    }
    return inf;
  }

  lister(r: ResourceId): Lister<KubeObject> {
    return this.informerFor(r).store;
  }

  on(r: ResourceId, h: EventHandler<KubeObject>): void {
    this.informerFor(r).addEventHandler(h);
  }

  /** Starts every informer created so far (and later ones at creation). */
  start(): void {
    this.started = true;
    for (const inf of this.informers.values()) inf.start();
  }

  /** Resolves when every informer has listed once; rejects after `timeoutMs`. */
  async waitForSync(timeoutMs = 60_000, signal?: AbortSignal): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.waitForSync({ timeoutMs, ...(signal ? { signal } : {}) })));
  }

  /** Number of informers (one per resource). */
  get size(): number {
    return this.informers.size;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
  }
}

/**
 * Test double: caches seeded directly, and `add/update/remove` that both change the cache and call
 * the registered handlers as a real informer would.
 */
export class FakeInformers implements InformerSource {
  private readonly stores = new Map<string, Indexer<KubeObject>>();
  private readonly handlers = new Map<string, EventHandler<KubeObject>[]>();

  private store(r: ResourceId): Indexer<KubeObject> {
    const key = resourceKey(r);
    let s = this.stores.get(key);
    if (!s) this.stores.set(key, (s = new Indexer<KubeObject>(STANDARD_INDEXERS)));
    return s;
  }

  lister(r: ResourceId): Lister<KubeObject> {
    return this.store(r);
  }

  on(r: ResourceId, h: EventHandler<KubeObject>): void {
    const key = resourceKey(r);
    this.handlers.set(key, [...(this.handlers.get(key) ?? []), h]);
  }

  /** Puts objects in the cache without calling handlers. */
  seed(r: ResourceId, ...objs: KubeObject[]): this {
    for (const o of objs) this.store(r).upsert(o);
    return this;
  }

  /** Replaces a cache's content without calling handlers. */
  replace(r: ResourceId, objs: readonly KubeObject[]): this {
    const s = this.store(r);
    for (const k of s.keys()) s.remove(k);
    return this.seed(r, ...objs);
  }

  add(r: ResourceId, obj: KubeObject): void {
    const old = this.store(r).upsert(obj);
    for (const h of this.handlers.get(resourceKey(r)) ?? []) {
      if (old) h.onUpdate?.(old, obj);
      else h.onAdd?.(obj, false);
    }
  }

  remove(r: ResourceId, obj: KubeObject): void {
    const ns = obj.metadata?.namespace;
    this.store(r).remove(ns ? `${ns}/${obj.metadata?.name ?? ""}` : obj.metadata?.name ?? "");
    for (const h of this.handlers.get(resourceKey(r)) ?? []) h.onDelete?.(obj, false);
  }
}
