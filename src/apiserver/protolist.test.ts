import { describe, it, expect } from "vitest";
import { decodeObject, encodeMessage, encodeObject } from "../api/codec/mod.ts";
import { encodeProtoList, unknownRaw } from "./protolist.ts";

describe("encodeProtoList", () => {
  it("equals the codec's own list encoding after decoding", () => {
    const items = Array.from({ length: 3 }, (_, i) => ({
      apiVersion: "v1", kind: "ConfigMap", metadata: { name: `c${i}`, namespace: "default", resourceVersion: String(10 + i), labels: { a: "b".repeat(i * 100) } }, data: { k: "v".repeat(200) },
    }));
    const meta = { resourceVersion: "42", continue: "tok" };
    const fast = encodeProtoList("v1", "ConfigMapList", encodeMessage("k8s.io.apimachinery.pkg.apis.meta.v1.ListMeta", meta), items.map((o) => encodeObject(o)));
    const slow = encodeObject({ apiVersion: "v1", kind: "ConfigMapList", metadata: meta, items });
    expect(decodeObject(fast)).toEqual(decodeObject(slow));
    expect(Buffer.from(fast).equals(Buffer.from(slow))).toBe(true);
  });
  it("handles an empty list and rejects non-envelopes", () => {
    const fast = encodeProtoList("v1", "PodList", new Uint8Array(), []);
    expect(decodeObject(fast)).toMatchObject({ kind: "PodList", apiVersion: "v1" });
    expect(() => unknownRaw(new Uint8Array([1, 2, 3, 4, 5]))).toThrow(/envelope/);
  });
});
