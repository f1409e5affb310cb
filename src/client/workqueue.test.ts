import { describe, expect, it } from "vitest";
import { BucketRateLimiter, ItemExponentialRateLimiter, MaxOfRateLimiter, WorkQueue, type Clock } from "./workqueue.ts";
import { backoffDelay } from "./backoff.ts";

/** A manual clock: timers fire only when `advance` passes their time. */
function fakeClock() {
  let t = 0;
  let timers: Array<{ at: number; fn: () => void; id: number }> = [];
  let seq = 0;
  const clock: Clock = {
    now: () => t,
    setTimer: (fn, ms) => {
      const id = seq++;
      timers.push({ at: t + ms, fn, id });
      return () => { timers = timers.filter((x) => x.id !== id); };
    },
  };
  const advance = (ms: number): void => {
    t += ms;
    const due = timers.filter((x) => x.at <= t).sort((a, b) => a.at - b.at);
    timers = timers.filter((x) => x.at > t);
    for (const d of due) d.fn();
  };
  return { clock, advance, pending: () => timers.length };
}

describe("WorkQueue", () => {
  it("deduplicates queued keys and hands keys out in FIFO order", async () => {
    const q = new WorkQueue<string>();
    q.add("a"); q.add("b"); q.add("a");
    expect(q.length).toBe(2);
    expect(await q.get()).toBe("a");
    expect(await q.get()).toBe("b");
    expect(q.processingCount).toBe(2);
  });

  it("never hands out a key being processed; an add meanwhile re-queues it on done", async () => {
    const q = new WorkQueue<string>();
    q.add("a");
    const k = await q.get();
    q.add("a"); q.add("a");
    expect(q.length).toBe(0); // dirty, not queued while processing
    q.done(k!);
    expect(q.length).toBe(1);
    expect(await q.get()).toBe("a");
    q.done("a");
    expect(q.length).toBe(0);
    q.done("never-handed-out"); // harmless
  });

  it("wakes a waiting get on add, and shutDown releases waiters with undefined", async () => {
    const q = new WorkQueue<string>();
    const p = q.get();
    q.add("x");
    expect(await p).toBe("x");
    const waiting = q.get();
    q.shutDown();
    expect(await waiting).toBeUndefined();
    q.add("y");
    expect(q.length).toBe(0);
    expect(await q.get()).toBeUndefined();
  });

  it("hands out keys queued before shutDown, and shutDownWithDrain waits for done", async () => {
    const q = new WorkQueue<string>();
    q.add("a"); q.add("b");
    const a = await q.get();
    let drained = false;
    const d = q.shutDownWithDrain().then(() => { drained = true; });
    expect(await q.get()).toBe("b");
    q.done("b");
    await Promise.resolve();
    expect(drained).toBe(false);
    q.done(a!);
    await d;
    expect(drained).toBe(true);
    expect(await q.get()).toBeUndefined();
  });

  it("addRateLimited backs off exponentially per item; forget resets", async () => {
    const { clock, advance } = fakeClock();
    const q = new WorkQueue<string>({ clock, rateLimiter: new ItemExponentialRateLimiter(10, 1000) });
    q.addRateLimited("a"); // 10 ms
    expect(q.length).toBe(0);
    advance(9);
    expect(q.length).toBe(0);
    advance(1);
    expect(q.length).toBe(1);
    q.done((await q.get())!);
    q.addRateLimited("a"); // 20 ms
    advance(19);
    expect(q.length).toBe(0);
    advance(1);
    expect(q.length).toBe(1);
    expect(q.numRequeues("a")).toBe(2);
    q.forget("a");
    expect(q.numRequeues("a")).toBe(0);
  });

  it("addAfter keeps the earliest pending time and shutDown drops delayed adds", () => {
    const { clock, advance, pending } = fakeClock();
    const q = new WorkQueue<string>({ clock });
    q.addAfter("a", 100);
    q.addAfter("a", 50);
    q.addAfter("a", 200);
    expect(pending()).toBe(1);
    advance(50);
    expect(q.length).toBe(1);
    q.addAfter("b", 0);
    expect(q.length).toBe(2);
    q.addAfter("c", 10);
    q.shutDown();
    expect(pending()).toBe(0);
  });
});

describe("rate limiters", () => {
  it("item exponential: base * 2^n capped", () => {
    const r = new ItemExponentialRateLimiter<string>(5, 100);
    expect([r.when("x"), r.when("x"), r.when("x"), r.when("x"), r.when("x"), r.when("x")]).toEqual([5, 10, 20, 40, 80, 100]);
    expect(r.when("y")).toBe(5);
  });

  it("bucket: burst free, then 1/qps apart; refills with time", () => {
    let t = 0;
    const b = new BucketRateLimiter<string>(10, 2, () => t);
    expect([b.when("a"), b.when("b"), b.when("c"), b.when("d")]).toEqual([0, 0, 100, 200]);
    t = 1000;
    expect(b.when("e")).toBe(0);
    expect(() => new BucketRateLimiter(0, 1)).toThrow(RangeError);
  });

  it("max-of takes the largest delay", () => {
    let t = 0;
    const r = new MaxOfRateLimiter<string>(new ItemExponentialRateLimiter(5, 1000), new BucketRateLimiter(1, 1, () => t));
    expect(r.when("a")).toBe(5);
    expect(r.when("a")).toBe(1000);
    expect(r.numRequeues("a")).toBe(2);
  });

  it("backoffDelay grows, caps and jitters", () => {
    expect([0, 1, 2, 3, 10].map((n) => backoffDelay(n, { initialMs: 100, maxMs: 1000 }, () => 0))).toEqual([100, 200, 400, 800, 1000]);
    expect(backoffDelay(0, { initialMs: 100, jitter: 0.5 }, () => 0.999)).toBeCloseTo(149.95);
  });
});
