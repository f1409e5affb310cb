/**
 * ObjectMeta, label, annotation, selector and small shared value checks with upstream messages.
 */
import type { ObjectMetaLike } from "../object.ts";
import {
  child, forbidden, invalid, required, validateImmutable, validateNonnegative,
  type FieldError,
} from "./field.ts";
import {
  isDns1035Label, isDns1123Label, isDns1123Subdomain, isQualifiedName, isValidLabelValue,
  isValidPathSegmentName, isValidPercent,
} from "./names.ts";
import { formatQuantity, parseQuantity } from "./quantity.ts";

/** Validates a name; `prefix` is true for `generateName` (a trailing '-' is then allowed). */
export type NameValidator = (name: string, prefix: boolean) => string[];

/** Upstream's quirk: a trailing dash in a prefix is masked by replacing the last two chars with "a". */
function maskTrailingDash(name: string): string {
  return name.length > 1 && name.endsWith("-") ? `${name.slice(0, -2)}a` : name;
}

export const nameIsDnsSubdomain: NameValidator = (n, prefix) => isDns1123Subdomain(prefix ? maskTrailingDash(n) : n);
export const nameIsDnsLabel: NameValidator = (n, prefix) => isDns1123Label(prefix ? maskTrailingDash(n) : n);
export const nameIsDns1035Label: NameValidator = (n, prefix) => isDns1035Label(prefix ? maskTrailingDash(n) : n);
export const nameIsPathSegment: NameValidator = (n, prefix) => (prefix ? isValidPathSegmentName(n) : isValidPathSegmentName(n));

export const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;
// The CRD cleanup finalizer is only checked as a qualified name upstream (apiextensions is not core).
const STANDARD_FINALIZERS = new Set(["kubernetes", "orphan", "foregroundDeletion", "customresourcecleanup.apiextensions.k8s.io"]);

/** Label map: keys are qualified names, values label values. Errors at `path` (no key suffix). */
export function validateLabels(labels: unknown, path: string): FieldError[] {
  if (!isStringMap(labels)) return [];
  const errs: FieldError[] = [];
  for (const k of Object.keys(labels).sort()) {
    for (const m of isQualifiedName(k)) errs.push(invalid(path, k, m));
    const v = labels[k] ?? "";
    for (const m of isValidLabelValue(v)) errs.push(invalid(path, v, m));
  }
  return errs;
}

/** Annotation keys (lower-cased qualified names) and the 256 KiB total size limit. */
export function validateAnnotations(annotations: unknown, path: string): FieldError[] {
  if (!isStringMap(annotations)) return [];
  const errs: FieldError[] = [];
  let total = 0;
  const enc = new TextEncoder();
  for (const k of Object.keys(annotations).sort()) {
    for (const m of isQualifiedName(k.toLowerCase())) errs.push(invalid(path, k, m));
    total += enc.encode(k).length + enc.encode(annotations[k] ?? "").length;
  }
  if (total > TOTAL_ANNOTATION_SIZE_LIMIT) errs.push({ type: "FieldValueTooLong", field: path, message: `Too long: may not be more than ${TOTAL_ANNOTATION_SIZE_LIMIT} bytes` });
  return errs;
}

export interface ObjectMetaOptions {
  /** true: namespace required; false: forbidden; undefined: not checked (unknown kinds). */
  readonly namespaced: boolean | undefined;
  readonly nameValidator: NameValidator;
}

/** Upstream `ValidateObjectMeta` (name/generateName, namespace, labels, annotations, owners, finalizers). */
export function validateObjectMeta(meta: ObjectMetaLike | undefined, opts: ObjectMetaOptions, path = "metadata"): FieldError[] {
  const m = meta ?? {};
  const errs: FieldError[] = [];
  if (m.generateName) {
    for (const msg of opts.nameValidator(m.generateName, true)) errs.push(invalid(child(path, "generateName"), m.generateName, msg));
  }
  if (!m.name) {
    errs.push(required(child(path, "name"), "name or generateName is required"));
  } else {
    for (const msg of opts.nameValidator(m.name, false)) errs.push(invalid(child(path, "name"), m.name, msg));
  }
  if (opts.namespaced === true) {
    if (!m.namespace) errs.push(required(child(path, "namespace")));
    else for (const msg of isDns1123Label(m.namespace)) errs.push(invalid(child(path, "namespace"), m.namespace, msg));
  } else if (opts.namespaced === false && m.namespace) {
    errs.push(forbidden(child(path, "namespace"), "not allowed on this type"));
  }
  errs.push(...validateNonnegative(m.generation, child(path, "generation")));
  errs.push(...validateLabels(m.labels, child(path, "labels")));
  errs.push(...validateAnnotations(m.annotations, child(path, "annotations")));
  errs.push(...validateOwnerReferences(m.ownerReferences, child(path, "ownerReferences")));
  errs.push(...validateFinalizers(m.finalizers, child(path, "finalizers")));
  return errs;
}

function validateOwnerReferences(refs: ObjectMetaLike["ownerReferences"], path: string): FieldError[] {
  if (!Array.isArray(refs)) return [];
  const errs: FieldError[] = [];
  const controllers: string[] = [];
  for (const r of refs) {
    if (!r.apiVersion) errs.push(invalid(child(path, "apiVersion"), r.apiVersion ?? "", "version must not be empty"));
    if (!r.kind) errs.push(invalid(child(path, "kind"), r.kind ?? "", "kind must not be empty"));
    if (!r.name) errs.push(invalid(child(path, "name"), r.name ?? "", "name must not be empty"));
    if (!r.uid) errs.push(invalid(child(path, "uid"), r.uid ?? "", "uid must not be empty"));
    if (r.controller === true) controllers.push(`${r.kind}/${r.name}`);
  }
  if (controllers.length > 1) {
    errs.push(invalid(path, refs, `Only one reference can have Controller set to true. Found "true" in references for ${controllers.join(" and ")}`));
  }
  return errs;
}

function validateFinalizers(finalizers: unknown, path: string): FieldError[] {
  if (!Array.isArray(finalizers)) return [];
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  for (const f of finalizers) {
    if (typeof f !== "string") continue;
    const msgs = isQualifiedName(f);
    for (const msg of msgs) errs.push(invalid(path, f, msg));
    if (msgs.length === 0 && !f.includes("/") && !STANDARD_FINALIZERS.has(f)) {
      errs.push(invalid(path, f, "name is neither a standard finalizer name nor is it fully qualified"));
    }
    seen.add(f);
  }
  return errs;
}

/** Upstream `ValidateObjectMetaUpdate`: identity fields are immutable, generation never decreases. */
export function validateObjectMetaUpdate(meta: ObjectMetaLike | undefined, old: ObjectMetaLike | undefined, path = "metadata"): FieldError[] {
  const m = meta ?? {};
  const o = old ?? {};
  const errs: FieldError[] = [];
  if ((m.generation ?? 0) < (o.generation ?? 0)) errs.push(invalid(child(path, "generation"), m.generation ?? 0, "must not be decremented"));
  errs.push(...validateImmutable(m.name ?? "", o.name ?? "", child(path, "name")));
  errs.push(...validateImmutable(m.namespace ?? "", o.namespace ?? "", child(path, "namespace")));
  errs.push(...validateImmutable(m.uid ?? "", o.uid ?? "", child(path, "uid")));
  errs.push(...validateImmutable(m.creationTimestamp ?? "", o.creationTimestamp ?? "", child(path, "creationTimestamp")));
  if (o.deletionTimestamp) {
    const oldSet = new Set(o.finalizers ?? []);
    for (const f of m.finalizers ?? []) {
      if (!oldSet.has(f)) errs.push(forbidden(child(path, "finalizers"), `no new finalizers can be added if the object is being deleted, found new finalizers []string{${JSON.stringify(f)}}`));
    }
  }
  errs.push(...validateLabels(m.labels, child(path, "labels")));
  errs.push(...validateAnnotations(m.annotations, child(path, "annotations")));
  errs.push(...validateOwnerReferences(m.ownerReferences, child(path, "ownerReferences")));
  errs.push(...validateFinalizers(m.finalizers, child(path, "finalizers")));
  return errs;
}

export function isStringMap(v: unknown): v is Record<string, string> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === "string");
}

interface SelectorRequirement { key?: unknown; operator?: unknown; values?: unknown }

/** Upstream `ValidateLabelSelector` (metav1 LabelSelector). */
export function validateLabelSelector(sel: unknown, path: string): FieldError[] {
  if (typeof sel !== "object" || sel === null) return [];
  const s = sel as { matchLabels?: unknown; matchExpressions?: unknown };
  const errs: FieldError[] = [];
  const exprs = Array.isArray(s.matchExpressions) ? (s.matchExpressions as SelectorRequirement[]) : [];
  exprs.forEach((r, i) => {
    const p = `${path}.matchExpressions[${i}]`;
    const values = Array.isArray(r.values) ? r.values : [];
    switch (r.operator) {
      case "In": case "NotIn":
        if (values.length === 0) errs.push(required(`${p}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
        break;
      case "Exists": case "DoesNotExist":
        if (values.length > 0) errs.push(forbidden(`${p}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
        break;
      default:
        errs.push(invalid(`${p}.operator`, r.operator ?? "", "not a valid selector operator"));
    }
    const k = typeof r.key === "string" ? r.key : "";
    for (const m of isQualifiedName(k)) errs.push(invalid(`${p}.key`, k, m));
  });
  errs.push(...validateLabels(s.matchLabels, `${path}.matchLabels`));
  return errs;
}

/** True when `labels` satisfy a metav1 LabelSelector. An empty selector matches everything. */
export function selectorMatches(sel: unknown, labels: Record<string, string> | undefined): boolean {
  if (typeof sel !== "object" || sel === null) return false;
  const s = sel as { matchLabels?: unknown; matchExpressions?: unknown };
  const l = labels ?? {};
  if (isStringMap(s.matchLabels)) {
    for (const [k, v] of Object.entries(s.matchLabels)) if (l[k] !== v) return false;
  }
  const exprs = Array.isArray(s.matchExpressions) ? (s.matchExpressions as SelectorRequirement[]) : [];
  for (const r of exprs) {
    const k = typeof r.key === "string" ? r.key : "";
    const values = Array.isArray(r.values) ? r.values.filter((x): x is string => typeof x === "string") : [];
    const has = Object.prototype.hasOwnProperty.call(l, k);
    switch (r.operator) {
      case "In": if (!has || !values.includes(l[k] ?? "")) return false; break;
      case "NotIn": if (has && values.includes(l[k] ?? "")) return false; break;
      case "Exists": if (!has) return false; break;
      case "DoesNotExist": if (has) return false; break;
      default: return false;
    }
  }
  return true;
}

/** True when the selector has neither matchLabels nor matchExpressions entries. */
export function selectorIsEmpty(sel: unknown): boolean {
  if (typeof sel !== "object" || sel === null) return true;
  const s = sel as { matchLabels?: unknown; matchExpressions?: unknown };
  const ml = isStringMap(s.matchLabels) ? Object.keys(s.matchLabels).length : 0;
  const me = Array.isArray(s.matchExpressions) ? s.matchExpressions.length : 0;
  return ml + me === 0;
}

/**
 * IntOrString that must be a non-negative int or a percent ("25%"); with `max100`, percents above
 * 100 are refused too (`must not be greater than 100%`).
 */
export function validateIntOrPercent(v: unknown, path: string, max100 = false): FieldError[] {
  if (v === undefined || v === null) return [];
  if (typeof v === "number") return validateNonnegative(v, path);
  if (typeof v !== "string") return [invalid(path, v, "must be an integer or percentage (e.g '5%')")];
  const msgs = isValidPercent(v);
  if (msgs.length) return msgs.map((m) => invalid(path, v, m));
  if (max100 && Number(v.slice(0, -1)) > 100) return [invalid(path, v, "must not be greater than 100%")];
  return [];
}

/** Numeric value of an IntOrString percent ("25%" → 25) or undefined when it is an int. */
export function percentValue(v: unknown): number | undefined {
  return typeof v === "string" && /^[0-9]+%$/.test(v) ? Number(v.slice(0, -1)) : undefined;
}

/** A resource quantity at `path`: parseable and, unless `allowNegative`, not negative. */
export function validateQuantity(v: unknown, path: string, allowNegative = false): FieldError[] {
  if (typeof v === "number") v = String(v);
  if (typeof v !== "string") return [invalid(path, v ?? null, "must be a quantity")];
  const q = parseQuantity(v);
  if (typeof q === "string") return [invalid(path, v, q)];
  if (!allowNegative && q.nanos < 0n) return [invalid(path, formatQuantity(q), "must be greater than or equal to 0")];
  return [];
}

