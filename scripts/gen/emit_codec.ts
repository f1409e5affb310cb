/**
 * Emits src/api/generated/<module>.pb.ts: one specialized encode and decode function per message.
 *
 *   encodeX(w, o)        writes the fields of `o` present in the object (not null/undefined), in field
 *                        number order; map keys sorted (as Go does), repeated scalars unpacked.
 *   decodeX(r, end, o)   reads fields up to `end` into `o` and returns it; unknown fields are skipped;
 *                        packed and unpacked repeated scalars both accepted; zero scalars are dropped
 *                        unless the field is `+tug:keepZero`.
 *   newX()               an empty object for X's decoder to fill. Decoded objects are long-lived (the
 *                        watch cache keeps one per stored object), so they are allocated compactly:
 *                        each message has its own constructor (prototype Object.prototype, so the
 *                        objects are plain objects to every reader) whose never-taken `sized`
 *                        branch names the message's fields. V8 sizes the constructor's objects from
 *                        those names, then trims them to the fields actually used by the first
 *                        objects built (in-object slack tracking): properties live inside the
 *                        object instead of a separately grown property array, as with JSON.parse.
 *                        Repeated fields are built as `[v]` then pushed to, and copied to an exact
 *                        length at the end of the message (a pushed-to array keeps ~17 slots).
 */
import { HEADER, isIdent } from "./emit_types.ts";
import type { Field, Message, Model, Special } from "./model.ts";

const WIRE: Record<string, number> = { string: 2, bytes: 2, int32: 0, int64: 0, bool: 0, double: 1, float: 5, message: 2 };
const ZERO: Record<string, string> = { string: '""', bytes: '""', int32: "0", int64: "0", bool: "false", double: "0", float: "0" };
const READ: Record<string, string> = {
  string: "r.string(E)", bytes: "S.readBase64(r, E)", int32: "r.int32(E)", int64: "r.int64(E)", bool: "r.bool(E)",
  double: "r.double(E)", float: "r.float(E)",
};
const WRITE: Record<string, string> = {
  string: "w.string(V)", bytes: "S.writeBase64(w, V)", int32: "w.int32(V)", int64: "w.int64(V)", bool: "w.bool(V)",
  double: "w.double(V)", float: "w.float(V)",
};
const SPECIAL_FN: Record<Special, string> = {
  time: "Time", microtime: "MicroTime", duration: "Duration", quantity: "Quantity", intorstring: "IntOrString",
  raw: "RawExtension", fieldsv1: "FieldsV1", strings: "StringArray", union: "",
};
/** Specials whose reader may return undefined (zero time, empty raw, empty union). */
const MAYBE_UNDEFINED = new Set<Special>(["time", "microtime", "raw", "fieldsv1", "union"]);

/**
 * Codecs of the schema unions (`special: "union"`), emitted into the module that declares them
 * (they call its JSONSchemaProps codec). JSON forms as upstream marshals them: OrArray is the
 * array when it has items, else the schema; OrBool is the schema when set, else the bool (a schema
 * implies allows=true on the wire); OrStringArray is the string list when set, else the schema.
 */
const UNIONS: Record<string, (P: string) => string[]> = {
  JSONSchemaPropsOrArray: (P) => [
    `export function writeJSONSchemaPropsOrArray(w: Writer, v: unknown): void {`,
    `  if (Array.isArray(v)) { for (let i = 0; i < v.length; i++) { w.byte(18); const s = w.fork(); encode${P}(w, C.obj(v[i] as T.${P})); w.ldelim(s); } return; }`,
    `  w.byte(10); const s = w.fork(); encode${P}(w, C.obj(v as T.${P})); w.ldelim(s);`,
    `}`,
    `export function readJSONSchemaPropsOrArray(r: Reader, end: number): unknown {`,
    `  let schema: T.${P} | undefined; let list: T.${P}[] | undefined;`,
    `  while (r.pos < end) { const t = r.tag(end); const e = t === 10 || t === 18 ? r.ldEnd(end) : 0;`,
    `    if (t === 10) schema = decode${P}(r, e, new${P}()); else if (t === 18) (list ??= []).push(decode${P}(r, e, new${P}())); else r.skip(t, end); }`,
    `  return list ?? schema;`,
    `}`,
  ],
  JSONSchemaPropsOrBool: (P) => [
    `export function writeJSONSchemaPropsOrBool(w: Writer, v: unknown): void {`,
    `  if (typeof v === "boolean") { w.byte(8); w.bool(v); return; }`,
    `  w.byte(8); w.bool(true); w.byte(18); const s = w.fork(); encode${P}(w, C.obj(v as T.${P})); w.ldelim(s);`,
    `}`,
    `export function readJSONSchemaPropsOrBool(r: Reader, end: number): unknown {`,
    `  let allows = false; let schema: T.${P} | undefined;`,
    `  while (r.pos < end) { const t = r.tag(end);`,
    `    if (t === 8) allows = r.bool(end); else if (t === 18) schema = decode${P}(r, r.ldEnd(end), new${P}()); else r.skip(t, end); }`,
    `  return schema ?? allows;`,
    `}`,
  ],
  JSONSchemaPropsOrStringArray: (P) => [
    `export function writeJSONSchemaPropsOrStringArray(w: Writer, v: unknown): void {`,
    `  if (Array.isArray(v)) { for (let i = 0; i < v.length; i++) { w.byte(18); w.string(v[i]); } return; }`,
    `  w.byte(10); const s = w.fork(); encode${P}(w, C.obj(v as T.${P})); w.ldelim(s);`,
    `}`,
    `export function readJSONSchemaPropsOrStringArray(r: Reader, end: number): unknown {`,
    `  let schema: T.${P} | undefined; let list: string[] | undefined;`,
    `  while (r.pos < end) { const t = r.tag(end);`,
    `    if (t === 10) schema = decode${P}(r, r.ldEnd(end), new${P}()); else if (t === 18) (list ??= []).push(r.string(end)); else r.skip(t, end); }`,
    `  return list ?? schema;`,
    `}`,
  ],
};

function tagBytes(num: number, wire: number): string {
  const t = (num << 3) | wire;
  if (t < 128) return `w.byte(${t});`;
  return `w.uint32(${t});`;
}

const acc = (name: string): string => (isIdent(name) ? `.${name}` : `[${JSON.stringify(name)}]`);

export function codecFunctionName(prefix: "encode" | "decode", m: Message): string {
  return `${prefix}${m.name}`;
}

export function emitCodec(model: Model, mod: string, messages: readonly Message[]): string {
  const deps = new Set<string>();
  const fnRef = (prefix: "encode" | "decode", fq: string): string => {
    const m = model.messages.get(fq)!;
    if (m.module === mod) return `${prefix}${m.name}`;
    deps.add(m.module);
    return `${m.module}_pb.${prefix}${m.name}`;
  };
  const newRef = (fq: string): string => {
    const m = model.messages.get(fq)!;
    if (m.module === mod) return `new${m.name}()`;
    deps.add(m.module);
    return `${m.module}_pb.new${m.name}()`;
  };
  /** Appends `v` to the array at `p`, starting it as an exact one-element literal. */
  const append = (p: string, v: string): string => `{ const v = ${v}; const a = ${p}; if (a === undefined) ${p} = [v]; else a.push(v); }`;
  const special = (f: Field): Special | undefined => (f.ref ? model.messages.get(f.ref)!.special : undefined);
  /** `S.writeTime`, or a union's own writer (in its module). */
  const spFn = (prefix: "read" | "write", f: Field): string => {
    const m = model.messages.get(f.ref!)!;
    if (m.special !== "union") return `S.${prefix}${SPECIAL_FN[m.special!]}`;
    if (m.module === mod) return `${prefix}${m.name}`;
    deps.add(m.module);
    return `${m.module}_pb.${prefix}${m.name}`;
  };
  const body: string[] = [];

  for (const m of messages) {
    if (m.special === "union") {
      const emit = UNIONS[m.name];
      if (!emit) throw new Error(`gen: no codec for union message ${m.fq}`);
      body.push(...emit("JSONSchemaProps"), "");
      continue;
    }
    if (m.special) continue;
    const T = `T.${m.name}`;
    // ---- allocation
    const names = ["apiVersion", "kind", ...m.fields.filter((f) => !f.inline).map((f) => f.json)].filter(isIdent);
    const sized = [...new Set(names)].slice(0, 60).map((n) => `this.${n} = 0;`).join(" ");
    body.push(
      `function ${m.name}$(this: Record<string, unknown>, sized?: boolean): void {`,
      `  if (sized) { ${sized} }`,
      `}`,
      `${m.name}$.prototype = Object.prototype;`,
      `/** An empty ${m.name} (a plain object, allocated with room for the fields its decoder adds). */`,
      `export function new${m.name}(): ${T} {`,
      `  return new (${m.name}$ as unknown as new () => ${T})();`,
      `}`,
      "",
    );
    // ---- encode
    const enc: string[] = [];
    const sorted = [...m.fields].sort((a, b) => a.number - b.number);
    for (const f of sorted) {
      const p = `o${acc(f.json)}`;
      const sp = special(f);
      const wire = WIRE[f.kind]!;
      const tag = tagBytes(f.number, wire);
      if (f.inline) {
        enc.push(`  { ${tag} const s = w.fork(); ${fnRef("encode", f.ref!)}(w, o); w.ldelim(s); }`);
        continue;
      }
      const one = (v: string, ind: string): string[] => {
        if (f.kind !== "message") return [`${ind}${tag} ${WRITE[f.kind]!.replace("V", v)};`];
        if (sp) return [`${ind}{ ${tag} const s = w.fork(); ${spFn("write", f)}(w, ${v}); w.ldelim(s); }`];
        return [`${ind}{ ${tag} const s = w.fork(); ${fnRef("encode", f.ref!)}(w, C.obj(${v})); w.ldelim(s); }`];
      };
      if (f.map) {
        const vt = (2 << 3) | wire;
        let valueWrite: string;
        if (f.kind !== "message") valueWrite = `w.byte(${vt}); ${WRITE[f.kind]!.replace("V", "m[k]")};`;
        else if (sp) valueWrite = `w.byte(18); const s2 = w.fork(); ${spFn("write", f)}(w, m[k]); w.ldelim(s2);`;
        else valueWrite = `w.byte(18); const s2 = w.fork(); ${fnRef("encode", f.ref!)}(w, C.obj(m[k]!)); w.ldelim(s2);`;
        enc.push(`  if (${p} != null) {`);
        enc.push(`    const m = C.map(${p}); const keys = C.sortedKeys(m);`);
        enc.push(`    for (let i = 0; i < keys.length; i++) {`);
        enc.push(`      const k = keys[i]!; ${tag} const s = w.fork(); w.byte(10); w.string(k); ${valueWrite} w.ldelim(s);`);
        enc.push(`    }`);
        enc.push(`  }`);
      } else if (f.repeated) {
        enc.push(`  if (${p} != null) {`);
        enc.push(`    const a = C.arr(${p});`);
        enc.push(`    for (let i = 0; i < a.length; i++) {`);
        enc.push(...one("a[i]!", "      "));
        enc.push(`    }`);
        enc.push(`  }`);
      } else {
        enc.push(`  if (${p} != null) {`);
        enc.push(...one(p, "    "));
        enc.push(`  }`);
      }
    }
    body.push(`export function encode${m.name}(w: Writer, o: ${T}): void {`, ...enc, `}`, "");

    // ---- decode
    const dec: string[] = [];
    for (const f of m.fields) {
      const p = `o${acc(f.json)}`;
      const sp = special(f);
      const wire = WIRE[f.kind]!;
      const tag = (f.number << 3) | wire;
      if (f.inline) {
        dec.push(`      case ${tag}: { const e = r.ldEnd(end); ${fnRef("decode", f.ref!)}(r, e, o); break; }`);
        continue;
      }
      if (f.map) {
        const vt = (2 << 3) | wire;
        let zero: string;
        let read: string;
        if (f.kind !== "message") {
          zero = ZERO[f.kind]!;
          read = READ[f.kind]!.replace("E", "e");
        } else if (sp) {
          zero = sp === "quantity" ? '"0"' : sp === "intorstring" ? "0" : "undefined";
          read = `${spFn("read", f)}(r, r.ldEnd(e))`;
        } else {
          zero = newRef(f.ref!);
          read = `${fnRef("decode", f.ref!)}(r, r.ldEnd(e), ${newRef(f.ref!)})`;
        }
        dec.push(`      case ${tag}: {`);
        dec.push(`        const e = r.ldEnd(end); let k = ""; let v: ${mapValueType(model, f, mod)} = ${zero};`);
        dec.push(`        while (r.pos < e) { const t2 = r.tag(e); if (t2 === 10) k = r.string(e); else if (t2 === ${vt}) v = ${read}; else r.skip(t2, e); }`);
        if (zero === "undefined") dec.push(`        if (v !== undefined) S.setKey(${p} ??= {}, k, v);`);
        else dec.push(`        S.setKey(${p} ??= {}, k, v);`);
        dec.push(`        break;`);
        dec.push(`      }`);
        continue;
      }
      if (f.kind !== "message") {
        const read = READ[f.kind]!.replace("E", "end");
        if (f.repeated) {
          dec.push(`      case ${tag}: ${append(p, read)} break;`);
          if (wire !== 2) {
            dec.push(`      case ${(f.number << 3) | 2}: { const e = r.ldEnd(end); const a = (${p} ??= []); while (r.pos < e) a.push(${READ[f.kind]!.replace("E", "e")}); break; }`);
          }
        } else if (f.keepZero) {
          dec.push(`      case ${tag}: ${p} = ${read}; break;`);
        } else {
          dec.push(`      case ${tag}: { const v = ${read}; if (v !== ${ZERO[f.kind]}) ${p} = v; break; }`);
        }
        continue;
      }
      if (sp) {
        const read = `${spFn("read", f)}(r, r.ldEnd(end))`;
        const maybe = MAYBE_UNDEFINED.has(sp);
        if (f.repeated) {
          dec.push(maybe
            ? `      case ${tag}: { const u = ${read}; if (u !== undefined) ${append(p, "u")} break; }`
            : `      case ${tag}: ${append(p, read)} break;`);
        } else if (maybe) {
          // Unions decode to `unknown` (the reader checks nothing about the JSON form's TS type).
          const cast = sp === "fieldsv1" ? " as Record<string, unknown>" : sp === "union" ? ` as T.${model.messages.get(f.ref!)!.name}` : "";
          dec.push(`      case ${tag}: { const v = ${read}; if (v !== undefined) ${p} = v${cast}; break; }`);
        } else {
          dec.push(`      case ${tag}: ${p} = ${read}; break;`);
        }
        continue;
      }
      const fn = fnRef("decode", f.ref!);
      if (f.repeated) dec.push(`      case ${tag}: { const e = r.ldEnd(end); ${append(p, `${fn}(r, e, ${newRef(f.ref!)})`)} break; }`);
      else dec.push(`      case ${tag}: { const e = r.ldEnd(end); ${p} = ${fn}(r, e, ${p} ?? ${newRef(f.ref!)}); break; }`);
    }
    body.push(`export function decode${m.name}(r: Reader, end: number, o: ${T}): ${T} {`);
    body.push(`  while (r.pos < end) {`);
    body.push(`    const t = r.tag(end);`);
    if (dec.length) {
      body.push(`    switch (t) {`, ...dec, `      default: r.skip(t, end);`, `    }`);
    } else {
      body.push(`    r.skip(t, end);`);
    }
    body.push(`  }`);
    for (const f of m.fields) {
      if (!f.repeated || f.map || f.inline) continue;
      const p = `o${acc(f.json)}`;
      body.push(`  if (${p} !== undefined && ${p}.length > 1) ${p} = ${p}.slice();`);
    }
    body.push(`  return o;`, `}`, "");
  }

  // Only the imports the body uses (a module of special types may need none of them).
  const text = body.join("\n");
  const uses = (re: RegExp): boolean => re.test(text);
  const head = [
    HEADER,
    "/* eslint-disable */",
    ...(uses(/\bT\./) ? [`import type * as T from "./${mod}.ts";`] : []),
    ...(uses(/\bReader\b/) ? [`import type { Reader } from "../codec/reader.ts";`] : []),
    ...(uses(/\bWriter\b/) ? [`import type { Writer } from "../codec/writer.ts";`] : []),
    ...(uses(/\bS\./) ? [`import * as S from "../codec/special.ts";`] : []),
    ...(uses(/\bC\./) ? [`import * as C from "../codec/check.ts";`] : []),
    ...[...deps].sort().map((d) => `import * as ${d}_pb from "./${d}.pb.ts";`),
    "",
  ];
  return [...head, ...body].join("\n");
}

function mapValueType(model: Model, f: Field, mod: string): string {
  if (f.kind !== "message") return f.kind === "bool" ? "boolean" : f.kind === "string" || f.kind === "bytes" ? "string" : "number";
  const m = model.messages.get(f.ref!)!;
  if (m.special === "quantity" || m.special === "duration") return "string";
  if (m.special === "intorstring") return "number | string";
  if (m.special) return "unknown";
  return m.module === mod ? `T.${m.name}` : `import("./${m.module}.ts").${m.name}`;
}
