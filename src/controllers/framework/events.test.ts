import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../api/object.ts";
import { EventCorrelator, WritingEventRecorder } from "./events.ts";
import { RecordingWriter } from "./recording.ts";

const rs: KubeObject = { apiVersion: "apps/v1", kind: "ReplicaSet", metadata: { name: "web-1", namespace: "default", uid: "u1", resourceVersion: "7" } };
const T = Date.parse("2024-01-01T00:00:00Z");

describe("EventCorrelator", () => {
  it("creates an Event with involvedObject, reason, message, source and count 1", () => {
    const c = new EventCorrelator({ component: "replicaset-controller" });
    const r = c.correlate(rs, "Normal", "SuccessfulCreate", "Created pod: web-1-x", T);
    expect(r.action).toBe("create");
    if (r.action !== "create") return;
    expect(r.event).toMatchObject({
      apiVersion: "v1", kind: "Event", metadata: { namespace: "default" },
      involvedObject: { kind: "ReplicaSet", namespace: "default", name: "web-1", uid: "u1", apiVersion: "apps/v1" },
      reason: "SuccessfulCreate", message: "Created pod: web-1-x", type: "Normal", source: { component: "replicaset-controller" },
      count: 1, firstTimestamp: "2024-01-01T00:00:00Z", lastTimestamp: "2024-01-01T00:00:00Z",
    });
    expect(r.event.metadata?.name).toMatch(/^web-1\.[0-9a-f]+$/);
  });

  it("aggregates identical events into a count patch within the window, and starts over after it", () => {
    const c = new EventCorrelator({ component: "x", windowMs: 60_000 });
    const first = c.correlate(rs, "Warning", "FailedCreate", "boom", T);
    const second = c.correlate(rs, "Warning", "FailedCreate", "boom", T + 1000);
    expect(second).toEqual({ action: "patch", namespace: "default", name: first.action === "create" ? first.event.metadata?.name : "", patch: { count: 2, lastTimestamp: "2024-01-01T00:00:01Z", message: "boom" } });
    expect(c.correlate(rs, "Warning", "FailedCreate", "boom", T + 120_000).action).toBe("create");
  });

  it("combines similar events with different messages past the threshold", () => {
    const c = new EventCorrelator({ component: "x", aggregateThreshold: 3 });
    for (let i = 0; i < 3; i++) expect(c.correlate(rs, "Normal", "R", `m${i}`, T + i).action).toBe("create");
    const combined = c.correlate(rs, "Normal", "R", "m3", T + 10);
    expect(combined.action === "create" && combined.event["message"]).toBe("(combined from similar events): m3");
    const next = c.correlate(rs, "Normal", "R", "m4", T + 11);
    expect(next.action).toBe("patch");
  });
});

describe("WritingEventRecorder", () => {
  it("writes creates and patches through the writer, in order, without failing the caller", async () => {
    const w = new RecordingWriter();
    const rec = new WritingEventRecorder(w, { component: "c", now: () => T });
    rec.event(rs, "Normal", "A", "a");
    rec.event(rs, "Normal", "A", "a");
    await rec.flush();
    expect(w.summary().map((s) => s.replace(/\.[0-9a-f]+$/, ".<id>"))).toEqual(["create events default/web-1.<id>", "patch events default/web-1.<id>"]);
    w.reactors.push(() => new Error("apiserver down"));
    rec.event(rs, "Normal", "B", "b");
    await rec.flush();
    expect(rec.failed).toBe(1);
  });

  it("drops events beyond maxPending", async () => {
    const rec = new WritingEventRecorder(new RecordingWriter(), { component: "c", maxPending: 2 });
    for (let i = 0; i < 5; i++) rec.event(rs, "Normal", "A", `m${i}`);
    expect(rec.dropped).toBe(3);
    await rec.flush();
  });
});
