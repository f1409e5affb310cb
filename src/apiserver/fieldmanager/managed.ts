/**
 * managedFields entries <-> the in-memory ownership table (one `FieldSet` per manager identity),
 * plus the bookkeeping upstream layers on top: identities, entry order, the meta fields nobody
 * owns, and the cap on Update managers.
 */
import { FieldSet, FieldsV1Error, fromFieldsV1, goJson, pathOf, toFieldsV1 } from "./fieldpath.ts";
import type { FieldsV1 } from "./fieldpath.ts";

export type Operation = "Apply" | "Update";

/** One `metadata.managedFields[]` item in its JSON shape. */
export interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  apiVersion?: string;
  /** RFC 3339, seconds precision. */
  time?: string;
  fieldsType?: string;
  fieldsV1?: FieldsV1;
  subresource?: string;
}

/** A decoded entry. Identity is (manager, operation, apiVersion unless Apply, subresource). */
export interface Owner {
  readonly manager: string;
  readonly operation: Operation;
  readonly apiVersion: string;
  readonly subresource: string;
  readonly time: string | undefined;
  readonly set: FieldSet;
}

/** Ownership keyed by `ownerId`. Maps are copied before mutation by the callers in this folder. */
export type Managed = Map<string, Owner>;

/** Thrown for managedFields that cannot be decoded (upstream's texts). */
export class ManagedFieldsError extends Error {
  override readonly name = "ManagedFieldsError";
}

/**
 * Upstream's manager identifier: the entry's JSON without time/fields, apiVersion dropped for
 * Apply (one Apply entry per manager whatever the version). Also the sort key for conflict output.
 */
export function ownerId(o: { manager: string; operation: Operation; apiVersion: string; subresource: string }): string {
  let s = `{"manager":${goJson(o.manager)},"operation":${goJson(o.operation)}`;
  if (o.operation !== "Apply" && o.apiVersion !== "") s += `,"apiVersion":${goJson(o.apiVersion)}`;
  if (o.subresource !== "") s += `,"subresource":${goJson(o.subresource)}`;
  return s + "}";
}

/** How conflicts name a manager: `"kubectl"`, `"x" with subresource "status"`, `"y" using apps/v1`. */
export function printManager(o: { manager: string; operation: Operation; apiVersion: string; subresource: string }): string {
  let s = goJson(o.manager);
  if (o.subresource !== "") s += ` with subresource ${goJson(o.subresource)}`;
  if (o.operation === "Update") s += ` using ${o.apiVersion}`;
  return s;
}

/** `metadata.managedFields` explicitly emptied: `[]` or `[{}]` (upstream's reset request). */
export function isResetManagedFields(v: unknown): boolean {
  if (!Array.isArray(v)) return false;
  if (v.length === 0) return true;
  const only: unknown = v[0];
  return v.length === 1 && typeof only === "object" && only !== null && Object.keys(only).length === 0;
}

/** Decodes `metadata.managedFields`. Throws `ManagedFieldsError` with upstream's messages. */
export function decodeManagedFields(entries: unknown): Managed {
  const out: Managed = new Map();
  if (entries === undefined || entries === null) return out;
  if (!Array.isArray(entries)) throw new ManagedFieldsError("managedFields must be a list");
  entries.forEach((raw: unknown, i) => {
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new ManagedFieldsError(`managed fields entry ${i} must be an object`);
    const e = raw as ManagedFieldsEntry;
    if (e.operation !== "Apply" && e.operation !== "Update") throw new ManagedFieldsError("operation must be `Apply` or `Update`");
    if (typeof e.apiVersion !== "string" || e.apiVersion === "") throw new ManagedFieldsError("apiVersion must not be empty");
    if (e.fieldsType === undefined || e.fieldsType === "") throw new ManagedFieldsError(`missing fieldsType in managed fields entry ${i}`);
    if (e.fieldsType !== "FieldsV1") throw new ManagedFieldsError(`invalid fieldsType ${goJson(String(e.fieldsType))} in managed fields entry ${i}`);
    let set: FieldSet;
    try {
      set = setOfFieldsV1(e.fieldsV1);
    } catch (err) {
      if (err instanceof FieldsV1Error) throw new ManagedFieldsError(`error decoding versioned set from entry ${i}: ${err.message}`);
      throw err;
    }
    const owner: Owner = {
      manager: typeof e.manager === "string" ? e.manager : "",
      operation: e.operation,
      apiVersion: e.apiVersion,
      subresource: typeof e.subresource === "string" ? e.subresource : "",
      time: typeof e.time === "string" ? e.time : undefined,
      set,
    };
    out.set(ownerId(owner), owner);
  });
  return out;
}

function unixSeconds(t: string | undefined): number {
  if (t === undefined) return 0;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? 0 : Math.floor(ms / 1000);
}

/** Encodes the table as `metadata.managedFields`, in upstream order (Apply first, then by time, name, version, subresource). */
export function encodeManagedFields(managed: Managed): ManagedFieldsEntry[] {
  const owners = [...managed.values()].filter((o) => !o.set.isEmpty());
  owners.sort((p, q) => {
    if (p.operation !== q.operation) return p.operation < q.operation ? -1 : 1;
    const ps = unixSeconds(p.time);
    const qs = unixSeconds(q.time);
    if (ps !== qs) return ps < qs ? -1 : 1;
    if (p.manager !== q.manager) return p.manager < q.manager ? -1 : 1;
    if (p.apiVersion !== q.apiVersion) return p.apiVersion < q.apiVersion ? -1 : 1;
    return p.subresource < q.subresource ? -1 : p.subresource > q.subresource ? 1 : 0;
  });
  return owners.map((o) => {
    const e: ManagedFieldsEntry = { manager: o.manager, operation: o.operation, apiVersion: o.apiVersion };
    if (o.time !== undefined) e.time = o.time;
    e.fieldsType = "FieldsV1";
    e.fieldsV1 = fieldsV1Of(o.set);
    if (o.subresource !== "") e.subresource = o.subresource;
    return e;
  });
}

/** Sets of FieldsV1 values decoded before (FieldsV1 values and sets are immutable once built). */
const decodedSets = new WeakMap<object, FieldSet>();

/**
 * `fromFieldsV1(v ?? {})`, memoized per FieldsV1 object (the codec shares the value of recurring
 * FieldsV1 bytes). When `v` is exactly the canonical encoding of its set, writing that set again
 * reuses `v` (and with it the codec's bytes for it).
 */
function setOfFieldsV1(v: unknown): FieldSet {
  if (typeof v !== "object" || v === null) return fromFieldsV1(v ?? {});
  const hit = decodedSets.get(v);
  if (hit !== undefined) return hit;
  const set = fromFieldsV1(v);
  decodedSets.set(v, set);
  if (!encodedSets.has(set)) {
    const canonical = toFieldsV1(set);
    encodedSets.set(set, JSON.stringify(canonical) === JSON.stringify(v) ? (v as FieldsV1) : canonical);
  }
  return set;
}

/** FieldsV1 of sets already encoded (sets are immutable once built; memoized sets recur). */
const encodedSets = new WeakMap<FieldSet, FieldsV1>();

/**
 * `toFieldsV1(set)`, memoized per set. The value may be shared by several objects' entries:
 * FieldsV1 values are never changed in place (see src/api/codec/special.ts), and sharing lets the
 * codec write a recurring set from the bytes it produced the first time.
 */
function fieldsV1Of(set: FieldSet): FieldsV1 {
  let v = encodedSets.get(set);
  if (v === undefined) {
    v = toFieldsV1(set);
    encodedSets.set(set, v);
  }
  return v;
}

/** Fields no manager owns (upstream stripMeta): the type envelope and server-managed metadata. */
const STRIPPED = FieldSet.of(
  pathOf("apiVersion"), pathOf("kind"), pathOf("metadata"),
  pathOf("metadata", "name"), pathOf("metadata", "namespace"), pathOf("metadata", "creationTimestamp"),
  pathOf("metadata", "selfLink"), pathOf("metadata", "uid"), pathOf("metadata", "clusterName"),
  pathOf("metadata", "generation"), pathOf("metadata", "managedFields"), pathOf("metadata", "resourceVersion"),
);

export function stripMeta(set: FieldSet): FieldSet {
  return set.difference(STRIPPED);
}

/** Formats a time as RFC 3339 in UTC with seconds precision, as managedFields store it. */
export function formatTime(t: Date | string): string {
  const d = typeof t === "string" ? new Date(t) : t;
  const ms = d.getTime();
  if (Number.isNaN(ms)) throw new RangeError(`invalid time: ${String(t)}`);
  // Every write stamps "now": the text of the last second is kept.
  const sec = Math.floor(ms / 1000);
  if (sec === lastSecond) return lastText;
  const text = d.toISOString().replace(/\.\d{3}Z$/, "Z");
  lastSecond = sec;
  lastText = text;
  return text;
}

let lastSecond = NaN;
let lastText = "";

export const ANCIENT_CHANGES = "ancient-changes";
export const DEFAULT_MAX_UPDATE_MANAGERS = 10;

/**
 * Folds the oldest Update managers into one `ancient-changes` entry per apiVersion until at most
 * `max` Update entries remain (upstream capManagers; Apply entries are never folded).
 */
export function capUpdateManagers(managed: Managed, max = DEFAULT_MAX_UPDATE_MANAGERS): Managed {
  const updaters = [...managed.entries()].filter(([, o]) => o.operation === "Update");
  if (updaters.length <= max) return managed;
  const out: Managed = new Map(managed);
  updaters.sort(([ia, a], [ib, b]) => {
    const sa = unixSeconds(a.time);
    const sb = unixSeconds(b.time);
    if (sa !== sb) return sa < sb ? -1 : 1;
    return ia < ib ? -1 : ia > ib ? 1 : 0;
  });
  const firstOfVersion = new Map<string, string>();
  let length = updaters.length;
  for (const [id, o] of updaters) {
    if (length <= max) break;
    const first = firstOfVersion.get(o.apiVersion);
    if (first === undefined) {
      firstOfVersion.set(o.apiVersion, id);
      continue;
    }
    const bucketKey = { manager: ANCIENT_CHANGES, operation: "Update" as const, apiVersion: o.apiVersion, subresource: "" };
    const bucketId = ownerId(bucketKey);
    let bucket = out.get(bucketId);
    if (!bucket) {
      const firstOwner = out.get(first);
      out.delete(first);
      bucket = { ...bucketKey, time: firstOwner?.time, set: firstOwner?.set ?? new FieldSet() };
    }
    out.delete(id);
    out.set(bucketId, { ...bucketKey, time: o.time, set: o.set.union(bucket.set) });
    length--;
  }
  return out;
}
