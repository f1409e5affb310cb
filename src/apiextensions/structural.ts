/**
 * Pruning and defaulting of custom resource values by a structural schema (pure, in place).
 *
 * - `prune`: removes fields the schema does not specify, except under
 *   `x-kubernetes-preserve-unknown-fields: true` (known properties below are still walked) and the
 *   `apiVersion`/`kind`/`metadata` of the root and of `x-kubernetes-embedded-resource` objects.
 *   Returns the removed paths (`spec.foo`, `spec.items[0].bar`) for fieldValidation reporting.
 * - `applySchemaDefaults`: fills `default` values of absent properties (and of `null` ones that
 *   are not nullable), top-down, walking into defaulted values too.
 */
import { additionalOf, isObj, itemsOf, type Schema } from "./schema.ts";

const MAX_DEPTH = 200;
const META_KEYS = new Set(["apiVersion", "kind", "metadata"]);

function join(path: string, k: string): string {
  return path === "" ? k : `${path}.${k}`;
}

/** Removes unknown fields from `obj` (a custom resource) in place; returns their paths. */
export function prune(root: Schema, obj: Record<string, unknown>): string[] {
  const out: string[] = [];
  pruneObject(root, obj, "", true, out, 0);
  return out;
}

/** Like `prune` but on a copy: the unknown-field paths only. */
export function unknownFieldPaths(root: Schema, obj: Record<string, unknown>): string[] {
  return prune(root, structuredClone(obj));
}

function pruneValue(s: Schema | undefined, v: unknown, path: string, out: string[], depth: number): void {
  if (s === undefined || depth > MAX_DEPTH) return;
  if (isObj(v)) pruneObject(s, v, path, false, out, depth);
  else if (Array.isArray(v)) {
    const it = itemsOf(s);
    if (!it) {
      if (s["x-kubernetes-preserve-unknown-fields"] !== true && s.type !== undefined) return;
      return;
    }
    v.forEach((x, i) => pruneValue(it, x, `${path}[${i}]`, out, depth + 1));
  }
}

function pruneObject(s: Schema, v: Record<string, unknown>, path: string, root: boolean, out: string[], depth: number): void {
  const props = s.properties;
  const ap = additionalOf(s);
  const preserve = s["x-kubernetes-preserve-unknown-fields"] === true || s.additionalProperties === true;
  const embedded = root || s["x-kubernetes-embedded-resource"] === true;
  for (const k of Object.keys(v)) {
    if (embedded && META_KEYS.has(k)) continue;
    const ps = props?.[k];
    if (ps) pruneValue(ps, v[k], join(path, k), out, depth + 1);
    else if (ap) pruneValue(ap, v[k], path === "" ? k : `${path}[${k}]`, out, depth + 1);
    else if (!preserve) {
      // A schema without properties/additionalProperties/preserve is a leaf object type: nothing is known.
      delete v[k];
      out.push(join(path, k));
    }
  }
}

/** Fills schema defaults into `obj` in place. */
export function applySchemaDefaults(root: Schema, obj: Record<string, unknown>): void {
  defaultObject(root, obj, 0);
}

function defaultValue(s: Schema, v: unknown, depth: number): void {
  if (depth > MAX_DEPTH) return;
  if (isObj(v)) defaultObject(s, v, depth);
  else if (Array.isArray(v)) {
    const it = itemsOf(s);
    if (it) for (const x of v) defaultValue(it, x, depth + 1);
  }
}

function defaultObject(s: Schema, v: Record<string, unknown>, depth: number): void {
  for (const [k, ps] of Object.entries(s.properties ?? {})) {
    if (!isObj(ps)) continue;
    const cur = v[k];
    if (ps.default !== undefined && (cur === undefined || (cur === null && ps.nullable !== true))) {
      v[k] = structuredClone(ps.default);
    }
  }
  for (const [k, x] of Object.entries(v)) {
    const ps = s.properties?.[k] ?? additionalOf(s);
    if (ps) defaultValue(ps, x, depth + 1);
  }
}
