/**
 * Field errors in the shape kubectl prints (`<field>: <Type>: <value>: <detail>`), built the way
 * Kubernetes' apimachinery `field` package renders them. `FieldError` is structurally the same as
 * the registry's `FieldError` (src/apiserver/registry/strategy.ts), so results flow through as-is.
 */
import type { CauseType } from "../errors.ts";

export interface FieldError {
  readonly type: CauseType;
  /** JSON path such as `spec.containers[0].image` or `metadata.labels`. */
  readonly field: string;
  /** The text kubectl prints after `<field>: `, e.g. `Required value`. */
  readonly message: string;
}

/** Quotes a string the way Go's `%q` does for the printable-ASCII/UTF-8 cases that matter here. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\r") out += "\\r";
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, "0")}`;
    else out += ch;
  }
  return out + '"';
}

function isPlainRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Renders a bad value as Go's field errors do: strings quoted (`%q`), numbers and booleans bare,
 * string maps and string slices in Go syntax (`map[string]string{"app":"x"}`, `[]string{"a", "b"}`),
 * anything else as JSON.
 */
export function renderValue(v: unknown): string {
  if (typeof v === "string") return goQuote(v);
  if (typeof v === "number" || typeof v === "boolean" || typeof v === "bigint") return String(v);
  if (v === null || v === undefined) return "null";
  if (Array.isArray(v) && v.every((x) => typeof x === "string")) {
    return `[]string{${v.map((x) => goQuote(x)).join(", ")}}`;
  }
  if (isPlainRecord(v) && Object.values(v).every((x) => typeof x === "string")) {
    const keys = Object.keys(v).sort();
    return `map[string]string{${keys.map((k) => `${goQuote(k)}:${goQuote(String(v[k]))}`).join(", ")}}`;
  }
  return JSON.stringify(v) ?? "null";
}

const withDetail = (head: string, detail: string | undefined): string =>
  detail ? `${head}: ${detail}` : head;

/** `Required value[: detail]`. */
export const required = (field: string, detail?: string): FieldError => ({
  type: "FieldValueRequired", field, message: withDetail("Required value", detail),
});

/** `Invalid value: <value>[: detail]`. */
export const invalid = (field: string, value: unknown, detail?: string): FieldError => ({
  type: "FieldValueInvalid", field, message: withDetail(`Invalid value: ${renderValue(value)}`, detail),
});

/** `Unsupported value: <value>: supported values: "a", "b"`. */
export const notSupported = (field: string, value: unknown, supported: readonly string[]): FieldError => ({
  type: "FieldValueNotSupported", field,
  message: withDetail(`Unsupported value: ${renderValue(value)}`,
    supported.length ? `supported values: ${supported.map((s) => goQuote(s)).join(", ")}` : undefined),
});

/** `Forbidden[: detail]`. */
export const forbidden = (field: string, detail?: string): FieldError => ({
  type: "FieldValueForbidden", field, message: withDetail("Forbidden", detail),
});

/** `Duplicate value: <value>`. */
export const duplicate = (field: string, value: unknown): FieldError => ({
  type: "FieldValueDuplicate", field, message: `Duplicate value: ${renderValue(value)}`,
});

/** `Not found: <value>`. */
export const notFound = (field: string, value: unknown): FieldError => ({
  type: "FieldValueNotFound", field, message: `Not found: ${renderValue(value)}`,
});

/** `Too long: may not be more than <n> bytes`. */
export const tooLong = (field: string, maxBytes: number): FieldError => ({
  type: "FieldValueTooLong", field,
  message: `Too long: may not be more than ${maxBytes} ${maxBytes === 1 ? "byte" : "bytes"}`,
});

/** `Too many: <n>: must have at most <max> items`. */
export const tooMany = (field: string, actual: number, max: number): FieldError => ({
  type: "FieldValueTooMany", field,
  message: `Too many: ${actual}: must have at most ${max} ${max === 1 ? "item" : "items"}`,
});

/** Path helpers: `child("spec", "x")` → `spec.x`; `index("spec.c", 0)` → `spec.c[0]`. */
export const child = (base: string, ...names: string[]): string =>
  [base, ...names].filter((p) => p !== "").join(".");
export const index = (base: string, i: number): string => `${base}[${i}]`;
export const key = (base: string, k: string): string => `${base}[${k}]`;

/** `value >= 0` or `Invalid value: v: must be greater than or equal to 0`. */
export function validateNonnegative(value: number | undefined, field: string): FieldError[] {
  return value !== undefined && value < 0 ? [invalid(field, value, "must be greater than or equal to 0")] : [];
}

/** Value unchanged, or `Invalid value: <new>: field is immutable`. */
export function validateImmutable(newValue: unknown, oldValue: unknown, field: string): FieldError[] {
  return deepEqual(newValue, oldValue) ? [] : [invalid(field, newValue, "field is immutable")];
}

/** Structural equality over JSON values (undefined object members count as absent). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => deepEqual(x, b[i]));
  }
  if (isPlainRecord(a) && isPlainRecord(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    if (ka.length !== kb.length) return false;
    return ka.every((k) => deepEqual(a[k], b[k]));
  }
  return false;
}
