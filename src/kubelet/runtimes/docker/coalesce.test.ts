import { describe, expect, it } from "vitest";
import { Coalescer } from "./coalesce.ts";

/** A read whose answer is chosen when it is released; records the "version" current at its start. */
function controlled() {
  let version = 0;
  const reads: { startedAt: number; release: () => void; fail: (e: Error) => void }[] = [];
  const fn = (): Promise<number> =>
    new Promise<number>((resolve, reject) => {
      const startedAt = version;
      reads.push({ startedAt, release: () => resolve(startedAt), fail: reject });
    });
  return { fn, reads, write: () => ++version };
}

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

describe("Coalescer", () => {
  it("starts a read at once when none is in flight", async () => {
    const c = new Coalescer<number>();
    const s = controlled();
    const p = c.run("k", s.fn);
    expect(s.reads.length).toBe(1);
    s.reads[0]!.release();
    expect(await p).toBe(0);
    expect(c.pending).toBe(0);
  });

  it("callers arriving during a read share one follow-up read that starts after it", async () => {
    const c = new Coalescer<number>();
    const s = controlled();
    const first = c.run("k", s.fn);
    s.write(); // a write the later callers made before calling
    const later = [c.run("k", s.fn), c.run("k", s.fn), c.run("k", s.fn)];
    expect(s.reads.length).toBe(1);
    s.reads[0]!.release();
    expect(await first).toBe(0);
    await tick();
    expect(s.reads.length).toBe(2); // one follow-up for all three
    s.reads[1]!.release();
    expect(await Promise.all(later)).toEqual([1, 1, 1]); // they see their write
    expect(c.started).toBe(2);
  });

  it("keys are independent", async () => {
    const c = new Coalescer<number>();
    const s = controlled();
    const a = c.run("a", s.fn);
    const b = c.run("b", s.fn);
    expect(s.reads.length).toBe(2);
    s.reads[0]!.release();
    s.reads[1]!.release();
    expect([await a, await b]).toEqual([0, 0]);
  });

  it("a failed read rejects only its callers; the follow-up still runs", async () => {
    const c = new Coalescer<number>();
    const s = controlled();
    const first = c.run("k", s.fn);
    const second = c.run("k", s.fn);
    s.reads[0]!.fail(new Error("daemon gone"));
    await expect(first).rejects.toThrow("daemon gone");
    await tick();
    s.reads[1]!.release();
    expect(await second).toBe(0);
    expect(c.pending).toBe(0);
  });

  it("a function that throws synchronously rejects its callers and leaves nothing pending", async () => {
    const c = new Coalescer<number>();
    await expect(c.run("k", () => { throw new Error("bad filter"); })).rejects.toThrow("bad filter");
    expect(c.pending).toBe(0);
    expect(await c.run("k", () => Promise.resolve(7))).toBe(7);
  });

  it("nothing is cached after a read settles", async () => {
    const c = new Coalescer<number>();
    let n = 0;
    expect(await c.run("k", () => Promise.resolve(++n))).toBe(1);
    expect(await c.run("k", () => Promise.resolve(++n))).toBe(2);
  });
});
