import { describe, expect, it } from "vitest";
import { putVarint, varintLength } from "./varint.ts";

/** Reference: the plain division loop. */
function reference(n: number): number[] {
  const out: number[] = [];
  while (n >= 128) {
    out.push((n % 128) | 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

describe("varint", () => {
  it("matches the reference encoding at every length boundary up to 2^53", () => {
    const values = [0, 1, 127, 128, 300, 16_383, 16_384, 2 ** 21 - 1, 2 ** 21, 2 ** 28 - 1, 2 ** 28, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 35, 2 ** 42 + 5, Number.MAX_SAFE_INTEGER];
    for (const n of values) {
      const buf = new Uint8Array(10);
      const end = putVarint(buf, 0, n);
      expect([...buf.subarray(0, end)], String(n)).toEqual(reference(n));
      expect(varintLength(n), String(n)).toBe(end);
    }
  });
});
