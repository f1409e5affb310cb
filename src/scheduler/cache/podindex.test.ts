import { describe, expect, it } from "vitest";
import { rng } from "../kernel/_testing.ts";
import type { PodAffinityTerm } from "../../api/generated/core_v1.ts";
import { makePod } from "../testing.ts";
import { newPodInfo, type AffinityTerm, type PodInfo } from "../types.ts";
import { DomainTally, MAX_MATCH_GROUPS, PodIndex, termSignature } from "./_podindex.ts";


const COLORS = ["green", "blue", "red"];
const NAMESPACES = ["a", "b"];
const KEYS = ["kubernetes.io/hostname", "zone"];

function termSpec(r: () => number): PodAffinityTerm {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const t: PodAffinityTerm = { topologyKey: pick(KEYS), labelSelector: r() < 0.8 ? { matchLabels: { color: pick(COLORS) } } : { matchExpressions: [{ key: "color", operator: "Exists" }] } };
  if (r() < 0.3) t.namespaces = ["a", "b"];
  return t;
}

function randomPod(r: () => number, i: number): PodInfo {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const anti = r() < 0.6 ? [termSpec(r)] : [];
  if (r() < 0.2) anti.push(termSpec(r));
  return newPodInfo(makePod(`p-${i}`, {
    namespace: pick(NAMESPACES), labels: r() < 0.9 ? { color: pick(COLORS) } : {},
    spec: anti.length > 0 ? { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: anti } } } : {},
  }), []);
}

interface Placed { readonly pod: PodInfo; readonly labels: Readonly<Record<string, string>> }

/** What a walk over every placed pod gives for existing anti-affinity groups: signature → value → count. */
function antiFromScratch(placed: Iterable<Placed>): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  for (const { pod, labels } of placed) {
    for (const t of pod.requiredAntiAffinity) {
      const v = labels[t.topologyKey];
      if (v === undefined) continue;
      const sig = termSignature(t);
      let m = out.get(sig);
      if (!m) { m = new Map(); out.set(sig, m); }
      m.set(v, (m.get(v) ?? 0) + 1);
    }
  }
  return out;
}

function matchFromScratch(placed: Iterable<Placed>, terms: readonly AffinityTerm[]): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  for (const { pod, labels } of placed) {
    if (!terms.every((t) => t.namespaces.has(pod.namespace) && t.selector.matches(pod.labels))) continue;
    for (const t of terms) {
      const v = labels[t.topologyKey];
      if (v === undefined) continue;
      let m = out.get(t.topologyKey);
      if (!m) { m = new Map(); out.set(t.topologyKey, m); }
      m.set(v, (m.get(v) ?? 0) + 1);
    }
  }
  return out;
}

const plain = (m: ReadonlyMap<string, ReadonlyMap<string, number> | DomainTally>): Record<string, Record<string, number>> =>
  Object.fromEntries([...m].map(([k, inner]) => [k, inner instanceof DomainTally ? inner.counts : inner] as const).filter(([, inner]) => inner.size > 0).map(([k, inner]) => [k, Object.fromEntries([...inner].sort())]));

describe("PodIndex incremental counts", () => {
  it("equal a from-scratch count after random adds, removes, moves and node relabels", () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const r = rng(seed);
      const idx = new PodIndex();
      const nodeLabels = new Map<string, Record<string, string>>();
      for (let n = 0; n < 12; n++) nodeLabels.set(`n${n}`, { "kubernetes.io/hostname": `n${n}`, ...(n % 5 === 4 ? {} : { zone: `z${n % 3}` }) });
      const onNode = new Map<string, PodInfo[]>([...nodeLabels.keys()].map((n) => [n, []]));
      const placed = function* (): Iterable<Placed> { for (const [n, pods] of onNode) for (const pod of pods) yield { pod, labels: nodeLabels.get(n)! }; };
      // Lookups registered up front and some registered midway (their start is a from-scratch walk).
      const queries: AffinityTerm[][] = [];
      for (let q = 0; q < 6; q++) queries.push(randomPod(r, 10_000 + q).requiredAntiAffinity.slice(0, 1));
      for (const q of queries.slice(0, 3)) if (q.length > 0) idx.matchGroup(q);
      let next = 0;
      for (let step = 0; step < 3000; step++) {
        const nodes = [...onNode.keys()];
        const node = nodes[Math.floor(r() * nodes.length)]!;
        const pods = onNode.get(node)!;
        const x = r();
        if (x < 0.5 || pods.length === 0) {
          const p = randomPod(r, next++);
          pods.push(p);
          idx.add(node, [p], nodeLabels.get(node));
        } else if (x < 0.8) {
          const p = pods.splice(Math.floor(r() * pods.length), 1)[0]!;
          idx.remove(node, [p], nodeLabels.get(node));
        } else if (x < 0.93) {
          // the pod moves to another node, added there before it is removed here (as a snapshot update may do)
          const p = pods.splice(Math.floor(r() * pods.length), 1)[0]!;
          const others = nodes.filter((n) => n !== node);
          const to = others[Math.floor(r() * others.length)]!;
          onNode.get(to)!.push(p);
          idx.add(to, [p], nodeLabels.get(to));
          idx.remove(node, [p], nodeLabels.get(node));
        } else {
          // relabel the node: the snapshot removes its pods with the old labels and adds them with the new
          const old = nodeLabels.get(node)!;
          const relabelled = { ...old, zone: `z${Math.floor(r() * 3)}` };
          idx.remove(node, pods, old);
          nodeLabels.set(node, relabelled);
          idx.add(node, pods, relabelled);
        }
        if (step === 1500) for (const q of queries.slice(3)) if (q.length > 0) idx.matchGroup(q);
        if (step % 100 !== 99) continue;
        const want = antiFromScratch(placed());
        const got = new Map<string, Map<string, number>>();
        for (const g of idx.antiGroupsFor({ color: "green" }).concat(idx.antiGroupsFor({ color: "blue" }), idx.antiGroupsFor({ color: "red" }))) {
          got.set(termSignature(g.term), new Map(g.domains.counts));
        }
        for (const [sig, m] of want) expect(Object.fromEntries([...(got.get(sig) ?? new Map<string, number>())].sort()), `seed ${seed} step ${step} ${sig}`).toEqual(Object.fromEntries([...m].sort()));
        for (const q of queries) {
          if (q.length === 0) continue;
          const g = idx.matchGroup(q)!;
          expect(plain(g.counts), `seed ${seed} step ${step}`).toEqual(plain(matchFromScratch(placed(), q)));
        }
      }
    }
  });

  it("groups equal terms of many pods into one group and drops it with its last pod", () => {
    const idx = new PodIndex();
    const anti = { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: "kubernetes.io/hostname", labelSelector: { matchLabels: { color: "green" } } }] } } };
    const pods = [0, 1, 2].map((i) => newPodInfo(makePod(`g${i}`, { labels: { color: "green" }, spec: anti }), []));
    pods.forEach((p, i) => idx.add(`n${i}`, [p], { "kubernetes.io/hostname": `n${i}` }));
    const groups = idx.antiGroupsFor({ color: "green" });
    expect(groups).toHaveLength(1);
    expect(Object.fromEntries(groups[0]!.domains.counts)).toEqual({ n0: 1, n1: 1, n2: 1 });
    expect(idx.antiGroupsFor({ color: "blue" })).toHaveLength(0);
    pods.forEach((p, i) => idx.remove(`n${i}`, [p], { "kubernetes.io/hostname": `n${i}` }));
    expect(idx.antiGroupsFor({ color: "green" })).toHaveLength(0);
  });

  it("does not register lookups for terms with a namespaceSelector, and keeps at most MAX_MATCH_GROUPS", () => {
    const idx = new PodIndex();
    const withNsSel = newPodInfo(makePod("s", { spec: { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: "zone", labelSelector: { matchLabels: { a: "b" } }, namespaceSelector: {} }] } } } }), []);
    expect(idx.matchGroup(withNsSel.requiredAntiAffinity)).toBeUndefined();
    expect(idx.matchGroup([])).toBeUndefined();
    const p = newPodInfo(makePod("x", { labels: { color: "c0" } }), []);
    idx.add("n0", [p], { zone: "z" });
    const termFor = (i: number): AffinityTerm[] => newPodInfo(makePod(`t${i}`, { spec: { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: "zone", labelSelector: { matchLabels: { color: `c${i}` } } }] } } } }), []).requiredAntiAffinity.slice();
    const first = idx.matchGroup(termFor(0))!;
    expect(Object.fromEntries(first.counts.get("zone")!.counts)).toEqual({ z: 1 });
    for (let i = 1; i <= MAX_MATCH_GROUPS; i++) idx.matchGroup(termFor(i));
    // the first lookup was the least recently used: evicted, so a new pod no longer updates it …
    idx.add("n1", [newPodInfo(makePod("y", { labels: { color: "c0" } }), [])], { zone: "z" });
    expect(Object.fromEntries(first.counts.get("zone")!.counts)).toEqual({ z: 1 });
    // … and asking again registers it afresh from the index
    expect(Object.fromEntries(idx.matchGroup(termFor(0))!.counts.get("zone")!.counts)).toEqual({ z: 2 });
  });
});
