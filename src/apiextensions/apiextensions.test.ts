import { describe, it, expect } from "vitest";
import { structuralErrors, type Schema } from "./schema.ts";
import { validateValue } from "./validate.ts";
import { applySchemaDefaults, prune, unknownFieldPaths } from "./structural.ts";
import { evaluate, JsonPathError, parseJsonPath } from "./jsonpath.ts";
import { crTable } from "../apiserver/crd/resource.ts";
import { typeSchemaOf } from "./typeschema.ts";
import { validateCrd, defaultCrd } from "./crd_strategy.ts";
import { encodeObject, decodeObject } from "../api/codec/mod.ts";

const P = "spec.versions[0].schema.openAPIV3Schema";
const msgs = (errs: { field: string; message: string }[]) => errs.map((e) => `${e.field}: ${e.message}`);

describe("structural schema checks", () => {
  it("accepts a structural schema", () => {
    const s: Schema = { type: "object", properties: { spec: { type: "object", properties: { a: { type: "string" }, n: { "x-kubernetes-int-or-string": true } } } } };
    expect(structuralErrors(s, P)).toEqual([]);
  });
  it("rejects missing schemas, root types and untyped fields with upstream's reasons", () => {
    expect(msgs(structuralErrors(undefined, P))).toEqual([`${P}: Required value: schemas are required`]);
    expect(msgs(structuralErrors({ type: "string" }, P))).toEqual([`${P}.type: Invalid value: "string": must be object at the root`]);
    expect(msgs(structuralErrors({ properties: {} }, P))).toEqual([`${P}.type: Required value: must not be empty at the root`]);
    expect(msgs(structuralErrors({ type: "object", properties: { spec: { properties: { a: { type: "string" } } } } }, P)))
      .toEqual([`${P}.properties[spec].type: Required value: must not be empty for specified object fields`]);
  });
  it("rejects types in value validations, arrays without items, bad list types and metadata beyond name", () => {
    const s: Schema = { type: "object", properties: {
      a: { type: "string", anyOf: [{ type: "integer" }] },
      b: { type: "array" },
      c: { type: "array", items: { type: "string" }, "x-kubernetes-list-type": "map" },
      d: { type: "object", "x-kubernetes-preserve-unknown-fields": false },
      metadata: { type: "object", properties: { labels: { type: "object" } } },
    } };
    const out = msgs(structuralErrors(s, P));
    expect(out).toContain(`${P}.properties[a].anyOf[0].type: Forbidden: must be empty to be structural`);
    expect(out).toContain(`${P}.properties[b].items: Required value: must be specified`);
    expect(out).toContain(`${P}.properties[c].x-kubernetes-list-map-keys: Required value: must not be empty if x-kubernetes-list-type is map`);
    expect(out).toContain(`${P}.properties[d].x-kubernetes-preserve-unknown-fields: Invalid value: false: must be true or undefined`);
    expect(out).toContain(`${P}.properties[metadata].properties[labels]: Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified`);
  });
});

describe("value validation", () => {
  const s: Schema = { type: "object", properties: { spec: { type: "object", required: ["name"], properties: {
    name: { type: "string", minLength: 2, maxLength: 5, pattern: "^[a-z]+$" },
    size: { type: "integer", minimum: 1, maximum: 3 },
    ratio: { type: "number", exclusiveMaximum: true, maximum: 1 },
    mode: { type: "string", enum: ["a", "b"] },
    port: { "x-kubernetes-int-or-string": true },
    email: { type: "string", format: "email" },
    tags: { type: "array", items: { type: "string" }, maxItems: 2, "x-kubernetes-list-type": "set" },
    opt: { type: "string", nullable: true },
    labels: { type: "object", additionalProperties: { type: "string" } },
    pod: { type: "object", "x-kubernetes-embedded-resource": true, "x-kubernetes-preserve-unknown-fields": true },
  } } } };
  const v = (spec: unknown) => msgs(validateValue(s, { spec }, ""));
  it("accepts a valid value", () => {
    expect(v({ name: "ab", size: 2, ratio: 0.5, mode: "a", port: "http", email: "a@b", tags: ["x"], opt: null, labels: { a: "b" }, pod: { apiVersion: "v1", kind: "Pod" } })).toEqual([]);
  });
  it("reports each violation with upstream's text", () => {
    expect(v({ name: 5 })).toEqual([`spec.name: Invalid value: "integer": spec.name in body must be of type string: "integer"`]);
    expect(v({})).toEqual(["spec.name: Required value"]);
    const out = v({ name: "TOOLONGX", size: 4, ratio: 1, mode: "c", port: 1.5, email: "nope", tags: ["x", "x", "y"], labels: { a: 1 }, pod: {} });
    expect(out).toContain("spec.name: Too long: may not be more than 5 bytes");
    expect(out).toContain(`spec.name: Invalid value: "TOOLONGX": spec.name in body should match '^[a-z]+$'`);
    expect(out).toContain("spec.size: Invalid value: 4: spec.size in body should be less than or equal to 3");
    expect(out).toContain("spec.ratio: Invalid value: 1: spec.ratio in body should be less than 1");
    expect(out).toContain(`spec.mode: Unsupported value: "c": supported values: "a", "b"`);
    expect(out).toContain(`spec.port: Invalid value: "number": spec.port in body must be of type integer or string: "number"`);
    expect(out).toContain(`spec.email: Invalid value: "nope": spec.email in body must be of type email: "nope"`);
    expect(out).toContain("spec.tags: Too many: 3: must have at most 2 items");
    expect(out).toContain(`spec.tags[1]: Duplicate value: "x"`);
    expect(out).toContain(`spec.labels[a]: Invalid value: "integer": spec.labels[a] in body must be of type string: "integer"`);
    expect(out).toContain("spec.pod.apiVersion: Required value: must not be empty");
    expect(v({ name: "a" })).toEqual([`spec.name: Invalid value: "a": spec.name in body should be at least 2 chars long`]);
    expect(v({ name: "ab", size: 0 })).toEqual(["spec.size: Invalid value: 0: spec.size in body should be greater than or equal to 1"]);
    expect(v({ name: "ab", opt: null, mode: null })).toEqual([`spec.mode: Invalid value: "null": spec.mode in body must be of type string: "null"`]);
  });
});

describe("pruning and defaulting", () => {
  const s: Schema = { type: "object", properties: {
    spec: { type: "object", properties: {
      a: { type: "string", default: "x" },
      inner: { type: "object", default: {}, properties: { n: { type: "integer", default: 3 } } },
      free: { type: "object", "x-kubernetes-preserve-unknown-fields": true, properties: { k: { type: "object", properties: {} } } },
      items: { type: "array", items: { type: "object", properties: { name: { type: "string" }, on: { type: "boolean", default: true } } } },
      m: { type: "object", additionalProperties: { type: "object", properties: { v: { type: "string" } } } },
      emb: { type: "object", "x-kubernetes-embedded-resource": true, properties: { spec: { type: "object" } } },
    } },
  } };
  it("prunes unknown fields, keeping preserved, embedded meta and root meta", () => {
    const o: Record<string, unknown> = {
      apiVersion: "x/v1", kind: "K", metadata: { name: "n" }, top: 1,
      spec: { a: "1", zz: 2, free: { any: 1, k: { drop: 1 } }, items: [{ name: "i", bad: 1 }], m: { q: { v: "1", w: 2 } }, emb: { apiVersion: "v1", kind: "Pod", metadata: {}, other: 1 } },
    };
    expect(prune(s, o).sort()).toEqual(["spec.emb.other", "spec.free.k.drop", "spec.items[0].bad", "spec.m[q].w", "spec.zz", "top"]);
    expect(o).toEqual({
      apiVersion: "x/v1", kind: "K", metadata: { name: "n" },
      spec: { a: "1", free: { any: 1, k: {} }, items: [{ name: "i" }], m: { q: { v: "1" } }, emb: { apiVersion: "v1", kind: "Pod", metadata: {} } },
    });
    const copy = { spec: { zz: 1 } };
    expect(unknownFieldPaths(s, copy)).toEqual(["spec.zz"]);
    expect(copy).toEqual({ spec: { zz: 1 } });
  });
  it("applies defaults top-down, into defaulted objects and list items", () => {
    const o: Record<string, unknown> = { spec: { items: [{ name: "i" }], a: null } };
    applySchemaDefaults(s, o);
    expect(o).toEqual({ spec: { a: "x", inner: { n: 3 }, items: [{ name: "i", on: true }] } });
  });
});

describe("printer columns and JSONPath", () => {
  it("parses and evaluates the column subset", () => {
    const o = { spec: { items: [{ n: "a" }, { n: "b" }] }, metadata: { labels: { "app.k8s.io/x": "y" } } };
    expect(evaluate(parseJsonPath(".spec.items[1].n"), o)).toEqual(["b"]);
    expect(evaluate(parseJsonPath("{.spec.items[*].n}"), o)).toEqual(["a", "b"]);
    expect(evaluate(parseJsonPath(".metadata.labels['app.k8s.io/x']"), o)).toEqual(["y"]);
    expect(evaluate(parseJsonPath(".spec.missing.x"), o)).toEqual([]);
    expect(() => parseJsonPath("spec")).toThrow(JsonPathError);
    expect(() => parseJsonPath(".spec[?(@.x)]")).toThrow(/unsupported subscript/);
    expect(() => parseJsonPath("")).toThrow(/must not be empty/);
  });
  it("renders rows with the declared types, Age by default", () => {
    const now = new Date("2024-01-01T01:00:00Z");
    const obj = { metadata: { name: "c", creationTimestamp: "2024-01-01T00:00:00Z" }, spec: { s: "x", n: 2.7, on: true } };
    const t = crTable({ name: "v1", additionalPrinterColumns: [
      { name: "S", type: "string", jsonPath: ".spec.s" }, { name: "N", type: "integer", jsonPath: ".spec.n", priority: 1 },
      { name: "On", type: "boolean", jsonPath: ".spec.on" }, { name: "Missing", type: "string", jsonPath: ".spec.zz" },
      { name: "Created", type: "date", jsonPath: ".metadata.creationTimestamp" },
    ] });
    expect(t.columns.map((c) => `${c.name}:${c.type}:${c.priority}`)).toEqual(["Name:string:0", "S:string:0", "N:integer:1", "On:boolean:0", "Missing:string:0", "Created:date:0"]);
    expect(t.row(obj, now)).toEqual(["c", "x", 2, true, null, "60m"]);
    const plain = crTable({ name: "v1" });
    expect(plain.columns.map((c) => c.name)).toEqual(["Name", "Age"]);
    expect(plain.row(obj, now)).toEqual(["c", "60m"]);
  });
});

describe("apply TypeSchema from the structural schema", () => {
  it("maps list and map types from the x-kubernetes extensions", () => {
    const t = typeSchemaOf({ type: "object", properties: { spec: { type: "object", properties: {
      ports: { type: "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["port"], items: { type: "object", properties: { port: { type: "integer" }, proto: { type: "string", default: "TCP" } } } },
      tags: { type: "array", items: { type: "string" }, "x-kubernetes-list-type": "set" },
      raw: { type: "array", items: { type: "string" } },
      sel: { type: "object", "x-kubernetes-map-type": "atomic", properties: { a: { type: "string" } } },
      labels: { type: "object", additionalProperties: { type: "string" } },
    } } } });
    if (t.kind !== "struct") throw new Error("root must be a struct");
    const spec = t.field("spec")?.type;
    if (spec?.kind !== "struct") throw new Error("spec must be a struct");
    expect(spec.field("ports")?.type).toMatchObject({ kind: "list", listType: "map", keys: ["port"] });
    expect(spec.field("tags")?.type).toMatchObject({ kind: "list", listType: "set" });
    expect(spec.field("raw")?.type).toMatchObject({ kind: "list", listType: "atomic" });
    expect(spec.field("sel")?.type).toMatchObject({ kind: "struct", atomic: true });
    expect(spec.field("labels")?.type).toMatchObject({ kind: "map", atomic: false });
    expect(t.field("metadata")?.type.kind).toBe("struct");
  });
});

describe("the CRD kind", () => {
  const crd = () => ({
    apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition", metadata: { name: "things.example.com" },
    spec: { group: "example.com", scope: "Cluster", names: { plural: "things", kind: "Thing" }, versions: [
      { name: "v1", served: true, storage: true, schema: { openAPIV3Schema: { type: "object", properties: {
        spec: { type: "object", properties: { any: { default: { a: [1, "x"] }, "x-kubernetes-preserve-unknown-fields": true },
          list: { type: "array", items: { type: "string" } }, add: { type: "object", additionalProperties: true, "x-kubernetes-preserve-unknown-fields": true } } },
      } } } },
    ] },
  });
  it("defaults names and conversion and validates clean", () => {
    const c = crd();
    defaultCrd(c);
    expect(c.spec).toMatchObject({ names: { singular: "thing", listKind: "ThingList" }, conversion: { strategy: "None" } });
    expect(validateCrd(c)).toEqual([]);
  });
  it("reports bad scope, names and printer columns", () => {
    const c = crd() as ReturnType<typeof crd> & { spec: { scope: string; versions: Array<Record<string, unknown>> } };
    c.spec.scope = "Global";
    c.spec.versions[0]!["additionalPrinterColumns"] = [{ name: "X", type: "text", jsonPath: "spec" }];
    defaultCrd(c);
    const out = msgs(validateCrd(c));
    expect(out).toContain(`spec.scope: Unsupported value: "Global": supported values: "Cluster", "Namespaced"`);
    expect(out).toContain(`spec.versions[0].additionalPrinterColumns[0].type: Unsupported value: "text": supported values: "integer", "number", "string", "boolean", "date"`);
    expect(out.some((m) => m.startsWith("spec.versions[0].additionalPrinterColumns[0].JSONPath: Invalid value"))).toBe(true);
  });
  it("round-trips JSONSchemaProps unions and JSON values through protobuf", () => {
    const c = crd();
    const s = c.spec.versions[0]!.schema.openAPIV3Schema as Record<string, unknown>;
    Object.assign(s, { additionalItems: false, dependencies: { a: ["b", "c"], d: { type: "string" } } });
    (s["properties"] as Record<string, unknown>)["tuple"] = { type: "array", items: [{ type: "string" }, { type: "integer" }], enum: [[1], "x", null, 2.5] };
    const back = decodeObject(encodeObject(c));
    expect(back).toEqual(c);
  });
});
