/**
 * Node-side matching shared by several plugins and the queueing hints: tolerations against taints
 * and node selector terms (nodeSelector, required and preferred node affinity).
 */
import type { NodeAffinity, NodeSelectorRequirement, NodeSelectorTerm, Pod, Taint, Toleration } from "../api/generated/core_v1.ts";
import type { Labels } from "../api/selectors/labels.ts";

/** Upstream's Toleration.ToleratesTaint. */
export function toleratesTaint(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== (taint.key ?? "")) return false;
  const op = t.operator ?? "";
  if (op === "" || op === "Equal") return (t.value ?? "") === (taint.value ?? "");
  return op === "Exists";
}

/** The first taint with one of `effects` that no toleration tolerates, if any. */
export function firstUntolerated(taints: readonly Taint[], tols: readonly Toleration[], effects: readonly string[]): Taint | undefined {
  for (const taint of taints) {
    if (!effects.includes(taint.effect ?? "")) continue;
    if (!tols.some((t) => toleratesTaint(t, taint))) return taint;
  }
  return undefined;
}

function requirementMatches(r: NodeSelectorRequirement, labels: Labels): boolean {
  const key = r.key ?? "";
  const has = Object.prototype.hasOwnProperty.call(labels, key);
  const v = has ? labels[key] ?? "" : undefined;
  const values = r.values ?? [];
  switch (r.operator) {
    case "In": return v !== undefined && values.includes(v);
    case "NotIn": return v === undefined || !values.includes(v);
    case "Exists": return has;
    case "DoesNotExist": return !has;
    case "Gt":
    case "Lt": {
      if (v === undefined || values.length !== 1) return false;
      const a = /^[+-]?\d+$/.test(v) ? Number(v) : NaN;
      const b = /^[+-]?\d+$/.test(values[0] ?? "") ? Number(values[0]) : NaN;
      if (Number.isNaN(a) || Number.isNaN(b)) return false;
      return r.operator === "Gt" ? a > b : a < b;
    }
    default: return false;
  }
}

function fieldMatches(r: NodeSelectorRequirement, nodeName: string): boolean {
  if (r.key !== "metadata.name") return false;
  const values = r.values ?? [];
  if (r.operator === "In") return values.length === 1 && values[0] === nodeName;
  if (r.operator === "NotIn") return values.length === 1 && values[0] !== nodeName;
  return false;
}

/** A node selector term: every expression and field matches; an empty term matches nothing. */
export function termMatchesNode(t: NodeSelectorTerm, labels: Labels, nodeName: string): boolean {
  const exprs = t.matchExpressions ?? [];
  const fields = t.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  return exprs.every((r) => requirementMatches(r, labels)) && fields.every((r) => fieldMatches(r, nodeName));
}

/**
 * A pod's required node constraints: `spec.nodeSelector` AND any of the required affinity terms
 * AND (when configured) the profile's addedAffinity.
 */
export class RequiredNodeAffinity {
  private readonly selector: [string, string][];
  private readonly terms: readonly NodeSelectorTerm[] | undefined;
  private readonly added: readonly NodeSelectorTerm[] | undefined;
  /** A stable key: pods with equal keys match the same nodes. */
  readonly key: string;
  readonly trivial: boolean;
  constructor(pod: Pod, added?: NodeAffinity) {
    this.selector = Object.entries(pod.spec?.nodeSelector ?? {});
    this.terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
    this.added = added?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
    this.trivial = this.selector.length === 0 && this.terms === undefined && this.added === undefined;
    this.key = this.trivial ? "" : JSON.stringify([this.selector, this.terms ?? null, this.added ?? null]);
  }
  match(labels: Labels, nodeName: string): boolean {
    for (const [k, v] of this.selector) if (labels[k] !== v) return false;
    if (this.terms !== undefined && !this.terms.some((t) => termMatchesNode(t, labels, nodeName))) return false;
    if (this.added !== undefined && !this.added.some((t) => termMatchesNode(t, labels, nodeName))) return false;
    return true;
  }
}

/** Sum of the weights of preferred terms (pod's, then addedAffinity's) matching the node. */
export function preferredNodeAffinityWeight(pod: Pod, added: NodeAffinity | undefined, labels: Labels, nodeName: string): number {
  let sum = 0;
  for (const src of [pod.spec?.affinity?.nodeAffinity, added]) {
    for (const p of src?.preferredDuringSchedulingIgnoredDuringExecution ?? []) {
      if (p.preference && termMatchesNode(p.preference, labels, nodeName)) sum += p.weight ?? 0;
    }
  }
  return sum;
}
