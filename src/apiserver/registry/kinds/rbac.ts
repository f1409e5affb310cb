/** rbac.authorization.k8s.io/v1: roles, clusterroles, rolebindings, clusterrolebindings. */
import { invalid, notSupported, required, type FieldError } from "../../../api/validation/field.ts";
import { nameIsPathSegment, validateLabelSelector } from "../../../api/validation/meta.ts";
import { isValidPathSegmentName } from "../../../api/validation/names.ts";
import { deepEqual } from "../../../api/validation/field.ts";
import { recs, rec, setDefault, str, strs, type Json } from "./_access.ts";
import { AGE_COLUMN, NAME_COLUMN, ageOf, col, defineStrategy, nameOf, printer } from "./_base.ts";

const RBAC_GROUP = "rbac.authorization.k8s.io";

function validateRules(o: Json, namespaced: boolean): FieldError[] {
  const errs: FieldError[] = [];
  recs(o, "rules").forEach((r, i) => {
    const p = `rules[${i}]`;
    if (strs(r, "verbs").length === 0) errs.push(required(`${p}.verbs`, "verbs must contain at least one value"));
    const urls = strs(r, "nonResourceURLs");
    if (urls.length > 0) {
      if (namespaced) errs.push(invalid(`${p}.nonResourceURLs`, urls, "namespaced rules cannot apply to non-resource URLs"));
      if (strs(r, "apiGroups").length || strs(r, "resources").length || strs(r, "resourceNames").length) {
        errs.push(invalid(`${p}.nonResourceURLs`, urls, "rules cannot apply to both regular resources and non-resource URLs"));
      }
      return;
    }
    if (strs(r, "apiGroups").length === 0) errs.push(required(`${p}.apiGroups`, "resource rules must supply at least one api group"));
    if (strs(r, "resources").length === 0) errs.push(required(`${p}.resources`, "resource rules must supply at least one resource"));
  });
  return errs;
}

const roleTable = printer([NAME_COLUMN, col("Created At", "date", "When the object was created.")],
  (o) => [nameOf(o), str(o, "metadata", "creationTimestamp") ?? ""]);

export const roles = defineStrategy({
  group: RBAC_GROUP, kind: "Role", plural: "roles", namespaced: true, nameValidator: nameIsPathSegment,
  statusSubresource: false, tracksGeneration: false,
  validate: (o) => validateRules(o, true),
  table: roleTable,
});

export const clusterroles = defineStrategy({
  group: RBAC_GROUP, kind: "ClusterRole", plural: "clusterroles", namespaced: false, nameValidator: nameIsPathSegment,
  statusSubresource: false, tracksGeneration: false,
  validate: (o) => {
    const errs = validateRules(o, false);
    recs(o, "aggregationRule", "clusterRoleSelectors").forEach((s, i) => {
      errs.push(...validateLabelSelector(s, `aggregationRule.clusterRoleSelectors[${i}]`));
    });
    return errs;
  },
  table: roleTable,
});

function defaultSubjects(o: Json): void {
  for (const s of recs(o, "subjects")) {
    if (s.kind === "ServiceAccount") setDefault(s, "apiGroup", "");
    else if (s.kind === "User" || s.kind === "Group") setDefault(s, "apiGroup", RBAC_GROUP);
  }
  const ref = rec(o, "roleRef");
  if (ref) setDefault(ref, "apiGroup", RBAC_GROUP);
}

function validateBinding(o: Json, namespaced: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const ref = rec(o, "roleRef") ?? {};
  const group = str(ref, "apiGroup") ?? "";
  if (group !== RBAC_GROUP) errs.push(notSupported("roleRef.apiGroup", group, [RBAC_GROUP]));
  const kinds = namespaced ? ["Role", "ClusterRole"] : ["ClusterRole"];
  const kind = str(ref, "kind") ?? "";
  if (!kinds.includes(kind)) errs.push(notSupported("roleRef.kind", kind, kinds));
  const name = str(ref, "name") ?? "";
  if (name === "") errs.push(required("roleRef.name"));
  else for (const m of isValidPathSegmentName(name)) errs.push(invalid("roleRef.name", name, m));
  recs(o, "subjects").forEach((s, i) => {
    const p = `subjects[${i}]`;
    const sname = str(s, "name") ?? "";
    if (sname === "") errs.push(required(`${p}.name`));
    const skind = str(s, "kind") ?? "";
    const sgroup = str(s, "apiGroup") ?? "";
    switch (skind) {
      case "ServiceAccount":
        if (sgroup !== "") errs.push(notSupported(`${p}.apiGroup`, sgroup, [""]));
        if (!namespaced && !str(s, "namespace")) errs.push(required(`${p}.namespace`));
        break;
      case "User": case "Group":
        if (sgroup !== RBAC_GROUP) errs.push(notSupported(`${p}.apiGroup`, sgroup, [RBAC_GROUP]));
        break;
      default:
        errs.push(notSupported(`${p}.kind`, skind, ["ServiceAccount", "User", "Group"]));
    }
  });
  return errs;
}

function validateRoleRefUpdate(o: Json, old: Json): FieldError[] {
  return deepEqual(o.roleRef, old.roleRef) ? [] : [invalid("roleRef", o.roleRef ?? null, "cannot change roleRef")];
}

const subjectsOf = (o: Json, kind: string): string =>
  recs(o, "subjects").filter((s) => s.kind === kind).map((s) =>
    kind === "ServiceAccount" ? `${str(s, "namespace") ?? ""}/${str(s, "name") ?? ""}` : str(s, "name") ?? "").join(", ");

const bindingTable = printer([
  NAME_COLUMN,
  col("Role", "string", "The role granted (Kind/name)."),
  AGE_COLUMN,
  col("Users", "string", "Users bound.", 1),
  col("Groups", "string", "Groups bound.", 1),
  col("ServiceAccounts", "string", "Service accounts bound (namespace/name).", 1),
], (o, now) => [
  nameOf(o), `${str(o, "roleRef", "kind") ?? ""}/${str(o, "roleRef", "name") ?? ""}`, ageOf(o, now),
  subjectsOf(o, "User"), subjectsOf(o, "Group"), subjectsOf(o, "ServiceAccount"),
]);

export const rolebindings = defineStrategy({
  group: RBAC_GROUP, kind: "RoleBinding", plural: "rolebindings", namespaced: true, nameValidator: nameIsPathSegment,
  statusSubresource: false, tracksGeneration: false,
  defaults: defaultSubjects,
  validate: (o) => validateBinding(o, true),
  validateUpdate: validateRoleRefUpdate,
  table: bindingTable,
});

export const clusterrolebindings = defineStrategy({
  group: RBAC_GROUP, kind: "ClusterRoleBinding", plural: "clusterrolebindings", namespaced: false, nameValidator: nameIsPathSegment,
  statusSubresource: false, tracksGeneration: false,
  defaults: defaultSubjects,
  validate: (o) => validateBinding(o, false),
  validateUpdate: validateRoleRefUpdate,
  table: bindingTable,
});
