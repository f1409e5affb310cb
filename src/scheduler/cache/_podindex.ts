/**
 * Label indexes over the pods in a snapshot, so inter-pod affinity and topology spreading look at
 * the pods a selector can match instead of every pod in the cluster:
 *  - pods by namespace and by `key=value` label;
 *  - existing pods' required anti-affinity terms by one `key=value` their selector pins (terms
 *    pinning nothing are kept in a generic list and always checked).
 * Maintained per node as the snapshot copies changed nodes (O(pods on the node)).
 */
import type { LabelSelector } from "../../api/selectors/labels.ts";
import type { AffinityTerm, PodInfo } from "../types.ts";

/**
 * `labels` are the node's labels when the ref was made: refs are rebuilt whenever the snapshot
 * replaces the node, so they are current (no node lookup per pod in the affinity passes).
 */
export interface PodRef { readonly pod: PodInfo; readonly node: string; readonly labels: Readonly<Record<string, string>> }
export interface TermRef { readonly pod: PodInfo; readonly term: AffinityTerm; readonly node: string; readonly labels: Readonly<Record<string, string>> }

const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({});

const lk = (k: string, v: string): string => `${k}=${v}`;

function pinnedLabel(sel: LabelSelector): string | undefined {
  for (const r of sel.requirements) {
    const v = sel.requiresExactMatch(r.key);
    if (v !== undefined) return lk(r.key, v);
  }
  return undefined;
}

export class PodIndex {
  private readonly byNs = new Map<string, Map<string, PodRef>>();
  private readonly byLabel = new Map<string, Map<string, Map<string, PodRef>>>();
  private readonly antiByLabel = new Map<string, Map<string, TermRef>>();
  private readonly antiGeneric = new Map<string, TermRef>();

  add(node: string, pods: readonly PodInfo[], labels: Readonly<Record<string, string>> = NO_LABELS): void {
    for (const p of pods) {
      const ref: PodRef = { pod: p, node, labels };
      let ns = this.byNs.get(p.namespace);
      if (!ns) { ns = new Map(); this.byNs.set(p.namespace, ns); }
      ns.set(p.key, ref);
      let lbl = this.byLabel.get(p.namespace);
      if (!lbl) { lbl = new Map(); this.byLabel.set(p.namespace, lbl); }
      for (const [k, v] of Object.entries(p.labels)) {
        const key = lk(k, v);
        let m = lbl.get(key);
        if (!m) { m = new Map(); lbl.set(key, m); }
        m.set(p.key, ref);
      }
      p.requiredAntiAffinity.forEach((term, i) => {
        const id = `${p.key}#${i}`;
        const pin = pinnedLabel(term.selector);
        const t: TermRef = { pod: p, term, node, labels };
        if (pin === undefined) { this.antiGeneric.set(id, t); return; }
        let m = this.antiByLabel.get(pin);
        if (!m) { m = new Map(); this.antiByLabel.set(pin, m); }
        m.set(id, t);
      });
    }
  }

  remove(pods: readonly PodInfo[]): void {
    for (const p of pods) {
      const ns = this.byNs.get(p.namespace);
      ns?.delete(p.key);
      if (ns?.size === 0) this.byNs.delete(p.namespace);
      const lbl = this.byLabel.get(p.namespace);
      if (lbl) {
        for (const [k, v] of Object.entries(p.labels)) {
          const key = lk(k, v);
          const m = lbl.get(key);
          m?.delete(p.key);
          if (m?.size === 0) lbl.delete(key);
        }
        if (lbl.size === 0) this.byLabel.delete(p.namespace);
      }
      p.requiredAntiAffinity.forEach((term, i) => {
        const id = `${p.key}#${i}`;
        const pin = pinnedLabel(term.selector);
        if (pin === undefined) { this.antiGeneric.delete(id); return; }
        const m = this.antiByLabel.get(pin);
        m?.delete(id);
        if (m?.size === 0) this.antiByLabel.delete(pin);
      });
    }
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
   * The buckets holding every existing required anti-affinity term whose selector might match a
   * pod with `labels` (iterate each map's values; a superset: callers still check the term).
   */
  antiAffinityBuckets(labels: Readonly<Record<string, string>>): ReadonlyMap<string, TermRef>[] {
    const out: ReadonlyMap<string, TermRef>[] = [];
    if (this.antiGeneric.size > 0) out.push(this.antiGeneric);
    if (this.antiByLabel.size === 0) return out;
    for (const k in labels) {
      const m = this.antiByLabel.get(lk(k, labels[k] ?? ""));
      if (m) out.push(m);
    }
    return out;
  }

  /** Existing pods' required anti-affinity terms whose selector might match a pod with `labels`. */
  *antiAffinityTermsFor(labels: Readonly<Record<string, string>>): Iterable<TermRef> {
    yield* this.antiGeneric.values();
    for (const [k, v] of Object.entries(labels)) {
      const m = this.antiByLabel.get(lk(k, v));
      if (m) yield* m.values();
    }
  }
}
