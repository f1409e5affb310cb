import { describe, expect, it } from "vitest";
import { ApiError } from "../errors.ts";
import {
  checkSupportedFields, escapeFieldValue, parseFieldSelector, unescapeFieldValue,
} from "./fields.ts";

describe("parseFieldSelector: valid", () => {
  const cases: Array<[string, string]> = [
    ["", ""],
    ["metadata.name=web", "metadata.name=web"],
    ["metadata.name==web", "metadata.name=web"],
    ["metadata.name!=web", "metadata.name!=web"],
    ["spec.nodeName=", "spec.nodeName="],
    ["b=2,a=1", "a=1,b=2"],
    ["a=1,,b=2", "a=1,b=2"],
    ["a=x\\,y", "a=x\\,y"],
    ["a=x\\=y", "a=x\\=y"],
    ["a=x\\\\y", "a=x\\\\y"],
    ["a=!b", "a=!b"],
    ["a==\\=b", "a=\\=b"],
  ];
  it.each(cases)("%j -> %j", (input, want) => {
    expect(parseFieldSelector(input).toString()).toBe(want);
  });

  it("unescapes values", () => {
    expect(parseFieldSelector("a=x\\,y\\=z\\\\").requirements).toEqual([{ field: "a", operator: "=", value: "x,y=z\\" }]);
  });
});

describe("parseFieldSelector: invalid", () => {
  const cases: Array<[string, string]> = [
    ["foo", "invalid selector: 'foo'; can't understand 'foo'"],
    ["a=1,foo", "invalid selector: 'a=1,foo'; can't understand 'foo'"],
    ["a in (b)", "invalid selector: 'a in (b)'; can't understand 'a in (b)'"],
    ["a=b=c", "invalid field selector: unescaped character in value: 61"],
    ["a==b,c", "invalid selector: 'a==b,c'; can't understand 'c'"],
    ["a=\\x", "invalid field selector: invalid escape sequence: \\x"],
    ["a=b\\", "invalid field selector: invalid escape sequence: \\"],
  ];
  it.each(cases)("%j", (input, message) => {
    let err: unknown;
    try { parseFieldSelector(input); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe(400);
    expect((err as ApiError).message).toBe(message);
  });
});

describe("matching", () => {
  const F = { "metadata.name": "web", "spec.nodeName": "n1", "status.phase": "Running" };
  const cases: Array<[string, boolean]> = [
    ["", true],
    ["metadata.name=web", true], ["metadata.name=db", false],
    ["metadata.name!=db", true], ["metadata.name!=web", false],
    ["spec.nodeName=n1,status.phase=Running", true], ["spec.nodeName=n1,status.phase!=Running", false],
    ["missing=", true], ["missing=x", false], ["missing!=x", true],
  ];
  it.each(cases)("%j -> %s", (sel, want) => {
    expect(parseFieldSelector(sel).matches(F)).toBe(want);
  });

  it("requiresExactMatch gives the index hint", () => {
    const s = parseFieldSelector("status.phase!=Failed,spec.nodeName=n1");
    expect(s.requiresExactMatch("spec.nodeName")).toBe("n1");
    expect(s.requiresExactMatch("status.phase")).toBeUndefined();
  });
});

describe("supported fields", () => {
  it("uses apimachinery's default text for kinds with only name/namespace", () => {
    expect(() => checkSupportedFields(parseFieldSelector("foo=bar"), ["metadata.name", "metadata.namespace"]))
      .toThrow("\"foo\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\"");
  });
  it("uses the conversion-function text for kinds with their own set", () => {
    expect(() => checkSupportedFields(parseFieldSelector("spec.nodeName=a,foo=bar"), ["metadata.name", "metadata.namespace", "spec.nodeName"]))
      .toThrow("field label not supported: foo");
  });
  it("accepts supported fields", () => {
    expect(() => checkSupportedFields(parseFieldSelector("metadata.name=a"), ["metadata.name", "metadata.namespace"])).not.toThrow();
  });
});

describe("escaping", () => {
  it("round-trips", () => {
    for (const v of ["", "a", "a,b", "a=b", "a\\b", "\\,=", "ünïcode"]) {
      expect(unescapeFieldValue(escapeFieldValue(v))).toBe(v);
      expect(parseFieldSelector(`x=${escapeFieldValue(v)}`).requirements[0]?.value).toBe(v);
    }
  });
});
