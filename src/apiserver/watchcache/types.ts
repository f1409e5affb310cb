/**
 * The watch cache port: one cache per resource, fed by a store watch on the resource's key prefix.
 * It serves get/list (resourceVersion "0" and consistent reads, after waiting to catch up) and all
 * watches. Objects are decoded once when they enter the cache; their encodings are computed once
 * per encoding on first use and shared by every reader and watcher (`CachedObject.encoded`).
 */
import type { KubeObject } from "../../api/object.ts";

/** Encodings the apiserver writes objects in. */
export type Encoding = "json" | "protobuf";

export interface CachedObject {
  /** Store key, e.g. `/registry/pods/default/web`. */
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  /** The object (treat as immutable: shared by every reader). metadata.resourceVersion is set. */
  readonly object: KubeObject;
  /** The store modRevision this object was written at. */
  readonly revision: number;
  readonly labels: Readonly<Record<string, string>>;
  /** Field-selector attributes (from the kind's strategy). */
  readonly fields: Readonly<Record<string, string>>;
  /** Memoized encoding of `object` (JSON: no trailing newline; protobuf: `k8s\0` + Unknown). */
  encoded(encoding: Encoding): Uint8Array;
}

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED";

export interface CacheEvent {
  readonly type: WatchEventType;
  /** For DELETED: the last state, with metadata.resourceVersion = the delete's revision. */
  readonly object: CachedObject;
  /** The state before this event (absent for ADDED). Used to turn MODIFIED into ADDED/DELETED
   * for watchers whose filter the object enters or leaves. */
  readonly prev?: CachedObject;
  readonly revision: number;
}

/** A parsed selector test; both selectors are ANDed. */
export interface ObjectFilter {
  readonly namespace?: string;
  matches(labels: Readonly<Record<string, string>>, fields: Readonly<Record<string, string>>): boolean;
  /** When the filter pins one value of an indexed field (e.g. spec.nodeName=n1), its name/value. */
  readonly indexHint?: { readonly field: string; readonly value: string };
  /** True when `matches` is always true (no label/field selector; `namespace` may still apply).
   * Lets the cache skip per-object tests and report `remainingItemCount` on paged lists. */
  readonly everything?: boolean;
}

export interface ListOptions {
  readonly filter: ObjectFilter;
  /** Page size (0/absent: all). */
  readonly limit?: number;
  /** Opaque token from a previous page: continues at the same snapshot revision. */
  readonly continueToken?: string;
  /** "" (consistent: wait until fresh), "0" (any), or a number. */
  readonly resourceVersion?: string;
  readonly resourceVersionMatch?: "NotOlderThan" | "Exact";
}

export interface ListResult {
  readonly items: readonly CachedObject[];
  /** The snapshot revision the list reflects. */
  readonly revision: number;
  readonly continueToken?: string;
  readonly remainingItemCount?: number;
}

export type WatchItem = CacheEvent | { readonly type: "BOOKMARK"; readonly revision: number };

export interface WatchOptions {
  readonly filter: ObjectFilter;
  /** "" or "0": synthetic ADDED for current state first, then changes. Else: changes after it. */
  readonly resourceVersion?: string;
  readonly allowBookmarks?: boolean;
  /** Events buffered for a slow watcher before it is cut off (its stream ends with 410 Expired). */
  readonly bufferSize?: number;
}

/** A live watch. Iterate with `for await`; `return()` (or `stop()`) releases it. */
export interface CacheWatch extends AsyncIterable<WatchItem> {
  stop(): void;
  /** Set when the watch ended abnormally (slow consumer, resourceVersion too old ...). */
  readonly error?: Error;
}
