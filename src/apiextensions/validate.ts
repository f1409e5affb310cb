/**
 * Validation of custom resource values against a structural schema, with upstream's messages
 * (kube-openapi's validator as the apiextensions-apiserver reports it), e.g.
 * `spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"`.
 *
 * Checked: type (with nullable, x-kubernetes-int-or-string, x-kubernetes-preserve-unknown-fields),
 * required, enum, minimum/maximum (+exclusive), multipleOf, minLength/maxLength, pattern, basic
 * formats, minItems/maxItems, minProperties/maxProperties, list-type set/map uniqueness,
 * allOf/anyOf/oneOf/not, and embedded resources (apiVersion, kind, metadata).
 */
import {
  duplicate, invalid, notSupported, required, tooLong, tooMany, type FieldError,
} from "../api/validation/field.ts";
import { isDns1123Subdomain } from "../api/validation/names.ts";
import { additionalOf, isObj, itemsOf, type Schema } from "./schema.ts";

const MAX_DEPTH = 200;

function jsonType(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

/** Go-style rendering of a value's type in "must be of type" errors. */
function typeMismatch(path: string, want: string, v: unknown): FieldError {
  const got = jsonType(v);
  return invalid(path, got, `${path} in body must be of type ${want}: ${JSON.stringify(got)}`);
}

const FORMATS: Record<string, RegExp> = {
  "date-time": /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/,
  datetime: /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/,
  date: /^\d{4}-\d{2}-\d{2}$/,
  email: /^[^@\s]+@[^@\s]+$/,
  uuid: /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i,
  ipv4: /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/,
  byte: /^[A-Za-z0-9+/]*={0,2}$/,
  hostname: /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/,
  mac: /^([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}$/,
  cidr: /^[0-9a-fA-F.:]+\/\d{1,3}$/,
  bsonobjectid: /^[0-9a-fA-F]{24}$/,
};

function formatOk(format: string, v: string): boolean {
  if (format === "ipv6") return v.includes(":") && /^[0-9a-fA-F:.]+$/.test(v);
  if (format === "uri") return /^[A-Za-z][A-Za-z0-9+.-]*:/.test(v) || v.startsWith("/");
  const re = FORMATS[format];
  return re ? re.test(v) : true; // unknown formats are ignored, as upstream
}

/** Go's `%v`-ish rendering of numbers in bounds messages. */
function num(n: number): string {
  return String(n);
}

function deepEq(a: unknown, b: unknown): boolean {
  return JSON.stringify(canon(a)) === JSON.stringify(canon(b));
}

function canon(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canon);
  if (isObj(v)) {
    const o: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) o[k] = canon(v[k]);
    return o;
  }
  return v;
}

/** Errors of `value` at `path` (`""` for the object root: fields are then named without prefix). */
export function validateValue(s: Schema, value: unknown, path: string, depth = 0): FieldError[] {
  const errs: FieldError[] = [];
  check(s, value, path, errs, depth);
  return errs;
}

function child(path: string, name: string): string {
  return path === "" ? name : `${path}.${name}`;
}

function check(s: Schema, v: unknown, path: string, errs: FieldError[], depth: number): void {
  if (depth > MAX_DEPTH) return;
  const p = path === "" ? "<root>" : path;
  if (v === null) {
    if (s.nullable === true) return;
    if (s.type) errs.push(typeMismatch(p, s.type, v));
    return;
  }
  const t = s.type;
  if (s["x-kubernetes-int-or-string"] === true) {
    if (!(typeof v === "string" || (typeof v === "number" && Number.isInteger(v)))) {
      errs.push(typeMismatch(p, "integer or string", v));
      return;
    }
  } else if (t) {
    const got = jsonType(v);
    const ok = t === got || (t === "number" && got === "integer");
    if (!ok) {
      errs.push(typeMismatch(p, t, v));
      return;
    }
  }
  if (s.enum !== undefined && Array.isArray(s.enum) && !s.enum.some((e) => deepEq(e, v))) {
    errs.push(notSupported(p, v, s.enum.map((e) => (typeof e === "string" ? e : JSON.stringify(e)))));
  }
  if (typeof v === "number") checkNumber(s, v, p, errs);
  if (typeof v === "string") checkString(s, v, p, errs);
  if (Array.isArray(v)) checkArray(s, v, path, errs, depth);
  if (isObj(v)) checkObject(s, v, path, errs, depth);
  for (const sub of s.allOf ?? []) check(sub, v, path, errs, depth + 1);
  if (s.anyOf && s.anyOf.length > 0 && !s.anyOf.some((sub) => validateValue(sub, v, path, depth + 1).length === 0)) {
    errs.push(invalid(p, v, `${p} in body must be valid against any of the schemas`));
  }
  if (s.oneOf && s.oneOf.length > 0 && s.oneOf.filter((sub) => validateValue(sub, v, path, depth + 1).length === 0).length !== 1) {
    errs.push(invalid(p, v, `${p} in body must validate one and only one schema (oneOf)`));
  }
  if (s.not && validateValue(s.not, v, path, depth + 1).length === 0) {
    errs.push(invalid(p, v, `${p} in body must not validate the schema (not)`));
  }
}

function checkNumber(s: Schema, v: number, p: string, errs: FieldError[]): void {
  if (s.maximum !== undefined) {
    if (s.exclusiveMaximum === true ? v >= s.maximum : v > s.maximum) {
      errs.push(invalid(p, v, `${p} in body should be less than ${s.exclusiveMaximum === true ? "" : "or equal to "}${num(s.maximum)}`));
    }
  }
  if (s.minimum !== undefined) {
    if (s.exclusiveMinimum === true ? v <= s.minimum : v < s.minimum) {
      errs.push(invalid(p, v, `${p} in body should be greater than ${s.exclusiveMinimum === true ? "" : "or equal to "}${num(s.minimum)}`));
    }
  }
  if (s.multipleOf !== undefined && s.multipleOf > 0) {
    const q = v / s.multipleOf;
    if (Math.abs(q - Math.round(q)) > 1e-9) errs.push(invalid(p, v, `${p} in body should be a multiple of ${num(s.multipleOf)}`));
  }
}

function checkString(s: Schema, v: string, p: string, errs: FieldError[]): void {
  const len = [...v].length;
  if (s.maxLength !== undefined && len > s.maxLength) errs.push(tooLong(p, s.maxLength));
  if (s.minLength !== undefined && len < s.minLength) {
    errs.push(invalid(p, v, `${p} in body should be at least ${s.minLength} chars long`));
  }
  if (s.pattern !== undefined) {
    let re: RegExp | undefined;
    try {
      re = new RegExp(s.pattern, "u");
    } catch {
      re = undefined; // rejected when the CRD was validated; nothing sensible to check here
    }
    if (re && !re.test(v)) errs.push(invalid(p, v, `${p} in body should match '${s.pattern}'`));
  }
  if (s.format !== undefined && s["x-kubernetes-int-or-string"] !== true && !formatOk(s.format, v)) {
    errs.push(invalid(p, v, `${p} in body must be of type ${s.format}: ${JSON.stringify(v)}`));
  }
}

function checkArray(s: Schema, v: unknown[], path: string, errs: FieldError[], depth: number): void {
  const p = path === "" ? "<root>" : path;
  if (s.maxItems !== undefined && v.length > s.maxItems) errs.push(tooMany(p, v.length, s.maxItems));
  if (s.minItems !== undefined && v.length < s.minItems) {
    errs.push(invalid(p, v.length, `${p} in body should have at least ${s.minItems} items`));
  }
  const it = itemsOf(s);
  if (it) v.forEach((x, i) => check(it, x, `${path}[${i}]`, errs, depth + 1));
  if (s["x-kubernetes-list-type"] === "set") {
    const seen = new Set<string>();
    v.forEach((x, i) => {
      const k = JSON.stringify(canon(x));
      if (seen.has(k)) errs.push(duplicate(`${path}[${i}]`, x));
      seen.add(k);
    });
  } else if (s["x-kubernetes-list-type"] === "map") {
    const keys = s["x-kubernetes-list-map-keys"] ?? [];
    const seen = new Set<string>();
    v.forEach((x, i) => {
      if (!isObj(x)) return;
      const k = JSON.stringify(keys.map((n) => x[n] ?? it?.properties?.[n]?.default ?? null));
      if (seen.has(k)) {
        const shown: Record<string, unknown> = {};
        for (const n of keys) shown[n] = x[n];
        errs.push(duplicate(`${path}[${i}]`, shown));
      }
      seen.add(k);
    });
  }
}

function checkObject(s: Schema, v: Record<string, unknown>, path: string, errs: FieldError[], depth: number): void {
  const p = path === "" ? "<root>" : path;
  const n = Object.keys(v).length;
  if (s.maxProperties !== undefined && n > s.maxProperties) errs.push(tooMany(p, n, s.maxProperties));
  if (s.minProperties !== undefined && n < s.minProperties) {
    errs.push(invalid(p, n, `${p} in body should have at least ${s.minProperties} properties`));
  }
  for (const r of s.required ?? []) {
    if (v[r] === undefined) errs.push(required(child(path, r)));
  }
  const props = s.properties;
  const ap = additionalOf(s);
  for (const [k, x] of Object.entries(v)) {
    if (x === undefined) continue;
    // The root's apiVersion/kind/metadata are checked by the apiserver itself.
    if (path === "" && (k === "apiVersion" || k === "kind" || k === "metadata")) continue;
    const ps = props?.[k];
    if (ps) check(ps, x, child(path, k), errs, depth + 1);
    else if (ap) check(ap, x, path === "" ? k : `${path}[${k}]`, errs, depth + 1);
  }
  if (s["x-kubernetes-embedded-resource"] === true) checkEmbedded(v, path, errs);
}

function checkEmbedded(v: Record<string, unknown>, path: string, errs: FieldError[]): void {
  if (typeof v["apiVersion"] !== "string" || v["apiVersion"] === "") errs.push(required(child(path, "apiVersion"), "must not be empty"));
  if (typeof v["kind"] !== "string" || v["kind"] === "") errs.push(required(child(path, "kind"), "must not be empty"));
  const m = v["metadata"];
  if (isObj(m) && typeof m["name"] === "string" && m["name"] !== "") {
    for (const e of isDns1123Subdomain(m["name"])) errs.push(invalid(child(path, "metadata.name"), m["name"], e));
  }
}
