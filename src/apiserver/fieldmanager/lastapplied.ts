/**
 * The upgrade path from client-side apply (upstream lastAppliedManager / lastAppliedUpdater),
 * used only when the applying manager is "kubectl":
 *
 * - conflicts are forgiven for fields that the `kubectl.kubernetes.io/last-applied-configuration`
 *   annotation sets and whose live value still equals it (the user applied them before, with
 *   client-side apply);
 * - after a successful apply, an existing non-empty annotation is rewritten to the new applied
 *   configuration, so switching back to client-side apply keeps working.
 */
import { FieldSet } from "./fieldpath.ts";
import type { TypeSchema } from "./schema.ts";
import { compare, isObject, toFieldSet, TypedValueError } from "./typed.ts";
import type { JsonObject } from "./typed.ts";

export const LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration";
/** Upstream's TotalAnnotationSizeLimitB. */
const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;
const utf8 = new TextEncoder();

function annotationsOf(obj: JsonObject): Record<string, unknown> | undefined {
  const md = obj.metadata;
  if (!isObject(md)) return undefined;
  return isObject(md.annotations) ? md.annotations : undefined;
}

/**
 * The fields kubectl may take over without `force`, or undefined when the live object has no
 * usable annotation (absent, not JSON, another apiVersion, or untypable).
 */
export function allowedConflictsFromLastApplied(t: TypeSchema, live: JsonObject, apiVersion: string): FieldSet | undefined {
  const raw = annotationsOf(live)?.[LAST_APPLIED_ANNOTATION];
  if (typeof raw !== "string" || raw === "") return undefined;
  let last: unknown;
  try {
    last = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (!isObject(last) || last.apiVersion !== apiVersion) return undefined;
  let set: FieldSet;
  try {
    set = toFieldSet(t, last, true);
  } catch (e) {
    if (e instanceof TypedValueError) return undefined;
    throw e;
  }
  const c = compare(t, last, live);
  return set.difference(c.modified).difference(c.added).difference(c.removed);
}

/** Go's encoding/json for unstructured content: object keys sorted, HTML-safe strings. */
export function goJsonValue(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (typeof v === "string") return goString(v);
  if (typeof v === "number" || typeof v === "boolean") return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(goJsonValue).join(",")}]`;
  if (isObject(v)) {
    const keys = Object.keys(v).filter((k) => v[k] !== undefined).sort();
    return `{${keys.map((k) => `${goString(k)}:${goJsonValue(v[k])}`).join(",")}}`;
  }
  return "null";
}

function goString(s: string): string {
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/**
 * `object` with its last-applied annotation (when present and non-empty) set to `applied` minus
 * that annotation; the annotation is dropped when it would push annotations over 256 KiB.
 */
export function withLastApplied(object: JsonObject, applied: JsonObject): JsonObject {
  const annotations = annotationsOf(object);
  const current = annotations?.[LAST_APPLIED_ANNOTATION];
  if (typeof current !== "string" || current === "" || !annotations) return object;

  let config: JsonObject = applied;
  const appliedAnnotations = annotationsOf(applied);
  if (appliedAnnotations && LAST_APPLIED_ANNOTATION in appliedAnnotations) {
    const { [LAST_APPLIED_ANNOTATION]: _dropped, ...rest } = appliedAnnotations;
    config = { ...applied, metadata: { ...(applied.metadata as JsonObject), annotations: rest } };
  }
  const value = goJsonValue(config);
  const next: Record<string, unknown> = { ...annotations, [LAST_APPLIED_ANNOTATION]: value };
  let size = 0;
  for (const [k, v] of Object.entries(next)) size += utf8.encode(k).length + (typeof v === "string" ? utf8.encode(v).length : 0);
  if (size > TOTAL_ANNOTATION_SIZE_LIMIT) delete next[LAST_APPLIED_ANNOTATION];
  return { ...object, metadata: { ...(object.metadata as JsonObject), annotations: next } };
}
