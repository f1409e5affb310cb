import { describe, expect, it } from "vitest";
import { ApiError } from "../errors.ts";
import { buildObjectFilter, matchAll } from "./filter.ts";

const POD_FIELDS = ["metadata.name", "metadata.namespace", "spec.nodeName", "status.phase"];

describe("buildObjectFilter", () => {
  it("combines namespace, labels and fields", () => {
    const f = buildObjectFilter({
      namespace: "default", labelSelector: "app=web", fieldSelector: "spec.nodeName=n1",
      supportedFields: POD_FIELDS, indexFields: ["spec.nodeName"],
    });
    expect(f.namespace).toBe("default");
    expect(f.indexHint).toEqual({ field: "spec.nodeName", value: "n1" });
    expect(f.everything).toBe(false);
    expect(f.matches({ app: "web" }, { "spec.nodeName": "n1" })).toBe(true);
    expect(f.matches({ app: "db" }, { "spec.nodeName": "n1" })).toBe(false);
    expect(f.matches({ app: "web" }, { "spec.nodeName": "n2" })).toBe(false);
  });

  it("has no index hint for != or unindexed fields", () => {
    expect(buildObjectFilter({ fieldSelector: "spec.nodeName!=n1", supportedFields: POD_FIELDS, indexFields: ["spec.nodeName"] }).indexHint).toBeUndefined();
    expect(buildObjectFilter({ fieldSelector: "status.phase=Running", supportedFields: POD_FIELDS, indexFields: ["spec.nodeName"] }).indexHint).toBeUndefined();
    expect(buildObjectFilter({ fieldSelector: "spec.nodeName=n1", supportedFields: POD_FIELDS }).indexHint).toBeUndefined();
  });

  it("is 'everything' without selectors", () => {
    const f = buildObjectFilter({ supportedFields: POD_FIELDS });
    expect(f.everything).toBe(true);
    expect(f.namespace).toBeUndefined();
    expect(matchAll("x").namespace).toBe("x");
  });

  it("label-only and field-only filters", () => {
    expect(buildObjectFilter({ labelSelector: "a", supportedFields: POD_FIELDS }).matches({ a: "" }, {})).toBe(true);
    expect(buildObjectFilter({ fieldSelector: "status.phase=Running", supportedFields: POD_FIELDS }).matches({}, { "status.phase": "Running" })).toBe(true);
  });

  it.each([
    [{ labelSelector: "a in (", supportedFields: POD_FIELDS }, "unable to parse requirement"],
    [{ fieldSelector: "nope", supportedFields: POD_FIELDS }, "can't understand 'nope'"],
    [{ fieldSelector: "spec.foo=x", supportedFields: POD_FIELDS }, "field label not supported: spec.foo"],
    [{ fieldSelector: "spec.foo=x", supportedFields: ["metadata.name", "metadata.namespace"] }, "\"spec.foo\" is not a known field selector"],
  ])("rejects %j with 400", (spec, message) => {
    let err: unknown;
    try { buildObjectFilter(spec); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe(400);
    expect((err as ApiError).message).toContain(message);
  });
});
