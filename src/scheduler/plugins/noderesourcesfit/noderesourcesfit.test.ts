import { describe, expect, it } from "vitest";
import { Reason } from "../../kernel/types.ts";
import { makeNode, makePod } from "../../testing.ts";
import { filterResults, fixture, kernelResults } from "../_fixture.ts";
import { NAME, newNodeResourcesFit } from "./noderesourcesfit.ts";

const nodes = [
  makeNode("big", { cpu: "4", memory: "8Gi", extended: { "example.com/gpu": "2" } }),
  makeNode("small", { cpu: "1", memory: "1Gi", pods: "2" }),
];
const existing = [makePod("e1", { nodeName: "small", requests: { cpu: "500m", memory: "512Mi" } })];

describe(NAME, () => {
  const cases: { name: string; requests: Record<string, string>; want: Record<string, string>; bits: Record<string, number> }[] = [
    { name: "fits both", requests: { cpu: "100m", memory: "100Mi" }, want: { big: "", small: "" }, bits: { big: 0, small: 0 } },
    { name: "cpu too big for small", requests: { cpu: "600m" }, want: { big: "", small: "Insufficient cpu" }, bits: { big: 0, small: Reason.InsufficientCpu } },
    { name: "cpu and memory", requests: { cpu: "2", memory: "4Gi" }, want: { big: "", small: "Insufficient cpu" }, bits: { big: 0, small: Reason.InsufficientCpu | Reason.InsufficientMemory } },
    { name: "extended resource", requests: { "example.com/gpu": "1" }, want: { big: "", small: "Insufficient example.com/gpu" }, bits: { big: 0, small: Reason.InsufficientExtended0 } },
    { name: "untracked scalar", requests: { "example.com/fpga": "1" }, want: { big: "Insufficient example.com/fpga", small: "Insufficient example.com/fpga" }, bits: { big: 0, small: 0 } },
  ];
  for (const c of cases) {
    it(`filter: ${c.name}`, () => {
      const f = fixture(nodes, existing);
      const p = newNodeResourcesFit(undefined, f.ctx());
      const pod = f.info(makePod("p", { requests: c.requests }));
      expect(filterResults(p, f, pod)).toEqual(c.want);
      const k = kernelResults([p], f, pod, {});
      expect({ big: k["big"]?.status, small: k["small"]?.status }).toEqual(c.bits);
    });
  }
  it("Too many pods", () => {
    const f = fixture(nodes, [...existing, makePod("e2", { nodeName: "small" })]);
    const p = newNodeResourcesFit(undefined, f.ctx());
    expect(filterResults(p, f, f.info(makePod("p")))["small"]).toBe("Too many pods");
  });
  const strategies: { type: string; args: Record<string, unknown>; want: number }[] = [
    { type: "LeastAllocated", args: {}, want: 75 },
    { type: "MostAllocated", args: { type: "MostAllocated" }, want: 25 },
    { type: "RequestedToCapacityRatio", args: { type: "RequestedToCapacityRatio", requestedToCapacityRatio: { shape: [{ utilization: 0, score: 0 }, { utilization: 100, score: 10 }] } }, want: 25 },
  ];
  for (const s of strategies) {
    it(`score: ${s.type}`, () => {
      const f = fixture([makeNode("n", { cpu: "4", memory: "8Gi" })]);
      const p = newNodeResourcesFit({ scoringStrategy: s.args }, f.ctx());
      const k = kernelResults([p], f, f.info(makePod("p", { requests: { cpu: "1", memory: "2Gi" } })), { nodeResourcesFit: 1 }, { fit: p.scoring });
      expect(k["n"]?.score).toBe(s.want);
    });
  }
  const bad: { args: unknown; err: string }[] = [
    { args: { scoringStrategy: { type: "Random" } }, err: 'args.scoringStrategy.type: Unsupported value: "Random": supported values: "LeastAllocated", "MostAllocated", "RequestedToCapacityRatio"' },
    { args: { scoringStrategy: { resources: [{ name: "cpu", weight: 0 }] } }, err: "args.scoringStrategy.resources[0].weight: Invalid value: 0: resource weight of cpu not in valid range [1, 100]" },
    { args: { scoringStrategy: { type: "RequestedToCapacityRatio" } }, err: "args.scoringStrategy.requestedToCapacityRatio.shape: Required value: at least one point must be specified" },
    { args: { scoringStrategy: { type: "RequestedToCapacityRatio", requestedToCapacityRatio: { shape: [{ utilization: 50, score: 1 }, { utilization: 40, score: 2 }] } } },
      err: "args.scoringStrategy.requestedToCapacityRatio.shape[1].utilization: Invalid value: 40: utilization values must be sorted in increasing order" },
    { args: { scoringStrategy: { type: "RequestedToCapacityRatio", requestedToCapacityRatio: { shape: [{ utilization: 50, score: 11 }] } } },
      err: "args.scoringStrategy.requestedToCapacityRatio.shape[0].score: Invalid value: 11: not in valid range [0, 10]" },
    { args: { scoringStrategy: { resources: [{ name: "example.com/fpga", weight: 1 }] } },
      err: 'args.scoringStrategy.resources[0].name: Invalid value: "example.com/fpga": resource is not tracked by the scheduler (extended resources: [example.com/gpu])' },
    { args: "nope", err: 'args: Invalid value: "nope": must be a NodeResourcesFitArgs object' },
  ];
  for (const b of bad) {
    it(`invalid args: ${b.err.slice(0, 60)}`, () => {
      const f = fixture([]);
      const errors: string[] = [];
      newNodeResourcesFit(b.args, f.ctx(errors));
      expect(errors).toEqual([b.err]);
    });
  }
});
