/**
 * Resource lists (`{cpu: "100m", memory: "1Gi"}`) as exact quantities for LimitRanger and
 * ResourceQuota: parsing, sums that keep the first operand's format (as upstream's
 * `Quantity.Add`), and a pod's effective requests/limits (containers summed, init containers as
 * a maximum, restartable init containers — sidecars — counted alongside the app containers,
 * plus `spec.overhead`).
 */
import { formatQuantity, parseQuantity, type Quantity } from "../../api/validation/quantity.ts";
import { isRecord, recordAt, recordsAt, type JsonRecord } from "./types.ts";

export type ResourceList = Map<string, Quantity>;

/** Parses a JSON resource list; unparseable values are skipped (validation reports them). */
export function parseResourceList(v: unknown): ResourceList {
  const out: ResourceList = new Map();
  if (!isRecord(v)) return out;
  for (const [k, raw] of Object.entries(v)) {
    const q = parseQuantity(typeof raw === "number" ? String(raw) : typeof raw === "string" ? raw : "");
    if (typeof q !== "string") out.set(k, q);
  }
  return out;
}

export function quantityString(q: Quantity): string {
  return formatQuantity(q);
}

export function toJson(list: ResourceList): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of [...list.keys()].sort()) out[k] = formatQuantity(list.get(k) as Quantity);
  return out;
}

export function add(a: Quantity | undefined, b: Quantity): Quantity {
  return a ? { nanos: a.nanos + b.nanos, format: a.format } : b;
}

export function addInto(into: ResourceList, more: ResourceList): ResourceList {
  for (const [k, v] of more) into.set(k, add(into.get(k), v));
  return into;
}

function maxInto(into: ResourceList, more: ResourceList): void {
  for (const [k, v] of more) {
    const cur = into.get(k);
    if (!cur || v.nanos > cur.nanos) into.set(k, v);
  }
}

export interface Requirements {
  readonly requests: ResourceList;
  readonly limits: ResourceList;
}

export function containerRequirements(c: JsonRecord): Requirements {
  return {
    requests: parseResourceList(recordAt(c, "resources", "requests")),
    limits: parseResourceList(recordAt(c, "resources", "limits")),
  };
}

function isSidecar(c: JsonRecord): boolean {
  return c["restartPolicy"] === "Always";
}

function podAggregate(spec: JsonRecord | undefined, pick: (r: Requirements) => ResourceList): ResourceList {
  const total: ResourceList = new Map();
  for (const c of recordsAt(spec, "containers")) addInto(total, pick(containerRequirements(c)));
  const sidecars: ResourceList = new Map();
  const initMax: ResourceList = new Map();
  for (const c of recordsAt(spec, "initContainers")) {
    const r = pick(containerRequirements(c));
    if (isSidecar(c)) {
      addInto(sidecars, r);
      continue;
    }
    // A regular init container runs next to the sidecars started before it.
    const during: ResourceList = new Map(sidecars);
    addInto(during, r);
    maxInto(initMax, during);
  }
  addInto(total, sidecars);
  maxInto(total, initMax);
  addInto(total, parseResourceList(recordAt(spec, "overhead")));
  return total;
}

/** The pod's effective requests (what the scheduler and quota charge). */
export function podRequests(spec: JsonRecord | undefined): ResourceList {
  return podAggregate(spec, (r) => r.requests);
}

/** The pod's effective limits. */
export function podLimits(spec: JsonRecord | undefined): ResourceList {
  return podAggregate(spec, (r) => r.limits);
}

/** Upstream's ResourceList pretty print: `k=v` pairs sorted by name, joined with ",". */
export function prettyPrint(list: ResourceList): string {
  return [...list.keys()].sort().map((k) => `${k}=${formatQuantity(list.get(k) as Quantity)}`).join(",");
}
