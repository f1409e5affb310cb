/**
 * `ObjectWriter`: the one narrow interface through which controllers change the cluster (and the
 * few live reads they need to confirm what a cache cannot: an owner really gone, an adoption still
 * valid). `clientWriter` implements it over the client library; `RecordingWriter` (recording.ts)
 * is the in-memory fake tests assert on.
 *
 * Contract (every method): errors are the apiserver's `ApiError`s (404 NotFound, 409 Conflict /
 * AlreadyExists, 422 Invalid, ...) or transport errors; nothing is retried here — the controller
 * runner requeues the key with backoff.
 */
import type { KubeObject } from "../../api/object.ts";
import { ApiError } from "../../api/errors.ts";
import type { Client } from "../../client/client.ts";
import type { DeleteOptions, PatchType, ResourceClient } from "../../client/resource.ts";
import { resourceKey, type ResourceId } from "./resources.ts";

export type { DeleteOptions, PatchType };

export interface ObjectWriter {
  /** POST; `obj.metadata.namespace` names the namespace of namespaced kinds. Returns the stored object. */
  create<T extends KubeObject>(r: ResourceId, obj: T): Promise<T>;
  /** PUT (a stale `metadata.resourceVersion` -> 409 Conflict). */
  update<T extends KubeObject>(r: ResourceId, obj: T): Promise<T>;
  /** PUT to `/status`. */
  updateStatus<T extends KubeObject>(r: ResourceId, obj: T): Promise<T>;
  /** PATCH (`namespace` "" for cluster-scoped kinds); `subresource` e.g. "status" or "finalize". */
  patch<T extends KubeObject>(r: ResourceId, namespace: string, name: string, patch: unknown, type: PatchType, subresource?: string): Promise<T>;
  /** DELETE; resolves also when the object was already gone (404 is not an error here). */
  delete(r: ResourceId, namespace: string, name: string, opts?: DeleteOptions): Promise<void>;
  /** PUT to a subresource other than status (e.g. a namespace's `finalize`). */
  updateSubresource<T extends KubeObject>(r: ResourceId, obj: T, subresource: string): Promise<T>;
  /** DELETE on the collection of a namespace. */
  deleteCollection(r: ResourceId, namespace: string, opts?: DeleteOptions): Promise<void>;
  /** A live (uncached) LIST of a namespace ("" = all namespaces / cluster-scoped). */
  list<T extends KubeObject>(r: ResourceId, namespace: string): Promise<T[]>;
  /** A live (uncached) GET; undefined when absent. */
  get<T extends KubeObject>(r: ResourceId, namespace: string, name: string): Promise<T | undefined>;
}

/** The writer over a real client (protobuf by default). Resource clients are created once per kind. */
export function clientWriter(client: Client): ObjectWriter {
  const cache = new Map<string, ResourceClient>();
  const rc = (r: ResourceId, ns: string | undefined): ResourceClient => {
    const key = resourceKey(r);
    let c = cache.get(key);
    if (!c) cache.set(key, (c = client.resourceFor(r.apiVersion, r.kind)));
    return c.ref.namespaced && ns !== undefined && ns !== "" ? c.namespace(ns) : c;
  };
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
    async patch<T extends KubeObject>(r: ResourceId, ns: string, name: string, patch: unknown, type: PatchType, subresource?: string): Promise<T> {
      return (await rc(r, ns).patch(name, patch, type, subresource !== undefined ? { subresource } : {})) as T;
    },
    async updateSubresource<T extends KubeObject>(r: ResourceId, obj: T, subresource: string): Promise<T> {
      const c = rc(r, obj.metadata?.namespace);
      const name = obj.metadata?.name ?? "";
      if (name === "" || subresource === "" || subresource.includes("/")) throw new TypeError("updateSubresource needs a name and a subresource");
      return (await c.rest.object({ method: "PUT", path: `${c.collectionPath()}/${encodeURIComponent(name)}/${encodeURIComponent(subresource)}`, body: obj })) as T;
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
        if (!(e instanceof ApiError && e.code === 404)) throw e;
      }
    },
    async get<T extends KubeObject>(r: ResourceId, ns: string, name: string): Promise<T | undefined> {
      try {
        return (await rc(r, ns).get(name)) as T;
      } catch (e) {
        if (e instanceof ApiError && e.code === 404) return undefined;
        throw e;
      }
    },
  };
}

/**
 * Writes `status` onto `obj` through the status subresource; on a 409 Conflict (the cached copy
 * was stale) re-reads the object live and tries once more, as upstream's status updaters do.
 * Returns undefined when the object is gone.
 */
export async function updateStatusRetrying<T extends KubeObject>(writer: ObjectWriter, r: ResourceId, obj: T, status: unknown): Promise<T | undefined> {
  try {
    return await writer.updateStatus(r, { ...obj, status });
  } catch (e) {
    if (!(e instanceof ApiError && e.code === 409)) throw e;
  }
  const fresh = await writer.get<T>(r, obj.metadata?.namespace ?? "", obj.metadata?.name ?? "");
  if (!fresh || fresh.metadata?.uid !== obj.metadata?.uid) return undefined;
  return writer.updateStatus(r, { ...fresh, status });
}
