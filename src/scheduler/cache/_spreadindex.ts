/**
 * Topology spread counts shared by every pod with the same spread constraint (PodTopologySpread):
 * per (namespace, selector, topologyKey), how many non-terminating pods of the namespace matching
 * the selector run on nodes with each value of the key. A group is registered on first use (one
 * walk over the selector's candidates in the snapshot's `PodIndex`) and from then on kept current
 * by the snapshot, which reports every pod it indexes or drops with its node's labels
 * (`Snapshot.upsert` / `remove`): O(pods that came or went × groups their labels pin).
 *
 * Invariant (tested against a from-scratch count through SchedulerCache → Snapshot): every
 * registered group's counts equal a walk over the pods of the snapshot's nodes; nodes without the
 * key count nowhere; counts hold positive entries only.
 */
import type { LabelSelector } from "../../api/selectors/labels.ts";
import type { PodInfo } from "../types.ts";
import type { PodIndex } from "./_podindex.ts";

/**
 * Topology value → matching pods (positive entries only), plus a change counter and a log of the
 * values whose count crossed zero (so a consumer that derived a node bitmask from the positive set
 * can catch up instead of rebuilding). Read-only for callers.
 */
export class SpreadTally {
  readonly counts = new Map<string, number>();
  /** Bumped on every change of any count (lets consumers cache values derived from all counts). */
  changes = 0;
  /** Values whose count went from 0 to positive or back, oldest first (a value may repeat). */
  readonly flips: string[] = [];
  /** Sequence number of `flips[0]`; older entries were dropped. */
  flipBase = 0;
  /** Sequence number of the next flip. */
  get version(): number { return this.flipBase + this.flips.length; }

  bump(v: string, d: number): void {
    this.changes++;
    const before = this.counts.get(v) ?? 0;
    const n = before + d;
    if (n > 0) this.counts.set(v, n); else this.counts.delete(v);
    if ((before > 0) !== (n > 0)) {
      this.flips.push(v);
      if (this.flips.length > MAX_FLIPS) { this.flips.splice(0, MAX_FLIPS / 2); this.flipBase += MAX_FLIPS / 2; }
    }
  }
}

/** Flip log entries kept per tally (consumers further behind rebuild from the counts). */
const MAX_FLIPS = 8192;

/** One spread group: the non-terminating pods of `namespace` matching `selector`, per value of `topologyKey`. */
export interface SpreadGroup {
  readonly namespace: string;
  readonly selector: LabelSelector;
  readonly topologyKey: string;
  readonly domains: SpreadTally;
}

class Group implements SpreadGroup {
  readonly domains = new SpreadTally();
  lastUsed = 0;
  constructor(readonly namespace: string, readonly selector: LabelSelector, readonly topologyKey: string, readonly sig: string, readonly pin: string | undefined) {}
  matches(p: PodInfo): boolean {
    return p.namespace === this.namespace && !p.terminating && this.selector.matches(p.labels);
  }
  account(labels: Readonly<Record<string, string>>, d: number): void {
    const v = labels[this.topologyKey];
    if (v !== undefined) this.domains.bump(v, d);
  }
}

/** Registered spread groups kept at most (least recently used go first). */
export const MAX_SPREAD_GROUPS = 64;

const lk = (k: string, v: string): string => `${k}=${v}`;

/** Equal signatures ⇔ the same group. */
export function spreadSignature(namespace: string, selector: LabelSelector, topologyKey: string): string {
  return `${namespace}\u0000${selector.nothing ? "!" : ""}${selector.toString()}\u0000${topologyKey}`;
}

function pinnedLabel(sel: LabelSelector): string | undefined {
  for (const r of sel.requirements) {
    const v = sel.requiresExactMatch(r.key);
    if (v !== undefined) return lk(r.key, v);
  }
  return undefined;
}

export class SpreadIndex {
  private readonly groups = new Map<string, Group>();
  /** Groups by one `key=value` their selector pins; groups pinning nothing are checked for every pod. */
  private readonly byPin = new Map<string, Set<Group>>();
  private readonly generic = new Set<Group>();
  private useTick = 0;

  /** `pods` is the snapshot's label index (walked once when a group is registered). */
  constructor(private readonly pods: PodIndex) {}

  /** `pods` now run on a node with `labels` (call in step with `PodIndex.add`). */
  add(pods: readonly PodInfo[], labels: Readonly<Record<string, string>>): void {
    if (this.groups.size > 0) for (const p of pods) this.account(p, labels, 1);
  }

  /** `pods` no longer run on a node with `labels` (call in step with `PodIndex.remove`). */
  remove(pods: readonly PodInfo[], labels: Readonly<Record<string, string>>): void {
    if (this.groups.size > 0) for (const p of pods) this.account(p, labels, -1);
  }

  private account(p: PodInfo, labels: Readonly<Record<string, string>>, d: number): void {
    if (p.terminating) return;
    for (const g of this.generic) if (g.matches(p)) g.account(labels, d);
    if (this.byPin.size === 0) return;
    for (const k in p.labels) {
      const set = this.byPin.get(lk(k, p.labels[k] ?? ""));
      if (set) for (const g of set) if (g.matches(p)) g.account(labels, d);
    }
  }

  /**
   * The group for (namespace, selector, topologyKey), kept current from now on. At most
   * MAX_SPREAD_GROUPS stay registered; the least recently used one goes first (a group object
   * held past its eviction stops changing).
   */
  group(namespace: string, selector: LabelSelector, topologyKey: string): SpreadGroup {
    const sig = spreadSignature(namespace, selector, topologyKey);
    let g = this.groups.get(sig);
    if (!g) {
      if (this.groups.size >= MAX_SPREAD_GROUPS) this.evict();
      g = new Group(namespace, selector, topologyKey, sig, pinnedLabel(selector));
      for (const ref of this.pods.candidates(namespace, selector)) if (g.matches(ref.pod)) g.account(ref.labels, 1);
      this.groups.set(sig, g);
      if (g.pin === undefined) this.generic.add(g);
      else {
        let set = this.byPin.get(g.pin);
        if (!set) { set = new Set(); this.byPin.set(g.pin, set); }
        set.add(g);
      }
    }
    g.lastUsed = ++this.useTick;
    return g;
  }

  private evict(): void {
    let victim: Group | undefined;
    for (const g of this.groups.values()) if (!victim || g.lastUsed < victim.lastUsed) victim = g;
    if (!victim) return;
    this.groups.delete(victim.sig);
    if (victim.pin === undefined) this.generic.delete(victim);
    else {
      const set = this.byPin.get(victim.pin);
      set?.delete(victim);
      if (set?.size === 0) this.byPin.delete(victim.pin);
    }
  }
}
