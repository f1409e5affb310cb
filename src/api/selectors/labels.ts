/**
 * Label selectors: the string syntax of `?labelSelector=` / `kubectl -l`, the structured
 * `metav1.LabelSelector` (matchLabels + matchExpressions), matching, and rendering back to a string.
 *
 * Grammar (as upstream's `labels.Parse`):
 *   selector    := "" | requirement ("," requirement)*
 *   requirement := ["!"] KEY [ ("="|"=="|"!=") VALUE | ("in"|"notin") "(" VALUES ")" | (">"|"<") INT ]
 * Whitespace (space, tab, CR, LF) separates tokens and is otherwise ignored; `in`/`notin` are
 * keywords only in operator position. `a>3` / `a<3` are accepted as upstream's parser accepts them
 * (their main use is node affinity's Gt/Lt); the value must be a base-10 int64 and a label whose
 * value is not an integer never matches. The structured `metav1.LabelSelector` form does not allow
 * Gt/Lt (In, NotIn, Exists, DoesNotExist only), also as upstream.
 *
 * Parsed requirements are sorted by key; set values are sorted and de-duplicated, so `toString()`
 * is canonical: `parseLabelSelector("tier in (b,a), app=web").toString() === "app=web,tier in (a,b)"`.
 */
import { ApiError, badRequest } from "../errors.ts";
import { aggregate, invalidFieldError, labelKeyErrors, labelValueErrors } from "./_validation.ts";

export type LabelOperator =
  | "Equals" | "DoubleEquals" | "NotEquals" | "In" | "NotIn" | "Exists" | "DoesNotExist" | "Gt" | "Lt";

export interface LabelRequirement {
  readonly key: string;
  readonly operator: LabelOperator;
  /** One value for Equals/DoubleEquals/NotEquals/Gt/Lt, >= 1 for In/NotIn, none for Exists/DoesNotExist. */
  readonly values: readonly string[];
}

export type Labels = Readonly<Record<string, string>>;

export interface LabelSelector {
  readonly requirements: readonly LabelRequirement[];
  /** True when the selector selects everything (no requirements). */
  readonly empty: boolean;
  /** True for the selector of a nil `metav1.LabelSelector`: it matches nothing. */
  readonly nothing: boolean;
  matches(labels: Labels): boolean;
  /** The value `key` must have (`key=v`, `key==v`, `key in (v)`), if the selector pins one. */
  requiresExactMatch(key: string): string | undefined;
  /** Canonical string form (`app=web,tier in (a,b)`); "" for everything and nothing. */
  toString(): string;
}

/** The structured `metav1.LabelSelector` (JSON shape). */
export interface LabelSelectorObject {
  matchLabels?: Record<string, string> | null;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] | null }> | null;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** strconv.ParseInt(s, 10, 64) succeeded? Returns the value or undefined. */
function parseInt64(s: string): bigint | undefined {
  if (!/^[+-]?[0-9]+$/.test(s)) return undefined;
  const v = BigInt(s);
  return v < INT64_MIN || v > INT64_MAX ? undefined : v;
}

/**
 * Builds one validated requirement (upstream's `NewRequirement`). Errors are returned as messages
 * (`key: Invalid value: ...`, `values[0][app]: Invalid value: ...`), not thrown.
 */
export function newRequirement(
  key: string, operator: LabelOperator, values: readonly string[],
): { requirement: LabelRequirement; errors: string[] } {
  const errs: string[] = [];
  const keyErrs = labelKeyErrors(key);
  if (keyErrs.length) errs.push(invalidFieldError("key", key, keyErrs.join("; ")));
  switch (operator) {
    case "In": case "NotIn":
      if (values.length === 0) errs.push(invalidFieldError("values", values, "for 'in', 'notin' operators, values set can't be empty"));
      break;
    case "Equals": case "DoubleEquals": case "NotEquals":
      if (values.length !== 1) errs.push(invalidFieldError("values", values, "exact-match compatibility requires one single value"));
      break;
    case "Exists": case "DoesNotExist":
      if (values.length !== 0) errs.push(invalidFieldError("values", values, "values set must be empty for exists and does not exist"));
      break;
    case "Gt": case "Lt":
      if (values.length !== 1) errs.push(invalidFieldError("values", values, "for 'Gt', 'Lt' operators, exactly one value is required"));
      values.forEach((v, i) => {
        if (parseInt64(v) === undefined) {
          errs.push(invalidFieldError(`values[${i}]`, v, "for 'Gt', 'Lt' operators, the value must be an integer"));
        }
      });
      break;
  }
  values.forEach((v, i) => {
    const vErrs = labelValueErrors(v);
    if (vErrs.length) errs.push(invalidFieldError(`values[${i}][${key}]`, v, vErrs.join("; ")));
  });
  return { requirement: { key, operator, values: [...values] }, errors: errs };
}

function requirementMatches(r: LabelRequirement, labels: Labels): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, r.key);
  const val = has ? labels[r.key] : undefined;
  switch (r.operator) {
    case "In": case "Equals": case "DoubleEquals":
      return val !== undefined && r.values.includes(val);
    case "NotIn": case "NotEquals":
      return val === undefined || !r.values.includes(val);
    case "Exists":
      return val !== undefined;
    case "DoesNotExist":
      return val === undefined;
    case "Gt": case "Lt": {
      if (val === undefined || r.values.length !== 1) return false;
      const have = parseInt64(val);
      const want = parseInt64(r.values[0] ?? "");
      if (have === undefined || want === undefined) return false;
      return r.operator === "Gt" ? have > want : have < want;
    }
  }
}

function sortedUnique(values: readonly string[]): string[] {
  return [...new Set(values)].sort(compareStrings);
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function requirementString(r: LabelRequirement): string {
  const vals = r.values.length === 1 ? (r.values[0] ?? "") : [...r.values].sort(compareStrings).join(",");
  switch (r.operator) {
    case "DoesNotExist": return `!${r.key}`;
    case "Exists": return r.key;
    case "Equals": return `${r.key}=${vals}`;
    case "DoubleEquals": return `${r.key}==${vals}`;
    case "NotEquals": return `${r.key}!=${vals}`;
    case "In": return `${r.key} in (${vals})`;
    case "NotIn": return `${r.key} notin (${vals})`;
    case "Gt": return `${r.key}>${vals}`;
    case "Lt": return `${r.key}<${vals}`;
  }
}

/** Builds a selector from already-validated requirements (sorted by key, stably). */
export function selectorFromRequirements(reqs: readonly LabelRequirement[]): LabelSelector {
  const requirements = [...reqs].sort((a, b) => compareStrings(a.key, b.key));
  return {
    requirements,
    empty: requirements.length === 0,
    nothing: false,
    matches(labels: Labels): boolean {
      for (const r of requirements) if (!requirementMatches(r, labels)) return false;
      return true;
    },
    requiresExactMatch(key: string): string | undefined {
      for (const r of requirements) {
        if (r.key !== key) continue;
        if ((r.operator === "Equals" || r.operator === "DoubleEquals" || r.operator === "In") && r.values.length === 1) {
          return r.values[0];
        }
        return undefined;
      }
      return undefined;
    },
    toString: () => requirements.map(requirementString).join(","),
  };
}

/** Selects everything. */
export const everything: LabelSelector = selectorFromRequirements([]);

/** Selects nothing (a nil `metav1.LabelSelector`). */
export const nothing: LabelSelector = {
  requirements: [],
  empty: false,
  nothing: true,
  matches: () => false,
  requiresExactMatch: () => undefined,
  toString: () => "",
};

/** Builds a selector from `matchLabels`, which is what `kubectl create deployment` etc. produce. */
export function selectorFromSet(set: Labels): LabelSelector {
  return selectorFromRequirements(Object.keys(set).map((k) => ({ key: k, operator: "Equals", values: [set[k] ?? ""] })));
}

// ---------------------------------------------------------------------------------------------
// Lexer and parser (same tokens, same error texts as upstream).

type Tok =
  | "Error" | "End" | "ClosedPar" | "Comma" | "DoesNotExist" | "DoubleEquals" | "Equals" | "Gt"
  | "Identifier" | "In" | "Lt" | "NotEquals" | "NotIn" | "OpenPar";

const TOKENS: Readonly<Record<string, Tok>> = {
  ")": "ClosedPar", ",": "Comma", "!": "DoesNotExist", "==": "DoubleEquals", "=": "Equals", ">": "Gt",
  "in": "In", "<": "Lt", "!=": "NotEquals", "notin": "NotIn", "(": "OpenPar",
};
const tokenOf = (s: string): Tok | undefined => (Object.prototype.hasOwnProperty.call(TOKENS, s) ? TOKENS[s] : undefined);

const isWhitespace = (c: string): boolean => c === " " || c === "\t" || c === "\r" || c === "\n";
const isSpecial = (c: string): boolean => "=!(),><".includes(c) && c.length === 1;

interface Item { tok: Tok; lit: string }

function lex(s: string): Item[] {
  const items: Item[] = [];
  let pos = 0;
  // A NUL ends the input, as upstream's byte lexer treats 0 as end of string.
  const read = (): string => (pos < s.length ? s.charAt(pos++) : "\0");
  for (;;) {
    let ch = read();
    while (isWhitespace(ch)) ch = read();
    if (ch === "\0") { items.push({ tok: "End", lit: "" }); return items; }
    if (isSpecial(ch)) {
      let buf = ch;
      let last: Item | undefined = tokenOf(buf) ? { tok: tokenOf(buf) as Tok, lit: buf } : undefined;
      for (;;) {
        const c = read();
        if (c === "\0") break;
        if (!isSpecial(c)) { pos--; break; }
        buf += c;
        const t = tokenOf(buf);
        if (t) last = { tok: t, lit: buf };
        else if (last) { pos--; break; }
      }
      items.push(last ?? { tok: "Error", lit: `error expected: keyword found '${buf}'` });
      continue;
    }
    let buf = ch;
    for (;;) {
      const c = read();
      if (c === "\0") break;
      if (isSpecial(c) || isWhitespace(c)) { pos--; break; }
      buf += c;
    }
    items.push({ tok: tokenOf(buf) ?? "Identifier", lit: buf });
  }
}

const BINARY_OPERATORS = "in, notin, =, ==, !=, gt, lt";

class Parser {
  private pos = 0;
  constructor(private readonly items: Item[]) {}

  /** In values context `in`/`notin` are plain identifiers. */
  private look(values: boolean): Item {
    const it = this.items[this.pos] ?? { tok: "End", lit: "" };
    return values && (it.tok === "In" || it.tok === "NotIn") ? { tok: "Identifier", lit: it.lit } : it;
  }

  private take(values: boolean): Item {
    const it = this.look(values);
    if (this.pos < this.items.length - 1) this.pos++;
    return it;
  }

  parse(): LabelRequirement[] {
    const reqs: LabelRequirement[] = [];
    for (;;) {
      const { tok, lit } = this.look(true);
      if (tok === "End") return reqs;
      if (tok !== "Identifier" && tok !== "DoesNotExist") {
        throw new Error(`found '${lit}', expected: !, identifier, or 'end of string'`);
      }
      let r: LabelRequirement;
      try {
        r = this.requirement();
      } catch (e) {
        throw new Error(`unable to parse requirement: ${(e as Error).message}`);
      }
      reqs.push(r);
      const next = this.take(true);
      if (next.tok === "End") return reqs;
      if (next.tok !== "Comma") throw new Error(`found '${next.lit}', expected: ',' or 'end of string'`);
      const after = this.look(true);
      if (after.tok !== "Identifier" && after.tok !== "DoesNotExist") {
        throw new Error(`found '${after.lit}', expected: identifier after ','`);
      }
    }
  }

  private requirement(): LabelRequirement {
    let op: LabelOperator | undefined;
    let t = this.take(true);
    if (t.tok === "DoesNotExist") { op = "DoesNotExist"; t = this.take(true); }
    if (t.tok !== "Identifier") throw new Error(`found '${t.lit}', expected: identifier`);
    const key = t.lit;
    const keyErrs = labelKeyErrors(key);
    if (keyErrs.length) throw new Error(invalidFieldError("<nil>", key, keyErrs.join("; ")));
    const la = this.look(true).tok;
    if (la === "End" || la === "Comma") op = op === "DoesNotExist" ? op : "Exists";
    if (op === "Exists" || op === "DoesNotExist") return this.build(key, op, []);

    const o = this.take(false);
    switch (o.tok) {
      case "In": op = "In"; break;
      case "NotIn": op = "NotIn"; break;
      case "Equals": op = "Equals"; break;
      case "DoubleEquals": op = "DoubleEquals"; break;
      case "NotEquals": op = "NotEquals"; break;
      case "Gt": op = "Gt"; break;
      case "Lt": op = "Lt"; break;
      default: throw new Error(`found '${o.lit}', expected: ${BINARY_OPERATORS}`);
    }
    const values = op === "In" || op === "NotIn" ? this.setValues() : this.exactValue();
    return this.build(key, op, sortedUnique(values));
  }

  private build(key: string, op: LabelOperator, values: string[]): LabelRequirement {
    const { requirement, errors } = newRequirement(key, op, values);
    if (errors.length) throw new Error(aggregate(errors));
    return requirement;
  }

  private setValues(): string[] {
    const open = this.take(true);
    if (open.tok !== "OpenPar") throw new Error(`found '${open.lit}' expected: '('`);
    const first = this.look(true);
    if (first.tok === "ClosedPar") { this.take(true); return [""]; }
    if (first.tok !== "Identifier" && first.tok !== "Comma") {
      throw new Error(`found '${first.lit}', expected: ',', ')' or identifier`);
    }
    const vals = this.identifierList();
    if (this.take(true).tok !== "ClosedPar") throw new Error(`found '${first.lit}', expected: ')'`);
    return vals;
  }

  private identifierList(): string[] {
    const s: string[] = [];
    for (;;) {
      const t = this.take(true);
      if (t.tok === "Identifier") {
        s.push(t.lit);
        const n = this.look(true);
        if (n.tok === "Comma") continue;
        if (n.tok === "ClosedPar") return s;
        throw new Error(`found '${n.lit}', expected: ',' or ')'`);
      } else if (t.tok === "Comma") {
        if (s.length === 0) s.push("");
        const n = this.look(true).tok;
        if (n === "ClosedPar") { s.push(""); return s; }
        if (n === "Comma") s.push("");
      } else {
        throw new Error(`found '${t.lit}', expected: ',', or identifier`);
      }
    }
  }

  private exactValue(): string[] {
    const la = this.look(true).tok;
    if (la === "End" || la === "Comma") return [""];
    const t = this.take(true);
    if (t.tok === "Identifier") return [t.lit];
    throw new Error(`found '${t.lit}', expected: identifier`);
  }
}

/**
 * Parses the string syntax. Throws ApiError 400 BadRequest with upstream's message, e.g.
 * `unable to parse requirement: found '', expected: in, notin, =, ==, !=, gt, lt` for `a b`... or
 * `found ')', expected: !, identifier, or 'end of string'`.
 */
export function parseLabelSelector(selector: string): LabelSelector {
  let reqs: LabelRequirement[];
  try {
    reqs = new Parser(lex(selector)).parse();
  } catch (e) {
    if (e instanceof ApiError) throw e;
    throw badRequest((e as Error).message);
  }
  return selectorFromRequirements(reqs);
}

const OBJECT_OPERATORS: Readonly<Record<string, LabelOperator>> = {
  In: "In", NotIn: "NotIn", Exists: "Exists", DoesNotExist: "DoesNotExist",
};

/**
 * `metav1.LabelSelectorAsSelector`: null/undefined selects nothing, `{}` selects everything.
 * Throws ApiError 400 for an unknown operator (`"Gt" is not a valid label selector operator`) or
 * invalid keys/values.
 */
export function labelSelectorFromObject(sel: LabelSelectorObject | null | undefined): LabelSelector {
  if (sel === null || sel === undefined) return nothing;
  const matchLabels = sel.matchLabels ?? {};
  const exprs = sel.matchExpressions ?? [];
  const reqs: LabelRequirement[] = [];
  for (const k of Object.keys(matchLabels).sort(compareStrings)) {
    const { requirement, errors } = newRequirement(k, "Equals", [matchLabels[k] ?? ""]);
    if (errors.length) throw badRequest(aggregate(errors));
    reqs.push(requirement);
  }
  for (const e of exprs) {
    const op = Object.prototype.hasOwnProperty.call(OBJECT_OPERATORS, e.operator) ? OBJECT_OPERATORS[e.operator] : undefined;
    if (!op) throw badRequest(`${JSON.stringify(e.operator)} is not a valid label selector operator`);
    const { requirement, errors } = newRequirement(e.key, op, e.values ?? []);
    if (errors.length) throw badRequest(aggregate(errors));
    reqs.push(requirement);
  }
  return selectorFromRequirements(reqs);
}

/**
 * `metav1.FormatLabelSelector`: the string form of a structured selector, `<none>` when it selects
 * everything, `<error>` when invalid. (A nil selector renders as `<none>` too, as upstream.)
 */
export function formatLabelSelector(sel: LabelSelectorObject | null | undefined): string {
  try {
    const s = labelSelectorFromObject(sel).toString();
    return s === "" ? "<none>" : s;
  } catch {
    return "<error>";
  }
}
