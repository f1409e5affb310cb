import { describe, expect, it } from "vitest";
import { encodeObject } from "../api/codec/mod.ts";
import { ApiError } from "../api/errors.ts";
import { acceptFor, decodeBody, DecodeError, encodeBody, errorFromResponse, parseEncoding } from "./encoding.ts";
import { RestClient } from "./rest.ts";

const cm = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace: "d" }, data: { k: "v" } };
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

describe("encoding selection", () => {
  it("protobuf clients send protobuf and accept protobuf then JSON; JSON clients only JSON", () => {
    expect(acceptFor("protobuf")).toBe("application/vnd.kubernetes.protobuf, application/json");
    expect(acceptFor("json")).toBe("application/json");
    const p = encodeBody(cm, "protobuf");
    expect(p.contentType).toBe("application/vnd.kubernetes.protobuf");
    expect([...p.bytes.subarray(0, 4)]).toEqual([0x6b, 0x38, 0x73, 0x00]);
    const j = encodeBody(cm, "json");
    expect(j.contentType).toBe("application/json");
    expect(JSON.parse(new TextDecoder().decode(j.bytes))).toEqual(cm);
  });

  it("kinds without a protobuf message fall back to JSON", () => {
    const cr = { apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w" } };
    expect(encodeBody(cr, "protobuf").contentType).toBe("application/json");
  });

  it("a protobuf-encoding failure is a clear 400 ApiError", () => {
    expect(() => encodeBody({ ...cm, data: { k: 5 } }, "protobuf")).toThrow(ApiError);
  });

  it("parseEncoding refuses unknown names", () => {
    expect(parseEncoding("json")).toBe("json");
    expect(() => parseEncoding("yaml")).toThrow(/unknown encoding "yaml"/);
  });

  it("RestClient defaults to protobuf and rejects bad server URLs", () => {
    expect(new RestClient({ server: "http://127.0.0.1:1", namespace: "default" }).encoding).toBe("protobuf");
    expect(() => new RestClient({ server: "ftp://x", namespace: "default" })).toThrow(/https:\/\/ or http:\/\//);
    expect(() => new RestClient({ server: "nope", namespace: "default" })).toThrow(/not a URL/);
  });
});

describe("decodeBody", () => {
  it("decodes by the response's Content-Type, whatever was asked", () => {
    expect(decodeBody(encodeObject(cm), "application/vnd.kubernetes.protobuf")).toEqual(cm);
    expect(decodeBody(utf8(JSON.stringify(cm)), "application/json; charset=utf-8")).toEqual(cm);
    expect(decodeBody(utf8("{}"), "application/merge-patch+json")).toEqual({});
  });

  it("decodes protobuf lists", () => {
    const list = { apiVersion: "v1", kind: "ConfigMapList", metadata: { resourceVersion: "7" }, items: [{ metadata: { name: "a" }, data: { x: "y" } }] };
    const back = decodeBody(encodeObject(list), "application/vnd.kubernetes.protobuf") as typeof list;
    expect(back.kind).toBe("ConfigMapList");
    expect(back.metadata.resourceVersion).toBe("7");
    expect(back.items[0]?.data).toEqual({ x: "y" });
  });

  it("throws DecodeError for malformed bodies and unknown media types", () => {
    expect(() => decodeBody(utf8("{"), "application/json")).toThrow(DecodeError);
    expect(() => decodeBody(utf8("k8s"), "application/vnd.kubernetes.protobuf")).toThrow(/cannot decode protobuf/);
    expect(() => decodeBody(utf8("hello"), "text/plain")).toThrow(/cannot decode a response of type "text\/plain"/);
  });
});

describe("errorFromResponse", () => {
  it("returns the server's Status (JSON or protobuf) as ApiError", () => {
    const st = { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: 'pods "x" not found', reason: "NotFound", details: { name: "x", kind: "pods" }, code: 404 };
    for (const [bytes, ct] of [[utf8(JSON.stringify(st)), "application/json"], [encodeObject(st), "application/vnd.kubernetes.protobuf"]] as const) {
      const e = errorFromResponse(404, ct, bytes);
      expect(e).toBeInstanceOf(ApiError);
      expect(e.code).toBe(404);
      expect(e.reason).toBe("NotFound");
      expect(e.message).toBe('pods "x" not found');
      expect(e.status.details).toEqual({ name: "x", kind: "pods" });
    }
  });

  it("synthesizes a Status from a non-Status body", () => {
    const e = errorFromResponse(503, "text/plain", utf8("upstream down"));
    expect(e.code).toBe(503);
    expect(e.reason).toBe("ServiceUnavailable");
    expect(e.message).toBe("the server responded with status 503: upstream down");
    expect(errorFromResponse(418, undefined, new Uint8Array()).message).toBe("the server responded with status 418 and an empty body");
  });
});
