import { describe, it, expect } from "vitest";
import { QueueSet, type Entry } from "./queueset.ts";
import { dealHand, flowHash } from "./shuffle.ts";

describe("dealHand", () => {
  it("deals distinct cards inside the deck, deterministically", () => {
    for (let i = 0; i < 500; i++) {
      const h = flowHash(`flow-${i}`);
      const hand = dealHand(h, 64, 6);
      expect(new Set(hand).size).toBe(6);
      for (const c of hand) expect(c >= 0 && c < 64).toBe(true);
      expect(dealHand(h, 64, 6)).toEqual(hand);
    }
  });
  it("spreads flows over the deck", () => {
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) for (const c of dealHand(flowHash(`u${i}`), 128, 6)) seen.add(c);
    expect(seen.size).toBeGreaterThan(120);
  });
  it("rejects impossible hands", () => {
    expect(() => dealHand(1, 4, 5)).toThrow(RangeError);
    expect(() => dealHand(1, 4, 0)).toThrow("cannot deal a hand of 0 from a deck of 4");
    expect(() => dealHand(1, 1 << 20, 6)).toThrow("needs more than 52 bits");
  });
});

describe("QueueSet", () => {
  const cfg = { concurrencyLimit: 2, queues: 8, handSize: 2, queueLengthLimit: 50 };

  it("executes up to the limit, then queues", () => {
    const qs = new QueueSet<string>(cfg);
    expect(qs.offer("a", 1, 0).outcome).toBe("execute");
    expect(qs.offer("b", 1, 0).outcome).toBe("execute");
    expect(qs.offer("c", 1, 0).outcome).toBe("queued");
    expect([qs.executing, qs.waiting]).toEqual([2, 1]);
  });

  it("a flood from one flow does not starve another flow", () => {
    const qs = new QueueSet<string>({ ...cfg, concurrencyLimit: 1 });
    const running: Entry<string>[] = [];
    const first = qs.offer("flood-0", flowHash("flood"), 0);
    if (first.outcome !== "execute") throw new Error("expected execute");
    running.push(first.entry);
    for (let i = 1; i <= 40; i++) expect(qs.offer(`flood-${i}`, flowHash("flood"), i).outcome).toBe("queued");
    // another flow arrives after the flood is queued
    let other = "other-0";
    expect(qs.offer(other, flowHash("other"), 100).outcome).toBe("queued");
    const order: string[] = [];
    for (let k = 0; k < 6; k++) {
      const next = qs.finish(running.shift() as Entry<string>);
      for (const e of next) {
        order.push(e.value);
        running.push(e);
      }
      if (k === 2) {
        other = "other-1";
        qs.offer(other, flowHash("other"), 200);
      }
    }
    // The flood spreads over its hand of 2 queues; round robin over 3 busy queues serves the
    // other flow within 3 dispatches, despite 40 flood requests queued before it.
    expect(order.slice(0, 3)).toContain("other-0");
    expect(order).toContain("other-1");
  });

  it("rejects when the flow's queues are full", () => {
    const qs = new QueueSet<number>({ concurrencyLimit: 1, queues: 4, handSize: 1, queueLengthLimit: 3 });
    qs.offer(0, 7, 0);
    for (let i = 1; i <= 3; i++) expect(qs.offer(i, 7, 0).outcome).toBe("queued");
    expect(qs.offer(4, 7, 0)).toEqual({ outcome: "rejected", reason: "queue-full" });
  });

  it("rejects at once without queues (LimitResponse Reject)", () => {
    const qs = new QueueSet<number>({ concurrencyLimit: 1, queues: 0, handSize: 1, queueLengthLimit: 1 });
    expect(qs.offer(0, 1, 0).outcome).toBe("execute");
    expect(qs.offer(1, 1, 0)).toEqual({ outcome: "rejected", reason: "concurrency-limit" });
  });

  it("removes waiting requests (time-out, cancel) and ignores double finishes", () => {
    const qs = new QueueSet<number>({ ...cfg, concurrencyLimit: 1 });
    const a = qs.offer(0, 1, 0);
    const b = qs.offer(1, 1, 5);
    const c = qs.offer(2, 1, 10);
    if (a.outcome !== "execute" || b.outcome !== "queued" || c.outcome !== "queued") throw new Error("unexpected outcomes");
    expect(qs.waitingSince(5).map((e) => e.value)).toEqual([1]);
    expect(qs.remove(b.entry)).toBe(true);
    expect(qs.remove(b.entry)).toBe(false);
    expect(qs.finish(a.entry).map((e) => e.value)).toEqual([2]);
    expect(qs.finish(a.entry)).toEqual([]);
    expect(qs.remove(c.entry)).toBe(false); // already executing
    expect([qs.executing, qs.waiting]).toEqual([1, 0]);
  });

  it("rejects bad configurations", () => {
    expect(() => new QueueSet({ ...cfg, concurrencyLimit: 0 })).toThrow("concurrencyLimit must be a positive integer");
    expect(() => new QueueSet({ ...cfg, queues: -1 })).toThrow("queues must be a non-negative integer");
    expect(() => new QueueSet({ ...cfg, queueLengthLimit: 0 })).toThrow("queueLengthLimit must be a positive integer");
    expect(() => new QueueSet({ ...cfg, handSize: 9 })).toThrow(RangeError);
  });
});
