import { describe, expect, it } from "vitest";
import { ApiError } from "../../api/errors.ts";
import { defaultRetriable, EventWriteQueue, type EventWrite, type WriteOutcome } from "./queue.ts";
import { newEventStats } from "./types.ts";

const ev = (name: string, count = 1): EventWrite["event"] => ({ apiVersion: "v1", kind: "Event", metadata: { namespace: "ns", name }, count });
const create = (name: string): EventWrite => ({ key: `ns/${name}`, create: true, event: ev(name) });
const patch = (name: string, count: number): EventWrite => ({ key: `ns/${name}`, create: false, event: ev(name, count), patch: { count } });

/** A write function whose calls stay pending until released. */
function gated() {
  const calls: Array<{ w: EventWrite; resolve: (o: WriteOutcome) => void; reject: (e: unknown) => void }> = [];
  const write = (w: EventWrite): Promise<WriteOutcome> => new Promise((resolve, reject) => calls.push({ w, resolve, reject }));
  return { calls, write };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe("EventWriteQueue", () => {
  it("overload: push never blocks, holds at most maxQueued, drops and counts the rest", async () => {
    const { calls, write } = gated(); // the apiserver answers nothing
    const stats = newEventStats();
    const q = new EventWriteQueue(write, stats, { concurrency: 2, maxQueued: 10 });
    const t0 = performance.now();
    let accepted = 0;
    for (let i = 0; i < 10_000; i++) if (q.push(create(`e${i}`))) accepted++;
    const took = performance.now() - t0;
    expect(took).toBeLessThan(1000); // 10k pushes against a hung apiserver return at once
    expect(calls).toHaveLength(2); // write concurrency
    expect(accepted).toBe(12); // 2 running + 10 held
    expect(q.length).toBe(10);
    expect(stats.dropped).toBe(10_000 - 12);
    for (let i = 0; i < 12; i++) {
      calls[i]!.resolve("created");
      await tick();
    }
    await q.idle();
    expect(stats.created).toBe(12);
  });

  it("writes of one Event run one at a time, in order; waiting ones are coalesced to the newest state", async () => {
    const { calls, write } = gated();
    const stats = newEventStats();
    const q = new EventWriteQueue(write, stats, { concurrency: 4 });
    q.push(create("a"));
    q.push(patch("a", 2));
    q.push(patch("a", 3));
    q.push(patch("a", 4));
    expect(calls).toHaveLength(1);
    expect(stats.coalesced).toBe(2);
    calls[0]!.resolve("created");
    await tick();
    expect(calls).toHaveLength(2);
    expect(calls[1]!.w).toMatchObject({ create: false, patch: { count: 4 } });
    calls[1]!.resolve("patched");
    await q.idle();
    expect(stats).toMatchObject({ created: 1, patched: 1, coalesced: 2 });
  });

  it("a create still waiting absorbs later patches: one create of the newest state", async () => {
    const { calls, write } = gated();
    const q = new EventWriteQueue(write, newEventStats(), { concurrency: 1 });
    q.push(create("busy"));
    q.push(create("b"));
    q.push(patch("b", 5));
    calls[0]!.resolve("created");
    await tick();
    expect(calls[1]!.w).toMatchObject({ key: "ns/b", create: true, event: { count: 5 } });
    calls[1]!.resolve("created");
    await q.idle();
  });

  it("retries transport errors and 5xx with backoff, at most maxAttempts, then gives up", async () => {
    const stats = newEventStats();
    let attempts = 0;
    const q = new EventWriteQueue(async () => { attempts++; throw new Error("connection reset"); }, stats, { maxAttempts: 3, backoff: { initialMs: 5, maxMs: 20 } });
    q.push(create("x"));
    await q.idle();
    expect(attempts).toBe(3);
    expect(stats).toMatchObject({ retried: 2, failed: 1, created: 0 });
  });

  it("succeeds on a later attempt; a newer write waiting meanwhile is folded in", async () => {
    const stats = newEventStats();
    const seen: EventWrite[] = [];
    const q = new EventWriteQueue(async (w) => {
      seen.push(w);
      if (seen.length === 1) throw new ApiError(503, "ServiceUnavailable", "busy");
      return w.create ? "created" : "patched";
    }, stats, { backoff: { initialMs: 20, maxMs: 20, jitter: 0 } });
    q.push(create("y"));
    await tick();
    q.push(patch("y", 2)); // held while the create backs off
    await q.idle();
    expect(seen.map((w) => [w.create, w.event["count"]])).toEqual([[true, 1], [true, 2]]);
    expect(stats).toMatchObject({ retried: 1, created: 1, failed: 0, coalesced: 0 });
  });

  it("does not retry client errors", async () => {
    const stats = newEventStats();
    let attempts = 0;
    const q = new EventWriteQueue(async () => { attempts++; throw new ApiError(422, "Invalid", "bad"); }, stats);
    q.push(create("z"));
    await q.idle();
    expect(attempts).toBe(1);
    expect(stats.failed).toBe(1);
    expect(defaultRetriable(new ApiError(429, "TooManyRequests", "slow down"))).toBe(true);
    expect(defaultRetriable(new ApiError(404, "NotFound", "gone"))).toBe(false);
    expect(defaultRetriable(new TypeError("socket hang up"))).toBe(true);
  });

  it("close drops what waits and cancels backoffs; later pushes are dropped", async () => {
    const { calls, write } = gated();
    const stats = newEventStats();
    const q = new EventWriteQueue(write, stats, { concurrency: 1 });
    q.push(create("a"));
    q.push(create("b"));
    q.close();
    expect(q.push(create("c"))).toBe(false);
    expect(stats.dropped).toBe(2);
    calls[0]!.resolve("created");
    await q.idle();
    expect(calls).toHaveLength(1);
  });

  it("rejects bad options", () => {
    expect(() => new EventWriteQueue(async () => "created", newEventStats(), { concurrency: 0 })).toThrow(/concurrency must be a positive integer/);
    expect(() => new EventWriteQueue(async () => "created", newEventStats(), { maxQueued: 1.5 })).toThrow(/maxQueued/);
    expect(() => new EventWriteQueue(async () => "created", newEventStats(), { maxAttempts: -1 })).toThrow(/maxAttempts/);
  });
});
