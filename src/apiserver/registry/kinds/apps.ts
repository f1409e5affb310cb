/** apps/v1: deployments, replicasets, statefulsets, daemonsets, controllerrevisions. */
import {
  forbidden, invalid, notSupported, required, validateImmutable, validateNonnegative, type FieldError,
} from "../../../api/validation/field.ts";
import { validateIntOrPercent } from "../../../api/validation/meta.ts";
import { deepEqual } from "../../../api/validation/field.ts";
import { ensure, num, rec, recs, setDefault, str, strMap, type Json } from "./_access.ts";
import {
  AGE_COLUMN, CONTAINERS_COLUMN, IMAGES_COLUMN, NAME_COLUMN, ageOf, col, defineStrategy, nameOf, printer,
} from "./_base.ts";
import { defaultPodTemplate } from "./_podspec.ts";
import { formatLabelSelector, formatLabels, selectorString } from "./_printers.ts";
import {
  intOrPercentNumber, replicasScale, templateContainers, validateDeploymentStrategy, validateReplicas,
  validateSelectorAndTemplate, validateSelectorImmutable,
} from "./_workload.ts";

const ALWAYS = ["Always"];
const SELECTOR_COLUMN = (what: string): ReturnType<typeof col> => col("Selector", "string", `Label selector of the pods this ${what} manages.`, 1);

// ---- Deployment ----

function defaultDeployment(o: Json): void {
  const spec = ensure(o, "spec");
  setDefault(spec, "replicas", 1);
  const strategy = ensure(spec, "strategy");
  setDefault(strategy, "type", "RollingUpdate");
  if (strategy.type === "RollingUpdate") {
    const ru = ensure(strategy, "rollingUpdate");
    setDefault(ru, "maxUnavailable", "25%");
    setDefault(ru, "maxSurge", "25%");
  }
  setDefault(spec, "revisionHistoryLimit", 10);
  setDefault(spec, "progressDeadlineSeconds", 600);
  defaultPodTemplate(rec(spec, "template"));
}

function validateDeployment(o: Json): FieldError[] {
  const spec = rec(o, "spec") ?? {};
  const errs = [
    ...validateReplicas(spec),
    ...validateSelectorAndTemplate(spec, "deployment", ALWAYS),
    ...validateNonnegative(num(spec, "minReadySeconds"), "spec.minReadySeconds"),
    ...validateNonnegative(num(spec, "revisionHistoryLimit"), "spec.revisionHistoryLimit"),
    ...validateDeploymentStrategy(rec(spec, "strategy"), "spec.strategy"),
  ];
  const pds = num(spec, "progressDeadlineSeconds");
  if (pds !== undefined) {
    errs.push(...validateNonnegative(pds, "spec.progressDeadlineSeconds"));
    if (pds <= (num(spec, "minReadySeconds") ?? 0)) errs.push(invalid("spec.progressDeadlineSeconds", pds, "must be greater than minReadySeconds"));
  }
  if (num(spec, "template", "spec", "activeDeadlineSeconds") !== undefined) {
    errs.push(invalid("spec.template.spec.activeDeadlineSeconds", num(spec, "template", "spec", "activeDeadlineSeconds"), "activeDeadlineSeconds in ReplicaSet is not Supported"));
  }
  return errs;
}

export const deployments = defineStrategy({
  group: "apps", kind: "Deployment", plural: "deployments", namespaced: true,
  statusSubresource: true, tracksGeneration: true,
  defaults: defaultDeployment,
  validate: validateDeployment,
  validateUpdate: (o, old) => validateSelectorImmutable(rec(o, "spec") ?? {}, rec(old, "spec") ?? {}),
  table: printer([
    NAME_COLUMN,
    col("Ready", "string", "Ready pods out of the desired replicas."),
    col("Up-to-date", "string", "Pods that run the current template."),
    col("Available", "string", "Pods available for at least minReadySeconds."),
    AGE_COLUMN, CONTAINERS_COLUMN, IMAGES_COLUMN, SELECTOR_COLUMN("deployment"),
  ], (o, now) => {
    const [names, images] = templateContainers(o);
    return [
      nameOf(o), `${num(o, "status", "readyReplicas") ?? 0}/${num(o, "spec", "replicas") ?? 0}`,
      num(o, "status", "updatedReplicas") ?? 0, num(o, "status", "availableReplicas") ?? 0,
      ageOf(o, now), names, images, selectorString(rec(o, "spec", "selector")),
    ];
  }),
  scale: replicasScale,
});

// ---- ReplicaSet ----

export const replicasets = defineStrategy({
  group: "apps", kind: "ReplicaSet", plural: "replicasets", namespaced: true,
  statusSubresource: true, tracksGeneration: true,
  defaults: (o) => {
    const spec = ensure(o, "spec");
    setDefault(spec, "replicas", 1);
    defaultPodTemplate(rec(spec, "template"));
  },
  validate: (o) => {
    const spec = rec(o, "spec") ?? {};
    return [
      ...validateReplicas(spec),
      ...validateSelectorAndTemplate(spec, "deployment", ALWAYS),
      ...validateNonnegative(num(spec, "minReadySeconds"), "spec.minReadySeconds"),
    ];
  },
  validateUpdate: (o, old) => validateSelectorImmutable(rec(o, "spec") ?? {}, rec(old, "spec") ?? {}),
  fields: (o) => ({ "status.replicas": String(num(o, "status", "replicas") ?? 0) }),
  table: printer([
    NAME_COLUMN,
    col("Desired", "integer", "Desired number of replicas."),
    col("Current", "integer", "Most recently observed number of replicas."),
    col("Ready", "integer", "Ready replicas."),
    AGE_COLUMN, CONTAINERS_COLUMN, IMAGES_COLUMN, SELECTOR_COLUMN("replica set"),
  ], (o, now) => {
    const [names, images] = templateContainers(o);
    return [
      nameOf(o), num(o, "spec", "replicas") ?? 0, num(o, "status", "replicas") ?? 0,
      num(o, "status", "readyReplicas") ?? 0, ageOf(o, now), names, images,
      formatLabelSelector(rec(o, "spec", "selector")),
    ];
  }),
  scale: replicasScale,
});

// ---- StatefulSet ----

const STS_UPDATE_FORBIDDEN = "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden";
const STS_MUTABLE = ["replicas", "ordinals", "template", "updateStrategy", "revisionHistoryLimit", "persistentVolumeClaimRetentionPolicy", "minReadySeconds"];

function defaultStatefulSet(o: Json): void {
  const spec = ensure(o, "spec");
  setDefault(spec, "replicas", 1);
  setDefault(spec, "podManagementPolicy", "OrderedReady");
  const us = ensure(spec, "updateStrategy");
  setDefault(us, "type", "RollingUpdate");
  if (us.type === "RollingUpdate") setDefault(ensure(us, "rollingUpdate"), "partition", 0);
  setDefault(spec, "revisionHistoryLimit", 10);
  const ret = ensure(spec, "persistentVolumeClaimRetentionPolicy");
  setDefault(ret, "whenDeleted", "Retain");
  setDefault(ret, "whenScaled", "Retain");
  for (const t of recs(spec, "volumeClaimTemplates")) {
    setDefault(ensure(t, "spec"), "volumeMode", "Filesystem");
    setDefault(ensure(t, "status"), "phase", "Pending");
  }
  defaultPodTemplate(rec(spec, "template"));
}

function validateStatefulSet(o: Json): FieldError[] {
  const spec = rec(o, "spec") ?? {};
  const errs: FieldError[] = [];
  const pmp = spec.podManagementPolicy;
  if (pmp === undefined || pmp === "") errs.push(required("spec.podManagementPolicy"));
  else if (pmp !== "OrderedReady" && pmp !== "Parallel") errs.push(notSupported("spec.podManagementPolicy", pmp, ["OrderedReady", "Parallel"]));
  const us = rec(spec, "updateStrategy") ?? {};
  switch (us.type) {
    case undefined: case "": errs.push(required("spec.updateStrategy")); break;
    case "OnDelete":
      if (us.rollingUpdate !== undefined && us.rollingUpdate !== null) errs.push(invalid("spec.updateStrategy.rollingUpdate", us.rollingUpdate, "only allowed for updateStrategy 'RollingUpdate'"));
      break;
    case "RollingUpdate": {
      const ru = rec(us, "rollingUpdate");
      if (ru) {
        errs.push(...validateNonnegative(num(ru, "partition"), "spec.updateStrategy.rollingUpdate.partition"));
        if (ru.maxUnavailable !== undefined) {
          errs.push(...validateIntOrPercent(ru.maxUnavailable, "spec.updateStrategy.rollingUpdate.maxUnavailable", true));
          if (intOrPercentNumber(ru.maxUnavailable) === 0) errs.push(invalid("spec.updateStrategy.rollingUpdate.maxUnavailable", ru.maxUnavailable, "must be greater than 0"));
        }
      }
      break;
    }
    default: errs.push(invalid("spec.updateStrategy", us, "must be 'RollingUpdate' or 'OnDelete'"));
  }
  const ret = rec(spec, "persistentVolumeClaimRetentionPolicy");
  for (const k of ["whenDeleted", "whenScaled"]) {
    const v = ret?.[k];
    if (v !== undefined && v !== "Retain" && v !== "Delete") errs.push(notSupported(`spec.persistentVolumeClaimRetentionPolicy.${k}`, v, ["Retain", "Delete"]));
  }
  errs.push(...validateReplicas(spec));
  errs.push(...validateNonnegative(num(spec, "minReadySeconds"), "spec.minReadySeconds"));
  errs.push(...validateSelectorAndTemplate(spec, "statefulset", ALWAYS));
  return errs;
}

function validateStatefulSetUpdate(o: Json, old: Json): FieldError[] {
  const a: Json = { ...(rec(o, "spec") ?? {}) };
  const b: Json = { ...(rec(old, "spec") ?? {}) };
  for (const k of STS_MUTABLE) { delete a[k]; delete b[k]; }
  return deepEqual(a, b) ? [] : [forbidden("spec", STS_UPDATE_FORBIDDEN)];
}

export const statefulsets = defineStrategy({
  group: "apps", kind: "StatefulSet", plural: "statefulsets", namespaced: true,
  statusSubresource: true, tracksGeneration: true,
  defaults: defaultStatefulSet,
  validate: validateStatefulSet,
  validateUpdate: validateStatefulSetUpdate,
  table: printer([
    NAME_COLUMN,
    col("Ready", "string", "Ready pods out of the desired replicas."),
    AGE_COLUMN, CONTAINERS_COLUMN, IMAGES_COLUMN,
  ], (o, now) => {
    const [names, images] = templateContainers(o);
    return [nameOf(o), `${num(o, "status", "readyReplicas") ?? 0}/${num(o, "spec", "replicas") ?? 0}`, ageOf(o, now), names, images];
  }),
  scale: replicasScale,
});

// ---- DaemonSet ----

function validateDaemonSet(o: Json): FieldError[] {
  const spec = rec(o, "spec") ?? {};
  const errs = [...validateSelectorAndTemplate(spec, "daemonset", ALWAYS)];
  errs.push(...validateNonnegative(num(spec, "minReadySeconds"), "spec.minReadySeconds"));
  errs.push(...validateNonnegative(num(spec, "revisionHistoryLimit"), "spec.revisionHistoryLimit"));
  const us = rec(spec, "updateStrategy") ?? {};
  switch (us.type) {
    case "OnDelete": break;
    case "RollingUpdate": {
      const ru = rec(us, "rollingUpdate");
      if (!ru) { errs.push(required("spec.updateStrategy.rollingUpdate")); break; }
      const p = "spec.updateStrategy.rollingUpdate";
      errs.push(...validateIntOrPercent(ru.maxUnavailable, `${p}.maxUnavailable`, true));
      errs.push(...validateIntOrPercent(ru.maxSurge, `${p}.maxSurge`, true));
      const hasU = intOrPercentNumber(ru.maxUnavailable) !== 0;
      const hasS = intOrPercentNumber(ru.maxSurge) !== 0;
      if (hasU && hasS) errs.push(invalid(`${p}.maxSurge`, ru.maxSurge, "may not be set when maxUnavailable is non-zero"));
      else if (!hasU && !hasS) errs.push(required(`${p}.maxUnavailable`, "cannot be 0 when maxSurge is 0"));
      break;
    }
    default: errs.push(notSupported("spec.updateStrategy", us, ["RollingUpdate", "OnDelete"]));
  }
  return errs;
}

export const daemonsets = defineStrategy({
  group: "apps", kind: "DaemonSet", plural: "daemonsets", namespaced: true,
  statusSubresource: true, tracksGeneration: true,
  defaults: (o) => {
    const spec = ensure(o, "spec");
    const us = ensure(spec, "updateStrategy");
    setDefault(us, "type", "RollingUpdate");
    if (us.type === "RollingUpdate") {
      const ru = ensure(us, "rollingUpdate");
      setDefault(ru, "maxUnavailable", 1);
      setDefault(ru, "maxSurge", 0);
    }
    setDefault(spec, "revisionHistoryLimit", 10);
    defaultPodTemplate(rec(spec, "template"));
  },
  validate: validateDaemonSet,
  validateUpdate: (o, old) => validateSelectorImmutable(rec(o, "spec") ?? {}, rec(old, "spec") ?? {}),
  table: printer([
    NAME_COLUMN,
    col("Desired", "integer", "Nodes that should run the daemon pod."),
    col("Current", "integer", "Nodes running at least one daemon pod."),
    col("Ready", "integer", "Nodes whose daemon pod is ready."),
    col("Up-to-date", "integer", "Nodes running the current template."),
    col("Available", "integer", "Nodes whose daemon pod is available."),
    col("Node Selector", "string", "Node selector of the pod template."),
    AGE_COLUMN, CONTAINERS_COLUMN, IMAGES_COLUMN, SELECTOR_COLUMN("daemon set"),
  ], (o, now) => {
    const [names, images] = templateContainers(o);
    return [
      nameOf(o), num(o, "status", "desiredNumberScheduled") ?? 0, num(o, "status", "currentNumberScheduled") ?? 0,
      num(o, "status", "numberReady") ?? 0, num(o, "status", "updatedNumberScheduled") ?? 0,
      num(o, "status", "numberAvailable") ?? 0, formatLabels(strMap(o, "spec", "template", "spec", "nodeSelector")),
      ageOf(o, now), names, images, formatLabelSelector(rec(o, "spec", "selector")),
    ];
  }),
});

// ---- ControllerRevision ----

/** "<kind>.<group>/<name>" of the controlling owner, or "<none>". */
function controllerOf(o: Json): string {
  const ref = recs(o, "metadata", "ownerReferences").find((r) => r.controller === true);
  if (!ref) return "<none>";
  const apiVersion = str(ref, "apiVersion") ?? "";
  const group = apiVersion.includes("/") ? apiVersion.slice(0, apiVersion.indexOf("/")) : "";
  const kind = (str(ref, "kind") ?? "").toLowerCase();
  return `${group ? `${kind}.${group}` : kind}/${str(ref, "name") ?? ""}`;
}

export const controllerrevisions = defineStrategy({
  group: "apps", kind: "ControllerRevision", plural: "controllerrevisions", namespaced: true,
  statusSubresource: false, tracksGeneration: false,
  validate: (o) => {
    const errs = validateNonnegative(num(o, "revision"), "revision");
    if (o.data === undefined || o.data === null) errs.push(required("data", "data is mandatory"));
    return errs;
  },
  validateUpdate: (o, old) => validateImmutable(o.data, old.data, "data"),
  table: printer([
    NAME_COLUMN,
    col("Controller", "string", "The object that owns this revision."),
    col("Revision", "integer", "Revision number."),
    AGE_COLUMN,
  ], (o, now) => [nameOf(o), controllerOf(o), num(o, "revision") ?? 0, ageOf(o, now)]),
});

