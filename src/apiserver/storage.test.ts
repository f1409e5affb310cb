import { describe, it, expect } from "vitest";
import { objectKey, ObjectCodec, storagePrefixes } from "./storage.ts";
import type { KindInfo } from "./ports.ts";
import * as codec from "../api/codec/mod.ts";

const k = (group: string, plural: string): KindInfo => ({
  group, version: "v1", kind: "X", listKind: "XList", plural, singular: "x", namespaced: true, shortNames: [], categories: [], subresources: [],
});

describe("storage layout and encoding", () => {
  it("keeps upstream prefixes; a clashing non-core plural is qualified", () => {
    const ev = k("", "events");
    const ev2 = k("events.k8s.io", "events");
    const dep = k("apps", "deployments");
    const p = storagePrefixes([ev2, ev, dep]);
    expect(p.get(ev)).toBe("/registry/events/");
    expect(p.get(ev2)).toBe("/registry/events.k8s.io/events/");
    expect(p.get(dep)).toBe("/registry/deployments/");
    expect(objectKey("/registry/pods/", "default", "web")).toBe("/registry/pods/default/web");
    expect(objectKey("/registry/nodes/", "", "n1")).toBe("/registry/nodes/n1");
  });
  it("stores protobuf for built-in kinds without resourceVersion, JSON otherwise", () => {
    const c = new ObjectCodec(codec);
    const obj = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a", resourceVersion: "5" }, data: { k: "v" } };
    const v = c.encodeStorage(obj);
    expect(Array.from(v.subarray(0, 4))).toEqual([0x6b, 0x38, 0x73, 0x00]);
    const back = c.fromKv({ key: "k", value: v, createRevision: 3, modRevision: 9, version: 2 });
    expect(back.object.metadata?.resourceVersion).toBe("9");
    expect(back.object["data"]).toEqual({ k: "v" });
    const json = c.encodeStorage({ apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w" } });
    expect(new TextDecoder().decode(json)).toBe(`{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"}}`);
    expect(() => c.decodeStorage(new Uint8Array([1, 2, 3]))).toThrow(/cannot decode stored object/);
  });
});
