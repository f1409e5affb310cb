import { describe, expect, it } from "vitest";
import { makeNode, makePod, type PodSpecLite } from "../../testing.ts";
import { CycleState } from "../../framework/status.ts";
import { filterResults, fixture, scoreResults } from "../_fixture.ts";
import { ERR_AFFINITY, ERR_ANTI, ERR_EXISTING_ANTI, NAME, newInterPodAffinity } from "./interpodaffinity.ts";

const nodes = [
  makeNode("a1", { labels: { zone: "a" } }), makeNode("a2", { labels: { zone: "a" } }),
  makeNode("b1", { labels: { zone: "b" } }), makeNode("nozone"),
];
const term = (app: string, key = "zone", extra: Record<string, unknown> = {}): Record<string, unknown> => ({ labelSelector: { matchLabels: { app } }, topologyKey: key, ...extra });
const affinity = (kind: "podAffinity" | "podAntiAffinity", t: Record<string, unknown>): Record<string, unknown> =>
  ({ affinity: { [kind]: { requiredDuringSchedulingIgnoredDuringExecution: [t] } } });

describe(`${NAME} filter`, () => {
  const cases: { name: string; existing: Parameters<typeof makePod>[]; pod: PodSpecLite; want: Record<string, string> }[] = [
    { name: "affinity: only the domain with a match", existing: [["w", { nodeName: "a1", labels: { app: "web" } }]],
      pod: { spec: affinity("podAffinity", term("web")) }, want: { a1: "", a2: "", b1: ERR_AFFINITY, nozone: ERR_AFFINITY } },
    { name: "affinity: first pod of a self-matching group goes anywhere with the key", existing: [],
      pod: { labels: { app: "web" }, spec: affinity("podAffinity", term("web")) }, want: { a1: "", a2: "", b1: "", nozone: ERR_AFFINITY } },
    { name: "affinity: no match and not self-matching fits nowhere", existing: [],
      pod: { spec: affinity("podAffinity", term("web")) }, want: { a1: ERR_AFFINITY, a2: ERR_AFFINITY, b1: ERR_AFFINITY, nozone: ERR_AFFINITY } },
    { name: "anti-affinity: avoid the domain", existing: [["w", { nodeName: "a1", labels: { app: "web" } }]],
      pod: { spec: affinity("podAntiAffinity", term("web")) }, want: { a1: ERR_ANTI, a2: ERR_ANTI, b1: "", nozone: "" } },
    { name: "existing pod's anti-affinity repels the incoming pod", existing: [["guard", { nodeName: "b1", labels: { app: "guard" }, spec: affinity("podAntiAffinity", term("web")) }]],
      pod: { labels: { app: "web" } }, want: { a1: "", a2: "", b1: ERR_EXISTING_ANTI, nozone: "" } },
    { name: "other namespace does not count", existing: [["w", { nodeName: "a1", namespace: "other", labels: { app: "web" } }]],
      pod: { spec: affinity("podAntiAffinity", term("web")) }, want: { a1: "", a2: "", b1: "", nozone: "" } },
    { name: "namespaces list", existing: [["w", { nodeName: "a1", namespace: "other", labels: { app: "web" } }]],
      pod: { spec: affinity("podAntiAffinity", term("web", "zone", { namespaces: ["other"] })) }, want: { a1: ERR_ANTI, a2: ERR_ANTI, b1: "", nozone: "" } },
    { name: "namespaceSelector by namespace labels", existing: [["w", { nodeName: "b1", namespace: "team", labels: { app: "web" } }]],
      pod: { spec: affinity("podAntiAffinity", term("web", "zone", { namespaceSelector: { matchLabels: { owner: "x" } } })) }, want: { a1: "", a2: "", b1: ERR_ANTI, nozone: "" } },
    { name: "empty namespaceSelector selects all namespaces", existing: [["w", { nodeName: "b1", namespace: "elsewhere", labels: { app: "web" } }]],
      pod: { spec: affinity("podAntiAffinity", term("web", "zone", { namespaceSelector: {} })) }, want: { a1: "", a2: "", b1: ERR_ANTI, nozone: "" } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const f = fixture(nodes, c.existing.map(([n, s]) => makePod(n, s)), { ns: { team: { owner: "x" } } });
      expect(filterResults(newInterPodAffinity(undefined, f.ctx()), f, f.info(makePod("p", c.pod)))).toEqual(c.want);
    });
  }
});

describe(`${NAME} score`, () => {
  it("preferred affinity and anti-affinity, normalized min..max", () => {
    const f = fixture(nodes, [makePod("w", { nodeName: "a1", labels: { app: "web" } }), makePod("d", { nodeName: "b1", labels: { app: "db" } })]);
    const pod = f.info(makePod("p", { spec: { affinity: {
      podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 10, podAffinityTerm: term("web") }] },
      podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 10, podAffinityTerm: term("db") }] },
    } } }));
    expect(scoreResults(newInterPodAffinity(undefined, f.ctx()), f, pod)).toEqual({ a1: 100, a2: 100, b1: 0, nozone: 50 });
  });
  it("existing pods' required affinity counts with hardPodAffinityWeight", () => {
    const f = fixture(nodes, [makePod("fan", { nodeName: "b1", labels: { app: "fan" }, spec: affinity("podAffinity", term("star")) })]);
    const pod = f.info(makePod("p", { labels: { app: "star" } }));
    expect(scoreResults(newInterPodAffinity({ hardPodAffinityWeight: 5 }, f.ctx()), f, pod)).toEqual({ a1: 0, a2: 0, b1: 100, nozone: 0 });
    expect(scoreResults(newInterPodAffinity({ hardPodAffinityWeight: 0 }, f.ctx()), f, pod)).toBeUndefined();
  });
  it("skips when nothing applies", () => {
    const f = fixture(nodes, [makePod("w", { nodeName: "a1" })]);
    expect(scoreResults(newInterPodAffinity(undefined, f.ctx()), f, f.info(makePod("p")))).toBeUndefined();
  });
  it("rejects hardPodAffinityWeight out of range", () => {
    const errors: string[] = [];
    newInterPodAffinity({ hardPodAffinityWeight: 101 }, fixture([]).ctx(errors));
    expect(errors).toEqual(["args.hardPodAffinityWeight: Invalid value: 101: not in valid range [0, 100]"]);
  });
});

describe(`${NAME} batched filter`, () => {
  it("rejects exactly the nodes (and with the same first reason) as the per-node filter on random clusters", () => {
    let seed = 424242;
    const rnd = (n: number): number => { seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5; return (seed >>> 0) % n; };
    const keys = ["zone", "rack", "kubernetes.io/hostname"];
    const apps = ["web", "db", "cache"];
    let rejected = 0;
    for (let c = 0; c < 40; c++) {
      const ns = Array.from({ length: 3 + rnd(10) }, (_, i) => makeNode(`n${i}`, {
        labels: { ...(rnd(4) > 0 ? { zone: `z${rnd(3)}` } : {}), ...(rnd(3) > 0 ? { rack: `r${rnd(4)}` } : {}) },
      }));
      const pick = <T>(xs: readonly T[]): T => xs[rnd(xs.length)] as T;
      const anti = (): Record<string, unknown> => ({ affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution:
        Array.from({ length: 1 + rnd(2) }, () => term(pick(apps), pick(keys))) } } });
      const existing = Array.from({ length: rnd(12) }, (_, i) => makePod(`e${i}`, {
        nodeName: pick(ns).metadata?.name ?? "n0", labels: { app: pick(apps) }, ...(rnd(3) === 0 ? { spec: anti() } : {}),
      }));
      const f = fixture(ns, existing);
      const pod = f.info(makePod("p", { labels: { app: pick(apps) }, ...(rnd(4) > 0 ? { spec: anti() } : {}) }));
      const plugin = newInterPodAffinity(undefined, f.ctx());
      const perNode = filterResults(plugin, f, pod);
      // The batched form, first rejection per node winning (as the scheduler's sink does).
      const state = new CycleState();
      plugin.preFilter(state, pod, f.snap);
      const batch: Record<string, string> = Object.fromEntries(f.snap.nodes.map((n) => [n.name, ""]));
      if (!state.skipFilter.has(NAME)) {
        plugin.filterAll?.(state, pod, f.snap, { reject: (i, st) => { const n = f.snap.nodes[i]; if (n && batch[n.name] === "") batch[n.name] = st.reasons[0] ?? ""; } });
      }
      expect(batch).toEqual(perNode);
      // The same with a sink taking whole-domain masks (the scheduler's), first rejection winning.
      const masked: Record<string, string> = Object.fromEntries(f.snap.nodes.map((n) => [n.name, ""]));
      const first = (i: number, reason: string): void => { const n = f.snap.nodes[i]; if (n && masked[n.name] === "") masked[n.name] = reason; };
      if (!state.skipFilter.has(NAME)) {
        plugin.filterAll?.(state, pod, f.snap, {
          reject: (i, st) => first(i, st.reasons[0] ?? ""),
          rejectMask: (m, st) => { for (let i = 0; i < f.snap.nodes.length; i++) if (((m[i >>> 5] ?? 0) >>> (i & 31)) & 1) first(i, st.reasons[0] ?? ""); },
        });
      }
      expect(masked).toEqual(perNode);
      rejected += Object.values(perNode).filter((v) => v !== "").length;
    }
    expect(rejected).toBeGreaterThan(20);
  });
});
