import { describe, expect, it } from "vitest";
import { parseLabelSelector } from "../../../api/selectors/labels.ts";
import type { NodeInfo } from "../../cache/node_info.ts";
import type { NodeStatusReader, PdbInfo } from "../../framework/interface.ts";
import { CycleState, Status } from "../../framework/status.ts";
import { makeNode, makePod, type PodSpecLite } from "../../testing.ts";
import { insufficient } from "../noderesourcesfit/noderesourcesfit.ts";
import { fixture } from "../_fixture.ts";
import { MSG_NEVER, NAME, newDefaultPreemption } from "./defaultpreemption.ts";

/** Statuses: every node Unschedulable (resources) unless listed as unresolvable. */
function statuses(n: number, unresolvable: number[] = []): NodeStatusReader {
  return { size: n, get: (i) => (unresolvable.includes(i) ? Status.unresolvable("node(s) didn't match Pod's node affinity/selector") : Status.unschedulable("Insufficient cpu")) };
}

function run(existing: [string, PodSpecLite][], pod: PodSpecLite, opts: { pdbs?: PdbInfo[]; unresolvable?: number[]; args?: unknown } = {}) {
  const f = fixture([makeNode("n1", { cpu: "2" }), makeNode("n2", { cpu: "2" }), makeNode("n3", { cpu: "2" })], existing.map(([n, s]) => makePod(n, s)), { pdbs: opts.pdbs ?? [] });
  // Preemption re-runs filters on modified nodes: resources only for this table.
  const handle = { ...f.handle, runFilterPluginsWithNominatedPods: (_s: CycleState, p: ReturnType<typeof f.info>, n: NodeInfo) => {
    const r = insufficient(p, n);
    return r.length ? Status.unschedulable(...r) : undefined;
  } };
  const plugin = newDefaultPreemption(opts.args, { ...f.ctx(), handle });
  return plugin.postFilter(new CycleState(), f.info(makePod("p", pod)), f.snap, statuses(3, opts.unresolvable));
}

const full = (node: string, prio: number, labels: Record<string, string> = {}, start = "2026-01-01T00:00:00Z"): [string, PodSpecLite][] => [
  [`${node}-a`, { nodeName: node, priority: prio, requests: { cpu: "1" }, labels, startTime: start }],
  [`${node}-b`, { nodeName: node, priority: prio, requests: { cpu: "1" }, labels, startTime: start }],
];

describe(NAME, () => {
  it("picks the node whose highest victim priority is lowest, with minimal victims", () => {
    const r = run([...full("n1", 5), ...full("n2", 1), ...full("n3", 3)], { priority: 10, requests: { cpu: "1" } });
    expect(r.status.code).toBe("Success");
    expect(r.result?.nominatedNodeName).toBe("n2");
    expect(r.result?.victims.map((v) => v.name)).toEqual(["n2-b"]);
  });
  it("needs both victims when the pod asks for the whole node", () => {
    const r = run([...full("n1", 5), ...full("n2", 1), ...full("n3", 3)], { priority: 10, requests: { cpu: "2" } });
    expect(r.result?.victims.map((v) => v.name).sort()).toEqual(["n2-a", "n2-b"]);
  });
  it("prefers candidates without PDB violations", () => {
    const pdbs: PdbInfo[] = [{ namespace: "default", name: "guard", selector: parseLabelSelector("app=db"), disruptionsAllowed: 0, disruptedPods: new Set() }];
    const r = run([...full("n1", 1, { app: "db" }), ...full("n2", 3), ...full("n3", 3)], { priority: 10, requests: { cpu: "1" } }, { pdbs });
    expect(r.result?.nominatedNodeName).not.toBe("n1");
  });
  it("never preempts equal or higher priority pods", () => {
    const r = run([...full("n1", 10), ...full("n2", 10), ...full("n3", 20)], { priority: 10, requests: { cpu: "1" } });
    expect(r.status.message).toBe("preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.");
    expect(r.result?.nominatedNodeName).toBe("");
  });
  it("unresolvable nodes are not candidates", () => {
    const r = run([...full("n1", 1), ...full("n2", 1), ...full("n3", 1)], { priority: 10, requests: { cpu: "1" } }, { unresolvable: [0, 1, 2] });
    expect(r.status.message).toBe("preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.");
  });
  it("preemptionPolicy Never", () => {
    const r = run([...full("n1", 1)], { priority: 10, preemptNever: true });
    expect(r.status.message).toBe(`preemption: ${MSG_NEVER}`);
    expect(r.result).toBeUndefined();
  });
  it("at equal victim priority, the node whose victims started latest wins", () => {
    const r = run([...full("n1", 1, {}, "2026-01-01T00:00:00Z"), ...full("n2", 1, {}, "2026-02-01T00:00:00Z"), ...full("n3", 5)], { priority: 10, requests: { cpu: "1" } });
    expect(r.result?.nominatedNodeName).toBe("n2");
  });
  it("rejects both candidate minimums at zero", () => {
    const errors: string[] = [];
    newDefaultPreemption({ minCandidateNodesPercentage: 0, minCandidateNodesAbsolute: 0 }, fixture([]).ctx(errors));
    expect(errors).toEqual(["args.minCandidateNodesPercentage: Invalid value: 0: both minCandidateNodesPercentage and minCandidateNodesAbsolute cannot be zero"]);
  });
  it("rejects a percentage above 100", () => {
    const errors: string[] = [];
    newDefaultPreemption({ minCandidateNodesPercentage: 101 }, fixture([]).ctx(errors));
    expect(errors).toEqual(["args.minCandidateNodesPercentage: Invalid value: 101: not in valid range [0, 100]"]);
  });
});
