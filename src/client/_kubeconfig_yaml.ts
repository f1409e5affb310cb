/**
 * Kubeconfig text -> plain value without loading the `yaml` package for the common cases. The
 * package is ~70 modules and costs a long-running client (the node agent) ~7 MiB of RSS, only to
 * read a small file once at start-up.
 *
 * - JSON (first non-blank character `{`): `JSON.parse`.
 * - Block-style YAML as kubectl and `tug server` write it (mappings, `- ` sequences, plain,
 *   single- and double-quoted one-line scalars, `{}`/`[]`, comments): `readSimpleYaml`, which
 *   returns exactly what `yaml.parse` returns for such input and refuses everything else
 *   (anchors, tags, block and multi-line scalars, non-empty flow collections, directives, several
 *   documents, duplicate keys, floats, …).
 * - Anything refused, and JSON that does not parse: the `yaml` package, loaded synchronously on
 *   first use, so results and error messages are the package's own.
 */
import { createRequire } from "node:module";

/** Returned by `readSimpleYaml` for input outside the subset it reads. */
export const NOT_SIMPLE: unique symbol = Symbol("not simple YAML");

interface Line {
  readonly indent: number;
  readonly text: string; // without the indentation and trailing whitespace
}

type Value = unknown;

class Refuse extends Error {}

const refuse = (): never => {
  throw new Refuse();
};

/** YAML 1.2 core-schema resolution of a plain scalar, restricted to the forms kubeconfigs use. */
function plainScalar(s: string): Value {
  if (s === "" || s === "~" || s === "null" || s === "Null" || s === "NULL") return null;
  if (s === "true" || s === "True" || s === "TRUE") return true;
  if (s === "false" || s === "False" || s === "FALSE") return false;
  if (/^[-+]?[0-9]+$/.test(s)) {
    const n = Number(s);
    return Number.isSafeInteger(n) ? n : refuse();
  }
  // Floats, hex/octal ints, .inf/.nan, anything starting like a number, and indicator characters
  // (which start something other than a plain scalar or need care): left to the package.
  if (/^[-+]?\.?[0-9]/.test(s) || /^[-+]?\.(inf|Inf|INF|nan|NaN|NAN)$/.test(s)) refuse();
  if (/^[-?:,[\]{}#&*!|>'"%@`]/.test(s) || /\s#|:\s|:$|\t/.test(s) || s.includes("<<")) refuse();
  return s;
}

const ESCAPES: Record<string, string> = { "\\": "\\", '"': '"', "/": "/", n: "\n", t: "\t", r: "\r", "0": "\0", b: "\b", f: "\f", e: "\x1b", " ": " " };

/** A one-line scalar (plain, 'single' or "double" quoted) with an optional trailing comment. */
function scalar(s: string): Value {
  if (s.startsWith('"')) {
    let out = "";
    let i = 1;
    for (;;) {
      if (i >= s.length) refuse();
      const c = s[i]!;
      if (c === '"') break;
      if (c === "\\") {
        const e = s[i + 1] ?? refuse();
        if (e === "x" || e === "u") {
          const n = e === "x" ? 2 : 4;
          const hex = s.slice(i + 2, i + 2 + n);
          if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(hex)) refuse();
          out += String.fromCharCode(parseInt(hex, 16));
          i += 2 + n;
          continue;
        }
        const r = ESCAPES[e];
        if (r === undefined) refuse();
        out += r;
        i += 2;
        continue;
      }
      out += c;
      i++;
    }
    trailer(s.slice(i + 1));
    return out;
  }
  if (s.startsWith("'")) {
    let out = "";
    let i = 1;
    for (;;) {
      if (i >= s.length) refuse();
      const c = s[i]!;
      if (c === "'") {
        if (s[i + 1] === "'") {
          out += "'";
          i += 2;
          continue;
        }
        break;
      }
      out += c;
      i++;
    }
    trailer(s.slice(i + 1));
    return out;
  }
  if (s === "{}") return {};
  if (s === "[]") return [];
  const hash = s.search(/\s#/);
  return plainScalar((hash >= 0 ? s.slice(0, hash) : s).trimEnd());
}

/** What may follow a closing quote: nothing, or whitespace and a comment. */
function trailer(rest: string): void {
  if (rest !== "" && !/^\s+(#.*)?$/.test(rest)) refuse();
}

/** A mapping key: plain (letters, digits, `-_./`) or quoted; returns the key and the rest after `:`. */
function splitKey(text: string): { key: string; rest: string } | undefined {
  const m = /^([A-Za-z0-9_][A-Za-z0-9_./-]*|"[^"\\]*"|'[^']*'):(?:\s+|$)/.exec(text);
  if (!m) return undefined;
  const raw = m[1]!;
  const quoted = raw.startsWith('"') || raw.startsWith("'");
  const key = quoted ? raw.slice(1, -1) : raw;
  // Plain keys that resolve to null, a boolean or a number become other keys in the package.
  if (!quoted && (/^[0-9]/.test(key) || /^(null|Null|NULL|true|True|TRUE|false|False|FALSE)$/.test(key))) refuse();
  return { key, rest: text.slice(m[0].length) };
}

class Parser {
  i = 0;
  constructor(readonly lines: readonly Line[]) {}

  /** A block node whose lines are indented exactly `indent`. */
  node(indent: number): Value {
    const l = this.lines[this.i];
    if (!l || l.indent !== indent) return refuse();
    return l.text === "-" || l.text.startsWith("- ") ? this.seq(indent) : this.map(indent, undefined);
  }

  /** Value after `key:` / `- ` with nothing on the line: a nested block (deeper, or a sequence at the key's indent). */
  nested(parentIndent: number, allowSameIndentSeq: boolean): Value {
    const next = this.lines[this.i];
    if (!next || next.indent < parentIndent) return null;
    if (next.indent === parentIndent) {
      if (allowSameIndentSeq && (next.text === "-" || next.text.startsWith("- "))) return this.seq(parentIndent);
      return null;
    }
    return this.node(next.indent);
  }

  /** After a scalar value at `indent`, the next line must not be deeper (no multi-line scalars). */
  endScalar(indent: number): void {
    const next = this.lines[this.i];
    if (next && next.indent > indent) refuse();
  }

  map(indent: number, first: { key: string; rest: string } | undefined): Record<string, Value> {
    const out: Record<string, Value> = {};
    let pending = first;
    for (;;) {
      let kv = pending;
      pending = undefined;
      if (!kv) {
        const l = this.lines[this.i];
        if (!l || l.indent < indent) break;
        if (l.indent > indent) refuse();
        kv = splitKey(l.text) ?? refuse();
        this.i++;
      }
      if (Object.prototype.hasOwnProperty.call(out, kv.key) || kv.key === "__proto__") refuse();
      let v: Value;
      if (kv.rest === "" || kv.rest.startsWith("#")) v = this.nested(indent, true);
      else {
        v = scalar(kv.rest);
        this.endScalar(indent);
      }
      out[kv.key] = v;
    }
    return out;
  }

  seq(indent: number): Value[] {
    const out: Value[] = [];
    for (;;) {
      const l = this.lines[this.i];
      if (!l || l.indent < indent) break;
      if (l.indent > indent || !(l.text === "-" || l.text.startsWith("- "))) {
        if (l.indent === indent) break; // the parent mapping's next key (sequence at the key's indent)
        refuse();
      }
      this.i++;
      const rest = l.text.slice(1).replace(/^\s+/, "");
      const itemIndent = indent + (l.text.length - rest.length);
      if (rest === "" || rest.startsWith("#")) {
        out.push(this.nested(indent, false));
        continue;
      }
      if (rest === "-" || rest.startsWith("- ")) refuse(); // nested compact sequences: left to the package
      const kv = splitKey(rest);
      if (kv) out.push(this.map(itemIndent, kv));
      else {
        out.push(scalar(rest));
        this.endScalar(indent);
      }
    }
    return out;
  }
}

/**
 * Reads the block-style subset of YAML described above; `NOT_SIMPLE` for anything else (the
 * caller then uses the full parser). For accepted input the result equals `yaml.parse(text)`.
 */
export function readSimpleYaml(text: string): Value | typeof NOT_SIMPLE {
  const lines: Line[] = [];
  let first = true;
  for (const raw of text.split(/\r?\n/)) {
    if (raw.includes("\t") || raw.includes("\r")) return NOT_SIMPLE;
    const body = raw.trimStart();
    if (body === "" || body.startsWith("#")) continue;
    const indent = raw.length - body.length;
    if (first && indent === 0 && (body === "---" || body.startsWith("--- #"))) {
      first = false;
      continue;
    }
    first = false;
    if (indent === 0 && (body.startsWith("---") || body.startsWith("...") || body.startsWith("%"))) return NOT_SIMPLE;
    lines.push({ indent, text: body.trimEnd() });
  }
  if (lines.length === 0) return NOT_SIMPLE;
  try {
    const p = new Parser(lines);
    const v = p.node(lines[0]!.indent);
    return p.i === lines.length ? v : NOT_SIMPLE;
  } catch (e) {
    if (e instanceof Refuse) return NOT_SIMPLE;
    throw e;
  }
}

interface YamlPackage {
  parse(text: string): unknown;
}
let yamlPackage: YamlPackage | undefined;

/**
 * Parses kubeconfig text (JSON or YAML). Throws the `yaml` package's error for input that is not
 * valid YAML (JSON is YAML, so invalid JSON gets the package's message too).
 */
export function parseKubeconfigText(text: string): unknown {
  if (/^\s*\{/.test(text)) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      // not JSON after all (e.g. a YAML flow mapping): the package decides, with its own message
    }
  } else {
    const v = readSimpleYaml(text);
    if (v !== NOT_SIMPLE) return v;
  }
  // Loaded on first use only; `yaml` ships a CommonJS build for Node, so require() is synchronous.
  yamlPackage ??= createRequire(import.meta.url)("yaml") as YamlPackage; // the package's documented API
  return yamlPackage.parse(text);
}
