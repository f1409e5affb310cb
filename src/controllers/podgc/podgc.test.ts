import { describe, expect, it } from "vitest";
import type { Node, Pod } from "../../api/generated/core_v1.ts";
import type { KubeObject } from "../../api/object.ts";
import { NODES, PODS } from "../framework/resources.ts";
import { fakeKit } from "../framework/testing.ts";
import { KEY, optionsFromEnv, PodGcController } from "./controller.ts";
import { missingNodes, terminatedToDelete, terminatingOnOutOfService, unscheduledTerminating } from "./podgc.ts";

function p(name: string, o: { phase?: string; node?: string; created?: string; deleting?: boolean; reason?: string } = {}): Pod {
  return {
    apiVersion: "v1", kind: "Pod",
    metadata: { name, namespace: "default", uid: `uid-${name}`, resourceVersion: "1", creationTimestamp: o.created ?? "2024-01-01T00:00:00Z", ...(o.deleting ? { deletionTimestamp: "2024-01-01T00:00:00Z" } : {}) },
    spec: { ...(o.node ? { nodeName: o.node } : {}), containers: [{ name: "c" }] },
    status: { phase: o.phase ?? "Running", ...(o.reason ? { reason: o.reason } : {}) },
  } as Pod;
}
const node = (name: string, ready = true, taints: unknown[] = []): Node => ({ apiVersion: "v1", kind: "Node", metadata: { name }, spec: { taints }, status: { conditions: [{ type: "Ready", status: ready ? "True" : "False" }] } } as Node);
const names = (xs: readonly Pod[]): string[] => xs.map((x) => x.metadata?.name ?? "");

describe("pod gc decisions", () => {
  it.each([
    [3, []],
    [2, ["evicted"]],
    [1, ["evicted", "old"]],
    [0, []], // disabled
  ])("threshold %i", (threshold, want) => {
    const pods = [p("old", { phase: "Succeeded", created: "2024-01-01T00:00:00Z" }), p("new", { phase: "Failed", created: "2024-01-02T00:00:00Z" }),
      p("evicted", { phase: "Failed", reason: "Evicted", created: "2024-01-03T00:00:00Z" }), p("run")];
    expect(names(terminatedToDelete(pods, threshold))).toEqual(want);
  });

  it("missing nodes, unscheduled terminating, out-of-service", () => {
    expect([...missingNodes([p("a", { node: "n1" }), p("b", { node: "gone" }), p("c")], new Set(["n1"]))]).toEqual(["gone"]);
    expect(names(unscheduledTerminating([p("a", { deleting: true }), p("b", { deleting: true, node: "n1" }), p("c")]))).toEqual(["a"]);
    const nodes = new Map([["n1", node("n1", false, [{ key: "node.kubernetes.io/out-of-service", effect: "NoExecute" }])], ["n2", node("n2", true, [{ key: "node.kubernetes.io/out-of-service", effect: "NoExecute" }])]]);
    expect(names(terminatingOnOutOfService([p("a", { deleting: true, node: "n1" }), p("b", { deleting: true, node: "n2" }), p("c", { node: "n1" })], nodes))).toEqual(["a"]);
  });

  it("options from the environment", () => {
    expect(optionsFromEnv({ TUG_TERMINATED_POD_GC_THRESHOLD: "5", TUG_POD_GC_QUARANTINE: "2" })).toEqual({ terminatedPodThreshold: 5, quarantineMs: 2000 });
    expect(() => optionsFromEnv({ TUG_TERMINATED_POD_GC_THRESHOLD: "-3" })).toThrow('invalid TUG_TERMINATED_POD_GC_THRESHOLD "-3" (want a count >= 0)');
  });
});

describe("pod gc controller", () => {
  it("quarantines pods on a missing node, then marks them Failed and force-deletes them", async () => {
    const k = fakeKit();
    const c = new PodGcController(k.ctx, k.queue, { terminatedPodThreshold: 1 });
    expect(k.queue.keys).toEqual([KEY]);
    const pods = [p("orphan", { node: "gone" }), p("ok", { node: "n1" }), p("t1", { phase: "Succeeded", node: "n1" }), p("t2", { phase: "Succeeded", node: "n1", created: "2024-02-01T00:00:00Z" }), p("u", { deleting: true })];
    for (const x of pods) { k.informers.seed(PODS, x as KubeObject); k.writer.seed(PODS, x as KubeObject); }
    k.informers.seed(NODES, node("n1") as KubeObject);
    expect(await c.sync(KEY)).toEqual({ requeueAfterMs: 20_000 });
    expect(k.writer.summary()).toEqual(["delete pods default/t1", "delete pods default/u"]);
    expect(k.writer.calls.find((x) => x.verb === "delete")?.options).toEqual({ gracePeriodSeconds: 0 });
    k.writer.reset();
    k.setNow("2024-01-01T00:00:41Z");
    await c.sync(KEY);
    expect(k.writer.summary()).toEqual(["delete pods default/t1", "patch pods/status default/orphan", "delete pods default/orphan", "delete pods default/u"]);
    const patch = k.writer.calls.find((x) => x.verb === "patch")?.patch as { status: { phase: string; conditions: Array<{ reason: string }> } };
    expect(patch.status.phase).toBe("Failed");
    expect(patch.status.conditions[0]?.reason).toBe("DeletionByPodGC");
  });
});
