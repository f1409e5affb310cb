import { describe, expect, it } from "vitest";
import { EventWindow } from "./window.ts";

const ev = (revision: number) => ({ revision });
const revs = (xs: readonly { revision: number }[] | undefined) => xs?.map((x) => x.revision);

describe("EventWindow", () => {
  it("fixed capacity keeps the last N events and raises the floor on eviction", () => {
    const w = new EventWindow({ capacity: 3 });
    w.reset(10);
    for (let r = 11; r <= 15; r++) w.append(ev(r));
    expect(w.capacity).toBe(3);
    expect(w.floor).toBe(12);
    expect(revs(w.after(12))).toEqual([13, 14, 15]);
    expect(revs(w.after(14))).toEqual([15]);
    expect(revs(w.after(15))).toEqual([]);
    expect(w.after(11)).toBeUndefined();
  });

  it("dynamic: grows while the oldest event is younger than the time window, up to the maximum", () => {
    let now = 0;
    const w = new EventWindow({ minCapacity: 4, maxCapacity: 16, windowMs: 1000, now: () => now });
    for (let r = 1; r <= 20; r++) { w.append(ev(r)); now += 10; }
    expect(w.capacity).toBe(16);
    expect(w.size).toBe(16);
    expect(w.floor).toBe(4);
    expect(revs(w.after(4))).toEqual(Array.from({ length: 16 }, (_, i) => i + 5));
  });

  it("dynamic: evicts instead of growing once the oldest event is outside the time window", () => {
    let now = 0;
    const w = new EventWindow({ minCapacity: 4, maxCapacity: 64, windowMs: 100, now: () => now });
    for (let r = 1; r <= 10; r++) { w.append(ev(r)); now += 60; }
    // Every event is 60 ms apart: a full ring's oldest event is always older than 100 ms.
    expect(w.capacity).toBe(4);
    expect(revs(w.after(w.floor))).toEqual([7, 8, 9, 10]);
  });

  it("dynamic: shrinks back when the older half has left the time window", () => {
    let now = 0;
    const w = new EventWindow({ minCapacity: 2, maxCapacity: 64, windowMs: 1000, now: () => now });
    for (let r = 1; r <= 16; r++) w.append(ev(r)); // a burst at t=0
    expect(w.capacity).toBe(16);
    now = 5000;
    w.append(ev(17)); // full, half of it old: halves to 8, keeping the newest events
    expect(w.capacity).toBe(8);
    expect(w.after(8)).toBeUndefined();
    expect(revs(w.after(w.floor))?.at(-1)).toBe(17);
    for (let r = 18; r <= 40; r++) { now += 2000; w.append(ev(r)); }
    expect(w.capacity).toBe(2);
    expect(revs(w.after(w.floor))).toEqual([39, 40]);
  });

  it("reset empties the window at a new floor", () => {
    const w = new EventWindow({ capacity: 2 });
    w.append(ev(1));
    w.reset(7);
    expect(w.size).toBe(0);
    expect(revs(w.after(7))).toEqual([]);
    expect(w.after(6)).toBeUndefined();
  });
});
