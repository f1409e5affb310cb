import { describe, expect, it } from "vitest";
import { EventSeriesCorrelator } from "./series.ts";
import type { EventOccurrence } from "./types.ts";

const T0 = Date.parse("2025-01-01T00:00:00Z");
const pod = { apiVersion: "v1", kind: "Pod", namespace: "default", name: "big", uid: "u1" };

function occ(message: string, extra: Partial<EventOccurrence> = {}): EventOccurrence {
  return { regarding: pod, type: "Warning", reason: "FailedScheduling", action: "Scheduling", message, source: { component: "default-scheduler", instance: "s1" }, ...extra };
}

function setup(refreshMs = 10_000) {
  let now = T0;
  const s = new EventSeriesCorrelator({ clock: () => now, refreshMs });
  return { s, advance: (ms: number) => { now += ms; } };
}

describe("EventSeriesCorrelator", () => {
  it("creates with eventTime, patches series count 2 at once, then accumulates", () => {
    const { s, advance } = setup();
    const first = s.observe(occ("0/5 nodes are available"));
    expect(first.kind).toBe("create");
    expect(first.event).toMatchObject({ eventTime: "2025-01-01T00:00:00.000000Z", action: "Scheduling", reportingComponent: "default-scheduler", reportingInstance: "s1", count: 1 });
    advance(2000);
    const second = s.observe(occ("0/6 nodes are available"));
    expect(second).toMatchObject({ kind: "patch", patch: { series: { count: 2, lastObservedTime: "2025-01-01T00:00:02.000000Z" }, message: "0/6 nodes are available" } });
    expect(second.event.metadata?.name).toBe(first.event.metadata?.name);
    advance(2000);
    expect(s.observe(occ("x")).kind).toBe("skip");
  });

  it("a pod failing every 2 s for a minute: 1 create, patches at most every refresh, the exact final count", () => {
    const { s, advance } = setup(10_000);
    let creates = 0, patches = 0, lastCount = 0;
    for (let i = 0; i < 30; i++) {
      const r = s.observe(occ("no fit"));
      if (r.kind === "create") creates++;
      if (r.kind === "patch") patches++;
      for (const w of s.due()) { patches++; lastCount = (w.patch["series"] as { count: number }).count; }
      advance(2000);
    }
    for (const w of s.due(true)) { patches++; lastCount = (w.patch["series"] as { count: number }).count; }
    expect(creates).toBe(1);
    expect(patches).toBeGreaterThanOrEqual(6);
    expect(patches).toBeLessThanOrEqual(8);
    expect(lastCount).toBe(30);
    expect(s.due(true)).toEqual([]); // nothing unwritten
  });

  it("the message is not part of the key; action, reason, object and related are", () => {
    const { s } = setup();
    const base = s.observe(occ("a"));
    expect(s.observe(occ("b")).event.metadata?.name).toBe(base.event.metadata?.name);
    for (const v of [occ("a", { reason: "Other" }), occ("a", { action: "Binding" }), occ("a", { regarding: { ...pod, uid: "u2" } }), occ("a", { related: { kind: "Pod", name: "hi" } })]) {
      expect(s.observe(v).kind).toBe("create");
    }
  });

  it("a series unobserved for 6 min is finished: last write, then the next occurrence is a new Event", () => {
    const { s, advance } = setup(10_000);
    const first = s.observe(occ("a"));
    s.observe(occ("a"));
    s.observe(occ("a")); // count 3, unwritten
    advance(361_000);
    const last = s.due();
    expect(last).toHaveLength(1);
    expect(last[0]!.patch["series"]).toMatchObject({ count: 3 });
    const again = s.observe(occ("a"));
    expect(again.kind).toBe("create");
    expect(again.event.metadata?.name).not.toBe(first.event.metadata?.name);
  });

  it("rejects bad timing", () => {
    expect(() => new EventSeriesCorrelator({ clock: Date.now, refreshMs: -1 })).toThrow(/invalid series timing/);
    expect(() => new EventSeriesCorrelator({ clock: Date.now, finishMs: 0 })).toThrow(RangeError);
  });
});
