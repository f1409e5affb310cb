/**
 * Field selectors (`?fieldSelector=`, `kubectl --field-selector`): comma-separated terms
 * `field=value`, `field==value` or `field!=value`, all ANDed. In values, `\` escapes `\`, `,` and
 * `=`; an unescaped `,`/`=` in a value or an unknown escape is an error. Field names are not
 * trimmed or escaped (the first operator found splits the term). Which field names a kind supports
 * is the kind's business: `checkSupportedFields` rejects the rest with upstream's message.
 */
import { badRequest } from "../errors.ts";

export type FieldOperator = "=" | "==" | "!=";

export interface FieldRequirement {
  readonly field: string;
  readonly operator: FieldOperator;
  /** Unescaped value. */
  readonly value: string;
}

export type Fields = Readonly<Record<string, string>>;

export interface FieldSelector {
  /** Sorted as upstream sorts the raw terms. */
  readonly requirements: readonly FieldRequirement[];
  readonly empty: boolean;
  /** A missing field reads as "" (so `spec.nodeName=` selects unscheduled pods). */
  matches(fields: Fields): boolean;
  /** The value `field` is pinned to by a `=`/`==` term (the index hint), if any. */
  requiresExactMatch(field: string): string | undefined;
  /** Canonical form: `a=b,c!=d` with values escaped. */
  toString(): string;
}

/** Escapes `\`, `,` and `=` for use as a field selector value. */
export function escapeFieldValue(s: string): string {
  return s.replace(/[\\,=]/g, (c) => `\\${c}`);
}

/** Inverse of `escapeFieldValue`; throws ApiError 400 on a bad escape or an unescaped `,`/`=`. */
export function unescapeFieldValue(s: string): string {
  if (!/[\\,=]/.test(s)) return s;
  let out = "";
  let inSlash = false;
  for (const c of s) {
    if (inSlash) {
      if (c !== "\\" && c !== "," && c !== "=") {
        throw badRequest(`invalid field selector: invalid escape sequence: \\${c}`);
      }
      out += c;
      inSlash = false;
    } else if (c === "\\") {
      inSlash = true;
    } else if (c === "," || c === "=") {
      // Upstream prints the rune as a number (`%v` of a rune).
      throw badRequest(`invalid field selector: unescaped character in value: ${c.codePointAt(0) ?? 0}`);
    } else {
      out += c;
    }
  }
  if (inSlash) throw badRequest("invalid field selector: invalid escape sequence: \\");
  return out;
}

/** Splits on commas not escaped by a backslash (escapes stay in the terms). */
function splitTerms(s: string): string[] {
  if (s.length === 0) return [];
  const terms: string[] = [];
  let start = 0;
  let inSlash = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charAt(i);
    if (inSlash) inSlash = false;
    else if (c === "\\") inSlash = true;
    else if (c === ",") { terms.push(s.slice(start, i)); start = i + 1; }
  }
  terms.push(s.slice(start));
  return terms;
}

const OPERATORS: readonly FieldOperator[] = ["!=", "==", "="];

function splitTerm(term: string): { lhs: string; op: FieldOperator; rhs: string } | undefined {
  for (let i = 0; i < term.length; i++) {
    for (const op of OPERATORS) {
      if (term.startsWith(op, i)) return { lhs: term.slice(0, i), op, rhs: term.slice(i + op.length) };
    }
  }
  return undefined;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Builds a selector from requirements (kept in the given order). */
export function fieldSelectorFromRequirements(requirements: readonly FieldRequirement[]): FieldSelector {
  const reqs = [...requirements];
  return {
    requirements: reqs,
    empty: reqs.length === 0,
    matches(fields: Fields): boolean {
      for (const r of reqs) {
        const v = Object.prototype.hasOwnProperty.call(fields, r.field) ? (fields[r.field] ?? "") : "";
        if ((r.operator === "!=") === (v === r.value)) return false;
      }
      return true;
    },
    requiresExactMatch(field: string): string | undefined {
      for (const r of reqs) if (r.field === field && r.operator !== "!=") return r.value;
      return undefined;
    },
    toString: () => reqs.map((r) => `${r.field}${r.operator === "!=" ? "!=" : "="}${escapeFieldValue(r.value)}`).join(","),
  };
}

/**
 * Parses a field selector string. Throws ApiError 400:
 * `invalid selector: 'foo'; can't understand 'foo'`, or an escaping error.
 */
export function parseFieldSelector(selector: string): FieldSelector {
  const parts = splitTerms(selector).sort(compareStrings);
  const reqs: FieldRequirement[] = [];
  for (const part of parts) {
    if (part === "") continue;
    const t = splitTerm(part);
    if (!t) throw badRequest(`invalid selector: '${selector}'; can't understand '${part}'`);
    reqs.push({ field: t.lhs, operator: t.op, value: unescapeFieldValue(t.rhs) });
  }
  return fieldSelectorFromRequirements(reqs);
}

/** The set every kind supports. */
export const DEFAULT_SELECTABLE_FIELDS: readonly string[] = ["metadata.name", "metadata.namespace"];

/**
 * Rejects terms on fields outside `supported` with ApiError 400. Kinds that only support the
 * default pair get apimachinery's default text
 * (`"foo" is not a known field selector: only "metadata.name", "metadata.namespace"`); kinds with
 * their own set get the text of their conversion functions (`field label not supported: foo`).
 */
export function checkSupportedFields(sel: FieldSelector, supported: readonly string[]): void {
  const set = new Set(supported);
  const isDefault = set.size === DEFAULT_SELECTABLE_FIELDS.length && DEFAULT_SELECTABLE_FIELDS.every((f) => set.has(f));
  for (const r of sel.requirements) {
    if (set.has(r.field)) continue;
    throw badRequest(isDefault
      ? `${JSON.stringify(r.field)} is not a known field selector: only "metadata.name", "metadata.namespace"`
      : `field label not supported: ${r.field}`);
  }
}
