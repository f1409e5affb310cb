/**
 * InterPodAffinity: required and preferred pod affinity / anti-affinity, including existing pods'
 * anti-affinity against the incoming pod. PreFilter reads per-domain counts the snapshot's pod index
 * keeps current (grouped existing anti-affinity terms, registered term lookups), so it costs O(terms),
 * not O(matching pods); Filter and Score are O(terms) per node.
 */
import type { NodeInfo } from "../../cache/node_info.ts";
import type { PodRef } from "../../cache/_podindex.ts";
import { type DomainTally, PositiveDomainMasks } from "../../cache/_tally.ts";
import type { Snapshot } from "../../cache/snapshot.ts";
import { ActionType } from "../../framework/events.ts";
import type { EnqueueExtensions, FilterPlugin, FilterSink, Handle, PreFilterPlugin, PreScorePlugin, ScorePlugin } from "../../framework/interface.ts";
import type { PluginContext } from "../../framework/registry.ts";
import { type CycleState, StateKey, Status } from "../../framework/status.ts";
import { type AffinityTerm, type PodInfo, termMatches, type WeightedAffinityTerm } from "../../types.ts";
import { argsObject, intArg } from "../_args.ts";

export const NAME = "InterPodAffinity";
export const ERR_EXISTING_ANTI = "node(s) didn't satisfy existing pods anti-affinity rules";
export const ERR_AFFINITY = "node(s) didn't match pod affinity rules";
export const ERR_ANTI = "node(s) didn't match pod anti-affinity rules";
// Shared verdicts (see PodTopologySpread): only `plugin` is ever set, always to this name.
const EXISTING_ANTI = Status.unschedulable(ERR_EXISTING_ANTI).withPlugin("InterPodAffinity");
const AFFINITY = Status.unresolvable(ERR_AFFINITY).withPlugin("InterPodAffinity");
const ANTI = Status.unschedulable(ERR_ANTI).withPlugin("InterPodAffinity");

/**
 * Matching-pod counts per topology domain: topology key → value → count.
 *
 * A cycle's counts usually come straight from the snapshot's pod index (`layers`: live, shared,
 * read-only maps of non-negative counts the index keeps current), so PreFilter costs O(terms),
 * not O(matching pods). The first `bump` (preemption dry runs and nominated pods add or remove
 * pods from a cycle's view) copies the layers into `own` and works on the copy.
 */
interface Layer { readonly key: string; readonly tally: DomainTally }

class Counts {
  private layers: Layer[] = [];
  private own: Map<string, Map<string, number>> | undefined;
  /** Positive entries in `own` (while materialized). */
  private ownSize = 0;

  /** Adds the live counts of `tally` under `key` (no copy). */
  addLayer(key: string, tally: DomainTally | undefined): void {
    if (tally === undefined || tally.counts.size === 0) return;
    if (this.own) { for (const [v, n] of tally.counts) this.bump(key, v, n); return; }
    this.layers.push({ key, tally });
  }

  /** The shared layers, while no bump has copied them (undefined after). */
  get liveLayers(): readonly Layer[] | undefined {
    return this.own ? undefined : this.layers;
  }

  private materialize(): Map<string, Map<string, number>> {
    if (this.own) return this.own;
    const own = new Map<string, Map<string, number>>();
    this.own = own;
    const layers = this.layers;
    this.layers = [];
    for (const { key, tally } of layers) for (const [v, n] of tally.counts) this.bump(key, v, n);
    return own;
  }

  bump(key: string, value: string, d: number): void {
    const own = this.own ?? this.materialize();
    let inner = own.get(key);
    if (!inner) { inner = new Map(); own.set(key, inner); }
    const before = inner.get(value) ?? 0;
    const n = before + d;
    if (n === 0) inner.delete(value); else inner.set(value, n);
    if (before <= 0 && n > 0) this.ownSize++; else if (before > 0 && n <= 0) this.ownSize--;
    if (inner.size === 0) own.delete(key);
  }

  get(key: string, value: string): number {
    if (this.own) return this.own.get(key)?.get(value) ?? 0;
    let n = 0;
    for (const l of this.layers) if (l.key === key) n += l.tally.counts.get(value) ?? 0;
    return n;
  }

  /** Some domain has a positive count. */
  get nonEmpty(): boolean {
    if (this.own) return this.ownSize > 0;
    for (const l of this.layers) if (l.tally.counts.size > 0) return true;
    return false;
  }

  /** Any positive count in a domain the node belongs to. */
  anyOn(labels: Readonly<Record<string, string>>): boolean {
    if (this.own) {
      for (const [k, inner] of this.own) {
        const v = labels[k];
        if (v !== undefined && (inner.get(v) ?? 0) > 0) return true;
      }
      return false;
    }
    for (const l of this.layers) {
      const v = labels[l.key];
      if (v !== undefined && (l.tally.counts.get(v) ?? 0) > 0) return true;
    }
    return false;
  }

  /** True when every positive count is under topology key `key` (so a domain check decides a node). */
  onlyKey(key: string): boolean {
    if (this.own) { for (const k of this.own.keys()) if (k !== key) return false; return true; }
    for (const l of this.layers) if (l.key !== key) return false;
    return true;
  }

  /**
   * The counts as (key, value → count) maps; counts may be ≤ 0 in materialized maps and a key may
   * repeat across layers. Read-only.
   */
  maps(): Iterable<readonly [string, ReadonlyMap<string, number>]> {
    if (this.own) return this.own;
    return this.layers.map((l) => [l.key, l.tally.counts] as const);
  }

  clone(): Counts {
    const c = new Counts();
    if (this.own) {
      c.own = new Map();
      for (const [k, inner] of this.own) c.own.set(k, new Map(inner));
      c.ownSize = this.ownSize;
    } else {
      c.layers = this.layers.slice();
    }
    return c;
  }
}

class PreFilterState {
  constructor(readonly existingAnti = new Counts(), readonly affinity = new Counts(), readonly anti = new Counts()) {}
  clone(): PreFilterState { return new PreFilterState(this.existingAnti.clone(), this.affinity.clone(), this.anti.clone()); }
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
  const masks = new PositiveDomainMasks();

  /** Applies `other` (on `node`) to the counts with sign `d`. */
  function account(s: PreFilterState, pod: PodInfo, other: PodInfo, node: NodeInfo, d: number): void {
    const labels = node.labels;
    for (const t of other.requiredAntiAffinity) {
      const v = labels[t.topologyKey];
      if (v !== undefined && termMatches(t, pod, nsl)) s.existingAnti.bump(t.topologyKey, v, d);
    }
    if (pod.requiredAffinity.length > 0 && matchesAll(pod.requiredAffinity, other)) {
      for (const t of pod.requiredAffinity) {
        const v = labels[t.topologyKey];
        if (v !== undefined) s.affinity.bump(t.topologyKey, v, d);
      }
    }
    for (const t of pod.requiredAntiAffinity) {
      const v = labels[t.topologyKey];
      if (v !== undefined && termMatches(t, other, nsl)) s.anti.bump(t.topologyKey, v, d);
    }
  }

  /**
   * Pods a term may match, as label-index buckets: its namespaces (or those its namespaceSelector
   * admits). Buckets, not a generator: these loops run over every matching pod for every pod scheduled.
   */
  function candidates(snap: Snapshot, t: AffinityTerm): Iterable<PodRef>[] {
    const out: Iterable<PodRef>[] = [];
    if (t.namespaceSelector === undefined) {
      for (const ns of t.namespaces) out.push(snap.pods.candidates(ns, t.selector));
      return out;
    }
    for (const ns of [...snap.pods.namespaces()]) {
      if (!t.namespaces.has(ns)) {
        const l = nsl(ns);
        if (!t.namespaceSelector.empty && (l === undefined || !t.namespaceSelector.matches(l))) continue;
      }
      out.push(snap.pods.candidates(ns, t.selector));
    }
    return out;
  }

  /**
   * Rejects the nodes of every domain with a positive count in `c` with `st`, except nodes that
   * `before` (checked first by filterNode) already rejects: O(nodes in those domains), not O(all
   * nodes). A domain `before` counts itself is skipped whole; when `before` counts under this
   * domain's key only, no node of an uncounted domain is rejected by it.
   */
  function rejectDomains(snap: Snapshot, c: Counts, st: Status, sink: FilterSink, before: Counts | undefined): void {
    const prior = before !== undefined && before.nonEmpty ? before : undefined;
    for (const [k, counts] of c.maps()) {
      const slotsByValue = snap.domainSlots(k);
      // A domain decides its nodes when `prior` counts under this key only (or not at all).
      const byDomain = prior === undefined || prior.onlyKey(k);
      for (const [v, n] of counts) {
        if (n <= 0) continue;
        const slots = slotsByValue.get(v);
        if (slots === undefined) continue;
        if (byDomain) {
          if (prior !== undefined && prior.get(k, v) > 0) continue;
          for (const i of slots) sink.reject(i, st);
          continue;
        }
        for (const i of slots) {
          const node = snap.nodes[i];
          if (node && prior.anyOn(node.labels)) continue;
          sink.reject(i, st);
        }
      }
    }
  }

  function filterNode(s: PreFilterState, pod: PodInfo, node: NodeInfo): Status | undefined {
    const labels = node.labels;
    if (s.existingAnti.nonEmpty && s.existingAnti.anyOn(labels)) return EXISTING_ANTI;
    if (pod.requiredAffinity.length > 0) {
      let exist = true;
      for (const t of pod.requiredAffinity) {
        const v = labels[t.topologyKey];
        if (v === undefined) return AFFINITY;
        if (s.affinity.get(t.topologyKey, v) <= 0) exist = false;
      }
      if (!exist && !(!s.affinity.nonEmpty && matchesAll(pod.requiredAffinity, pod))) return AFFINITY;
    }
    for (const t of pod.requiredAntiAffinity) {
      const v = labels[t.topologyKey];
      if (v !== undefined && s.anti.get(t.topologyKey, v) > 0) return ANTI;
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
      // Existing pods' anti-affinity: one check per group of equal terms, counts read in place.
      for (const g of snap.pods.antiGroupsFor(pod.labels)) {
        if (termMatches(g.term, pod, nsl)) s.existingAnti.addLayer(g.term.topologyKey, g.domains);
      }
      const first = pod.requiredAffinity[0];
      if (first) {
        const g = snap.pods.matchGroup(pod.requiredAffinity);
        if (g) {
          for (const [key, tally] of g.counts) s.affinity.addLayer(key, tally);
        } else {
          for (const bucket of candidates(snap, first)) {
            for (const ref of bucket) {
              if (!matchesAll(pod.requiredAffinity, ref.pod)) continue;
              for (const t of pod.requiredAffinity) {
                const v = ref.labels[t.topologyKey];
                if (v !== undefined) s.affinity.bump(t.topologyKey, v, 1);
              }
            }
          }
        }
      }
      for (const t of pod.requiredAntiAffinity) {
        const g = snap.pods.matchGroup([t]);
        if (g) { s.anti.addLayer(t.topologyKey, g.counts.get(t.topologyKey)); continue; }
        for (const bucket of candidates(snap, t)) {
          for (const ref of bucket) {
            const v = ref.labels[t.topologyKey];
            if (v !== undefined && termMatches(t, ref.pod, nsl)) s.anti.bump(t.topologyKey, v, 1);
          }
        }
      }
      if (!s.existingAnti.nonEmpty && pod.requiredAffinity.length === 0 && pod.requiredAntiAffinity.length === 0) {
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
      if (pod.requiredAffinity.length === 0) {
        // Counts read straight from the index: whole-domain node masks, first rejection winning
        // (the sink keeps a node's first status), so existing pods' anti-affinity goes first.
        const existing = s.existingAnti.liveLayers, own = s.anti.liveLayers;
        if (sink.rejectMask !== undefined && existing !== undefined && own !== undefined) {
          for (const l of existing) sink.rejectMask(masks.maskFor(snap, snap.domainSlots(l.key), l.tally), EXISTING_ANTI);
          for (const l of own) sink.rejectMask(masks.maskFor(snap, snap.domainSlots(l.key), l.tally), ANTI);
          return;
        }
        // Only counted domains can reject: visit their nodes, in filterNode's order of checks.
        // (Every key in s.anti is one of the pod's anti-affinity topology keys.)
        if (s.existingAnti.nonEmpty) rejectDomains(snap, s.existingAnti, EXISTING_ANTI, sink, undefined);
        if (s.anti.nonEmpty) rejectDomains(snap, s.anti, ANTI, sink, s.existingAnti);
        return;
      }
      for (let i = 0; i < snap.size; i++) {
        const n = snap.nodes[i];
        if (!n) continue;
        const st = filterNode(s, pod, n);
        if (st) sink.reject(i, st);
      }
    },
    preScore(state: CycleState, pod: PodInfo, snap: Snapshot) {
      const hasConstraints = pod.preferredAffinity.length > 0 || pod.preferredAntiAffinity.length > 0;
      if (!hasConstraints && (snap.nodesWithScoringAffinityPods.size === 0 || (hardWeight === 0 && ignoreExistingPreferred))) return Status.skip();
      const m = new Map<string, Map<string, number>>();
      // The incoming pod's preferred terms against the pods they can match (label index).
      const incoming = (terms: readonly WeightedAffinityTerm[], sign: number): void => {
        for (const t of terms) {
          if (t.weight === 0) continue;
          for (const bucket of candidates(snap, t)) {
            for (const ref of bucket) {
              const node = snap.get(ref.node);
              if (node && Object.keys(node.labels).length > 0) processTerms(m, [t], undefined, ref.pod, node, sign);
            }
          }
        }
      };
      incoming(pod.preferredAffinity, 1);
      incoming(pod.preferredAntiAffinity, -1);
      // Existing pods' terms that may match the incoming pod.
      for (const name of snap.nodesWithScoringAffinityPods) {
        const node = snap.get(name);
        if (!node || Object.keys(node.labels).length === 0) continue;
        for (const other of node.podsWithAffinity) {
          if (hardWeight > 0) processTerms(m, other.requiredAffinity, hardWeight, pod, node, 1);
          if (!ignoreExistingPreferred) {
            processTerms(m, other.preferredAffinity, undefined, pod, node, 1);
            processTerms(m, other.preferredAntiAffinity, undefined, pod, node, -1);
          }
        }
      }
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
