/**
 * Node lifecycle, pure parts: node health from heartbeats (Ready condition `lastHeartbeatTime`
 * and the node's Lease `renewTime`), the Unknown conditions written when a node goes silent, the
 * condition taints (NoSchedule, TaintNodesByCondition) and the NoExecute not-ready / unreachable
 * taints, zone disruption states with their eviction rates, a token-bucket limiter, and the
 * NoExecute taint manager's per-pod decision.
 */
import type { Node, NodeCondition, Pod, Taint, Toleration } from "../../api/generated/core_v1.ts";
import { toleratesTaint } from "../../scheduler/_nodematch.ts";

export const TAINT_NOT_READY = "node.kubernetes.io/not-ready";
export const TAINT_UNREACHABLE = "node.kubernetes.io/unreachable";
export const TAINT_UNSCHEDULABLE = "node.kubernetes.io/unschedulable";
export const TAINT_MEMORY_PRESSURE = "node.kubernetes.io/memory-pressure";
export const TAINT_DISK_PRESSURE = "node.kubernetes.io/disk-pressure";
export const TAINT_PID_PRESSURE = "node.kubernetes.io/pid-pressure";
export const TAINT_NETWORK_UNAVAILABLE = "node.kubernetes.io/network-unavailable";
const MANAGED_KEYS = new Set([TAINT_NOT_READY, TAINT_UNREACHABLE, TAINT_UNSCHEDULABLE, TAINT_MEMORY_PRESSURE, TAINT_DISK_PRESSURE, TAINT_PID_PRESSURE, TAINT_NETWORK_UNAVAILABLE]);

export interface NodeLifecycleOptions {
  /** Silence after which a node's conditions become Unknown (default 40 s). */
  readonly nodeMonitorGracePeriodMs: number;
  /** The same for a node that never posted Ready (default 60 s). */
  readonly nodeStartupGracePeriodMs: number;
  /** Nodes per second tainted NoExecute in a healthy zone (default 0.1). */
  readonly evictionLimiterQps: number;
  /** The rate in a partially disrupted large zone (default 0.01). */
  readonly secondaryEvictionLimiterQps: number;
  /** Zones up to this size stop evicting when partially disrupted (default 50). */
  readonly largeClusterSizeThreshold: number;
  /** Share of not-ready nodes (with more than 2) that makes a zone partially disrupted (default 0.55). */
  readonly unhealthyZoneThreshold: number;
  /** Re-check period while waiting on a limiter (default 5 s). */
  readonly monitorPeriodMs: number;
}

export const DEFAULT_NODE_LIFECYCLE: NodeLifecycleOptions = {
  nodeMonitorGracePeriodMs: 40_000, nodeStartupGracePeriodMs: 60_000, evictionLimiterQps: 0.1, secondaryEvictionLimiterQps: 0.01,
  largeClusterSizeThreshold: 50, unhealthyZoneThreshold: 0.55, monitorPeriodMs: 5_000,
};

export function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

export function condition(node: Node, type: string): NodeCondition | undefined {
  return (node.status?.conditions ?? []).find((c) => c.type === type);
}

/** What the controller remembers per node (its own clock, as upstream's nodeHealth). */
export interface NodeHealth {
  /** When a heartbeat was last observed to change (ms, controller clock). */
  readonly probeTimestamp: number;
  readonly lastHeartbeat: string | undefined;
  readonly leaseRenewTime: string | undefined;
}

/** Updates the health record from the node and its lease. */
export function observeHealth(prev: NodeHealth | undefined, node: Node, leaseRenewTime: string | undefined, nowMs: number): NodeHealth {
  const hb = condition(node, "Ready")?.lastHeartbeatTime;
  if (!prev) {
    const created = Date.parse(node.metadata?.creationTimestamp ?? "");
    const probe = hb === undefined && Number.isFinite(created) ? created : nowMs;
    return { probeTimestamp: probe, lastHeartbeat: hb, leaseRenewTime };
  }
  let probe = prev.probeTimestamp;
  if (hb !== prev.lastHeartbeat) probe = nowMs;
  if (leaseRenewTime !== undefined && (prev.leaseRenewTime === undefined || Date.parse(leaseRenewTime) > Date.parse(prev.leaseRenewTime))) probe = nowMs;
  return { probeTimestamp: probe, lastHeartbeat: hb, leaseRenewTime };
}

/** When the node's grace period ends (ms). */
export function graceDeadline(node: Node, h: NodeHealth, o: NodeLifecycleOptions): number {
  return h.probeTimestamp + (condition(node, "Ready") ? o.nodeMonitorGracePeriodMs : o.nodeStartupGracePeriodMs);
}

const WATCHED_CONDITIONS = ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"];

/**
 * The conditions after the grace period ran out: every watched condition Unknown (reason
 * NodeStatusUnknown, or NodeStatusNeverUpdated when the kubelet never posted it). Undefined when
 * the node is within its grace period or already all Unknown.
 */
export function unknownConditions(node: Node, h: NodeHealth, nowMs: number, o: NodeLifecycleOptions): NodeCondition[] | undefined {
  if (nowMs <= graceDeadline(node, h, o)) return undefined;
  const now = rfc3339(nowMs);
  const conds = [...(node.status?.conditions ?? [])];
  let changed = false;
  for (const type of WATCHED_CONDITIONS) {
    const i = conds.findIndex((c) => c.type === type);
    if (i < 0) {
      conds.push({ type, status: "Unknown", reason: "NodeStatusNeverUpdated", message: "Kubelet never posted node status.", lastHeartbeatTime: node.metadata?.creationTimestamp ?? now, lastTransitionTime: now });
      changed = true;
    } else if (conds[i]!.status !== "Unknown") {
      conds[i] = { ...conds[i], status: "Unknown", reason: "NodeStatusUnknown", message: "Kubelet stopped posting node status.", lastTransitionTime: now };
      changed = true;
    }
  }
  return changed ? conds : undefined;
}

/**
 * The node's taints with the controller-managed ones recomputed from its conditions.
 * `allowNoExecute`: whether a NoExecute taint may be added now (the zone limiter); an existing
 * not-ready/unreachable NoExecute taint is swapped for the other without waiting, as upstream.
 */
export function desiredTaints(node: Node, nowMs: number, allowNoExecute: boolean, suppressNoExecute = false): { taints: Taint[]; limited: boolean } {
  const cur = node.spec?.taints ?? [];
  const ready = condition(node, "Ready")?.status;
  const want: Taint[] = [];
  const add = (key: string, effect: string): void => { want.push({ key, effect }); };
  if (ready === "False") add(TAINT_NOT_READY, "NoSchedule");
  if (ready === "Unknown") add(TAINT_UNREACHABLE, "NoSchedule");
  if (condition(node, "MemoryPressure")?.status === "True") add(TAINT_MEMORY_PRESSURE, "NoSchedule");
  if (condition(node, "DiskPressure")?.status === "True") add(TAINT_DISK_PRESSURE, "NoSchedule");
  if (condition(node, "PIDPressure")?.status === "True") add(TAINT_PID_PRESSURE, "NoSchedule");
  if (condition(node, "NetworkUnavailable")?.status === "True") add(TAINT_NETWORK_UNAVAILABLE, "NoSchedule");
  if (node.spec?.unschedulable === true) add(TAINT_UNSCHEDULABLE, "NoSchedule");
  let limited = false;
  const noExec = ready === "False" ? TAINT_NOT_READY : ready === "Unknown" ? TAINT_UNREACHABLE : undefined;
  if (noExec && !suppressNoExecute) {
    const hasNoExec = cur.some((t) => t.effect === "NoExecute" && (t.key === TAINT_NOT_READY || t.key === TAINT_UNREACHABLE));
    if (hasNoExec || allowNoExecute) add(noExec, "NoExecute");
    else limited = true;
  }
  const now = rfc3339(nowMs);
  const taints: Taint[] = cur.filter((t) => !MANAGED_KEYS.has(t.key ?? "") || !(t.effect === "NoSchedule" || t.effect === "NoExecute"));
  for (const w of want) {
    const existing = cur.find((t) => t.key === w.key && t.effect === w.effect);
    taints.push(existing ?? (w.effect === "NoExecute" ? { ...w, timeAdded: now } : w));
  }
  return { taints, limited };
}

export function taintsEqual(a: readonly Taint[], b: readonly Taint[]): boolean {
  const k = (t: Taint): string => `${t.key ?? ""}=${t.value ?? ""}:${t.effect ?? ""}`;
  return [...a].map(k).sort().join(",") === [...b].map(k).sort().join(",");
}

/** `region:\0:zone` from the topology labels ("" when unlabelled). */
export function zoneOf(node: Node): string {
  const l = node.metadata?.labels ?? {};
  const region = l["topology.kubernetes.io/region"] ?? "";
  const zone = l["topology.kubernetes.io/zone"] ?? "";
  return region === "" && zone === "" ? "" : `${region}:\x00:${zone}`;
}

export type ZoneState = "Normal" | "PartialDisruption" | "FullDisruption";

/** Upstream's ComputeZoneState over the Ready statuses of a zone's nodes. */
export function zoneState(readyStatuses: readonly (string | undefined)[], o: NodeLifecycleOptions): ZoneState {
  const notReady = readyStatuses.filter((s) => s !== "True").length;
  const ready = readyStatuses.length - notReady;
  if (ready === 0 && notReady > 0) return "FullDisruption";
  if (notReady > 2 && notReady / readyStatuses.length >= o.unhealthyZoneThreshold) return "PartialDisruption";
  return "Normal";
}

/** The NoExecute tainting rate of a zone (nodes per second). */
export function zoneRate(state: ZoneState, zoneSize: number, o: NodeLifecycleOptions): number {
  if (state === "PartialDisruption") return zoneSize > o.largeClusterSizeThreshold ? o.secondaryEvictionLimiterQps : 0;
  return o.evictionLimiterQps;
}

/** A token bucket with burst 1 (pure: time is passed in). */
export class TokenBucket {
  private tokens = 1;
  private last: number | undefined;
  constructor(public qps: number) {}
  private refill(nowMs: number): void {
    if (this.last !== undefined && this.qps > 0) this.tokens = Math.min(1, this.tokens + ((nowMs - this.last) / 1000) * this.qps);
    this.last = nowMs;
  }
  /** Takes a token if one is available. */
  tryAccept(nowMs: number): boolean {
    this.refill(nowMs);
    if (this.qps <= 0 || this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
  /** Ms until a token is available (Infinity at rate 0). */
  waitMs(nowMs: number): number {
    this.refill(nowMs);
    if (this.qps <= 0) return Infinity;
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) / this.qps) * 1000);
  }
}

export type EvictionDecision = { readonly action: "none" } | { readonly action: "evict" } | { readonly action: "wait"; readonly atMs: number };

/**
 * The taint manager's decision for one pod on a node with `taints`: a NoExecute taint the pod does
 * not tolerate evicts at once; otherwise the pod goes when the shortest `tolerationSeconds` among
 * the tolerations it uses has passed since the taint was added (`firstSeenMs` when the taint has no
 * timeAdded); tolerations without seconds tolerate forever.
 */
export function evictionDecision(pod: Pod, taints: readonly Taint[], firstSeenMs: number, nowMs: number): EvictionDecision {
  const noExec = taints.filter((t) => t.effect === "NoExecute");
  if (noExec.length === 0) return { action: "none" };
  const tols: Toleration[] = pod.spec?.tolerations ?? [];
  let at = Infinity;
  for (const taint of noExec) {
    const used = tols.filter((t) => toleratesTaint(t, taint));
    if (used.length === 0) return { action: "evict" };
    const added = Date.parse(taint.timeAdded ?? "");
    const base = Number.isFinite(added) ? added : firstSeenMs;
    for (const t of used) if (t.tolerationSeconds !== undefined) at = Math.min(at, base + Math.max(0, t.tolerationSeconds) * 1000);
  }
  if (at === Infinity) return { action: "none" };
  return at <= nowMs ? { action: "evict" } : { action: "wait", atMs: at };
}
