/**
 * Safe readers over JSON-shaped objects. Strategies read objects that passed decoding but not yet
 * validation, so every read tolerates a missing or mistyped field.
 */

import { cloneJson } from "../../context.ts";

export type Json = Record<string, unknown>;

export function isRecord(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Walks `path`; undefined as soon as a step is not an object. */
export function at(obj: unknown, ...path: string[]): unknown {
  let cur: unknown = obj;
  for (const p of path) {
    if (!isRecord(cur)) return undefined;
    cur = cur[p];
  }
  return cur;
}

export const rec = (obj: unknown, ...path: string[]): Json | undefined => {
  const v = at(obj, ...path);
  return isRecord(v) ? v : undefined;
};
export const str = (obj: unknown, ...path: string[]): string | undefined => {
  const v = at(obj, ...path);
  return typeof v === "string" ? v : undefined;
};
export const num = (obj: unknown, ...path: string[]): number | undefined => {
  const v = at(obj, ...path);
  return typeof v === "number" ? v : undefined;
};
export const bool = (obj: unknown, ...path: string[]): boolean | undefined => {
  const v = at(obj, ...path);
  return typeof v === "boolean" ? v : undefined;
};
/** Array at `path`, or [] (mistyped arrays read as empty). */
export const arr = (obj: unknown, ...path: string[]): unknown[] => {
  const v = at(obj, ...path);
  return Array.isArray(v) ? v : [];
};
/** Records of the array at `path`, skipping non-objects. */
export const recs = (obj: unknown, ...path: string[]): Json[] => arr(obj, ...path).filter(isRecord);
export const strs = (obj: unknown, ...path: string[]): string[] =>
  arr(obj, ...path).filter((x): x is string => typeof x === "string");
export const strMap = (obj: unknown, ...path: string[]): Record<string, string> | undefined => {
  const v = at(obj, ...path);
  if (!isRecord(v)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) if (typeof x === "string") out[k] = x;
  return out;
};

/** The object at `path`, created (as {}) where missing. Replaces non-object values. */
export function ensure(obj: Json, ...path: string[]): Json {
  let cur = obj;
  for (const p of path) {
    const next = cur[p];
    if (isRecord(next)) cur = next;
    else {
      const made: Json = {};
      cur[p] = made;
      cur = made;
    }
  }
  return cur;
}

/** Sets `o[k] = v` when `o[k]` is undefined or null. */
export function setDefault(o: Json, k: string, v: unknown): void {
  if (o[k] === undefined || o[k] === null) o[k] = v;
}

/** Deep copy of a JSON-shaped value (see `cloneJson` in src/apiserver/context.ts). */
export function clone<T>(v: T): T {
  return cloneJson(v);
}

/**
 * The `involvedObject.*` field-selector attributes of an event, read from its object reference
 * (`involvedObject` in core/v1 Event, `regarding` in events.k8s.io/v1 Event).
 */
export function involvedObjectFields(obj: unknown, ref: "involvedObject" | "regarding"): Record<string, string> {
  const r = rec(obj, ref) ?? {};
  const s = (k: string): string => {
    const v = r[k];
    return typeof v === "string" ? v : "";
  };
  return {
    "involvedObject.kind": s("kind"),
    "involvedObject.namespace": s("namespace"),
    "involvedObject.name": s("name"),
    "involvedObject.uid": s("uid"),
    "involvedObject.apiVersion": s("apiVersion"),
    "involvedObject.resourceVersion": s("resourceVersion"),
    "involvedObject.fieldPath": s("fieldPath"),
  };
}
