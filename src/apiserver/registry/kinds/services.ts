/** core/v1 Services (clusterIP allocation belongs to the REST layer, not here). */
import {
  duplicate, forbidden, invalid, notSupported, required, type FieldError,
} from "../../../api/validation/field.ts";
import { nameIsDns1035Label, validateLabels } from "../../../api/validation/meta.ts";
import {
  isDns1123Label, isDns1123Subdomain, isValidIP, isValidPortName, isValidPortNum,
} from "../../../api/validation/names.ts";
import { ensure, num, rec, recs, setDefault, str, strMap, strs, type Json } from "./_access.ts";
import { AGE_COLUMN, NAME_COLUMN, ageOf, col, defineStrategy, nameOf, printer } from "./_base.ts";
import { formatLabels, loadBalancerStatus } from "./_printers.ts";

const TYPES = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"];
const PROTOCOLS = ["SCTP", "TCP", "UDP"];

function defaultService(o: Json): void {
  const spec = ensure(o, "spec");
  setDefault(spec, "type", "ClusterIP");
  setDefault(spec, "sessionAffinity", "None");
  if (spec.sessionAffinity === "ClientIP") {
    const cfg = ensure(spec, "sessionAffinityConfig", "clientIP");
    setDefault(cfg, "timeoutSeconds", 10800);
  }
  for (const p of recs(spec, "ports")) {
    setDefault(p, "protocol", "TCP");
    if (p.targetPort === undefined || p.targetPort === 0 || p.targetPort === "") p.targetPort = p.port;
  }
  if (spec.type !== "ExternalName") {
    setDefault(spec, "internalTrafficPolicy", "Cluster");
    setDefault(spec, "ipFamilyPolicy", "SingleStack");
    if (!Array.isArray(spec.ipFamilies) || spec.ipFamilies.length === 0) spec.ipFamilies = ["IPv4"];
  }
  if (spec.type === "NodePort" || spec.type === "LoadBalancer") setDefault(spec, "externalTrafficPolicy", "Cluster");
  if (spec.type === "LoadBalancer") setDefault(spec, "allocateLoadBalancerNodePorts", true);
}

const isHeadless = (spec: Json): boolean => spec.clusterIP === "None";

function validateService(o: Json): FieldError[] {
  const spec = rec(o, "spec") ?? {};
  const errs: FieldError[] = [];
  const type = spec.type;
  if (typeof type !== "string" || !TYPES.includes(type)) errs.push(notSupported("spec.type", type ?? "", TYPES));
  const ports = recs(spec, "ports");
  if (ports.length === 0 && !isHeadless(spec) && type !== "ExternalName") errs.push(required("spec.ports"));
  const names = new Set<string>();
  ports.forEach((p, i) => {
    const pp = `spec.ports[${i}]`;
    const name = str(p, "name") ?? "";
    if (ports.length > 1 && name === "") errs.push(required(`${pp}.name`));
    else if (name !== "") {
      for (const m of isDns1123Label(name)) errs.push(invalid(`${pp}.name`, name, m));
      if (names.has(name)) errs.push(duplicate(`${pp}.name`, name));
      names.add(name);
    }
    const port = num(p, "port") ?? 0;
    for (const m of isValidPortNum(port)) errs.push(invalid(`${pp}.port`, port, m));
    const proto = p.protocol;
    if (proto === undefined || proto === "") errs.push(required(`${pp}.protocol`));
    else if (typeof proto !== "string" || !PROTOCOLS.includes(proto)) errs.push(notSupported(`${pp}.protocol`, proto, PROTOCOLS));
    const tp = p.targetPort;
    if (typeof tp === "number" && tp !== 0) for (const m of isValidPortNum(tp)) errs.push(invalid(`${pp}.targetPort`, tp, m));
    else if (typeof tp === "string") for (const m of isValidPortName(tp)) errs.push(invalid(`${pp}.targetPort`, tp, m));
    const np = num(p, "nodePort");
    if (np !== undefined && np !== 0) {
      if (type === "ClusterIP" || type === "ExternalName") errs.push(forbidden(`${pp}.nodePort`, `may not be used when \`type\` is '${type}'`));
      else for (const m of isValidPortNum(np)) errs.push(invalid(`${pp}.nodePort`, np, m));
    }
  });
  if (type === "ExternalName") {
    const en = str(spec, "externalName") ?? "";
    if (en === "") errs.push(required("spec.externalName"));
    else for (const m of isDns1123Subdomain(en.endsWith(".") ? en.slice(0, -1) : en)) errs.push(invalid("spec.externalName", en, m));
  }
  const ips = strs(spec, "clusterIPs");
  const primary = str(spec, "clusterIP") ?? ips[0] ?? "";
  if (primary !== "" && primary !== "None") {
    for (const m of isValidIP(primary)) errs.push(invalid("spec.clusterIPs[0]", primary, m));
  } else if (primary === "None" && (type === "NodePort" || type === "LoadBalancer")) {
    errs.push(invalid("spec.clusterIPs[0]", "None", `may not be set to 'None' for ${type} services`));
  }
  const sa = spec.sessionAffinity;
  if (sa !== undefined && sa !== "None" && sa !== "ClientIP") errs.push(notSupported("spec.sessionAffinity", sa, ["ClientIP", "None"]));
  for (const [i, ip] of strs(spec, "externalIPs").entries()) {
    for (const m of isValidIP(ip)) errs.push(invalid(`spec.externalIPs[${i}]`, ip, m));
  }
  errs.push(...validateLabels(spec.selector, "spec.selector"));
  const itp = spec.internalTrafficPolicy;
  if (itp !== undefined && itp !== "Cluster" && itp !== "Local") errs.push(notSupported("spec.internalTrafficPolicy", itp, ["Cluster", "Local"]));
  const etp = spec.externalTrafficPolicy;
  if (etp !== undefined && etp !== "" && etp !== "Cluster" && etp !== "Local") errs.push(notSupported("spec.externalTrafficPolicy", etp, ["Cluster", "Local"]));
  return errs;
}

function validateServiceUpdate(o: Json, old: Json): FieldError[] {
  const spec = rec(o, "spec") ?? {};
  const oldSpec = rec(old, "spec") ?? {};
  // ClusterIP may not change once set, except to/from ExternalName.
  if (spec.type === "ExternalName" || oldSpec.type === "ExternalName") return [];
  const oldIp = str(oldSpec, "clusterIP") ?? strs(oldSpec, "clusterIPs")[0] ?? "";
  const newIp = str(spec, "clusterIP") ?? strs(spec, "clusterIPs")[0] ?? "";
  if (oldIp !== "" && newIp !== "" && oldIp !== newIp) return [invalid("spec.clusterIPs[0]", newIp, "may not change once set")];
  return [];
}

function externalIp(o: Json): string {
  const spec = rec(o, "spec") ?? {};
  const extIPs = strs(spec, "externalIPs");
  switch (spec.type) {
    case "ClusterIP": case "NodePort":
      return extIPs.length ? extIPs.join(",") : "<none>";
    case "LoadBalancer": {
      const lb = loadBalancerStatus(rec(o, "status", "loadBalancer"), true);
      if (extIPs.length) return [...(lb ? lb.split(",") : []), ...extIPs].join(",");
      return lb || "<pending>";
    }
    case "ExternalName":
      return str(spec, "externalName") ?? "";
    default:
      return "<unknown>";
  }
}

function portString(o: Json): string {
  const s = recs(o, "spec", "ports").map((p) => {
    const port = num(p, "port") ?? 0;
    const proto = str(p, "protocol") ?? "";
    const np = num(p, "nodePort") ?? 0;
    return np > 0 ? `${port}:${np}/${proto}` : `${port}/${proto}`;
  }).join(",");
  return s || "<none>";
}

export const services = defineStrategy({
  group: "", kind: "Service", plural: "services", namespaced: true, nameValidator: nameIsDns1035Label,
  statusSubresource: true, tracksGeneration: false,
  defaults: defaultService,
  validate: validateService,
  validateUpdate: validateServiceUpdate,
  fields: (o) => ({ "spec.clusterIP": str(o, "spec", "clusterIP") ?? "", "spec.type": str(o, "spec", "type") ?? "" }),
  table: printer([
    NAME_COLUMN,
    col("Type", "string", "How the service is exposed."),
    col("Cluster-IP", "string", "The service's virtual IP inside the cluster."),
    col("External-IP", "string", "Addresses the service is reachable at from outside the cluster."),
    col("Port(s)", "string", "Service ports (port[:nodePort]/protocol)."),
    AGE_COLUMN,
    col("Selector", "string", "Pods whose labels match receive the traffic.", 1),
  ], (o, now) => [
    nameOf(o), str(o, "spec", "type") ?? "",
    strs(o, "spec", "clusterIPs")[0] ?? (str(o, "spec", "clusterIP") || "<none>"),
    externalIp(o), portString(o), ageOf(o, now), formatLabels(strMap(o, "spec", "selector")),
  ]),
});
