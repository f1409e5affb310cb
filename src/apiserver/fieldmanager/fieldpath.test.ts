import { describe, expect, it } from "vitest";
import {
  canonicalPE, comparePE, fieldPE, FieldSet, FieldsV1Error, fromFieldsV1, goJson, indexPE, keyPE, pathOf,
  pathString, toFieldsV1, valuePE,
} from "./fieldpath.ts";

describe("path elements", () => {
  it.each([
    ["field", fieldPE("replicas"), "f:replicas"],
    ["field with dots and slashes", fieldPE("kubectl.kubernetes.io/last-applied-configuration"), "f:kubectl.kubernetes.io/last-applied-configuration"],
    ["key, one field", keyPE([["name", "web"]]), 'k:{"name":"web"}'],
    ["key fields sorted by name", keyPE([["protocol", "TCP"], ["containerPort", 80]]), 'k:{"containerPort":80,"protocol":"TCP"}'],
    ["string set item", valuePE("example.com/protect"), 'v:"example.com/protect"'],
    ["number set item", valuePE(42), "v:42"],
    ["bool set item", valuePE(true), "v:true"],
    ["index", indexPE(3), "i:3"],
    ["HTML characters escaped like Go", valuePE("<a&b>"), 'v:"\\u003ca\\u0026b\\u003e"'],
  ])("%s", (_name, got, want) => {
    expect(got).toBe(want);
  });

  it("goJson escapes controls and keeps non-ASCII", () => {
    expect(goJson("a\u0001\n\"\\é")).toBe('"a\\u0001\\n\\"\\\\é"');
    expect(goJson("\u2028")).toBe('"\\u2028"');
    expect(goJson(null)).toBe("null");
  });

  it.each([
    ["fields by name", "f:a", "f:b", -1],
    ["field before key", "f:z", 'k:{"a":1}', -1],
    ["key before value", 'k:{"a":1}', 'v:"a"', -1],
    ["value before index", 'v:"a"', "i:0", -1],
    ["keys by value", 'k:{"name":"a"}', 'k:{"name":"b"}', -1],
    ["keys: numbers before strings", 'k:{"name":5}', 'k:{"name":"5"}', -1],
    ["keys: shorter first", 'k:{"a":1}', 'k:{"a":1,"b":2}', -1],
    ["values numerically", "v:9", "v:10", -1],
    ["indexes numerically", "i:2", "i:10", -1],
    ["equal", "f:x", "f:x", 0],
    ["UTF-8 byte order", "f:\uffff", "f:\u{10000}", -1],
  ])("order: %s", (_name, a, b, want) => {
    expect(Math.sign(comparePE(a, b))).toBe(want);
    expect(Math.sign(comparePE(b, a))).toBe(want === 0 ? 0 : -want);
  });

  it("canonicalizes key order and JSON spacing", () => {
    expect(canonicalPE('k:{"protocol": "TCP", "containerPort": 80}')).toBe('k:{"containerPort":80,"protocol":"TCP"}');
    expect(canonicalPE("x:whatever")).toBeUndefined();
  });

  it.each([
    ["too short", "f", /2 characters/],
    ["missing colon", "fx", /missing colon/],
    ["bad key JSON", "k:{name", /k:\{name/],
    ["key not an object", "k:[1]", /JSON object/],
    ["key field not scalar", 'k:{"a":{}}', /must be a scalar/],
    ["value not scalar", "v:[1]", /scalars/],
    ["bad index", "i:x", /invalid index/],
  ])("rejects %s", (_name, pe, want) => {
    expect(() => canonicalPE(pe)).toThrow(FieldsV1Error);
    expect(() => canonicalPE(pe)).toThrow(want);
  });

  it.each([
    [pathOf("spec", "replicas"), ".spec.replicas"],
    [[...pathOf("spec", "containers"), keyPE([["name", "web"]]), fieldPE("image")], '.spec.containers[name="web"].image'],
    [[...pathOf("spec", "ports"), keyPE([["containerPort", 80], ["protocol", "TCP"]])], '.spec.ports[containerPort=80,protocol="TCP"]'],
    [[...pathOf("metadata", "finalizers"), valuePE("a")], '.metadata.finalizers[="a"]'],
    [[fieldPE("args"), indexPE(2)], ".args[2]"],
    [[fieldPE("x"), valuePE('q"uote')], '.x[="q\\"uote"]'],
  ])("pathString %#", (path, want) => {
    expect(pathString(path)).toBe(want);
  });
});

describe("FieldSet", () => {
  const a = FieldSet.of(pathOf("spec", "replicas"), pathOf("spec", "template", "image"), pathOf("metadata", "labels", "app"));
  const b = FieldSet.of(pathOf("spec", "replicas"), pathOf("spec", "paused"));

  it("union, difference, intersection", () => {
    expect(a.union(b).paths().map(pathString)).toEqual([
      ".metadata.labels.app", ".spec.paused", ".spec.replicas", ".spec.template.image",
    ]);
    expect(a.difference(b).paths().map(pathString)).toEqual([".metadata.labels.app", ".spec.template.image"]);
    expect(a.intersection(b).paths().map(pathString)).toEqual([".spec.replicas"]);
    expect(b.difference(b).isEmpty()).toBe(true);
    expect(b.difference(b).children.size).toBe(0);
  });

  it("has, size, equals", () => {
    expect(a.has(pathOf("spec", "replicas"))).toBe(true);
    expect(a.has(pathOf("spec"))).toBe(false);
    expect(a.has([])).toBe(false);
    expect(a.size()).toBe(3);
    expect(a.equals(a.clone())).toBe(true);
    expect(a.equals(b)).toBe(false);
  });

  it("withoutPrefixes removes whole subtrees and exact members", () => {
    const s = FieldSet.of(pathOf("status"), pathOf("status", "replicas"), pathOf("spec", "replicas"));
    expect(s.withoutPrefixes([pathOf("status")]).paths().map(pathString)).toEqual([".spec.replicas"]);
    expect(s.withoutPrefixes([pathOf("nothing")])).toBe(s);
  });
});

describe("FieldsV1", () => {
  // Each is upstream's exact serialization: keys in path-element order, "." first.
  const roundTrips = [
    "{}",
    '{"f:spec":{"f:replicas":{}}}',
    '{"f:metadata":{"f:labels":{".":{},"f:app":{}}}}',
    '{"f:spec":{"f:containers":{"k:{\\"name\\":\\"a\\"}":{".":{},"f:image":{},"f:name":{}},"k:{\\"name\\":\\"b\\"}":{".":{},"f:name":{}}}}}',
    '{"f:metadata":{"f:finalizers":{".":{},"v:\\"a\\"":{},"v:\\"b\\"":{}}}}',
    '{"f:a":{},"f:b":{"i:0":{},"i:10":{},"i:2":{}}}',
  ];
  it.each(roundTrips)("round trip %s", (json) => {
    const set = fromFieldsV1(JSON.parse(json));
    expect(JSON.stringify(toFieldsV1(set))).toBe(json.replace('"i:10":{},"i:2":{}', '"i:2":{},"i:10":{}'));
    expect(fromFieldsV1(json).equals(set)).toBe(true);
  });

  it("re-sorts and canonicalizes keys on decode", () => {
    const set = fromFieldsV1({ "f:b": {}, 'k:{"protocol":"TCP","containerPort":80}': { "f:x": {} }, "f:a": {} });
    expect(JSON.stringify(toFieldsV1(set))).toBe('{"f:a":{},"f:b":{},"k:{\\"containerPort\\":80,\\"protocol\\":\\"TCP\\"}":{"f:x":{}}}');
  });

  it("skips unknown element types like upstream", () => {
    const set = fromFieldsV1({ "x:future": {}, "f:a": {} });
    expect(set.paths().map(pathString)).toEqual([".a"]);
  });

  it("treats null/undefined as empty", () => {
    expect(fromFieldsV1(null).isEmpty()).toBe(true);
    expect(fromFieldsV1(undefined).isEmpty()).toBe(true);
  });

  it.each([
    ["a list", [], /JSON objects/],
    ["a string value", { "f:a": "x" }, /JSON objects/],
    ["bad JSON text", "{", /invalid FieldsV1 JSON/],
    ["bad key element", { "k:{": {} }, /k:\{/],
    ["bad index", { "i:one": {} }, /invalid index/],
  ])("rejects %s", (_name, input, want) => {
    expect(() => fromFieldsV1(input)).toThrow(FieldsV1Error);
    expect(() => fromFieldsV1(input)).toThrow(want);
  });

  it("rejects absurd nesting", () => {
    let v: Record<string, unknown> = {};
    for (let i = 0; i < 300; i++) v = { "f:a": v };
    expect(() => fromFieldsV1(v)).toThrow(/too deeply/);
  });
});
