import { describe, expect, it } from "vitest";
import { FakeClock } from "./clock.ts";
import { TimerQueue } from "./timers.ts";

describe("FakeClock", () => {
  it("fires timers in time order with now() at their due time, only when advanced", () => {
    const c = new FakeClock(1000);
    const seen: string[] = [];
    c.setTimeout(() => seen.push(`b@${c.now()}`), 20);
    c.setTimeout(() => seen.push(`a@${c.now()}`), 10);
    const h = c.setTimeout(() => seen.push("cancelled"), 15);
    c.clearTimeout(h);
    expect(c.pendingTimers()).toBe(2);
    c.advance(5);
    expect(seen).toEqual([]);
    c.advance(100);
    expect(seen).toEqual(["a@1010", "b@1020"]);
    expect(c.now()).toBe(1105);
  });
  it("runs timers set by timers within the same advance", () => {
    const c = new FakeClock(0);
    const seen: number[] = [];
    c.setTimeout(() => c.setTimeout(() => seen.push(c.now()), 5), 5);
    c.advance(10);
    expect(seen).toEqual([10]);
  });
  it("rejects moving backwards", () => {
    expect(() => new FakeClock().advance(-1)).toThrow(RangeError);
  });
});

describe("TimerQueue", () => {
  it("runs tasks in (time, insertion) order and keeps exactly one clock timer", () => {
    const c = new FakeClock(0);
    const q = new TimerQueue(c);
    const seen: number[] = [];
    for (let i = 0; i < 1000; i++) q.schedule((i * 7919) % 500, () => seen.push(i));
    expect(c.pendingTimers()).toBe(1);
    expect(q.size).toBe(1000);
    c.advance(250);
    expect(c.pendingTimers()).toBe(1);
    c.advance(1000);
    expect(seen.length).toBe(1000);
    const at = seen.map((i) => (i * 7919) % 500);
    expect(at).toEqual([...at].sort((a, b) => a - b));
    expect(c.pendingTimers()).toBe(0);
    expect(q.size).toBe(0);
  });
  it("cancels lazily, compacts, and disarms when empty", () => {
    const c = new FakeClock(0);
    const q = new TimerQueue(c);
    const tasks = Array.from({ length: 200 }, (_, i) => q.schedule(100 + i, () => {
      throw new Error("cancelled task ran");
    }));
    for (const t of tasks) t.cancel();
    tasks[0]!.cancel(); // idempotent
    expect(q.size).toBe(0);
    expect(c.pendingTimers()).toBe(0);
    let ran = false;
    q.schedule(50, () => (ran = true));
    c.advance(1000);
    expect(ran).toBe(true);
  });
  it("re-arms for an earlier task and handles tasks scheduled from tasks", () => {
    const c = new FakeClock(0);
    const q = new TimerQueue(c);
    const seen: string[] = [];
    q.schedule(100, () => seen.push("late"));
    q.schedule(10, () => {
      seen.push("early");
      q.schedule(0, () => seen.push("chained"));
    });
    expect(c.pendingTimers()).toBe(1);
    c.advance(10);
    expect(seen).toEqual(["early", "chained"]);
    c.advance(90);
    expect(seen).toEqual(["early", "chained", "late"]);
  });
  it("clear() drops everything", () => {
    const c = new FakeClock(0);
    const q = new TimerQueue(c);
    q.schedule(10, () => {
      throw new Error("cleared task ran");
    });
    q.clear();
    expect(c.pendingTimers()).toBe(0);
    c.advance(100);
  });
  it("reports a throwing task and still runs the others", () => {
    const c = new FakeClock(0);
    const errors: unknown[] = [];
    const q = new TimerQueue(c, (e) => errors.push(e));
    let ran = false;
    q.schedule(1, () => {
      throw new Error("boom");
    });
    q.schedule(1, () => (ran = true));
    c.advance(1);
    expect(ran).toBe(true);
    expect(String(errors[0])).toMatch(/boom/);
  });
  it("rejects NaN times", () => {
    expect(() => new TimerQueue(new FakeClock()).scheduleAt(Number.NaN, () => {})).toThrow(RangeError);
  });
  it("works on the system clock", async () => {
    const q = new TimerQueue();
    const t0 = Date.now();
    await new Promise<void>((resolve) => q.schedule(5, resolve));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(4);
  });
});
