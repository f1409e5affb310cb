import { describe, expect, it } from "vitest";
import { parseLabelSelector } from "../../../api/selectors/labels.ts";
import { makeNode, makePod, type PodSpecLite } from "../../testing.ts";
import { filterResults, fixture, scoreResults } from "../_fixture.ts";
import { ERR_CONSTRAINTS, ERR_MISSING_LABEL, NAME, newPodTopologySpread } from "./podtopologyspread.ts";

const nodes = [
  makeNode("a1", { labels: { zone: "a" } }), makeNode("a2", { labels: { zone: "a" } }),
  makeNode("b1", { labels: { zone: "b" } }), makeNode("c1", { labels: { zone: "c" }, taints: [{ key: "x", effect: "NoSchedule" }] }),
  makeNode("nozone"),
];
const c = (extra: Record<string, unknown> = {}): PodSpecLite => ({
  labels: { app: "s" },
  spec: { topologySpreadConstraints: [{ maxSkew: 1, topologyKey: "zone", whenUnsatisfiable: "DoNotSchedule", labelSelector: { matchLabels: { app: "s" } }, ...extra }] },
});
const on = (node: string, n: number, labels: Record<string, string> = { app: "s" }): Parameters<typeof makePod>[] =>
  Array.from({ length: n }, (_, i) => [`${node}-${i}`, { nodeName: node, labels }]);

describe(`${NAME} filter`, () => {
  const cases: { name: string; existing: Parameters<typeof makePod>[]; pod: PodSpecLite; want: Record<string, string> }[] = [
    { name: "skew within maxSkew everywhere", existing: [], pod: c(), want: { a1: "", a2: "", b1: "", c1: "", nozone: ERR_MISSING_LABEL } },
    { name: "zone a is ahead", existing: [...on("a1", 1)], pod: c(), want: { a1: ERR_CONSTRAINTS, a2: ERR_CONSTRAINTS, b1: "", c1: "", nozone: ERR_MISSING_LABEL } },
    { name: "nodeTaintsPolicy Honor drops the tainted domain from the minimum", existing: [...on("a1", 1), ...on("b1", 1)], pod: c({ nodeTaintsPolicy: "Honor" }),
      want: { a1: "", a2: "", b1: "", c1: "", nozone: ERR_MISSING_LABEL } },
    { name: "default Ignore keeps the tainted domain at 0", existing: [...on("a1", 1), ...on("b1", 1)], pod: c(),
      want: { a1: ERR_CONSTRAINTS, a2: ERR_CONSTRAINTS, b1: ERR_CONSTRAINTS, c1: "", nozone: ERR_MISSING_LABEL } },
    { name: "minDomains above the domain count makes the minimum 0", existing: [...on("a1", 1), ...on("b1", 1), ...on("c1", 1)], pod: c({ minDomains: 4, maxSkew: 1 }),
      want: { a1: ERR_CONSTRAINTS, a2: ERR_CONSTRAINTS, b1: ERR_CONSTRAINTS, c1: ERR_CONSTRAINTS, nozone: ERR_MISSING_LABEL } },
    { name: "matchLabelKeys narrows the selector to the pod's value", existing: [...on("a1", 2, { app: "s", rev: "1" })],
      pod: { labels: { app: "s", rev: "2" }, spec: { topologySpreadConstraints: [{ maxSkew: 1, topologyKey: "zone", whenUnsatisfiable: "DoNotSchedule", labelSelector: { matchLabels: { app: "s" } }, matchLabelKeys: ["rev"] }] } },
      want: { a1: "", a2: "", b1: "", c1: "", nozone: ERR_MISSING_LABEL } },
    { name: "nodeAffinityPolicy Honor ignores domains the pod cannot use", existing: [...on("b1", 1)], pod: { ...c(), nodeSelector: { zone: "b" } },
      want: { a1: "", a2: "", b1: "", c1: "", nozone: ERR_MISSING_LABEL } },
  ];
  for (const t of cases) {
    it(t.name, () => {
      const f = fixture(nodes, t.existing.map(([n, s]) => makePod(n, s)));
      expect(filterResults(newPodTopologySpread(undefined, f.ctx()), f, f.info(makePod("p", t.pod)))).toEqual(t.want);
    });
  }
});

describe(`${NAME} score`, () => {
  it("ScheduleAnyway favors the emptier domain; nodes missing the key are ignored", () => {
    const f = fixture(nodes, on("a1", 2).map(([n, s]) => makePod(n, s)));
    const pod = f.info(makePod("p", c({ whenUnsatisfiable: "ScheduleAnyway" })));
    expect(scoreResults(newPodTopologySpread(undefined, f.ctx()), f, pod)).toEqual({ a1: 0, a2: 0, b1: 100, c1: 100, nozone: 0 });
  });
  it("system default constraints apply to pods selected by a service", () => {
    const f = fixture(nodes, on("a1", 3).map(([n, s]) => makePod(n, s)), { selectors: [parseLabelSelector("app=s")] });
    const s = scoreResults(newPodTopologySpread(undefined, f.ctx()), f, f.info(makePod("p", { labels: { app: "s" } })));
    expect(s).toBeDefined();
    expect((s?.["a1"] ?? 0) < (s?.["b1"] ?? 0)).toBe(true);
  });
  it("no selector, no default constraints", () => {
    const f = fixture(nodes);
    expect(scoreResults(newPodTopologySpread(undefined, f.ctx()), f, f.info(makePod("p", { labels: { app: "s" } })))).toBeUndefined();
  });
  it("List defaulting uses the configured constraints", () => {
    const f = fixture(nodes, on("b1", 2).map(([n, s]) => makePod(n, s)), { selectors: [parseLabelSelector("app=s")] });
    const p = newPodTopologySpread({ defaultingType: "List", defaultConstraints: [{ maxSkew: 1, topologyKey: "zone", whenUnsatisfiable: "DoNotSchedule" }] }, f.ctx());
    const r = filterResults(p, f, f.info(makePod("p", { labels: { app: "s" } })));
    expect(r["b1"]).toBe(ERR_CONSTRAINTS);
  });
  const bad: { args: unknown; err: string }[] = [
    { args: { defaultingType: "Sometimes" }, err: 'args.defaultingType: Unsupported value: "Sometimes": supported values: "System", "List"' },
    { args: { defaultingType: "System", defaultConstraints: [{ maxSkew: 1, topologyKey: "zone", whenUnsatisfiable: "DoNotSchedule" }] },
      err: 'args.defaultingType: Invalid value: "System": when .defaultConstraints are not empty' },
    { args: { defaultingType: "List", defaultConstraints: [{ maxSkew: 0, topologyKey: "zone", whenUnsatisfiable: "DoNotSchedule" }] },
      err: "args.defaultConstraints[0].maxSkew: Invalid value: 0: must be greater than zero" },
    { args: { defaultingType: "List", defaultConstraints: [{ maxSkew: 1, topologyKey: "zone", whenUnsatisfiable: "DoNotSchedule", labelSelector: {} }] },
      err: "args.defaultConstraints[0].labelSelector: Invalid value: {}: constraint must not define a selector, as they deduced for each pod" },
  ];
  for (const b of bad) {
    it(`invalid args: ${b.err.slice(0, 50)}`, () => {
      const errors: string[] = [];
      newPodTopologySpread(b.args, fixture([]).ctx(errors));
      expect(errors).toEqual([b.err]);
    });
  }
});
