/**
 * core/v1 kinds besides pods and services: namespaces, nodes, configmaps, secrets,
 * serviceaccounts, events, resourcequotas, limitranges, persistentvolumes,
 * persistentvolumeclaims, podtemplates, endpoints.
 */
import {
  deepEqual, duplicate, forbidden, invalid, notSupported, required, tooLong, validateImmutable,
  type FieldError,
} from "../../../api/validation/field.ts";
import {
  nameIsDnsLabel, nameIsPathSegment, validateQuantity,
} from "../../../api/validation/meta.ts";
import {
  isConfigMapKey, isDns1123Label, isQualifiedName, isValidIP, isValidLabelValue, isValidPortNum,
} from "../../../api/validation/names.ts";
import { formatQuantity, parseQuantity } from "../../../api/validation/quantity.ts";
import { bool, ensure, involvedObjectFields, isRecord, num, rec, recs, setDefault, str, strMap, strs, type Json } from "./_access.ts";
import { AGE_COLUMN, NAME_COLUMN, ageOf, col, defineStrategy, nameOf, printer } from "./_base.ts";
import { translateTimestampSince } from "./_duration.ts";
import { defaultPodTemplate, validatePodTemplate } from "./_podspec.ts";
import { formatLabels, layoutContainerCells } from "./_printers.ts";

export const MAX_SECRET_SIZE = 1024 * 1024;

// ---- Namespace ----

export const namespaces = defineStrategy({
  group: "", kind: "Namespace", plural: "namespaces", namespaced: false, nameValidator: nameIsDnsLabel,
  statusSubresource: true, tracksGeneration: false,
  defaults: (o) => {
    const name = str(o, "metadata", "name");
    if (name) ensure(o, "metadata", "labels")["kubernetes.io/metadata.name"] = name;
  },
  initialStatus: () => ({ phase: "Active" }),
  prepareCreate: (o) => {
    const spec = ensure(o, "spec");
    const fin = strs(spec, "finalizers");
    if (!fin.includes("kubernetes")) spec.finalizers = [...fin, "kubernetes"];
  },
  prepareUpdate: (o, old) => {
    const oldFin = rec(old, "spec")?.finalizers;
    const spec = ensure(o, "spec");
    if (oldFin === undefined) delete spec.finalizers; else spec.finalizers = structuredClone(oldFin);
  },
  validate: (o) => {
    const errs: FieldError[] = [];
    for (const f of strs(o, "spec", "finalizers")) {
      for (const m of isQualifiedName(f)) errs.push(invalid("spec.finalizers", f, m));
      if (!f.includes("/") && f !== "kubernetes" && isQualifiedName(f).length === 0) {
        errs.push(invalid("spec.finalizers", f, "name is neither a standard finalizer name nor is it fully qualified"));
      }
    }
    return errs;
  },
  fields: (o) => ({ "status.phase": str(o, "status", "phase") ?? "", name: str(o, "metadata", "name") ?? "" }),
  table: printer([NAME_COLUMN, col("Status", "string", "The namespace's phase."), AGE_COLUMN],
    (o, now) => [nameOf(o), str(o, "status", "phase") ?? "", ageOf(o, now)]),
});

// ---- Node ----

const TAINT_EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"];

function nodeStatusCell(o: Json): string {
  const out: string[] = [];
  const ready = recs(o, "status", "conditions").find((c) => c.type === "Ready");
  if (ready) out.push(ready.status === "True" ? "Ready" : "NotReady");
  if (out.length === 0) out.push("Unknown");
  if (bool(o, "spec", "unschedulable") === true) out.push("SchedulingDisabled");
  return out.join(",");
}

/** Roles from `node-role.kubernetes.io/<role>` label keys and the `kubernetes.io/role` value. */
export function nodeRoles(labels: Record<string, string> | undefined): string {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(labels ?? {})) {
    if (k.startsWith("node-role.kubernetes.io/")) { const r = k.slice("node-role.kubernetes.io/".length); if (r) roles.add(r); }
    else if (k === "kubernetes.io/role" && v) roles.add(v);
  }
  return roles.size ? [...roles].sort().join(",") : "<none>";
}

const nodeAddress = (o: Json, type: string): string =>
  str(recs(o, "status", "addresses").find((a) => a.type === type), "address") ?? "<none>";

export const nodes = defineStrategy({
  group: "", kind: "Node", plural: "nodes", namespaced: false,
  statusSubresource: true, tracksGeneration: false,
  // Nodes may set their whole status on create (kubelet registration).
  initialStatus: (o) => (isRecord(o.status) ? o.status : undefined),
  defaults: (o) => {
    const status = rec(o, "status");
    if (status && status.capacity !== undefined && status.allocatable === undefined) status.allocatable = structuredClone(status.capacity);
  },
  validate: (o) => {
    const errs: FieldError[] = [];
    const seen = new Set<string>();
    recs(o, "spec", "taints").forEach((t, i) => {
      const p = `spec.taints[${i}]`;
      const k = str(t, "key") ?? "";
      for (const m of isQualifiedName(k)) errs.push(invalid(`${p}.key`, k, m));
      const v = str(t, "value") ?? "";
      const vm = isValidLabelValue(v);
      if (vm.length) errs.push(invalid(`${p}.value`, v, vm.join(";")));
      const eff = str(t, "effect") ?? "";
      if (eff === "") errs.push(required(`${p}.effect`));
      else if (!TAINT_EFFECTS.includes(eff)) errs.push(notSupported(`${p}.effect`, eff, TAINT_EFFECTS));
      const id = `${k}\u0000${eff}`;
      if (seen.has(id)) errs.push({ type: "FieldValueDuplicate", field: p, message: `Duplicate value: ${JSON.stringify(t)}: taints must be unique by key and effect pair` });
      seen.add(id);
    });
    const cidr = str(o, "spec", "podCIDR");
    if (cidr && !/^[0-9a-fA-F:.]+\/[0-9]{1,3}$/.test(cidr)) errs.push(invalid("spec.podCIDR", cidr, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"));
    return errs;
  },
  fields: (o) => ({ "spec.unschedulable": String(bool(o, "spec", "unschedulable") === true) }),
  table: printer([
    NAME_COLUMN,
    col("Status", "string", "Readiness of the node, and whether it is cordoned."),
    col("Roles", "string", "Roles from the node's node-role.kubernetes.io/* labels."),
    AGE_COLUMN,
    col("Version", "string", "Kubelet version reported by the node."),
    col("Internal-IP", "string", "The node's first InternalIP address.", 1),
    col("External-IP", "string", "The node's first ExternalIP address.", 1),
    col("OS-Image", "string", "Operating system image reported by the node.", 1),
    col("Kernel-Version", "string", "Kernel version reported by the node.", 1),
    col("Container-Runtime", "string", "Container runtime and version reported by the node.", 1),
  ], (o, now) => {
    const info = rec(o, "status", "nodeInfo") ?? {};
    return [
      nameOf(o), nodeStatusCell(o), nodeRoles(strMap(o, "metadata", "labels")), ageOf(o, now),
      str(info, "kubeletVersion") ?? "", nodeAddress(o, "InternalIP"), nodeAddress(o, "ExternalIP"),
      str(info, "osImage") || "<unknown>", str(info, "kernelVersion") || "<unknown>",
      str(info, "containerRuntimeVersion") || "<unknown>",
    ];
  }),
});

// ---- ConfigMap / Secret ----

/** Base64 of the UTF-8 bytes (no Node Buffer, so it runs on Deno too). */
function utf8ToBase64(v: string): string {
  let bin = "";
  for (const b of new TextEncoder().encode(v)) bin += String.fromCharCode(b);
  return btoa(bin);
}

/** Decoded byte length of a base64 string (as Secret data is carried in JSON). */
export function base64Size(s: string): number {
  const pad = s.endsWith("==") ? 2 : s.endsWith("=") ? 1 : 0;
  return Math.max(0, Math.floor((s.length * 3) / 4) - pad);
}

function validateDataKeys(data: Record<string, string>, other: Record<string, string>, path: string, otherName: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const k of Object.keys(data).sort()) {
    for (const m of isConfigMapKey(k)) errs.push(invalid(`${path}[${k}]`, k, m));
    if (Object.prototype.hasOwnProperty.call(other, k)) errs.push(invalid(`${path}[${k}]`, k, `duplicate of key present in ${otherName}`));
  }
  return errs;
}

function immutableUpdate(o: Json, old: Json, fields: string[]): FieldError[] {
  if (old.immutable !== true) return [];
  const errs: FieldError[] = [];
  if (o.immutable !== true) errs.push(forbidden("immutable", "field is immutable when `immutable` is set"));
  for (const f of fields) if (!deepEqual(o[f] ?? {}, old[f] ?? {})) errs.push(forbidden(f, "field is immutable when `immutable` is set"));
  return errs;
}

export const configmaps = defineStrategy({
  group: "", kind: "ConfigMap", plural: "configmaps", namespaced: true,
  statusSubresource: false, tracksGeneration: false,
  validate: (o) => {
    const data = strMap(o, "data") ?? {};
    const bin = strMap(o, "binaryData") ?? {};
    const errs = [...validateDataKeys(data, bin, "data", "binaryData"), ...validateDataKeys(bin, data, "binaryData", "data")];
    const enc = new TextEncoder();
    let total = 0;
    for (const v of Object.values(data)) total += enc.encode(v).length;
    for (const v of Object.values(bin)) total += base64Size(v);
    if (total > MAX_SECRET_SIZE) errs.push(tooLong("", MAX_SECRET_SIZE));
    return errs;
  },
  validateUpdate: (o, old) => immutableUpdate(o, old, ["data", "binaryData"]),
  table: printer([NAME_COLUMN, col("Data", "string", "Number of data entries."), AGE_COLUMN],
    (o, now) => [nameOf(o), Object.keys(rec(o, "data") ?? {}).length + Object.keys(rec(o, "binaryData") ?? {}).length, ageOf(o, now)]),
});

function validateSecret(o: Json): FieldError[] {
  const data = strMap(o, "data") ?? {};
  const errs = validateDataKeys(data, {}, "data", "");
  let total = 0;
  for (const v of Object.values(data)) total += base64Size(v);
  if (total > MAX_SECRET_SIZE) errs.push(tooLong("data", MAX_SECRET_SIZE));
  const has = (k: string): boolean => Object.prototype.hasOwnProperty.call(data, k);
  switch (str(o, "type")) {
    case "kubernetes.io/service-account-token":
      if (!str(o, "metadata", "annotations", "kubernetes.io/service-account.name")) errs.push(required("metadata.annotations[kubernetes.io/service-account.name]"));
      break;
    case "kubernetes.io/dockercfg": if (!has(".dockercfg")) errs.push(required("data[.dockercfg]")); break;
    case "kubernetes.io/dockerconfigjson": if (!has(".dockerconfigjson")) errs.push(required("data[.dockerconfigjson]")); break;
    case "kubernetes.io/basic-auth":
      if (!has("username") && !has("password")) errs.push(required("data[username]"), required("data[password]"));
      break;
    case "kubernetes.io/ssh-auth": if (!data["ssh-privatekey"]) errs.push(required("data[ssh-privatekey]")); break;
    case "kubernetes.io/tls":
      if (!has("tls.crt")) errs.push(required("data[tls.crt]"));
      if (!has("tls.key")) errs.push(required("data[tls.key]"));
      break;
    default:
  }
  return errs;
}

export const secrets = defineStrategy({
  group: "", kind: "Secret", plural: "secrets", namespaced: true,
  statusSubresource: false, tracksGeneration: false,
  defaults: (o) => {
    setDefault(o, "type", "Opaque");
    // stringData is write-only: merged into data (base64) as upstream's conversion does.
    const sd = strMap(o, "stringData");
    if (sd) {
      const data = ensure(o, "data");
      for (const [k, v] of Object.entries(sd)) data[k] = utf8ToBase64(v);
      delete o.stringData;
    }
  },
  validate: validateSecret,
  validateUpdate: (o, old) => [
    ...validateImmutable(o.type, old.type, "type"),
    ...immutableUpdate(o, old, ["data"]),
  ],
  fields: (o) => ({ type: str(o, "type") ?? "" }),
  table: printer([NAME_COLUMN, col("Type", "string", "The secret's type."), col("Data", "string", "Number of data entries."), AGE_COLUMN],
    (o, now) => [nameOf(o), str(o, "type") ?? "", Object.keys(rec(o, "data") ?? {}).length, ageOf(o, now)]),
});

// ---- ServiceAccount ----

export const serviceaccounts = defineStrategy({
  group: "", kind: "ServiceAccount", plural: "serviceaccounts", namespaced: true,
  statusSubresource: false, tracksGeneration: false,
  table: printer([NAME_COLUMN, col("Secrets", "string", "Number of secrets listed on the account."), AGE_COLUMN],
    (o, now) => [nameOf(o), recs(o, "secrets").length, ageOf(o, now)]),
});

// ---- Event (core/v1) ----

function eventSource(component: string, instance: string): string {
  if (!component) return "<unknown>";
  return instance ? `${component}, ${instance}` : component;
}

/** Cells shared by core/v1 and events.k8s.io/v1 events (both print through the core printer). */
export interface EventView {
  name: string; type: string; reason: string; message: string;
  kind: string; objName: string; fieldPath: string;
  component: string; instance: string;
  firstTimestamp?: string | undefined; lastTimestamp?: string | undefined; eventTime?: string | undefined;
  count: number; seriesLast?: string | undefined; seriesCount?: number | undefined;
}

export const EVENT_COLUMNS = [
  col("Last Seen", "string", "Time since the event was last observed."),
  col("Type", "string", "Event type (Normal, Warning)."),
  col("Reason", "string", "Short machine-readable reason."),
  col("Object", "string", "The object the event is about."),
  col("Subobject", "string", "Field path within the object.", 1),
  col("Source", "string", "Component (and host) that reported the event.", 1),
  col("Message", "string", "Human-readable description."),
  col("First Seen", "string", "Time since the event was first observed.", 1),
  col("Count", "string", "Number of occurrences.", 1),
  col("Name", "string", "Name of the event object.", 1, "name"),
];

export function eventRow(e: EventView, now: Date): (string | number)[] {
  const first = e.firstTimestamp ? translateTimestampSince(e.firstTimestamp, now) : translateTimestampSince(e.eventTime, now);
  let last = e.lastTimestamp ? translateTimestampSince(e.lastTimestamp, now) : first;
  let count = e.count;
  if (e.seriesLast !== undefined) { last = translateTimestampSince(e.seriesLast, now); count = e.seriesCount ?? 0; }
  else if (count === 0) count = 1;
  const target = e.objName ? `${e.kind.toLowerCase()}/${e.objName}` : e.kind.toLowerCase();
  return [last, e.type, e.reason, target, e.fieldPath, eventSource(e.component, e.instance), e.message.trim(), first, count, e.name];
}

const coreEventView = (o: Json): EventView => ({
  name: nameOf(o), type: str(o, "type") ?? "", reason: str(o, "reason") ?? "", message: str(o, "message") ?? "",
  kind: str(o, "involvedObject", "kind") ?? "", objName: str(o, "involvedObject", "name") ?? "",
  fieldPath: str(o, "involvedObject", "fieldPath") ?? "",
  component: str(o, "source", "component") || str(o, "reportingComponent") || "",
  instance: str(o, "source", "host") || str(o, "reportingInstance") || "",
  firstTimestamp: str(o, "firstTimestamp"), lastTimestamp: str(o, "lastTimestamp"), eventTime: str(o, "eventTime"),
  count: num(o, "count") ?? 0, seriesLast: str(o, "series", "lastObservedTime"), seriesCount: num(o, "series", "count"),
});

export const events = defineStrategy({
  group: "", kind: "Event", plural: "events", namespaced: true,
  statusSubresource: false, tracksGeneration: false,
  validate: (o) => {
    const ns = str(o, "metadata", "namespace") ?? "";
    const ions = str(o, "involvedObject", "namespace") ?? "";
    const ok = ions === "" ? ns === "" || ns === "default" : ns === ions;
    return ok ? [] : [invalid("involvedObject.namespace", ions, "does not match event.namespace")];
  },
  fields: (o) => ({
    ...involvedObjectFields(o, "involvedObject"),
    reason: str(o, "reason") ?? "",
    reportingComponent: str(o, "reportingComponent") ?? "",
    source: str(o, "source", "component") || str(o, "reportingComponent") || "",
    type: str(o, "type") ?? "",
  }),
  table: printer(EVENT_COLUMNS, (o, now) => eventRow(coreEventView(o), now)),
});

// ---- ResourceQuota / LimitRange ----

function validateResourceList(list: Json | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(list ?? {}).sort()) errs.push(...validateQuantity(v, `${path}[${k}]`));
  return errs;
}

const q = (v: unknown): string => {
  const p = parseQuantity(String(v ?? "0"));
  return typeof p === "string" ? String(v) : formatQuantity(p);
};

export const resourcequotas = defineStrategy({
  group: "", kind: "ResourceQuota", plural: "resourcequotas", namespaced: true,
  statusSubresource: true, tracksGeneration: false,
  validate: (o) => validateResourceList(rec(o, "spec", "hard"), "spec.hard"),
  table: printer([
    NAME_COLUMN, AGE_COLUMN,
    col("Request", "string", "Used/hard of request-type quotas."),
    col("Limit", "string", "Used/hard of limit-type quotas."),
  ], (o, now) => {
    const hard = rec(o, "status", "hard") ?? rec(o, "spec", "hard") ?? {};
    const used = rec(o, "status", "used") ?? {};
    const requests: string[] = [];
    const limits: string[] = [];
    for (const k of Object.keys(hard).sort()) {
      const s = `${k}: ${q(used[k] ?? "0")}/${q(hard[k])}`;
      if (k.startsWith("limits")) limits.push(s); else requests.push(s);
    }
    return [nameOf(o), ageOf(o, now), requests.join(", "), limits.join(", ")];
  }),
});

const LIMIT_TYPES = ["Container", "PersistentVolumeClaim", "Pod"];

export const limitranges = defineStrategy({
  group: "", kind: "LimitRange", plural: "limitranges", namespaced: true,
  statusSubresource: false, tracksGeneration: false,
  defaults: (o) => {
    for (const item of recs(o, "spec", "limits")) {
      if (item.type !== "Container") continue;
      const def = ensure(item, "default");
      const defReq = ensure(item, "defaultRequest");
      for (const [k, v] of Object.entries(rec(item, "max") ?? {})) if (def[k] === undefined) def[k] = v;
      for (const [k, v] of Object.entries(def)) if (defReq[k] === undefined) defReq[k] = v;
      for (const [k, v] of Object.entries(rec(item, "min") ?? {})) if (defReq[k] === undefined) defReq[k] = v;
    }
  },
  validate: (o) => {
    const errs: FieldError[] = [];
    recs(o, "spec", "limits").forEach((item, i) => {
      const p = `spec.limits[${i}]`;
      const t = str(item, "type") ?? "";
      if (!LIMIT_TYPES.includes(t)) errs.push(notSupported(`${p}.type`, t, LIMIT_TYPES));
      for (const f of ["max", "min", "default", "defaultRequest", "maxLimitRequestRatio"]) errs.push(...validateResourceList(rec(item, f), `${p}.${f}`));
    });
    return errs;
  },
  table: printer([NAME_COLUMN, col("Created At", "date", "When the object was created.")],
    (o) => [nameOf(o), str(o, "metadata", "creationTimestamp") ?? ""]),
});

// ---- PersistentVolume / PersistentVolumeClaim ----

const ACCESS_MODES = ["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"];
const RECLAIM = ["Delete", "Recycle", "Retain"];
const PV_SOURCES = [
  "gcePersistentDisk", "awsElasticBlockStore", "hostPath", "glusterfs", "nfs", "rbd", "iscsi", "cinder", "cephfs",
  "fc", "flocker", "flexVolume", "azureFile", "vsphereVolume", "quobyte", "azureDisk", "photonPersistentDisk",
  "portworxVolume", "scaleIO", "local", "storageos", "csi",
];
const MODE_ABBREV: Record<string, string> = { ReadWriteOnce: "RWO", ReadOnlyMany: "ROX", ReadWriteMany: "RWX", ReadWriteOncePod: "RWOP" };
const accessModesCell = (modes: string[]): string => modes.map((m) => MODE_ABBREV[m] ?? m).join(",");

function validateAccessModes(modes: string[], path: string, requiredDetail?: string): FieldError[] {
  const errs: FieldError[] = [];
  if (modes.length === 0) errs.push(required(path, requiredDetail));
  for (const m of modes) if (!ACCESS_MODES.includes(m)) errs.push(notSupported(path, m, ACCESS_MODES));
  return errs;
}

const storageClassOf = (o: Json): string =>
  str(o, "spec", "storageClassName") ?? str(o, "metadata", "annotations", "volume.beta.kubernetes.io/storage-class") ?? "";

export const persistentvolumes = defineStrategy({
  group: "", kind: "PersistentVolume", plural: "persistentvolumes", namespaced: false, nameValidator: nameIsPathSegment,
  statusSubresource: true, tracksGeneration: false,
  defaults: (o) => {
    const spec = ensure(o, "spec");
    setDefault(spec, "persistentVolumeReclaimPolicy", "Retain");
    setDefault(spec, "volumeMode", "Filesystem");
  },
  initialStatus: () => ({ phase: "Pending", lastPhaseTransitionTime: new Date().toISOString().replace(/\.\d{3}Z$/, "Z") }),
  validate: (o) => {
    const spec = rec(o, "spec") ?? {};
    const errs = validateAccessModes(strs(spec, "accessModes"), "spec.accessModes");
    const cap = rec(spec, "capacity") ?? {};
    if (Object.keys(cap).length === 0) errs.push(required("spec.capacity"));
    else if (cap.storage === undefined || Object.keys(cap).length > 1) errs.push(notSupported("spec.capacity", cap, ["storage"]));
    errs.push(...validateResourceList(cap, "spec.capacity"));
    const rp = spec.persistentVolumeReclaimPolicy;
    if (typeof rp !== "string" || !RECLAIM.includes(rp)) errs.push(notSupported("spec.persistentVolumeReclaimPolicy", rp ?? "", RECLAIM));
    const sources = PV_SOURCES.filter((s) => spec[s] !== undefined && spec[s] !== null);
    if (sources.length === 0) errs.push(required("spec", "must specify a volume type"));
    else if (sources.length > 1) errs.push(forbidden(`spec.${sources[1]}`, "may not specify more than 1 volume type"));
    return errs;
  },
  fields: (o) => ({ name: nameOf(o) }),
  table: printer([
    NAME_COLUMN,
    col("Capacity", "string", "Storage capacity of the volume."),
    col("Access Modes", "string", "Ways the volume can be mounted."),
    col("Reclaim Policy", "string", "What happens to the volume when released."),
    col("Status", "string", "The volume's phase."),
    col("Claim", "string", "The claim bound to the volume (namespace/name)."),
    col("StorageClass", "string", "Storage class of the volume."),
    col("VolumeAttributesClass", "string", "Volume attributes class of the volume."),
    col("Reason", "string", "Why the volume is in its phase."),
    AGE_COLUMN,
    col("VolumeMode", "string", "Filesystem or Block.", 1),
  ], (o, now) => {
    const ref = rec(o, "spec", "claimRef");
    const claim = ref ? `${str(ref, "namespace") ?? ""}/${str(ref, "name") ?? ""}` : "";
    const cap = rec(o, "spec", "capacity")?.storage;
    return [
      nameOf(o), cap === undefined ? "" : q(cap), accessModesCell(strs(o, "spec", "accessModes")),
      str(o, "spec", "persistentVolumeReclaimPolicy") ?? "",
      str(o, "metadata", "deletionTimestamp") ? "Terminating" : str(o, "status", "phase") ?? "",
      claim, storageClassOf(o), str(o, "spec", "volumeAttributesClassName") || "<unset>",
      str(o, "status", "reason") ?? "", ageOf(o, now), str(o, "spec", "volumeMode") ?? "<unset>",
    ];
  }),
});

const PVC_MUTABLE = ["resources", "volumeAttributesClassName", "volumeName"];

export const persistentvolumeclaims = defineStrategy({
  group: "", kind: "PersistentVolumeClaim", plural: "persistentvolumeclaims", namespaced: true,
  statusSubresource: true, tracksGeneration: false,
  defaults: (o) => { setDefault(ensure(o, "spec"), "volumeMode", "Filesystem"); },
  initialStatus: () => ({ phase: "Pending" }),
  validate: (o) => {
    const spec = rec(o, "spec") ?? {};
    const errs = validateAccessModes(strs(spec, "accessModes"), "spec.accessModes", "at least 1 access mode is required");
    const storage = rec(spec, "resources", "requests")?.storage;
    if (storage === undefined) errs.push(required("spec.resources[storage]"));
    else {
      const e = validateQuantity(storage, "spec.resources[storage]");
      errs.push(...e);
      const p = parseQuantity(String(storage));
      if (e.length === 0 && typeof p !== "string" && p.nanos === 0n) errs.push(invalid("spec.resources[storage]", "0", "must be greater than zero"));
    }
    const vm = spec.volumeMode;
    if (vm !== undefined && vm !== "Block" && vm !== "Filesystem") errs.push(notSupported("spec.volumeMode", vm, ["Block", "Filesystem"]));
    return errs;
  },
  validateUpdate: (o, old) => {
    const a: Json = { ...(rec(o, "spec") ?? {}) };
    const b: Json = { ...(rec(old, "spec") ?? {}) };
    for (const k of PVC_MUTABLE) { delete a[k]; delete b[k]; }
    if (!b.volumeName) delete a.volumeName;
    return deepEqual(a, b) ? [] : [forbidden("spec", "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims")];
  },
  fields: (o) => ({ name: nameOf(o) }),
  table: printer([
    NAME_COLUMN,
    col("Status", "string", "The claim's phase."),
    col("Volume", "string", "The volume bound to the claim."),
    col("Capacity", "string", "Actual capacity of the bound volume."),
    col("Access Modes", "string", "Access modes of the bound volume."),
    col("StorageClass", "string", "Storage class requested by the claim."),
    col("VolumeAttributesClass", "string", "Volume attributes class of the claim."),
    AGE_COLUMN,
    col("VolumeMode", "string", "Filesystem or Block.", 1),
  ], (o, now) => {
    const volume = str(o, "spec", "volumeName") ?? "";
    const cap = volume ? rec(o, "status", "capacity")?.storage : undefined;
    const phase = str(o, "metadata", "deletionTimestamp") ? "Terminating" : str(o, "status", "phase") ?? "";
    return [
      nameOf(o), phase, volume, cap === undefined ? "" : q(cap),
      volume ? accessModesCell(strs(o, "status", "accessModes")) : "", storageClassOf(o),
      str(o, "spec", "volumeAttributesClassName") || "<unset>", ageOf(o, now), str(o, "spec", "volumeMode") ?? "<unset>",
    ];
  }),
});

// ---- PodTemplate ----

export const podtemplates = defineStrategy({
  group: "", kind: "PodTemplate", plural: "podtemplates", namespaced: true,
  statusSubresource: false, tracksGeneration: false,
  defaults: (o) => defaultPodTemplate(rec(o, "template")),
  validate: (o) => validatePodTemplate(o.template, "template", ["Always", "OnFailure", "Never"]),
  table: printer([
    NAME_COLUMN,
    col("Containers", "string", "Names of the containers in the template."),
    col("Images", "string", "Images of the containers in the template."),
    col("Pod Labels", "string", "Labels of the pod template."),
  ], (o) => {
    const [names, images] = layoutContainerCells(rec(o, "template", "spec"));
    return [nameOf(o), names, images, formatLabels(strMap(o, "template", "metadata", "labels"))];
  }),
});

// ---- Endpoints ----

/** "ip:port,... + N more..." over every address × port (max 3 shown), or "<none>". */
export function formatEndpoints(o: Json): string {
  const subsets = recs(o, "subsets");
  if (subsets.length === 0) return "<none>";
  const list: string[] = [];
  let count = 0;
  for (const ss of subsets) {
    for (const p of recs(ss, "ports")) {
      for (const a of recs(ss, "addresses")) {
        if (list.length < 3) {
          const ip = str(a, "ip") ?? "";
          list.push(`${ip.includes(":") ? `[${ip}]` : ip}:${num(p, "port") ?? 0}`);
        }
        count++;
      }
    }
  }
  const s = list.join(",");
  return count > 3 ? `${s} + ${count - 3} more...` : s;
}

export const endpoints = defineStrategy({
  group: "", kind: "Endpoints", plural: "endpoints", namespaced: true,
  statusSubresource: false, tracksGeneration: false,
  defaults: (o) => { for (const ss of recs(o, "subsets")) for (const p of recs(ss, "ports")) setDefault(p, "protocol", "TCP"); },
  validate: (o) => {
    const errs: FieldError[] = [];
    recs(o, "subsets").forEach((ss, i) => {
      const sp = `subsets[${i}]`;
      for (const field of ["addresses", "notReadyAddresses"]) {
        recs(ss, field).forEach((a, j) => {
          const ip = str(a, "ip") ?? "";
          for (const m of isValidIP(ip)) errs.push(invalid(`${sp}.${field}[${j}].ip`, ip, m));
        });
      }
      const ports = recs(ss, "ports");
      const names = new Set<string>();
      ports.forEach((p, j) => {
        const pp = `${sp}.ports[${j}]`;
        const name = str(p, "name") ?? "";
        if (ports.length > 1 && name === "") errs.push(required(`${pp}.name`));
        else if (name) {
          for (const m of isDns1123Label(name)) errs.push(invalid(`${pp}.name`, name, m));
          if (names.has(name)) errs.push(duplicate(`${pp}.name`, name));
          names.add(name);
        }
        const port = num(p, "port") ?? 0;
        for (const m of isValidPortNum(port)) errs.push(invalid(`${pp}.port`, port, m));
        const proto = str(p, "protocol") ?? "";
        if (!["SCTP", "TCP", "UDP"].includes(proto)) errs.push(notSupported(`${pp}.protocol`, proto, ["SCTP", "TCP", "UDP"]));
      });
    });
    return errs;
  },
  table: printer([NAME_COLUMN, col("Endpoints", "string", "Ready addresses and ports."), AGE_COLUMN],
    (o, now) => [nameOf(o), formatEndpoints(o), ageOf(o, now)]),
});
