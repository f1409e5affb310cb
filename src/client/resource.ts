/**
 * Typed access to one resource (group/version/plural), optionally bound to a namespace:
 * get, list, create, update, updateStatus, patch, delete, deleteCollection and watch, in the
 * client's encoding. Every non-2xx response throws the server's Status as `ApiError`.
 *
 *   const pods = client.resource({ group: "", version: "v1", plural: "pods", namespaced: true });
 *   const p = await pods.namespace("default").get("web-0");
 *   for await (const ev of await pods.watch({ resourceVersion: list.metadata.resourceVersion })) …
 */
import type { KubeObject } from "../api/object.ts";
import { DecodeError } from "./encoding.ts";
import type { QueryValue, RestClient } from "./rest.ts";
import { decoderFor, WatchStream } from "./watch.ts";

/** Identifies a resource the way its URL does. */
export interface ResourceRef {
  /** "" for the core group (served under /api). */
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly namespaced: boolean;
}

export interface ListOptions {
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  /** Page size; 0/absent = everything at once. */
  readonly limit?: number;
  readonly continue?: string;
  /** "" (consistent read, default), "0" (any cached state) or an exact revision. */
  readonly resourceVersion?: string;
  readonly resourceVersionMatch?: "NotOlderThan" | "Exact";
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
}

export interface WatchOptions {
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  /** Start after this revision ("" or absent: the current state as ADDED events first). */
  readonly resourceVersion?: string;
  readonly allowWatchBookmarks?: boolean;
  /** Server-side watch duration. */
  readonly timeoutSeconds?: number;
  readonly signal?: AbortSignal;
}

export interface WriteOptions {
  readonly dryRun?: "All";
  readonly fieldManager?: string;
  readonly fieldValidation?: "Strict" | "Warn" | "Ignore";
  readonly signal?: AbortSignal;
}

export type PatchType = "merge" | "json" | "strategic" | "apply";

export const PATCH_CONTENT_TYPES: Readonly<Record<PatchType, string>> = {
  merge: "application/merge-patch+json",
  json: "application/json-patch+json",
  strategic: "application/strategic-merge-patch+json",
  apply: "application/apply-patch+yaml",
};

export interface PatchOptions extends WriteOptions {
  /** e.g. "status" or "scale". */
  readonly subresource?: string;
  /** Server-side apply: take over conflicting fields. */
  readonly force?: boolean;
}

/** metav1.DeleteOptions (JSON shape). */
export interface DeleteOptions {
  readonly gracePeriodSeconds?: number;
  readonly propagationPolicy?: "Orphan" | "Background" | "Foreground";
  readonly preconditions?: { readonly uid?: string; readonly resourceVersion?: string };
  readonly dryRun?: readonly string[];
  readonly signal?: AbortSignal;
}

/** A decoded list: `items` plus list metadata (resourceVersion, continue, remainingItemCount). */
export interface ObjectList<T extends KubeObject = KubeObject> {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  readonly items: T[];
}

function writeQuery(o: WriteOptions | undefined): Record<string, QueryValue> {
  return { dryRun: o?.dryRun, fieldManager: o?.fieldManager, fieldValidation: o?.fieldValidation };
}

function nameOf(obj: KubeObject): string {
  const n = obj.metadata?.name;
  if (typeof n !== "string" || n === "") throw new TypeError("the object has no metadata.name");
  return n;
}

function seg(s: string, what: string): string {
  if (s === "" || s.includes("/")) throw new TypeError(`invalid ${what} ${JSON.stringify(s)}`);
  return encodeURIComponent(s);
}

/** Narrows a decoded body to a list. Throws `DecodeError` when it has no items array. */
export function asList<T extends KubeObject>(obj: KubeObject): ObjectList<T> {
  const items = obj["items"] ?? [];
  if (!Array.isArray(items)) throw new DecodeError(`expected a list, got kind ${String(obj.kind)}`);
  const md = (obj.metadata ?? {}) as ObjectList["metadata"];
  return { ...(obj.apiVersion !== undefined ? { apiVersion: obj.apiVersion } : {}), ...(obj.kind !== undefined ? { kind: obj.kind } : {}), metadata: md, items: items as T[] }; // items of a T list are Ts by the server's contract
}

export class ResourceClient<T extends KubeObject = KubeObject> {
  constructor(
    readonly rest: RestClient,
    readonly ref: ResourceRef,
    /** Bound namespace; undefined = all namespaces (list/watch) or taken from the object (writes). */
    readonly ns?: string,
  ) {}

  /** The same resource bound to namespace `ns`. Throws `TypeError` for cluster-scoped resources. */
  namespace(ns: string): ResourceClient<T> {
    if (!this.ref.namespaced) throw new TypeError(`${this.ref.plural} is cluster-scoped: it has no namespaces`);
    seg(ns, "namespace");
    return new ResourceClient<T>(this.rest, this.ref, ns);
  }

  /** The collection path for namespace `ns` (undefined = all namespaces / cluster-scoped). */
  collectionPath(ns: string | undefined = this.ns): string {
    const r = this.ref;
    const root = r.group === "" ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
    if (r.namespaced && ns !== undefined) return `${root}/namespaces/${seg(ns, "namespace")}/${r.plural}`;
    return `${root}/${r.plural}`;
  }

  private itemPath(name: string, ns: string | undefined, sub?: string): string {
    if (this.ref.namespaced && ns === undefined) {
      throw new TypeError(`${this.ref.plural} is namespaced: name a namespace with .namespace(ns) or metadata.namespace`);
    }
    return `${this.collectionPath(ns)}/${seg(name, "name")}${sub !== undefined ? `/${seg(sub, "subresource")}` : ""}`;
  }

  private nsFor(obj: KubeObject): string | undefined {
    if (!this.ref.namespaced) return undefined;
    return this.ns ?? obj.metadata?.namespace;
  }

  /** GET one object. Throws `ApiError` 404 when absent. */
  async get(name: string, opts: { resourceVersion?: string; signal?: AbortSignal } = {}): Promise<T> {
    return (await this.rest.object({
      method: "GET", path: this.itemPath(name, this.ns), query: { resourceVersion: opts.resourceVersion },
      ...(opts.signal ? { signal: opts.signal } : {}),
    })) as T; // the server returns the resource's kind
  }

  /** LIST (one page when `limit` is set: follow `metadata.continue`). Protobuf List messages decode too. */
  async list(opts: ListOptions = {}): Promise<ObjectList<T>> {
    const obj = await this.rest.object({
      method: "GET", path: this.collectionPath(),
      query: {
        labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector,
        limit: opts.limit !== undefined && opts.limit > 0 ? opts.limit : undefined,
        continue: opts.continue || undefined, resourceVersion: opts.resourceVersion,
        resourceVersionMatch: opts.resourceVersionMatch,
      },
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    });
    return asList<T>(obj);
  }

  /** POST. The namespace is the bound one, else `metadata.namespace`. Returns the stored object. */
  async create(obj: T, opts?: WriteOptions): Promise<T> {
    return (await this.rest.object({
      method: "POST", path: this.collectionPath(this.nsFor(obj)), query: writeQuery(opts), body: obj,
      ...(opts?.signal ? { signal: opts.signal } : {}),
    })) as T;
  }

  /** PUT (optimistic concurrency: a stale metadata.resourceVersion throws 409 Conflict). */
  async update(obj: T, opts?: WriteOptions): Promise<T> {
    return (await this.rest.object({
      method: "PUT", path: this.itemPath(nameOf(obj), this.nsFor(obj)), query: writeQuery(opts), body: obj,
      ...(opts?.signal ? { signal: opts.signal } : {}),
    })) as T;
  }

  /** PUT to the status subresource. */
  async updateStatus(obj: T, opts?: WriteOptions): Promise<T> {
    return (await this.rest.object({
      method: "PUT", path: this.itemPath(nameOf(obj), this.nsFor(obj), "status"), query: writeQuery(opts), body: obj,
      ...(opts?.signal ? { signal: opts.signal } : {}),
    })) as T;
  }

  /**
   * PATCH with a merge patch (object), JSON patch (array of operations), strategic merge patch or
   * apply configuration. Patch bodies are always JSON text (YAML is a superset for apply).
   */
  async patch(name: string, patch: unknown, type: PatchType = "merge", opts?: PatchOptions): Promise<T> {
    if (type === "json" && !Array.isArray(patch)) throw new TypeError("a JSON patch must be an array of operations");
    if (type !== "json" && (typeof patch !== "object" || patch === null || Array.isArray(patch))) {
      throw new TypeError(`a ${type} patch must be an object`);
    }
    return (await this.rest.object({
      method: "PATCH", path: this.itemPath(name, this.ns, opts?.subresource),
      query: { ...writeQuery(opts), force: opts?.force },
      body: JSON.stringify(patch), contentType: PATCH_CONTENT_TYPES[type],
      ...(opts?.signal ? { signal: opts.signal } : {}),
    })) as T;
  }

  /**
   * DELETE. Returns the object (when deletion is graceful or blocked by finalizers, it is returned
   * with deletionTimestamp set) or the server's Status on immediate removal.
   */
  async delete(name: string, opts: DeleteOptions = {}): Promise<KubeObject> {
    const { signal, ...body } = opts;
    return this.rest.object({
      method: "DELETE", path: this.itemPath(name, this.ns),
      ...(Object.keys(body).length > 0
        ? { body: JSON.stringify({ apiVersion: "meta.k8s.io/v1", kind: "DeleteOptions", ...body }), contentType: "application/json" }
        : {}),
      ...(signal ? { signal } : {}),
    });
  }

  /** DELETE on the collection (bound namespace, or cluster-scoped) matching the selectors. */
  async deleteCollection(list: Omit<ListOptions, "signal" | "timeoutMs" | "limit" | "continue"> = {}, opts: DeleteOptions = {}): Promise<KubeObject> {
    if (this.ref.namespaced && this.ns === undefined) {
      throw new TypeError(`deleteCollection of ${this.ref.plural} needs a namespace`);
    }
    const { signal, ...body } = opts;
    return this.rest.object({
      method: "DELETE", path: this.collectionPath(),
      query: { labelSelector: list.labelSelector, fieldSelector: list.fieldSelector, resourceVersion: list.resourceVersion },
      ...(Object.keys(body).length > 0
        ? { body: JSON.stringify({ apiVersion: "meta.k8s.io/v1", kind: "DeleteOptions", ...body }), contentType: "application/json" }
        : {}),
      ...(signal ? { signal } : {}),
    });
  }

  /**
   * Starts a watch; resolves once the server accepted it (an HTTP error such as 410 Expired for
   * a too-old resourceVersion throws `ApiError`). Iterate the stream for events; `stop()` ends it.
   */
  async watch(opts: WatchOptions = {}): Promise<WatchStream<T>> {
    const res = await this.rest.stream({
      method: "GET", path: this.collectionPath(),
      query: {
        watch: "true", labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector,
        resourceVersion: opts.resourceVersion, allowWatchBookmarks: opts.allowWatchBookmarks ? "true" : undefined,
        timeoutSeconds: opts.timeoutSeconds,
      },
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    // The caller's signal usually outlives this watch (an informer re-watches under one signal), so
    // the listener goes away with the stream instead of piling up.
    const onAbort = (): void => stream.stop();
    const stream = new WatchStream<T>(res.body, decoderFor(res.headers["content-type"]), () => {
      opts.signal?.removeEventListener("abort", onAbort);
      res.cancel();
    });
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    return stream;
  }
}
