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
import { DomainTally, PinnedGroups, pinnedLabel } from "./_tally.ts";

/** A spread group's counts (the shared tally type; `changes` lets consumers cache derived minima). */
export type SpreadTally = DomainTally;

/** One spread group: the non-terminating pods of `namespace` matching `selector`, per value of `topologyKey`. */
export interface SpreadGroup {
  readonly namespace: string;
  readonly selector: LabelSelector;
  readonly topologyKey: string;
  readonly domains: SpreadTally;
}

class Group implements SpreadGroup {
  readonly domains = new DomainTally();
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


/** Equal signatures ⇔ the same group. */
export function spreadSignature(namespace: string, selector: LabelSelector, topologyKey: string): string {
  return `${namespace}\u0000${selector.nothing ? "!" : ""}${selector.toString()}\u0000${topologyKey}`;
}

export class SpreadIndex {
  private readonly groups = new PinnedGroups<Group>();

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
    this.groups.forLabels(p.labels, (g) => { if (g.matches(p)) g.account(labels, d); });
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
      if (this.groups.size >= MAX_SPREAD_GROUPS) this.groups.evictOldest();
      g = new Group(namespace, selector, topologyKey, sig, pinnedLabel(selector));
      for (const ref of this.pods.candidates(namespace, selector)) if (g.matches(ref.pod)) g.account(ref.labels, 1);
      this.groups.add(g);
    }
    this.groups.touch(g);
    return g;
  }
}
