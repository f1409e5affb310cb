/**
 * JSON Merge Patch (RFC 7386), pure. `applyMergePatch(target, patch)` returns a new value:
 * objects merge recursively, `null` deletes a member, anything else (arrays included) replaces.
 */
import type { Json } from "./jsonpatch.ts";

function isObject(v: unknown): v is { [k: string]: Json } {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Maximum nesting depth accepted; deeper patches are rejected by the caller's JSON limits. */
const MAX_DEPTH = 1000;

export function applyMergePatch(target: Json, patch: Json): Json {
  return merge(target, patch, 0);
}

function merge(target: Json, patch: Json, depth: number): Json {
  if (depth > MAX_DEPTH) throw new RangeError("merge patch nested too deeply");
  if (!isObject(patch)) return structuredClone(patch);
  const out: { [k: string]: Json } = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = merge(out[k] ?? null, v, depth + 1);
  }
  return out;
}
