/**
 * The admission port: built-in plugins that see every write after defaulting/preparation and
 * before validation and storage, in kube-apiserver's order:
 *
 *   mutating plugins (admit) -> strategy validation -> validating plugins (validate) -> store
 *
 * A plugin says which requests it wants with `handles(operation, resource)` and then gets the
 * request's attributes. Mutating plugins change `attrs.object` in place; validating plugins must
 * not change it. Both reject by throwing an `ApiError` (403 Forbidden for policy denials, with
 * upstream's message texts; 404 for a missing namespace; 422 for invalid input).
 */
import { ApiError } from "../../api/errors.ts";
import type { KubeObject } from "../../api/object.ts";
import type { UserInfo } from "../../auth/authenticate.ts";

export type Operation = "CREATE" | "UPDATE" | "DELETE";

/** The resource a request addresses (`group` "" is core). */
export interface AdmissionResource {
  readonly group: string;
  readonly version: string;
  /** Plural, e.g. `pods`. */
  readonly resource: string;
  /** "" for the main resource, else `status`, `scale`, `binding`, ... */
  readonly subresource: string;
  readonly kind: string;
  readonly namespaced: boolean;
}

export interface AdmissionAttributes extends AdmissionResource {
  readonly operation: Operation;
  /** "" for cluster-scoped resources. */
  readonly namespace: string;
  /** The object's name; "" on a create with generateName (use `nameForMessages`). */
  readonly name: string;
  /** CREATE/UPDATE: the new object (mutable for mutating plugins). DELETE: the live object. */
  readonly object: KubeObject | undefined;
  /** UPDATE/DELETE: the live object before the write. */
  readonly oldObject: KubeObject | undefined;
  /** The requesting user, when the caller knows it (internal writes pass none). */
  readonly userInfo: UserInfo | undefined;
  /** True for `dryRun=All`: plugins must not persist side effects (quota usage). */
  readonly dryRun: boolean;
}

export interface MutatingPlugin {
  readonly name: string;
  handles(operation: Operation, resource: AdmissionResource): boolean;
  admit(attrs: AdmissionAttributes): Promise<void> | void;
}

export interface ValidatingPlugin {
  readonly name: string;
  handles(operation: Operation, resource: AdmissionResource): boolean;
  validate(attrs: AdmissionAttributes): Promise<void> | void;
}

/** A stored object as plugins see it (resourceVersion set from the store). */
export interface HostObject {
  readonly object: KubeObject;
  readonly modRevision: number;
}

/**
 * What plugins may read and write: consistent reads of the store (never the watch caches, which
 * may lag a just-committed write) and status writes that go through the normal REST path.
 */
/** Objects returned by `get` and `list` may be shared between requests (and frozen): read only. */
export interface AdmissionHost {
  now(): Date;
  get(group: string, plural: string, namespace: string, name: string): Promise<HostObject | undefined>;
  /** All objects of a resource in `namespace` ("" = all namespaces / cluster-scoped). */
  list(group: string, plural: string, namespace: string): Promise<HostObject[]>;
  /**
   * Guarded read-modify-write of an object's status (`mutate` may be called again after a
   * conflicting write; returning undefined leaves the object unchanged).
   */
  updateStatus(group: string, plural: string, namespace: string, name: string,
    mutate: (current: KubeObject) => KubeObject | undefined): Promise<void>;
  /** Whether a resource (group + plural) is served. */
  has(group: string, plural: string): boolean;
}

/** `deployments.apps`-style qualified resource. */
export function qualifiedResource(group: string, resource: string): string {
  return group ? `${resource}.${group}` : resource;
}

/**
 * The name upstream puts in admission errors: the object's name, else its generateName, else
 * `Unknown`.
 */
export function nameForMessages(attrs: AdmissionAttributes): string {
  const m = attrs.object?.metadata;
  if (m?.name) return m.name;
  if (attrs.name) return attrs.name;
  if (m?.generateName) return m.generateName;
  return "Unknown";
}

/** 403 Forbidden as upstream's admission.NewForbidden renders it. */
export function forbidden(attrs: AdmissionAttributes, why: string, name = nameForMessages(attrs)): ApiError {
  const qr = qualifiedResource(attrs.group, attrs.resource);
  const message = name === "" ? `${qr} is forbidden: ${why}` : `${qr} "${name}" is forbidden: ${why}`;
  return new ApiError(403, "Forbidden", message, {
    name, ...(attrs.group ? { group: attrs.group } : {}), kind: attrs.resource,
  });
}

/** Narrowing helpers for plugins working on JSON-shaped objects. */
export type JsonRecord = Record<string, unknown>;

export function isRecord(v: unknown): v is JsonRecord {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** `obj[key]` as a record, created (and stored) when absent or not a record. */
export function ensureRecord(obj: JsonRecord, key: string): JsonRecord {
  const v = obj[key];
  if (isRecord(v)) return v;
  const r: JsonRecord = {};
  obj[key] = r;
  return r;
}

export function recordAt(obj: unknown, ...path: string[]): JsonRecord | undefined {
  let cur: unknown = obj;
  for (const p of path) {
    if (!isRecord(cur)) return undefined;
    cur = cur[p];
  }
  return isRecord(cur) ? cur : undefined;
}

export function recordsAt(obj: unknown, ...path: string[]): JsonRecord[] {
  let cur: unknown = obj;
  for (const p of path) {
    if (!isRecord(cur)) return [];
    cur = cur[p];
  }
  return Array.isArray(cur) ? cur.filter(isRecord) : [];
}

export function stringAt(obj: unknown, ...path: string[]): string | undefined {
  let cur: unknown = obj;
  for (const p of path) {
    if (!isRecord(cur)) return undefined;
    cur = cur[p];
  }
  return typeof cur === "string" ? cur : undefined;
}
