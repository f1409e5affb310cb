import { describe, expect, it } from "vitest";
import { ApiError } from "../api/errors.ts";
import { FakeClock } from "./runtime/clock.ts";
import { TimerQueue } from "./runtime/timers.ts";
import { canonical, StatusManager, statusEqual, statusPatch } from "./status-manager.ts";
import type { PodObject, PodStatus } from "./types.ts";

const pod = (uid = "u1"): PodObject => ({ apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "ns", uid }, status: { phase: "Pending", qosClass: "BestEffort" } });
const running: PodStatus = { phase: "Running", conditions: [{ type: "Ready", status: "True", lastTransitionTime: "2026-11-22T10:00:00Z" }], podIP: "10.0.0.1" };

describe("status diffing", () => {
  it("compares only kubelet-owned fields, ignoring empty values and key order", () => {
    expect(statusEqual({ phase: "Running", qosClass: "Burstable" }, { phase: "Running", qosClass: "BestEffort" })).toBe(true);
    expect(statusEqual({ phase: "Running", message: "" }, { phase: "Running" })).toBe(true);
    expect(statusEqual({ phase: "Running", containerStatuses: [{ name: "a", lastState: {} }] }, { containerStatuses: [{ lastState: {}, name: "a" }], phase: "Running" })).toBe(true);
    expect(statusEqual({ phase: "Running" }, { phase: "Pending" })).toBe(false);
    expect(statusEqual({ phase: "Running", containerStatuses: [{ name: "a", ready: false }] }, { phase: "Running", containerStatuses: [{ name: "a", ready: true }] })).toBe(false);
    expect(canonical({ b: [], a: { c: "" }, d: 0, e: false })).toEqual({ d: 0, e: false });
  });

  it("patches set every owned field, absent ones to null", () => {
    const p = statusPatch({ phase: "Running", podIP: "10.0.0.1" });
    expect(p).toEqual({ status: {
      phase: "Running", conditions: null, message: null, reason: null, hostIP: null, hostIPs: null, podIP: "10.0.0.1", podIPs: null,
      startTime: null, initContainerStatuses: null, containerStatuses: null,
    } });
  });
});

describe("StatusManager", () => {
  function setup(fail: (n: number) => Error | undefined = () => undefined) {
    const clock = new FakeClock();
    const timers = new TimerQueue(clock);
    const writes: Array<Record<string, unknown>> = [];
    const errors: unknown[] = [];
    const sm = new StatusManager({
      patchPodStatus: async (_ns, _name, patch) => {
        const err = fail(writes.length);
        writes.push(patch);
        if (err) throw err;
        return { ...pod(), status: (patch as { status: PodStatus }).status };
      },
    }, timers, (e) => errors.push(e));
    return { clock, sm, writes, errors };
  }

  it("writes only changes, coalescing to the newest status", async () => {
    const { sm, writes } = setup();
    sm.setPodStatus(pod(), running);
    sm.setPodStatus(pod(), { ...running, podIP: "10.0.0.2" });
    sm.setPodStatus(pod(), { ...running, podIP: "10.0.0.2" });
    await sm.flush("u1");
    expect(writes.length).toBe(2);
    expect((writes[1] as { status: PodStatus }).status.podIP).toBe("10.0.0.2");
    sm.setPodStatus(pod(), { ...running, podIP: "10.0.0.2" });
    await sm.flush("u1");
    expect(writes.length).toBe(2);
    expect(sm.stats.writes).toBe(2);
  });

  it("does not rewrite what the API already holds (agent restart)", async () => {
    const { sm, writes } = setup();
    sm.setPodStatus({ ...pod(), status: running }, running);
    await sm.flush("u1");
    expect(writes.length).toBe(0);
    expect(sm.stats.skipped).toBe(1);
  });

  it("retries failed writes with backoff; a 404 drops the pod", async () => {
    const { sm, writes, errors, clock } = setup((n) => (n === 0 ? new ApiError(500, "InternalError", "boom") : undefined));
    sm.setPodStatus(pod(), running);
    const flushed = sm.flush("u1");
    for (let i = 0; i < 20 && writes.length < 2; i++) {
      await new Promise((r) => setImmediate(r));
      clock.advance(250);
    }
    await flushed;
    expect(writes.length).toBe(2);
    expect(errors.length).toBe(1);
    const gone = setup(() => new ApiError(404, "NotFound", 'pods "p" not found'));
    gone.sm.setPodStatus(pod("u2"), running);
    await gone.sm.flush("u2");
    expect(gone.writes.length).toBe(1);
    expect(gone.errors.length).toBe(0);
  });
});
