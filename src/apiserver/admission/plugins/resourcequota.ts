/**
 * ResourceQuota (basic): object-count and compute quotas enforced when objects are created
 * (services and PVCs also on update), with `status.hard`/`status.used` kept current.
 *
 * There is no quota controller yet, so usage is recomputed from the stored objects of the
 * namespace each time a quota is consulted (only the kinds that quota's resources name), plus the
 * charges this apiserver admitted in the last seconds whose objects are not stored yet.
 * Decisions of one namespace are serialized, so concurrent creates cannot both take the last
 * unit. A denial is 403 `exceeded quota: <name>, requested: k=v, used: k=v, limited: k=v`; a pod
 * without requests/limits a quota needs is 403 `failed quota: <name>: must specify ...`.
 * `dryRun` requests are checked but charge nothing and write no status.
 *
 * Left out: the quota controller's periodic resync (deletions show in `status.used` at the next
 * admitted write or quota update), `Terminating`-scope changes on pod update, the in-place resize
 * subresource, `limitedResources` configuration, storage-class quotas beyond the per-class names.
 */
import type { KubeObject } from "../../../api/object.ts";
import { parseQuantity, type Quantity } from "../../../api/validation/quantity.ts";
import { containerRequirements, parseResourceList, prettyPrint, toJson, type ResourceList } from "../resources.ts";
import {
  forbidden, isRecord, recordAt, recordsAt, stringAt, type AdmissionAttributes, type AdmissionHost,
  type AdmissionResource, type MutatingPlugin, type Operation, type ValidatingPlugin,
} from "../types.ts";
import { chargedBy, kindsCharging, usageOf } from "./usage.ts";

/** How long an admitted charge counts while its object is not visible in the store. */
export const PENDING_TTL_MS = 30_000;

const parseQ = (v: unknown): Quantity | undefined => {
  if (typeof v !== "string" && typeof v !== "number") return undefined;
  const q = parseQuantity(String(v));
  return typeof q === "string" ? undefined : q;
};

// ---- scopes ----

interface ScopeRequirement { readonly scopeName: string; readonly operator: string; readonly values: readonly string[] }

function scopesOf(quota: KubeObject): ScopeRequirement[] {
  const out: ScopeRequirement[] = [];
  const scopes = recordAt(quota, "spec")?.["scopes"];
  if (Array.isArray(scopes)) for (const s of scopes) if (typeof s === "string") out.push({ scopeName: s, operator: "Exists", values: [] });
  for (const e of recordsAt(quota, "spec", "scopeSelector", "matchExpressions")) {
    const values = Array.isArray(e["values"]) ? e["values"].filter((v): v is string => typeof v === "string") : [];
    out.push({ scopeName: String(e["scopeName"] ?? ""), operator: String(e["operator"] ?? ""), values });
  }
  return out;
}

function isTerminating(pod: KubeObject): boolean {
  const ads = recordAt(pod, "spec")?.["activeDeadlineSeconds"];
  return typeof ads === "number" && ads >= 0;
}

function isBestEffort(pod: KubeObject): boolean {
  const spec = recordAt(pod, "spec");
  for (const field of ["containers", "initContainers"]) {
    for (const c of recordsAt(spec, field)) {
      const r = containerRequirements(c);
      for (const k of ["cpu", "memory"]) if (r.requests.has(k) || r.limits.has(k)) return false;
    }
  }
  return true;
}

function crossNamespaceAffinity(pod: KubeObject): boolean {
  const aff = recordAt(pod, "spec", "affinity");
  for (const kind of ["podAffinity", "podAntiAffinity"]) {
    const a = recordAt(aff, kind);
    const terms = [
      ...recordsAt(a, "requiredDuringSchedulingIgnoredDuringExecution"),
      ...recordsAt(a, "preferredDuringSchedulingIgnoredDuringExecution").map((w) => recordAt(w, "podAffinityTerm") ?? {}),
    ];
    if (terms.some((t) => (Array.isArray(t["namespaces"]) && t["namespaces"].length > 0) || isRecord(t["namespaceSelector"]))) return true;
  }
  return false;
}

function podMatchesScope(pod: KubeObject, s: ScopeRequirement): boolean {
  switch (s.scopeName) {
    case "Terminating": return isTerminating(pod);
    case "NotTerminating": return !isTerminating(pod);
    case "BestEffort": return isBestEffort(pod);
    case "NotBestEffort": return !isBestEffort(pod);
    case "CrossNamespacePodAffinity": return crossNamespaceAffinity(pod);
    case "PriorityClass": {
      const pc = stringAt(pod, "spec", "priorityClassName") ?? "";
      switch (s.operator) {
        case "Exists": return pc !== "";
        case "DoesNotExist": return pc === "";
        case "In": return s.values.includes(pc);
        case "NotIn": return !s.values.includes(pc);
        default: return false;
      }
    }
    default: return false;
  }
}

/** Whether `quota` governs objects of this kind like `obj` (its hard names and scopes). */
export function quotaMatches(quota: KubeObject, group: string, plural: string, obj: KubeObject): boolean {
  const hard = Object.keys(recordAt(quota, "spec", "hard") ?? {});
  if (!hard.some((n) => chargedBy(group, plural, n))) return false;
  const scopes = scopesOf(quota);
  if (scopes.length === 0) return true;
  // Scopes only apply to pods; a scoped quota governs nothing else.
  if (group !== "" || plural !== "pods") return false;
  return scopes.every((s) => podMatchesScope(obj, s));
}

/** Upstream's "must specify" constraint for cpu/memory quotas (pods only). */
function missingConstraints(pod: KubeObject, hard: readonly string[]): string | undefined {
  const required = ["cpu", "memory", "requests.cpu", "requests.memory", "limits.cpu", "limits.memory"].filter((n) => hard.includes(n));
  if (required.length === 0) return undefined;
  const missing = new Map<string, Set<string>>();
  const spec = recordAt(pod, "spec");
  for (const field of ["containers", "initContainers"]) {
    for (const c of recordsAt(spec, field)) {
      const r = containerRequirements(c);
      const has = (n: string): boolean => {
        if (n === "cpu" || n === "memory") return r.requests.has(n);
        const [kind, res] = n.split(".") as [string, string];
        return (kind === "requests" ? r.requests : r.limits).has(res);
      };
      for (const n of required) {
        if (has(n)) continue;
        const set = missing.get(n) ?? new Set<string>();
        set.add(typeof c["name"] === "string" ? c["name"] : "");
        missing.set(n, set);
      }
    }
  }
  if (missing.size === 0) return undefined;
  const parts = [...missing.keys()].sort().map((n) => `${n} for: ${[...(missing.get(n) as Set<string>)].sort().join(",")}`);
  return `must specify ${parts.join("; ")}`;
}

// ---- plugin ----

interface Pending {
  readonly uid: string;
  /** For updates: the charge stops once the stored object is newer than this. */
  readonly oldRv: string | undefined;
  readonly group: string;
  readonly plural: string;
  readonly usage: ResourceList;
  readonly expires: number;
}

function handles(op: Operation, r: AdmissionResource): boolean {
  if (r.subresource !== "" || !r.namespaced) return false;
  if (op === "CREATE") return true;
  return op === "UPDATE" && r.group === "" && (r.resource === "services" || r.resource === "persistentvolumeclaims");
}

export interface ResourceQuotaPlugin extends MutatingPlugin, ValidatingPlugin {
  /** Recomputed usage of every resource in `quota.spec.hard` (stored objects + pending charges). */
  usage(quota: KubeObject): Promise<ResourceList>;
}

export function resourceQuota(host: AdmissionHost): ResourceQuotaPlugin {
  const pending = new Map<string, Pending[]>(); // by namespace
  const locks = new Map<string, Promise<void>>();

  async function locked<T>(ns: string, f: () => Promise<T>): Promise<T> {
    const prev = locks.get(ns) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = prev.then(() => mine);
    locks.set(ns, tail);
    await prev;
    try {
      return await f();
    } finally {
      release();
      if (locks.get(ns) === tail) locks.delete(ns);
    }
  }

  async function usage(quota: KubeObject): Promise<ResourceList> {
    const ns = quota.metadata?.namespace ?? "";
    const hard = Object.keys(recordAt(quota, "spec", "hard") ?? {});
    const now = host.now();
    const kinds = new Map<string, { group: string; plural: string }>();
    for (const n of hard) for (const k of kindsCharging(n)) kinds.set(`${k.group}/${k.plural}`, k);
    const used: ResourceList = new Map();
    for (const n of hard) used.set(n, { nanos: 0n, format: parseQ(recordAt(quota, "spec", "hard")?.[n])?.format ?? "DecimalSI" });
    const seen = new Map<string, string>(); // uid -> resourceVersion
    const charge = (group: string, plural: string, obj: KubeObject, u: ResourceList): void => {
      if (!quotaMatches(quota, group, plural, obj)) return;
      for (const [k, q] of u) {
        const cur = used.get(k);
        if (cur) used.set(k, { nanos: cur.nanos + q.nanos, format: cur.format });
      }
    };
    for (const { group, plural } of kinds.values()) {
      if (!host.has(group, plural)) continue;
      for (const { object } of await host.list(group, plural, ns)) {
        const uid = object.metadata?.uid;
        if (uid) seen.set(uid, object.metadata?.resourceVersion ?? "");
        charge(group, plural, object, usageOf(group, plural, object, now, parseQ));
      }
    }
    const live: Pending[] = [];
    for (const p of pending.get(ns) ?? []) {
      const rv = seen.get(p.uid);
      const landed = rv !== undefined && (p.oldRv === undefined || rv !== p.oldRv);
      if (landed || p.expires < now.getTime()) continue;
      live.push(p);
      if (kinds.has(`${p.group}/${p.plural}`)) {
        for (const [k, q] of p.usage) {
          const cur = used.get(k);
          if (cur) used.set(k, { nanos: cur.nanos + q.nanos, format: cur.format });
        }
      }
    }
    if (live.length > 0) pending.set(ns, live); else pending.delete(ns);
    return used;
  }

  const statusOf = (quota: KubeObject, used: ResourceList): Record<string, unknown> => ({
    hard: { ...(recordAt(quota, "spec", "hard") ?? {}) }, used: toJson(used),
  });

  async function writeStatus(quota: KubeObject, used: ResourceList): Promise<void> {
    const m = quota.metadata ?? {};
    await host.updateStatus("", "resourcequotas", m.namespace ?? "", m.name ?? "", (cur) => {
      if (cur.metadata?.uid !== m.uid) return undefined;
      return { ...cur, status: statusOf(cur, used) };
    });
  }

  async function check(a: AdmissionAttributes): Promise<void> {
    const obj = a.object;
    if (!obj) return;
    const quotas = (await host.list("", "resourcequotas", a.namespace)).map((h) => h.object)
      .filter((q) => quotaMatches(q, a.group, a.resource, obj));
    if (quotas.length === 0) return;
    const now = host.now();
    let delta = usageOf(a.group, a.resource, obj, now, parseQ);
    if (a.operation === "UPDATE" && a.oldObject) {
      const prev = usageOf(a.group, a.resource, a.oldObject, now, parseQ);
      const d: ResourceList = new Map();
      for (const [k, q] of delta) {
        const diff = q.nanos - (prev.get(k)?.nanos ?? 0n);
        if (diff > 0n) d.set(k, { nanos: diff, format: q.format });
      }
      delta = d;
    }
    for (const q of quotas) {
      const hard = Object.keys(recordAt(q, "spec", "hard") ?? {});
      if (a.group === "" && a.resource === "pods") {
        const missing = missingConstraints(obj, hard);
        if (missing) throw forbidden(a, `failed quota: ${q.metadata?.name ?? ""}: ${missing}`);
      }
    }
    if (delta.size === 0) return;
    await locked(a.namespace, async () => {
      const updates: { quota: KubeObject; used: ResourceList }[] = [];
      for (const q of quotas) {
        const hardList = parseResourceList(recordAt(q, "spec", "hard"));
        const used = await usage(q);
        const requested: ResourceList = new Map([...delta].filter(([k]) => hardList.has(k)));
        if (requested.size === 0) continue;
        const exceeded: string[] = [];
        const next: ResourceList = new Map(used);
        for (const [k, r] of requested) {
          const u = used.get(k) ?? { nanos: 0n, format: r.format };
          const sum = { nanos: u.nanos + r.nanos, format: u.format };
          next.set(k, sum);
          if (sum.nanos > (hardList.get(k) as Quantity).nanos) exceeded.push(k);
        }
        if (exceeded.length > 0) {
          const mask = (l: ResourceList): ResourceList => new Map([...l].filter(([k]) => exceeded.includes(k)));
          throw forbidden(a, `exceeded quota: ${q.metadata?.name ?? ""}, requested: ${prettyPrint(mask(requested))}, used: ${prettyPrint(mask(used))}, limited: ${prettyPrint(mask(hardList))}`);
        }
        updates.push({ quota: q, used: next });
      }
      if (a.dryRun || updates.length === 0) return;
      const uid = obj.metadata?.uid;
      if (uid) {
        const list = pending.get(a.namespace) ?? [];
        list.push({
          uid, oldRv: a.operation === "UPDATE" ? a.oldObject?.metadata?.resourceVersion : undefined,
          group: a.group, plural: a.resource, usage: delta, expires: now.getTime() + PENDING_TTL_MS,
        });
        pending.set(a.namespace, list);
      }
      for (const u of updates) await writeStatus(u.quota, u.used);
    });
  }

  return {
    name: "ResourceQuota",
    usage,
    handles: (op, r) => handles(op, r) || (r.group === "" && r.resource === "resourcequotas" && r.subresource === "" && op === "UPDATE"),
    /** A created or updated quota gets `status.hard` and its current `status.used` at once. */
    async admit(a) {
      if (a.group !== "" || a.resource !== "resourcequotas" || !a.object) return;
      a.object["status"] = statusOf(a.object, await usage(a.object));
    },
    async validate(a) {
      if (!handles(a.operation, a)) return;
      await check(a);
    },
  };
}
