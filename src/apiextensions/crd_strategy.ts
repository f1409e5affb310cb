/**
 * The registry strategy of `customresourcedefinitions.apiextensions.k8s.io`: defaults (singular,
 * listKind, conversion None), validation with upstream's messages (name `<plural>.<group>`, a
 * group with a dot, exactly one storage version, structural schemas, printer columns, scale
 * paths) and the `NAME / CREATED AT` table. Status (conditions, acceptedNames) is written by the
 * CRD controller (src/apiserver/crd/controller.ts) through the status subresource.
 */
import type {
  CustomResourceDefinition, CustomResourceDefinitionVersion,
} from "../api/generated/apiextensions_v1.ts";
import {
  duplicate, forbidden, invalid, notSupported, required, type FieldError,
} from "../api/validation/field.ts";
import { isDns1035Label, isDns1123Subdomain } from "../api/validation/names.ts";
import { col, defineStrategy, NAME_COLUMN, nameOf, printer, type KindStrategy } from "../apiserver/registry/kinds/_base.ts";
import { JsonPathError, isSimpleFieldPath, parseJsonPath } from "./jsonpath.ts";
import { isObj, structuralErrors } from "./schema.ts";
import { celCompileErrors } from "./cel.ts";

export const CLEANUP_FINALIZER = "customresourcecleanup.apiextensions.k8s.io";
const COLUMN_TYPES = ["integer", "number", "string", "boolean", "date"];
const SCOPES = ["Cluster", "Namespaced"];

function asCrd(o: unknown): CustomResourceDefinition {
  return o as CustomResourceDefinition; // JSON-shaped, decoded and type-checked against the generated schema
}

/** Upstream's v1 defaults. */
export function defaultCrd(crd: CustomResourceDefinition): void {
  const spec = (crd.spec ??= {});
  const names = (spec.names ??= {});
  if (names.kind && !names.singular) names.singular = names.kind.toLowerCase();
  if (names.kind && !names.listKind) names.listKind = `${names.kind}List`;
  spec.conversion ??= { strategy: "None" };
  if (!spec.conversion.strategy) spec.conversion.strategy = "None";
}

function labelErrs(path: string, v: string): FieldError[] {
  return isDns1035Label(v).map((m) => invalid(path, v, m));
}

/** Validation of a whole CRD (create and update). */
export function validateCrd(crd: CustomResourceDefinition): FieldError[] {
  const errs: FieldError[] = [];
  const spec = crd.spec ?? {};
  const names = spec.names ?? {};
  const group = spec.group ?? "";
  const name = crd.metadata?.name ?? "";
  if (name !== `${names.plural ?? ""}.${group}`) {
    errs.push(invalid("metadata.name", name, `must be spec.names.plural+"."+spec.group`));
  }
  if (group === "") errs.push(required("spec.group"));
  else {
    for (const m of isDns1123Subdomain(group)) errs.push(invalid("spec.group", group, m));
    if (!group.includes(".")) errs.push(invalid("spec.group", group, "should be a domain with at least one dot"));
  }
  if (!spec.scope) errs.push(required("spec.scope"));
  else if (!SCOPES.includes(spec.scope)) errs.push(notSupported("spec.scope", spec.scope, SCOPES));
  if (!names.plural) errs.push(required("spec.names.plural"));
  else errs.push(...labelErrs("spec.names.plural", names.plural));
  if (names.singular) errs.push(...labelErrs("spec.names.singular", names.singular));
  if (!names.kind) errs.push(required("spec.names.kind"));
  else if (!/^[A-Za-z][A-Za-z0-9]*$/.test(names.kind)) errs.push(invalid("spec.names.kind", names.kind, "may have mixed case, but should otherwise match: [a-z]([-a-z0-9]*[a-z0-9])?"));
  if (!names.listKind) errs.push(required("spec.names.listKind"));
  else if (names.listKind === names.kind) errs.push(invalid("spec.names.listKind", names.listKind, "kind and listKind may not be the same"));
  (names.shortNames ?? []).forEach((s, i) => errs.push(...labelErrs(`spec.names.shortNames[${i}]`, s)));
  (names.categories ?? []).forEach((s, i) => errs.push(...labelErrs(`spec.names.categories[${i}]`, s)));
  if (spec.preserveUnknownFields === true) {
    errs.push(invalid("spec.preserveUnknownFields", true, "must be false in order to use defaults in the schema"));
  }
  const strategy = spec.conversion?.strategy ?? "None";
  if (strategy === "Webhook") {
    errs.push(forbidden("spec.conversion.strategy", "Webhook conversion is not supported by this server"));
  } else if (strategy !== "None") {
    errs.push(notSupported("spec.conversion.strategy", strategy, ["None", "Webhook"]));
  }
  const versions = spec.versions ?? [];
  if (versions.length === 0) errs.push(invalid("spec.versions", versions, "must have exactly one version marked as storage version"));
  else if (versions.filter((v) => v.storage === true).length !== 1) {
    errs.push(invalid("spec.versions", versions.map((v) => ({ name: v.name, served: v.served ?? false, storage: v.storage ?? false })),
      "must have exactly one version marked as storage version"));
  }
  if (versions.length > 0 && !versions.some((v) => v.served === true)) {
    errs.push(invalid("spec.versions", versions.map((v) => ({ name: v.name, served: v.served ?? false, storage: v.storage ?? false })),
      "must have at least one version marked as served"));
  }
  const seen = new Set<string>();
  versions.forEach((v, i) => {
    const p = `spec.versions[${i}]`;
    if (!v.name) errs.push(required(`${p}.name`));
    else {
      errs.push(...labelErrs(`${p}.name`, v.name));
      if (seen.has(v.name)) errs.push(duplicate(`${p}.name`, v.name));
      seen.add(v.name);
    }
    errs.push(...validateVersion(v, p));
  });
  return errs;
}

function validateVersion(v: CustomResourceDefinitionVersion, p: string): FieldError[] {
  const errs: FieldError[] = [];
  errs.push(...structuralErrors(v.schema?.openAPIV3Schema, `${p}.schema.openAPIV3Schema`));
  errs.push(...celCompileErrors(v.schema?.openAPIV3Schema, `${p}.schema.openAPIV3Schema`));
  if (v.deprecationWarning !== undefined && v.deprecated !== true) {
    errs.push(invalid(`${p}.deprecationWarning`, v.deprecationWarning, "can only be set for deprecated versions"));
  }
  const scale = v.subresources?.scale;
  if (scale) {
    const sp = `${p}.subresources.scale`;
    const checkPath = (field: string, val: string | undefined, under: string[], req: boolean): void => {
      if (!val) {
        if (req) errs.push(required(`${sp}.${field}`));
        return;
      }
      let ok = false;
      try {
        ok = isSimpleFieldPath(parseJsonPath(val));
      } catch {
        ok = false;
      }
      if (!ok) errs.push(invalid(`${sp}.${field}`, val, "must be a valid JSON path"));
      else if (!under.some((u) => val.startsWith(u))) {
        errs.push(invalid(`${sp}.${field}`, val, `should be a json path under ${under.join(" or ")}`));
      }
    };
    checkPath("specReplicasPath", scale.specReplicasPath, [".spec."], true);
    checkPath("statusReplicasPath", scale.statusReplicasPath, [".status."], true);
    checkPath("labelSelectorPath", scale.labelSelectorPath, [".spec.", ".status."], false);
  }
  (v.additionalPrinterColumns ?? []).forEach((c, i) => {
    const cp = `${p}.additionalPrinterColumns[${i}]`;
    if (!c.name) errs.push(required(`${cp}.name`));
    if (!c.type) errs.push(required(`${cp}.type`));
    else if (!COLUMN_TYPES.includes(c.type)) errs.push(notSupported(`${cp}.type`, c.type, COLUMN_TYPES));
    if (!c.jsonPath) errs.push(required(`${cp}.JSONPath`));
    else {
      try {
        parseJsonPath(c.jsonPath);
      } catch (e) {
        errs.push(invalid(`${cp}.JSONPath`, c.jsonPath, `must be a simple json path: ${(e as JsonPathError).message}`));
      }
    }
    if (c.priority !== undefined && c.priority < 0) errs.push(invalid(`${cp}.priority`, c.priority, "must be greater than or equal to 0"));
  });
  (v.selectableFields ?? []).forEach((f, i) => {
    const fp = `${p}.selectableFields[${i}].jsonPath`;
    if (!f.jsonPath) errs.push(required(fp));
    else {
      try {
        if (!isSimpleFieldPath(parseJsonPath(f.jsonPath))) errs.push(invalid(fp, f.jsonPath, "must be a simple json path"));
      } catch {
        errs.push(invalid(fp, f.jsonPath, "must be a valid JSON path"));
      }
    }
  });
  return errs;
}

function validateCrdUpdate(crd: CustomResourceDefinition, old: CustomResourceDefinition): FieldError[] {
  const errs: FieldError[] = [];
  if ((crd.spec?.group ?? "") !== (old.spec?.group ?? "")) errs.push(invalid("spec.group", crd.spec?.group ?? "", "field is immutable"));
  if ((crd.spec?.names?.plural ?? "") !== (old.spec?.names?.plural ?? "")) {
    errs.push(invalid("spec.names.plural", crd.spec?.names?.plural ?? "", "field is immutable"));
  }
  return errs;
}

/** The storage version's name ("" when the CRD has none, which validation rejects). */
export function storageVersionOf(crd: CustomResourceDefinition): string {
  return crd.spec?.versions?.find((v) => v.storage === true)?.name ?? "";
}

export const customresourcedefinitions: KindStrategy = defineStrategy({
  group: "apiextensions.k8s.io", kind: "CustomResourceDefinition", plural: "customresourcedefinitions",
  namespaced: false, statusSubresource: true, tracksGeneration: true,
  defaults: (o) => defaultCrd(asCrd(o)),
  initialStatus: (o) => {
    const sv = storageVersionOf(asCrd(o));
    // In typed form (empty names and lists are what decoding the stored CRD gives back).
    return sv ? { acceptedNames: {}, storedVersions: [sv] } : { acceptedNames: {} };
  },
  prepareCreate: (o) => {
    // Deleting the CRD first deletes its objects: the CRD controller removes this finalizer after.
    const m = (o["metadata"] ??= {}) as { finalizers?: string[] };
    const fin = Array.isArray(m.finalizers) ? m.finalizers : [];
    if (!fin.includes(CLEANUP_FINALIZER)) m.finalizers = [...fin, CLEANUP_FINALIZER];
  },
  prepareUpdate: (o, old) => {
    // Stored versions only grow: the new storage version joins the list.
    const sv = storageVersionOf(asCrd(o));
    const st = isObj(o["status"]) ? o["status"] : undefined;
    if (sv && st && Array.isArray(st["storedVersions"]) && !st["storedVersions"].includes(sv)) {
      st["storedVersions"] = [...(st["storedVersions"] as string[]), sv];
    }
    void old;
  },
  validate: (o) => validateCrd(asCrd(o)),
  validateUpdate: (o, old) => validateCrdUpdate(asCrd(o), asCrd(old)),
  table: printer(
    [NAME_COLUMN, col("Created At", "date", "Time the object was created.")],
    (o) => [nameOf(o), typeof (o["metadata"] as { creationTimestamp?: unknown } | undefined)?.creationTimestamp === "string"
      ? (o["metadata"] as { creationTimestamp: string }).creationTimestamp : null],
  ),
});
