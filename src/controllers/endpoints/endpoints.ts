/**
 * The legacy Endpoints object of a Service (pure): one subset per distinct set of resolved ports,
 * ready pods in `addresses`, others in `notReadyAddresses` (all in `addresses` with
 * `publishNotReadyAddresses`), addresses sorted by IP; beyond 1000 addresses the object is
 * truncated (ready addresses kept first) and annotated `endpoints.kubernetes.io/over-capacity:
 * truncated`.
 */
import type { EndpointAddress, EndpointPort, EndpointSubset, Endpoints, Pod, Service } from "../../api/generated/core_v1.ts";
import { canonicalJson } from "../deployment/hash.ts";
import { endpointHostname, inheritedLabels, podIpOf, podPorts, podServing, shouldPodBeInEndpoints, TRIGGER_TIME_ANNOTATION } from "../endpointslice/endpoints.ts";

export const MAX_ADDRESSES = 1000;
export const OVER_CAPACITY_ANNOTATION = "endpoints.kubernetes.io/over-capacity";

function ipKey(ip: string): string {
  // Sort IPv4 numerically, IPv6 after, textually.
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(ip);
  return m ? `4${m.slice(1).map((x) => x.padStart(3, "0")).join(".")}` : `6${ip}`;
}

/** The desired subsets of a Service and whether they were truncated. */
export function desiredSubsets(svc: Service, pods: readonly Pod[], max = MAX_ADDRESSES): { subsets: EndpointSubset[]; truncated: boolean } {
  const tolerateUnready = svc.spec?.publishNotReadyAddresses === true;
  const family = (svc.spec?.ipFamilies ?? [])[0] ?? "IPv4";
  const groups = new Map<string, { ports: EndpointPort[] | undefined; ready: EndpointAddress[]; notReady: EndpointAddress[] }>();
  const noPorts = (svc.spec?.ports ?? []).length === 0;
  for (const pod of pods) {
    if (!shouldPodBeInEndpoints(pod, tolerateUnready)) continue;
    const ip = podIpOf(pod, family);
    if (!ip) continue;
    const hostname = endpointHostname(svc, pod);
    const addr: EndpointAddress = {
      ip,
      ...(hostname ? { hostname } : {}),
      ...(pod.spec?.nodeName ? { nodeName: pod.spec.nodeName } : {}),
      targetRef: { kind: "Pod", namespace: pod.metadata?.namespace ?? "", name: pod.metadata?.name ?? "", uid: pod.metadata?.uid ?? "" },
    };
    const ports = noPorts ? undefined : podPorts(svc, pod).map((p) => ({ name: p.name, port: p.port, protocol: p.protocol, ...(p.appProtocol !== undefined ? { appProtocol: p.appProtocol } : {}) }));
    if (ports !== undefined && ports.length === 0) continue;
    const sortedPorts = ports?.sort((a, b) => (a.name ?? "").localeCompare(b.name ?? "") || (a.port ?? 0) - (b.port ?? 0));
    const key = canonicalJson(sortedPorts ?? null);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { ports: sortedPorts, ready: [], notReady: [] }));
    (tolerateUnready || podServing(svc, pod) ? g.ready : g.notReady).push(addr);
  }
  const byIp = (a: EndpointAddress, b: EndpointAddress): number => ipKey(a.ip ?? "").localeCompare(ipKey(b.ip ?? ""));
  const list = [...groups.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, g]) => g);
  let budget = max;
  let truncated = false;
  for (const g of list) {
    g.ready.sort(byIp);
    if (g.ready.length > budget) { g.ready.length = budget; truncated = true; }
    budget -= g.ready.length;
  }
  for (const g of list) {
    g.notReady.sort(byIp);
    if (g.notReady.length > budget) { g.notReady.length = budget; truncated = true; }
    budget -= g.notReady.length;
  }
  const subsets = list.filter((g) => g.ready.length + g.notReady.length > 0).map((g) => ({
    ...(g.ready.length > 0 ? { addresses: g.ready } : {}),
    ...(g.notReady.length > 0 ? { notReadyAddresses: g.notReady } : {}),
    ...(g.ports !== undefined ? { ports: g.ports } : {}),
  }));
  return { subsets, truncated };
}

/**
 * The Endpoints to write, or undefined when `current` already says the same (the trigger time
 * alone does not make a write).
 */
export function desiredEndpoints(svc: Service, pods: readonly Pod[], current: Endpoints | undefined, triggerTime: string | undefined, max = MAX_ADDRESSES): Endpoints | undefined {
  const { subsets, truncated } = desiredSubsets(svc, pods, max);
  const labels = inheritedLabels(svc);
  const annotations: Record<string, string> = { ...(current?.metadata?.annotations ?? {}) };
  delete annotations[TRIGGER_TIME_ANNOTATION];
  if (truncated) annotations[OVER_CAPACITY_ANNOTATION] = "truncated";
  else delete annotations[OVER_CAPACITY_ANNOTATION];
  const currentAnn: Record<string, string> = { ...(current?.metadata?.annotations ?? {}) };
  delete currentAnn[TRIGGER_TIME_ANNOTATION];
  if (current && canonicalJson(current.subsets ?? []) === canonicalJson(subsets) && canonicalJson(current.metadata?.labels ?? {}) === canonicalJson(labels) &&
    canonicalJson(currentAnn) === canonicalJson(annotations)) return undefined;
  if (triggerTime) annotations[TRIGGER_TIME_ANNOTATION] = triggerTime;
  return {
    apiVersion: "v1", kind: "Endpoints",
    metadata: {
      ...(current?.metadata ?? {}),
      name: svc.metadata?.name ?? "",
      namespace: svc.metadata?.namespace ?? "",
      labels,
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
    },
    subsets,
  };
}
