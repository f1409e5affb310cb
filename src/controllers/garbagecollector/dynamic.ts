/**
 * Access to discovered resources the client library does not know (custom resources):
 *
 * - `MetadataInformers`: one informer per discovered resource, created on demand and stopped when
 *   the resource leaves discovery or the controller's term ends. They list and watch with
 *   `Accept: application/json;as=PartialObjectMetadata[List];g=meta.k8s.io;v=v1`, so the caches
 *   hold metadata only (uid, ownerReferences, finalizers, deletionTimestamp: all the garbage
 *   collector reads) whatever the size of the objects. Cached objects are PartialObjectMetadata.
 * - `dynamicWriter`: the `ObjectWriter` contract over `client.resource(ref)` (JSON) for resources
 *   resolved from discovery.
 * - `FakeDynamicInformers`: the test double (caches seeded directly, handlers called as a real
 *   informer would).
 */
import { ApiError } from "../../api/errors.ts";
import type { KubeObject } from "../../api/object.ts";
import type { Client } from "../../client/client.ts";
import type { Lister } from "../../client/indexer.ts";
import { createInformer, type EventHandler, type Informer, type ListWatch } from "../../client/informer.ts";
import { asList, type ResourceClient, type ResourceRef } from "../../client/resource.ts";
import { decoderFor, WatchStream } from "../../client/watch.ts";
import { FakeInformers, STANDARD_INDEXERS } from "../framework/informers.ts";
import { resourceKey, type ResourceId } from "../framework/resources.ts";
import type { ObjectWriter } from "../framework/writer.ts";
import { resourceIdOf, type DiscoveredResource } from "./discovery.ts";

export const PARTIAL_LIST_ACCEPT = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";
export const PARTIAL_ACCEPT = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1";

/** Informers of discovered resources, keyed like the shared factory (`resourceKey`). */
export interface DynamicInformers {
  has(r: ResourceId): boolean;
  /** The cache of a resource with an informer; undefined otherwise. */
  lister(r: ResourceId): Lister<KubeObject> | undefined;
  /** Starts an informer for `d` with handlers `h` unless one runs. Returns true when it created one. */
  ensure(d: DiscoveredResource, h: EventHandler<KubeObject>): boolean;
  /** Stops the informers whose `resourceKey` is not in `keep`; returns the ones stopped. */
  retain(keep: ReadonlySet<string>): ResourceId[];
  /** True when every informer has listed once. */
  synced(): boolean;
  /** The resources with an informer. */
  resources(): ResourceId[];
}

/** List/watch of a resource's metadata only. */
export function metadataListWatch(client: Client, ref: ResourceRef): ListWatch<KubeObject> {
  const path = client.resource(ref).collectionPath();
  return {
    async list(o) {
      const obj = await client.rest.object({
        method: "GET", path, accept: PARTIAL_LIST_ACCEPT, signal: o.signal,
        query: { resourceVersion: o.resourceVersion, limit: o.limit > 0 ? o.limit : undefined, continue: o.continue || undefined },
      });
      return asList<KubeObject>(obj);
    },
    async watch(o) {
      const res = await client.rest.stream({
        method: "GET", path, accept: PARTIAL_ACCEPT, signal: o.signal,
        query: { watch: "true", resourceVersion: o.resourceVersion, allowWatchBookmarks: o.allowWatchBookmarks ? "true" : undefined, timeoutSeconds: o.timeoutSeconds },
      });
      const stream = new WatchStream<KubeObject>(res.body, decoderFor(res.headers["content-type"]), () => res.cancel());
      o.signal.addEventListener("abort", () => stream.stop(), { once: true });
      return stream;
    },
  };
}

export interface MetadataInformersOptions {
  /** Aborting stops every informer (and later `ensure` calls start none). */
  readonly signal?: AbortSignal | undefined;
  readonly onError?: (r: ResourceId, err: unknown) => void;
}

export class MetadataInformers implements DynamicInformers {
  private readonly informers = new Map<string, { r: ResourceId; inf: Informer<KubeObject> }>();

  constructor(private readonly client: Client, private readonly opts: MetadataInformersOptions = {}) {
    opts.signal?.addEventListener("abort", () => void this.stopAll(), { once: true });
  }

  has(r: ResourceId): boolean {
    return this.informers.has(resourceKey(r));
  }

  lister(r: ResourceId): Lister<KubeObject> | undefined {
    return this.informers.get(resourceKey(r))?.inf.store;
  }

  ensure(d: DiscoveredResource, h: EventHandler<KubeObject>): boolean {
    const r = resourceIdOf(d);
    const key = resourceKey(r);
    if (this.informers.has(key) || this.opts.signal?.aborted) return false;
    const inf = createInformer<KubeObject>(metadataListWatch(this.client, d), {
      indexers: STANDARD_INDEXERS,
      onError: (e) => this.opts.onError?.(r, e),
    });
    inf.addEventHandler(h);
    this.informers.set(key, { r, inf });
    inf.start();
    return true;
  }

  retain(keep: ReadonlySet<string>): ResourceId[] {
    const gone: ResourceId[] = [];
    for (const [key, { r, inf }] of this.informers) {
      if (keep.has(key)) continue;
      this.informers.delete(key);
      void inf.stop();
      gone.push(r);
    }
    return gone;
  }

  synced(): boolean {
    return [...this.informers.values()].every((x) => x.inf.hasSynced());
  }

  resources(): ResourceId[] {
    return [...this.informers.values()].map((x) => x.r);
  }

  async stopAll(): Promise<void> {
    const all = [...this.informers.values()];
    this.informers.clear();
    await Promise.all(all.map((x) => x.inf.stop()));
  }
}

/** Test double: `ensure` registers handlers on a `FakeInformers`; `add`/`remove` drive them. */
export class FakeDynamicInformers implements DynamicInformers {
  readonly fake = new FakeInformers();
  private readonly known = new Map<string, ResourceId>();
  isSynced = true;
  readonly ensured: string[] = [];

  has(r: ResourceId): boolean {
    return this.known.has(resourceKey(r));
  }
  lister(r: ResourceId): Lister<KubeObject> | undefined {
    return this.has(r) ? this.fake.lister(r) : undefined;
  }
  ensure(d: DiscoveredResource, h: EventHandler<KubeObject>): boolean {
    const r = resourceIdOf(d);
    if (this.has(r)) return false;
    this.known.set(resourceKey(r), r);
    this.ensured.push(resourceKey(r));
    this.fake.on(r, h);
    for (const o of this.fake.lister(r).list()) h.onAdd?.(o, true);
    return true;
  }
  retain(keep: ReadonlySet<string>): ResourceId[] {
    const gone: ResourceId[] = [];
    for (const [k, r] of this.known) if (!keep.has(k)) { this.known.delete(k); gone.push(r); }
    return gone;
  }
  synced(): boolean {
    return this.isSynced;
  }
  resources(): ResourceId[] {
    return [...this.known.values()];
  }
}

/**
 * The `ObjectWriter` contract for resources resolved by `resolve` (discovered custom resources),
 * over JSON. A resource `resolve` does not know fails with 404 NotFound (`delete` resolves, as
 * for an absent object).
 */
export function dynamicWriter(client: Client, resolve: (r: ResourceId) => ResourceRef | undefined): ObjectWriter {
  const cache = new Map<string, ResourceClient>();
  const rc = (r: ResourceId, ns: string | undefined): ResourceClient => {
    const ref = resolve(r);
    if (!ref) throw new ApiError(404, "NotFound", `the server could not find the requested resource (${r.kind} in ${r.apiVersion})`, {});
    const key = `${resourceKey(r)} ${ref.plural}`;
    let c = cache.get(key);
    if (!c) cache.set(key, (c = client.resource(ref)));
    return c.ref.namespaced && ns !== undefined && ns !== "" ? c.namespace(ns) : c;
  };
  const notFound = (e: unknown): boolean => e instanceof ApiError && e.code === 404;
  return {
    async create(r, obj) {
      return (await rc(r, obj.metadata?.namespace).create(obj)) as typeof obj; // the server returns the same kind
    },
    async update(r, obj) {
      return (await rc(r, obj.metadata?.namespace).update(obj)) as typeof obj;
    },
    async updateStatus(r, obj) {
      return (await rc(r, obj.metadata?.namespace).updateStatus(obj)) as typeof obj;
    },
    async patch<T extends KubeObject>(r: ResourceId, ns: string, name: string, patch: unknown, type: Parameters<ObjectWriter["patch"]>[4], subresource?: string): Promise<T> {
      return (await rc(r, ns).patch(name, patch, type, subresource !== undefined ? { subresource } : {})) as T;
    },
    async updateSubresource<T extends KubeObject>(r: ResourceId, obj: T, subresource: string): Promise<T> {
      const c = rc(r, obj.metadata?.namespace);
      const name = obj.metadata?.name ?? "";
      if (name === "" || subresource === "" || subresource.includes("/")) throw new TypeError("updateSubresource needs a name and a subresource");
      return (await c.rest.object({ method: "PUT", path: `${c.collectionPath()}/${encodeURIComponent(name)}/${encodeURIComponent(subresource)}`, body: JSON.stringify(obj) })) as T;
    },
    async deleteCollection(r, ns, opts) {
      await rc(r, ns).deleteCollection({}, opts ?? {});
    },
    async list<T extends KubeObject>(r: ResourceId, ns: string): Promise<T[]> {
      return (await rc(r, ns === "" ? undefined : ns).list()).items as T[];
    },
    async delete(r, ns, name, opts) {
      try {
        await rc(r, ns).delete(name, opts ?? {});
      } catch (e) {
        if (!notFound(e)) throw e;
      }
    },
    async get<T extends KubeObject>(r: ResourceId, ns: string, name: string): Promise<T | undefined> {
      try {
        return (await rc(r, ns).get(name)) as T;
      } catch (e) {
        if (notFound(e)) return undefined;
        throw e;
      }
    },
  };
}
