/** networking.k8s.io/v1: ingresses, ingressclasses, networkpolicies. */
import {
  invalid, notSupported, required, type FieldError,
} from "../../../api/validation/field.ts";
import { validateLabelSelector } from "../../../api/validation/meta.ts";
import {
  isDns1123Label, isDns1123Subdomain, isValidPortName, isValidPortNum, isWildcardDns1123Subdomain,
} from "../../../api/validation/names.ts";
import { ensure, num, rec, recs, str, strs, type Json } from "./_access.ts";
import { AGE_COLUMN, NAME_COLUMN, ageOf, col, defineStrategy, nameOf, printer } from "./_base.ts";
import { formatLabelSelector, loadBalancerStatus } from "./_printers.ts";

const PATH_TYPES = ["Exact", "ImplementationSpecific", "Prefix"];

function validateBackend(b: Json | undefined, path: string): FieldError[] {
  if (!b) return [];
  const errs: FieldError[] = [];
  const svc = rec(b, "service");
  const res = rec(b, "resource");
  if (svc && res) return [invalid(path, "", "cannot set both resource and service backends")];
  if (!svc && !res) return [invalid(path, "", "resource or service backend is required")];
  if (svc) {
    const name = str(svc, "name") ?? "";
    if (name === "") errs.push(required(`${path}.service.name`));
    else for (const m of isDns1123Label(name)) errs.push(invalid(`${path}.service.name`, name, m));
    const port = rec(svc, "port");
    const pn = str(port, "name");
    const pnum = num(port, "number");
    if (pn && pnum) errs.push(invalid(`${path}.service.port`, port, "cannot set both port name & port number"));
    else if (pn) for (const m of isValidPortName(pn)) errs.push(invalid(`${path}.service.port.name`, pn, m));
    else if (pnum !== undefined) for (const m of isValidPortNum(pnum)) errs.push(invalid(`${path}.service.port.number`, pnum, m));
    else errs.push(required(`${path}.service.port`, "port name or number is required"));
  }
  return errs;
}

function validateIngress(o: Json): FieldError[] {
  const spec = rec(o, "spec") ?? {};
  const errs: FieldError[] = [];
  const rules = recs(spec, "rules");
  if (!rec(spec, "defaultBackend") && rules.length === 0) errs.push(invalid("spec.rules", [], "either `defaultBackend` or `rules` must be specified"));
  errs.push(...validateBackend(rec(spec, "defaultBackend"), "spec.defaultBackend"));
  rules.forEach((r, i) => {
    const rp = `spec.rules[${i}]`;
    const host = str(r, "host") ?? "";
    if (host) {
      const msgs = host.startsWith("*.") ? isWildcardDns1123Subdomain(host) : isDns1123Subdomain(host);
      for (const m of msgs) errs.push(invalid(`${rp}.host`, host, m));
    }
    recs(r, "http", "paths").forEach((p, j) => {
      const pp = `${rp}.http.paths[${j}]`;
      const pt = p.pathType;
      if (pt === undefined || pt === "") errs.push(required(`${pp}.pathType`, "pathType must be specified"));
      else if (typeof pt !== "string" || !PATH_TYPES.includes(pt)) errs.push(notSupported(`${pp}.pathType`, pt, PATH_TYPES));
      const path = str(p, "path") ?? "";
      if ((pt === "Exact" || pt === "Prefix") && !path.startsWith("/")) errs.push(invalid(`${pp}.path`, path, "must be an absolute path"));
      errs.push(...validateBackend(rec(p, "backend"), `${pp}.backend`));
    });
  });
  recs(spec, "tls").forEach((t, i) => {
    strs(t, "hosts").forEach((h, j) => {
      const msgs = h.startsWith("*.") ? isWildcardDns1123Subdomain(h) : isDns1123Subdomain(h);
      for (const m of msgs) errs.push(invalid(`spec.tls[${i}].hosts[${j}]`, h, m));
    });
  });
  const cls = str(spec, "ingressClassName");
  if (cls) for (const m of isDns1123Subdomain(cls)) errs.push(invalid("spec.ingressClassName", cls, m));
  return errs;
}

function ingressHosts(o: Json): string {
  const rules = recs(o, "spec", "rules");
  const list: string[] = [];
  for (const r of rules) {
    if (list.length === 3) break;
    const h = str(r, "host");
    if (h) list.push(h);
  }
  if (list.length === 0) return "*";
  return rules.length > 3 ? `${list.join(",")} + ${rules.length - 3} more...` : list.join(",");
}

export const ingresses = defineStrategy({
  group: "networking.k8s.io", kind: "Ingress", plural: "ingresses", namespaced: true,
  statusSubresource: true, tracksGeneration: true,
  validate: validateIngress,
  table: printer([
    NAME_COLUMN,
    col("Class", "string", "The ingress class that serves this ingress."),
    col("Hosts", "string", "Hosts the rules match."),
    col("Address", "string", "Load balancer addresses of the ingress."),
    col("Ports", "string", "Ports the ingress listens on."),
    AGE_COLUMN,
  ], (o, now) => [
    nameOf(o), str(o, "spec", "ingressClassName") ?? "<none>", ingressHosts(o),
    loadBalancerStatus(rec(o, "status", "loadBalancer"), true),
    recs(o, "spec", "tls").length ? "80, 443" : "80", ageOf(o, now),
  ]),
});

export const ingressclasses = defineStrategy({
  group: "networking.k8s.io", kind: "IngressClass", plural: "ingressclasses", namespaced: false,
  statusSubresource: false, tracksGeneration: true,
  validate: (o) => {
    const c = str(o, "spec", "controller") ?? "";
    const errs: FieldError[] = [];
    if (c.length > 250) errs.push({ type: "FieldValueTooLong", field: "spec.controller", message: "Too long: may not be more than 250 bytes" });
    return errs;
  },
  validateUpdate: (o, old) => {
    const a = str(o, "spec", "controller") ?? "";
    const b = str(old, "spec", "controller") ?? "";
    return a === b ? [] : [invalid("spec.controller", a, "field is immutable")];
  },
  table: printer([
    NAME_COLUMN,
    col("Controller", "string", "The controller that implements this class."),
    col("Parameters", "string", "Reference to controller-specific parameters."),
    AGE_COLUMN,
  ], (o, now) => {
    const p = rec(o, "spec", "parameters");
    let params = "<none>";
    if (p) {
      const g = str(p, "apiGroup");
      params = g ? `${str(p, "kind") ?? ""}.${g}/${str(p, "name") ?? ""}` : `${str(p, "kind") ?? ""}/${str(p, "name") ?? ""}`;
    }
    return [nameOf(o), str(o, "spec", "controller") ?? "", params, ageOf(o, now)];
  }),
});

const POLICY_TYPES = ["Ingress", "Egress"];

function validatePeerPorts(rules: Json[], path: string, peersField: string): FieldError[] {
  const errs: FieldError[] = [];
  rules.forEach((r, i) => {
    recs(r, "ports").forEach((p, j) => {
      const pp = `${path}[${i}].ports[${j}]`;
      const proto = p.protocol;
      if (proto !== undefined && proto !== "TCP" && proto !== "UDP" && proto !== "SCTP") errs.push(notSupported(`${pp}.protocol`, proto, ["TCP", "UDP", "SCTP"]));
      const port = p.port;
      if (typeof port === "number") for (const m of isValidPortNum(port)) errs.push(invalid(`${pp}.port`, port, m));
      else if (typeof port === "string") for (const m of isValidPortName(port)) errs.push(invalid(`${pp}.port`, port, m));
      const end = num(p, "endPort");
      if (end !== undefined && typeof port === "number" && end < port) errs.push(invalid(`${pp}.endPort`, end, "must be greater than or equal to `port`"));
    });
    recs(r, peersField).forEach((peer, j) => {
      const pp = `${path}[${i}].${peersField}[${j}]`;
      if (peer.podSelector) errs.push(...validateLabelSelector(peer.podSelector, `${pp}.podSelector`));
      if (peer.namespaceSelector) errs.push(...validateLabelSelector(peer.namespaceSelector, `${pp}.namespaceSelector`));
    });
  });
  return errs;
}

export const networkpolicies = defineStrategy({
  group: "networking.k8s.io", kind: "NetworkPolicy", plural: "networkpolicies", namespaced: true,
  statusSubresource: false, tracksGeneration: true,
  defaults: (o) => {
    const spec = ensure(o, "spec");
    if (spec.podSelector === undefined) spec.podSelector = {};
    for (const field of ["ingress", "egress"]) for (const r of recs(spec, field)) for (const p of recs(r, "ports")) if (p.protocol === undefined) p.protocol = "TCP";
    if (!Array.isArray(spec.policyTypes) || spec.policyTypes.length === 0) {
      spec.policyTypes = recs(spec, "egress").length > 0 ? ["Ingress", "Egress"] : ["Ingress"];
    }
  },
  validate: (o) => {
    const spec = rec(o, "spec") ?? {};
    const errs = validateLabelSelector(spec.podSelector, "spec.podSelector");
    strs(spec, "policyTypes").forEach((t, i) => {
      if (!POLICY_TYPES.includes(t)) errs.push(notSupported(`spec.policyTypes[${i}]`, t, POLICY_TYPES));
    });
    errs.push(...validatePeerPorts(recs(spec, "ingress"), "spec.ingress", "from"));
    errs.push(...validatePeerPorts(recs(spec, "egress"), "spec.egress", "to"));
    return errs;
  },
  table: printer([NAME_COLUMN, col("Pod-Selector", "string", "Pods the policy applies to."), AGE_COLUMN],
    (o, now) => [nameOf(o), formatLabelSelector(rec(o, "spec", "podSelector") ?? {}), ageOf(o, now)]),
});
