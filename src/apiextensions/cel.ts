/**
 * CEL validation rules (`x-kubernetes-validations`) of CustomResourceDefinition schemas, evaluated
 * with `@bufbuild/cel` (parser + planner; it has no type checker).
 *
 * - `celCompileErrors(schema, path)`: CRD validation. Every rule, messageExpression and reason is
 *   checked once; a rule that does not parse, or names a function or variable the environment
 *   lacks, is `<path>.x-kubernetes-validations[i].rule: Invalid value: "<rule>": compilation
 *   failed: …`, as upstream.
 * - `celValidatorFor(schema)`: compiles a version's rules once (cached by schema object identity)
 *   and returns `validate(obj, old?)`. Rules run top-down (a node's rules in order, then its
 *   properties, additionalProperties and items) with `self` the value at that node, typed by the
 *   schema (`integer` → CEL int, `number` → double). Rules that reference `oldSelf` (transition
 *   rules) run only on update and only where the old value correlates (properties, map keys,
 *   `x-kubernetes-list-type: map` items by key). A false rule yields a cause at the node's path
 *   (plus `fieldPath`) with `messageExpression`/`message`/`failed rule: <rule>` and `reason`.
 *
 * Cost guard: CEL has no unbounded loops, so the cost of one rule is bounded by the size of its
 * input; per object at most `MAX_EVALUATIONS` rule evaluations run and evaluation stops once
 * `BUDGET_MS` of wall-clock time is spent (checked between evaluations), reporting upstream's
 * "running out of cost budget" error.
 */
import { celEnv, isCelError, parse, plan, type CelEnv, type CelInput } from "@bufbuild/cel";
import { strings } from "@bufbuild/cel/ext";
import type { Expr } from "@bufbuild/cel-spec/cel/expr/syntax_pb.js";
import type { ValidationRule } from "../api/generated/apiextensions_v1.ts";
import {
  forbidden, goQuote, invalid, notSupported, required, type FieldError,
} from "../api/validation/field.ts";
import type { CauseType } from "../api/errors.ts";
import { additionalOf, isObj, itemsOf, type Schema } from "./schema.ts";

const MAX_DEPTH = 64;
/** Rule evaluations per object (nodes × rules). */
export const MAX_EVALUATIONS = 10_000;
/** Wall-clock budget of one object's rules, checked between evaluations. */
export const BUDGET_MS = 500;
const MAX_MESSAGE = 5 * 1024;
const REASONS = ["FieldValueRequired", "FieldValueForbidden", "FieldValueInvalid", "FieldValueDuplicate"];
/** Kubernetes' CEL library functions this evaluator lacks (named in compile errors). */
const K8S_LIBRARY = new Set([
  "isSorted", "sum", "min", "max", "indexOf", "lastIndexOf", "url", "isURL", "getScheme", "getHost",
  "getHostname", "getPort", "getEscapedPath", "getQuery", "quantity", "isQuantity", "ip", "isIP",
  "cidr", "isCIDR", "semver", "isSemver", "format", "find", "findAll", "authorizer", "optional",
  "of", "orValue", "hasValue", "value", "sets", "contains", "equivalent", "intersects", "greatest",
  "least",
]);

type Program = (ctx: Record<string, CelInput>) => unknown;

let envCache: CelEnv | undefined;
function env(): CelEnv {
  envCache ??= celEnv({ funcs: [...strings] });
  return envCache;
}

let knownFuncs: Set<string> | undefined;
function isKnownFunc(name: string): boolean {
  if (name.startsWith("_") || name.startsWith("@")) return true; // operators and macro internals
  knownFuncs ??= new Set([...env().funcs].map((f) => f.name));
  return knownFuncs.has(name);
}

const TYPE_IDENTS = new Set(["int", "uint", "double", "bool", "string", "bytes", "list", "map", "null_type", "type"]);

/** Upstream-style reference errors found by walking the parsed expression; [] when fine. */
function referenceErrors(e: Expr, scope: ReadonlySet<string>, out: string[], depth = 0): void {
  if (depth > 200 || out.length > 0) return;
  const k = e.exprKind;
  switch (k.case) {
    case "identExpr":
      if (!scope.has(k.value.name) && !TYPE_IDENTS.has(k.value.name)) {
        out.push(`undeclared reference to '${k.value.name}' (in container '')`);
      }
      return;
    case "selectExpr":
      if (k.value.operand) referenceErrors(k.value.operand, scope, out, depth + 1);
      return;
    case "callExpr": {
      const fn = k.value.function;
      if (!isKnownFunc(fn)) {
        const lib = K8S_LIBRARY.has(fn) ? " (a Kubernetes CEL library function this server does not provide)" : "";
        out.push(`undeclared reference to '${fn}' (in container '')${lib}`);
        return;
      }
      if (k.value.target) referenceErrors(k.value.target, scope, out, depth + 1);
      for (const a of k.value.args) referenceErrors(a, scope, out, depth + 1);
      return;
    }
    case "listExpr":
      for (const x of k.value.elements) referenceErrors(x, scope, out, depth + 1);
      return;
    case "structExpr":
      for (const en of k.value.entries) {
        if (en.keyKind.case === "mapKey") referenceErrors(en.keyKind.value, scope, out, depth + 1);
        if (en.value) referenceErrors(en.value, scope, out, depth + 1);
      }
      return;
    case "comprehensionExpr": {
      const c = k.value;
      if (c.iterRange) referenceErrors(c.iterRange, scope, out, depth + 1);
      if (c.accuInit) referenceErrors(c.accuInit, scope, out, depth + 1);
      const inner = new Set([...scope, c.iterVar, c.iterVar2, c.accuVar].filter((x) => x !== ""));
      for (const x of [c.loopCondition, c.loopStep, c.result]) if (x) referenceErrors(x, inner, out, depth + 1);
      return;
    }
    default:
      return;
  }
}

function refsOldSelf(e: Expr, depth = 0): boolean {
  if (depth > 200) return false;
  const k = e.exprKind;
  switch (k.case) {
    case "identExpr": return k.value.name === "oldSelf";
    case "selectExpr": return k.value.operand ? refsOldSelf(k.value.operand, depth + 1) : false;
    case "callExpr": return (k.value.target ? refsOldSelf(k.value.target, depth + 1) : false) || k.value.args.some((a) => refsOldSelf(a, depth + 1));
    case "listExpr": return k.value.elements.some((x) => refsOldSelf(x, depth + 1));
    case "structExpr": return k.value.entries.some((en) => (en.keyKind.case === "mapKey" && refsOldSelf(en.keyKind.value, depth + 1)) || (en.value ? refsOldSelf(en.value, depth + 1) : false));
    case "comprehensionExpr": {
      const c = k.value;
      return [c.iterRange, c.accuInit, c.loopCondition, c.loopStep, c.result].some((x) => (x ? refsOldSelf(x, depth + 1) : false));
    }
    default: return false;
  }
}

type Compiled = { ok: true; program: Program; transition: boolean } | { ok: false; error: string };

/** Parses, checks references and plans one expression (no evaluation). */
export function compileExpression(src: string): Compiled {
  let parsed;
  try {
    parsed = parse(src);
  } catch (e) {
    return { ok: false, error: `ERROR: ${e instanceof Error ? e.message : String(e)}` };
  }
  const refErrs: string[] = [];
  referenceErrors(parsed.expr, new Set(["self", "oldSelf"]), refErrs);
  if (refErrs.length > 0) return { ok: false, error: `ERROR: <input>: ${refErrs[0]}` };
  try {
    const p = plan(env(), parsed);
    return { ok: true, program: (ctx) => p(ctx), transition: refsOldSelf(parsed.expr) };
  } catch (e) {
    return { ok: false, error: `ERROR: ${e instanceof Error ? e.message : String(e)}` };
  }
}

function rulesOf(s: Schema): ValidationRule[] {
  const r = s["x-kubernetes-validations"];
  return Array.isArray(r) ? r : [];
}

/** CRD-validation errors of every rule under `schema` (`path` = `…openAPIV3Schema`). */
export function celCompileErrors(schema: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (isObj(schema)) walkSchema(schema as Schema, path, errs, 0);
  return errs;
}

function walkSchema(s: Schema, path: string, errs: FieldError[], depth: number): void {
  if (depth > MAX_DEPTH) return;
  rulesOf(s).forEach((r, i) => {
    const rp = `${path}.x-kubernetes-validations[${i}]`;
    if (!r.rule || r.rule.trim() === "") errs.push(required(`${rp}.rule`));
    else {
      const c = compileExpression(r.rule);
      if (!c.ok) errs.push(invalid(`${rp}.rule`, r.rule, `compilation failed: ${c.error}`));
    }
    if (r.messageExpression !== undefined && r.messageExpression !== "") {
      const m = compileExpression(r.messageExpression);
      if (!m.ok) errs.push(invalid(`${rp}.messageExpression`, r.messageExpression, `messageExpression compilation failed: ${m.error}`));
    }
    if (r.message !== undefined && r.message.includes("\n")) {
      errs.push(invalid(`${rp}.message`, r.message, "message must not contain line breaks"));
    }
    if (r.reason !== undefined && !REASONS.includes(r.reason)) errs.push(notSupported(`${rp}.reason`, r.reason, REASONS));
    if (r.fieldPath !== undefined && r.fieldPath !== "" && !/^(\.[A-Za-z_][A-Za-z0-9_-]*|\['[^']*'\]|\[\d+\])+$/.test(r.fieldPath)) {
      errs.push(invalid(`${rp}.fieldPath`, r.fieldPath, "fieldPath must be a valid path"));
    }
  });
  const it = itemsOf(s);
  if (it) walkSchema(it, `${path}.items`, errs, depth + 1);
  for (const [k, p] of Object.entries(s.properties ?? {})) if (isObj(p)) walkSchema(p, `${path}.properties[${k}]`, errs, depth + 1);
  const ap = additionalOf(s);
  if (ap) walkSchema(ap, `${path}.additionalProperties`, errs, depth + 1);
}

interface NodeRule {
  readonly rule: ValidationRule & { rule: string };
  readonly compiled: Compiled;
  readonly messageProgram: Program | undefined;
}

/** A compiled schema tree (only the parts that lead to rules). */
interface Node {
  readonly schema: Schema;
  readonly rules: readonly NodeRule[];
  readonly properties: ReadonlyMap<string, Node>;
  readonly additional: Node | undefined;
  readonly items: Node | undefined;
}

function compileNode(s: Schema, depth: number): Node | undefined {
  if (depth > MAX_DEPTH) return undefined;
  const rules: NodeRule[] = [];
  for (const r of rulesOf(s)) {
    if (!r.rule) continue;
    const m = r.messageExpression ? compileExpression(r.messageExpression) : undefined;
    rules.push({ rule: { ...r, rule: r.rule }, compiled: compileExpression(r.rule), messageProgram: m?.ok ? m.program : undefined });
  }
  const properties = new Map<string, Node>();
  for (const [k, p] of Object.entries(s.properties ?? {})) {
    const n = isObj(p) ? compileNode(p, depth + 1) : undefined;
    if (n) properties.set(k, n);
  }
  const ap = additionalOf(s);
  const it = itemsOf(s);
  const additional = ap ? compileNode(ap, depth + 1) : undefined;
  const items = it ? compileNode(it, depth + 1) : undefined;
  if (rules.length === 0 && properties.size === 0 && !additional && !items) return undefined;
  return { schema: s, rules, properties, additional, items };
}

export type RuleFilter = "transition" | "plain";

export interface CelValidator {
  /**
   * Rule failures of `obj` (a whole custom resource); `old` on update enables transition rules.
   * `only`: "transition" runs just the rules referencing oldSelf, "plain" just the others.
   */
  validate(obj: unknown, old?: unknown, only?: RuleFilter): FieldError[];
}

const cache = new WeakMap<Schema, CelValidator | null>();

/** The validator of a version's schema (compiled once per schema object), or undefined without rules. */
export function celValidatorFor(schema: Schema | undefined): CelValidator | undefined {
  if (!schema) return undefined;
  const hit = cache.get(schema);
  if (hit !== undefined) return hit ?? undefined;
  const root = compileNode(schema, 0);
  const v: CelValidator | null = root ? { validate: (obj, old, only) => runAll(root, obj, old, only) } : null;
  cache.set(schema, v);
  return v ?? undefined;
}

/** Converts a JSON value to CEL input, typed by the schema: integers become CEL ints (bigint). */
export function toCel(s: Schema | undefined, v: unknown, depth = 0): CelInput {
  if (v === null || v === undefined) return null;
  if (depth > MAX_DEPTH) return null;
  if (typeof v === "number") {
    const intType = s?.type === "integer" || (s?.["x-kubernetes-int-or-string"] === true);
    return intType && Number.isInteger(v) ? BigInt(v) : v;
  }
  if (typeof v === "string" || typeof v === "boolean") return v;
  if (Array.isArray(v)) {
    const it = s ? itemsOf(s) : undefined;
    return v.map((x) => toCel(it, x, depth + 1));
  }
  if (isObj(v)) {
    const o: Record<string, CelInput> = {};
    const ap = s ? additionalOf(s) : undefined;
    for (const [k, x] of Object.entries(v)) {
      if (x === undefined) continue;
      o[k] = toCel(s?.properties?.[k] ?? ap, x, depth + 1);
    }
    return o;
  }
  return null;
}

interface RunState {
  evaluations: number;
  readonly deadline: number;
  exhausted: boolean;
  readonly errs: FieldError[];
  readonly only: RuleFilter | undefined;
}

function runAll(root: Node, obj: unknown, old: unknown, only: RuleFilter | undefined): FieldError[] {
  const st: RunState = { evaluations: 0, deadline: Date.now() + BUDGET_MS, exhausted: false, errs: [], only };
  visit(root, obj, old, "", st, 0);
  return st.errs;
}

function childPath(path: string, k: string): string {
  return path === "" ? k : `${path}.${k}`;
}

function display(path: string): string {
  return path === "" ? "<root>" : path;
}

function visit(n: Node, v: unknown, old: unknown, path: string, st: RunState, depth: number): void {
  if (st.exhausted || depth > MAX_DEPTH || v === undefined || v === null) return;
  if (n.rules.length > 0) evalRules(n, v, old, path, st);
  if (isObj(v)) {
    const oldObj = isObj(old) ? old : undefined;
    for (const [k, x] of Object.entries(v)) {
      if (path === "" && (k === "apiVersion" || k === "kind" || k === "metadata")) continue;
      const pn = n.properties.get(k);
      if (pn) visit(pn, x, oldObj?.[k], childPath(path, k), st, depth + 1);
      else if (n.additional && !n.schema.properties) visit(n.additional, x, oldObj?.[k], `${display(path)}[${k}]`, st, depth + 1);
    }
  } else if (Array.isArray(v) && n.items) {
    const keys = n.schema["x-kubernetes-list-type"] === "map" ? (n.schema["x-kubernetes-list-map-keys"] ?? []) : undefined;
    const oldArr = Array.isArray(old) ? old : [];
    v.forEach((x, i) => {
      const o = keys && keys.length > 0 && isObj(x)
        ? oldArr.find((y) => isObj(y) && keys.every((key) => JSON.stringify(y[key]) === JSON.stringify(x[key])))
        : undefined;
      if (n.items) visit(n.items, x, o, `${display(path)}[${i}]`, st, depth + 1);
    });
  }
}

function schemaTypeName(s: Schema): string {
  if (s.type) return s.type;
  return s["x-kubernetes-int-or-string"] === true ? "string" : "object";
}

function evalRules(n: Node, v: unknown, old: unknown, path: string, st: RunState): void {
  const typeName = schemaTypeName(n.schema);
  const at = display(path);
  let self: CelInput | undefined;
  let oldSelf: CelInput | undefined;
  for (const r of n.rules) {
    const transition = r.compiled.ok && r.compiled.transition;
    if (transition && (old === undefined || old === null)) continue;
    if ((st.only === "transition" && !transition) || (st.only === "plain" && transition)) continue;
    if (st.evaluations >= MAX_EVALUATIONS || Date.now() > st.deadline) {
      st.errs.push(invalid(at, typeName, "validation failed due to running out of cost budget, no further validation rules will be run"));
      st.exhausted = true;
      return;
    }
    st.evaluations++;
    if (!r.compiled.ok) {
      st.errs.push(invalid(at, typeName, `rule compile error: compilation failed: ${r.compiled.error}`));
      continue;
    }
    self ??= toCel(n.schema, v);
    const ctx: Record<string, CelInput> = { self };
    if (r.compiled.transition) {
      oldSelf ??= toCel(n.schema, old);
      ctx["oldSelf"] = oldSelf;
    }
    let out: unknown;
    try {
      out = r.compiled.program(ctx);
    } catch (e) {
      out = e instanceof Error ? e : new Error(String(e));
    }
    if (isCelError(out) || out instanceof Error) {
      st.errs.push(invalid(at, typeName, `${(out as Error).message} evaluating rule: ${ruleText(r.rule.rule)}`));
      continue;
    }
    if (typeof out !== "boolean") {
      st.errs.push(invalid(at, typeName, `rule evaluation error: expected boolean result, got ${typeof out} evaluating rule: ${ruleText(r.rule.rule)}`));
      continue;
    }
    if (out) continue;
    const fieldPath = fieldPathOf(path, r.rule.fieldPath);
    const msg = messageOf(r, ctx);
    st.errs.push(errorFor(r.rule.reason, fieldPath, typeName, msg));
  }
}

function ruleText(rule: string): string {
  return rule.trim();
}

function fieldPathOf(path: string, fp: string | undefined): string {
  if (!fp) return display(path);
  const rel = fp.startsWith(".") ? fp.slice(1) : fp;
  if (path === "") return rel;
  return rel.startsWith("[") ? `${path}${rel}` : `${path}.${rel}`;
}

function messageOf(r: NodeRule, ctx: Record<string, CelInput>): string {
  if (r.messageProgram) {
    let m: unknown;
    try {
      m = r.messageProgram(ctx);
    } catch {
      m = undefined;
    }
    if (typeof m === "string" && m.trim() !== "" && !m.includes("\n")) return m.length > MAX_MESSAGE ? m.slice(0, MAX_MESSAGE) : m;
  }
  if (r.rule.message) return r.rule.message;
  return `failed rule: ${ruleText(r.rule.rule)}`;
}

function errorFor(reason: string | undefined, path: string, typeName: string, msg: string): FieldError {
  switch (reason as CauseType | undefined) {
    case "FieldValueForbidden": return forbidden(path, msg);
    case "FieldValueRequired": return required(path, msg);
    case "FieldValueDuplicate": return { type: "FieldValueDuplicate", field: path, message: `Duplicate value: ${goQuote(typeName)}` };
    default: return invalid(path, typeName, msg);
  }
}
