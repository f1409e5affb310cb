/**
 * Go `fmt` renderings of decoded JSON values, for error messages that quote a value the way
 * kube-apiserver does (`map[image:x name:y]`, `[a b]`, `<nil>`), and Go's type names of decoded
 * JSON values (`map[string]interface {}`, `[]interface {}`, `string`, `int64`, `float64`, `bool`).
 */
import type { Json } from "./jsonpatch.ts";

const MAX_RENDER = 2048;

function num(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return String(n);
  // Go prints two-digit exponents (1e-07); JS prints 1e-7.
  return String(n).replace(/e([+-])(\d)$/, "e$10$2");
}

function render(v: Json | undefined, depth: number): string {
  if (depth > 32) return "...";
  if (v === null || v === undefined) return "<nil>";
  if (typeof v === "string") return v;
  if (typeof v === "number") return num(v);
  if (typeof v === "boolean") return String(v);
  if (Array.isArray(v)) return `[${v.map((x) => render(x, depth + 1)).join(" ")}]`;
  const keys = Object.keys(v).sort();
  return `map[${keys.map((k) => `${k}:${render(v[k], depth + 1)}`).join(" ")}]`;
}

/** `%v` of a decoded JSON value (maps with sorted keys), cut at 2 KiB. */
export function goValue(v: Json | undefined): string {
  const s = render(v, 0);
  return s.length > MAX_RENDER ? `${s.slice(0, MAX_RENDER)}...` : s;
}

/** `%s` of a value: strings as-is, anything else as Go's `%!s(type=value)`. */
export function goString(v: Json | undefined): string {
  if (typeof v === "string") return v;
  return `%!s(${goType(v)}=${goValue(v)})`;
}

/** Go's dynamic type name of a value decoded by encoding/json (ints kept as int64, as the apiserver does). */
export function goType(v: Json | undefined): string {
  if (v === null || v === undefined) return "<nil>";
  if (typeof v === "string") return "string";
  if (typeof v === "number") return Number.isInteger(v) ? "int64" : "float64";
  if (typeof v === "boolean") return "bool";
  if (Array.isArray(v)) return "[]interface {}";
  return "map[string]interface {}";
}
