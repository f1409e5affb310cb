/**
 * The downward API's values, shared by env vars (`valueFrom.fieldRef` / `resourceFieldRef`) and
 * downwardAPI / projected volume files. Pure; errors are `Error`s with upstream's texts.
 */
import { parseQuantity } from "../../api/validation/quantity.ts";
import type { ContainerSpec, PodObject } from "../types.ts";

/** What the pod's status contributes (the kubelet knows it before the API does). */
export interface PodRuntimeFacts {
  readonly podIPs: readonly string[];
  readonly hostIPs: readonly string[];
}

/** Node allocatable (cpu millicores, memory and ephemeral-storage bytes): the default for unset limits. */
export interface NodeAllocatable {
  readonly cpuMillis: number;
  readonly memoryBytes: number;
  readonly ephemeralStorageBytes: number;
}

const SUBSCRIPT = /^metadata\.(labels|annotations)\['(.*)'\]$/;

/** `key="value"` lines in key order, as upstream formats whole label/annotation maps. */
export function formatMap(m: Readonly<Record<string, string>> | undefined): string {
  return Object.keys(m ?? {}).sort().map((k) => `${k}=${JSON.stringify(m?.[k] ?? "")}`).join("\n");
}

/**
 * The value of `fieldPath` for the pod. `volume`: whole `metadata.labels` / `metadata.annotations`
 * are allowed (files only), pod/host IPs are not (env only).
 */
export function podFieldValue(pod: PodObject, fieldPath: string, facts: PodRuntimeFacts, volume = false): string {
  const m = pod.metadata ?? {};
  const sub = SUBSCRIPT.exec(fieldPath);
  if (sub !== null) {
    const map = sub[1] === "labels" ? m.labels : m.annotations;
    return map?.[sub[2] ?? ""] ?? "";
  }
  switch (fieldPath) {
    case "metadata.name": return m.name ?? "";
    case "metadata.namespace": return m.namespace ?? "";
    case "metadata.uid": return m.uid ?? "";
    case "metadata.labels": if (volume) return formatMap(m.labels); break;
    case "metadata.annotations": if (volume) return formatMap(m.annotations); break;
    case "spec.nodeName": if (!volume) return pod.spec?.nodeName ?? ""; break;
    case "spec.serviceAccountName": if (!volume) return pod.spec?.serviceAccountName ?? ""; break;
    case "status.podIP": if (!volume) return facts.podIPs[0] ?? ""; break;
    case "status.podIPs": if (!volume) return facts.podIPs.join(","); break;
    case "status.hostIP": if (!volume) return facts.hostIPs[0] ?? ""; break;
    case "status.hostIPs": if (!volume) return facts.hostIPs.join(","); break;
  }
  throw new Error(`unsupported fieldPath: ${fieldPath}`);
}

function nanos(q: string | number | undefined, what: string): bigint | undefined {
  if (q === undefined) return undefined;
  const p = parseQuantity(String(q));
  if (typeof p === "string") throw new Error(`invalid quantity ${JSON.stringify(q)} for ${what}: ${p}`);
  return p.nanos;
}

const ceilDiv = (a: bigint, b: bigint): bigint => (a <= 0n ? -((-a) / b) : (a + b - 1n) / b);

/**
 * The value of a resourceFieldRef (`limits.cpu`, `requests.memory`, …) of `container`, divided by
 * `divisor` and rounded up as upstream does. Unset limits are the node's allocatable.
 */
export function resourceFieldValue(container: ContainerSpec, resource: string, divisor: string | number | undefined, node: NodeAllocatable): string {
  const res = container.resources ?? {};
  const limits = (res.limits ?? {}) as Record<string, string | number>;
  const requests = (res.requests ?? {}) as Record<string, string | number>;
  const dot = resource.indexOf(".");
  const kind = resource.slice(0, dot), name = resource.slice(dot + 1);
  if ((kind !== "limits" && kind !== "requests") || !["cpu", "memory", "ephemeral-storage"].includes(name)) {
    throw new Error(`unsupported container resource : ${resource}`);
  }
  const div = nanos(divisor ?? "1", `divisor of ${resource}`) ?? 1_000_000_000n;
  if (div <= 0n) throw new Error(`divisor of ${resource} must be positive`);
  const fallback = name === "cpu" ? BigInt(node.cpuMillis) * 1_000_000n
    : BigInt(name === "memory" ? node.memoryBytes : node.ephemeralStorageBytes) * 1_000_000_000n;
  let v = nanos((kind === "limits" ? limits : requests)[name], resource);
  if (v === undefined) {
    // Requests default to the limit when only the limit is set (apiserver defaulting); limits to allocatable.
    v = kind === "limits" ? fallback : (nanos(limits[name], resource) ?? 0n);
  }
  if (name === "cpu") {
    // Upstream works in millicores: ceil(milli(value) / milli(divisor)), at least 1 for a nonzero value.
    const milli = ceilDiv(v, 1_000_000n), dmilli = ceilDiv(div, 1_000_000n);
    return String(dmilli > 0n ? ceilDiv(milli, dmilli) : ceilDiv(v, div));
  }
  return String(ceilDiv(ceilDiv(v, 1_000_000_000n), ceilDiv(div, 1_000_000_000n) || 1n));
}
