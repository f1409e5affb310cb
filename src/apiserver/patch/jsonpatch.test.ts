import { describe, it, expect } from "vitest";
import { applyJsonPatch, parseJsonPatch, PatchError, type Json } from "./jsonpatch.ts";

function run(doc: Json, patch: unknown): Json {
  return applyJsonPatch(doc, parseJsonPatch(patch));
}

// RFC 6902 Appendix A vectors.
describe("RFC 6902 appendix A", () => {
  it("A.1 add an object member", () => {
    expect(run({ foo: "bar" }, [{ op: "add", path: "/baz", value: "qux" }])).toEqual({ baz: "qux", foo: "bar" });
  });
  it("A.2 add an array element", () => {
    expect(run({ foo: ["bar", "baz"] }, [{ op: "add", path: "/foo/1", value: "qux" }])).toEqual({ foo: ["bar", "qux", "baz"] });
  });
  it("A.3 remove an object member", () => {
    expect(run({ baz: "qux", foo: "bar" }, [{ op: "remove", path: "/baz" }])).toEqual({ foo: "bar" });
  });
  it("A.4 remove an array element", () => {
    expect(run({ foo: ["bar", "qux", "baz"] }, [{ op: "remove", path: "/foo/1" }])).toEqual({ foo: ["bar", "baz"] });
  });
  it("A.5 replace a value", () => {
    expect(run({ baz: "qux", foo: "bar" }, [{ op: "replace", path: "/baz", value: "boo" }])).toEqual({ baz: "boo", foo: "bar" });
  });
  it("A.6 move a value", () => {
    const doc = { foo: { bar: "baz", waldo: "fred" }, qux: { corge: "grault" } };
    expect(run(doc, [{ op: "move", from: "/foo/waldo", path: "/qux/thud" }]))
      .toEqual({ foo: { bar: "baz" }, qux: { corge: "grault", thud: "fred" } });
  });
  it("A.7 move an array element", () => {
    expect(run({ foo: ["all", "grass", "cows", "eat"] }, [{ op: "move", from: "/foo/1", path: "/foo/3" }]))
      .toEqual({ foo: ["all", "cows", "eat", "grass"] });
  });
  it("A.8 test success", () => {
    const doc = { baz: "qux", foo: ["a", 2, "c"] };
    expect(run(doc, [{ op: "test", path: "/baz", value: "qux" }, { op: "test", path: "/foo/1", value: 2 }])).toEqual(doc);
  });
  it("A.9 test failure", () => {
    expect(() => run({ baz: "qux" }, [{ op: "test", path: "/baz", value: "bar" }])).toThrow(PatchError);
  });
  it("A.10 add a nested member object", () => {
    expect(run({ foo: "bar" }, [{ op: "add", path: "/child", value: { grandchild: {} } }]))
      .toEqual({ foo: "bar", child: { grandchild: {} } });
  });
  it("A.11 ignore unrecognized elements", () => {
    expect(run({ foo: "bar" }, [{ op: "add", path: "/baz", value: "qux", xyz: 123 }])).toEqual({ foo: "bar", baz: "qux" });
  });
  it("A.12 add to a nonexistent target fails", () => {
    expect(() => run({ foo: "bar" }, [{ op: "add", path: "/baz/bat", value: "qux" }])).toThrow(/missing path/);
  });
  it("A.14 ~ escape ordering", () => {
    expect(run({ "/": 9, "~1": 10 }, [{ op: "test", path: "/~01", value: 10 }])).toEqual({ "/": 9, "~1": 10 });
  });
  it("A.15 comparing strings and numbers", () => {
    expect(() => run({ "/": 9, "~1": 10 }, [{ op: "test", path: "/~01", value: "10" }])).toThrow(/test failed/);
  });
  it("A.16 adding an array value", () => {
    expect(run({ foo: ["bar"] }, [{ op: "add", path: "/foo/-", value: ["abc", "def"] }])).toEqual({ foo: ["bar", ["abc", "def"]] });
  });
  it("copy and whole-document replace", () => {
    expect(run({ a: { b: 1 } }, [{ op: "copy", from: "/a", path: "/c" }])).toEqual({ a: { b: 1 }, c: { b: 1 } });
    expect(run({ a: 1 }, [{ op: "replace", path: "", value: { z: 2 } }])).toEqual({ z: 2 });
  });
  it("does not mutate the input", () => {
    const doc = { a: [1, 2] };
    run(doc, [{ op: "remove", path: "/a/0" }]);
    expect(doc).toEqual({ a: [1, 2] });
  });
});

describe("bad JSON patches", () => {
  it("rejects non-arrays and bad ops as malformed", () => {
    for (const bad of [{}, "x", [{ op: "add" }], [{ op: "add", path: "/a" }], [{ op: "move", path: "/a" }], [1]]) {
      try {
        parseJsonPatch(bad);
        expect.unreachable();
      } catch (e) {
        expect((e as PatchError).kind).toBe("malformed");
      }
    }
  });
  it("an unknown or missing op fails as upstream's apply does (422 \"Unexpected kind\")", () => {
    for (const [ops, kind] of [[[{ op: "frob", path: "/a" }], "frob"], [[{ path: "/a" }], "unknown"], [[{ op: 7, path: "/a" }], "unknown"]] as const) {
      try {
        parseJsonPatch(ops);
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(PatchError);
        expect((e as PatchError).kind).toBe("failed");
        expect((e as PatchError).message).toBe(`Unexpected kind: ${kind}`);
      }
    }
  });
  it("fails on missing paths, bad indexes, moves into children", () => {
    for (const p of [
      [{ op: "remove", path: "/nope" }],
      [{ op: "replace", path: "/nope", value: 1 }],
      [{ op: "add", path: "/a/5", value: 1 }],
      [{ op: "add", path: "/a/01", value: 1 }],
      [{ op: "move", from: "/b", path: "/b/c" }],
    ]) {
      expect(() => run({ a: [1], b: {} }, p), JSON.stringify(p)).toThrow(PatchError);
    }
  });
  it("rejects a pointer without a leading slash", () => {
    expect(() => run({}, [{ op: "add", path: "a", value: 1 }])).toThrow(/start with/);
  });
});
