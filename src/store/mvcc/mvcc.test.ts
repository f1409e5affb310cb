import { describe, expect, it } from "vitest";
import { StoreError, type Txn } from "../types.ts";
import { MvccEngine } from "./mvcc.ts";
import { WatchHub } from "./watchhub.ts";

const b = (s: string): Uint8Array => new TextEncoder().encode(s);

function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

/** A random writing or non-writing txn over a small key space. */
function randomTxn(r: () => number): Txn {
  const key = (): string => `/k/${Math.floor(r() * 40)}`;
  const x = r();
  if (x < 0.6) return { success: [{ type: "put", key: key(), value: b(String(r())) }] };
  if (x < 0.75) return { success: [{ type: "delete", key: key() }] };
  if (x < 0.8) return { success: [{ type: "delete", key: `/k/${Math.floor(r() * 4)}`, prefix: true }] };
  return {
    compare: [{ key: key(), target: "version", op: ">", value: 1 }],
    success: [{ type: "put", key: key(), value: b("cas") }],
    failure: [{ type: "range", key: "/k/", prefix: true }],
  };
}

/** Everything observable: reads at every readable revision and all events. */
function observe(e: MvccEngine): unknown {
  const out: unknown[] = [e.revision, e.compacted];
  for (let rev = e.compacted; rev <= e.revision; rev++) {
    out.push(e.range({ key: "", prefix: true, revision: rev }).kvs);
    out.push(e.eventsAt(rev));
  }
  return out;
}

describe("MvccEngine", () => {
  it("exportState + fromState rebuilds an identical engine, with compactions in between", () => {
    const r = rng(7);
    const e = new MvccEngine();
    for (let round = 0; round < 6; round++) {
      for (let i = 0; i < 120; i++) e.txn(randomTxn(r));
      if (round % 2 === 1) e.compact(e.revision - Math.floor(r() * 30));
      const copy = MvccEngine.fromState(e.exportState());
      expect(observe(copy)).toEqual(observe(e));
      // Exporting an older revision equals replaying up to it.
      const at = e.compacted + Math.floor(r() * (e.revision - e.compacted));
      const old = MvccEngine.fromState(e.exportState(at));
      expect(old.revision).toBe(at);
      expect(old.range({ key: "", prefix: true }).kvs).toEqual(e.range({ key: "", prefix: true, revision: at }).kvs);
    }
  });

  it("apply() of logged changes equals running the txns", () => {
    const r = rng(9);
    const a = new MvccEngine();
    const replica = new MvccEngine();
    for (let i = 0; i < 500; i++) {
      const out = a.txn(randomTxn(r));
      if (out.written) replica.apply(out.written);
    }
    expect(observe(replica)).toEqual(observe(a));
  });

  it("apply() refuses revision gaps and empty revisions with Corrupt", () => {
    const e = new MvccEngine();
    expect(() => e.apply({ revision: 3, changes: [{ type: "put", key: "/a", value: b("x") }] })).toThrow(/revision gap: expected revision 2, found 3/);
    expect(() => e.apply({ revision: 2, changes: [] })).toThrow(StoreError);
    expect(() => e.apply({ revision: 2, changes: [{ type: "delete", key: "/absent" }] })).toThrow(/delete of absent key/);
  });

  it("fromState refuses inconsistent states", () => {
    expect(() => MvccEngine.fromState({ revision: 1, compacted: 3, base: [], log: [] })).toThrow(/bad state header/);
    expect(() =>
      MvccEngine.fromState({ revision: 5, compacted: 3, base: [{ key: "/a", value: b(""), createRevision: 4, modRevision: 4, version: 1 }], log: [] }),
    ).toThrow(/bad base version/);
    expect(() => MvccEngine.fromState({ revision: 5, compacted: 1, base: [], log: [] })).toThrow(/state ends at revision 1/);
  });

  it("compaction frees history: memory is proportional to live history", () => {
    const e = new MvccEngine();
    for (let i = 0; i < 2000; i++) e.txn({ success: [{ type: "put", key: `/k/${i % 10}`, value: b(String(i)) }] });
    for (let i = 0; i < 10; i += 2) e.txn({ success: [{ type: "delete", key: `/k/${i}` }] });
    e.txn({ success: [{ type: "put", key: "/k/1", value: b("last") }] });
    // Keeps: 5 live values, plus /k/1's previous value (the prevKv of the compacted revision's event).
    e.compact(e.revision);
    expect(e.keyCount).toBe(5);
    const st = e.exportState();
    expect(st.base.length + st.log.reduce((n, rc) => n + rc.changes.length, 0)).toBeLessThanOrEqual(6);
  });

  it("serves 155k keys: O(log n) point reads, prefix ranges with limit", () => {
    const e = new MvccEngine();
    const v = new Uint8Array(64);
    const t0 = performance.now();
    for (let i = 0; i < 150_000; i++) e.txn({ success: [{ type: "put", key: `/registry/pods/ns-${i % 50}/pod-${i}`, value: v }] });
    for (let i = 0; i < 5_000; i++) e.txn({ success: [{ type: "put", key: `/registry/minions/node-${i}`, value: v }] });
    const loadMs = performance.now() - t0;
    const t1 = performance.now();
    for (let i = 0; i < 10_000; i++) e.range({ key: `/registry/pods/ns-${i % 50}/pod-${i}` });
    const pointMs = performance.now() - t1;
    const t2 = performance.now();
    const page = e.range({ key: "/registry/minions/", prefix: true, limit: 500 });
    const pageMs = performance.now() - t2;
    expect(page.kvs).toHaveLength(500);
    expect(page.count).toBe(5_000);
    expect(page.more).toBe(true);
    expect(loadMs).toBeLessThan(10_000);
    expect(pointMs).toBeLessThan(500);
    expect(pageMs).toBeLessThan(100);
  });
});

describe("WatchHub", () => {
  it("reports a watcher behind compaction with ErrCompacted once, and drops it", () => {
    const e = new MvccEngine();
    for (let i = 0; i < 5; i++) e.txn({ success: [{ type: "put", key: "/a", value: b(String(i)) }] });
    const hub = new WatchHub(e);
    const errors: Error[] = [];
    hub.add({ key: "/a", startRevision: 2 }, { onEvents: () => {}, onError: (err) => errors.push(err) }, e.revision);
    e.compact(4);
    hub.deliver(e.revision);
    hub.deliver(e.revision);
    expect(errors).toHaveLength(1);
    expect(hub.size).toBe(0);
  });

  it("a watcher with a future start revision waits for it", () => {
    const e = new MvccEngine();
    const hub = new WatchHub(e);
    const revs: number[] = [];
    hub.add({ key: "/a", startRevision: 4 }, { onEvents: (_, rev) => revs.push(rev), onError: () => {} }, e.revision);
    for (let i = 0; i < 4; i++) {
      e.txn({ success: [{ type: "put", key: "/a", value: b(String(i)) }] });
      hub.deliver(e.revision);
    }
    expect(revs).toEqual([4, 5]);
  });

  it("rejects a negative start revision", () => {
    const hub = new WatchHub(new MvccEngine());
    expect(() => hub.add({ key: "/a", startRevision: -1 }, { onEvents: () => {}, onError: () => {} }, 1)).toThrow(/startRevision/);
  });
});
