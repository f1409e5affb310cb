import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../api/object.ts";
import type { PodObject } from "../types.ts";
import { EventBroadcaster } from "../../client/events/mod.ts";
import { CollectingEventSink, KubeletEventRecorder } from "./recorder.ts";

const pod = { metadata: { name: "web", namespace: "ns", uid: "u1", resourceVersion: "7" } } as PodObject;

function writer(fail = false) {
  const created: KubeObject[] = [];
  const patched: Array<{ ns: string; name: string; patch: Record<string, unknown> }> = [];
  return {
    created, patched,
    create: async (ev: KubeObject) => {
      if (fail) throw new Error("down");
      created.push(ev);
    },
    patch: async (ns: string, name: string, patch: Record<string, unknown>) => {
      patched.push({ ns, name, patch });
    },
  };
}

describe("KubeletEventRecorder", () => {
  it("creates Events with the kubelet's source, fieldPath and counts; aggregates repeats", async () => {
    let now = Date.UTC(2025, 0, 1, 12, 0, 0);
    const w = writer();
    const b = new EventBroadcaster({ sink: w, clock: () => now });
    const r = new KubeletEventRecorder({ broadcaster: b, nodeName: "n1" });
    r.event(pod, "Normal", "Pulling", 'Pulling image "busybox"', { name: "c" });
    r.event(pod, "Normal", "Scheduled", "ignored-by-kubelet-but-allowed");
    now += 5000;
    r.event(pod, "Warning", "BackOff", "Back-off restarting failed container c in pod web_ns(u1)", { name: "c" });
    now += 5000;
    r.event(pod, "Warning", "BackOff", "Back-off restarting failed container c in pod web_ns(u1)", { name: "c" });
    r.event(pod, "Normal", "Started", "Started container i", { name: "i", init: true });
    await r.flush();
    expect(w.created).toHaveLength(4);
    expect(w.created[0]).toMatchObject({
      apiVersion: "v1", kind: "Event", metadata: { namespace: "ns" }, reason: "Pulling", type: "Normal", count: 1,
      involvedObject: { kind: "Pod", name: "web", namespace: "ns", uid: "u1", apiVersion: "v1", fieldPath: "spec.containers{c}", resourceVersion: "7" },
      source: { component: "kubelet", host: "n1" }, reportingComponent: "kubelet", reportingInstance: "n1",
      firstTimestamp: "2025-01-01T12:00:00Z",
    });
    expect((w.created[0]!.metadata?.name ?? "")).toMatch(/^web\.[0-9a-f]+$/);
    expect((w.created[1]!["involvedObject"] as Record<string, unknown>)["fieldPath"]).toBeUndefined();
    expect((w.created[3]!["involvedObject"] as Record<string, unknown>)["fieldPath"]).toBe("spec.initContainers{i}");
    expect(w.patched).toEqual([{ ns: "ns", name: w.created[2]!.metadata!.name, patch: { count: 2, lastTimestamp: "2025-01-01T12:00:10Z", message: "Back-off restarting failed container c in pod web_ns(u1)" } }]);
    expect(r.stats).toMatchObject({ recorded: 5, created: 4, patched: 1, dropped: 0, failed: 0 });
  });

  it("is best effort: failures are counted, the backlog is bounded", async () => {
    const b = new EventBroadcaster({ sink: writer(true), queue: { concurrency: 1, maxQueued: 1, maxAttempts: 1 } });
    const r = new KubeletEventRecorder({ broadcaster: b, nodeName: "n1" });
    for (let i = 0; i < 5; i++) r.event(pod, "Normal", "X", `m${i}`);
    await r.flush();
    expect(r.stats.dropped).toBe(3);
    expect(r.stats.failed).toBe(2);
  });

  it("CollectingEventSink", () => {
    const s = new CollectingEventSink();
    s.event(pod, "Warning", "Failed", "Error: x", { name: "c" });
    expect(s.lines()).toEqual(["Warning Failed Error: x"]);
    expect(s.events[0]!.container).toBe("c");
  });
});
