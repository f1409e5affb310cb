/**
 * Container and pod resources in the runtime's units (cpu millicores, memory bytes), from the
 * pod spec's `resources` (quantities rounded up, as upstream's MilliValue/Value). Pure.
 */
import { parseQuantity } from "../../api/validation/quantity.ts";
import type { ContainerResources, PodResources } from "../runtime/types.ts";
import type { ContainerSpec, PodObject } from "../types.ts";

const ceilDiv = (a: bigint, b: bigint): bigint => (a <= 0n ? 0n : (a + b - 1n) / b);

/** cpu in millicores or memory in bytes; undefined when unset; throws `Error` on a bad quantity. */
export function quantityUnits(q: string | number | undefined, resource: "cpu" | "memory"): number | undefined {
  if (q === undefined || q === null) return undefined;
  const p = parseQuantity(String(q));
  if (typeof p === "string") throw new Error(`invalid ${resource} quantity ${JSON.stringify(q)}: ${p}`);
  return Number(ceilDiv(p.nanos, resource === "cpu" ? 1_000_000n : 1_000_000_000n));
}

/** The container's requests and limits for the runtime; undefined when it sets none. */
export function resourcesOf(c: ContainerSpec): ContainerResources | undefined {
  const lim = (c.resources?.limits ?? {}) as Record<string, string | number>;
  const req = (c.resources?.requests ?? {}) as Record<string, string | number>;
  const out: { -readonly [K in keyof ContainerResources]: number } = {};
  const set = (k: keyof ContainerResources, v: number | undefined): void => {
    if (v !== undefined) out[k] = v;
  };
  set("cpuMillisLimit", quantityUnits(lim["cpu"], "cpu"));
  set("memoryBytesLimit", quantityUnits(lim["memory"], "memory"));
  set("cpuMillisRequest", quantityUnits(req["cpu"], "cpu"));
  set("memoryBytesRequest", quantityUnits(req["memory"], "memory"));
  return Object.keys(out).length > 0 ? out : undefined;
}

/** The pod's sums over app containers (limits only when every container sets one). */
export function podResourcesOf(pod: PodObject): PodResources | undefined {
  const cs = (pod.spec?.containers ?? []).map((c) => resourcesOf(c) ?? {});
  if (cs.length === 0) return undefined;
  const sum = (k: keyof ContainerResources, all: boolean): number | undefined => {
    if (all && cs.some((c) => c[k] === undefined)) return undefined;
    const vals = cs.map((c) => c[k]).filter((v): v is number => v !== undefined);
    return vals.length > 0 ? vals.reduce((a, b) => a + b, 0) : undefined;
  };
  const out: { -readonly [K in keyof PodResources]: number } = {};
  const l = sum("cpuMillisLimit", true), m = sum("memoryBytesLimit", true), rc = sum("cpuMillisRequest", false), rm = sum("memoryBytesRequest", false);
  if (l !== undefined) out.cpuMillisLimit = l;
  if (m !== undefined) out.memoryBytesLimit = m;
  if (rc !== undefined) out.cpuMillisRequest = rc;
  if (rm !== undefined) out.memoryBytesRequest = rm;
  return Object.keys(out).length > 0 ? out : undefined;
}
