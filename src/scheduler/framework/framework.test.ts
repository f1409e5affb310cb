import { describe, expect, it } from "vitest";
import { DEFAULT_MULTIPOINT, inTreeRegistry } from "../plugins/registry.ts";
import { MemoryBinder } from "../testing.ts";
import { parseSchedulerConfig, SchedulerConfigError } from "./config.ts";
import { Framework } from "./framework.ts";

function build(yaml: string): Framework {
  const cfg = parseSchedulerConfig(yaml);
  const pc = cfg.profiles[0];
  if (!pc) throw new Error("no profile");
  return new Framework(pc, cfg.percentageOfNodesToScore, {
    registry: inTreeRegistry, defaultMultiPoint: DEFAULT_MULTIPOINT, extendedResources: [], binder: new MemoryBinder(),
    handle: { nominatedPodsForNode: () => [], nominations: () => [], nominationChanges: () => ({ next: 0, nodes: [] }), nominatedNode: () => undefined, preemptionInFlight: () => false, preemptionRunning: () => false, namespaceLabels: () => undefined, workloadSelectorsFor: () => [], pdbs: () => [] },
  });
}
const names = (fw: Framework, p: Parameters<Framework["points"]["get"]>[0]): string[] => (fw.points.get(p) ?? []).map((x) => x.name);
function errorOf(yaml: string): string {
  try { build(yaml); } catch (e) { if (e instanceof SchedulerConfigError) return e.message; throw e; }
  return "no error";
}

describe("profile resolution", () => {
  it("defaults: kube-scheduler's plugin order and weights", () => {
    const fw = build("");
    expect(names(fw, "filter")).toEqual(["NodeUnschedulable", "NodeName", "TaintToleration", "NodeAffinity", "NodePorts", "NodeResourcesFit",
      "VolumeRestrictions", "NodeVolumeLimits", "VolumeBinding", "VolumeZone", "PodTopologySpread", "InterPodAffinity"]);
    expect(names(fw, "score")).toEqual(["TaintToleration", "NodeAffinity", "NodeResourcesFit", "PodTopologySpread", "InterPodAffinity", "NodeResourcesBalancedAllocation", "ImageLocality"]);
    expect(fw.kernelProfile.weights).toEqual({ nodeResourcesFit: 1, balancedAllocation: 1, taintToleration: 3, nodeAffinity: 2, imageLocality: 1 });
    expect(fw.score.map((s) => [s.plugin.name, s.weight])).toEqual([["PodTopologySpread", 2], ["InterPodAffinity", 2]]);
    expect(fw.percentageOfNodesToScore).toBe(100);
    expect(names(fw, "postFilter")).toEqual(["DefaultPreemption"]);
  });
  it("disable * at score, re-enable some with weights", () => {
    const fw = build(`
profiles:
- plugins:
    score:
      disabled: [{name: "*"}]
      enabled: [{name: ImageLocality, weight: 5}, {name: InterPodAffinity}]
`);
    expect(names(fw, "score")).toEqual(["ImageLocality", "InterPodAffinity"]);
    expect(fw.kernelProfile.weights.imageLocality).toBe(5);
    expect(fw.kernelProfile.weights.nodeResourcesFit).toBe(0);
    expect(fw.score.map((s) => [s.plugin.name, s.weight])).toEqual([["InterPodAffinity", 2]]);
  });
  it("disabling a plugin at filter keeps its score; the kernel filter is off", () => {
    const fw = build(`profiles: [{plugins: {filter: {disabled: [{name: TaintToleration}]}}}]`);
    expect(names(fw, "filter")).not.toContain("TaintToleration");
    expect(fw.kernel.find((k) => k.plugin.name === "TaintToleration")?.filterEnabled).toBe(false);
    expect(fw.kernelProfile.weights.taintToleration).toBe(3);
  });
  it("multiPoint weight override", () => {
    const fw = build(`profiles: [{plugins: {multiPoint: {enabled: [{name: NodeAffinity, weight: 7}]}}}]`);
    expect(fw.kernelProfile.weights.nodeAffinity).toBe(7);
    expect(names(fw, "filter").indexOf("NodeAffinity")).toBe(3);
  });
  it("pluginConfig args reach the plugin", () => {
    const fw = build(`
profiles:
- pluginConfig:
  - name: NodeResourcesFit
    args: {scoringStrategy: {type: MostAllocated, resources: [{name: cpu, weight: 3}]}}
`);
    expect(fw.kernelProfile.fit).toEqual({ strategy: "MostAllocated", resources: [{ name: "cpu", weight: 3 }] });
  });
});

describe("invalid configuration names the field", () => {
  const cases: [string, string][] = [
    [`profiles: [{plugins: {score: {enabled: [{name: ImageLocality}, {name: NodeResourcesFit, weight: -1}]}}}]`,
      "profiles[0].plugins.score.enabled[1].weight: Invalid value: -1: weight must be a non-negative integer"],
    [`profiles: [{plugins: {filter: {enabled: [{name: Nope}]}}}]`, 'profiles[0].plugins.filter.enabled[0].name: Invalid value: "Nope": plugin "Nope" does not exist'],
    [`profiles: [{plugins: {filter: {enabled: [{name: ImageLocality}]}}}]`, 'profiles[0].plugins.filter.enabled[0].name: Invalid value: "ImageLocality": plugin "ImageLocality" does not extend filter plugin'],
    [`profiles: [{plugins: {bind: {disabled: [{name: "*"}]}}}]`, "profiles[0].plugins.bind: Required value: at least one bind plugin is needed"],
    [`profiles: [{pluginConfig: [{name: InterPodAffinity, args: {hardPodAffinityWeight: 200}}]}]`, "profiles[0].pluginConfig[0].args.hardPodAffinityWeight: Invalid value: 200: not in valid range [0, 100]"],
    [`profiles: [{pluginConfig: [{name: Foo, args: {}}]}]`, 'profiles[0].pluginConfig[0].name: Invalid value: "Foo": plugin "Foo" does not exist'],
    [`profiles: [{plugins: {queueSort: {disabled: [{name: "*"}]}}}]`, "profiles[0].plugins.queueSort: Invalid value: []: exactly one queue sort plugin must be enabled"],
  ];
  for (const [yaml, want] of cases) it(want.slice(0, 70), () => expect(errorOf(yaml)).toBe(want));
});

describe("parseSchedulerConfig", () => {
  const cases: [unknown, string][] = [
    ["apiVersion: kubescheduler.config.k8s.io/v1beta3", 'apiVersion: Unsupported value: "kubescheduler.config.k8s.io/v1beta3": supported values: "kubescheduler.config.k8s.io/v1"'],
    ["percentageOfNodesToScore: 101", "percentageOfNodesToScore: Invalid value: 101: not in valid range [0-100]"],
    ["podInitialBackoffSeconds: 20", "podMaxBackoffSeconds: Invalid value: 10: must be greater than or equal to PodInitialBackoffSeconds"],
    ["profiles: [{schedulerName: a}, {schedulerName: a}]", 'profiles[1].schedulerName: Duplicate value: "a"'],
    ["profiles: []", "profiles: Required value"],
    ["profiles: [{plugins: {frob: {}}}]", 'profiles[0].plugins.frob: Invalid value: unknown extension point "frob"'],
    ["bogus: 1", 'bogus: Invalid value: unknown field "bogus"'],
    ["- a list", "scheduler config must be a YAML or JSON object"],
    ["profiles: [{plugins: {score: {enabled: [{weight: 1}]}}}]", "profiles[0].plugins.score.enabled[0].name: Required value"],
  ];
  for (const [input, want] of cases) {
    it(want.slice(0, 70), () => {
      expect(() => parseSchedulerConfig(input)).toThrow(SchedulerConfigError);
      expect(() => parseSchedulerConfig(input)).toThrow(want);
    });
  }
  it("defaults", () => {
    const c = parseSchedulerConfig("apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n");
    expect([c.percentageOfNodesToScore, c.podInitialBackoffSeconds, c.podMaxBackoffSeconds, c.profiles[0]?.schedulerName]).toEqual([100, 1, 10, "default-scheduler"]);
  });
  it("accepts JSON", () => {
    expect(parseSchedulerConfig('{"profiles":[{"schedulerName":"x"}]}').profiles[0]?.schedulerName).toBe("x");
  });
});
