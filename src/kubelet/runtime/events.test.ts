import { describe, expect, it } from "vitest";
import { RuntimeError } from "./errors.ts";
import { EventBroadcaster } from "./events.ts";

describe("EventBroadcaster", () => {
  it("delivers to each subscriber from its subscription on", async () => {
    const b = new EventBroadcaster<number>();
    b.publish(0); // nobody listens: dropped
    const a = b.subscribe()[Symbol.asyncIterator]();
    b.publish(1);
    const c = b.subscribe()[Symbol.asyncIterator]();
    b.publish(2);
    expect((await a.next()).value).toBe(1);
    expect((await a.next()).value).toBe(2);
    expect((await c.next()).value).toBe(2);
    const pending = c.next();
    b.publish(3);
    expect((await pending).value).toBe(3);
  });
  it("unsubscribes on return() and ends everyone on close()", async () => {
    const b = new EventBroadcaster<number>();
    const a = b.subscribe()[Symbol.asyncIterator]();
    const c = b.subscribe()[Symbol.asyncIterator]();
    await a.return!();
    expect(b.subscribers).toBe(1);
    const waiting = c.next();
    b.close();
    expect((await waiting).done).toBe(true);
    expect((await b.subscribe()[Symbol.asyncIterator]().next()).done).toBe(true);
  });
  it("return() also ends a next() that is already waiting", async () => {
    const b = new EventBroadcaster<number>();
    const a = b.subscribe()[Symbol.asyncIterator]();
    const waiting = a.next();
    await a.return!();
    expect((await waiting).done).toBe(true);
    b.publish(1);
    expect((await a.next()).done).toBe(true);
  });
  it("cuts off a subscriber that falls behind with Unavailable, after what it had", async () => {
    const b = new EventBroadcaster<number>(3);
    const a = b.subscribe()[Symbol.asyncIterator]();
    for (let i = 0; i < 5; i++) b.publish(i);
    expect(b.subscribers).toBe(0);
    const got: number[] = [];
    let err: unknown;
    try {
      for (;;) {
        const r = await a.next();
        if (r.done) break;
        got.push(r.value);
      }
    } catch (e) {
      err = e;
    }
    expect(got).toEqual([0, 1, 2]);
    expect(err).toBeInstanceOf(RuntimeError);
    expect((err as RuntimeError).code).toBe("Unavailable");
  });
  it("rejects a bad buffer limit", () => {
    expect(() => new EventBroadcaster(0)).toThrow(RangeError);
  });
});
