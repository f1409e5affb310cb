/**
 * PodTopologySpread: DoNotSchedule constraints as a filter (skew = matching pods in the node's
 * domain + self − global minimum ≤ maxSkew, minDomains, nodeAffinityPolicy / nodeTaintsPolicy,
 * matchLabelKeys) and ScheduleAnyway constraints as a score; cluster-level default constraints
 * (System or List) apply to pods without their own, selecting pods like the pod's services and
 * workloads. PreFilter reads DoNotSchedule counts from the snapshot's shared spread groups
 * (`Snapshot.spread`, kept current as pods come and go) when every node is eligible and has
 * every constraint key — O(constraints + rejected domains) per pod; otherwise (node affinity or
 * taints honored, nodes missing a key) it counts per pod over the nodes and the label index.
 * PreScore (ScheduleAnyway) uses the same groups under the same condition.
 */
import type { TopologySpreadConstraint } from "../../../api/generated/core_v1.ts";
import { labelSelectorFromObject, type LabelSelector, selectorFromRequirements, type LabelRequirement } from "../../../api/selectors/labels.ts";
import { firstUntolerated, RequiredNodeAffinity } from "../../_nodematch.ts";
import type { NodeInfo } from "../../cache/node_info.ts";
import type { SpreadGroup, SpreadTally } from "../../cache/_spreadindex.ts";
import { PositiveDomainMasks } from "../../cache/_tally.ts";
import type { Snapshot } from "../../cache/snapshot.ts";
import { fieldErr, isRecord } from "../../framework/config.ts";
import { ActionType } from "../../framework/events.ts";
import type { EnqueueExtensions, FilterPlugin, PreFilterPlugin, PreScorePlugin, ScorePlugin } from "../../framework/interface.ts";
import type { PluginContext } from "../../framework/registry.ts";
import { type CycleState, StateKey, Status } from "../../framework/status.ts";
import { type PodInfo, selectorObject } from "../../types.ts";
import { argsObject } from "../_args.ts";

export const NAME = "PodTopologySpread";
export const ERR_CONSTRAINTS = "node(s) didn't match pod topology spread constraints";
export const ERR_MISSING_LABEL = `${ERR_CONSTRAINTS} (missing required label)`;
const HOSTNAME = "kubernetes.io/hostname";
// Shared verdicts: filters reject thousands of nodes per pod; statuses are immutable apart from
// `plugin`, which is always this plugin's name.
const MISSING_LABEL = Status.unresolvable(ERR_MISSING_LABEL).withPlugin("PodTopologySpread");
const CONSTRAINTS = Status.unschedulable(ERR_CONSTRAINTS).withPlugin("PodTopologySpread");
const HARD = ["NoSchedule", "NoExecute"];

export const SYSTEM_DEFAULT_CONSTRAINTS: readonly TopologySpreadConstraint[] = [
  { topologyKey: HOSTNAME, whenUnsatisfiable: "ScheduleAnyway", maxSkew: 3 },
  { topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "ScheduleAnyway", maxSkew: 5 },
];

interface Constraint {
  readonly maxSkew: number;
  readonly topologyKey: string;
  readonly selector: LabelSelector;
  readonly minDomains: number;
  readonly honorAffinity: boolean;
  readonly honorTaints: boolean;
}

function countMatching(node: NodeInfo, sel: LabelSelector, ns: string): number {
  let n = 0;
  for (const p of node.pods) if (p.namespace === ns && !p.terminating && sel.matches(p.labels)) n++;
  return n;
}
function hasAllKeys(node: NodeInfo, cs: readonly Constraint[]): boolean {
  for (const c of cs) if (node.labels[c.topologyKey] === undefined) return false;
  return true;
}

/**
 * A constraint's counts read live from the snapshot's spread group (every node eligible and
 * carrying every constraint key): domains are `slots`' keys, counts the group's positive entries.
 */
interface LiveCounts { readonly group: SpreadGroup; readonly slots: ReadonlyMap<string, readonly number[]> }

/** Minimum count of a shared tally whose domains all hold matching pods, as of `changes`. */
const liveMins = new WeakMap<SpreadTally, { changes: number; min: number }>();

class FilterState {
  private mins: number[] | undefined;
  constructor(
    readonly constraints: readonly Constraint[],
    /** Per constraint: eligible domain → matching pods (an owned map), or the live shared counts. */
    private readonly counts: (Map<string, number> | LiveCounts)[],
    readonly affinity: RequiredNodeAffinity,
    /** 1 when the incoming pod matches constraint i's selector itself. */
    readonly selfMatch: readonly number[],
  ) {}
  clone(): FilterState { return new FilterState(this.constraints, this.counts.map((m) => (m instanceof Map ? new Map(m) : m)), this.affinity, this.selfMatch); }
  /** The live counts of constraint i, while it has not been copied (undefined after). */
  live(i: number): LiveCounts | undefined { const m = this.counts[i]; return m instanceof Map ? undefined : m; }
  /** Matching pods in domain `v` of constraint i. */
  count(i: number, v: string): number {
    const m = this.counts[i];
    if (m === undefined) return 0;
    return m instanceof Map ? m.get(v) ?? 0 : m.group.domains.counts.get(v) ?? 0;
  }
  /** Adds `d` to domain `v` of constraint i (preemption dry runs), copying live counts first. */
  add(i: number, v: string, d: number): void {
    let m = this.counts[i];
    if (m === undefined) return;
    if (!(m instanceof Map)) {
      const own = new Map<string, number>();
      for (const k of m.slots.keys()) own.set(k, 0);
      for (const [k, n] of m.group.domains.counts) own.set(k, n);
      this.counts[i] = m = own;
    }
    m.set(v, (m.get(v) ?? 0) + d);
    this.mins = undefined;
  }
  /** The global minimum matching count of constraint i (0 while fewer than minDomains domains exist). */
  minMatch(i: number): number {
    if (!this.mins) {
      this.mins = this.constraints.map((c, k) => {
        const m = this.counts[k];
        if (m === undefined) return 0;
        if (!(m instanceof Map)) {
          // Domains without a matching pod count 0, and every domain is eligible.
          const tally = m.group.domains, counts = tally.counts;
          if (m.slots.size < c.minDomains || counts.size < m.slots.size) return 0;
          // Every domain holds a matching pod: the minimum over the counts, cached per tally version.
          const cached = liveMins.get(tally);
          if (cached !== undefined && cached.changes === tally.changes) return cached.min;
          let min = Infinity;
          for (const v of counts.values()) if (v < min) min = v;
          if (min === Infinity) min = 0;
          liveMins.set(tally, { changes: tally.changes, min });
          return min;
        }
        if (m.size < c.minDomains) return 0;
        let min = Infinity;
        for (const v of m.values()) if (v < min) min = v;
        return min === Infinity ? 0 : min;
      });
    }
    return this.mins[i] ?? 0;
  }
}
interface ScoreState {
  readonly constraints: readonly Constraint[];
  readonly ignored: Set<string>;
  readonly pairCounts: Map<string, number>;
  readonly weights: number[];
}
const filterKey = new StateKey<FilterState>(`PreFilter${NAME}`);
const scoreKey = new StateKey<ScoreState>(`PreScore${NAME}`);

/** Node bitmasks of single domains (bit i = snapshot slot i), rebuilt when slots or labels change. */
class DomainMasks {
  private epoch = -1;
  private readonly byDomain = new Map<string, Uint32Array>();
  maskFor(snap: Snapshot, key: string, value: string, slots: readonly number[]): Uint32Array {
    if (this.epoch !== snap.labelsEpoch) { this.byDomain.clear(); this.epoch = snap.labelsEpoch; }
    const k = `${key}\u0000${value}`;
    let m = this.byDomain.get(k);
    if (m === undefined) {
      m = new Uint32Array((snap.size + 31) >>> 5);
      for (const i of slots) m[i >>> 5]! |= 1 << (i & 31);
      this.byDomain.set(k, m);
    }
    return m;
  }
}

/** Test and benchmark knobs. */
export interface PodTopologySpreadOptions {
  /**
   * Read matching-pod counts (DoNotSchedule filter, ScheduleAnyway score) from the snapshot's shared
   * spread groups when every node is eligible (default true); false always counts per cycle — the
   * reference the agreement tests compare to.
   */
  readonly incremental?: boolean;
}

export function newPodTopologySpread(args: unknown, ctx: PluginContext, opts: PodTopologySpreadOptions = {}): PreFilterPlugin & FilterPlugin & PreScorePlugin & ScorePlugin & EnqueueExtensions {
  const masks = new DomainMasks();
  const positive = new PositiveDomainMasks();
  const incremental = opts.incremental ?? true;
  const a = argsObject(args, ctx, "PodTopologySpreadArgs");
  const dt = a["defaultingType"] ?? "System";
  if (dt !== "System" && dt !== "List") ctx.errors.push(fieldErr.notSupported(`${ctx.argsPath}.defaultingType`, dt, ["System", "List"]));
  let defaults: readonly TopologySpreadConstraint[] = SYSTEM_DEFAULT_CONSTRAINTS;
  const rawDefaults = a["defaultConstraints"];
  if (dt === "List") {
    defaults = [];
    if (rawDefaults !== undefined && rawDefaults !== null) {
      if (!Array.isArray(rawDefaults)) ctx.errors.push(fieldErr.invalid(`${ctx.argsPath}.defaultConstraints`, rawDefaults, "must be a list"));
      else {
        const seen = new Set<string>();
        const ok: TopologySpreadConstraint[] = [];
        rawDefaults.forEach((c: unknown, i: number) => {
          const p = `${ctx.argsPath}.defaultConstraints[${i}]`;
          if (!isRecord(c)) { ctx.errors.push(fieldErr.invalid(p, c, "must be an object")); return; }
          const ms = c["maxSkew"];
          if (typeof ms !== "number" || !Number.isInteger(ms) || ms <= 0) { ctx.errors.push(fieldErr.invalid(`${p}.maxSkew`, ms ?? 0, "must be greater than zero")); return; }
          const tk = c["topologyKey"];
          if (typeof tk !== "string" || tk === "") { ctx.errors.push(fieldErr.required(`${p}.topologyKey`, "can not be empty")); return; }
          const wu = c["whenUnsatisfiable"];
          if (wu !== "DoNotSchedule" && wu !== "ScheduleAnyway") { ctx.errors.push(fieldErr.notSupported(`${p}.whenUnsatisfiable`, wu ?? "", ["DoNotSchedule", "ScheduleAnyway"])); return; }
          if (c["labelSelector"] !== undefined && c["labelSelector"] !== null) {
            ctx.errors.push(fieldErr.invalid(`${p}.labelSelector`, c["labelSelector"], "constraint must not define a selector, as they deduced for each pod")); return;
          }
          const dup = `${tk}\u0000${wu}`;
          if (seen.has(dup)) { ctx.errors.push(fieldErr.duplicate(`${p}`, `{${tk}, ${wu}}`)); return; }
          seen.add(dup);
          ok.push({ maxSkew: ms, topologyKey: tk, whenUnsatisfiable: wu });
        });
        defaults = ok;
      }
    }
  } else if (dt === "System" && Array.isArray(rawDefaults) && rawDefaults.length > 0) {
    ctx.errors.push(fieldErr.invalid(`${ctx.argsPath}.defaultingType`, dt, "when .defaultConstraints are not empty"));
  }
  const systemDefaulted = dt === "System";

  function buildConstraints(pod: PodInfo, hard: boolean): { cs: Constraint[]; fromDefaults: boolean } {
    const own = pod.pod.spec?.topologySpreadConstraints ?? [];
    const want = hard ? "DoNotSchedule" : "ScheduleAnyway";
    const out: Constraint[] = [];
    if (own.length > 0) {
      for (const c of own) {
        if ((c.whenUnsatisfiable ?? "DoNotSchedule") !== want) continue;
        let sel = labelSelectorFromObject(selectorObject(c.labelSelector));
        const keys = c.matchLabelKeys ?? [];
        if (keys.length > 0) {
          const extra: LabelRequirement[] = [];
          for (const k of keys) { const v = pod.labels[k]; if (v !== undefined) extra.push({ key: k, operator: "In", values: [v] }); }
          sel = selectorFromRequirements([...sel.requirements, ...extra]);
        }
        out.push({
          maxSkew: c.maxSkew ?? 1, topologyKey: c.topologyKey ?? "", selector: sel,
          minDomains: hard ? Math.max(1, c.minDomains ?? 1) : 1,
          honorAffinity: (c.nodeAffinityPolicy ?? "Honor") === "Honor", honorTaints: c.nodeTaintsPolicy === "Honor",
        });
      }
      return { cs: out, fromDefaults: false };
    }
    const selectors = ctx.handle.workloadSelectorsFor(pod);
    if (selectors.length === 0) return { cs: out, fromDefaults: true };
    const sel = selectorFromRequirements(selectors.flatMap((s) => s.requirements));
    for (const c of defaults) {
      if ((c.whenUnsatisfiable ?? "DoNotSchedule") !== want) continue;
      out.push({ maxSkew: c.maxSkew ?? 1, topologyKey: c.topologyKey ?? "", selector: sel, minDomains: 1, honorAffinity: true, honorTaints: false });
    }
    return { cs: out, fromDefaults: true };
  }

  function included(c: Constraint, pod: PodInfo, node: NodeInfo, aff: RequiredNodeAffinity): boolean {
    if (c.honorAffinity && !aff.match(node.labels, node.name)) return false;
    if (c.honorTaints && firstUntolerated(node.taints, pod.tolerations, HARD)) return false;
    return true;
  }

  function adjust(state: CycleState, pod: PodInfo, other: PodInfo, node: NodeInfo, d: number): void {
    const s = state.read(filterKey);
    if (!s || other.namespace !== pod.namespace || !hasAllKeys(node, s.constraints)) return;
    s.constraints.forEach((c, i) => {
      if (!included(c, pod, node, s.affinity) || !c.selector.matches(other.labels)) return;
      s.add(i, node.labels[c.topologyKey] ?? "", d);
    });
  }

  function filterNode(s: FilterState, pod: PodInfo, node: NodeInfo): Status | undefined {
    if (!hasAllKeys(node, s.constraints)) return MISSING_LABEL;
    for (let i = 0; i < s.constraints.length; i++) {
      const c = s.constraints[i];
      if (!c) continue;
      const tv = node.labels[c.topologyKey] ?? "";
      const skew = s.count(i, tv) + (s.selfMatch[i] ?? 0) - s.minMatch(i);
      if (skew > c.maxSkew) return CONSTRAINTS;
    }
    return undefined;
  }

  const plugin = {
    name: NAME,
    preFilter(state: CycleState, pod: PodInfo, snap: Snapshot) {
      let built: Constraint[];
      try { built = buildConstraints(pod, true).cs; } catch (e) {
        return Status.unresolvable(e instanceof Error ? e.message : String(e));
      }
      if (built.length === 0) { state.skipFilter.add(NAME); return undefined; }
      const aff = new RequiredNodeAffinity(pod.pod);
      const selfMatch = built.map((c) => (c.selector.matches(pod.labels) ? 1 : 0));
      const trivial = built.every((c) => (!c.honorAffinity || aff.trivial) && !c.honorTaints);
      if (incremental && trivial && built.every((c) => snap.nodesWithLabel(c.topologyKey) === snap.size)) {
        // Every node is eligible and has every key: the snapshot's shared spread counts are exactly
        // this cycle's counts (O(constraints), not O(nodes + matching pods)).
        const live = built.map((c): LiveCounts => ({ group: snap.spread.group(pod.namespace, c.selector, c.topologyKey), slots: snap.domainSlots(c.topologyKey) }));
        state.write(filterKey, new FilterState(built, live, aff, selfMatch));
        return undefined;
      }
      const counts = built.map(() => new Map<string, number>());
      // Every eligible domain starts at 0; matching pods are then found through the label index.
      for (const node of snap.nodes) {
        if (!hasAllKeys(node, built)) continue;
        for (let i = 0; i < built.length; i++) {
          const c = built[i], m = counts[i];
          if (!c || !m || (!trivial && !included(c, pod, node, aff))) continue;
          const tv = node.labels[c.topologyKey] ?? "";
          if (!m.has(tv)) m.set(tv, 0);
        }
      }
      built.forEach((c, i) => {
        const m = counts[i];
        if (!m) return;
        for (const ref of snap.pods.candidates(pod.namespace, c.selector)) {
          if (ref.pod.terminating || !c.selector.matches(ref.pod.labels)) continue;
          const node = snap.get(ref.node);
          if (!node || !hasAllKeys(node, built) || !included(c, pod, node, aff)) continue;
          const tv = node.labels[c.topologyKey] ?? "";
          m.set(tv, (m.get(tv) ?? 0) + 1);
        }
      });
      state.write(filterKey, new FilterState(built, counts, aff, selfMatch));
      return undefined;
    },
    preFilterExtensions: {
      addPod: (state: CycleState, pod: PodInfo, added: PodInfo, node: NodeInfo) => adjust(state, pod, added, node, 1),
      removePod: (state: CycleState, pod: PodInfo, removed: PodInfo, node: NodeInfo) => adjust(state, pod, removed, node, -1),
    },
    filter(state: CycleState, pod: PodInfo, node: NodeInfo) {
      const s = state.read(filterKey);
      return s ? filterNode(s, pod, node) : undefined;
    },
    filterAll(state, pod, snap, sink) {
      const s = state.read(filterKey);
      if (!s) return;
      if (s.constraints.every((c, i) => s.live(i) !== undefined && c.maxSkew - (s.selfMatch[i] ?? 0) + s.minMatch(i) >= 0)) {
        // Every node has every key, so only the skew rejects, and a domain without matching pods
        // never does (0 + self − min ≤ 1 ≤ maxSkew): visit the counted domains only.
        for (let i = 0; i < s.constraints.length; i++) {
          const c = s.constraints[i], l = s.live(i);
          if (!c || !l) continue;
          const limit = c.maxSkew - (s.selfMatch[i] ?? 0) + s.minMatch(i);
          if (limit === 0 && sink.rejectMask && l.group.domains.counts.size > 64) {
            // Every domain holding a matching pod rejects (e.g. maxSkew 1 by hostname): one mask
            // kept in step with the counts instead of a visit per counted domain.
            sink.rejectMask(positive.maskFor(snap, l.slots, l.group.domains), CONSTRAINTS);
            continue;
          }
          for (const [v, n] of l.group.domains.counts) {
            if (n <= limit) continue;
            const slots = l.slots.get(v);
            if (slots === undefined) continue;
            if (slots.length > 64 && sink.rejectMask) sink.rejectMask(masks.maskFor(snap, c.topologyKey, v, slots), CONSTRAINTS);
            else for (const k of slots) sink.reject(k, CONSTRAINTS);
          }
        }
        return;
      }
      for (let i = 0; i < snap.size; i++) {
        const n = snap.nodes[i];
        if (!n) continue;
        const st = filterNode(s, pod, n);
        if (st) sink.reject(i, st);
      }
    },
    preScore(state: CycleState, pod: PodInfo, snap: Snapshot, feasibleNodes: () => readonly NodeInfo[]) {
      let built: { cs: Constraint[]; fromDefaults: boolean };
      try { built = buildConstraints(pod, false); } catch { return Status.skip(); }
      const cs = built.cs;
      if (cs.length === 0) return Status.skip();
      const requireAll = !built.fromDefaults || !systemDefaulted;
      const feasible = feasibleNodes();
      const ignored = new Set<string>();
      const pairCounts = new Map<string, number>();
      const sizes = cs.map(() => 0);
      for (const node of feasible) {
        if (requireAll && !hasAllKeys(node, cs)) { ignored.add(node.name); continue; }
        cs.forEach((c, i) => {
          if (c.topologyKey === HOSTNAME) return;
          const k = `${c.topologyKey}\u0000${node.labels[c.topologyKey] ?? ""}`;
          if (!pairCounts.has(k)) { pairCounts.set(k, 0); sizes[i] = (sizes[i] ?? 0) + 1; }
        });
      }
      const weights = cs.map((c, i) => Math.log((c.topologyKey === HOSTNAME ? feasible.length - ignored.size : sizes[i] ?? 0) + 2));
      const aff = new RequiredNodeAffinity(pod.pod);
      if (incremental && cs.every((c) => (!c.honorAffinity || aff.trivial) && !c.honorTaints && snap.nodesWithLabel(c.topologyKey) === snap.size)) {
        // Every node counts and has every key: the shared spread counts are the pair counts of the
        // feasible nodes' domains (no walk over the matching pods).
        for (const c of cs) {
          if (c.topologyKey === HOSTNAME) continue;
          const g = snap.spread.group(pod.namespace, c.selector, c.topologyKey);
          for (const [v, n] of g.domains.counts) {
            const k = `${c.topologyKey}\u0000${v}`;
            const cur = pairCounts.get(k);
            if (cur !== undefined) pairCounts.set(k, cur + n);
          }
        }
        state.write(scoreKey, { constraints: cs, ignored, pairCounts, weights });
        return undefined;
      }
      for (const c of cs) {
        if (c.topologyKey === HOSTNAME) continue;
        for (const ref of snap.pods.candidates(pod.namespace, c.selector)) {
          if (ref.pod.terminating || !c.selector.matches(ref.pod.labels)) continue;
          const node = snap.get(ref.node);
          if (!node || (requireAll && !hasAllKeys(node, cs)) || !included(c, pod, node, aff)) continue;
          const k = `${c.topologyKey}\u0000${node.labels[c.topologyKey] ?? ""}`;
          const cur = pairCounts.get(k);
          if (cur !== undefined) pairCounts.set(k, cur + 1);
        }
      }
      state.write(scoreKey, { constraints: cs, ignored, pairCounts, weights });
      return undefined;
    },
    score(state: CycleState, pod: PodInfo, node: NodeInfo) {
      const s = state.read(scoreKey);
      if (!s || s.ignored.has(node.name)) return 0;
      let score = 0;
      s.constraints.forEach((c, i) => {
        const tv = node.labels[c.topologyKey];
        if (tv === undefined) return;
        const cnt = c.topologyKey === HOSTNAME ? countMatching(node, c.selector, pod.namespace) : s.pairCounts.get(`${c.topologyKey}\u0000${tv}`) ?? 0;
        score += cnt * (s.weights[i] ?? 0) + (c.maxSkew - 1);
      });
      return Math.round(score);
    },
    normalizeScore(state: CycleState, _pod: PodInfo, scores: Float64Array, nodes: readonly NodeInfo[]) {
      const s = state.read(scoreKey);
      if (!s) return;
      let min = Infinity, max = 0;
      nodes.forEach((n, i) => {
        if (s.ignored.has(n.name)) return;
        const v = scores[i] ?? 0;
        if (v < min) min = v;
        if (v > max) max = v;
      });
      nodes.forEach((n, i) => {
        if (s.ignored.has(n.name)) { scores[i] = 0; return; }
        if (max === 0) { scores[i] = 100; return; }
        scores[i] = Math.trunc((100 * (max + min - (scores[i] ?? 0))) / max);
      });
    },
    eventsToRegister: () => [
      { resource: "AssignedPod", actionType: ActionType.Add | ActionType.UpdatePodLabel | ActionType.Delete },
      { resource: "Node", actionType: ActionType.Add | ActionType.Delete | ActionType.UpdateNodeLabel | ActionType.UpdateNodeTaint },
    ],
  } satisfies PreFilterPlugin & FilterPlugin & PreScorePlugin & ScorePlugin & EnqueueExtensions;
  return plugin;
}
