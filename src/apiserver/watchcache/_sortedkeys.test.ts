import { describe, expect, it } from "vitest";
import { lowerBound, SortedKeys } from "./_sortedkeys.ts";

describe("SortedKeys", () => {
  it("matches a sorted array through random inserts, deletes, ranks and scans", () => {
    let seed = 12345;
    const rnd = (n: number): number => {
      seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const key = (): string => `/registry/events/ns${rnd(5)}/e${rnd(6000)}`;
    const s = SortedKeys.fromSorted(Array.from({ length: 3000 }, (_, i) => `/registry/events/ns${i % 5}/x${i}`).sort());
    const ref = new Set(s.toArray());
    for (let step = 0; step < 30_000; step++) {
      const k = key();
      if (rnd(3) === 0) expect(s.delete(k)).toBe(ref.delete(k));
      else { const had = ref.has(k); ref.add(k); expect(s.insert(k)).toBe(!had); }
      if (step % 1000 === 0) {
        const sorted = [...ref].sort();
        expect(s.toArray()).toEqual(sorted);
        expect(s.size).toBe(sorted.length);
        const from = key(), to = `${from.slice(0, -1)}~`;
        expect(s.rank(from)).toBe(lowerBound(sorted, from));
        const seen: string[] = [];
        s.scan(from, to, (k2) => { seen.push(k2); return seen.length < 700; });
        expect(seen).toEqual(sorted.filter((k2) => k2 >= from && k2 < to).slice(0, 700));
      }
    }
    // Chunks split and empty ones go away: deleting everything leaves an empty set that still works.
    for (const k of [...ref]) expect(s.delete(k)).toBe(true);
    expect(s.size).toBe(0);
    expect(s.toArray()).toEqual([]);
    expect(s.rank("a")).toBe(0);
    expect(s.insert("b")).toBe(true);
    expect(s.toArray()).toEqual(["b"]);
  });

  it("scans stop at the range end and at the visitor's word", () => {
    const s = new SortedKeys();
    for (const k of ["d", "a", "c", "b", "e"]) s.insert(k);
    const out: string[] = [];
    s.scan("b", "e", (k) => { out.push(k); return true; });
    expect(out).toEqual(["b", "c", "d"]);
    out.length = 0;
    s.scan("a", "z", (k) => { out.push(k); return k !== "c"; });
    expect(out).toEqual(["a", "b", "c"]);
    expect(s.rank("c")).toBe(2);
    expect(s.rank("zz")).toBe(5);
  });
});
