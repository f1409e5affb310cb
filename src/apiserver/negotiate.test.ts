import { describe, it, expect } from "vitest";
import { AGG_DISCOVERY_V2, AGG_DISCOVERY_V2BETA1, bodyFormat, negotiate, parseAccept } from "./negotiate.ts";

const RES = { protobuf: true, transforms: true, discovery: false };
const TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
const AGG = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";

describe("negotiate", () => {
  it("defaults to JSON", () => {
    expect(negotiate(undefined, RES)).toMatchObject({ serialization: "json", contentType: "application/json" });
    expect(negotiate("*/*", RES)?.serialization).toBe("json");
    expect(negotiate("application/json, */*", RES)?.serialization).toBe("json");
  });
  it("kubectl's Table accept picks Table v1", () => {
    expect(negotiate(TABLE, RES)).toMatchObject({ shape: { kind: "Table", version: "v1" }, contentType: "application/json;as=Table;g=meta.k8s.io;v=v1" });
    expect(negotiate(TABLE, { ...RES, transforms: false })?.shape.kind).toBe("object");
  });
  it("protobuf when the kind has one, else the JSON fallback, else nothing", () => {
    const pb = "application/vnd.kubernetes.protobuf,application/json";
    expect(negotiate(pb, RES)?.serialization).toBe("protobuf");
    expect(negotiate(pb, { ...RES, protobuf: false })?.serialization).toBe("json");
    expect(negotiate("application/vnd.kubernetes.protobuf", { ...RES, protobuf: false })).toBeUndefined();
  });
  it("memoizes per header and options: the same frozen result, options still decide", () => {
    const pb = "application/vnd.kubernetes.protobuf, application/json";
    const a = negotiate(pb, RES);
    expect(negotiate(pb, RES)).toBe(a);
    expect(Object.isFrozen(a) && Object.isFrozen(a?.shape)).toBe(true);
    expect(negotiate(pb, { ...RES, protobuf: false })?.serialization).toBe("json");
    expect(negotiate(pb, RES)?.serialization).toBe("protobuf");
    expect(negotiate("text/html", RES)).toBeUndefined();
    expect(negotiate("text/html", RES)).toBeUndefined();
    expect(negotiate(AGG, { protobuf: false, transforms: false, discovery: true })?.contentType).toBe(AGG_DISCOVERY_V2);
    expect(negotiate(AGG, RES)?.shape.kind).toBe("object");
  });
  it("YAML, q-values, unknown types", () => {
    expect(negotiate("application/yaml", RES)?.serialization).toBe("yaml");
    expect(negotiate("application/yaml;q=0.5, application/json", RES)?.serialization).toBe("json");
    expect(negotiate("text/html", RES)).toBeUndefined();
    expect(negotiate("application/json;q=0", RES)).toBeUndefined();
  });
  it("aggregated discovery v2 / v2beta1 only where allowed", () => {
    const d = { protobuf: false, transforms: false, discovery: true };
    expect(negotiate(AGG, d)?.contentType).toBe(AGG_DISCOVERY_V2);
    expect(negotiate("application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList", d)?.contentType).toBe(AGG_DISCOVERY_V2BETA1);
    expect(negotiate(AGG, RES)?.shape.kind).toBe("object");
  });
  it("PartialObjectMetadata(List)", () => {
    expect(negotiate("application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1", RES)?.shape).toEqual({ kind: "PartialObjectMetadata", version: "v1", list: true });
  });
  it("parses quoted params and sorts by q", () => {
    expect(parseAccept(`a/b;q=0.1, c/d;x="1,2"`).map((m) => m.type)).toEqual(["c/d", "a/b"]);
  });
});

describe("bodyFormat", () => {
  it("maps request content types", () => {
    expect(bodyFormat(undefined)).toBe("json");
    expect(bodyFormat("application/json; charset=utf-8")).toBe("json");
    expect(bodyFormat("application/yaml")).toBe("yaml");
    expect(bodyFormat("application/vnd.kubernetes.protobuf")).toBe("protobuf");
    expect(bodyFormat("application/strategic-merge-patch+json")).toBe("strategic-merge-patch");
    expect(bodyFormat("application/apply-patch+yaml")).toBe("apply-patch");
    expect(bodyFormat("text/plain")).toBeUndefined();
    expect(bodyFormat("garbage")).toBeUndefined();
  });
});
