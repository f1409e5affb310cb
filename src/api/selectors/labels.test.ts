import { describe, expect, it } from "vitest";
import { ApiError } from "../errors.ts";
import {
  formatLabelSelector, labelSelectorFromObject, newRequirement, parseLabelSelector, selectorFromSet,
} from "./labels.ts";

const KEY_NAME_MSG = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName', or 'my.name', or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const VALUE_MSG = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue', or 'my_value', or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

describe("parseLabelSelector: valid", () => {
  // [input, canonical string]
  const cases: Array<[string, string]> = [
    ["", ""],
    ["   ", ""],
    ["a=b", "a=b"],
    ["a==b", "a==b"],
    ["a!=b", "a!=b"],
    ["a", "a"],
    ["!a", "!a"],
    [" ! a ", "!a"],
    ["a=", "a="],
    ["a= ,b", "a=,b"],
    ["a in (x,y)", "a in (x,y)"],
    ["a in (y,x,x)", "a in (x,y)"],
    ["a in(x)", "a in (x)"],
    ["a notin (x)", "a notin (x)"],
    ["a in ()", "a in ()"],
    ["a in (,x)", "a in (,x)"],
    ["x in (foo,,baz),y,z notin ()", "x in (,baz,foo),y,z notin ()"],
    ["a in (in,notin)", "a in (in,notin)"],
    ["a=in", "a=in"],
    ["in=notin", "in=notin"],
    ["a>3", "a>3"],
    ["a<03", "a<03"],
    ["a > 3", "a>3"],
    ["tier in (b,a), app=web", "app=web,tier in (a,b)"],
    ["example.com/key=v_1.2-x", "example.com/key=v_1.2-x"],
    ["a=b\t,\nc!=d", "a=b,c!=d"],
    ["a=b,a!=c", "a=b,a!=c"],
  ];
  it.each(cases)("%j -> %j", (input, want) => {
    expect(parseLabelSelector(input).toString()).toBe(want);
  });
});

describe("parseLabelSelector: invalid", () => {
  const cases: Array<[string, string]> = [
    ["a b", "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"],
    [",a", "found ',', expected: !, identifier, or 'end of string'"],
    ["a,", "found '', expected: identifier after ','"],
    ["a,,b", "found ',', expected: identifier after ','"],
    ["a=b c", "found 'c', expected: ',' or 'end of string'"],
    ["a in x", "unable to parse requirement: found 'x' expected: '('"],
    ["a in (x", "unable to parse requirement: found '', expected: ',' or ')'"],
    ["a in (x y)", "unable to parse requirement: found 'y', expected: ',' or ')'"],
    ["a in (=)", "unable to parse requirement: found '=', expected: ',', ')' or identifier"],
    ["a in (x,=)", "unable to parse requirement: found '=', expected: ',', or identifier"],
    ["a=(", "unable to parse requirement: found '(', expected: identifier"],
    ["a=!b", "unable to parse requirement: found '!', expected: identifier"],
    ["!", "unable to parse requirement: found '', expected: identifier"],
    ["!=a", "found '!=', expected: !, identifier, or 'end of string'"],
    ["(a)", "found '(', expected: !, identifier, or 'end of string'"],
    ["a>b", "unable to parse requirement: values[0]: Invalid value: \"b\": for 'Gt', 'Lt' operators, the value must be an integer"],
    ["a<99999999999999999999", "unable to parse requirement: values[0]: Invalid value: \"99999999999999999999\": for 'Gt', 'Lt' operators, the value must be an integer"],
    ["-a=b", `unable to parse requirement: <nil>: Invalid value: "-a": ${KEY_NAME_MSG}`],
    ["a/b/c", "unable to parse requirement: <nil>: Invalid value: \"a/b/c\": a valid label key must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName', or 'my.name', or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"],
    ["/a", "unable to parse requirement: <nil>: Invalid value: \"/a\": prefix part must be non-empty"],
    ["Ex.com/a", "unable to parse requirement: <nil>: Invalid value: \"Ex.com/a\": prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"],
    [`${"k".repeat(64)}`, `unable to parse requirement: <nil>: Invalid value: "${"k".repeat(64)}": name part must be no more than 63 bytes`],
    ["a=-b", `unable to parse requirement: values[0][a]: Invalid value: "-b": ${VALUE_MSG}`],
    [`a=${"v".repeat(64)}`, `unable to parse requirement: values[0][a]: Invalid value: "${"v".repeat(64)}": must be no more than 63 bytes`],
    ["a in (-x,-y)", `unable to parse requirement: [values[0][a]: Invalid value: "-x": ${VALUE_MSG}, values[1][a]: Invalid value: "-y": ${VALUE_MSG}]`],
    ["a<-3", `unable to parse requirement: values[0][a]: Invalid value: "-3": ${VALUE_MSG}`],
    ["a>-", `unable to parse requirement: [values[0]: Invalid value: "-": for 'Gt', 'Lt' operators, the value must be an integer, values[0][a]: Invalid value: "-": ${VALUE_MSG}]`],
  ];
  it.each(cases)("%j", (input, message) => {
    let err: unknown;
    try { parseLabelSelector(input); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe(400);
    expect((err as ApiError).reason).toBe("BadRequest");
    expect((err as ApiError).message).toBe(message);
  });
});

describe("matching", () => {
  const L = { app: "web", tier: "front", n: "10", empty: "" };
  const cases: Array<[string, boolean]> = [
    ["", true],
    ["app=web", true], ["app==web", true], ["app=db", false], ["app!=db", true], ["app!=web", false],
    ["missing!=x", true], ["missing=x", false], ["missing=", false], ["empty=", true],
    ["app", true], ["missing", false], ["!missing", true], ["!app", false],
    ["tier in (front,back)", true], ["tier in (back)", false], ["missing in (x)", false],
    ["tier notin (back)", true], ["tier notin (front)", false], ["missing notin (x)", true],
    ["n>9", true], ["n>10", false], ["n<11", true], ["n<010", false], ["app>1", false], ["missing>1", false],
    ["app=web,tier=front", true], ["app=web,tier=back", false],
  ];
  it.each(cases)("%j matches -> %s", (sel, want) => {
    expect(parseLabelSelector(sel).matches(L)).toBe(want);
  });

  it("requiresExactMatch finds pinned values only", () => {
    const s = parseLabelSelector("a=1,b in (2),c in (3,4),d!=5");
    expect(s.requiresExactMatch("a")).toBe("1");
    expect(s.requiresExactMatch("b")).toBe("2");
    expect(s.requiresExactMatch("c")).toBeUndefined();
    expect(s.requiresExactMatch("d")).toBeUndefined();
    expect(s.requiresExactMatch("zz")).toBeUndefined();
  });

  it("does not treat prototype names as labels", () => {
    expect(parseLabelSelector("constructor").matches({})).toBe(false);
    expect(parseLabelSelector("!toString").matches({})).toBe(true);
  });
});

describe("metav1.LabelSelector objects", () => {
  it("renders matchLabels + matchExpressions", () => {
    const s = labelSelectorFromObject({
      matchLabels: { tier: "front", app: "web" },
      matchExpressions: [
        { key: "env", operator: "In", values: ["prod", "dev"] },
        { key: "gone", operator: "DoesNotExist" },
        { key: "x", operator: "NotIn", values: ["1"] },
        { key: "has", operator: "Exists" },
      ],
    });
    expect(s.toString()).toBe("app=web,env in (dev,prod),!gone,has,tier=front,x notin (1)");
    expect(s.matches({ app: "web", tier: "front", env: "dev", has: "" })).toBe(true);
    expect(s.matches({ app: "web", tier: "front", env: "dev" })).toBe(false);
  });

  it("round-trips through the string parser", () => {
    const obj = { matchLabels: { app: "web" }, matchExpressions: [{ key: "tier", operator: "In", values: ["b", "a"] }] };
    const str = labelSelectorFromObject(obj).toString();
    expect(str).toBe("app=web,tier in (a,b)");
    expect(parseLabelSelector(str).toString()).toBe(str);
  });

  it("nil selects nothing, {} selects everything", () => {
    expect(labelSelectorFromObject(null).matches({})).toBe(false);
    expect(labelSelectorFromObject(undefined).nothing).toBe(true);
    expect(labelSelectorFromObject({}).matches({ a: "b" })).toBe(true);
    expect(labelSelectorFromObject({ matchLabels: {}, matchExpressions: [] }).empty).toBe(true);
    expect(formatLabelSelector({})).toBe("<none>");
    expect(formatLabelSelector({ matchLabels: { a: "b" } })).toBe("a=b");
    expect(formatLabelSelector({ matchExpressions: [{ key: "a", operator: "Gt", values: ["1"] }] })).toBe("<error>");
  });

  const bad: Array<[unknown, string]> = [
    [{ matchExpressions: [{ key: "a", operator: "Gt", values: ["1"] }] }, "\"Gt\" is not a valid label selector operator"],
    [{ matchExpressions: [{ key: "a", operator: "in", values: ["1"] }] }, "\"in\" is not a valid label selector operator"],
    [{ matchExpressions: [{ key: "a", operator: "In", values: [] }] }, "values: Invalid value: null: for 'in', 'notin' operators, values set can't be empty"],
    [{ matchExpressions: [{ key: "a", operator: "Exists", values: ["x"] }] }, "values: Invalid value: [\"x\"]: values set must be empty for exists and does not exist"],
    [{ matchLabels: { "-a": "b" } }, `key: Invalid value: "-a": ${KEY_NAME_MSG}`],
    [{ matchLabels: { a: "b c" } }, `values[0][a]: Invalid value: "b c": ${VALUE_MSG}`],
  ];
  it.each(bad)("rejects %j", (obj, message) => {
    expect(() => labelSelectorFromObject(obj as never)).toThrow(message);
    try { labelSelectorFromObject(obj as never); } catch (e) { expect((e as ApiError).code).toBe(400); }
  });

  it("newRequirement supports Gt/Lt for node affinity", () => {
    const { requirement, errors } = newRequirement("cpu", "Gt", ["4"]);
    expect(errors).toEqual([]);
    expect(requirement.operator).toBe("Gt");
    expect(newRequirement("cpu", "Lt", ["1", "2"]).errors[0]).toBe(
      "values: Invalid value: [\"1\",\"2\"]: for 'Gt', 'Lt' operators, exactly one value is required");
  });

  it("selectorFromSet", () => {
    const s = selectorFromSet({ b: "2", a: "1" });
    expect(s.toString()).toBe("a=1,b=2");
    expect(s.matches({ a: "1", b: "2", c: "3" })).toBe(true);
  });
});
