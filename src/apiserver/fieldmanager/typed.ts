/**
 * Schema-aware walks over JSON objects, after structured-merge-diff's typed package:
 * the field set an object sets, the comparison of two objects, the apply merge, and removal of a
 * set of paths. Objects are plain JSON values; `undefined` means "absent".
 */
import { FieldSet, fieldPE, keyPE, pathString, valuePE } from "./fieldpath.ts";
import type { Path, PathElement, Scalar } from "./fieldpath.ts";
import { UNTYPED } from "./schema.ts";
import type { ListSchema, TypeSchema } from "./schema.ts";

export type JsonObject = { [k: string]: unknown };

/** Bad applied configuration: the message names the path, like upstream's typed errors. */
export class TypedValueError extends Error {
  override readonly name = "TypedValueError";
}

export function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isScalar(v: unknown): v is Scalar {
  return v === null || typeof v === "string" || typeof v === "number" || typeof v === "boolean";
}

/** Structural JSON equality (key order ignored). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) {
    if (!Object.prototype.hasOwnProperty.call(b, k)) return false;
    if (!deepEqual((a as JsonObject)[k], (b as JsonObject)[k])) return false;
  }
  return true;
}

const MAX_DEPTH = 100;

function depthGuard(path: Path): void {
  if (path.length > MAX_DEPTH) throw new TypedValueError(`${pathString(path)}: object nested too deeply`);
}

/** The type of the child at `pe` below a node of type `t`, and whether Go always carries it. */
function childType(t: TypeSchema, key: string): { type: TypeSchema; declared: boolean; alwaysPresent: boolean } {
  if (t.kind === "struct") {
    const f = t.field(key);
    return f ? { type: f.type, declared: true, alwaysPresent: f.alwaysPresent } : { type: UNTYPED, declared: false, alwaysPresent: false };
  }
  if (t.kind === "map") return { type: t.values, declared: false, alwaysPresent: false };
  return { type: UNTYPED, declared: false, alwaysPresent: false };
}

function typeBelow(t: TypeSchema, pe: PathElement): TypeSchema {
  if (pe.startsWith("f:")) return childType(t, pe.slice(2)).type;
  return t.kind === "list" ? t.items : UNTYPED;
}

/** Is `t` walked key by key for a value `v` (vs. treated as one leaf)? */
function granularMap(t: TypeSchema, v: unknown): boolean {
  return (t.kind === "struct" || t.kind === "map") ? !t.atomic && isObject(v) : t.kind === "untyped" && isObject(v);
}

/** `t` when `v` is walked item by item (an associative list holding an array). */
function granularList(t: TypeSchema, v: unknown): ListSchema | undefined {
  return t.kind === "list" && t.listType !== "atomic" && Array.isArray(v) ? t : undefined;
}

function goStrings(keys: readonly string[]): string {
  return `[${keys.map((k) => JSON.stringify(k)).join(" ")}]`;
}

/**
 * The path element of a list item, or a message saying why it has none. Keyed items missing a
 * key field use the schema's default for it, else leave it out of the key (as upstream does).
 */
export function itemPE(t: ListSchema, item: unknown): PathElement | { error: string } {
  if (t.listType === "map") {
    if (item === null) return { error: "associative list with keys may not have a null element" };
    if (!isObject(item)) return { error: "associative list with keys may not have non-map elements" };
    const fields: Array<readonly [string, Scalar]> = [];
    for (const k of t.keys) {
      const v = item[k];
      if (v !== undefined) {
        if (!isScalar(v)) return { error: `key field ${JSON.stringify(k)} must be a scalar` };
        fields.push([k, v]);
      } else if (t.keyDefaults[k] !== undefined) {
        fields.push([k, t.keyDefaults[k]]);
      }
    }
    if (fields.length === 0) {
      return { error: `associative list with keys has an element that omits all key fields ${goStrings(t.keys)} (and doesn't have default values for any key fields)` };
    }
    return keyPE(fields);
  }
  if (isObject(item)) return { error: "associative list without keys has an element that's a map type" };
  if (Array.isArray(item)) return { error: "not supported: associative list with lists as elements" };
  if (item === null) return { error: "associative list without keys has an element that's an explicit null" };
  if (!isScalar(item)) return { error: "unsupported list element" };
  return valuePE(item);
}

function wrongShape(t: TypeSchema, v: unknown): string | undefined {
  if (v === null || v === undefined) return undefined;
  const got = Array.isArray(v) ? "list" : isObject(v) ? "map" : typeof v;
  if (t.kind === "scalar" && (Array.isArray(v) || isObject(v))) return `expected scalar, got ${got}`;
  if ((t.kind === "struct" || t.kind === "map") && !isObject(v)) return `expected map, got ${got}`;
  if (t.kind === "list" && !Array.isArray(v)) return `expected list, got ${got}`;
  return undefined;
}

/**
 * The set of paths `v` sets (upstream ToFieldSet): scalars and atomic values are leaves, granular
 * list items are members too (`.`), map entries and unknown fields are members, and empty
 * maps/nulls are leaves. With `strict`, shape errors and duplicate keys throw `TypedValueError`
 * (applied configurations); otherwise bad items are skipped (stored objects).
 */
export function toFieldSet(t: TypeSchema, v: unknown, strict = false): FieldSet {
  const set = new FieldSet();
  walkSet(t, v, [], set, strict);
  return set;
}

function walkSet(t: TypeSchema, v: unknown, path: PathElement[], set: FieldSet, strict: boolean): void {
  depthGuard(path);
  if (strict) {
    const bad = wrongShape(t, v);
    if (bad) throw new TypedValueError(`${pathString(path)}: ${bad}`);
  }
  const lt = granularList(t, v);
  if (lt && Array.isArray(v)) {
    const seen = new Set<PathElement>();
    const dups = new Set<PathElement>();
    const pes: Array<PathElement | undefined> = [];
    for (let i = 0; i < v.length; i++) {
      const pe = itemPE(lt, v[i]);
      if (typeof pe !== "string") {
        if (strict) throw new TypedValueError(`${pathString(path)}: element ${i}: ${pe.error}`);
        pes.push(undefined);
        continue;
      }
      if (seen.has(pe)) {
        if (strict) throw new TypedValueError(`${pathString(path)}: duplicate entries for key ${pathString([pe])}`);
        dups.add(pe);
      }
      seen.add(pe);
      pes.push(pe);
    }
    for (let i = 0; i < v.length; i++) {
      const pe = pes[i];
      if (pe === undefined) continue;
      path.push(pe);
      if (!dups.has(pe)) walkSet(lt.items, v[i], path, set, strict);
      set.insert(path);
      path.pop();
    }
    return;
  }
  if (granularMap(t, v)) {
    for (const [k, cv] of Object.entries(v as JsonObject)) {
      if (cv === undefined) continue;
      const c = childType(t, k);
      path.push(fieldPE(k));
      walkSet(c.type, cv, path, set, strict);
      if (cv === null || (isObject(cv) && Object.keys(cv).length === 0) || !c.declared) set.insert(path);
      path.pop();
    }
    return;
  }
  if (t.kind === "list" && t.listType !== "atomic" && v === null) return; // null granular list: nothing set
  set.insert(path);
}

/** Upstream's Comparison: paths added, changed and removed going from lhs to rhs. */
export interface Comparison {
  readonly added: FieldSet;
  readonly modified: FieldSet;
  readonly removed: FieldSet;
}

/** Compares two objects of type `t` (upstream TypedValue.Compare). */
export function compare(t: TypeSchema, lhs: unknown, rhs: unknown): Comparison {
  const out = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet() };
  compareNode(t, lhs, rhs, [], out, false, true, true);
  return out;
}

function isEmptyContainer(v: unknown): boolean {
  return v === undefined || (Array.isArray(v) ? v.length === 0 : isObject(v) && Object.keys(v).length === 0);
}

function compareNode(
  t: TypeSchema, l: unknown, r: unknown, path: PathElement[], out: Comparison,
  alwaysPresent: boolean, lParent: boolean, rParent: boolean,
): void {
  depthGuard(path);
  // The same value on both sides (shared by a copy-on-write update) changes nothing.
  if (l === r && l !== undefined) return;
  if (alwaysPresent && (t.kind === "struct" || t.kind === "list")) {
    // Go's typed objects always carry these fields inside an existing parent: absent and empty
    // are the same thing there.
    const empty = t.kind === "struct" ? {} : [];
    if (l === undefined && lParent) l = empty;
    if (r === undefined && rParent) r = empty;
  }
  const bothEmpty = isEmptyContainer(l) && isEmptyContainer(r);
  const lShapeOk = l === undefined;
  const rShapeOk = r === undefined;
  const mapLike = !bothEmpty && (lShapeOk || granularMap(t, l)) && (rShapeOk || granularMap(t, r)) &&
    (granularMap(t, l) || granularMap(t, r));
  const listLike = !bothEmpty && t.kind === "list" && t.listType !== "atomic" &&
    (lShapeOk || Array.isArray(l)) && (rShapeOk || Array.isArray(r));
  if (mapLike) {
    const lm = (l ?? {}) as JsonObject;
    const rm = (r ?? {}) as JsonObject;
    const keys = new Set([...Object.keys(lm), ...Object.keys(rm)]);
    for (const k of keys) {
      const lv = lm[k];
      const rv = rm[k];
      const c = childType(t, k);
      if (lv === undefined && rv === undefined && !c.alwaysPresent) continue;
      path.push(fieldPE(k));
      compareNode(c.type, lv, rv, path, out, c.alwaysPresent, l !== undefined, r !== undefined);
      path.pop();
    }
  } else if (listLike) {
    compareList(t as ListSchema, (l ?? []) as unknown[], (r ?? []) as unknown[], path, out);
  } else {
    if (l === undefined) out.added.insert(path);
    else if (r === undefined) out.removed.insert(path);
    else if (!deepEqual(l, r)) out.modified.insert(path);
    return;
  }
  if (l === undefined) out.added.insert(path);
  else if (r === undefined) out.removed.insert(path);
}

function compareList(t: ListSchema, l: unknown[], r: unknown[], path: PathElement[], out: Comparison): void {
  const order: PathElement[] = [];
  const lValues = new Map<PathElement, unknown[]>();
  const rValues = new Map<PathElement, unknown[]>();
  for (const item of l) {
    const pe = itemPE(t, item);
    if (typeof pe !== "string") continue;
    const prev = lValues.get(pe);
    if (prev) prev.push(item);
    else {
      lValues.set(pe, [item]);
      order.push(pe);
    }
  }
  for (const item of r) {
    const pe = itemPE(t, item);
    if (typeof pe !== "string") continue;
    const prev = rValues.get(pe);
    if (prev) prev.push(item);
    else {
      rValues.set(pe, [item]);
      if (!lValues.has(pe)) order.push(pe);
    }
  }
  for (const pe of order) {
    const ll = lValues.get(pe) ?? [];
    const rl = rValues.get(pe) ?? [];
    path.push(pe);
    if (ll.length <= 1 && rl.length <= 1) {
      compareNode(t.items, ll[0], rl[0], path, out, false, true, true);
    } else if (ll.length >= 2 && rl.length >= 2) {
      if (!deepEqual(ll, rl)) out.modified.insert(path);
    } else if (ll.length >= 2) {
      if (rl.length !== 0) compareNode(t.items, undefined, rl[0], path, out, false, true, true);
      out.removed.insert(path);
    } else {
      if (ll.length !== 0) compareNode(t.items, ll[0], undefined, path, out, false, true, true);
      out.added.insert(path);
    }
    path.pop();
  }
}

/**
 * Merges an applied configuration `rhs` into `lhs` (upstream TypedValue.Merge): granular maps and
 * structs key by key, associative lists item by item (order: live order with applied items placed
 * as upstream does), atomic values and scalars replaced. `null` in rhs removes the field. Returns
 * undefined for "absent". `rhs` must have passed `toFieldSet(t, rhs, true)`.
 */
export function merge(t: TypeSchema, lhs: unknown, rhs: unknown): unknown {
  return mergeNode(t, lhs, rhs, 0);
}

function dropNulls(t: TypeSchema, v: unknown, depth: number): unknown {
  if (v === null) return undefined;
  if (depth > MAX_DEPTH) throw new TypedValueError("object nested too deeply");
  if (granularMap(t, v)) {
    const out: JsonObject = {};
    for (const [k, cv] of Object.entries(v as JsonObject)) {
      const m = dropNulls(childType(t, k).type, cv, depth + 1);
      if (m !== undefined) out[k] = m;
    }
    return out;
  }
  const lt = granularList(t, v);
  if (lt && Array.isArray(v)) return v.map((item) => dropNulls(lt.items, item, depth + 1) ?? null);
  return v;
}

function mergeNode(t: TypeSchema, l: unknown, r: unknown, depth: number): unknown {
  if (r === undefined) return l;
  if (l === undefined || l === null) return dropNulls(t, r, depth);
  if (r === null) return undefined;
  if (depth > MAX_DEPTH) throw new TypedValueError("object nested too deeply");
  if (isEmptyContainer(l) && isEmptyContainer(r)) return r;
  if (granularMap(t, l) && granularMap(t, r)) {
    const lm = l as JsonObject;
    const rm = r as JsonObject;
    const out: JsonObject = {};
    for (const k of Object.keys(lm)) {
      const m = mergeNode(childType(t, k).type, lm[k], rm[k], depth + 1);
      if (m !== undefined) out[k] = m;
    }
    for (const k of Object.keys(rm)) {
      if (Object.prototype.hasOwnProperty.call(lm, k)) continue;
      const m = mergeNode(childType(t, k).type, undefined, rm[k], depth + 1);
      if (m !== undefined) out[k] = m;
    }
    return Object.keys(out).length > 0 ? out : undefined;
  }
  const lt = granularList(t, l);
  if (lt && Array.isArray(l) && Array.isArray(r)) return mergeList(lt, l, r, depth);
  return dropNulls(t, r, depth);
}

const DUPLICATE = Symbol("duplicate");

function mergeList(t: ListSchema, l: unknown[], r: unknown[], depth: number): unknown {
  const rPEs: PathElement[] = [];
  const rSeen = new Map<PathElement, unknown>();
  for (const item of r) {
    const pe = itemPE(t, item);
    if (typeof pe !== "string") throw new TypedValueError(pe.error);
    rSeen.set(pe, item);
    rPEs.push(pe);
  }
  const lPEs: PathElement[] = [];
  const lItems: unknown[] = [];
  const lSeen = new Map<PathElement, unknown>();
  for (const item of l) {
    const pe = itemPE(t, item);
    if (typeof pe !== "string") continue; // a bad stored item cannot be addressed; it is dropped
    lSeen.set(pe, lSeen.has(pe) ? DUPLICATE : item);
    lPEs.push(pe);
    lItems.push(item);
  }
  const shared = rPEs.filter((pe) => lSeen.has(pe));
  let sharedAt = 0;
  let nextShared: PathElement | undefined = shared[sharedAt++];
  const merged = new Set<PathElement>();
  const out: unknown[] = [];
  const push = (lv: unknown, rv: unknown): void => {
    const m = mergeNode(t.items, lv === DUPLICATE ? undefined : lv, rv, depth + 1);
    if (m !== undefined) out.push(m);
  };
  let li = 0;
  let ri = 0;
  // Each pass advances li or ri, so the loop runs at most |l| + |r| times.
  while (li < lPEs.length || ri < rPEs.length) {
    if (li < lPEs.length && ri < rPEs.length) {
      const pe = lPEs[li]!;
      if (pe === rPEs[ri]) {
        merged.add(pe);
        push(lSeen.get(pe), rSeen.get(pe));
        li++;
        ri++;
        nextShared = shared[sharedAt++];
        continue;
      }
      if (rSeen.has(pe) && nextShared !== undefined && nextShared !== pe) {
        li++;
        continue;
      }
    }
    if (li < lPEs.length) {
      const pe = lPEs[li]!;
      if (!rSeen.has(pe)) {
        push(lItems[li], undefined);
        li++;
        continue;
      } else if (merged.has(pe)) {
        li++;
      }
    }
    if (ri < rPEs.length) {
      const pe = rPEs[ri]!;
      merged.add(pe);
      push(lSeen.get(pe), rSeen.get(pe));
      ri++;
      if (nextShared === pe) nextShared = shared[sharedAt++];
    }
  }
  return out.length > 0 ? out : undefined;
}

/**
 * Removes the paths in `set` from `v` (upstream RemoveItems): a member removes the whole value at
 * that path, a child set recurses. Maps and lists left empty become absent.
 */
export function removeItems(t: TypeSchema, v: unknown, set: FieldSet): unknown {
  return removeNode(t, v, set, 0);
}

function removeNode(t: TypeSchema, v: unknown, set: FieldSet, depth: number): unknown {
  if (set.isEmpty() || isEmptyContainer(v)) return v;
  if (depth > MAX_DEPTH) throw new TypedValueError("object nested too deeply");
  const lt = granularList(t, v);
  if (lt && Array.isArray(v)) {
    const out: unknown[] = [];
    for (const item of v) {
      const pe = itemPE(lt, item);
      if (typeof pe !== "string") {
        out.push(item);
        continue;
      }
      if (set.members.has(pe)) continue;
      const sub = set.children.get(pe);
      const kept = sub ? removeNode(lt.items, item, sub, depth + 1) : item;
      out.push(kept === undefined ? {} : kept);
    }
    return out.length > 0 ? out : undefined;
  }
  if (granularMap(t, v)) {
    const out: JsonObject = {};
    for (const [k, cv] of Object.entries(v as JsonObject)) {
      const pe = fieldPE(k);
      if (set.members.has(pe)) continue;
      const sub = set.children.get(pe);
      const kept = sub ? removeNode(childType(t, k).type, cv, sub, depth + 1) : cv;
      if (kept !== undefined) out[k] = kept;
    }
    return Object.keys(out).length > 0 ? out : undefined;
  }
  return v;
}

/**
 * Upstream EnsureNamedFieldsAreMembers: struct fields that have children in `set` become members
 * too, so removing by this set removes the struct field itself; map keys and list items do not.
 */
export function ensureNamedFieldsAreMembers(t: TypeSchema, set: FieldSet): FieldSet {
  const out = new FieldSet();
  for (const m of set.members) out.members.add(m);
  for (const [pe, c] of set.children) {
    if (t.kind === "struct" && pe.startsWith("f:") && t.field(pe.slice(2))) out.members.add(pe);
    out.children.set(pe, ensureNamedFieldsAreMembers(typeBelow(t, pe), c));
  }
  return out;
}

/** The subtree of `v` at `path`, or undefined. Used to read annotation/status values by path. */
export function valueAt(t: TypeSchema, v: unknown, path: Path): unknown {
  let cur = v;
  let ty = t;
  for (const pe of path) {
    if (pe.startsWith("f:")) {
      if (!isObject(cur)) return undefined;
      cur = cur[pe.slice(2)];
    } else if (ty.kind === "list" && Array.isArray(cur)) {
      const list: ListSchema = ty;
      cur = cur.find((item) => itemPE(list, item) === pe);
    } else {
      return undefined;
    }
    ty = typeBelow(ty, pe);
  }
  return cur;
}
