/**
 * Quota usage of single objects (what one object charges against a ResourceQuota), with
 * upstream's resource names:
 *
 * - every kind: `count/<plural>[.<group>]`;
 * - pods: `pods` and compute (`cpu`/`requests.cpu`, `limits.cpu`, `memory`/`requests.memory`,
 *   `limits.memory`, `ephemeral-storage`/`requests.ephemeral-storage`,
 *   `limits.ephemeral-storage`, `hugepages-*`/`requests.hugepages-*`, extended resources as
 *   `requests.<name>`) — not for pods in a terminal phase or past their deletion grace period;
 *   `count/pods` counts every stored pod;
 * - services: `services`, `services.loadbalancers`, `services.nodeports`;
 * - persistentvolumeclaims: `persistentvolumeclaims`, `requests.storage` and the per-class
 *   `<class>.storageclass.storage.k8s.io/{requests.storage,persistentvolumeclaims}`;
 * - configmaps, secrets, replicationcontrollers, resourcequotas: the legacy bare names.
 */
import type { KubeObject } from "../../../api/object.ts";
import type { Quantity } from "../../../api/validation/quantity.ts";
import { podLimits, podRequests, type ResourceList } from "../resources.ts";
import { recordAt, recordsAt, stringAt } from "../types.ts";

const ONE: Quantity = { nanos: 1_000_000_000n, format: "DecimalSI" };
const count = (n: number): Quantity => ({ nanos: BigInt(n) * 1_000_000_000n, format: "DecimalSI" });

const LEGACY_COUNTS = new Set(["configmaps", "secrets", "replicationcontrollers", "resourcequotas", "services", "persistentvolumeclaims"]);

/** Resource names a quota on these can hold that pods charge. */
const POD_NAMES = new Set([
  "count/pods", "pods", "cpu", "memory", "ephemeral-storage", "requests.cpu", "requests.memory",
  "requests.ephemeral-storage", "limits.cpu", "limits.memory", "limits.ephemeral-storage",
]);

export function countName(group: string, plural: string): string {
  return group ? `count/${plural}.${group}` : `count/${plural}`;
}

function isNativeResource(name: string): boolean {
  return !name.includes("/") || name.includes("kubernetes.io/");
}

/** Whether a quota's hard resource name is one objects of this kind can charge. */
export function chargedBy(group: string, plural: string, name: string): boolean {
  if (name === countName(group, plural)) return true;
  if (group !== "") return false;
  switch (plural) {
    case "pods":
      return POD_NAMES.has(name) || name.startsWith("hugepages-") || name.startsWith("requests.hugepages-") ||
        (name.startsWith("requests.") && !isNativeResource(name.slice("requests.".length)));
    case "services":
      return name === "services" || name === "services.loadbalancers" || name === "services.nodeports";
    case "persistentvolumeclaims":
      return name === "persistentvolumeclaims" || name === "requests.storage" ||
        name.endsWith(".storageclass.storage.k8s.io/requests.storage") ||
        name.endsWith(".storageclass.storage.k8s.io/persistentvolumeclaims");
    default:
      return LEGACY_COUNTS.has(plural) && name === plural;
  }
}

/** Terminal pods (or past their deletion grace) do not charge compute or `pods`. */
export function podCharges(pod: KubeObject, now: Date): boolean {
  const phase = stringAt(pod, "status", "phase");
  if (phase === "Succeeded" || phase === "Failed") return false;
  const del = pod.metadata?.deletionTimestamp;
  const grace = pod.metadata?.deletionGracePeriodSeconds;
  if (del && typeof grace === "number") {
    const t = Date.parse(del);
    if (!Number.isNaN(t) && now.getTime() > t + grace * 1000) return false;
  }
  return true;
}

function podUsage(pod: KubeObject, now: Date, out: ResourceList): void {
  if (!podCharges(pod, now)) return;
  out.set("pods", ONE);
  const spec = recordAt(pod, "spec");
  const req = podRequests(spec);
  const lim = podLimits(spec);
  for (const r of ["cpu", "memory", "ephemeral-storage"]) {
    const q = req.get(r);
    if (q) { out.set(r, q); out.set(`requests.${r}`, q); }
    const l = lim.get(r);
    if (l) out.set(`limits.${r}`, l);
  }
  for (const [k, q] of req) {
    if (k.startsWith("hugepages-")) { out.set(k, q); out.set(`requests.${k}`, q); }
    else if (!isNativeResource(k)) out.set(`requests.${k}`, q);
  }
}

function serviceUsage(svc: KubeObject, out: ResourceList): void {
  out.set("services", ONE);
  const type = stringAt(svc, "spec", "type") ?? "ClusterIP";
  const ports = recordsAt(svc, "spec", "ports");
  if (type === "LoadBalancer") {
    out.set("services.loadbalancers", ONE);
    const alloc = recordAt(svc, "spec")?.["allocateLoadBalancerNodePorts"] !== false;
    const n = alloc ? ports.length : ports.filter((p) => typeof p["nodePort"] === "number" && p["nodePort"] !== 0).length;
    out.set("services.nodeports", count(n));
  } else if (type === "NodePort") {
    out.set("services.nodeports", count(ports.length));
  }
}

function pvcUsage(pvc: KubeObject, out: ResourceList, parse: (v: unknown) => Quantity | undefined): void {
  out.set("persistentvolumeclaims", ONE);
  const storage = parse(recordAt(pvc, "spec", "resources", "requests")?.["storage"]);
  const cls = stringAt(pvc, "spec", "storageClassName") ?? "";
  if (cls) out.set(`${cls}.storageclass.storage.k8s.io/persistentvolumeclaims`, ONE);
  if (storage) {
    out.set("requests.storage", storage);
    if (cls) out.set(`${cls}.storageclass.storage.k8s.io/requests.storage`, storage);
  }
}

/** Everything `obj` charges (names it cannot charge are absent). */
export function usageOf(group: string, plural: string, obj: KubeObject, now: Date, parse: (v: unknown) => Quantity | undefined): ResourceList {
  const out: ResourceList = new Map([[countName(group, plural), ONE]]);
  if (group === "") {
    if (plural === "pods") podUsage(obj, now, out);
    else if (plural === "services") serviceUsage(obj, out);
    else if (plural === "persistentvolumeclaims") pvcUsage(obj, out, parse);
    else if (LEGACY_COUNTS.has(plural)) out.set(plural, ONE);
  }
  return out;
}

/** The kinds (group, plural) whose objects charge a quota resource name. */
export function kindsCharging(name: string): { group: string; plural: string }[] {
  if (name.startsWith("count/")) {
    const rest = name.slice("count/".length);
    const dot = rest.indexOf(".");
    return [dot < 0 ? { group: "", plural: rest } : { group: rest.slice(dot + 1), plural: rest.slice(0, dot) }];
  }
  for (const plural of ["pods", "services", "persistentvolumeclaims"]) {
    if (chargedBy("", plural, name)) return [{ group: "", plural }];
  }
  if (LEGACY_COUNTS.has(name)) return [{ group: "", plural: name }];
  return [];
}
