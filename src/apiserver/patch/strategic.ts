/**
 * A minimal strategic merge patch (pure) covering what kubectl sends in practice: maps merge like
 * RFC 7386; lists whose schema declares a patch merge key (containers/env/volumes by `name`, ports
 * by `containerPort`, ...) merge element-wise by that key; `$patch: delete` removes a keyed element,
 * `$patch: replace` replaces the enclosing map or list; `$setElementOrder/<f>`, `$retainKeys` and
 * `$deleteFromPrimitiveList/<f>` are honoured in their simple forms; other lists replace.
 *
 * The merge metadata comes from a `MergeKeyLookup`: given the JSON path of a list field (field
 * names only, list indices dropped, e.g. `spec.template.spec.containers`), it returns the merge key
 * and whether the strategy is "merge". The full SMP (retainKeys semantics on every union type,
 * primitive-list merges with ordering) is a later issue.
 */
import type { Json } from "./jsonpatch.ts";
import { PatchError } from "./jsonpatch.ts";

export interface ListMergeInfo {
  /** Merge key of the elements (absent for primitive lists merged as sets). */
  readonly mergeKey?: string;
  /** `merge` strategy: merge by key (or set-union for primitives); otherwise replace. */
  readonly merge: boolean;
}

/** `path` is the dotted field path (no indices) of a list field inside the object. */
export type MergeKeyLookup = (path: string) => ListMergeInfo | undefined;

function isObject(v: unknown): v is { [k: string]: Json } {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const MAX_DEPTH = 500;

export function applyStrategicMergePatch(target: Json, patch: Json, lookup: MergeKeyLookup): Json {
  if (!isObject(patch)) throw new PatchError("malformed", "strategic merge patch must be a JSON object");
  return mergeMap(isObject(target) ? target : {}, patch, "", lookup, 0);
}

function mergeMap(
  target: { [k: string]: Json }, patch: { [k: string]: Json }, path: string, lookup: MergeKeyLookup, depth: number,
): { [k: string]: Json } {
  if (depth > MAX_DEPTH) throw new PatchError("malformed", "strategic merge patch nested too deeply");
  const directive = patch["$patch"];
  if (directive === "replace") {
    const copy = { ...patch };
    delete copy["$patch"];
    return stripDirectives(copy) as { [k: string]: Json };
  }
  if (directive !== undefined && directive !== "merge" && directive !== "delete") {
    throw new PatchError("malformed", `unknown patch type: ${String(directive)} in map: ${JSON.stringify(patch)}`);
  }
  let out: { [k: string]: Json } = { ...target };
  const retain = patch["$retainKeys"];
  if (Array.isArray(retain)) {
    const keep = new Set(retain.filter((x): x is string => typeof x === "string"));
    out = Object.fromEntries(Object.entries(out).filter(([k]) => keep.has(k)));
  }
  for (const [k, v] of Object.entries(patch)) {
    if (k === "$patch" || k === "$retainKeys") continue;
    if (k.startsWith("$setElementOrder/")) continue; // ordering hint only: safe to ignore
    if (k.startsWith("$deleteFromPrimitiveList/")) {
      const field = k.slice("$deleteFromPrimitiveList/".length);
      const cur = out[field];
      if (Array.isArray(cur) && Array.isArray(v)) out[field] = cur.filter((x) => !v.some((d) => d === x));
      continue;
    }
    if (k.startsWith("$")) throw new PatchError("malformed", `unknown patch directive: ${k}`);
    const childPath = path === "" ? k : `${path}.${k}`;
    if (v === null) {
      delete out[k];
    } else if (isObject(v)) {
      if (v["$patch"] === "delete") {
        delete out[k];
        continue;
      }
      const cur = out[k];
      out[k] = mergeMap(isObject(cur) ? cur : {}, v, childPath, lookup, depth + 1);
    } else if (Array.isArray(v)) {
      out[k] = mergeList(out[k], v, childPath, lookup, depth + 1);
    } else {
      out[k] = v;
    }
  }
  return out;
}

function mergeList(target: Json | undefined, patch: Json[], path: string, lookup: MergeKeyLookup, depth: number): Json {
  const info = lookup(path);
  // `$patch: replace` inside a list replaces the whole list.
  if (patch.some((e) => isObject(e) && e["$patch"] === "replace")) {
    return patch.filter((e) => !(isObject(e) && e["$patch"] === "replace")).map(stripDirectives);
  }
  if (!info || !info.merge) return patch.map(stripDirectives);
  const cur = Array.isArray(target) ? target : [];
  const key = info.mergeKey;
  if (key === undefined) {
    // primitive list with merge strategy: set union, patch order after existing.
    const out = [...cur];
    for (const e of patch) if (!out.some((x) => x === e)) out.push(e);
    return out;
  }
  const out: Json[] = [...cur];
  for (const e of patch) {
    if (!isObject(e)) throw new PatchError("malformed", `expected a map in list ${path} with merge key ${key}, got ${JSON.stringify(e)}`);
    const kv = e[key];
    if (kv === undefined) throw new PatchError("malformed", `map: ${JSON.stringify(e)} does not contain declared merge key: ${key}`);
    const idx = out.findIndex((x) => isObject(x) && x[key] === kv);
    if (e["$patch"] === "delete") {
      if (idx >= 0) out.splice(idx, 1);
      continue;
    }
    if (idx >= 0) out[idx] = mergeMap(out[idx] as { [k: string]: Json }, e, path, lookup, depth + 1);
    else out.push(stripDirectives(e));
  }
  return out;
}

function stripDirectives(v: Json): Json {
  if (Array.isArray(v)) return v.map(stripDirectives);
  if (!isObject(v)) return v;
  const out: { [k: string]: Json } = {};
  for (const [k, x] of Object.entries(v)) {
    if (k.startsWith("$")) continue;
    out[k] = stripDirectives(x);
  }
  return out;
}
