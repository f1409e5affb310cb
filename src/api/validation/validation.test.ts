import { describe, expect, it } from "vitest";
import {
  canonicalQuantity, isConfigMapKey, isDns1035Label, isDns1123Label, isDns1123Subdomain, isQualifiedName,
  isValidIP, isValidLabelValue, isValidPortName, notSupported, parseQuantity, renderValue,
  validateAnnotations, validateIntOrPercent, validateLabelSelector, validateLabels, validateObjectMeta,
  validateObjectMetaUpdate, nameIsDnsSubdomain, selectorMatches, ERR_FORMAT_WRONG, ERR_SUFFIX,
  type FieldError,
} from "./mod.ts";

const text = (errs: FieldError[]): string[] => errs.map((e) => `${e.field}: ${e.message}`);
const SUBDOMAIN = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

describe("names", () => {
  it("DNS-1123 subdomain message is upstream's", () => {
    expect(isDns1123Subdomain("Web_1")).toEqual([SUBDOMAIN]);
    expect(isDns1123Subdomain("a.b-c")).toEqual([]);
    expect(isDns1123Subdomain("a".repeat(254))).toEqual(["must be no more than 253 characters"]);
  });
  it("DNS-1123 label and DNS-1035 label", () => {
    expect(isDns1123Label("Bad")).toEqual([LABEL]);
    expect(isDns1123Label("1abc")).toEqual([]);
    expect(isDns1035Label("1abc")).toEqual(["a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"]);
    expect(isDns1123Label("a".repeat(64))).toEqual(["must be no more than 63 characters"]);
  });
  it("qualified names", () => {
    expect(isQualifiedName("example.com/app")).toEqual([]);
    expect(isQualifiedName("/app")).toEqual(["prefix part must be non-empty"]);
    expect(isQualifiedName("a/b/c")[0]).toMatch(/^a qualified name must consist of .* with an optional DNS subdomain prefix and '\/' \(e\.g\. 'example\.com\/MyName'\)$/);
    expect(isQualifiedName("bad key")).toEqual(["name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"]);
    expect(isQualifiedName("")).toHaveLength(2);
  });
  it("label values, config keys, port names, IPs", () => {
    expect(isValidLabelValue("")).toEqual([]);
    expect(isValidLabelValue("-x")[0]).toMatch(/^a valid label must be an empty string/);
    expect(isConfigMapKey("..x")).toEqual(["must not start with '..'"]);
    expect(isConfigMapKey("a b")[0]).toMatch(/^a valid config key must consist of alphanumeric characters/);
    expect(isValidPortName("Http")).toEqual(["must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)"]);
    expect(isValidPortName("80")).toEqual(["must contain at least one letter (a-z)"]);
    expect(isValidIP("10.0.0.1")).toEqual([]);
    expect(isValidIP("2001:db8::1")).toEqual([]);
    expect(isValidIP("10.0.0.256")).toEqual(["must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"]);
  });
});

describe("field rendering", () => {
  it("renders values like Go's field errors", () => {
    expect(renderValue("x")).toBe('"x"');
    expect(renderValue(-1)).toBe("-1");
    expect(renderValue({ app: "x", a: "b" })).toBe('map[string]string{"a":"b", "app":"x"}');
    expect(renderValue(["a", "b"])).toBe('[]string{"a", "b"}');
    expect(text([notSupported("spec.restartPolicy", "Sometimes", ["Always", "OnFailure", "Never"])]))
      .toEqual(['spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"']);
  });
});

describe("quantities", () => {
  const cases: [string, string][] = [
    ["100m", "100m"], ["1000m", "1"], ["0.5", "500m"], ["1Gi", "1Gi"], ["1.5Gi", "1536Mi"], ["2e3", "2e3"],
    ["1024", "1024"], ["1Ki", "1Ki"], ["512Ki", "512Ki"], ["0", "0"], ["-1", "-1"], ["1.0000000001", "1000000001n"],
    ["1k", "1k"], ["1500", "1500"], ["12e6", "12e6"], ["+5M", "5M"], ["0.5Ki", "512"], ["00Mi", "0"],
  ];
  it.each(cases)("%s → %s", (input, want) => { expect(canonicalQuantity(input)).toBe(want); });
  it("rejects bad input with upstream texts", () => {
    expect(parseQuantity("abc")).toBe(ERR_FORMAT_WRONG);
    expect(parseQuantity("")).toBe(ERR_FORMAT_WRONG);
    expect(parseQuantity("1.5.5")).toBe(ERR_FORMAT_WRONG);
    expect(parseQuantity("1e")).toBe(ERR_SUFFIX);
    expect(parseQuantity("1Kb")).toBe(ERR_FORMAT_WRONG);
    expect(parseQuantity("1Mm")).toBe(ERR_SUFFIX);
    expect(parseQuantity("1Ki5")).toBe(ERR_SUFFIX);
    expect(typeof parseQuantity("1e99999")).toBe("string");
  });
});

describe("object meta", () => {
  const opts = { namespaced: true, nameValidator: nameIsDnsSubdomain };
  it("bad name, missing name, missing namespace", () => {
    expect(text(validateObjectMeta({ name: "Web_1", namespace: "default" }, opts))).toEqual([`metadata.name: Invalid value: "Web_1": ${SUBDOMAIN}`]);
    expect(text(validateObjectMeta({ namespace: "default" }, opts))).toEqual(["metadata.name: Required value: name or generateName is required"]);
    expect(text(validateObjectMeta({ name: "x" }, opts))).toEqual(["metadata.namespace: Required value"]);
    expect(text(validateObjectMeta({ name: "x", namespace: "a" }, { namespaced: false, nameValidator: nameIsDnsSubdomain })))
      .toEqual(["metadata.namespace: Forbidden: not allowed on this type"]);
  });
  it("generateName may end with a dash", () => {
    expect(validateObjectMeta({ name: "web-abcde", generateName: "web-", namespace: "d" }, opts)).toEqual([]);
  });
  it("labels, annotations size, finalizers, owner references", () => {
    expect(text(validateLabels({ "bad key": "v" }, "metadata.labels"))[0]).toMatch(/^metadata\.labels: Invalid value: "bad key": name part must consist/);
    expect(text(validateAnnotations({ a: "x".repeat(256 * 1024) }, "metadata.annotations")))
      .toEqual(["metadata.annotations: Too long: may not be more than 262144 bytes"]);
    expect(text(validateObjectMeta({ name: "x", namespace: "d", finalizers: ["custom"] }, opts)))
      .toEqual(['metadata.finalizers: Invalid value: "custom": name is neither a standard finalizer name nor is it fully qualified']);
    expect(text(validateObjectMeta({ name: "x", namespace: "d", ownerReferences: [{ apiVersion: "v1", kind: "Pod", name: "p", uid: "" }] }, opts)))
      .toEqual(['metadata.ownerReferences.uid: Invalid value: "": uid must not be empty']);
  });
  it("immutable identity on update", () => {
    expect(text(validateObjectMetaUpdate({ name: "b", namespace: "d", uid: "1" }, { name: "a", namespace: "d", uid: "1" })))
      .toEqual(['metadata.name: Invalid value: "b": field is immutable']);
    expect(text(validateObjectMetaUpdate({ name: "a", namespace: "d", uid: "2" }, { name: "a", namespace: "d", uid: "1" })))
      .toEqual(['metadata.uid: Invalid value: "2": field is immutable']);
  });
});

describe("selectors and int-or-percent", () => {
  it("validates operators and values", () => {
    expect(text(validateLabelSelector({ matchExpressions: [{ key: "a", operator: "In" }] }, "spec.selector")))
      .toEqual(["spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'"]);
    expect(text(validateLabelSelector({ matchExpressions: [{ key: "a", operator: "Foo" }] }, "spec.selector")))
      .toEqual(['spec.selector.matchExpressions[0].operator: Invalid value: "Foo": not a valid selector operator']);
  });
  it("matches", () => {
    expect(selectorMatches({ matchLabels: { a: "1" } }, { a: "1", b: "2" })).toBe(true);
    expect(selectorMatches({ matchExpressions: [{ key: "a", operator: "NotIn", values: ["1"] }] }, { a: "1" })).toBe(false);
  });
  it("int or percent", () => {
    expect(validateIntOrPercent("25%", "x")).toEqual([]);
    expect(text(validateIntOrPercent("abc", "x"))).toEqual(["x: Invalid value: \"abc\": a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"]);
    expect(text(validateIntOrPercent(-1, "x"))).toEqual(["x: Invalid value: -1: must be greater than or equal to 0"]);
    expect(text(validateIntOrPercent("150%", "x", true))).toEqual(['x: Invalid value: "150%": must not be greater than 100%']);
  });
});
