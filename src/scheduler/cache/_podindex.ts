/**
 * Label indexes over the pods in a snapshot, so inter-pod affinity and topology spreading look at
 * the pods a selector can match instead of every pod in the cluster:
 *  - pods by namespace and by `key=value` label;
 *  - existing pods' required anti-affinity terms, grouped by term (`AntiGroup`: equal terms from
 *    many pods share one group holding how many of its pods sit in each topology domain), indexed
 *    by one `key=value` their selector pins (groups pinning nothing are always checked);
 *  - registered term lookups (`MatchGroup`): for a list of affinity terms, how many pods matching
 *    all of them sit in each topology domain — registered on first use by a scheduling cycle and
 *    then kept current on every add/remove, so a cycle reads the counts instead of walking every
 *    matching pod.
 * Maintained per node as the snapshot copies changed nodes (O(pods on the node × groups their
 * labels pin)).
 *
 * Invariant (tested against a from-scratch count): after any sequence of `add`/`remove`, every
 * group's counts equal what walking the indexed pods would give. Domain counts hold positive
 * entries only.
 */
import type { LabelSelector } from "../../api/selectors/labels.ts";
import type { AffinityTerm, PodInfo } from "../types.ts";
import { DomainTally, labelKey as lk, PinnedGroups, pinnedLabel } from "./_tally.ts";

export { DomainTally } from "./_tally.ts";

/**
 * `labels` are the node's labels when the ref was made: refs are rebuilt whenever the snapshot
 * replaces the node, so they are current (no node lookup per pod in the affinity passes).
 */
export interface PodRef { readonly pod: PodInfo; readonly node: string; readonly labels: Readonly<Record<string, string>> }

/** Existing pods' required anti-affinity terms equal to `term`: where those pods are. */
export interface AntiGroup {
  readonly term: AffinityTerm;
  /** Value of `term.topologyKey` → pods carrying the term on nodes with that value. */
  readonly domains: DomainTally;
}

/** Pods matching every term of `terms`, counted per (term topology key, value). */
export interface MatchGroup {
  readonly terms: readonly AffinityTerm[];
  /** Topology key → value → count; a pod is counted once per term (twice for a key two terms share). */
  readonly counts: ReadonlyMap<string, DomainTally>;
}

const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({});

/** Equal signatures ⇔ terms that match exactly the same pods over the same topology key. */
export function termSignature(t: AffinityTerm): string {
  const ns = t.namespaces.size === 1 ? t.namespaces.values().next().value ?? "" : [...t.namespaces].sort().join(",");
  return `${t.topologyKey}\u0000${t.selector.toString()}\u0000${ns}\u0000${t.namespaceSelector === undefined ? "-" : `+${t.namespaceSelector.toString()}`}`;
}

class AntiGroupImpl implements AntiGroup {
  readonly domains = new DomainTally();
  /** Term refs in the group (the group goes when this reaches 0). */
  refs = 0;
  lastUsed = 0;
  constructor(readonly term: AffinityTerm, readonly sig: string, readonly pin: string | undefined) {}
}

class MatchGroupImpl implements MatchGroup {
  readonly counts = new Map<string, DomainTally>();
  lastUsed = 0;
  constructor(readonly terms: readonly AffinityTerm[], readonly sig: string, readonly pin: string | undefined) {}
  matches(p: PodInfo): boolean {
    for (const t of this.terms) if (!t.namespaces.has(p.namespace) || !t.selector.matches(p.labels)) return false;
    return true;
  }
  account(labels: Readonly<Record<string, string>>, d: number): void {
    for (const t of this.terms) {
      const v = labels[t.topologyKey];
      if (v === undefined) continue;
      let m = this.counts.get(t.topologyKey);
      if (!m) { m = new DomainTally(); this.counts.set(t.topologyKey, m); }
      m.bump(v, d);
    }
  }
}

/** Registered match groups kept at most (least recently used go first). */
export const MAX_MATCH_GROUPS = 64;

export class PodIndex {
  private readonly byNs = new Map<string, Map<string, PodRef>>();
  private readonly byLabel = new Map<string, Map<string, Map<string, PodRef>>>();
  private readonly antiGroups = new PinnedGroups<AntiGroupImpl>();
  private readonly matchGroups = new PinnedGroups<MatchGroupImpl>();

  /** Indexes `pods` as running on `node`, whose labels are `labels`. */
  add(node: string, pods: readonly PodInfo[], labels: Readonly<Record<string, string>> = NO_LABELS): void {
    for (const p of pods) {
      const ref: PodRef = { pod: p, node, labels };
      let ns = this.byNs.get(p.namespace);
      if (!ns) { ns = new Map(); this.byNs.set(p.namespace, ns); }
      ns.set(p.key, ref);
      let lbl = this.byLabel.get(p.namespace);
      if (!lbl) { lbl = new Map(); this.byLabel.set(p.namespace, lbl); }
      for (const k in p.labels) {
        const key = lk(k, p.labels[k] ?? "");
        let m = lbl.get(key);
        if (!m) { m = new Map(); lbl.set(key, m); }
        m.set(p.key, ref);
      }
      for (const term of p.requiredAntiAffinity) this.antiTerm(term, labels, 1);
      if (this.matchGroups.size > 0) this.accountMatches(p, labels, 1);
    }
  }

  /** Drops `pods`, which were indexed on `node`, whose labels were `labels`. */
  remove(node: string, pods: readonly PodInfo[], labels: Readonly<Record<string, string>> = NO_LABELS): void {
    for (const p of pods) {
      const ns = this.byNs.get(p.namespace);
      // The pod may already be indexed on another node (it moved and the snapshot copied the new
      // node first): only this node's entries go.
      if (ns?.get(p.key)?.node === node) {
        ns.delete(p.key);
        if (ns.size === 0) this.byNs.delete(p.namespace);
      }
      const lbl = this.byLabel.get(p.namespace);
      if (lbl) {
        for (const k in p.labels) {
          const key = lk(k, p.labels[k] ?? "");
          const m = lbl.get(key);
          if (m?.get(p.key)?.node === node) m.delete(p.key);
          if (m?.size === 0) lbl.delete(key);
        }
        if (lbl.size === 0) this.byLabel.delete(p.namespace);
      }
      for (const term of p.requiredAntiAffinity) this.antiTerm(term, labels, -1);
      if (this.matchGroups.size > 0) this.accountMatches(p, labels, -1);
    }
  }

  private antiTerm(term: AffinityTerm, labels: Readonly<Record<string, string>>, d: number): void {
    const sig = termSignature(term);
    let g = this.antiGroups.get(sig);
    if (!g) {
      if (d < 0) return;
      g = new AntiGroupImpl(term, sig, pinnedLabel(term.selector));
      this.antiGroups.add(g);
    }
    g.refs += d;
    const v = labels[term.topologyKey];
    if (v !== undefined) g.domains.bump(v, d);
    if (g.refs <= 0) this.antiGroups.delete(g);
  }

  private accountMatches(p: PodInfo, labels: Readonly<Record<string, string>>, d: number): void {
    this.matchGroups.forLabels(p.labels, (g) => { if (g.matches(p)) g.account(labels, d); });
  }

  namespaces(): IterableIterator<string> { return this.byNs.keys(); }

  /**
   * Pods in `namespace` that may match `sel` (a superset: callers still check the selector):
   * the smallest bucket among the labels the selector pins, else the whole namespace.
   */
  candidates(namespace: string, sel: LabelSelector): Iterable<PodRef> {
    if (sel.nothing) return [];
    const lbl = this.byLabel.get(namespace);
    let best: Map<string, PodRef> | undefined;
    let pinned = false;
    for (const r of sel.requirements) {
      const v = sel.requiresExactMatch(r.key);
      if (v === undefined) continue;
      pinned = true;
      const m = lbl?.get(lk(r.key, v));
      if (!m) return [];
      if (!best || m.size < best.size) best = m;
    }
    if (pinned) return best?.values() ?? [];
    return this.byNs.get(namespace)?.values() ?? [];
  }

  /**
   * The groups of existing required anti-affinity terms whose selector might match a pod with
   * `labels` (a superset: callers still check `termMatches(group.term, pod)`), each group once.
   */
  antiGroupsFor(labels: Readonly<Record<string, string>>): AntiGroup[] {
    const out: AntiGroup[] = [];
    this.antiGroups.forLabels(labels, (g) => out.push(g));
    return out;
  }

  /**
   * Counts of the pods matching all of `terms`, per topology domain, kept current from now on.
   * Undefined for terms whose namespaces come from a namespaceSelector (namespace labels can
   * change without any pod changing): callers count those by walking `candidates`.
   * At most MAX_MATCH_GROUPS stay registered; the least recently used one goes first.
   */
  matchGroup(terms: readonly AffinityTerm[]): MatchGroup | undefined {
    if (terms.length === 0) return undefined;
    for (const t of terms) if (t.namespaceSelector !== undefined) return undefined;
    const sig = terms.length === 1 ? termSignature(terms[0]!) : terms.map(termSignature).join("\u0001");
    let g = this.matchGroups.get(sig);
    if (!g) {
      if (this.matchGroups.size >= MAX_MATCH_GROUPS) this.matchGroups.evictOldest();
      const first = terms[0]!;
      g = new MatchGroupImpl(terms, sig, pinnedLabel(first.selector));
      for (const ns of first.namespaces) {
        for (const ref of this.candidates(ns, first.selector)) if (g.matches(ref.pod)) g.account(ref.labels, 1);
      }
      this.matchGroups.add(g);
    }
    this.matchGroups.touch(g);
    return g;
  }
}
