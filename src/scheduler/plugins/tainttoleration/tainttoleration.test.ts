import { describe, expect, it } from "vitest";
import { CycleState } from "../../framework/status.ts";
import { Reason } from "../../kernel/types.ts";
import { makeNode, makePod, type PodSpecLite } from "../../testing.ts";
import { filterResults, fixture, kernelResults } from "../_fixture.ts";
import { NAME, newTaintToleration } from "./tainttoleration.ts";

const nodes = [
  makeNode("clean"),
  makeNode("gpu", { taints: [{ key: "dedicated", value: "gpu", effect: "NoSchedule" }] }),
  makeNode("exec", { taints: [{ key: "dedicated", value: "gpu", effect: "NoExecute" }] }),
  makeNode("soft", { taints: [{ key: "noisy", effect: "PreferNoSchedule" }] }),
  makeNode("soft2", { taints: [{ key: "noisy", effect: "PreferNoSchedule" }, { key: "loud", value: "y", effect: "PreferNoSchedule" }] }),
];

describe(NAME, () => {
  const cases: { name: string; tolerations: PodSpecLite["tolerations"]; fits: string[] }[] = [
    { name: "no tolerations", tolerations: [], fits: ["clean", "soft", "soft2"] },
    { name: "Equal with effect", tolerations: [{ key: "dedicated", operator: "Equal", value: "gpu", effect: "NoSchedule" }], fits: ["clean", "gpu", "soft", "soft2"] },
    { name: "Exists without effect", tolerations: [{ key: "dedicated", operator: "Exists" }], fits: ["clean", "gpu", "exec", "soft", "soft2"] },
    { name: "empty key Exists tolerates all", tolerations: [{ operator: "Exists" }], fits: ["clean", "gpu", "exec", "soft", "soft2"] },
    { name: "wrong value", tolerations: [{ key: "dedicated", value: "cpu", effect: "NoSchedule" }], fits: ["clean", "soft", "soft2"] },
  ];
  for (const c of cases) {
    it(`filter: ${c.name}`, () => {
      const f = fixture(nodes);
      const pod = f.info(makePod("p", { tolerations: c.tolerations ?? [] }));
      const p = newTaintToleration();
      const ts = filterResults(p, f, pod);
      const k = kernelResults([p], f, pod, {});
      for (const n of nodes) {
        const name = n.metadata?.name ?? "";
        const fits = c.fits.includes(name);
        expect(ts[name] === "", `${name} (TS)`).toBe(fits);
        expect(k[name]?.status, `${name} (kernel)`).toBe(fits ? 0 : Reason.UntoleratedTaint);
      }
    });
  }
  it("names the untolerated taint like kube-scheduler", () => {
    const f = fixture(nodes);
    expect(filterResults(newTaintToleration(), f, f.info(makePod("p")))["gpu"]).toBe("node(s) had untolerated taint {dedicated: gpu}");
  });
  it("scores fewer untolerated PreferNoSchedule taints higher (reverse-normalized)", () => {
    const f = fixture(nodes);
    const k = kernelResults([newTaintToleration()], f, f.info(makePod("p", { tolerations: [{ operator: "Exists", effect: "NoSchedule" }, { operator: "Exists", effect: "NoExecute" }] })), { taintToleration: 1 });
    expect([k["clean"]?.score, k["soft"]?.score, k["soft2"]?.score]).toEqual([100, 50, 0]);
  });
  it("overflowing taint bitsets are still checked (in TypeScript)", () => {
    const many = Array.from({ length: 40 }, (_, i) => makeNode(`t${i}`, { taints: [{ key: `k${i}`, effect: "NoSchedule" }] }));
    const f = fixture(many);
    expect(f.snap.overflowTaintNodes.size).toBeGreaterThan(0);
    const p = newTaintToleration();
    const pod = f.info(makePod("p", { tolerations: [{ key: "k39", operator: "Exists" }] }));
    const rejected: string[] = [];
    p.filterAll?.(new CycleState(), pod, f.snap, { reject: (i) => rejected.push(f.snap.nodes[i]?.name ?? "") });
    const k = kernelResults([p], f, pod, {});
    const fits = many.map((n) => n.metadata?.name ?? "").filter((n) => (k[n]?.status ?? 1) === 0 && !rejected.includes(n));
    expect(fits).toEqual(["t39"]);
  });
});
