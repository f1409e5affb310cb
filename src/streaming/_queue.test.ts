import { describe, expect, it } from "vitest";
import { AsyncQueue, ByteBuffer } from "./_queue.ts";

describe("AsyncQueue", () => {
  it("delivers buffered items, then the end", async () => {
    const q = new AsyncQueue<number>(2);
    q.push(1);
    q.push(2);
    q.end();
    expect(q.push(3)).toBe(false);
    const got: number[] = [];
    for await (const x of q) got.push(x);
    expect(got).toEqual([1, 2]);
  });

  it("hands items to a waiting consumer and reports consumption", async () => {
    const taken: number[] = [];
    const q = new AsyncQueue<number>(2, (x) => taken.push(x));
    const next = q.next();
    q.push(7);
    expect(await next).toEqual({ value: 7, done: false });
    expect(taken).toEqual([7]);
  });

  it("end(err) rejects after the buffered items", async () => {
    const q = new AsyncQueue<number>();
    q.push(1);
    q.end(new Error("boom"));
    expect(await q.next()).toEqual({ value: 1, done: false });
    await expect(q.next()).rejects.toThrow("boom");
    expect(await q.next()).toEqual({ value: undefined, done: true });
  });

  it("waitForSpace blocks at the high-water mark until the consumer takes an item", async () => {
    const q = new AsyncQueue<number>(1);
    q.push(1);
    let free = false;
    const w = q.waitForSpace().then(() => (free = true));
    await new Promise((r) => setTimeout(r, 5));
    expect(free).toBe(false);
    await q.next();
    await w;
    expect(free).toBe(true);
  });

  it("allows a single consumer; return() cancels", async () => {
    const q = new AsyncQueue<number>();
    const it = q[Symbol.asyncIterator]();
    expect(() => q[Symbol.asyncIterator]()).toThrow(/single consumer/);
    q.push(1);
    await it.return?.();
    expect(q.ended).toBe(true);
    expect(q.size).toBe(0);
  });
});

describe("ByteBuffer", () => {
  it("takes exact lengths across chunks", () => {
    const b = new ByteBuffer();
    b.append(new Uint8Array([1, 2]));
    b.append(new Uint8Array([3]));
    b.append(new Uint8Array([4, 5, 6]));
    expect(b.at(3)).toBe(4);
    expect([...b.take(4)]).toEqual([1, 2, 3, 4]);
    expect([...b.take(2)]).toEqual([5, 6]);
    expect(() => b.take(1)).toThrow(RangeError);
    expect(() => b.at(0)).toThrow(RangeError);
  });
});
