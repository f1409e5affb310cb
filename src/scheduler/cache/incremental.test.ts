/**
 * The snapshot's incremental per-term / per-constraint domain counts (`PodIndex` anti-affinity
 * groups and match groups, `SpreadIndex` spread groups) against a from-scratch recount, driven through the real
 * `SchedulerCache` → `Snapshot` path by seeded random sequences of informer adds, updates (labels,
 * terminating) and deletes, assumes, confirmations, forgets, node adds, relabels and removals.
 */
import { describe, expect, it } from "vitest";
import { rng } from "../kernel/_testing.ts";
import type { Node, Pod, PodAffinityTerm } from "../../api/generated/core_v1.ts";
import { labelSelectorFromObject, type LabelSelector } from "../../api/selectors/labels.ts";
import { FakeClock } from "../clock.ts";
import { createTwinKernel } from "../kernel/mod.ts";
import { makeNode, makePod } from "../testing.ts";
import { newPodInfo, type AffinityTerm, podKey } from "../types.ts";
import { SchedulerCache } from "./cache.ts";
import { termSignature } from "./_podindex.ts";
import { MAX_SPREAD_GROUPS } from "./_spreadindex.ts";
import { Snapshot } from "./snapshot.ts";


const COLORS = ["green", "blue", "red"];
const NAMESPACES = ["a", "b"];
const KEYS = ["kubernetes.io/hostname", "zone"];
const ZONES = ["z0", "z1", "z2"];

interface ModelPod { pod: Pod; node: string; assumed: boolean }

function counts(m: Map<string, Map<string, number>>, k: string, v: string, d: number): void {
  let inner = m.get(k);
  if (!inner) { inner = new Map(); m.set(k, inner); }
  const n = (inner.get(v) ?? 0) + d;
  if (n === 0) inner.delete(v); else inner.set(v, n);
}
const sorted = (m: ReadonlyMap<string, number> | undefined): Record<string, number> => Object.fromEntries([...(m ?? new Map<string, number>())].sort());

describe("incremental domain counts through SchedulerCache → Snapshot", () => {
  it("equal a from-scratch recount after random adds/removes/assumes/forgets/node label changes", () => {
    for (const seed of [11, 12, 13, 14]) {
      const r = rng(seed);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
      const clock = new FakeClock(0);
      const cache = new SchedulerCache({ clock, assumedPodTtlMs: 0 });
      const snap = new Snapshot(createTwinKernel(), cache.namespaceLabels);
      // The model: what a from-scratch recount walks.
      const nodes = new Map<string, Node>();
      const pods = new Map<string, ModelPod>();
      let nextNode = 0, nextPod = 0;
      const nodeSpec = (name: string): Node => {
        const labels: Record<string, string> = r() < 0.85 ? { zone: pick(ZONES) } : {};
        return makeNode(name, { labels });
      };
      const termSpec = (): PodAffinityTerm => {
        const t: PodAffinityTerm = { topologyKey: pick(KEYS), labelSelector: r() < 0.8 ? { matchLabels: { color: pick(COLORS) } } : { matchExpressions: [{ key: "color", operator: "Exists" }] } };
        if (r() < 0.3) t.namespaces = ["a", "b"];
        return t;
      };
      const podSpec = (name: string, ns: string, nodeName: string | undefined, terminating = false): Pod => makePod(name, {
        namespace: ns, labels: r() < 0.9 ? { color: pick(COLORS) } : {}, terminating,
        ...(nodeName ? { nodeName } : {}),
        spec: r() < 0.5 ? { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: r() < 0.2 ? [termSpec(), termSpec()] : [termSpec()] } } } : {},
      });
      const addNode = (): void => { const n = nodeSpec(`n${nextNode++}`); nodes.set(n.metadata!.name!, n); cache.addNode(n); };
      for (let i = 0; i < 8; i++) addNode();

      // Lookups: some registered before any pod, some midway (their start is a walk of the index).
      const matchQueries: AffinityTerm[][] = [];
      const spreadQueries: { ns: string; sel: LabelSelector; key: string }[] = [];
      for (let q = 0; q < 6; q++) {
        const t = newPodInfo(makePod(`q${q}`, { namespace: pick(NAMESPACES), spec: { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [termSpec()] } } } }), []).requiredAntiAffinity;
        matchQueries.push(t.slice());
        const sel = r() < 0.8 ? { matchLabels: { color: pick(COLORS) } } : { matchExpressions: [{ key: "color", operator: "In", values: ["green", "red"] }] };
        spreadQueries.push({ ns: pick(NAMESPACES), sel: labelSelectorFromObject(sel), key: pick(KEYS) });
      }
      const register = (from: number, to: number): void => {
        for (const q of matchQueries.slice(from, to)) snap.pods.matchGroup(q);
        for (const q of spreadQueries.slice(from, to)) snap.spread.group(q.ns, q.sel, q.key);
      };
      cache.updateSnapshot(snap);
      register(0, 3);

      for (let step = 0; step < 3000; step++) {
        const x = r();
        const nodeNames = [...nodes.keys()];
        const assigned = [...pods.values()];
        if (x < 0.25) {
          // informer: a pod bound elsewhere (or by us earlier) appears
          const node = pick(nodeNames);
          const p = podSpec(`p${nextPod++}`, pick(NAMESPACES), node);
          pods.set(podKey(p), { pod: p, node, assumed: false });
          cache.addPod(p);
        } else if (x < 0.4) {
          // the scheduler assumes a pod
          const node = pick(nodeNames);
          const p = podSpec(`p${nextPod++}`, pick(NAMESPACES), undefined);
          cache.assumePod(cache.podInfo(p), node);
          pods.set(podKey(p), { pod: p, node, assumed: true });
        } else if (x < 0.5 && assigned.some((m) => m.assumed)) {
          const m = pick(assigned.filter((a) => a.assumed));
          if (r() < 0.5) {
            // binding failed: forget
            cache.forgetPod(podKey(m.pod));
            pods.delete(podKey(m.pod));
          } else {
            // the informer confirms the binding
            const bound: Pod = { ...m.pod, spec: { ...m.pod.spec!, nodeName: m.node } };
            cache.finishBinding(podKey(m.pod));
            cache.addPod(bound);
            pods.set(podKey(bound), { pod: bound, node: m.node, assumed: false });
          }
        } else if (x < 0.62 && assigned.some((m) => !m.assumed)) {
          // label change or deletion started (terminating)
          const m = pick(assigned.filter((a) => !a.assumed));
          const upd: Pod = r() < 0.7
            ? { ...m.pod, metadata: { ...m.pod.metadata, labels: r() < 0.9 ? { color: pick(COLORS) } : {} } }
            : { ...m.pod, metadata: { ...m.pod.metadata, deletionTimestamp: "2026-01-01T00:00:01Z" } };
          cache.updatePod(m.pod, upd);
          pods.set(podKey(upd), { pod: upd, node: m.node, assumed: false });
        } else if (x < 0.78 && assigned.some((m) => !m.assumed)) {
          const m = pick(assigned.filter((a) => !a.assumed));
          cache.removePod(m.pod);
          pods.delete(podKey(m.pod));
        } else if (x < 0.9) {
          // node relabel: zone moves, appears or goes
          const name = pick(nodeNames);
          const n = nodeSpec(name);
          cache.updateNode(nodes.get(name)!, n);
          nodes.set(name, n);
        } else if (x < 0.95 || nodes.size < 4) {
          addNode();
        } else {
          // node deleted; its pods stay reported on it (they count nowhere until it returns)
          const name = pick(nodeNames);
          cache.removeNode(nodes.get(name)!);
          nodes.delete(name);
        }
        if (r() < 0.3) cache.updateSnapshot(snap);
        if (step === 1500) { cache.updateSnapshot(snap); register(3, 6); }
        if (step % 50 !== 49) continue;
        cache.updateSnapshot(snap);

        // From scratch over the model.
        const placed = [...pods.values()].filter((m) => nodes.has(m.node)).map((m) => ({ info: newPodInfo(m.pod, []), labels: nodes.get(m.node)!.metadata!.labels ?? {} }));
        const anti = new Map<string, Map<string, number>>();
        for (const { info, labels } of placed) {
          for (const t of info.requiredAntiAffinity) { const v = labels[t.topologyKey]; if (v !== undefined) counts(anti, termSignature(t), v, 1); }
        }
        const got = new Map<string, ReadonlyMap<string, number>>();
        for (const c of [...COLORS, "none"]) for (const g of snap.pods.antiGroupsFor(c === "none" ? {} : { color: c })) got.set(termSignature(g.term), g.domains.counts);
        for (const [sig, m] of anti) expect(sorted(got.get(sig)), `seed ${seed} step ${step} anti ${sig}`).toEqual(sorted(m));
        for (const [sig, m] of got) if (m.size > 0) expect(anti.has(sig), `seed ${seed} step ${step} stale anti group ${sig}`).toBe(true);
        const registered = step >= 1500 ? 6 : 3;
        for (const q of matchQueries.slice(0, registered)) {
          const want = new Map<string, Map<string, number>>();
          for (const { info, labels } of placed) {
            if (!q.every((t) => t.namespaces.has(info.namespace) && t.selector.matches(info.labels))) continue;
            for (const t of q) { const v = labels[t.topologyKey]; if (v !== undefined) counts(want, t.topologyKey, v, 1); }
          }
          const g = snap.pods.matchGroup(q)!;
          for (const k of KEYS) expect(sorted(g.counts.get(k)?.counts), `seed ${seed} step ${step} match ${k}`).toEqual(sorted(want.get(k)));
        }
        for (const q of spreadQueries.slice(0, registered)) {
          const want = new Map<string, number>();
          for (const { info, labels } of placed) {
            if (info.namespace !== q.ns || info.terminating || !q.sel.matches(info.labels)) continue;
            const v = labels[q.key];
            if (v !== undefined) want.set(v, (want.get(v) ?? 0) + 1);
          }
          expect(sorted(snap.spread.group(q.ns, q.sel, q.key).domains.counts), `seed ${seed} step ${step} spread ${q.ns} ${q.sel.toString()} ${q.key}`).toEqual(sorted(want));
        }
        // nodesWithLabel / domainSlots agree with the snapshot's nodes
        for (const k of KEYS) {
          expect(snap.nodesWithLabel(k)).toBe(snap.nodes.filter((n) => n.labels[k] !== undefined).length);
          for (const [v, slots] of snap.domainSlots(k)) for (const i of slots) expect(snap.nodes[i]?.labels[k]).toBe(v);
        }
      }
    }
  });

  it("a spread group counts only non-terminating pods of its namespace, and drops least recently used groups", () => {
    const cache = new SchedulerCache({ clock: new FakeClock(0) });
    const snap = new Snapshot(createTwinKernel());
    cache.addNode(makeNode("n1", { labels: { zone: "z1" } }));
    cache.addNode(makeNode("n2", { labels: {} }));
    cache.addPod(makePod("a", { namespace: "a", nodeName: "n1", labels: { app: "x" } }));
    cache.addPod(makePod("b", { namespace: "a", nodeName: "n1", labels: { app: "x" }, terminating: true }));
    cache.addPod(makePod("c", { namespace: "b", nodeName: "n1", labels: { app: "x" } }));
    cache.addPod(makePod("d", { namespace: "a", nodeName: "n2", labels: { app: "x" } }));
    cache.updateSnapshot(snap);
    const sel = labelSelectorFromObject({ matchLabels: { app: "x" } });
    const g = snap.spread.group("a", sel, "zone");
    expect(sorted(g.domains.counts)).toEqual({ z1: 1 });
    expect(snap.nodesWithLabel("zone")).toBe(1);
    for (let i = 0; i < MAX_SPREAD_GROUPS; i++) snap.spread.group("a", labelSelectorFromObject({ matchLabels: { app: `y${i}` } }), "zone");
    // evicted: no longer updated …
    cache.addPod(makePod("e", { namespace: "a", nodeName: "n1", labels: { app: "x" } }));
    cache.updateSnapshot(snap);
    expect(sorted(g.domains.counts)).toEqual({ z1: 1 });
    // … and registered afresh from the index when asked again
    expect(sorted(snap.spread.group("a", sel, "zone").domains.counts)).toEqual({ z1: 2 });
  });
});
