import { describe, expect, it } from "vitest";
import { Reason } from "../../kernel/types.ts";
import { makeNode, makePod } from "../../testing.ts";
import { filterResults, fixture, kernelResults } from "../_fixture.ts";
import { NAME, newNodeAffinity } from "./nodeaffinity.ts";

const nodes = [
  makeNode("a", { labels: { zone: "a", gen: "3" } }),
  makeNode("b", { labels: { zone: "b", gen: "7" } }),
  makeNode("c", { labels: { zone: "c" } }),
];
const req = (exprs: unknown[]): Record<string, unknown> => ({
  affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: exprs }] } } },
});

describe(NAME, () => {
  const cases: { name: string; pod: Parameters<typeof makePod>[1]; fits: string[] }[] = [
    { name: "no constraints", pod: {}, fits: ["a", "b", "c"] },
    { name: "nodeSelector", pod: { nodeSelector: { zone: "b" } }, fits: ["b"] },
    { name: "In", pod: { spec: req([{ key: "zone", operator: "In", values: ["a", "c"] }]) }, fits: ["a", "c"] },
    { name: "NotIn matches missing label", pod: { spec: req([{ key: "gen", operator: "NotIn", values: ["3"] }]) }, fits: ["b", "c"] },
    { name: "Exists", pod: { spec: req([{ key: "gen", operator: "Exists" }]) }, fits: ["a", "b"] },
    { name: "DoesNotExist", pod: { spec: req([{ key: "gen", operator: "DoesNotExist" }]) }, fits: ["c"] },
    { name: "Gt", pod: { spec: req([{ key: "gen", operator: "Gt", values: ["5"] }]) }, fits: ["b"] },
    { name: "Lt", pod: { spec: req([{ key: "gen", operator: "Lt", values: ["5"] }]) }, fits: ["a"] },
    { name: "Gt with a non-integer is no match", pod: { spec: req([{ key: "gen", operator: "Gt", values: ["x"] }]) }, fits: [] },
    { name: "selector AND affinity", pod: { nodeSelector: { zone: "a" }, spec: req([{ key: "gen", operator: "Exists" }]) }, fits: ["a"] },
    { name: "matchFields metadata.name", pod: { spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: "metadata.name", operator: "In", values: ["c"] }] }] } } } } }, fits: ["c"] },
    { name: "empty term matches nothing", pod: { spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{}] } } } } }, fits: [] },
  ];
  for (const c of cases) {
    it(`filter: ${c.name}`, () => {
      const f = fixture(nodes);
      const p = newNodeAffinity(undefined, f.ctx());
      const pod = f.info(makePod("p", c.pod));
      const ts = filterResults(p, f, pod);
      const k = kernelResults([p], f, pod, {});
      for (const name of ["a", "b", "c"]) {
        const fits = c.fits.includes(name);
        expect(ts[name], name).toBe(fits ? "" : "node(s) didn't match Pod's node affinity/selector");
        expect(k[name]?.status, name).toBe(fits ? 0 : Reason.NodeAffinity);
      }
    });
  }
  it("preferred terms: weights summed per node, normalized to the max", () => {
    const f = fixture(nodes);
    const p = newNodeAffinity(undefined, f.ctx());
    const pod = f.info(makePod("p", { spec: { affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [
      { weight: 20, preference: { matchExpressions: [{ key: "zone", operator: "In", values: ["a"] }] } },
      { weight: 60, preference: { matchExpressions: [{ key: "gen", operator: "Exists" }] } },
    ] } } } }));
    const k = kernelResults([p], f, pod, { nodeAffinity: 1 });
    expect([k["a"]?.score, k["b"]?.score, k["c"]?.score]).toEqual([100, 75, 0]);
  });
  it("addedAffinity from args applies to every pod", () => {
    const f = fixture(nodes);
    const p = newNodeAffinity({ addedAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "zone", operator: "In", values: ["b"] }] }] } } }, f.ctx());
    const ts = filterResults(p, f, f.info(makePod("p")));
    expect(Object.entries(ts).filter(([, r]) => r === "").map(([n]) => n)).toEqual(["b"]);
  });
  it("rejects a non-object addedAffinity naming the field", () => {
    const f = fixture(nodes);
    const errors: string[] = [];
    newNodeAffinity({ addedAffinity: 5 }, f.ctx(errors));
    expect(errors).toEqual(["args.addedAffinity: Invalid value: 5: must be a NodeAffinity object"]);
  });
});
