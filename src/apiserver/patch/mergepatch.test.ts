import { describe, it, expect } from "vitest";
import { applyMergePatch } from "./mergepatch.ts";
import type { Json } from "./jsonpatch.ts";

// RFC 7386 Appendix A: [original, patch, result].
const vectors: [Json, Json, Json][] = [
  [{ a: "b" }, { a: "c" }, { a: "c" }],
  [{ a: "b" }, { b: "c" }, { a: "b", b: "c" }],
  [{ a: "b" }, { a: null }, {}],
  [{ a: "b", b: "c" }, { a: null }, { b: "c" }],
  [{ a: ["b"] }, { a: "c" }, { a: "c" }],
  [{ a: "c" }, { a: ["b"] }, { a: ["b"] }],
  [{ a: { b: "c" } }, { a: { b: "d", c: null } }, { a: { b: "d" } }],
  [{ a: [{ b: "c" }] }, { a: [1] }, { a: [1] }],
  [["a", "b"], ["c", "d"], ["c", "d"]],
  [{ a: "b" }, ["c"], ["c"]],
  [{ a: "foo" }, null, null],
  [{ a: "foo" }, "bar", "bar"],
  [{ e: null }, { a: 1 }, { e: null, a: 1 }],
  [[1, 2], { a: "b", c: null }, { a: "b" }],
  [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
];

describe("RFC 7386 appendix A", () => {
  vectors.forEach(([orig, patch, result], i) => {
    it(`vector ${i + 1}`, () => {
      expect(applyMergePatch(orig, patch)).toEqual(result);
    });
  });
  it("does not mutate the target", () => {
    const t = { a: { b: 1 } };
    applyMergePatch(t, { a: { b: null } });
    expect(t).toEqual({ a: { b: 1 } });
  });
});
