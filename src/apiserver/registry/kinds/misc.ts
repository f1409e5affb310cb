/**
 * leases (coordination.k8s.io), endpointslices (discovery.k8s.io), horizontalpodautoscalers
 * (autoscaling/v2), poddisruptionbudgets (policy), priorityclasses (scheduling.k8s.io) and
 * events (events.k8s.io).
 */
import {
  forbidden, invalid, notSupported, required, type FieldError,
} from "../../../api/validation/field.ts";
import { validateIntOrPercent, validateLabelSelector } from "../../../api/validation/meta.ts";
import { isDns1123Label, isValidIP, isValidPortNum } from "../../../api/validation/names.ts";
import { formatQuantity, parseQuantity } from "../../../api/validation/quantity.ts";
import { bool, ensure, involvedObjectFields, num, rec, recs, setDefault, str, strs, type Json } from "./_access.ts";
import { AGE_COLUMN, NAME_COLUMN, ageOf, col, defineStrategy, nameOf, printer } from "./_base.ts";
import { EVENT_COLUMNS, eventRow } from "./core.ts";
import { intOrString, listWithMore } from "./_printers.ts";

// ---- Lease ----

export const leases = defineStrategy({
  group: "coordination.k8s.io", kind: "Lease", plural: "leases", namespaced: true,
  statusSubresource: false, tracksGeneration: false,
  validate: (o) => {
    const errs: FieldError[] = [];
    const d = num(o, "spec", "leaseDurationSeconds");
    if (d !== undefined && d <= 0) errs.push(invalid("spec.leaseDurationSeconds", d, "must be greater than 0"));
    const t = num(o, "spec", "leaseTransitions");
    if (t !== undefined && t < 0) errs.push(invalid("spec.leaseTransitions", t, "must be greater than or equal to 0"));
    return errs;
  },
  table: printer([NAME_COLUMN, col("Holder", "string", "Identity of the current holder."), AGE_COLUMN],
    (o, now) => [nameOf(o), str(o, "spec", "holderIdentity") ?? "", ageOf(o, now)]),
});

// ---- EndpointSlice ----

const ADDRESS_TYPES = ["IPv4", "IPv6", "FQDN"];

export const endpointslices = defineStrategy({
  group: "discovery.k8s.io", kind: "EndpointSlice", plural: "endpointslices", namespaced: true,
  statusSubresource: false, tracksGeneration: true,
  defaults: (o) => { for (const p of recs(o, "ports")) { setDefault(p, "name", ""); setDefault(p, "protocol", "TCP"); } },
  validate: (o) => {
    const errs: FieldError[] = [];
    const at = o.addressType;
    if (at === undefined || at === "") errs.push(required("addressType"));
    else if (typeof at !== "string" || !ADDRESS_TYPES.includes(at)) errs.push(notSupported("addressType", at, ADDRESS_TYPES));
    recs(o, "endpoints").forEach((e, i) => {
      const addrs = strs(e, "addresses");
      if (addrs.length === 0) errs.push(required(`endpoints[${i}].addresses`, "must contain at least 1 address"));
      addrs.forEach((a, j) => {
        if (at === "IPv4" || at === "IPv6") for (const m of isValidIP(a)) errs.push(invalid(`endpoints[${i}].addresses[${j}]`, a, m));
      });
    });
    recs(o, "ports").forEach((p, i) => {
      const name = str(p, "name") ?? "";
      if (name) for (const m of isDns1123Label(name)) errs.push(invalid(`ports[${i}].name`, name, m));
      const port = num(p, "port");
      if (port !== undefined) for (const m of isValidPortNum(port)) errs.push(invalid(`ports[${i}].port`, port, m));
    });
    return errs;
  },
  validateUpdate: (o, old) => (o.addressType === old.addressType ? [] : [invalid("addressType", o.addressType ?? "", "field is immutable")]),
  table: printer([
    NAME_COLUMN,
    col("AddressType", "string", "Type of the addresses (IPv4, IPv6, FQDN)."),
    col("Ports", "string", "Ports of the slice."),
    col("Endpoints", "string", "Addresses of the slice's endpoints."),
    AGE_COLUMN,
  ], (o, now) => {
    const ports = recs(o, "ports").map((p) => (num(p, "port") !== undefined ? String(num(p, "port")) : str(p, "name") || "*"));
    const addrs = recs(o, "endpoints").flatMap((e) => strs(e, "addresses"));
    return [nameOf(o), str(o, "addressType") ?? "", listWithMore(ports, 3) || "<unset>", listWithMore(addrs, 3) || "<unset>", ageOf(o, now)];
  }),
});

// ---- HorizontalPodAutoscaler (v2) ----

function metricTarget(spec: Json, status: Json | undefined): string {
  const q = (v: unknown): string => {
    const p = parseQuantity(String(v ?? ""));
    return typeof p === "string" ? String(v ?? "") : formatQuantity(p);
  };
  switch (spec.type) {
    case "Resource": case "ContainerResource": {
      const field = spec.type === "Resource" ? "resource" : "containerResource";
      const src = rec(spec, field) ?? {};
      const name = str(src, "name") ?? "";
      const target = rec(src, "target") ?? {};
      const cur = rec(status, field, "current");
      if (target.averageValue !== undefined) {
        return `${name}: ${cur?.averageValue !== undefined ? q(cur.averageValue) : "<unknown>"}/${q(target.averageValue)}`;
      }
      const curU = num(cur, "averageUtilization");
      const tgtU = num(target, "averageUtilization");
      return `${name}: ${curU !== undefined ? `${curU}%` : "<unknown>"}/${tgtU !== undefined ? `${tgtU}%` : "<auto>"}`;
    }
    case "Pods": {
      const cur = rec(status, "pods", "current");
      return `${cur?.averageValue !== undefined ? q(cur.averageValue) : "<unknown>"}/${q(at(spec, "pods", "target", "averageValue"))}`;
    }
    case "Object": case "External": {
      const field = spec.type === "Object" ? "object" : "external";
      const target = rec(spec, field, "target") ?? {};
      const cur = rec(status, field, "current");
      if (target.type === "AverageValue") {
        return `${cur?.averageValue !== undefined ? q(cur.averageValue) : "<unknown>"}/${q(target.averageValue)} (avg)`;
      }
      return `${cur?.value !== undefined ? q(cur.value) : "<unknown>"}/${q(target.value)}`;
    }
    default:
      return "<unknown type>";
  }
}

const at = (o: unknown, ...path: string[]): unknown => {
  let cur = o;
  for (const p of path) { if (typeof cur !== "object" || cur === null) return undefined; cur = (cur as Json)[p]; }
  return cur;
};

export const horizontalpodautoscalers = defineStrategy({
  group: "autoscaling", kind: "HorizontalPodAutoscaler", plural: "horizontalpodautoscalers", namespaced: true,
  statusSubresource: true, tracksGeneration: true,
  defaults: (o) => {
    const spec = ensure(o, "spec");
    setDefault(spec, "minReplicas", 1);
    if (!Array.isArray(spec.metrics) || spec.metrics.length === 0) {
      spec.metrics = [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 80 } } }];
    }
    const behavior = rec(spec, "behavior");
    if (behavior) {
      const up = ensure(behavior, "scaleUp");
      setDefault(up, "stabilizationWindowSeconds", 0);
      setDefault(up, "selectPolicy", "Max");
      if (!Array.isArray(up.policies)) up.policies = [{ type: "Pods", value: 4, periodSeconds: 15 }, { type: "Percent", value: 100, periodSeconds: 15 }];
      const down = ensure(behavior, "scaleDown");
      setDefault(down, "stabilizationWindowSeconds", 300);
      setDefault(down, "selectPolicy", "Max");
      if (!Array.isArray(down.policies)) down.policies = [{ type: "Percent", value: 100, periodSeconds: 15 }];
    }
  },
  validate: (o) => {
    const spec = rec(o, "spec") ?? {};
    const errs: FieldError[] = [];
    const min = num(spec, "minReplicas");
    const max = num(spec, "maxReplicas") ?? 0;
    if (min !== undefined && min < 1) errs.push(invalid("spec.minReplicas", min, "must be greater than or equal to 1"));
    if (max < 1) errs.push(invalid("spec.maxReplicas", max, "must be greater than 0"));
    if (min !== undefined && max < min) errs.push(invalid("spec.maxReplicas", max, "must be greater than or equal to `minReplicas`"));
    const ref = rec(spec, "scaleTargetRef") ?? {};
    if (!str(ref, "kind")) errs.push(required("spec.scaleTargetRef.kind"));
    if (!str(ref, "name")) errs.push(required("spec.scaleTargetRef.name"));
    return errs;
  },
  table: printer([
    NAME_COLUMN,
    col("Reference", "string", "The scaled object (Kind/name)."),
    col("Targets", "string", "Current/target values of the metrics."),
    col("MinPods", "string", "Lower replica limit."),
    col("MaxPods", "string", "Upper replica limit."),
    col("Replicas", "string", "Current replicas."),
    AGE_COLUMN,
  ], (o, now) => {
    const specs = recs(o, "spec", "metrics");
    const statuses = recs(o, "status", "currentMetrics");
    let targets = "<none>";
    if (specs.length > 0) {
      const list = specs.slice(0, 2).map((m, i) => metricTarget(m, statuses[i]));
      targets = list.join(", ") + (specs.length > 2 ? ` + ${specs.length - 2} more...` : "");
    }
    const min = num(o, "spec", "minReplicas");
    return [
      nameOf(o), `${str(o, "spec", "scaleTargetRef", "kind") ?? ""}/${str(o, "spec", "scaleTargetRef", "name") ?? ""}`,
      targets, min !== undefined ? String(min) : "<unset>", num(o, "spec", "maxReplicas") ?? 0,
      num(o, "status", "currentReplicas") ?? 0, ageOf(o, now),
    ];
  }),
});

// ---- PodDisruptionBudget ----

export const poddisruptionbudgets = defineStrategy({
  group: "policy", kind: "PodDisruptionBudget", plural: "poddisruptionbudgets", namespaced: true,
  statusSubresource: true, tracksGeneration: true,
  validate: (o) => {
    const spec = rec(o, "spec") ?? {};
    const errs: FieldError[] = [];
    if (spec.minAvailable !== undefined && spec.maxUnavailable !== undefined) {
      errs.push(invalid("spec", spec, "minAvailable and maxUnavailable cannot be both set"));
    }
    errs.push(...validateIntOrPercent(spec.minAvailable, "spec.minAvailable", true));
    errs.push(...validateIntOrPercent(spec.maxUnavailable, "spec.maxUnavailable", true));
    if (spec.selector !== undefined) errs.push(...validateLabelSelector(spec.selector, "spec.selector"));
    const uhp = spec.unhealthyPodEvictionPolicy;
    if (uhp !== undefined && uhp !== "IfHealthyBudget" && uhp !== "AlwaysAllow") {
      errs.push(notSupported("spec.unhealthyPodEvictionPolicy", uhp, ["AlwaysAllow", "IfHealthyBudget"]));
    }
    return errs;
  },
  table: printer([
    NAME_COLUMN,
    col("Min Available", "string", "Pods that must stay available."),
    col("Max Unavailable", "string", "Pods that may be unavailable."),
    col("Allowed Disruptions", "integer", "Disruptions currently allowed."),
    AGE_COLUMN,
  ], (o, now) => {
    const spec = rec(o, "spec") ?? {};
    return [
      nameOf(o), spec.minAvailable !== undefined ? intOrString(spec.minAvailable) : "N/A",
      spec.maxUnavailable !== undefined ? intOrString(spec.maxUnavailable) : "N/A",
      num(o, "status", "disruptionsAllowed") ?? 0, ageOf(o, now),
    ];
  }),
});

// ---- PriorityClass ----

const HIGHEST_USER_PRIORITY = 1_000_000_000;
const SYSTEM_CLASSES = new Set(["system-node-critical", "system-cluster-critical"]);

export const priorityclasses = defineStrategy({
  group: "scheduling.k8s.io", kind: "PriorityClass", plural: "priorityclasses", namespaced: false,
  statusSubresource: false, tracksGeneration: false,
  defaults: (o) => setDefault(o, "preemptionPolicy", "PreemptLowerPriority"),
  validate: (o) => {
    const errs: FieldError[] = [];
    const name = nameOf(o);
    if (SYSTEM_CLASSES.has(name)) return errs;
    if (name.startsWith("system-")) errs.push(forbidden("metadata.name", "priority class names with 'system-' prefix are reserved"));
    const v = num(o, "value") ?? 0;
    if (v > HIGHEST_USER_PRIORITY) errs.push(forbidden("value", `maximum allowed value of a user defined priority is ${HIGHEST_USER_PRIORITY}`));
    const pp = o.preemptionPolicy;
    if (pp !== undefined && pp !== "Never" && pp !== "PreemptLowerPriority") errs.push(notSupported("preemptionPolicy", pp, ["Never", "PreemptLowerPriority"]));
    return errs;
  },
  validateUpdate: (o, old) => {
    const errs: FieldError[] = [];
    if ((num(o, "value") ?? 0) !== (num(old, "value") ?? 0)) errs.push(forbidden("value", "may not be changed in an update."));
    if (o.preemptionPolicy !== old.preemptionPolicy) errs.push(invalid("preemptionPolicy", o.preemptionPolicy ?? "", "field is immutable"));
    return errs;
  },
  table: printer([
    NAME_COLUMN,
    col("Value", "integer", "Priority of pods using this class."),
    col("Global-Default", "boolean", "Whether this class applies to pods without a class."),
    AGE_COLUMN,
    col("PreemptionPolicy", "string", "Whether pods of this class preempt lower-priority pods."),
  ], (o, now) => [nameOf(o), num(o, "value") ?? 0, bool(o, "globalDefault") === true, ageOf(o, now), str(o, "preemptionPolicy") ?? ""]),
});

// ---- events.k8s.io/v1 Event ----

export const eventsV1 = defineStrategy({
  group: "events.k8s.io", kind: "Event", plural: "events", namespaced: true,
  statusSubresource: false, tracksGeneration: false,
  validate: (o) => {
    const errs: FieldError[] = [];
    const ns = str(o, "metadata", "namespace") ?? "";
    const rns = str(o, "regarding", "namespace") ?? "";
    if (rns !== "" && rns !== ns) errs.push(invalid("regarding.namespace", rns, "does not match event.namespace"));
    if (o.eventTime === undefined && o.deprecatedFirstTimestamp === undefined) errs.push(required("eventTime"));
    const t = str(o, "type");
    if (t !== undefined && t !== "Normal" && t !== "Warning") errs.push(notSupported("type", t, ["Normal", "Warning"]));
    if (!str(o, "reportingController")) errs.push(required("reportingController"));
    if (!str(o, "action")) errs.push(required("action"));
    if (!str(o, "reason")) errs.push(required("reason"));
    return errs;
  },
  fields: (o) => ({
    ...involvedObjectFields(o, "regarding"),
    reason: str(o, "reason") ?? "",
    reportingComponent: str(o, "reportingController") ?? "",
    source: str(o, "deprecatedSource", "component") || str(o, "reportingController") || "",
    type: str(o, "type") ?? "",
  }),
  table: printer(EVENT_COLUMNS, (o, now) => eventRow({
    name: nameOf(o), type: str(o, "type") ?? "", reason: str(o, "reason") ?? "", message: str(o, "note") ?? "",
    kind: str(o, "regarding", "kind") ?? "", objName: str(o, "regarding", "name") ?? "",
    fieldPath: str(o, "regarding", "fieldPath") ?? "",
    component: str(o, "deprecatedSource", "component") || str(o, "reportingController") || "",
    instance: str(o, "deprecatedSource", "host") || str(o, "reportingInstance") || "",
    firstTimestamp: str(o, "deprecatedFirstTimestamp"), lastTimestamp: str(o, "deprecatedLastTimestamp"),
    eventTime: str(o, "eventTime"), count: num(o, "deprecatedCount") ?? 0,
    seriesLast: str(o, "series", "lastObservedTime"), seriesCount: num(o, "series", "count"),
  }, now)),
});
