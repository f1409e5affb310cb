/**
 * Shared pure facts of the EndpointSlice and Endpoints controllers: which pods back a Service,
 * their addresses per family, ports resolved against the pod (named targetPorts), readiness
 * conditions, and the last-change trigger time.
 */
import type { Pod, Service, ServicePort } from "../../api/generated/core_v1.ts";
import type { KubeObject } from "../../api/object.ts";
import { isPodReady } from "../framework/pods.ts";

export const SERVICE_NAME_LABEL = "kubernetes.io/service-name";
export const MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by";
export const MANAGED_BY = "endpointslice-controller.k8s.io";
export const HEADLESS_LABEL = "service.kubernetes.io/headless";
export const TRIGGER_TIME_ANNOTATION = "endpoints.kubernetes.io/last-change-trigger-time";
export const ZONE_LABEL = "topology.kubernetes.io/zone";

export function asPod(o: KubeObject): Pod {
  return o as Pod; // objects from the Pod cache
}

/** Upstream ShouldPodBeInEndpoints: not finished, has an IP, and (unless included) not terminating. */
export function shouldPodBeInEndpoints(pod: Pod, includeTerminating: boolean): boolean {
  const phase = pod.status?.phase;
  if (phase === "Succeeded" || phase === "Failed") return false;
  if (!pod.status?.podIP && (pod.status?.podIPs ?? []).length === 0) return false;
  if (!includeTerminating && pod.metadata?.deletionTimestamp !== undefined) return false;
  return true;
}

/** The pod's IP of a family ("IPv4" / "IPv6"). */
export function podIpOf(pod: Pod, family: string): string | undefined {
  const ips = [...(pod.status?.podIPs ?? []).map((x) => x.ip ?? ""), pod.status?.podIP ?? ""].filter((x) => x !== "");
  return ips.find((ip) => (family === "IPv6") === ip.includes(":"));
}

/** The port a service port reaches on a pod: a number, a named container port, else undefined. */
export function resolveTargetPort(sp: ServicePort, pod: Pod): number | undefined {
  const t = sp.targetPort;
  if (t === undefined || t === "" || t === 0) return sp.port;
  if (typeof t === "number") return t;
  if (/^[0-9]+$/.test(t)) return Number(t);
  const proto = sp.protocol ?? "TCP";
  for (const c of [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])]) {
    for (const p of c.ports ?? []) if (p.name === t && (p.protocol ?? "TCP") === proto) return p.containerPort;
  }
  return undefined;
}

export interface ResolvedPort {
  name: string;
  protocol: string;
  port: number;
  appProtocol?: string;
}

/** The service's ports as they reach this pod (ports that cannot be resolved are left out). */
export function podPorts(svc: Service, pod: Pod): ResolvedPort[] {
  const out: ResolvedPort[] = [];
  for (const sp of svc.spec?.ports ?? []) {
    const port = resolveTargetPort(sp, pod);
    if (port === undefined) continue;
    out.push({ name: sp.name ?? "", protocol: sp.protocol ?? "TCP", port, ...(sp.appProtocol !== undefined ? { appProtocol: sp.appProtocol } : {}) });
  }
  return out;
}

/** The hostname an endpoint carries: the pod's hostname when its subdomain is the service. */
export function endpointHostname(svc: Service, pod: Pod): string | undefined {
  return pod.spec?.hostname && pod.spec.subdomain === svc.metadata?.name ? pod.spec.hostname : undefined;
}

export function isHeadless(svc: Service): boolean {
  return svc.spec?.clusterIP === "None";
}

/** Ready for traffic (publishNotReadyAddresses counts every pod as ready). */
export function podServing(svc: Service, pod: Pod): boolean {
  return svc.spec?.publishNotReadyAddresses === true || isPodReady(pod as KubeObject);
}

/** Labels of managed objects: the service's labels plus the headless marker. */
export function inheritedLabels(svc: Service): Record<string, string> {
  const l: Record<string, string> = { ...(svc.metadata?.labels ?? {}) };
  delete l[SERVICE_NAME_LABEL];
  delete l[MANAGED_BY_LABEL];
  if (isHeadless(svc)) l[HEADLESS_LABEL] = "";
  else delete l[HEADLESS_LABEL];
  return l;
}

/** The latest change among the service and its pods (Ready transition, else creation), RFC 3339. */
export function lastChangeTriggerTime(svc: Service, pods: readonly Pod[]): string | undefined {
  let best = Date.parse(svc.metadata?.creationTimestamp ?? "");
  for (const p of pods) {
    const ready = (p.status?.conditions ?? []).find((c) => c.type === "Ready")?.lastTransitionTime;
    const t = Date.parse(p.metadata?.deletionTimestamp ?? ready ?? p.metadata?.creationTimestamp ?? "");
    if (Number.isFinite(t) && !(t <= best)) best = t;
  }
  return Number.isFinite(best) ? new Date(best).toISOString().replace(/\.\d{3}Z$/, "Z") : undefined;
}
