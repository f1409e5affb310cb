/**
 * EndpointSlice reconciliation (pure): the desired endpoints of a Service grouped by address type
 * and port mapping, and the creates / updates / deletes that bring the existing slices there with
 * little churn — endpoints stay in the slice they are in, changed ones are rewritten in place, new
 * ones fill slices with room before new slices (at most `maxPerSlice`, default 100) are created,
 * and emptied slices are deleted. A Service with no endpoints keeps one empty placeholder slice.
 */
import type { Endpoint, EndpointPort, EndpointSlice } from "../../api/generated/discovery_v1.ts";
import type { Node, Pod, Service } from "../../api/generated/core_v1.ts";
import { canonicalJson } from "../deployment/hash.ts";
import { controllerRef } from "../framework/ownerrefs.ts";
import type { KubeObject } from "../../api/object.ts";
import {
  endpointHostname, inheritedLabels, MANAGED_BY, MANAGED_BY_LABEL, podIpOf, podPorts, podServing, SERVICE_NAME_LABEL, shouldPodBeInEndpoints, TRIGGER_TIME_ANNOTATION, ZONE_LABEL,
} from "./endpoints.ts";

export const MAX_ENDPOINTS_PER_SLICE = 100;

export interface EndpointGroup {
  readonly addressType: string;
  readonly ports: EndpointPort[];
  /** Endpoints keyed by pod uid (stable identity across updates). */
  readonly endpoints: Map<string, Endpoint>;
}

function portsKey(addressType: string, ports: readonly EndpointPort[]): string {
  const sorted = [...ports].sort((a, b) => (a.name ?? "").localeCompare(b.name ?? "") || (a.protocol ?? "").localeCompare(b.protocol ?? ""));
  return `${addressType}|${canonicalJson(sorted)}`;
}

/** The desired endpoints of a Service, grouped by `addressType|ports`. */
export function desiredGroups(svc: Service, pods: readonly Pod[], nodes: ReadonlyMap<string, Node>): Map<string, EndpointGroup> {
  const groups = new Map<string, EndpointGroup>();
  const families = svc.spec?.ipFamilies && svc.spec.ipFamilies.length > 0 ? svc.spec.ipFamilies : ["IPv4"];
  for (const pod of pods) {
    if (!shouldPodBeInEndpoints(pod, true)) continue;
    const ports: EndpointPort[] = podPorts(svc, pod).map((p) => ({ name: p.name, protocol: p.protocol, port: p.port, ...(p.appProtocol !== undefined ? { appProtocol: p.appProtocol } : {}) }));
    const terminating = pod.metadata?.deletionTimestamp !== undefined;
    const serving = podServing(svc, pod);
    const nodeName = pod.spec?.nodeName;
    const zone = nodeName ? nodes.get(nodeName)?.metadata?.labels?.[ZONE_LABEL] : undefined;
    const hostname = endpointHostname(svc, pod);
    for (const family of families) {
      const ip = podIpOf(pod, family);
      if (!ip) continue;
      const key = portsKey(family, ports);
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { addressType: family, ports, endpoints: new Map() }));
      const ep: Endpoint = {
        addresses: [ip],
        conditions: { ready: svc.spec?.publishNotReadyAddresses === true ? true : serving && !terminating, serving, terminating },
        ...(hostname ? { hostname } : {}),
        targetRef: { kind: "Pod", namespace: pod.metadata?.namespace ?? "", name: pod.metadata?.name ?? "", uid: pod.metadata?.uid ?? "" },
        ...(nodeName ? { nodeName } : {}),
        ...(zone ? { zone } : {}),
      };
      g.endpoints.set(pod.metadata?.uid ?? ip, ep);
    }
  }
  return groups;
}

export interface SlicePlan {
  readonly create: EndpointSlice[];
  readonly update: EndpointSlice[];
  readonly delete: EndpointSlice[];
}

function endpointKey(e: Endpoint): string {
  return e.targetRef?.uid ?? e.addresses?.[0] ?? "";
}

function sliceFor(svc: Service, addressType: string, ports: EndpointPort[] | undefined, endpoints: Endpoint[]): EndpointSlice {
  return {
    apiVersion: "discovery.k8s.io/v1", kind: "EndpointSlice",
    metadata: {
      generateName: `${svc.metadata?.name ?? ""}-`,
      namespace: svc.metadata?.namespace ?? "",
      labels: { ...inheritedLabels(svc), [SERVICE_NAME_LABEL]: svc.metadata?.name ?? "", [MANAGED_BY_LABEL]: MANAGED_BY },
      ownerReferences: [controllerRef(svc as KubeObject, "v1", "Service")],
    },
    addressType,
    endpoints,
    ...(ports !== undefined ? { ports } : {}),
  };
}

/**
 * @param existing the Service's slices managed by this controller
 * @param triggerTime stamped on every slice written
 */
export function reconcileSlices(svc: Service, existing: readonly EndpointSlice[], desired: ReadonlyMap<string, EndpointGroup>, triggerTime: string | undefined,
  maxPerSlice = MAX_ENDPOINTS_PER_SLICE): SlicePlan {
  const create: EndpointSlice[] = [];
  const update: EndpointSlice[] = [];
  const del: EndpointSlice[] = [];
  const labels = { ...inheritedLabels(svc), [SERVICE_NAME_LABEL]: svc.metadata?.name ?? "", [MANAGED_BY_LABEL]: MANAGED_BY };
  const stamp = (s: EndpointSlice): EndpointSlice => {
    const md = { ...(s.metadata ?? {}) };
    md.labels = { ...(md.labels ?? {}), ...labels };
    if (triggerTime) md.annotations = { ...(md.annotations ?? {}), [TRIGGER_TIME_ANNOTATION]: triggerTime };
    return { ...s, metadata: md };
  };
  const totalDesired = [...desired.values()].reduce((n, g) => n + g.endpoints.size, 0);
  const byGroup = new Map<string, EndpointSlice[]>();
  for (const s of existing) {
    const key = portsKey(s.addressType ?? "", s.ports ?? []);
    if (!desired.has(key)) {
      del.push(s);
      continue;
    }
    byGroup.set(key, [...(byGroup.get(key) ?? []), s]);
  }
  for (const [key, g] of desired) {
    const slices = byGroup.get(key) ?? [];
    const placed = new Set<string>();
    const room: Array<{ slice: EndpointSlice; endpoints: Endpoint[]; changed: boolean }> = [];
    for (const s of slices) {
      const kept: Endpoint[] = [];
      let changed = false;
      for (const e of s.endpoints ?? []) {
        const k = endpointKey(e);
        const want = g.endpoints.get(k);
        if (!want || placed.has(k)) {
          changed = true;
          continue;
        }
        placed.add(k);
        if (canonicalJson(want) !== canonicalJson(e)) changed = true;
        kept.push(want);
      }
      if (canonicalJson(s.metadata?.labels ?? {}) !== canonicalJson({ ...(s.metadata?.labels ?? {}), ...labels })) changed = true;
      room.push({ slice: s, endpoints: kept, changed });
    }
    const pending = [...g.endpoints.entries()].filter(([k]) => !placed.has(k)).map(([, e]) => e);
    for (const r of room) {
      while (pending.length > 0 && r.endpoints.length < maxPerSlice) {
        r.endpoints.push(pending.shift()!);
        r.changed = true;
      }
    }
    for (const r of room) {
      if (r.endpoints.length === 0) del.push(r.slice);
      else if (r.changed) update.push(stamp({ ...r.slice, endpoints: r.endpoints }));
    }
    for (let i = 0; i < pending.length; i += maxPerSlice) create.push(stamp(sliceFor(svc, g.addressType, g.ports, pending.slice(i, i + maxPerSlice))));
  }
  if (totalDesired === 0) {
    // Keep (or create) one empty placeholder slice.
    const placeholder = existing.find((s) => (s.endpoints ?? []).length === 0 && (s.ports ?? []).length === 0);
    const keep = placeholder ?? del.find(() => true);
    const rest = del.filter((s) => s !== keep);
    if (keep) {
      const empty = { ...keep, addressType: keep.addressType ?? "IPv4", endpoints: [] };
      delete (empty as { ports?: unknown }).ports;
      const dirty = (keep.endpoints ?? []).length > 0 || (keep.ports ?? []).length > 0;
      return { create: [], update: dirty ? [stamp(empty)] : [], delete: rest };
    }
    return { create: [stamp(sliceFor(svc, (svc.spec?.ipFamilies ?? [])[0] ?? "IPv4", undefined, []))], update: [], delete: rest };
  }
  return { create, update, delete: del };
}
