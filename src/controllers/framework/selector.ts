/**
 * Structured label selectors of workload objects as matchers.
 */
import type { LabelSelector as LabelSelectorSpec } from "../../api/generated/meta_v1.ts";
import { labelSelectorFromObject, type LabelSelector, type LabelSelectorObject } from "../../api/selectors/labels.ts";

/**
 * `metav1.LabelSelectorAsSelector` for a spec's selector: undefined selects nothing, `{}` everything.
 * Throws `ApiError` 400 for an invalid operator, key or value.
 */
export function selectorOf(sel: LabelSelectorSpec | undefined): LabelSelector {
  // The generated type marks `key`/`operator` optional; labelSelectorFromObject validates them.
  return labelSelectorFromObject(sel as LabelSelectorObject | undefined);
}
