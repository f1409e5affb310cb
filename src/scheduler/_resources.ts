/**
 * Resource arithmetic shared by the cache and the plugins: quantities as kernel units (cpu in
 * millicores, everything else in whole units, both rounded up like upstream's MilliValue/Value),
 * a pod's effective requests, and kube-scheduler's non-zero defaults.
 */
import { parseQuantity } from "../api/validation/quantity.ts";
import type { Container, Pod } from "../api/generated/core_v1.ts";

/** kube-scheduler's defaults for containers without requests (used for scoring only). */
export const DEFAULT_MILLI_CPU_REQUEST = 100;
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;

const NANO_PER_MILLI = 1_000_000n;
const NANO_PER_UNIT = 1_000_000_000n;

function ceilDiv(a: bigint, b: bigint): bigint {
  if (a <= 0n) return -((-a) / b);
  return (a + b - 1n) / b;
}

/**
 * Valid quantities already converted, by unit (cpu: milli) and text: clusters repeat a few request
 * and allocatable strings, and every pod version is parsed (bigint arithmetic) on arrival and on
 * binding. Bounded; invalid quantities are never stored, so they keep throwing.
 */
const memoMilli = new Map<string, number>();
const memoUnit = new Map<string, number>();
const MEMO_MAX = 4096;

/** Parses a quantity into kernel units; throws RangeError naming the resource on bad input. */
export function quantityToUnits(resource: string, q: string | number | undefined): number {
  if (q === undefined) return 0;
  const text = String(q);
  const memo = resource === "cpu" ? memoMilli : memoUnit;
  const hit = memo.get(text);
  if (hit !== undefined) return hit;
  const parsed = parseQuantity(text);
  if (typeof parsed === "string") throw new RangeError(`invalid quantity ${JSON.stringify(q)} for ${resource}: ${parsed}`);
  const v = ceilDiv(parsed.nanos, resource === "cpu" ? NANO_PER_MILLI : NANO_PER_UNIT);
  const n = Number(v < 0n ? 0n : v);
  if (memo.size < MEMO_MAX) memo.set(text, n);
  return n;
}

/** A resource list as kernel units (all resource names kept). */
export function resourceList(list: Record<string, string | number> | undefined): Map<string, number> {
  const out = new Map<string, number>();
  if (!list) return out;
  for (const [k, v] of Object.entries(list)) out.set(k, quantityToUnits(k, v));
  return out;
}

/** Scalar resources (extended, hugepages, …): everything Fit checks beyond cpu, memory, ephemeral-storage and pods. */
export function isScalarResource(name: string): boolean {
  return name !== "cpu" && name !== "memory" && name !== "ephemeral-storage" && name !== "pods";
}

export interface ComputedRequests {
  /** Effective requests: max(Σ containers + sidecars, max init) + overhead, by resource name. */
  readonly requests: Map<string, number>;
  readonly nonZeroCpu: number;
  readonly nonZeroMemory: number;
}

function addInto(dst: Map<string, number>, src: Map<string, number>): void {
  for (const [k, v] of src) dst.set(k, (dst.get(k) ?? 0) + v);
}
function maxInto(dst: Map<string, number>, src: Map<string, number>): void {
  for (const [k, v] of src) if (v > (dst.get(k) ?? 0)) dst.set(k, v);
}
function containerRequests(c: Container): Map<string, number> {
  return resourceList(c.resources?.requests as Record<string, string> | undefined);
}

/**
 * A pod's effective requests as kube-scheduler computes them: regular containers summed,
 * restartable (sidecar) init containers added to the sum, each classic init container's
 * requests (plus the sidecars started before it) as a floor, then pod overhead added.
 * Non-zero cpu/memory substitute 100m / 200Mi per container lacking a request.
 */
export function computePodRequests(pod: Pod): ComputedRequests {
  const spec = pod.spec ?? {};
  const sum = new Map<string, number>();
  let nzCpu = 0, nzMem = 0;
  for (const c of spec.containers ?? []) {
    const r = containerRequests(c);
    addInto(sum, r);
    nzCpu += r.has("cpu") ? (r.get("cpu") ?? 0) : DEFAULT_MILLI_CPU_REQUEST;
    nzMem += r.has("memory") ? (r.get("memory") ?? 0) : DEFAULT_MEMORY_REQUEST;
  }
  const initFloor = new Map<string, number>();
  const sidecars = new Map<string, number>();
  let nzInitCpu = 0, nzInitMem = 0, nzSideCpu = 0, nzSideMem = 0;
  for (const c of spec.initContainers ?? []) {
    const r = containerRequests(c);
    const cpu = r.has("cpu") ? (r.get("cpu") ?? 0) : DEFAULT_MILLI_CPU_REQUEST;
    const mem = r.has("memory") ? (r.get("memory") ?? 0) : DEFAULT_MEMORY_REQUEST;
    if (c.restartPolicy === "Always") {
      addInto(sidecars, r);
      nzSideCpu += cpu; nzSideMem += mem;
    } else {
      const withSidecars = new Map(sidecars);
      addInto(withSidecars, r);
      maxInto(initFloor, withSidecars);
      nzInitCpu = Math.max(nzInitCpu, nzSideCpu + cpu);
      nzInitMem = Math.max(nzInitMem, nzSideMem + mem);
    }
  }
  addInto(sum, sidecars);
  nzCpu += nzSideCpu; nzMem += nzSideMem;
  maxInto(sum, initFloor);
  nzCpu = Math.max(nzCpu, nzInitCpu); nzMem = Math.max(nzMem, nzInitMem);
  const overhead = resourceList(spec.overhead as Record<string, string> | undefined);
  addInto(sum, overhead);
  nzCpu += overhead.get("cpu") ?? 0;
  nzMem += overhead.get("memory") ?? 0;
  return { requests: sum, nonZeroCpu: nzCpu, nonZeroMemory: nzMem };
}
