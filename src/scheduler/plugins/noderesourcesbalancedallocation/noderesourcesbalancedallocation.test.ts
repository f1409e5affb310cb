import { describe, expect, it } from "vitest";
import { makeNode, makePod } from "../../testing.ts";
import { fixture, kernelResults } from "../_fixture.ts";
import { NAME, newBalancedAllocation } from "./noderesourcesbalancedallocation.ts";

describe(NAME, () => {
  const cases = [
    { name: "equal fractions score 100", node: { cpu: "4", memory: "8Gi" }, want: 100 },
    { name: "fractions 0.25 vs 0.5 score 87", node: { cpu: "4", memory: "4Gi" }, want: 87 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const f = fixture([makeNode("n", c.node)]);
      const p = newBalancedAllocation(undefined, f.ctx());
      const k = kernelResults([p], f, f.info(makePod("p", { requests: { cpu: "1", memory: "2Gi" } })), { balancedAllocation: 1 }, { balancedResources: p.resources });
      expect(k["n"]?.score).toBe(c.want);
    });
  }
  it("a best-effort pod scores 0", () => {
    const f = fixture([makeNode("n")]);
    const k = kernelResults([newBalancedAllocation(undefined, f.ctx())], f, f.info(makePod("p")), { balancedAllocation: 1 });
    expect(k["n"]?.score).toBe(0);
  });
});
