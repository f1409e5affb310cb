/**
 * Field paths and sets of them, in structured-merge-diff's model and FieldsV1 encoding.
 *
 * A path element is kept in its serialized FieldsV1 form, which is canonical:
 *   `f:<name>`            a struct field or map key
 *   `k:{"name":"web"}`    an associative-list item, its key fields sorted by name
 *   `v:<json>`            a set item
 *   `i:<index>`           a positional list item
 * Ordering (for FieldsV1 output and path iteration) follows upstream: field < key < value < index,
 * names compared as UTF-8 bytes, values numbers < strings < booleans < null.
 *
 * A `FieldSet` is a tree: `members` are paths that end here, `children` hold longer paths. In
 * FieldsV1 a member with children is written as `".": {}` inside the child object.
 */

/** A serialized path element (see module doc). */
export type PathElement = string;
export type Path = readonly PathElement[];

/** A JSON scalar as it appears in keys and set items. */
export type Scalar = string | number | boolean | null;

export const fieldPE = (name: string): PathElement => `f:${name}`;
export const indexPE = (i: number): PathElement => `i:${i}`;
export const valuePE = (v: Scalar): PathElement => `v:${goJson(v)}`;

/** `fields` in any order; they are sorted by name as upstream does. */
export function keyPE(fields: ReadonlyArray<readonly [string, Scalar]>): PathElement {
  const sorted = [...fields].sort((a, b) => compareStrings(a[0], b[0]));
  return `k:{${sorted.map(([n, v]) => `${goJson(n)}:${goJson(v)}`).join(",")}}`;
}

/** A path of field names: `pathOf("spec", "replicas")` is `.spec.replicas`. */
export function pathOf(...names: string[]): PathElement[] {
  return names.map(fieldPE);
}

/** Go's encoding/json for a scalar: HTML-safe string escaping like upstream's jsoniter config. */
export function goJson(v: Scalar): string {
  if (typeof v !== "string") return JSON.stringify(v);
  let out = '"';
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += "\\\\";
    else if (c === 0x0a) out += "\\n";
    else if (c === 0x0d) out += "\\r";
    else if (c === 0x09) out += "\\t";
    else if (c < 0x20 || c === 0x3c || c === 0x3e || c === 0x26 || c === 0x2028 || c === 0x2029) {
      out += `\\u${c.toString(16).padStart(4, "0")}`;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const next = v.charCodeAt(i + 1);
      if (c < 0xdc00 && next >= 0xdc00 && next <= 0xdfff) {
        out += v[i]! + v[i + 1]!;
        i++;
      } else {
        out += "\\ufffd"; // lone surrogate: Go writes U+FFFD
      }
    } else {
      out += v[i]!;
    }
  }
  return out + '"';
}

/** UTF-8 byte order (Go's strings.Compare), which differs from UTF-16 order only around surrogates. */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      const cx = a.codePointAt(i) ?? x;
      const cy = b.codePointAt(i) ?? y;
      return cx < cy ? -1 : 1;
    }
  }
  return a.length < b.length ? -1 : 1;
}

/** A parsed path element, for ordering and display. */
export type ParsedElement =
  | { readonly kind: "field"; readonly name: string }
  | { readonly kind: "key"; readonly fields: ReadonlyArray<readonly [string, Scalar]> }
  | { readonly kind: "value"; readonly value: Scalar }
  | { readonly kind: "index"; readonly index: number };

/** Thrown for malformed FieldsV1 content or path elements. */
export class FieldsV1Error extends Error {
  override readonly name = "FieldsV1Error";
}

const parseCache = new Map<string, ParsedElement>();
const PARSE_CACHE_MAX = 50_000;

function isScalar(v: unknown): v is Scalar {
  return v === null || typeof v === "string" || typeof v === "number" || typeof v === "boolean";
}

/**
 * Parses a serialized path element. Returns undefined for an unknown element type (upstream skips
 * those when reading FieldsV1); throws `FieldsV1Error` for a malformed known type.
 */
export function parsePE(pe: PathElement): ParsedElement | undefined {
  const hit = parseCache.get(pe);
  if (hit) return hit;
  if (pe.length < 2) throw new FieldsV1Error(`key must be 2 characters long: ${JSON.stringify(pe)}`);
  if (pe[1] !== ":") throw new FieldsV1Error(`missing colon: ${pe}`);
  const body = pe.slice(2);
  let out: ParsedElement;
  switch (pe[0]) {
    case "f":
      out = { kind: "field", name: body };
      break;
    case "v": {
      const v = parseJson(pe, body);
      if (!isScalar(v)) throw new FieldsV1Error(`${pe}: set items must be scalars`);
      out = { kind: "value", value: v };
      break;
    }
    case "k": {
      const v = parseJson(pe, body);
      if (typeof v !== "object" || v === null || Array.isArray(v)) throw new FieldsV1Error(`${pe}: key must be a JSON object`);
      const fields: Array<readonly [string, Scalar]> = [];
      for (const [n, fv] of Object.entries(v)) {
        if (!isScalar(fv)) throw new FieldsV1Error(`${pe}: key field ${n} must be a scalar`);
        fields.push([n, fv]);
      }
      fields.sort((a, b) => compareStrings(a[0], b[0]));
      out = { kind: "key", fields };
      break;
    }
    case "i": {
      if (!/^-?\d+$/.test(body)) throw new FieldsV1Error(`${pe}: invalid index`);
      out = { kind: "index", index: Number(body) };
      break;
    }
    default:
      return undefined;
  }
  if (parseCache.size >= PARSE_CACHE_MAX) parseCache.clear();
  parseCache.set(pe, out);
  return out;
}

function parseJson(pe: string, body: string): unknown {
  try {
    return JSON.parse(body);
  } catch (e) {
    throw new FieldsV1Error(`${pe}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Canonical form of a parsed-then-serialized element (re-sorts key fields, normalizes JSON). */
export function canonicalPE(pe: PathElement): PathElement | undefined {
  const p = parsePE(pe);
  if (!p) return undefined;
  switch (p.kind) {
    case "field": return pe;
    case "key": return keyPE(p.fields);
    case "value": return valuePE(p.value);
    case "index": return indexPE(p.index);
  }
}

const KIND_RANK = { field: 0, key: 1, value: 2, index: 3 } as const;

function compareScalars(a: Scalar, b: Scalar): number {
  const rank = (v: Scalar): number => (typeof v === "number" ? 0 : typeof v === "string" ? 1 : typeof v === "boolean" ? 2 : 3);
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  if (typeof a === "number" && typeof b === "number") return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === "string" && typeof b === "string") return compareStrings(a, b);
  if (typeof a === "boolean" && typeof b === "boolean") return a === b ? 0 : a ? 1 : -1;
  return 0;
}

/** Upstream's path element order. */
export function comparePE(a: PathElement, b: PathElement): number {
  if (a === b) return 0;
  const fa = a.startsWith("f:");
  const fb = b.startsWith("f:");
  if (fa && fb) return compareStrings(a.slice(2), b.slice(2));
  const pa = parsePE(a);
  const pb = parsePE(b);
  if (!pa || !pb) return compareStrings(a, b);
  if (pa.kind !== pb.kind) return KIND_RANK[pa.kind] < KIND_RANK[pb.kind] ? -1 : 1;
  switch (pa.kind) {
    case "field":
      return compareStrings(pa.name, (pb as { name: string }).name);
    case "key": {
      const fb2 = (pb as { fields: ReadonlyArray<readonly [string, Scalar]> }).fields;
      for (let i = 0; ; i++) {
        const x = pa.fields[i];
        const y = fb2[i];
        if (!x && !y) return 0;
        if (!x) return -1;
        if (!y) return 1;
        const c = compareStrings(x[0], y[0]) || compareScalars(x[1], y[1]);
        if (c !== 0) return c;
      }
    }
    case "value":
      return compareScalars(pa.value, (pb as { value: Scalar }).value);
    case "index": {
      const ib = (pb as { index: number }).index;
      return pa.index < ib ? -1 : pa.index > ib ? 1 : 0;
    }
  }
}

/** Go's %q for the strings in human-readable paths. */
function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, "0")}`;
    else out += ch;
  }
  return out + '"';
}

function scalarString(v: Scalar): string {
  return typeof v === "string" ? goQuote(v) : String(v);
}

/** Human-readable form used in conflict messages: `.spec.template.spec.containers[name="web"].image`. */
export function pathString(path: Path): string {
  let out = "";
  for (const pe of path) {
    const p = parsePE(pe);
    if (!p) {
      out += "{{invalid path element}}";
      continue;
    }
    switch (p.kind) {
      case "field": out += `.${p.name}`; break;
      case "key": out += `[${p.fields.map(([n, v]) => `${n}=${scalarString(v)}`).join(",")}]`; break;
      case "value": out += `[=${scalarString(p.value)}]`; break;
      case "index": out += `[${p.index}]`; break;
    }
  }
  return out;
}

/** A set of field paths (see module doc). Mutating only through `insert`; set algebra returns new sets. */
export class FieldSet {
  readonly members = new Set<PathElement>();
  /** Invariant: never holds an empty set. */
  readonly children = new Map<PathElement, FieldSet>();

  static of(...paths: Path[]): FieldSet {
    const s = new FieldSet();
    for (const p of paths) s.insert(p);
    return s;
  }

  isEmpty(): boolean {
    return this.members.size === 0 && this.children.size === 0;
  }

  /** Adds a path. The empty path is ignored (the root is never a member). */
  insert(path: Path): void {
    if (path.length === 0) return;
    let node: FieldSet = this;
    for (let i = 0; i < path.length - 1; i++) {
      const pe = path[i]!;
      let next = node.children.get(pe);
      if (!next) {
        next = new FieldSet();
        node.children.set(pe, next);
      }
      node = next;
    }
    node.members.add(path[path.length - 1]!);
  }

  has(path: Path): boolean {
    if (path.length === 0) return false;
    let node: FieldSet | undefined = this;
    for (let i = 0; i < path.length - 1 && node; i++) node = node.children.get(path[i]!);
    return node?.members.has(path[path.length - 1]!) ?? false;
  }

  /** The paths below `pe`, relative to it (upstream WithPrefix); empty when none. */
  child(pe: PathElement): FieldSet {
    return this.children.get(pe) ?? EMPTY;
  }

  // Set algebra shares unchanged subtrees with its operands and returns an operand itself when
  // the result equals it: sets are immutable once built (only their builder inserts), and
  // identity lets callers skip re-encoding sets that did not change.

  union(o: FieldSet): FieldSet {
    if (o.isEmpty()) return this;
    if (this.isEmpty()) return o;
    const out = new FieldSet();
    for (const m of this.members) out.members.add(m);
    for (const m of o.members) out.members.add(m);
    for (const [pe, c] of this.children) {
      const oc = o.children.get(pe);
      out.children.set(pe, oc ? c.union(oc) : c);
    }
    for (const [pe, c] of o.children) if (!this.children.has(pe)) out.children.set(pe, c);
    return out;
  }

  difference(o: FieldSet): FieldSet {
    if (o.isEmpty() || this.isEmpty()) return this;
    let changed = false;
    const out = new FieldSet();
    for (const m of this.members) {
      if (o.members.has(m)) changed = true;
      else out.members.add(m);
    }
    for (const [pe, c] of this.children) {
      const oc = o.children.get(pe);
      const d = oc ? c.difference(oc) : c;
      if (d !== c) changed = true;
      if (!d.isEmpty()) out.children.set(pe, d);
    }
    return changed ? out : this;
  }

  intersection(o: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const m of this.members) if (o.members.has(m)) out.members.add(m);
    for (const [pe, c] of this.children) {
      const oc = o.children.get(pe);
      if (!oc) continue;
      const i = c.intersection(oc);
      if (!i.isEmpty()) out.children.set(pe, i);
    }
    return out;
  }

  clone(): FieldSet {
    const out = new FieldSet();
    for (const m of this.members) out.members.add(m);
    for (const [pe, c] of this.children) out.children.set(pe, c.clone());
    return out;
  }

  /** Removes every path equal to or below one of `prefixes` (upstream's exclude filter). */
  withoutPrefixes(prefixes: readonly Path[]): FieldSet {
    let out: FieldSet = this;
    for (const p of prefixes) out = out.#withoutPrefix(p, 0);
    return out;
  }

  #withoutPrefix(p: Path, i: number): FieldSet {
    const pe = p[i];
    if (pe === undefined) return EMPTY;
    if (!this.members.has(pe) && !this.children.has(pe)) return this;
    const out = new FieldSet();
    for (const m of this.members) if (!(m === pe && i === p.length - 1)) out.members.add(m);
    for (const [cpe, c] of this.children) {
      if (cpe !== pe) out.children.set(cpe, c);
      else if (i < p.length - 1) {
        const r = c.#withoutPrefix(p, i + 1);
        if (!r.isEmpty()) out.children.set(cpe, r);
      }
    }
    return out;
  }

  /** Every member path, in upstream order. */
  paths(): PathElement[][] {
    const out: PathElement[][] = [];
    const walk = (s: FieldSet, prefix: PathElement[]): void => {
      for (const pe of sortedKeys(s)) {
        if (s.members.has(pe)) out.push([...prefix, pe]);
        const c = s.children.get(pe);
        if (c) walk(c, [...prefix, pe]);
      }
    };
    walk(this, []);
    return out;
  }

  size(): number {
    let n = this.members.size;
    for (const c of this.children.values()) n += c.size();
    return n;
  }

  equals(o: FieldSet): boolean {
    if (this.members.size !== o.members.size || this.children.size !== o.children.size) return false;
    for (const m of this.members) if (!o.members.has(m)) return false;
    for (const [pe, c] of this.children) {
      const oc = o.children.get(pe);
      if (!oc || !c.equals(oc)) return false;
    }
    return true;
  }
}

const EMPTY = new FieldSet();

function sortedKeys(s: FieldSet): PathElement[] {
  const keys = new Set<PathElement>(s.members);
  for (const k of s.children.keys()) keys.add(k);
  return [...keys].sort(comparePE);
}

/** The JSON object form of FieldsV1 (what `managedFields[].fieldsV1` holds), keys in upstream order. */
export type FieldsV1 = { [key: string]: FieldsV1 };

/** Encodes a set as FieldsV1. */
export function toFieldsV1(s: FieldSet): FieldsV1 {
  const out: FieldsV1 = {};
  for (const pe of sortedKeys(s)) {
    const c = s.children.get(pe);
    if (!c) {
      out[pe] = {};
      continue;
    }
    const inner = toFieldsV1(c);
    out[pe] = s.members.has(pe) ? { ".": {}, ...inner } : inner;
  }
  return out;
}

const MAX_DEPTH = 200;

/**
 * Decodes FieldsV1 (the parsed JSON object, or its JSON text). Unknown element types are skipped
 * like upstream; anything else malformed throws `FieldsV1Error`.
 */
export function fromFieldsV1(v: unknown): FieldSet {
  if (typeof v === "string") {
    try {
      v = JSON.parse(v);
    } catch (e) {
      throw new FieldsV1Error(`invalid FieldsV1 JSON: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  if (v === undefined || v === null) return new FieldSet();
  const out = new FieldSet();
  readInto(out, v, 0);
  return out;
}

function readInto(out: FieldSet, v: unknown, depth: number): boolean {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new FieldsV1Error("FieldsV1 values must be JSON objects");
  if (depth > MAX_DEPTH) throw new FieldsV1Error("FieldsV1 nested too deeply");
  let self = false;
  for (const [k, child] of Object.entries(v)) {
    if (k === ".") {
      self = true;
      continue;
    }
    const pe = canonicalPE(k);
    if (pe === undefined) continue;
    const sub = new FieldSet();
    const member = readInto(sub, child, depth + 1);
    if (member) out.members.add(pe);
    if (!sub.isEmpty()) {
      const prev = out.children.get(pe);
      out.children.set(pe, prev ? prev.union(sub) : sub);
    }
  }
  return self || out.isEmpty();
}
