/**
 * Turns the request's namespace and selector strings into the watch cache's `ObjectFilter`.
 */
import type { ObjectFilter } from "../../apiserver/watchcache/types.ts";
import { checkSupportedFields, parseFieldSelector } from "./fields.ts";
import { parseLabelSelector } from "./labels.ts";

export interface FilterSpec {
  /** Namespace of a namespaced request; "" or absent for all namespaces / cluster-scoped. */
  readonly namespace?: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  /** Field names the kind supports (strategy fields' keys); others are rejected with 400. */
  readonly supportedFields: readonly string[];
  /** Fields the cache indexes (e.g. `["spec.nodeName"]`): the first one pinned becomes `indexHint`. */
  readonly indexFields?: readonly string[];
}

/**
 * Parses and validates both selectors. Throws ApiError 400 for bad syntax or unsupported fields.
 * The filter's `everything` is true when neither selector restricts anything (namespace aside).
 */
export function buildObjectFilter(spec: FilterSpec): ObjectFilter {
  const labels = parseLabelSelector(spec.labelSelector ?? "");
  const fields = parseFieldSelector(spec.fieldSelector ?? "");
  checkSupportedFields(fields, spec.supportedFields);
  let indexHint: { field: string; value: string } | undefined;
  for (const f of spec.indexFields ?? []) {
    const v = fields.requiresExactMatch(f);
    if (v !== undefined) { indexHint = { field: f, value: v }; break; }
  }
  const everything = labels.empty && fields.empty;
  const matches = everything
    ? () => true
    : labels.empty
      ? (_l: Readonly<Record<string, string>>, f: Readonly<Record<string, string>>) => fields.matches(f)
      : fields.empty
        ? (l: Readonly<Record<string, string>>) => labels.matches(l)
        : (l: Readonly<Record<string, string>>, f: Readonly<Record<string, string>>) => labels.matches(l) && fields.matches(f);
  return {
    ...(spec.namespace ? { namespace: spec.namespace } : {}),
    matches,
    ...(indexHint ? { indexHint } : {}),
    everything,
  };
}

/** A filter matching every object (in `namespace` when given). */
export function matchAll(namespace?: string): ObjectFilter {
  return { ...(namespace ? { namespace } : {}), matches: () => true, everything: true };
}
