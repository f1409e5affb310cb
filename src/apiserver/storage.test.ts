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
  it("a read at the revision of a typed write shares the written object; anything else decodes", () => {
    const c = new ObjectCodec(codec);
    const obj = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a", resourceVersion: "7" }, data: { k: "v" } };
    const value = c.encodeStorage(obj);
    const kv = (key: string, modRevision: number) => ({ key, value, createRevision: 7, modRevision, version: 1 });
    c.rememberStored(obj, value, "/registry/configmaps/default/a");
    expect(c.sharedFromKv(kv("/registry/configmaps/default/a", 7)).object).toBe(obj);
    const later = c.sharedFromKv(kv("/registry/configmaps/default/a", 8)).object; // written again since
    expect(later).not.toBe(obj);
    expect(later.metadata?.resourceVersion).toBe("8");
    expect(c.fromKv(kv("/registry/configmaps/default/a", 7)).object).not.toBe(obj); // unshared reads always decode
    const untyped = { ...obj, metadata: { name: "b", resourceVersion: "7" } };
    c.rememberStored(untyped, value); // no key: not a typed write
    expect(c.sharedFromKv(kv("/registry/configmaps/default/b", 7)).object).not.toBe(untyped);
  });
  it("TUG_VERIFY_HANDOFF: a written object that differs from its stored value throws on the shared read", () => {
    expect(process.env["TUG_VERIFY_HANDOFF"]).toBe("1"); // set for every test (vitest.config.ts)
    const c = new ObjectCodec(codec);
    const obj = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a", resourceVersion: "3", labels: {} }, data: { k: "v" } };
    const value = c.encodeStorage(obj);
    c.rememberStored(obj, value, "/registry/configmaps/default/a");
    expect(() => c.sharedFromKv({ key: "/registry/configmaps/default/a", value, createRevision: 3, modRevision: 3, version: 1 }))
      .toThrow(/differs from its stored value/);
  });
  it("keeps the most recently written keys only", () => {
    const c = new ObjectCodec(codec);
    const written: Array<{ key: string; obj: { apiVersion: string; kind: string; metadata: { name: string; resourceVersion: string } }; value: Uint8Array }> = [];
    for (let i = 0; i < 2100; i++) {
      const obj = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: `c${i}`, resourceVersion: "1" } };
      const value = c.encodeStorage(obj);
      written.push({ key: `/registry/configmaps/default/c${i}`, obj, value });
      c.rememberStored(obj, value, `/registry/configmaps/default/c${i}`);
    }
    const read = (i: number) => c.sharedFromKv({ key: written[i]!.key, value: written[i]!.value, createRevision: 1, modRevision: 1, version: 1 }).object;
    expect(read(0)).not.toBe(written[0]!.obj);
    expect(read(2099)).toBe(written[2099]!.obj);
    expect(read(100)).toBe(written[100]!.obj);
  });
});
