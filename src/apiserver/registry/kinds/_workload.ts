/** Selector + pod-template rules shared by the workload kinds (upstream apps validation facts). */
import {
  invalid, notSupported, required, validateImmutable, validateNonnegative, type FieldError,
} from "../../../api/validation/field.ts";
import {
  percentValue, selectorIsEmpty, selectorMatches, validateIntOrPercent, validateLabelSelector,
} from "../../../api/validation/meta.ts";
import { isRecord, num, rec, strMap, type Json } from "./_access.ts";
import { validatePodTemplate } from "./_podspec.ts";
import { layoutContainerCells, selectorString } from "./_printers.ts";
import type { ScaleMapping } from "../strategy.ts";

/**
 * `spec.selector` (required, valid, non-empty) and `spec.template` (labels matched by the
 * selector, a valid pod spec, a restart policy the kind allows).
 */
export function validateSelectorAndTemplate(
  spec: Json, emptyKind: string, allowedRestart: readonly string[], path = "spec",
): FieldError[] {
  const errs: FieldError[] = [];
  const sel = spec.selector;
  if (!isRecord(sel)) {
    errs.push(required(`${path}.selector`));
  } else {
    errs.push(...validateLabelSelector(sel, `${path}.selector`));
    if (selectorIsEmpty(sel)) errs.push(invalid(`${path}.selector`, sel, `empty selector is invalid for ${emptyKind}`));
  }
  const template = spec.template;
  if (isRecord(template) && isRecord(sel) && !selectorIsEmpty(sel)) {
    const labels = strMap(template, "metadata", "labels");
    if (!selectorMatches(sel, labels)) errs.push(templateMismatch(`${path}.template.metadata.labels`, labels));
  }
  errs.push(...validatePodTemplate(template, `${path}.template`, allowedRestart));
  return errs;
}

function templateMismatch(field: string, labels: Record<string, string> | undefined): FieldError {
  if (labels === undefined) {
    return { type: "FieldValueInvalid", field, message: "Invalid value: map[string]string(nil): `selector` does not match template `labels`" };
  }
  return invalid(field, labels, "`selector` does not match template `labels`");
}

/** replicas >= 0 at `<path>.replicas`. */
export const validateReplicas = (spec: Json, path = "spec"): FieldError[] =>
  validateNonnegative(num(spec, "replicas"), `${path}.replicas`);

export const validateSelectorImmutable = (spec: Json, old: Json, path = "spec"): FieldError[] =>
  validateImmutable(spec.selector, old.selector, `${path}.selector`);

/** Upstream `getIntOrPercentValue`: the int, or the percent number. */
export function intOrPercentNumber(v: unknown): number {
  if (typeof v === "number") return v;
  return percentValue(v) ?? 0;
}

/** Deployment `spec.strategy`. */
export function validateDeploymentStrategy(strategy: Json | undefined, path: string): FieldError[] {
  const s = strategy ?? {};
  const errs: FieldError[] = [];
  switch (s.type) {
    case "Recreate":
      if (s.rollingUpdate !== undefined && s.rollingUpdate !== null) {
        errs.push({ type: "FieldValueForbidden", field: `${path}.rollingUpdate`, message: "Forbidden: may not be specified when strategy `type` is 'Recreate'" });
      }
      break;
    case "RollingUpdate": {
      const ru = rec(s, "rollingUpdate");
      if (!ru) { errs.push(required(`${path}.rollingUpdate`, "this should be defaulted and never be nil")); break; }
      errs.push(...validateIntOrPercent(ru.maxUnavailable, `${path}.rollingUpdate.maxUnavailable`));
      errs.push(...validateIntOrPercent(ru.maxSurge, `${path}.rollingUpdate.maxSurge`));
      if (intOrPercentNumber(ru.maxUnavailable) === 0 && intOrPercentNumber(ru.maxSurge) === 0) {
        errs.push(invalid(`${path}.rollingUpdate.maxUnavailable`, ru.maxUnavailable ?? 0, "may not be 0 when `maxSurge` is 0"));
      }
      const pu = percentValue(ru.maxUnavailable);
      if (pu !== undefined && pu > 100) errs.push(invalid(`${path}.rollingUpdate.maxUnavailable`, ru.maxUnavailable, "must not be greater than 100%"));
      break;
    }
    default:
      errs.push(notSupported(path, s, ["Recreate", "RollingUpdate"]));
  }
  return errs;
}

/** Scale subresource mapping for kinds with `spec.replicas` / `status.replicas` / `spec.selector`. */
export const replicasScale: ScaleMapping = {
  specReplicas: (o) => num(o, "spec", "replicas") ?? 0,
  setSpecReplicas: (o, n) => {
    const spec = isRecord(o.spec) ? o.spec : (o.spec = {});
    (spec as Json).replicas = n;
  },
  statusReplicas: (o) => num(o, "status", "replicas") ?? 0,
  selector: (o) => selectorString(rec(o, "spec", "selector")),
};

/** Containers/Images cells of `spec.template.spec`. */
export const templateContainers = (o: Json): [string, string] => layoutContainerCells(rec(o, "spec", "template", "spec"));
