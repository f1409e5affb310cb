/**
 * Kubernetes resource quantities ("100m", "1Gi", "2e3"): parsing with upstream's grammar and
 * error texts, exact arithmetic in nano-units (values more precise than 1n round away from zero,
 * as upstream does), and the canonical string form (`1000m` → `1`, `1.5Gi` → `1536Mi`).
 */

export type QuantityFormat = "DecimalSI" | "BinarySI" | "DecimalExponent";

export interface Quantity {
  /** The amount times 10^9, exact. */
  readonly nanos: bigint;
  readonly format: QuantityFormat;
}

export const ERR_FORMAT_WRONG = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
export const ERR_SUFFIX = "unable to parse quantity's suffix";
export const ERR_NUMERIC = "unable to parse numeric part of quantity";

/** Exponents beyond this are refused (upstream accepts them; we bound the arithmetic). */
const MAX_EXPONENT = 1000;

const DECIMAL_SUFFIX: Record<string, number> = {
  "": 0, n: -9, u: -6, m: -3, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18,
};
const BINARY_SUFFIX: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };

interface Split { positive: boolean; num: string; denom: string; suffix: string }

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= "0" && c <= "9";
}

/** Upstream's hand-written scanner; returns an error text instead of throwing. */
function split(str: string): Split | string {
  let positive = true;
  let pos = 0;
  const end = str.length;
  if (pos < end) {
    if (str[0] === "-") { positive = false; pos++; } else if (str[0] === "+") pos++;
  }
  while (pos < end && str[pos] === "0") pos++;
  if (pos >= end) return { positive, num: "0", denom: "", suffix: "" };
  let i = pos;
  while (i < end && isDigit(str[i])) i++;
  let num = str.slice(pos, i);
  pos = i;
  if (pos >= end) return { positive, num: num || "0", denom: "", suffix: "" };
  if (num.length === 0) num = "0";
  let denom = "";
  if (str[pos] === ".") {
    pos++;
    let j = pos;
    while (j < end && isDigit(str[j])) j++;
    denom = str.slice(pos, j);
    pos = j;
    if (pos >= end) return { positive, num, denom, suffix: "" };
  }
  const suffixStart = pos;
  while (pos < end && "eEinumkKMGTP".includes(str[pos] ?? "")) pos++;
  if (pos >= end) return { positive, num, denom, suffix: str.slice(suffixStart) };
  if (str[pos] === "-" || str[pos] === "+") pos++;
  while (pos < end && isDigit(str[pos])) pos++;
  if (pos >= end) return { positive, num, denom, suffix: str.slice(suffixStart) };
  return ERR_FORMAT_WRONG;
}

/** Parses a quantity, or returns the upstream error text. */
export function parseQuantity(input: string): Quantity | string {
  if (input.length === 0) return ERR_FORMAT_WRONG;
  const s = split(input);
  if (typeof s === "string") return s;
  let base: 2 | 10;
  let exponent: number;
  let format: QuantityFormat;
  const dec = DECIMAL_SUFFIX[s.suffix];
  const bin = BINARY_SUFFIX[s.suffix];
  if (dec !== undefined) {
    base = 10; exponent = dec; format = "DecimalSI";
  } else if (bin !== undefined) {
    base = 2; exponent = bin; format = "BinarySI";
  } else if (s.suffix.length > 1 && (s.suffix[0] === "e" || s.suffix[0] === "E") && /^[-+]?[0-9]+$/.test(s.suffix.slice(1))) {
    base = 10; exponent = Number(s.suffix.slice(1)); format = "DecimalExponent";
    if (!Number.isSafeInteger(exponent) || Math.abs(exponent) > MAX_EXPONENT) return ERR_NUMERIC;
  } else {
    return ERR_SUFFIX;
  }
  if (s.num.length + s.denom.length > 4 * MAX_EXPONENT) return ERR_NUMERIC;
  // value = (num.denom) * base^exponent; compute nanos = ceil(|value| * 1e9) with sign.
  const digits = BigInt(s.num + s.denom || "0");
  let numer = digits;
  let denomBig = 10n ** BigInt(s.denom.length);
  if (base === 10) {
    const e = exponent + 9;
    if (e >= 0) numer *= 10n ** BigInt(e); else denomBig *= 10n ** BigInt(-e);
  } else {
    numer *= (2n ** BigInt(exponent)) * 1_000_000_000n;
  }
  let nanos = numer / denomBig;
  if (numer % denomBig !== 0n) nanos += 1n;
  if (!s.positive) nanos = -nanos;
  return { nanos, format };
}

const DEC_SUFFIX_BY_EXP = new Map<number, string>([
  [-9, "n"], [-6, "u"], [-3, "m"], [0, ""], [3, "k"], [6, "M"], [9, "G"], [12, "T"], [15, "P"], [18, "E"],
]);
const BIN_SUFFIXES = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];

/** The canonical text upstream's `Quantity.String()` produces. */
export function formatQuantity(q: Quantity): string {
  if (q.nanos === 0n) return "0";
  const neg = q.nanos < 0n;
  const abs = neg ? -q.nanos : q.nanos;
  const sign = neg ? "-" : "";
  let format = q.format;
  const oneUnit = 1_000_000_000n;
  if (format === "BinarySI") {
    // Fractions and values in (-1024, 1024) render as decimal SI upstream.
    if (abs % oneUnit !== 0n || abs < 1024n * oneUnit) format = "DecimalSI";
  }
  if (format === "BinarySI") {
    let m = abs / oneUnit;
    let k = 0;
    while (k < BIN_SUFFIXES.length - 1 && m % 1024n === 0n) { m /= 1024n; k++; }
    return `${sign}${m}${BIN_SUFFIXES[k] ?? ""}`;
  }
  let m = abs;
  let e = -9;
  while (m % 1000n === 0n && (format === "DecimalExponent" || e < 18)) { m /= 1000n; e += 3; }
  if (format === "DecimalExponent") return `${sign}${m}${e === 0 ? "" : `e${e}`}`;
  return `${sign}${m}${DEC_SUFFIX_BY_EXP.get(e) ?? ""}`;
}

/** -1, 0, 1 like upstream `Quantity.Cmp`. */
export function compareQuantities(a: Quantity, b: Quantity): number {
  return a.nanos < b.nanos ? -1 : a.nanos > b.nanos ? 1 : 0;
}

/** Parses a quantity and canonicalizes it; `undefined` when unparseable. */
export function canonicalQuantity(input: string): string | undefined {
  const q = parseQuantity(input);
  return typeof q === "string" ? undefined : formatQuantity(q);
}
