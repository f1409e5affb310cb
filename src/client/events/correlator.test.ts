import { describe, expect, it } from "vitest";
import { COMBINED_PREFIX, EventCorrelator, type Correlation } from "./correlator.ts";
import type { EventOccurrence, ObjectReference } from "./types.ts";

const T0 = Date.parse("2025-01-01T00:00:00Z");
const rs: ObjectReference = { apiVersion: "apps/v1", kind: "ReplicaSet", namespace: "default", name: "web-1", uid: "u1", resourceVersion: "7" };
const src = { component: "replicaset-controller" };

function occ(message: string, extra: Partial<EventOccurrence> = {}): EventOccurrence {
  return { regarding: rs, type: "Normal", reason: "SuccessfulCreate", message, source: src, ...extra };
}

function setup(opts: { spamBurst?: number; spamRefillMs?: number; aggregateMaxEvents?: number } = {}) {
  let now = T0;
  const c = new EventCorrelator({ clock: () => now, ...opts });
  return { c, advance: (ms: number) => { now += ms; } };
}

const nameOf = (r: Correlation): string => r.event.metadata?.name ?? "";

describe("EventCorrelator: the created Event", () => {
  it("is a core/v1 Event with involvedObject, source, count 1 and timestamps", () => {
    const { c } = setup();
    const r = c.correlate(occ("Created pod: web-1-a"));
    expect(r.kind).toBe("create");
    expect(r.event).toMatchObject({
      apiVersion: "v1", kind: "Event", metadata: { namespace: "default" },
      involvedObject: { kind: "ReplicaSet", namespace: "default", name: "web-1", uid: "u1", apiVersion: "apps/v1" },
      reason: "SuccessfulCreate", message: "Created pod: web-1-a", type: "Normal", source: { component: "replicaset-controller" },
      count: 1, firstTimestamp: "2025-01-01T00:00:00Z", lastTimestamp: "2025-01-01T00:00:00Z",
      reportingComponent: "replicaset-controller", reportingInstance: "",
    });
    expect((r.event["involvedObject"] as ObjectReference).resourceVersion).toBe("7"); // as upstream's references
    expect(nameOf(r)).toMatch(/^web-1\.[0-9a-f]+$/);
  });

  it("two recorders (two processes) naming an Event for one object in the same millisecond pick different names", () => {
    // The scheduler's Scheduled and a kubelet's first event for a pod can land in the same ms.
    const names = new Set<string>();
    // (random sequence starts in [0, 10^6): 10 recorders collide with probability ~5e-5)
    for (let i = 0; i < 10; i++) names.add(nameOf(setup().c.correlate(occ(`from recorder ${i}`))));
    expect(names.size).toBe(10);
  });

  it("names are unique within one millisecond and cluster-scoped objects go to default", () => {
    const { c } = setup();
    const node: ObjectReference = { kind: "Node", name: "n1", apiVersion: "v1" };
    const a = c.correlate(occ("a", { regarding: node }));
    const b = c.correlate(occ("b", { regarding: node }));
    expect(nameOf(a)).not.toBe(nameOf(b));
    expect(a.event.metadata?.namespace).toBe("default");
  });

  it("carries host, instance, fieldPath, action and related", () => {
    const { c } = setup();
    const r = c.correlate(occ("Started container c", {
      regarding: { ...rs, kind: "Pod", fieldPath: "spec.containers{c}" }, source: { component: "kubelet", host: "n1" },
      action: "Start", related: { kind: "Node", name: "n1" },
    }));
    expect(r.event).toMatchObject({ source: { component: "kubelet", host: "n1" }, reportingInstance: "n1", action: "Start", related: { kind: "Node", name: "n1" } });
    expect((r.event["involvedObject"] as ObjectReference).fieldPath).toBe("spec.containers{c}");
  });
});

describe("EventCorrelator: deduplication", () => {
  it("an identical occurrence patches count, lastTimestamp and message of the first Event", () => {
    const { c, advance } = setup();
    const first = c.correlate(occ("boom", { type: "Warning", reason: "FailedCreate" }));
    advance(1000);
    const second = c.correlate(occ("boom", { type: "Warning", reason: "FailedCreate" }));
    advance(1000);
    const third = c.correlate(occ("boom", { type: "Warning", reason: "FailedCreate" }));
    expect(second).toMatchObject({ kind: "patch", patch: { count: 2, lastTimestamp: "2025-01-01T00:00:01Z", message: "boom" } });
    expect(third).toMatchObject({ kind: "patch", patch: { count: 3, lastTimestamp: "2025-01-01T00:00:02Z", message: "boom" } });
    expect(nameOf(third)).toBe(nameOf(first));
    // the full state (for a re-create after the Event expired) keeps the first timestamp
    expect(third.event).toMatchObject({ count: 3, firstTimestamp: "2025-01-01T00:00:00Z", lastTimestamp: "2025-01-01T00:00:02Z" });
  });

  it("occurrences differing in type, reason, field path, object or source are separate Events", () => {
    const { c } = setup();
    const base = c.correlate(occ("m"));
    const variants: EventOccurrence[] = [
      occ("m", { type: "Warning" }), occ("m", { reason: "Other" }),
      occ("m", { regarding: { ...rs, fieldPath: "spec.containers{x}" } }), occ("m", { regarding: { ...rs, uid: "u2" } }),
      occ("m", { source: { component: "other" } }),
    ];
    for (const v of variants) {
      const r = c.correlate(v);
      expect(r.kind).toBe("create");
      expect(nameOf(r)).not.toBe(nameOf(base));
    }
  });

  it("remembers at most maxKeys events (the least recently used are forgotten)", () => {
    let now = T0;
    const c = new EventCorrelator({ clock: () => now++, maxKeys: 2, spamBurst: 0 });
    c.correlate(occ("a", { reason: "A" }));
    c.correlate(occ("b", { reason: "B" }));
    c.correlate(occ("c", { reason: "C" }));
    expect(c.correlate(occ("a", { reason: "A" })).kind).toBe("create");
    expect(c.correlate(occ("c", { reason: "C" })).kind).toBe("patch");
  });
});

describe("EventCorrelator: aggregation of similar events", () => {
  const table: Array<{ name: string; max: number; distinct: number; gapMs: number; creates: number; patches: number; combinedAt: number | undefined }> = [
    { name: "below the threshold: every message its own Event", max: 10, distinct: 9, gapMs: 1000, creates: 9, patches: 0, combinedAt: undefined },
    { name: "the 10th distinct message starts the combined Event, later ones patch it", max: 10, distinct: 25, gapMs: 1000, creates: 10, patches: 15, combinedAt: 9 },
    { name: "a smaller threshold", max: 3, distinct: 6, gapMs: 1000, creates: 3, patches: 3, combinedAt: 2 },
    { name: "gaps longer than the 10 min window never combine", max: 3, distinct: 6, gapMs: 601_000, creates: 6, patches: 0, combinedAt: undefined },
  ];
  for (const t of table) {
    it(t.name, () => {
      const { c, advance } = setup({ aggregateMaxEvents: t.max, spamBurst: 0 });
      const results: Correlation[] = [];
      for (let i = 0; i < t.distinct; i++) {
        results.push(c.correlate(occ(`Created pod: web-1-${i}`)));
        advance(t.gapMs);
      }
      expect(results.filter((r) => r.kind === "create")).toHaveLength(t.creates);
      expect(results.filter((r) => r.kind === "patch")).toHaveLength(t.patches);
      const first = results.findIndex((r) => String(r.event["message"]).startsWith(COMBINED_PREFIX));
      expect(first === -1 ? undefined : first).toBe(t.combinedAt);
      if (t.combinedAt !== undefined) {
        const last = results.at(-1)!;
        expect(last.event["message"]).toBe(`${COMBINED_PREFIX}Created pod: web-1-${t.distinct - 1}`);
        expect(last.kind === "patch" && last.patch["count"]).toBe(t.distinct - t.combinedAt);
        expect(nameOf(last)).toBe(nameOf(results[t.combinedAt]!));
      }
    });
  }
});

describe("EventCorrelator: spam filter (token bucket per source + object)", () => {
  it("lets a burst of 25 through, then one per 5 minutes, up to the burst again", () => {
    const { c, advance } = setup({ aggregateMaxEvents: 1000 });
    const kinds = (n: number, prefix: string): string[] => Array.from({ length: n }, (_, i) => c.correlate(occ(`${prefix}${i}`)).kind);
    expect(kinds(25, "a").every((k) => k === "create")).toBe(true);
    expect(kinds(5, "b")).toEqual(["skip", "skip", "skip", "skip", "skip"]);
    advance(299_000);
    expect(kinds(1, "c")).toEqual(["skip"]);
    advance(1_000); // 5 min since the bucket emptied: one token
    expect(kinds(2, "d")).toEqual(["create", "skip"]);
    advance(300_000 * 100); // long idle: refills to the burst, not beyond
    expect(kinds(26, "e").filter((k) => k === "create")).toHaveLength(25);
  });

  it("buckets are per source and object: another object or another source is not limited", () => {
    const { c } = setup({ spamBurst: 2, aggregateMaxEvents: 1000 });
    expect([c.correlate(occ("1")).kind, c.correlate(occ("2")).kind, c.correlate(occ("3")).kind]).toEqual(["create", "create", "skip"]);
    expect(c.correlate(occ("4", { regarding: { ...rs, name: "web-2", uid: "u2" } })).kind).toBe("create");
    expect(c.correlate(occ("5", { source: { component: "other" } })).kind).toBe("create");
  });

  it("a filtered repeat still counts: the next written patch carries the true count", () => {
    let now = T0;
    const c = new EventCorrelator({ clock: () => now, spamBurst: 1, spamRefillMs: 1000 });
    expect(c.correlate(occ("x")).kind).toBe("create");
    expect(c.correlate(occ("x")).kind).toBe("skip");
    now += 1000;
    expect(c.correlate(occ("x"))).toMatchObject({ kind: "patch", patch: { count: 3 } });
  });

  it("spamBurst 0 turns the filter off; bad settings are a RangeError", () => {
    const { c } = setup({ spamBurst: 0, aggregateMaxEvents: 1000 });
    for (let i = 0; i < 100; i++) expect(c.correlate(occ(`m${i}`)).kind).toBe("create");
    expect(() => new EventCorrelator({ clock: Date.now, aggregateMaxEvents: 0 })).toThrow(RangeError);
    expect(() => new EventCorrelator({ clock: Date.now, spamRefillMs: 0 })).toThrow(/invalid spam filter/);
    expect(() => new EventCorrelator({ clock: Date.now, maxKeys: 0 })).toThrow(/positive integer/);
  });
});
