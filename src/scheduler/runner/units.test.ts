import { describe, expect, it } from "vitest";
import type { Pod } from "../../api/generated/core_v1.ts";
import { ApiError } from "../../api/errors.ts";
import { Limiter, LimiterFullError } from "./_limiter.ts";
import { ApiBinder, ApiPreemptor, ApiStatusWriter, type PodApi } from "./api.ts";
import { type EventSink, SchedulerEventRecorder } from "./events.ts";
import { isKernelChoice, loadKernel } from "./kernel.ts";
import { SchedulerMetrics } from "./metrics.ts";
import type { KubeObject } from "../../api/object.ts";

const pod = (name: string, extra: Partial<Pod> = {}): Pod => ({ metadata: { name, namespace: "default", uid: `uid-${name}` }, spec: { containers: [] }, ...extra });

class FakeSink implements EventSink {
  creates: KubeObject[] = [];
  patches: { ns: string; name: string; patch: Record<string, unknown> }[] = [];
  fail = false;
  create(ev: KubeObject): Promise<unknown> { if (this.fail) return Promise.reject(new ApiError(422, "Invalid", "boom")); this.creates.push(ev); return Promise.resolve(ev); }
  patch(ns: string, name: string, patch: Record<string, unknown>): Promise<unknown> { this.patches.push({ ns, name, patch }); return Promise.resolve({}); }
}

describe("SchedulerEventRecorder", () => {
  it("creates a core/v1 Event with action, related and kind Pod", async () => {
    const sink = new FakeSink();
    const r = new SchedulerEventRecorder(sink, { now: () => 1_700_000_000_000 });
    r.event(pod("victim"), "Normal", "Preempted", "Preempting", "Preempted by pod uid-hi on node n1", pod("hi"));
    await r.flush();
    expect(sink.creates).toHaveLength(1);
    const ev = sink.creates[0]!;
    expect(ev["involvedObject"]).toEqual({ apiVersion: "v1", kind: "Pod", namespace: "default", name: "victim", uid: "uid-victim" });
    expect(ev).toMatchObject({ reason: "Preempted", type: "Normal", action: "Preempting", count: 1, source: { component: "default-scheduler" }, reportingComponent: "default-scheduler" });
    expect(ev["related"]).toMatchObject({ kind: "Pod", name: "hi", uid: "uid-hi" });
    expect(ev.metadata?.namespace).toBe("default");
  });

  it("a pod failing every 2 s gets one Event and series patches at most every 10 s, with the exact count", async () => {
    const sink = new FakeSink();
    let now = 1_700_000_000_000;
    const r = new SchedulerEventRecorder(sink, { now: () => now, patchIntervalMs: 10_000 });
    const p = pod("big");
    for (let i = 0; i < 30; i++) { // 60 s of retries
      r.event(p, "Warning", "FailedScheduling", "Scheduling", "0/5 nodes are available: 5 Insufficient cpu.");
      await new Promise((res) => setImmediate(res));
      now += 2000;
      r.tick();
    }
    await r.flush();
    expect(sink.creates).toHaveLength(1);
    expect(sink.patches.length).toBeGreaterThanOrEqual(5);
    expect(sink.patches.length).toBeLessThanOrEqual(7);
    expect(sink.patches.at(-1)?.patch["series"]).toMatchObject({ count: 30 });
    expect(r.stats.accumulated).toBeGreaterThan(15);
  });

  it("counts failed writes and never throws", async () => {
    const sink = new FakeSink();
    sink.fail = true;
    const r = new SchedulerEventRecorder(sink);
    expect(() => r.event(pod("a"), "Normal", "Scheduled", "Binding", "Successfully assigned default/a to n1")).not.toThrow();
    await r.flush();
    expect(r.stats.failed).toBe(1);
  });
});

describe("ApiStatusWriter.patchFor", () => {
  const now = Date.parse("2026-11-22T10:00:00Z");
  it("writes PodScheduled=False with reason and message, and the nomination", () => {
    expect(ApiStatusWriter.patchFor(pod("a"), "Unschedulable", "0/1 nodes are available: 1 Insufficient cpu.", "n1", now)).toEqual({
      status: {
        conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable", message: "0/1 nodes are available: 1 Insufficient cpu.", lastProbeTime: null, lastTransitionTime: "2026-11-22T10:00:00Z" }],
        nominatedNodeName: "n1",
      },
    });
  });
  it("skips an unchanged condition and keeps lastTransitionTime when only the message changes", () => {
    const p = pod("a", { status: { nominatedNodeName: "n1", conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable", message: "m1", lastTransitionTime: "2026-01-01T00:00:00Z" }] } });
    expect(ApiStatusWriter.patchFor(p, "Unschedulable", "m1", undefined, now)).toBeUndefined();
    expect(ApiStatusWriter.patchFor(p, "Unschedulable", "m1", "n1", now)).toBeUndefined();
    const patch = ApiStatusWriter.patchFor(p, "Unschedulable", "m2", undefined, now);
    expect(patch).toEqual({ status: { conditions: [expect.objectContaining({ message: "m2", lastTransitionTime: "2026-01-01T00:00:00Z" })] } });
  });
  it("clears the nomination only, with an empty message", () => {
    const p = pod("a", { status: { nominatedNodeName: "n1" } });
    expect(ApiStatusWriter.patchFor(p, "Unschedulable", "", "", now)).toEqual({ status: { nominatedNodeName: null } });
  });
});

class FakePodApi implements PodApi {
  calls: string[] = [];
  failBind: Error | undefined;
  failPatch: Error | undefined;
  bind(ns: string, name: string, uid: string, node: string): Promise<void> {
    this.calls.push(`bind ${ns}/${name} ${uid} ${node}`);
    return this.failBind ? Promise.reject(this.failBind) : Promise.resolve();
  }
  patchStatus(ns: string, name: string, patch: Record<string, unknown>): Promise<void> {
    this.calls.push(`patch ${ns}/${name} ${JSON.stringify(patch)}`);
    return this.failPatch ? Promise.reject(this.failPatch) : Promise.resolve();
  }
  deletePod(ns: string, name: string, uid: string, grace: number | undefined): Promise<void> {
    this.calls.push(`delete ${ns}/${name} ${uid} grace=${String(grace)}`);
    return Promise.resolve();
  }
}

describe("ApiBinder / ApiPreemptor", () => {
  it("binds with the pod's uid and propagates errors", async () => {
    const api = new FakePodApi();
    await new ApiBinder(api).bind(pod("a"), "n1");
    expect(api.calls).toEqual(["bind default/a uid-a n1"]);
    api.failBind = new ApiError(409, "Conflict", "already assigned");
    await expect(new ApiBinder(api).bind(pod("a"), "n1")).rejects.toThrow("already assigned");
  });
  it("marks the victim DisruptionTarget, then deletes it with the configured grace", async () => {
    const api = new FakePodApi();
    await new ApiPreemptor(api, { gracePeriodSeconds: 0, now: () => Date.parse("2026-11-22T10:00:00Z") }).preempt(pod("v"), pod("hi"), "n1");
    expect(api.calls).toEqual([
      'patch default/v {"status":{"conditions":[{"type":"DisruptionTarget","status":"True","reason":"PreemptionByScheduler","message":"default-scheduler: preempting to accommodate a higher priority pod","lastTransitionTime":"2026-11-22T10:00:00Z"}]}}',
      "delete default/v uid-v grace=0",
    ]);
  });
  it("a victim already gone is not an error", async () => {
    const api = new FakePodApi();
    api.failPatch = new ApiError(404, "NotFound", "gone");
    await expect(new ApiPreemptor(api).preempt(pod("v"), pod("hi"), "n1")).resolves.toBeUndefined();
    expect(api.calls).toHaveLength(1);
  });
});

describe("Limiter", () => {
  it("bounds concurrency and rejects beyond the queue", async () => {
    const l = new Limiter(2, 1);
    let running = 0, peak = 0;
    const task = () => l.run(async () => { running++; peak = Math.max(peak, running); await new Promise((r) => setTimeout(r, 5)); running--; });
    const ps = [task(), task(), task()];
    await expect(task()).rejects.toBeInstanceOf(LimiterFullError);
    await Promise.all(ps);
    await l.idle();
    expect(peak).toBe(2);
    expect(() => new Limiter(0)).toThrow("positive integer");
  });
});

describe("SchedulerMetrics", () => {
  it("renders kube-scheduler metric names in the text format", () => {
    const m = new SchedulerMetrics();
    m.scheduleAttempt("scheduled", "default-scheduler", 0.0004);
    m.scheduleAttempt("unschedulable", "default-scheduler", 0.002);
    m.queueDepth("active", 3);
    m.phase("kernel", "default-scheduler", 0.0001);
    m.preemption(2);
    m.bindingDone(true, 0.05);
    const t = m.render();
    expect(t).toContain('scheduler_schedule_attempts_total{result="scheduled",profile="default-scheduler"} 1');
    expect(t).toContain('scheduler_scheduling_attempt_duration_seconds_bucket{result="scheduled",profile="default-scheduler",le="0.001"} 1');
    expect(t).toContain('scheduler_scheduling_attempt_duration_seconds_count{result="unschedulable",profile="default-scheduler"} 1');
    expect(t).toContain('scheduler_pending_pods{queue="active"} 3');
    expect(t).toContain("scheduler_preemption_attempts_total 1");
    expect(t).toContain('scheduler_pod_scheduling_sli_duration_seconds_bucket{le="0.08"} 1');
    expect(t).toContain("# TYPE scheduler_framework_extension_point_duration_seconds histogram");
    expect(m.sli.get({})?.quantile(0.5)).toBeGreaterThan(0.04);
  });
});

describe("loadKernel", () => {
  it("loads each variant; auto picks SIMD when it loads", async () => {
    expect((await loadKernel("ts", () => {})).impl).toBe("ts");
    expect((await loadKernel("wasm-scalar", () => {})).impl).toBe("wasm-scalar");
    const notes: string[] = [];
    expect((await loadKernel("auto", (m) => notes.push(m))).impl).toBe("wasm-simd");
    expect(notes).toEqual([]);
    expect(isKernelChoice("wasm-simd")).toBe(true);
    expect(isKernelChoice("gpu")).toBe(false);
  });
});
