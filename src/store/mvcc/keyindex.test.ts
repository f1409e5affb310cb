import { describe, expect, it } from "vitest";
import { KeyIndex } from "./keyindex.ts";

/** Deterministic PRNG so failures reproduce. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

function collect(ix: KeyIndex, from: string, end: string | undefined, max = Infinity): string[] {
  const out: string[] = [];
  ix.scan(from, end, (item) => {
    out.push(item.key);
    return out.length < max;
  });
  return out;
}

describe("KeyIndex", () => {
  it("matches a sorted array model under random inserts, deletes and scans", () => {
    const r = rng(42);
    const ix = new KeyIndex();
    const model = new Set<string>();
    for (let step = 0; step < 20_000; step++) {
      const key = `/k/${Math.floor(r() * 3000).toString(36)}`;
      if (r() < 0.65) expect(ix.insert({ key })).toBe(!model.has(key)), model.add(key);
      else expect(ix.delete(key)).toBe(model.has(key)), model.delete(key);
      if (step % 1000 === 0) {
        const sorted = [...model].sort();
        expect(collect(ix, "", undefined)).toEqual(sorted);
        const lo = `/k/${Math.floor(r() * 3000).toString(36)}`;
        const hi = `/k/${Math.floor(r() * 3000).toString(36)}`;
        expect(collect(ix, lo, hi)).toEqual(sorted.filter((k) => k >= lo && k < hi));
      }
    }
    expect(ix.size).toBe(model.size);
    for (const k of model) expect(ix.has(k)).toBe(true);
  });

  it("upsert replaces in place or adds; rank counts the smaller keys, across chunk splits and drops", () => {
    const r = rng(7);
    const ix = new KeyIndex<{ key: string; v: number }>();
    const model = new Map<string, number>();
    expect(ix.rank("x")).toBe(0);
    for (let step = 0; step < 20_000; step++) {
      const key = `/k/${Math.floor(r() * 2500).toString(36)}`;
      if (r() < 0.7) {
        expect(ix.upsert({ key, v: step })).toBe(!model.has(key));
        model.set(key, step);
      } else expect(ix.delete(key)).toBe(model.delete(key));
      if (step % 997 === 0) {
        const sorted = [...model.keys()].sort();
        const probe = `/k/${Math.floor(r() * 2500).toString(36)}`;
        expect(ix.rank(probe)).toBe(sorted.filter((k) => k < probe).length);
        expect(ix.rank("/k/~")).toBe(sorted.length);
        for (const k of sorted.slice(0, 50)) expect(ix.get(k)?.v).toBe(model.get(k));
      }
    }
    expect(ix.size).toBe(model.size);
  });

  it("stops a scan when the callback returns false, and handles empty and out-of-range scans", () => {
    const ix = new KeyIndex();
    expect(collect(ix, "", undefined)).toEqual([]);
    expect(ix.delete("a")).toBe(false);
    for (const key of ["b", "d", "f"]) ix.insert({ key });
    expect(collect(ix, "", undefined, 2)).toEqual(["b", "d"]);
    expect(collect(ix, "g", undefined)).toEqual([]);
    expect(collect(ix, "a", "b")).toEqual([]);
    expect(collect(ix, "c", "f")).toEqual(["d"]);
  });

  it("holds 155k keys with fast point ops and prefix scans", () => {
    const ix = new KeyIndex();
    const t0 = performance.now();
    for (let i = 0; i < 150_000; i++) ix.insert({ key: `/registry/pods/ns-${i % 100}/pod-${i}` });
    for (let i = 0; i < 5_000; i++) ix.insert({ key: `/registry/minions/node-${i}` });
    const insertMs = performance.now() - t0;
    expect(ix.size).toBe(155_000);
    let n = 0;
    const t1 = performance.now();
    ix.scan("/registry/minions/", "/registry/minions0", () => (n++, true));
    const scanMs = performance.now() - t1;
    expect(n).toBe(5_000);
    // Generous bounds (shared CI cores): the point is "not quadratic".
    expect(insertMs).toBeLessThan(3_000);
    expect(scanMs).toBeLessThan(100);
  });
});
