/**
 * Structural schemas of CustomResourceDefinitions: the checks that decide whether an
 * `openAPIV3Schema` is structural (upstream's rules and messages), plus small accessors the
 * validator, defaulter, pruner and field-manager schema share.
 *
 * Structural, in short: every node specifies a non-empty `type` (unless it is
 * `x-kubernetes-int-or-string` or `x-kubernetes-preserve-unknown-fields`), the root is an object,
 * value validations (`allOf`/`anyOf`/`oneOf`/`not`) may not introduce types, defaults or
 * structure the main schema does not have, `properties` and `additionalProperties` are exclusive,
 * arrays have `items`, and `metadata` at the root may only restrict `name` and `generateName`.
 */
import type { JSONSchemaProps } from "../api/generated/apiextensions_v1.ts";
import { forbidden, invalid, notSupported, required, type FieldError } from "../api/validation/field.ts";

export type Schema = JSONSchemaProps;

const TYPES = ["array", "boolean", "integer", "number", "object", "string"];

export function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The single items schema (an array form of `items` is not structural and rejected earlier). */
export function itemsOf(s: Schema): Schema | undefined {
  const it = s.items;
  return isObj(it) ? (it as Schema) : undefined;
}

/** `additionalProperties` as a schema; `true` means "any value, pruning stops" only with preserve. */
export function additionalOf(s: Schema): Schema | undefined {
  const ap = s.additionalProperties;
  return isObj(ap) ? (ap as Schema) : undefined;
}

const MAX_DEPTH = 64;

/**
 * Structural-schema errors of a version's `openAPIV3Schema` at `path` (e.g.
 * `spec.versions[0].schema.openAPIV3Schema`). Messages follow upstream's apiextensions validation.
 */
export function structuralErrors(root: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!isObj(root)) {
    errs.push(required(path, "schemas are required"));
    return errs;
  }
  const s = root as Schema;
  if (s.type === undefined || s.type === "") errs.push(required(`${path}.type`, "must not be empty at the root"));
  else if (s.type !== "object") errs.push(invalid(`${path}.type`, s.type, "must be object at the root"));
  if (s.nullable === true) errs.push(forbidden(`${path}.nullable`, "must be false at the root"));
  walk(s, path, true, false, errs, 0);
  const meta = s.properties?.["metadata"];
  if (isObj(meta)) checkRootMetadata(meta as Schema, `${path}.properties[metadata]`, errs);
  return errs;
}

function checkRootMetadata(m: Schema, path: string, errs: FieldError[]): void {
  if (m.type !== undefined && m.type !== "object") errs.push(invalid(`${path}.type`, m.type, "must be object"));
  for (const [k, v] of Object.entries(m)) {
    if (k === "type" || k === "description" || k === "title" || k === "properties" || v === undefined) continue;
    errs.push(forbidden(path, "must not specify anything other than name and generateName, but metadata is implicitly specified"));
    return;
  }
  for (const name of Object.keys(m.properties ?? {})) {
    if (name !== "name" && name !== "generateName") {
      errs.push(forbidden(`${path}.properties[${name}]`, "must not specify anything other than name and generateName, but metadata is implicitly specified"));
    }
  }
}

/** `inValue`: under allOf/anyOf/oneOf/not, where types and structure-affecting keywords are forbidden. */
function walk(s: Schema, path: string, root: boolean, inValue: boolean, errs: FieldError[], depth: number): void {
  if (depth > MAX_DEPTH) {
    errs.push(forbidden(path, `must not nest deeper than ${MAX_DEPTH} levels`));
    return;
  }
  const intOrString = s["x-kubernetes-int-or-string"] === true;
  if (s["x-kubernetes-preserve-unknown-fields"] === false) {
    errs.push(invalid(`${path}.x-kubernetes-preserve-unknown-fields`, false, "must be true or undefined"));
  }
  if (s["$ref"] !== undefined) errs.push(forbidden(`${path}.$ref`, "$ref is not supported"));
  if (s["$schema"] !== undefined) errs.push(forbidden(`${path}.$schema`, "$schema is not supported"));
  if (s.id !== undefined) errs.push(forbidden(`${path}.id`, "id is not supported"));
  if (s.definitions !== undefined) errs.push(forbidden(`${path}.definitions`, "definitions are not supported"));
  if (s.dependencies !== undefined) errs.push(forbidden(`${path}.dependencies`, "dependencies are not supported"));
  if (s.patternProperties !== undefined) errs.push(forbidden(`${path}.patternProperties`, "patternProperties is not supported"));
  if (s.additionalItems !== undefined) errs.push(forbidden(`${path}.additionalItems`, "additionalItems is not supported"));
  if (s.uniqueItems === true) errs.push(forbidden(`${path}.uniqueItems`, "uniqueItems cannot be set to true since the runtime complexity becomes quadratic"));
  if (inValue) {
    if (s.type !== undefined) errs.push(forbidden(`${path}.type`, "must be empty to be structural"));
    if (s.default !== undefined) errs.push(forbidden(`${path}.default`, "must be undefined to be structural"));
    if (s.additionalProperties !== undefined) errs.push(forbidden(`${path}.additionalProperties`, "must be undefined to be structural"));
    if (s["x-kubernetes-preserve-unknown-fields"] !== undefined) errs.push(forbidden(`${path}.x-kubernetes-preserve-unknown-fields`, "must be false to be structural"));
    if (s["x-kubernetes-embedded-resource"] !== undefined) errs.push(forbidden(`${path}.x-kubernetes-embedded-resource`, "must be false to be structural"));
    if (s["x-kubernetes-int-or-string"] !== undefined) errs.push(forbidden(`${path}.x-kubernetes-int-or-string`, "must be false to be structural"));
    if (s.nullable !== undefined) errs.push(forbidden(`${path}.nullable`, "must be false to be structural"));
  } else {
    if (s.type !== undefined && s.type !== "" && !TYPES.includes(s.type)) {
      errs.push(notSupported(`${path}.type`, s.type, TYPES));
    }
    if ((s.type === undefined || s.type === "") && !root && !intOrString && s["x-kubernetes-preserve-unknown-fields"] !== true) {
      errs.push(required(`${path}.type`, "must not be empty for specified object fields"));
    }
    if (intOrString && s.type !== undefined && s.type !== "") {
      errs.push(invalid(`${path}.type`, s.type, "must be empty if x-kubernetes-int-or-string is true"));
    }
    if (s["x-kubernetes-embedded-resource"] === true && s.type !== "object") {
      errs.push(invalid(`${path}.type`, s.type ?? "", "must be object if x-kubernetes-embedded-resource is true"));
    }
    if (s.type === "array" && s.items === undefined) errs.push(required(`${path}.items`, "must be specified"));
    if (s.properties !== undefined && s.additionalProperties !== undefined) {
      errs.push(forbidden(`${path}.additionalProperties`, "additionalProperties and properties are mutual exclusive"));
    }
    if (s.additionalProperties === false) errs.push(forbidden(`${path}.additionalProperties`, "must not be false; use properties instead"));
    if (s["x-kubernetes-list-type"] !== undefined) checkListType(s, path, errs);
    if (s["x-kubernetes-map-type"] !== undefined && s["x-kubernetes-map-type"] !== "granular" && s["x-kubernetes-map-type"] !== "atomic") {
      errs.push(notSupported(`${path}.x-kubernetes-map-type`, s["x-kubernetes-map-type"], ["granular", "atomic"]));
    }
  }
  if (Array.isArray(s.items)) errs.push(forbidden(`${path}.items`, "items must be a schema object and not an array"));
  else {
    const it = itemsOf(s);
    if (it) walk(it, `${path}.items`, false, inValue, errs, depth + 1);
  }
  for (const [name, p] of Object.entries(s.properties ?? {})) {
    if (isObj(p)) walk(p, `${path}.properties[${name}]`, false, inValue, errs, depth + 1);
  }
  const ap = additionalOf(s);
  if (ap) walk(ap, `${path}.additionalProperties`, false, inValue, errs, depth + 1);
  for (const k of ["allOf", "anyOf", "oneOf"] as const) {
    (s[k] ?? []).forEach((sub, i) => {
      if (isObj(sub)) walk(sub, `${path}.${k}[${i}]`, false, true, errs, depth + 1);
    });
  }
  if (isObj(s.not)) walk(s.not, `${path}.not`, false, true, errs, depth + 1);
}

function checkListType(s: Schema, path: string, errs: FieldError[]): void {
  const lt = s["x-kubernetes-list-type"];
  const p = `${path}.x-kubernetes-list-type`;
  if (s.type !== "array") {
    errs.push(invalid(p, lt, "must only be used on type array"));
    return;
  }
  if (lt !== "atomic" && lt !== "set" && lt !== "map") {
    errs.push(notSupported(p, lt, ["atomic", "set", "map"]));
    return;
  }
  const it = itemsOf(s);
  if (lt === "map") {
    if (!s["x-kubernetes-list-map-keys"] || s["x-kubernetes-list-map-keys"].length === 0) {
      errs.push(required(`${path}.x-kubernetes-list-map-keys`, "must not be empty if x-kubernetes-list-type is map"));
    }
    if (it && it.type !== "object") errs.push(invalid(`${path}.items.type`, it.type ?? "", "must be object if parent array's x-kubernetes-list-type is map"));
    for (const k of s["x-kubernetes-list-map-keys"] ?? []) {
      const ks = it?.properties?.[k];
      if (!ks) errs.push(invalid(`${path}.x-kubernetes-list-map-keys`, s["x-kubernetes-list-map-keys"], `entries must all be names of item properties`));
      else if (ks.type === "object" || ks.type === "array") {
        errs.push(invalid(`${path}.items.properties[${k}].type`, ks.type, "must be a scalar type if parent array's x-kubernetes-list-type is map"));
      }
    }
  } else if (s["x-kubernetes-list-map-keys"] !== undefined) {
    errs.push(forbidden(`${path}.x-kubernetes-list-map-keys`, "must be empty if x-kubernetes-list-type is not map"));
  }
  if (lt === "set" && it && (it.type === "object" && it["x-kubernetes-map-type"] !== "atomic")) {
    errs.push(invalid(`${path}.items.x-kubernetes-map-type`, it["x-kubernetes-map-type"] ?? "", "must be atomic as item of a list with x-kubernetes-list-type=set"));
  }
}
