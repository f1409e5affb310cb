/**
 * The two entry points: `updateManagedFields` for every non-apply write and `apply` for
 * `application/apply-patch+yaml`. Both are pure: objects in, objects out; the caller supplies the
 * time and persists the result.
 *
 * Semantics follow k8s.io/apimachinery's field manager stack (outermost first): version check,
 * last-applied updater and manager (the client-side-apply upgrade path, manager "kubectl" only),
 * skip-non-applied (`before-first-apply`), cap of Update managers (`ancient-changes`), manager
 * identity, timestamps, meta stripping, and structured-merge-diff's Updater (merge, prune,
 * conflicts).
 */
import { ApiError, badRequest } from "../../api/errors.ts";
import type { KubeObject } from "../../api/object.ts";
import { FieldSet, pathOf, pathString } from "./fieldpath.ts";
import type { Path, PathElement } from "./fieldpath.ts";
import {
  capUpdateManagers, decodeManagedFields, encodeManagedFields, formatTime, isResetManagedFields,
  ManagedFieldsError, ownerId, printManager, stripMeta,
} from "./managed.ts";
import type { Managed, ManagedFieldsEntry, Operation, Owner } from "./managed.ts";
import { resolveSchema } from "./schema.ts";
import type { SchemaRef, TypeSchema } from "./schema.ts";
import {
  compare, deepEqual, ensureNamedFieldsAreMembers, isObject, merge, removeItems, toFieldSet, TypedValueError,
} from "./typed.ts";
import type { Comparison, JsonObject } from "./typed.ts";
import { allowedConflictsFromLastApplied, LAST_APPLIED_ANNOTATION, withLastApplied } from "./lastapplied.ts";

export const BEFORE_FIRST_APPLY = "before-first-apply";

/** Paths (field names from the root) excluded from ownership and comparison, e.g. `[["status"]]`. */
export type IgnoredFields = ReadonlyArray<readonly string[]>;

export interface UpdateOptions {
  /** fieldManager, else the user agent up to its first "/" (upstream managerOrUserAgent); "" is recorded as "unknown". */
  readonly manager: string;
  readonly operation?: "Update";
  /** The request's group/version, e.g. "apps/v1". */
  readonly apiVersion: string;
  /** "status", "scale", … for subresource writes. */
  readonly subresource?: string;
  readonly time: Date | string;
  /** Upstream's reset fields for this endpoint; see `resetFieldsFor`. */
  readonly ignore?: IgnoredFields;
}

export interface ApplyOptions {
  readonly manager: string;
  readonly apiVersion: string;
  /** When given, the applied object's apiVersion/kind must match (400 otherwise). */
  readonly kind?: string;
  readonly force: boolean;
  readonly subresource?: string;
  readonly time: Date | string;
  readonly ignore?: IgnoredFields;
  /** The kubectl client-side-apply upgrade path (manager "kubectl" only). Default true, as upstream. */
  readonly lastApplied?: boolean;
}

/** One field another manager owns and the apply would change. */
export interface Conflict {
  readonly manager: string;
  readonly operation: Operation;
  readonly apiVersion: string;
  readonly subresource?: string;
  /** `.spec.replicas`, `.spec.template.spec.containers[name="web"].image`. */
  readonly field: string;
  readonly path: readonly PathElement[];
  /** The cause message: `conflict with "kubectl-client-side-apply" using apps/v1`. */
  readonly message: string;
}

export interface ApplySuccess {
  /** The merged object with `metadata.managedFields` set (absent when no entries remain). */
  readonly object: KubeObject;
  readonly managedFields: ManagedFieldsEntry[];
  /** The object (ignoring managedFields) equals the live one. */
  readonly unchanged: boolean;
}

export interface ApplyConflicts {
  readonly conflicts: Conflict[];
}

export type ApplyResult = ApplySuccess | ApplyConflicts;

/**
 * Upstream's reset fields: on the main resource of a kind with a status subresource `status` is
 * not owned; on the status subresource `spec` is not. Pass the result as `ignore`.
 */
const IGNORE_SPEC: IgnoredFields = Object.freeze([Object.freeze(["spec"])]);
const IGNORE_STATUS: IgnoredFields = Object.freeze([Object.freeze(["status"])]);
const IGNORE_NOTHING: IgnoredFields = Object.freeze([]);

export function resetFieldsFor(opts: { subresource?: string; hasStatusSubresource: boolean }): IgnoredFields {
  if (opts.subresource === "status") return IGNORE_SPEC;
  if (!opts.subresource && opts.hasStatusSubresource) return IGNORE_STATUS;
  return IGNORE_NOTHING;
}

/** Paths of `ignore`, memoized per (usually constant) `ignore` list. */
const ignoredPaths = new WeakMap<IgnoredFields, { readonly paths: Path[]; readonly key: string }>();

function ignoreInfo(ignore: IgnoredFields | undefined): { readonly paths: Path[]; readonly key: string } {
  const list = ignore ?? IGNORE_NOTHING;
  let info = ignoredPaths.get(list);
  if (info === undefined) {
    const paths = list.map((names) => pathOf(...names));
    info = { paths, key: paths.map((p) => p.join(".")).join("|") };
    ignoredPaths.set(list, info);
  }
  return info;
}

function ignorePaths(ignore: IgnoredFields | undefined): Path[] {
  return ignoreInfo(ignore).paths;
}

function withoutManagedFields(obj: KubeObject | undefined): JsonObject {
  if (!obj) return {};
  const md = obj.metadata;
  if (!isObject(md) || !("managedFields" in md)) return obj;
  const { managedFields: _dropped, ...rest } = md;
  return { ...obj, metadata: rest };
}

function filterComparison(c: Comparison, ignore: Path[]): Comparison {
  if (ignore.length === 0) return c;
  return {
    added: c.added.withoutPrefixes(ignore),
    modified: c.modified.withoutPrefixes(ignore),
    removed: c.removed.withoutPrefixes(ignore),
  };
}

/**
 * Upstream Updater.update: every manager other than `self` loses the fields the write changed
 * (conflicts) and the fields it removed. Without `force`, changed fields owned by others are
 * returned as conflicts instead and `managed` is left alone.
 */
function updateOthers(managed: Managed, self: string, cmp: Comparison, force: boolean): Conflict[] | Managed {
  const changed = cmp.modified.union(cmp.added);
  const conflicts: Array<{ id: string; owner: Owner; set: FieldSet }> = [];
  for (const [id, owner] of managed) {
    if (id === self) continue;
    const c = owner.set.intersection(changed);
    if (!c.isEmpty()) conflicts.push({ id, owner, set: c });
  }
  if (!force && conflicts.length > 0) {
    conflicts.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return conflicts.flatMap(({ owner, set }) => set.paths().map((path): Conflict => ({
      manager: owner.manager,
      operation: owner.operation,
      apiVersion: owner.apiVersion,
      ...(owner.subresource !== "" ? { subresource: owner.subresource } : {}),
      field: pathString(path),
      path,
      message: `conflict with ${printManager(owner)}`,
    })));
  }
  const out: Managed = new Map();
  for (const [id, owner] of managed) {
    if (id === self) {
      out.set(id, owner);
      continue;
    }
    const set = owner.set.difference(changed).difference(cmp.removed);
    if (!set.isEmpty()) out.set(id, { ...owner, set });
  }
  return out;
}

interface Identity {
  readonly manager: string;
  readonly apiVersion: string;
  readonly subresource: string;
}

/**
 * The non-apply write path below skip-non-applied: ownership of what `newObj` changed relative to
 * `liveObj` moves to the (Update) manager, stamped with `time`; then the Update-manager cap.
 */
function trackUpdate(t: TypeSchema, liveObj: JsonObject, newObj: JsonObject, managed: Managed, who: Identity, time: string, ignore: Path[]): Managed {
  // Ignored top-level fields (`status` on the main resource, `spec` on /status) are left out of
  // the comparison instead of being compared and then filtered out: the result is the same.
  const cmp = filterComparison(compare(t, withoutTopLevel(liveObj, ignore), withoutTopLevel(newObj, ignore)), ignore);
  const key = { manager: who.manager, operation: "Update" as const, apiVersion: who.apiVersion, subresource: who.subresource };
  const id = ownerId(key);
  // Upstream computes the writer's share under a temporary name, so its previous entry is
  // treated like any other manager first and then unioned back.
  const updated = updateOthers(managed, "", cmp, true) as Managed;
  const mine = stripMeta(cmp.modified.union(cmp.added).withoutPrefixes(ignore));
  if (!mine.isEmpty()) {
    const prev = updated.get(id);
    let set = prev ? mine.union(prev.set) : mine;
    // A writer changing fields it already owned keeps the set it had (same object: its
    // FieldsV1 and the codec's bytes for it are reused instead of encoded again).
    const had = managed.get(id)?.set;
    if (had !== undefined && set !== had && set.equals(had)) set = had;
    updated.set(id, { ...key, time, set });
  }
  return capUpdateManagers(updated);
}

/** `obj` without the top-level members named by one-element `ignore` paths (a shallow copy if any). */
function withoutTopLevel(obj: JsonObject, ignore: Path[]): JsonObject {
  let out = obj;
  for (const p of ignore) {
    if (p.length !== 1) continue;
    const name = (p[0] as string).slice(2);
    if (!(name in out)) continue;
    if (out === obj) out = { ...obj };
    delete out[name];
  }
  return out;
}

/**
 * Fields a create (no live object, no managedFields in the request) gives its manager depend only
 * on the object's shape: its member names, the JSON type of each value, and the full content of
 * lists (keys, set items and positions come from list items). Creates of objects with the same
 * shape — every pod of a ReplicaSet, every Event of one kind — reuse the set.
 */
const createSets = new WeakMap<TypeSchema, Map<string, FieldSet>>();
const CREATE_SETS_MAX = 512;

function shapeOf(v: unknown, exact: boolean, depth: number): string {
  if (depth > 100) throw new TypedValueError("object nested too deeply");
  if (v === null) return "z";
  switch (typeof v) {
    case "string": return exact ? JSON.stringify(v) : "s";
    case "number": return exact ? `n${v}` : "n";
    case "boolean": return exact ? (v ? "T" : "F") : "b";
    case "undefined": return "u";
    case "object": break;
    default: return "?";
  }
  if (Array.isArray(v)) {
    // List content matters in full. JSON text is exact for it, except that it writes an undefined
    // item as null (and undefined members not at all, which compare treats as absent anyway).
    if (!v.includes(undefined)) return JSON.stringify(v);
    let out = "[";
    for (let i = 0; i < v.length; i++) out += shapeOf(v[i], true, depth + 1) + ",";
    return out + "]";
  }
  const o = v as JsonObject;
  const keys = Object.keys(o);
  // The member names in one native call; then each value's shape, comma-separated.
  let out = JSON.stringify(keys) + "{";
  for (let i = 0; i < keys.length; i++) out += shapeOf(o[keys[i] as string], exact, depth + 1) + ",";
  return out + "}";
}

/** The manager's share of a create: what `trackUpdate` computes from an empty live object. */
function createdSet(t: TypeSchema, newObj: JsonObject, ignoreList: IgnoredFields | undefined): FieldSet {
  const { paths: ignore, key } = ignoreInfo(ignoreList);
  const obj = withoutTopLevel(newObj, ignore);
  const shape = key + "#" + shapeOf(obj, false, 0);
  let bySchema = createSets.get(t);
  if (bySchema === undefined) createSets.set(t, (bySchema = new Map()));
  const hit = bySchema.get(shape);
  if (hit !== undefined) return hit;
  const cmp = filterComparison(compare(t, {}, obj), ignore);
  const set = stripMeta(cmp.modified.union(cmp.added).withoutPrefixes(ignore));
  if (bySchema.size >= CREATE_SETS_MAX) bySchema.clear();
  bySchema.set(shape, set);
  return set;
}

function normalizeManager(m: string): string {
  return m === "" ? "unknown" : m;
}

/**
 * managedFields after a non-apply write (create, update, any non-apply patch) of `updated` over
 * `live` (undefined on create).
 *
 * - The managedFields to start from are `updated`'s when it carries a valid non-empty list (users
 *   may edit them), none when it carries `[]` or `[{}]` (reset), else `live`'s. Subresource
 *   writes always start from `live`'s.
 * - An existing object (has a uid) with no managedFields stays untracked (returns []), as upstream.
 * - The manager gains the fields it added or changed and keeps its previous ones; others lose
 *   them; removed fields lose all owners; empty entries are dropped; at most 10 Update entries.
 *
 * Returns the new list (possibly empty: then omit `metadata.managedFields`). Never throws for
 * bad stored managedFields (they are treated as absent, like upstream's UpdateNoErrors).
 */
export function updateManagedFields(
  schemaRef: SchemaRef, live: KubeObject | undefined, updated: KubeObject, opts: UpdateOptions,
): ManagedFieldsEntry[] {
  const t = resolveSchema(schemaRef);
  const subresource = opts.subresource ?? "";
  const liveManaged = live?.metadata?.managedFields;
  const safeDecode = (v: unknown): Managed => {
    try {
      return decodeManagedFields(v);
    } catch (e) {
      if (e instanceof ManagedFieldsError) return new Map();
      throw e;
    }
  };
  let managed: Managed;
  const requested = updated.metadata?.managedFields;
  if (subresource !== "") managed = safeDecode(liveManaged);
  else if (isResetManagedFields(requested)) managed = new Map();
  else {
    let fromRequest: Managed | undefined;
    try {
      fromRequest = decodeManagedFields(requested);
    } catch (e) {
      if (!(e instanceof ManagedFieldsError)) throw e;
    }
    managed = fromRequest && fromRequest.size > 0 ? fromRequest : safeDecode(liveManaged);
  }
  if (managed.size === 0 && live?.metadata?.uid) return [];
  if (managed.size === 0 && live === undefined) {
    // A plain create: the writer gets everything it wrote (memoized by shape, see createdSet).
    const mine = createdSet(t, withoutManagedFields(updated), opts.ignore);
    const who = { manager: normalizeManager(opts.manager), operation: "Update" as const, apiVersion: opts.apiVersion, subresource };
    const fresh: Managed = new Map();
    if (!mine.isEmpty()) fresh.set(ownerId(who), { ...who, time: formatTime(opts.time), set: mine });
    return encodeManagedFields(fresh);
  }
  const result = trackUpdate(t, withoutManagedFields(live), withoutManagedFields(updated), managed, {
    manager: normalizeManager(opts.manager), apiVersion: opts.apiVersion, subresource,
  }, formatTime(opts.time), ignorePaths(opts.ignore));
  return encodeManagedFields(result);
}

function removeFieldPaths(obj: JsonObject, paths: Path[]): JsonObject {
  let out = obj;
  for (const p of paths) {
    const names = p.map((pe) => pe.slice(2));
    const strip = (o: JsonObject, i: number): JsonObject => {
      const name = names[i]!;
      if (!(name in o)) return o;
      const copy = { ...o };
      if (i === names.length - 1) delete copy[name];
      else {
        const child = o[name];
        if (isObject(child)) copy[name] = strip(child, i + 1);
      }
      return copy;
    };
    out = strip(out, 0);
  }
  return out;
}

function groupVersionKindString(apiVersion: string, kind: string): string {
  const slash = apiVersion.indexOf("/");
  const gv = slash < 0 ? `/${apiVersion}` : apiVersion;
  return `${gv}, Kind=${kind}`;
}

function describe(obj: JsonObject, opts: ApplyOptions): string {
  const md = isObject(obj.metadata) ? obj.metadata : {};
  const ns = typeof md.namespace === "string" && md.namespace !== "" ? md.namespace : "";
  const name = typeof md.name === "string" ? md.name : "";
  return `${ns}/${name}; ${groupVersionKindString(opts.apiVersion, opts.kind ?? String(obj.kind ?? ""))}`;
}

/** structured-merge-diff's Updater.Apply plus meta stripping and timestamps. */
function applyOnce(
  t: TypeSchema, liveObj: JsonObject, applied: JsonObject, appliedSet: FieldSet, managed: Managed,
  who: Identity, force: boolean, time: string, ignore: Path[],
): { object: JsonObject; managed: Managed; noop: boolean } | Conflict[] {
  const key = { manager: who.manager, operation: "Apply" as const, apiVersion: who.apiVersion, subresource: who.subresource };
  const id = ownerId(key);
  const mergedValue = merge(t, liveObj, applied);
  const merged = isObject(mergedValue) ? mergedValue : {};
  const last = managed.get(id);
  const withMine: Managed = new Map(managed);
  withMine.set(id, { ...key, time: last?.time, set: appliedSet });

  // Prune: what this manager applied last time, no longer applies, and nobody else owns.
  let newObj = merged;
  if (last && !last.set.isEmpty()) {
    let owned = new FieldSet();
    for (const o of withMine.values()) owned = owned.union(o.set);
    const toRemove = ensureNamedFieldsAreMembers(t, last.set).difference(ensureNamedFieldsAreMembers(t, owned));
    const pruned = removeItems(t, merged, toRemove);
    newObj = isObject(pruned) ? pruned : {};
  }

  const cmp = filterComparison(compare(t, liveObj, newObj), ignore);
  const res = updateOthers(withMine, id, cmp, force);
  if (Array.isArray(res)) return res;
  const noop = deepEqual(liveObj, newObj);
  const mine = stripMeta(appliedSet);
  if (mine.isEmpty()) res.delete(id);
  else res.set(id, { ...key, time: noop ? last?.time : time, set: mine });
  return { object: noop ? liveObj : newObj, managed: res, noop };
}

function typedError(e: unknown, what: string): never {
  if (e instanceof TypedValueError) throw badRequest(`${what}: ${e.message}`);
  throw e;
}

/**
 * Server-side apply of `applied` over `live` (undefined: create-if-absent).
 *
 * Returns `{ object, managedFields, unchanged }` or `{ conflicts }` (never both). `object` is the
 * merged object with managedFields set; the caller still runs defaulting, validation, admission
 * and the storage write (201 when `live` was undefined). With `force`, conflicting fields change
 * owner instead of failing.
 *
 * Throws ApiError 400 for: a wrong apiVersion/kind (when `opts.kind` is given), a non-object body,
 * `metadata.managedFields` in the applied object, or an applied object the schema cannot type
 * (duplicate list keys, items without keys, wrong shapes). Throws ApiError 500 when the stored
 * managedFields cannot be decoded.
 */
export function apply(schemaRef: SchemaRef, live: KubeObject | undefined, applied: KubeObject, opts: ApplyOptions): ApplyResult {
  const t = resolveSchema(schemaRef);
  if (!isObject(applied)) throw badRequest("apply patch must be an object");
  if (opts.kind !== undefined && (applied.apiVersion !== opts.apiVersion || applied.kind !== opts.kind)) {
    throw badRequest(`invalid object type: ${groupVersionKindString(String(applied.apiVersion ?? ""), String(applied.kind ?? ""))}`);
  }
  if (opts.kind === undefined && applied.apiVersion !== undefined && applied.apiVersion !== opts.apiVersion) {
    throw badRequest(`Incorrect version specified in apply patch. Specified patch version: ${String(applied.apiVersion)}, expected: ${opts.apiVersion}`);
  }
  if (isObject(applied.metadata) && applied.metadata.managedFields !== undefined && applied.metadata.managedFields !== null) {
    throw badRequest("metadata.managedFields must be nil");
  }
  const ignore = ignorePaths(opts.ignore);
  const time = formatTime(opts.time);
  const who: Identity = { manager: normalizeManager(opts.manager), apiVersion: opts.apiVersion, subresource: opts.subresource ?? "" };

  let managed: Managed;
  try {
    managed = decodeManagedFields(live?.metadata?.managedFields);
  } catch (e) {
    if (e instanceof ManagedFieldsError) throw new ApiError(500, "InternalError", `failed to decode managed fields: ${e.message}`);
    throw e;
  }
  const liveObj = withoutManagedFields(live);
  const config = removeFieldPaths(applied, ignore);
  let appliedSet: FieldSet;
  try {
    appliedSet = toFieldSet(t, config, true).withoutPrefixes(ignore);
  } catch (e) {
    typedError(e, `failed to create typed patch object (${describe(applied, opts)})`);
  }

  // skip-non-applied: the first apply to an untracked object hands its fields to before-first-apply.
  if (managed.size === 0 && live !== undefined) {
    managed = trackUpdate(t, {}, liveObj, managed, { ...who, manager: BEFORE_FIRST_APPLY }, time, ignore);
  }

  const run = (force: boolean): ReturnType<typeof applyOnce> => {
    try {
      return applyOnce(t, liveObj, config, appliedSet, managed, who, force, time, ignore);
    } catch (e) {
      return typedError(e, `failed to merge config (${describe(applied, opts)})`);
    }
  };
  let res = run(opts.force);
  if (Array.isArray(res) && who.manager === "kubectl" && opts.lastApplied !== false) {
    // The client-side-apply upgrade: conflicts on fields whose live value is still what the
    // last-applied annotation says are the user's own, so kubectl may take them.
    const allowed = allowedConflictsFromLastApplied(t, liveObj, opts.apiVersion);
    if (allowed) {
      const remaining = res.filter((c) => !allowed.has(c.path));
      res = remaining.length === 0 ? run(true) : remaining;
    }
  }
  if (Array.isArray(res)) return { conflicts: res };

  let object: JsonObject = res.object;
  if (who.manager === "kubectl" && opts.lastApplied !== false) object = withLastApplied(object, applied);
  const managedFields = encodeManagedFields(res.managed);
  const md: JsonObject = isObject(object.metadata) ? { ...object.metadata } : {};
  if (managedFields.length > 0) md.managedFields = managedFields;
  else delete md.managedFields;
  const out: KubeObject = { ...object, metadata: md };
  const unchanged = live !== undefined && deepEqual(liveObj, withoutManagedFields(out));
  return { object: out, managedFields, unchanged };
}

/** Type guard for `apply`'s result. */
export function isConflicts(r: ApplyResult): r is ApplyConflicts {
  return "conflicts" in r;
}

/**
 * The 409 for a failed apply, with upstream's message texts: one cause per field
 * (`FieldManagerConflict`, field `.spec.replicas`, message `conflict with "x" using apps/v1`).
 */
export function conflictError(conflicts: readonly Conflict[]): ApiError {
  const causes = conflicts.map((c) => ({ reason: "FieldManagerConflict" as const, message: c.message, field: c.field }));
  let message: string;
  if (conflicts.length === 1) {
    const c = conflicts[0]!;
    message = `Apply failed with 1 conflict: ${c.message}: ${c.field}`;
  } else {
    // Grouped by manager, managers in the order of their identifiers, as upstream prints them.
    const byManager = new Map<string, { who: string; fields: string[] }>();
    for (const c of conflicts) {
      const key = { manager: c.manager, operation: c.operation, apiVersion: c.apiVersion, subresource: c.subresource ?? "" };
      const id = ownerId(key);
      const group = byManager.get(id) ?? { who: printManager(key), fields: [] };
      group.fields.push(c.field);
      byManager.set(id, group);
    }
    const lines: string[] = [];
    for (const id of [...byManager.keys()].sort()) {
      const group = byManager.get(id)!;
      lines.push(`conflicts with ${group.who}:`);
      for (const f of group.fields) lines.push(`- ${f}`);
    }
    message = `Apply failed with ${conflicts.length} conflicts: ${lines.join("\n")}`;
  }
  return new ApiError(409, "Conflict", message, { causes });
}

export { LAST_APPLIED_ANNOTATION };
