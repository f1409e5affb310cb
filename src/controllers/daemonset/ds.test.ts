import { describe, expect, it } from "vitest";
import type { DaemonSet } from "../../api/generated/apps_v1.ts";
import type { Node } from "../../api/generated/core_v1.ts";
import type { KubeObject } from "../../api/object.ts";
import { DAEMONSETS, NODES, PODS } from "../framework/resources.ts";
import { fakeKit, pod } from "../framework/testing.ts";
import { DaemonSetController } from "./controller.ts";
import { daemonTemplate, nodeShouldRunDaemonPod, planDaemonSet, podForNode, targetNode } from "./ds.ts";

const T = Date.parse("2024-01-01T00:00:00Z");

function ds(spec: Record<string, unknown> = {}, tplSpec: Record<string, unknown> = {}): DaemonSet {
  return {
    apiVersion: "apps/v1", kind: "DaemonSet",
    metadata: { name: "agent", namespace: "kube-system", uid: "uid-ds", resourceVersion: "3", generation: 1 },
    spec: {
      selector: { matchLabels: { app: "agent" } },
      updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
      template: { metadata: { labels: { app: "agent" } }, spec: { containers: [{ name: "c", image: "agent:1" }], ...tplSpec } },
      ...spec,
    },
  } as DaemonSet;
}

function node(name: string, o: { labels?: Record<string, string>; taints?: Array<{ key: string; effect: string; value?: string }>; unschedulable?: boolean } = {}): Node {
  return { apiVersion: "v1", kind: "Node", metadata: { name, labels: { "kubernetes.io/hostname": name, ...(o.labels ?? {}) } }, spec: { ...(o.taints ? { taints: o.taints } : {}), ...(o.unschedulable ? { unschedulable: true } : {}) } } as Node;
}

function dp(name: string, nodeName: string, o: { hash?: string; ready?: boolean; phase?: string; bound?: boolean } = {}): KubeObject {
  const p = pod(name, { labels: { app: "agent", "controller-revision-hash": o.hash ?? "h2" }, owner: ds() as KubeObject, ownerKind: "DaemonSet", ns: "kube-system", phase: o.phase ?? "Running", ready: o.ready ?? true, ...(o.bound === false ? {} : { node: nodeName }) });
  if (o.bound === false) (p["spec"] as Record<string, unknown>)["affinity"] = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: "metadata.name", operator: "In", values: [nodeName] }] }] } } };
  return p;
}

const names = (xs: readonly KubeObject[]): string[] => xs.map((x) => x.metadata?.name ?? "").sort();

describe("daemonset eligibility", () => {
  it.each([
    ["plain node", node("n"), {}, [true, true]],
    ["nodeSelector match", node("n", { labels: { disk: "ssd" } }), { nodeSelector: { disk: "ssd" } }, [true, true]],
    ["nodeSelector miss", node("n"), { nodeSelector: { disk: "ssd" } }, [false, false]],
    ["affinity miss", node("n"), { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "zone", operator: "In", values: ["a"] }] }] } } } }, [false, false]],
    ["untolerated NoSchedule: keep running, no new pod", node("n", { taints: [{ key: "dedicated", effect: "NoSchedule" }] }), {}, [false, true]],
    ["untolerated NoExecute: neither", node("n", { taints: [{ key: "dedicated", effect: "NoExecute" }] }), {}, [false, false]],
    ["tolerated custom taint", node("n", { taints: [{ key: "dedicated", effect: "NoSchedule" }] }), { tolerations: [{ key: "dedicated", operator: "Exists" }] }, [true, true]],
    ["default: not-ready NoExecute tolerated", node("n", { taints: [{ key: "node.kubernetes.io/not-ready", effect: "NoExecute" }] }), {}, [true, true]],
    ["default: unreachable NoExecute tolerated", node("n", { taints: [{ key: "node.kubernetes.io/unreachable", effect: "NoExecute" }] }), {}, [true, true]],
    ["default: unschedulable tolerated", node("n", { taints: [{ key: "node.kubernetes.io/unschedulable", effect: "NoSchedule" }] }), {}, [true, true]],
    ["default: memory-pressure tolerated", node("n", { taints: [{ key: "node.kubernetes.io/memory-pressure", effect: "NoSchedule" }] }), {}, [true, true]],
    ["network-unavailable: not tolerated without hostNetwork", node("n", { taints: [{ key: "node.kubernetes.io/network-unavailable", effect: "NoSchedule" }] }), {}, [false, true]],
    ["network-unavailable: tolerated with hostNetwork", node("n", { taints: [{ key: "node.kubernetes.io/network-unavailable", effect: "NoSchedule" }] }), { hostNetwork: true }, [true, true]],
    ["template nodeName elsewhere", node("n"), { nodeName: "other" }, [false, false]],
  ])("%s", (_n, nd, tpl, [run, cont]) => {
    const e = nodeShouldRunDaemonPod(nd, daemonTemplate(ds({}, tpl)));
    expect([e.shouldRun, e.shouldContinueRunning]).toEqual([run, cont]);
  });

  it("pods target their node by required affinity on metadata.name and carry the hash and tolerations", () => {
    const p = podForNode(ds({}, { affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, preference: { matchExpressions: [{ key: "a", operator: "Exists" }] } }] } } }), "n1", "h2");
    expect(p.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution).toEqual({ nodeSelectorTerms: [{ matchFields: [{ key: "metadata.name", operator: "In", values: ["n1"] }] }] });
    expect(p.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution).toHaveLength(1);
    expect(p.metadata?.labels).toEqual({ app: "agent", "controller-revision-hash": "h2", "pod-template-generation": "1" });
    expect(p.metadata?.generateName).toBe("agent-");
    expect(p.spec?.tolerations?.map((t) => `${t.key}:${t.effect}`)).toContain("node.kubernetes.io/unreachable:NoExecute");
    expect(targetNode(p as KubeObject)).toBe("n1");
  });
});

describe("daemonset plan", () => {
  const nodes = [node("n1"), node("n2"), node("n3")];
  it.each([
    { name: "one pod per node", nodes, pods: [], create: ["n1", "n2", "n3"], del: [] as string[] },
    { name: "only missing nodes", nodes, pods: [dp("a", "n1"), dp("b", "n2", { bound: false })], create: ["n3"], del: [] },
    { name: "extra pods on a node: keep the oldest", nodes: [node("n1")], pods: [dp("a", "n1"), dp("b", "n1")], create: [], del: ["b"] },
    { name: "failed pods are deleted and replaced", nodes: [node("n1")], pods: [dp("a", "n1", { phase: "Failed" })], create: ["n1"], del: ["a"] },
    { name: "pods on removed nodes are deleted", nodes: [node("n1")], pods: [dp("a", "n1"), dp("b", "gone")], create: [], del: ["b"] },
    { name: "pods on nodes no longer selected are deleted", nodes: [node("n1", { taints: [{ key: "x", effect: "NoExecute" }] })], pods: [dp("a", "n1")], create: [], del: ["a"] },
    { name: "rolling update, maxUnavailable 1: one old pod at a time", nodes, pods: [dp("a", "n1", { hash: "h1" }), dp("b", "n2", { hash: "h1" }), dp("c", "n3", { hash: "h1" })], create: [], del: ["a"] },
    { name: "rolling update: unavailable old pods go at once, budget spent", nodes, pods: [dp("a", "n1", { hash: "h1", ready: false }), dp("b", "n2", { hash: "h1" }), dp("c", "n3", { hash: "h1" })], create: [], del: ["a"] },
    { name: "rolling update waits while a new pod is not ready", nodes, pods: [dp("a", "n1", { ready: false }), dp("b", "n2", { hash: "h1" }), dp("c", "n3", { hash: "h1" })], create: [], del: [] },
  ])("$name", ({ nodes: ns, pods, create, del }) => {
    const p = planDaemonSet(ds(), ns, pods, "h2", T);
    expect(p.create.sort()).toEqual(create);
    expect(names(p.delete)).toEqual(del);
  });

  it("maxSurge: a new pod beside the old one, the old deleted when the new is available", () => {
    const surge = ds({ updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } } });
    const p1 = planDaemonSet(surge, [node("n1"), node("n2")], [dp("a", "n1", { hash: "h1" }), dp("b", "n2", { hash: "h1" })], "h2", T);
    expect(p1.create).toEqual(["n1"]);
    expect(p1.delete).toEqual([]);
    const p2 = planDaemonSet(surge, [node("n1"), node("n2")], [dp("a", "n1", { hash: "h1" }), dp("a2", "n1"), dp("b", "n2", { hash: "h1" })], "h2", T);
    expect(names(p2.delete)).toEqual(["a"]);
    expect(p2.create).toEqual(["n2"]);
  });

  it("OnDelete leaves old pods", () => {
    const p = planDaemonSet(ds({ updateStrategy: { type: "OnDelete" } }), [node("n1")], [dp("a", "n1", { hash: "h1" })], "h2", T);
    expect([p.create, p.delete]).toEqual([[], []]);
  });

  it("status", () => {
    const ns = [node("n1"), node("n2"), node("n3", { taints: [{ key: "x", effect: "NoSchedule" }] }), node("n4")];
    const p = planDaemonSet(ds(), ns, [dp("a", "n1"), dp("b", "n2", { hash: "h1", ready: false }), dp("c", "n3")], "h2", T);
    expect(p.status).toEqual({ desiredNumberScheduled: 3, currentNumberScheduled: 2, numberMisscheduled: 1, numberReady: 2, numberAvailable: 2, numberUnavailable: 1, updatedNumberScheduled: 2, observedGeneration: 1 });
  });
});

describe("daemonset controller sync", () => {
  it("creates a revision and a pod per node; node events enqueue the set", async () => {
    const k = fakeKit();
    const c = new DaemonSetController(k.ctx, k.queue);
    const d = ds() as KubeObject;
    k.informers.seed(DAEMONSETS, d);
    k.writer.seed(DAEMONSETS, d);
    k.informers.seed(NODES, node("n1") as KubeObject, node("n2") as KubeObject);
    await c.sync("kube-system/agent");
    const w = k.writer.summary();
    expect(w[0]).toMatch(/^create controllerrevisions kube-system\/agent-\w+$/);
    expect(w.filter((s) => s.startsWith("create pods"))).toHaveLength(2);
    expect(w[w.length - 1]).toBe("updateStatus daemonsets kube-system/agent");
    const hash = (k.writer.writes("create", "controllerrevisions")[0]?.object?.metadata?.labels ?? {})["controller-revision-hash"];
    const created = k.writer.writes("create", "pods").map((x) => [targetNode(x.object!), x.object?.metadata?.labels?.["controller-revision-hash"]]);
    expect(created.sort()).toEqual([["n1", hash], ["n2", hash]]);
    k.queue.clear();
    k.informers.add(NODES, node("n3") as KubeObject);
    expect(k.queue.keys).toEqual(["kube-system/agent"]);
    k.queue.clear();
    k.informers.add(NODES, { ...(node("n3") as KubeObject), status: { conditions: [] } });
    expect(k.queue.keys).toEqual([]); // a status-only change does not matter
  });

  it("a second sync before the pods are observed creates nothing (expectations)", async () => {
    const k = fakeKit();
    const c = new DaemonSetController(k.ctx, k.queue);
    k.informers.seed(DAEMONSETS, ds() as KubeObject);
    k.writer.seed(DAEMONSETS, ds() as KubeObject);
    k.informers.seed(NODES, node("n1") as KubeObject);
    await c.sync("kube-system/agent");
    k.writer.reset();
    await c.sync("kube-system/agent");
    expect(k.writer.writes("create", "pods")).toHaveLength(0);
    void PODS;
  });
});
