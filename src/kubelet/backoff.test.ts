import { describe, expect, it } from "vitest";
import { Backoff } from "./backoff.ts";
import { FakeClock } from "./runtime/clock.ts";
import { fmtDuration } from "./pod-workers.ts";

describe("Backoff (CrashLoopBackOff timing)", () => {
  it("retries the first failure at once, then waits 10 s doubling to 5 min", () => {
    const clock = new FakeClock();
    const b = new Backoff();
    const delays: number[] = [];
    // A container that fails right after every start: restart as soon as the backoff allows.
    for (let i = 0; i < 9; i++) {
      const finished = clock.now();
      if (b.inBackoffSince("c", finished, clock.now())) {
        const wait = b.remaining("c", finished, clock.now());
        delays.push(wait);
        clock.advance(wait);
      }
      expect(b.inBackoffSince("c", finished, clock.now())).toBe(false);
      b.next("c", finished);
      clock.advance(1); // runs 1 ms, fails again
    }
    expect(delays).toEqual([10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000]);
  });

  it("starts over after a failure-free stretch longer than twice the cap", () => {
    const b = new Backoff();
    const t = Date.UTC(2026, 10, 22);
    b.next("c", t);
    b.next("c", t + 1000);
    expect(b.get("c")).toBe(20_000);
    b.next("c", t + 1000 + 600_001);
    expect(b.get("c")).toBe(10_000);
    expect(b.remaining("c", t + 700_000, t + 700_000 + 4000)).toBe(6000);
  });

  it("keys are independent, reset and gc forget them", () => {
    const b = new Backoff({ initialMs: 100, maxMs: 400 });
    b.next("a", 0); b.next("a", 1); b.next("b", 0);
    expect([b.get("a"), b.get("b")]).toEqual([200, 100]);
    b.reset("a");
    expect(b.get("a")).toBe(0);
    b.gc(10_000);
    expect(b.size).toBe(0);
  });

  it("rejects nonsensical settings", () => {
    expect(() => new Backoff({ initialMs: 0 })).toThrow("backoff initialMs must be > 0, got 0");
    expect(() => new Backoff({ initialMs: 10, maxMs: 5 })).toThrow("backoff maxMs (5) must be >= initialMs (10)");
  });

  it("formats delays like Go durations in the waiting message", () => {
    expect([10_000, 40_000, 80_000, 300_000].map(fmtDuration)).toEqual(["10s", "40s", "1m20s", "5m0s"]);
  });
});
