/**
 * The disruption controller's arithmetic (pure), as upstream's:
 *
 * - expected pods and desired healthy: `minAvailable` as an integer -> desired = it, expected =
 *   the selected pods; `minAvailable` as a percentage -> expected = the owning controllers' scale,
 *   desired = percentage of it rounded up; `maxUnavailable` (integer or percentage, rounded up)
 *   -> expected = scale, desired = max(0, expected - maxUnavailable); neither -> 0 and 0.
 * - current healthy: selected pods that are Ready, not being deleted and not recorded in
 *   `disruptedPods` within the last 2 minutes (an eviction the controller has not seen finish).
 * - disruptedPods: entries of pods still present, not deleting and younger than 2 minutes stay;
 *   the earliest expiry is when the budget must be looked at again.
 * - disruptionsAllowed = currentHealthy - desiredHealthy (0 when negative or nothing is expected),
 *   the `DisruptionAllowed` condition (SufficientPods / InsufficientPods / SyncFailed).
 */
import type { KubeObject } from "../../api/object.ts";
import { isPodReady } from "../framework/pods.ts";

/** How long an eviction recorded in `disruptedPods` counts against health (upstream's DeletionTimeout). */
export const DELETION_TIMEOUT_MS = 2 * 60 * 1000;

export type IntOrString = number | string;

export interface BudgetSpec {
  minAvailable?: IntOrString;
  maxUnavailable?: IntOrString;
  selector?: unknown;
  unhealthyPodEvictionPolicy?: string;
}

export interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

export interface BudgetStatus {
  observedGeneration?: number;
  disruptedPods?: Record<string, string>;
  disruptionsAllowed?: number;
  currentHealthy?: number;
  desiredHealthy?: number;
  expectedPods?: number;
  conditions?: Condition[];
}

/**
 * intstr.GetScaledValueFromIntOrPercent: an integer as is, `"N%"` of `total` (rounded up or down).
 * Throws `Error` with upstream's texts for anything else.
 */
export function scaledValue(v: IntOrString | undefined, total: number, roundUp: boolean): number {
  if (v === undefined) throw new Error("nil value for IntOrString");
  if (typeof v === "number") return v;
  if (!v.endsWith("%")) throw new Error("invalid value for IntOrString: invalid type: string is not a percentage");
  const s = v.slice(0, -1);
  if (!/^[+-]?[0-9]+$/.test(s)) throw new Error(`invalid value for IntOrString: invalid value "${v}": strconv.Atoi: parsing "${s}": invalid syntax`);
  const pct = Number(s);
  return roundUp ? Math.ceil((pct * total) / 100) : Math.floor((pct * total) / 100);
}

/** Whether the budget needs the owning controllers' scale (percentages and maxUnavailable). */
export function needsScale(spec: BudgetSpec): boolean {
  return spec.maxUnavailable !== undefined || typeof spec.minAvailable === "string";
}

/**
 * Expected pods and desired healthy. `scale` is the summed scale of the pods' controllers
 * (called only when `needsScale`; it throws when a pod has no usable controller).
 */
export function expectedCounts(spec: BudgetSpec, podCount: number, scale: () => number): { expected: number; desired: number } {
  if (spec.maxUnavailable !== undefined) {
    const expected = scale();
    const maxUnavailable = scaledValue(spec.maxUnavailable, expected, true);
    return { expected, desired: Math.max(0, expected - maxUnavailable) };
  }
  if (spec.minAvailable !== undefined) {
    if (typeof spec.minAvailable === "number") return { expected: podCount, desired: spec.minAvailable };
    const expected = scale();
    return { expected, desired: scaledValue(spec.minAvailable, expected, true) };
  }
  return { expected: 0, desired: 0 };
}

/** Still-pending evictions and when the earliest one expires (ms since epoch), if any. */
export function liveDisruptions(recorded: Readonly<Record<string, string>> | undefined, pods: readonly KubeObject[], nowMs: number): { disrupted: Record<string, string>; recheckAtMs: number | undefined } {
  const byName = new Map(pods.map((p) => [p.metadata?.name ?? "", p]));
  const disrupted: Record<string, string> = {};
  let recheckAtMs: number | undefined;
  for (const [name, at] of Object.entries(recorded ?? {})) {
    const pod = byName.get(name);
    if (!pod || pod.metadata?.deletionTimestamp !== undefined) continue;
    const t = Date.parse(at);
    if (Number.isNaN(t)) continue;
    const expires = t + DELETION_TIMEOUT_MS;
    if (expires < nowMs) continue;
    disrupted[name] = at;
    recheckAtMs = recheckAtMs === undefined ? expires : Math.min(recheckAtMs, expires);
  }
  return { disrupted, recheckAtMs };
}

export function countHealthy(pods: readonly KubeObject[], disrupted: Readonly<Record<string, string>>, nowMs: number): number {
  let n = 0;
  for (const p of pods) {
    if (p.metadata?.deletionTimestamp !== undefined) continue;
    const at = disrupted[p.metadata?.name ?? ""];
    if (at !== undefined && Date.parse(at) + DELETION_TIMEOUT_MS > nowMs) continue;
    if (isPodReady(p)) n++;
  }
  return n;
}

/** Sets the DisruptionAllowed condition, keeping lastTransitionTime while its status stays. */
export function setAllowedCondition(prev: readonly Condition[] | undefined, c: Omit<Condition, "type" | "lastTransitionTime">, now: string): Condition[] {
  const old = (prev ?? []).find((x) => x.type === "DisruptionAllowed");
  const next: Condition = { type: "DisruptionAllowed", ...c, lastTransitionTime: old && old.status === c.status ? old.lastTransitionTime : now };
  return [...(prev ?? []).filter((x) => x.type !== "DisruptionAllowed"), next];
}

export interface BudgetComputation {
  readonly status: BudgetStatus;
  /** When to look again (an entry of disruptedPods expires). */
  readonly recheckAtMs: number | undefined;
}

/** The whole status of a budget from its selected pods (pure). */
export function computeStatus(
  generation: number, spec: BudgetSpec, prev: BudgetStatus, pods: readonly KubeObject[], scale: () => number, now: Date,
): BudgetComputation {
  const nowMs = now.getTime();
  const { expected, desired } = expectedCounts(spec, pods.length, scale);
  const { disrupted, recheckAtMs } = liveDisruptions(prev.disruptedPods, pods, nowMs);
  const current = countHealthy(pods, disrupted, nowMs);
  const allowed = expected <= 0 || current - desired <= 0 ? 0 : current - desired;
  const nowIso = now.toISOString().replace(/\.\d{3}Z$/, "Z");
  const status: BudgetStatus = {
    observedGeneration: generation,
    ...(Object.keys(disrupted).length > 0 ? { disruptedPods: disrupted } : {}),
    disruptionsAllowed: allowed,
    currentHealthy: current,
    desiredHealthy: desired,
    expectedPods: expected,
    conditions: setAllowedCondition(prev.conditions, {
      status: allowed > 0 ? "True" : "False", reason: allowed > 0 ? "SufficientPods" : "InsufficientPods", message: "", observedGeneration: generation,
    }, nowIso),
  };
  return { status, recheckAtMs };
}

/** Upstream's failSafe: no disruptions, condition SyncFailed with the error. */
export function failSafeStatus(prev: BudgetStatus, err: string, now: Date): BudgetStatus {
  const nowIso = now.toISOString().replace(/\.\d{3}Z$/, "Z");
  return {
    ...prev,
    disruptionsAllowed: 0,
    conditions: setAllowedCondition(prev.conditions, { status: "False", reason: "SyncFailed", message: err, observedGeneration: prev.observedGeneration ?? 0 }, nowIso),
  };
}
