/**
 * The codec's fast paths must never change a result: the string reader (ASCII built by hand up to 8
 * bytes, by latin1Slice above, TextDecoder for anything non-ASCII or over 48 bytes; a table of
 * recently decoded strings probed by sampled bytes), the FieldsV1 memo (probed by sampled bytes,
 * confirmed by a full compare), `sortedKeys` for map encoding, and the apiVersion/kind lookup.
 */
import { describe, expect, it } from "vitest";
import { ApiError } from "../errors.ts";
import { sortedKeys } from "./check.ts";
import { decodeMessage, decodeObject, encodeMessage, encodeObject, hasProto } from "./mod.ts";
import { Reader } from "./reader.ts";
import { Writer } from "./writer.ts";

const META = "k8s.io.apimachinery.pkg.apis.meta.v1";
const reference = new TextDecoder("utf-8"); // what the reader used for every string before

/** A length-delimited field body as Reader.string reads it, padded on both sides. */
function framed(bytes: Uint8Array): { buf: Uint8Array; start: number; end: number } {
  const w = new Writer(16);
  w.byte(0xff); // a byte before, so the string does not start at offset 0
  const start = w.pos;
  w.uint32(bytes.length);
  w.raw(bytes);
  const end = w.pos;
  w.byte(0xfe); // and one after, which the read must not include
  return { buf: w.finish(), start, end };
}

function readString(bytes: Uint8Array): string {
  const { buf, start, end } = framed(bytes);
  const r = new Reader(buf, start);
  const s = r.string(end);
  expect(r.pos).toBe(end);
  return s;
}

/** Deterministic PRNG (mulberry32), so a failure reproduces. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));

describe("Reader.string", () => {
  it("reads ASCII of every length around the hand-built (8), native and table (48) thresholds, twice", () => {
    for (let len = 0; len <= 70; len++) {
      const s = Array.from({ length: len }, (_, i) => String.fromCharCode(33 + ((i * 7 + len) % 94))).join("");
      const first = readString(ascii(s));
      const second = readString(ascii(s)); // a table hit for len <= 48
      expect(first).toBe(s);
      expect(second).toBe(s);
    }
  });

  it("reads multi-byte UTF-8 (2, 3 and 4-byte sequences) at short and long lengths", () => {
    const enc = new TextEncoder();
    for (const s of ["é", "ü-", "a€", "日本", "😀", "x😀y", "ñandú-ñandú", "пример-значение", "κ".repeat(30), "a".repeat(47) + "é", "é" + "a".repeat(60)]) {
      expect(readString(enc.encode(s))).toBe(s);
      expect(readString(enc.encode(s))).toBe(s);
    }
  });

  it("invalid UTF-8 decodes as TextDecoder did before (replacement characters), short and long", () => {
    const bad = [[0x80], [0xff], [0x61, 0xc3], [0xe2, 0x82], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0x61, 0x80, 0x62]];
    for (const b of bad) {
      for (const pad of [0, 3, 10, 50]) {
        const bytes = Uint8Array.from([...Array.from({ length: pad }, () => 0x61), ...b, ...Array.from({ length: pad }, () => 0x7a)]);
        expect(readString(bytes)).toBe(reference.decode(bytes));
      }
    }
  });

  it("strings that share a table slot (same length and sampled bytes) never come back as each other", () => {
    // len 12 samples offsets 0, 3, 6, 8 and 11: vary offset 1 only.
    const variants = Array.from({ length: 40 }, (_, i) => `a${String.fromCharCode(48 + i)}bcdefghijk`);
    for (let round = 0; round < 3; round++) {
      for (const v of variants) expect(readString(ascii(v))).toBe(v);
    }
    // A non-ASCII string in the slot of an interned ASCII one.
    const interned = "ab" + "c".repeat(10);
    expect(readString(ascii(interned))).toBe(interned);
    const twin = ascii(interned);
    twin[1] = 0xc3;
    twin[2] = 0xa9; // "aé" + "c"*9... with the same sampled bytes at 0, 3, 6, 8, 11
    expect(readString(twin)).toBe(reference.decode(twin));
    expect(readString(ascii(interned))).toBe(interned);
  });

  it("random byte strings decode exactly as TextDecoder does (4,000 cases, mostly ASCII)", () => {
    const rand = rng(42);
    const alphabet = ascii("abcdeABCDE-./:_0123456789");
    for (let n = 0; n < 4000; n++) {
      const len = Math.floor(rand() * 72);
      const b = new Uint8Array(len);
      const highRate = n % 4 === 0 ? 0.1 : 0;
      for (let i = 0; i < len; i++) {
        // A small alphabet makes repeats and slot collisions common.
        b[i] = rand() < highRate ? 0x80 + Math.floor(rand() * 128) : alphabet[Math.floor(rand() * alphabet.length)]!;
      }
      expect(readString(b)).toBe(reference.decode(b));
    }
  });

  it("reads from a view into a larger buffer (byteOffset > 0), as watch frames are", () => {
    for (const s of ["ab", "registry.k8s.io/pause:3.10", "node.kubernetes.io/not-ready-x", "x".repeat(60), "日本"]) {
      const bytes = new TextEncoder().encode(s);
      const big = new Uint8Array(300).fill(0x41);
      big[100] = bytes.length;
      big.set(bytes, 101);
      const view = big.subarray(50, 200);
      const r = new Reader(view, 50);
      expect(r.string(view.length)).toBe(s);
      expect(r.pos).toBe(51 + bytes.length);
    }
  });

  it("a length past the end of the message is still a 400", () => {
    const r = new Reader(Uint8Array.of(5, 0x61, 0x62), 0);
    expect(() => r.string(3)).toThrow(ApiError);
  });
});

describe("FieldsV1 memo", () => {
  const entry = (fieldsV1: Record<string, unknown>): object => ({ manager: "m", operation: "Update", fieldsType: "FieldsV1", fieldsV1 });
  const roundTrip = (o: object): { fieldsV1?: unknown } =>
    decodeMessage(`${META}.ManagedFieldsEntry`, encodeMessage(`${META}.ManagedFieldsEntry`, o)) as { fieldsV1?: unknown };

  it("payloads with the same length and sampled bytes (one probe key) each decode to their own value", () => {
    // JSON `{"kN...":{}}` of 40 bytes: the probe samples offsets 0, 2, 5, 7, 10, …; vary offset 3.
    const sets = Array.from({ length: 9 }, (_, i) => ({ [`k${"x"}${i}${"y".repeat(30)}`]: {} }));
    const bytes = sets.map((s) => JSON.stringify(s));
    expect(new Set(bytes.map((b) => b.length)).size).toBe(1);
    for (let round = 0; round < 3; round++) {
      for (const s of sets) {
        // A fresh, equal object each time, so the encoder serializes it (no cached bytes).
        const back = roundTrip(entry(JSON.parse(JSON.stringify(s)) as Record<string, unknown>));
        expect(back.fieldsV1).toEqual(s);
      }
    }
  });

  it("the same bytes decode to one shared value; different bytes never do", () => {
    const a = { "f:metadata": { "f:labels": { "f:app": {} } } };
    const b = { "f:metadata": { "f:labels": { "f:apq": {} } } };
    const a1 = roundTrip(entry(structuredClone(a))).fieldsV1;
    const a2 = roundTrip(entry(structuredClone(a))).fieldsV1;
    const b1 = roundTrip(entry(structuredClone(b))).fieldsV1;
    expect(a1).toBe(a2);
    expect(b1).not.toBe(a1);
    expect(b1).toEqual(b);
  });
});

describe("map keys in encoding order", () => {
  it("sortedKeys is Object.keys().sort(), sorted or not", () => {
    const cases: Record<string, number>[] = [
      {}, { a: 1 }, { a: 1, b: 2 }, { b: 1, a: 2 }, { "10": 1, "9": 2, x: 3 }, { é: 1, e: 2, Z: 3, "": 4 },
      { "😀": 1, "\uffff": 2, a: 3 }, Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${(i * 37) % 50}`, i])),
      Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${String(i).padStart(2, "0")}`, i])),
    ];
    for (const m of cases) expect(sortedKeys(m)).toEqual(Object.keys(m).sort());
  });

  it("maps are written sorted whatever the object's key order", () => {
    const one = encodeObject({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", labels: { b: "2", a: "1" } }, data: { z: "", y: "x", "10": "a", "9": "b" } });
    const two = encodeObject({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", labels: { a: "1", b: "2" } }, data: { "10": "a", "9": "b", y: "x", z: "" } });
    expect(one).toEqual(two);
  });
});

describe("apiVersion/kind lookup", () => {
  it("finds kinds, lists and bodies; nothing else", () => {
    expect(hasProto("v1", "Pod")).toBe(true);
    expect(hasProto("v1", "PodList")).toBe(true);
    expect(hasProto("apps/v1", "Deployment")).toBe(true);
    expect(hasProto("v1", "Binding")).toBe(true);
    expect(hasProto("apps/v1", "Pod")).toBe(false);
    expect(hasProto("v1 Pod", "")).toBe(false);
    expect(hasProto("", "v1 Pod")).toBe(false);
    expect(hasProto("v1", "__proto__")).toBe(false);
    expect(hasProto("__proto__", "Pod")).toBe(false);
  });

  it("an unknown kind in an envelope is still the same 400", () => {
    const bytes = encodeObject({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x" } });
    const at = Buffer.from(bytes).indexOf("ConfigMap");
    const bad = bytes.slice();
    bad.set(ascii("ConfigMaq"), at);
    expect(() => decodeObject(bad)).toThrow('no kind "ConfigMaq" is registered for version "v1"');
  });
});

describe("schema walks (paths built only when reported)", () => {
  it("findTypeError names fields, map entries and list elements, under a base path too", async () => {
    const { findTypeError } = await import("./typecheck.ts");
    const POD = "k8s.io.api.core.v1.Pod";
    const ok = { metadata: { name: "a", labels: { x: "1" } }, spec: { containers: [{ name: "c", ports: [{ containerPort: 80 }] }] } };
    expect(findTypeError(POD, ok)).toBeUndefined();
    expect(findTypeError(POD, { metadata: { labels: { x: 1 } } })).toBe("metadata.labels[x]: expected string, got number 1");
    expect(findTypeError(POD, { spec: { containers: [{ name: "c" }, { name: "d", ports: [{ containerPort: "80" }] }] } }))
      .toBe('spec.containers[1].ports[0].containerPort: expected int32, got string "80"');
    expect(findTypeError(POD, { spec: { containers: {} } })).toBe("spec.containers: expected array, got object");
    expect(findTypeError(POD, { status: { startTime: "soon" } })).toBe('status.startTime: expected RFC 3339 time string, got string "soon"');
    expect(findTypeError(POD, { spec: { overhead: { cpu: true } } })).toBe("spec.overhead[cpu]: expected quantity string, got boolean");
    expect(findTypeError("k8s.io.api.core.v1.PodSpec", { nodeName: 3 }, "spec.template.spec")).toBe("spec.template.spec.nodeName: expected string, got number 3");
    expect(findTypeError("no.such.Message", { a: 1 })).toBeUndefined();
  });

  it("unknownFieldsOf reports every unknown path, map entries and list elements included", async () => {
    const { unknownFieldsOf } = await import("./schema.ts");
    const o = { a: 1, spec: { containers: [{ name: "c", x: 1 }, { y: 2, env: [{ name: "e", z: 3 }] }], overhead: { cpu: "1" } }, metadata: { labels: { any: "thing" }, q: 1 } };
    expect(unknownFieldsOf("k8s.io.api.core.v1.Pod", o)).toEqual(["a", "spec.containers[0].x", "spec.containers[1].y", "spec.containers[1].env[0].z", "metadata.q"]);
    expect(unknownFieldsOf("no.such.Message", o)).toEqual([]);
  });
});
