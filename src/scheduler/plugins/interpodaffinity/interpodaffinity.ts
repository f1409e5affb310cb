/**
 * InterPodAffinity: required and preferred pod affinity / anti-affinity, including existing pods'
 * anti-affinity against the incoming pod. PreFilter counts matching pods once per topology
 * domain (a map keyed by topology key + value), so Filter and Score are O(terms) per node.
 */
import type { NodeInfo } from "../../cache/node_info.ts";
import type { Snapshot } from "../../cache/snapshot.ts";
import { ActionType } from "../../framework/events.ts";
import type { EnqueueExtensions, FilterPlugin, Handle, PreFilterPlugin, PreScorePlugin, ScorePlugin } from "../../framework/interface.ts";
import type { PluginContext } from "../../framework/registry.ts";
import { type CycleState, StateKey, Status } from "../../framework/status.ts";
import { type AffinityTerm, type PodInfo, termMatches, type WeightedAffinityTerm } from "../../types.ts";
import { argsObject, intArg } from "../_args.ts";

export const NAME = "InterPodAffinity";
export const ERR_EXISTING_ANTI = "node(s) didn't satisfy existing pods anti-affinity rules";
export const ERR_AFFINITY = "node(s) didn't match pod affinity rules";
export const ERR_ANTI = "node(s) didn't match pod anti-affinity rules";

const pairKey = (k: string, v: string): string => `${k}\u0000${v}`;

function bump(m: Map<string, number>, k: string, d: number): void {
  const n = (m.get(k) ?? 0) + d;
  if (n === 0) m.delete(k); else m.set(k, n);
}

class PreFilterState {
  constructor(
    readonly existingAnti = new Map<string, number>(),
    readonly affinity = new Map<string, number>(),
    readonly anti = new Map<string, number>(),
  ) {}
  clone(): PreFilterState { return new PreFilterState(new Map(this.existingAnti), new Map(this.affinity), new Map(this.anti)); }
}
const preFilterKey = new StateKey<PreFilterState>(`PreFilter${NAME}`);
const preScoreKey = new StateKey<Map<string, Map<string, number>>>(`PreScore${NAME}`);

export function newInterPodAffinity(args: unknown, ctx: PluginContext): PreFilterPlugin & FilterPlugin & PreScorePlugin & ScorePlugin & EnqueueExtensions {
  const a = argsObject(args, ctx, "InterPodAffinityArgs");
  const hardWeight = intArg(ctx, a, "hardPodAffinityWeight", 1, 0, 100, "[0, 100]");
  const ignoreExistingPreferred = a["ignorePreferredTermsOfExistingPods"] === true;
  const handle: Handle = ctx.handle;
  const nsl = (ns: string): Readonly<Record<string, string>> | undefined => handle.namespaceLabels(ns);
  const matchesAll = (terms: readonly AffinityTerm[], p: PodInfo): boolean => terms.every((t) => termMatches(t, p, nsl));

  /** Applies `other` (on `node`) to the counts with sign `d`. */
  function account(s: PreFilterState, pod: PodInfo, other: PodInfo, node: NodeInfo, d: number): void {
    const labels = node.labels;
    for (const t of other.requiredAntiAffinity) {
      const v = labels[t.topologyKey];
      if (v !== undefined && termMatches(t, pod, nsl)) bump(s.existingAnti, pairKey(t.topologyKey, v), d);
    }
    if (pod.requiredAffinity.length > 0 && matchesAll(pod.requiredAffinity, other)) {
      for (const t of pod.requiredAffinity) {
        const v = labels[t.topologyKey];
        if (v !== undefined) bump(s.affinity, pairKey(t.topologyKey, v), d);
      }
    }
    for (const t of pod.requiredAntiAffinity) {
      const v = labels[t.topologyKey];
      if (v !== undefined && termMatches(t, other, nsl)) bump(s.anti, pairKey(t.topologyKey, v), d);
    }
  }

  function filterNode(s: PreFilterState, pod: PodInfo, node: NodeInfo): Status | undefined {
    const labels = node.labels;
    if (s.existingAnti.size > 0) {
      for (const k of s.existingAnti.keys()) {
        const sep = k.indexOf("\u0000");
        if (labels[k.slice(0, sep)] === k.slice(sep + 1)) return Status.unschedulable(ERR_EXISTING_ANTI);
      }
    }
    if (pod.requiredAffinity.length > 0) {
      let exist = true;
      for (const t of pod.requiredAffinity) {
        const v = labels[t.topologyKey];
        if (v === undefined) return Status.unresolvable(ERR_AFFINITY);
        if ((s.affinity.get(pairKey(t.topologyKey, v)) ?? 0) <= 0) exist = false;
      }
      if (!exist && !(s.affinity.size === 0 && matchesAll(pod.requiredAffinity, pod))) return Status.unresolvable(ERR_AFFINITY);
    }
    for (const t of pod.requiredAntiAffinity) {
      const v = labels[t.topologyKey];
      if (v !== undefined && (s.anti.get(pairKey(t.topologyKey, v)) ?? 0) > 0) return Status.unschedulable(ERR_ANTI);
    }
    return undefined;
  }

  function processTerms(m: Map<string, Map<string, number>>, terms: readonly (AffinityTerm & { weight?: number })[], weight: number | undefined,
    target: PodInfo, node: NodeInfo, sign: number): void {
    for (const t of terms) {
      const w = weight ?? (t as WeightedAffinityTerm).weight;
      if (w === 0 || !termMatches(t, target, nsl)) continue;
      const v = node.labels[t.topologyKey];
      if (v === undefined) continue;
      let inner = m.get(t.topologyKey);
      if (!inner) { inner = new Map(); m.set(t.topologyKey, inner); }
      inner.set(v, (inner.get(v) ?? 0) + w * sign);
    }
  }

  const plugin = {
    name: NAME,
    preFilter(state: CycleState, pod: PodInfo, snap: Snapshot) {
      if (pod.parseError) return Status.unresolvable(pod.parseError);
      const s = new PreFilterState();
      for (const name of snap.nodesWithRequiredAntiAffinityPods) {
        const node = snap.get(name);
        if (!node) continue;
        for (const other of node.podsWithRequiredAntiAffinity) {
          for (const t of other.requiredAntiAffinity) {
            const v = node.labels[t.topologyKey];
            if (v !== undefined && termMatches(t, pod, nsl)) bump(s.existingAnti, pairKey(t.topologyKey, v), 1);
          }
        }
      }
      if (pod.requiredAffinity.length > 0 || pod.requiredAntiAffinity.length > 0) {
        for (const node of snap.nodes) {
          for (const other of node.pods) {
            if (pod.requiredAffinity.length > 0 && matchesAll(pod.requiredAffinity, other)) {
              for (const t of pod.requiredAffinity) {
                const v = node.labels[t.topologyKey];
                if (v !== undefined) bump(s.affinity, pairKey(t.topologyKey, v), 1);
              }
            }
            for (const t of pod.requiredAntiAffinity) {
              const v = node.labels[t.topologyKey];
              if (v !== undefined && termMatches(t, other, nsl)) bump(s.anti, pairKey(t.topologyKey, v), 1);
            }
          }
        }
      }
      if (s.existingAnti.size === 0 && pod.requiredAffinity.length === 0 && pod.requiredAntiAffinity.length === 0) {
        state.skipFilter.add(NAME);
      }
      state.write(preFilterKey, s);
      return undefined;
    },
    preFilterExtensions: {
      addPod(state: CycleState, pod: PodInfo, added: PodInfo, node: NodeInfo) {
        const s = state.read(preFilterKey);
        if (s) { account(s, pod, added, node, 1); state.skipFilter.delete(NAME); }
      },
      removePod(state: CycleState, pod: PodInfo, removed: PodInfo, node: NodeInfo) {
        const s = state.read(preFilterKey);
        if (s) account(s, pod, removed, node, -1);
      },
    },
    filter(state: CycleState, pod: PodInfo, node: NodeInfo) {
      const s = state.read(preFilterKey);
      return s ? filterNode(s, pod, node) : undefined;
    },
    filterAll(state, pod, snap, sink) {
      const s = state.read(preFilterKey);
      if (!s) return;
      for (let i = 0; i < snap.size; i++) {
        const n = snap.nodes[i];
        if (!n) continue;
        const st = filterNode(s, pod, n);
        if (st) sink.reject(i, st);
      }
    },
    preScore(state: CycleState, pod: PodInfo, snap: Snapshot) {
      const hasConstraints = pod.preferredAffinity.length > 0 || pod.preferredAntiAffinity.length > 0;
      if (!hasConstraints && snap.nodesWithAffinityPods.size === 0) return Status.skip();
      const m = new Map<string, Map<string, number>>();
      const visit = (node: NodeInfo, pods: readonly PodInfo[]): void => {
        if (Object.keys(node.labels).length === 0) return;
        for (const other of pods) {
          processTerms(m, pod.preferredAffinity, undefined, other, node, 1);
          processTerms(m, pod.preferredAntiAffinity, undefined, other, node, -1);
          if (hardWeight > 0) processTerms(m, other.requiredAffinity, hardWeight, pod, node, 1);
          if (!ignoreExistingPreferred) {
            processTerms(m, other.preferredAffinity, undefined, pod, node, 1);
            processTerms(m, other.preferredAntiAffinity, undefined, pod, node, -1);
          }
        }
      };
      if (hasConstraints) for (const node of snap.nodes) visit(node, node.pods);
      else for (const name of snap.nodesWithAffinityPods) { const n = snap.get(name); if (n) visit(n, n.podsWithAffinity); }
      if (m.size === 0) return Status.skip();
      state.write(preScoreKey, m);
      return undefined;
    },
    score(state: CycleState, _pod: PodInfo, node: NodeInfo) {
      const m = state.read(preScoreKey);
      if (!m) return 0;
      let s = 0;
      for (const [k, inner] of m) {
        const v = node.labels[k];
        if (v !== undefined) s += inner.get(v) ?? 0;
      }
      return s;
    },
    normalizeScore(_state: CycleState, _pod: PodInfo, scores: Float64Array) {
      let min = Infinity, max = -Infinity;
      for (const s of scores) { if (s < min) min = s; if (s > max) max = s; }
      const diff = max - min;
      for (let i = 0; i < scores.length; i++) scores[i] = diff > 0 ? Math.trunc(100 * (((scores[i] ?? 0) - min) / diff)) : 0;
    },
    eventsToRegister: () => [
      { resource: "AssignedPod", actionType: ActionType.Add | ActionType.UpdatePodLabel | ActionType.Delete },
      { resource: "Node", actionType: ActionType.Add | ActionType.UpdateNodeLabel },
    ],
  } satisfies PreFilterPlugin & FilterPlugin & PreScorePlugin & ScorePlugin & EnqueueExtensions;
  return plugin;
}
