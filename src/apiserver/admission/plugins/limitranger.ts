/**
 * LimitRanger: the namespace's LimitRanges default and bound container resources.
 *
 * - admit (pods, create): each `Container` limit's `default` (limits) and `defaultRequest`
 *   (requests) fill what a container or init container does not set; the pod is annotated
 *   `kubernetes.io/limit-ranger: LimitRanger plugin set: cpu, memory request for container c; ...`.
 * - validate (pods create; PVCs create/update): `min`, `max` and `maxLimitRequestRatio` of
 *   `Container` (per container) and `Pod` (effective pod requests/limits) items, and
 *   `PersistentVolumeClaim` min/max on `spec.resources.requests`. Violations are 403 with
 *   upstream's texts (`maximum cpu usage per Container is 500m, but limit is 1`), several joined
 *   as `[a, b]`.
 *
 * Pod updates are not checked (containers' resources cannot change on update), as upstream.
 */
import type { KubeObject } from "../../../api/object.ts";
import type { Quantity } from "../../../api/validation/quantity.ts";
import {
  containerRequirements, parseResourceList, podLimits, podRequests, quantityString, type ResourceList,
} from "../resources.ts";
import {
  ensureRecord, forbidden, recordAt, recordsAt, type AdmissionAttributes, type AdmissionHost,
  type JsonRecord, type MutatingPlugin, type Operation, type AdmissionResource, type ValidatingPlugin,
} from "../types.ts";

export const LIMIT_RANGER_ANNOTATION = "kubernetes.io/limit-ranger";

function isPod(r: AdmissionResource): boolean {
  return r.group === "" && r.resource === "pods";
}

function isPvc(r: AdmissionResource): boolean {
  return r.group === "" && r.resource === "persistentvolumeclaims";
}

function handles(op: Operation, r: AdmissionResource): boolean {
  if (r.subresource !== "" || (op !== "CREATE" && op !== "UPDATE")) return false;
  if (isPod(r)) return op === "CREATE";
  return isPvc(r);
}

/** Sets the missing defaults of one LimitRange on every container; returns the annotation parts. */
export function applyDefaults(pod: KubeObject, limitRange: KubeObject): string[] {
  const defLimits: ResourceList = new Map();
  const defRequests: ResourceList = new Map();
  const rawLimits: JsonRecord = {};
  const rawRequests: JsonRecord = {};
  for (const item of recordsAt(limitRange, "spec", "limits")) {
    if (item["type"] !== "Container") continue;
    for (const [k, v] of parseResourceList(item["defaultRequest"])) { defRequests.set(k, v); rawRequests[k] = quantityString(v); }
    for (const [k, v] of parseResourceList(item["default"])) { defLimits.set(k, v); rawLimits[k] = quantityString(v); }
  }
  const notes: string[] = [];
  if (defLimits.size === 0 && defRequests.size === 0) return notes;
  const spec = recordAt(pod, "spec");
  for (const [field, label] of [["containers", "container"], ["initContainers", "init container"]] as const) {
    for (const c of recordsAt(spec, field)) {
      const setLimits: string[] = [];
      const setRequests: string[] = [];
      const fill = (which: "limits" | "requests", defaults: JsonRecord, out: string[]): void => {
        const keys = Object.keys(defaults);
        if (keys.length === 0) return;
        const cur = recordAt(c, "resources", which);
        const missing = keys.filter((k) => cur?.[k] === undefined);
        if (missing.length === 0) return;
        const target = ensureRecord(ensureRecord(c, "resources"), which);
        for (const k of missing) { target[k] = defaults[k]; out.push(k); }
      };
      fill("limits", rawLimits, setLimits);
      fill("requests", rawRequests, setRequests);
      const name = typeof c["name"] === "string" ? c["name"] : "";
      if (setRequests.length > 0) notes.push(`${setRequests.sort().join(", ")} request for ${label} ${name}`);
      if (setLimits.length > 0) notes.push(`${setLimits.sort().join(", ")} limit for ${label} ${name}`);
    }
  }
  return notes;
}

const has = (l: ResourceList, k: string): Quantity | undefined => l.get(k);

function minConstraint(type: string, res: string, enforced: Quantity, req: ResourceList, lim: ResourceList): string | undefined {
  const r = has(req, res);
  const l = has(lim, res);
  const e = quantityString(enforced);
  if (!r) return `minimum ${res} usage per ${type} is ${e}.  No request is specified`;
  if (r.nanos < enforced.nanos) return `minimum ${res} usage per ${type} is ${e}, but request is ${quantityString(r)}`;
  if (l && l.nanos < enforced.nanos) return `minimum ${res} usage per ${type} is ${e}, but limit is ${quantityString(l)}`;
  return undefined;
}

function maxConstraint(type: string, res: string, enforced: Quantity, req: ResourceList, lim: ResourceList): string | undefined {
  const r = has(req, res);
  const l = has(lim, res);
  const e = quantityString(enforced);
  if (!l) return `maximum ${res} usage per ${type} is ${e}.  No limit is specified`;
  if (l.nanos > enforced.nanos) return `maximum ${res} usage per ${type} is ${e}, but limit is ${quantityString(l)}`;
  if (r && r.nanos > enforced.nanos) return `maximum ${res} usage per ${type} is ${e}, but request is ${quantityString(r)}`;
  return undefined;
}

function maxRequestConstraint(type: string, res: string, enforced: Quantity, req: ResourceList): string | undefined {
  const r = has(req, res);
  const e = quantityString(enforced);
  if (!r) return `maximum ${res} usage per ${type} is ${e}.  No request is specified`;
  if (r.nanos > enforced.nanos) return `maximum ${res} usage per ${type} is ${e}, but request is ${quantityString(r)}`;
  return undefined;
}

function ratioConstraint(type: string, res: string, enforced: Quantity, req: ResourceList, lim: ResourceList): string | undefined {
  const r = has(req, res);
  const l = has(lim, res);
  const e = quantityString(enforced);
  if (!r || r.nanos === 0n) return `${res} max limit to request ratio per ${type} is ${e}, but no request is specified or request is 0`;
  if (!l || l.nanos === 0n) return `${res} max limit to request ratio per ${type} is ${e}, but no limit is specified or limit is 0`;
  // limit / request > enforced  <=>  limit * 1e9 > enforced * request (all in nano units).
  if (l.nanos * 1_000_000_000n > enforced.nanos * r.nanos) {
    const ratio = Number(l.nanos) / Number(r.nanos);
    return `${res} max limit to request ratio per ${type} is ${e}, but provided ratio is ${ratio.toFixed(6)}`;
  }
  return undefined;
}

function sortedEntries(v: unknown): [string, Quantity][] {
  return [...parseResourceList(v)].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

function checkItem(item: JsonRecord, type: string, req: ResourceList, lim: ResourceList, errs: string[]): void {
  for (const [k, v] of sortedEntries(item["min"])) { const e = minConstraint(type, k, v, req, lim); if (e) errs.push(e); }
  for (const [k, v] of sortedEntries(item["max"])) { const e = maxConstraint(type, k, v, req, lim); if (e) errs.push(e); }
  for (const [k, v] of sortedEntries(item["maxLimitRequestRatio"])) { const e = ratioConstraint(type, k, v, req, lim); if (e) errs.push(e); }
}

/** Violations of one LimitRange by a pod (upstream's texts, in its order). */
export function podViolations(pod: KubeObject, limitRange: KubeObject): string[] {
  const errs: string[] = [];
  const spec = recordAt(pod, "spec");
  for (const item of recordsAt(limitRange, "spec", "limits")) {
    if (item["type"] === "Container") {
      for (const field of ["containers", "initContainers"]) {
        for (const c of recordsAt(spec, field)) {
          const r = containerRequirements(c);
          checkItem(item, "Container", r.requests, r.limits, errs);
        }
      }
    } else if (item["type"] === "Pod") {
      checkItem(item, "Pod", podRequests(spec), podLimits(spec), errs);
    }
  }
  return errs;
}

/** Violations of one LimitRange by a PersistentVolumeClaim. */
export function pvcViolations(pvc: KubeObject, limitRange: KubeObject): string[] {
  const errs: string[] = [];
  const req = parseResourceList(recordAt(pvc, "spec", "resources", "requests"));
  for (const item of recordsAt(limitRange, "spec", "limits")) {
    if (item["type"] !== "PersistentVolumeClaim") continue;
    for (const [k, v] of sortedEntries(item["min"])) { const e = minConstraint("PersistentVolumeClaim", k, v, req, new Map()); if (e) errs.push(e); }
    for (const [k, v] of sortedEntries(item["max"])) { const e = maxRequestConstraint("PersistentVolumeClaim", k, v, req); if (e) errs.push(e); }
  }
  return errs;
}

/** Upstream's error aggregate: one message as is, several as `[a, b]` (duplicates dropped). */
function aggregate(errs: string[]): string {
  const uniq = [...new Set(errs)];
  return uniq.length === 1 ? uniq[0] as string : `[${uniq.join(", ")}]`;
}

export function limitRanger(host: AdmissionHost): MutatingPlugin & ValidatingPlugin {
  const rangesFor = async (a: AdmissionAttributes): Promise<KubeObject[]> => {
    if (a.oldObject?.metadata?.deletionTimestamp) return [];
    return (await host.list("", "limitranges", a.namespace)).map((h) => h.object);
  };
  return {
    name: "LimitRanger",
    handles,
    async admit(a) {
      if (!isPod(a) || !a.object) return;
      for (const lr of await rangesFor(a)) {
        const notes = applyDefaults(a.object, lr);
        if (notes.length === 0) continue;
        a.object.metadata = {
          ...(a.object.metadata ?? {}),
          annotations: { ...(a.object.metadata?.annotations ?? {}), [LIMIT_RANGER_ANNOTATION]: `LimitRanger plugin set: ${notes.join("; ")}` },
        };
      }
    },
    async validate(a) {
      if (!a.object) return;
      for (const lr of await rangesFor(a)) {
        const errs = isPod(a) ? podViolations(a.object, lr) : pvcViolations(a.object, lr);
        if (errs.length > 0) throw forbidden(a, aggregate(errs));
      }
    },
  };
}

