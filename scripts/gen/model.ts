/**
 * Resolves parsed proto files into one model: fully-qualified messages, resolved field types,
 * JSON names, special JSON mappings, kinds and bodies. Every schema mistake (unknown type, missing
 * import, duplicate number, kind without list, bad marker) is reported with file:line.
 */
import type { FieldDecl, MessageDecl, ProtoFile } from "./parse.ts";

export const SCALARS = new Set(["string", "int32", "int64", "bool", "bytes", "double", "float"]);

const META = "k8s.io.apimachinery.pkg.apis.meta.v1";
const APIEXT = "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1";
/** Messages whose JSON form is not their message shape (see docs/proto.md). */
export const SPECIAL: Readonly<Record<string, Special>> = {
  [`${META}.Time`]: "time",
  [`${META}.MicroTime`]: "microtime",
  [`${META}.Duration`]: "duration",
  [`${META}.FieldsV1`]: "fieldsv1",
  [`${META}.Verbs`]: "strings",
  "k8s.io.apimachinery.pkg.util.intstr.IntOrString": "intorstring",
  "k8s.io.apimachinery.pkg.api.resource.Quantity": "quantity",
  "k8s.io.apimachinery.pkg.api.resource.QuantityValue": "quantity",
  "k8s.io.apimachinery.pkg.runtime.RawExtension": "raw",
  // apiextensions JSON is `{1 raw}` holding JSON bytes, like RawExtension.
  [`${APIEXT}.JSON`]: "raw",
  // Schema-or-something unions: JSON is the object or the other form; codecs in emit_codec.ts (UNIONS).
  [`${APIEXT}.JSONSchemaPropsOrArray`]: "union",
  [`${APIEXT}.JSONSchemaPropsOrBool`]: "union",
  [`${APIEXT}.JSONSchemaPropsOrStringArray`]: "union",
};
export type Special = "time" | "microtime" | "duration" | "fieldsv1" | "strings" | "intorstring" | "quantity" | "raw" | "union";

export interface Field {
  readonly name: string;
  readonly json: string;
  readonly number: number;
  readonly repeated: boolean;
  readonly map: boolean;
  /** Scalar type name, or "message". For maps: the value's. */
  readonly kind: string;
  /** Fully-qualified message name when kind is "message". */
  readonly ref?: string;
  readonly keyType?: string;
  readonly keepZero: boolean;
  readonly inline: boolean;
  readonly patchStrategy?: string;
  readonly patchMergeKey?: string;
  readonly listType?: string;
  readonly listMapKeys?: readonly string[];
  readonly comments: readonly string[];
}

export interface KindMarker {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly plural: string;
  readonly singular: string;
  readonly namespaced: boolean;
  readonly shortNames: readonly string[];
  readonly categories: readonly string[];
  readonly subresources: readonly string[];
  readonly listMessage: string;
}

export interface Message {
  readonly fq: string;
  readonly name: string;
  readonly pkg: string;
  readonly module: string;
  readonly fields: readonly Field[];
  readonly special?: Special;
  readonly comments: readonly string[];
  readonly kind?: KindMarker;
  /** apiVersions under which this message is a body kind (`+tug:body`). */
  readonly bodyApiVersions?: readonly string[];
  /** True for kinds, their lists and bodies: the interface gets apiVersion/kind. */
  readonly topLevel: boolean;
}

export interface Model {
  readonly messages: ReadonlyMap<string, Message>;
  /** module name -> messages in file order. */
  readonly modules: ReadonlyMap<string, readonly Message[]>;
}

/** "k8s.io.api.apps.v1" -> "apps_v1"; meta.v1 -> "meta_v1"; runtime -> "runtime"; intstr -> "intstr". */
export function moduleName(pkg: string): string {
  let m: RegExpExecArray | null;
  if ((m = /^k8s\.io\.api\.([\w.]+)$/.exec(pkg))) return m[1]!.replace(/\./g, "_");
  if ((m = /^k8s\.io\.apimachinery\.pkg\.apis\.([\w.]+)$/.exec(pkg))) return m[1]!.replace(/\./g, "_");
  if (pkg === "k8s.io.apimachinery.pkg.runtime.schema") return "runtime_schema";
  if ((m = /^k8s\.io\.apiextensions_apiserver\.pkg\.apis\.([\w.]+)$/.exec(pkg))) return m[1]!.replace(/\./g, "_");
  if ((m = /^k8s\.io\.apimachinery\.pkg\.(?:\w+\.)*(\w+)$/.exec(pkg))) return m[1]!;
  return pkg.replace(/\./g, "_");
}

/**
 * The description of a message or field: its doc comment lines (markers already removed by the
 * parser) as prose. Lines of a paragraph are joined with one space; an empty `//` line starts a new
 * paragraph ("\n\n"). Undefined when there is no text.
 */
export function describe(lines: readonly string[]): string | undefined {
  const paras: string[] = [];
  let cur: string[] = [];
  for (const l of lines) {
    const t = l.trim();
    if (t === "") {
      if (cur.length > 0) paras.push(cur.join(" "));
      cur = [];
    } else {
      cur.push(t);
    }
  }
  if (cur.length > 0) paras.push(cur.join(" "));
  return paras.length > 0 ? paras.join("\n\n") : undefined;
}

export class SchemaError extends Error {
  constructor(where: string, message: string) {
    super(`${where}: ${message}`);
    this.name = "SchemaError";
  }
}

const NAME_LIST = /^[a-z0-9][a-z0-9.,-]*$/;

function kindMarker(file: ProtoFile, msg: MessageDecl, text: string, names: ReadonlySet<string>): KindMarker {
  const where = `${file.path}:${msg.line}`;
  const gv = file.markers["groupVersion"]?.[0];
  if (!gv) throw new SchemaError(where, "+tug:kind needs a file-level // +tug:groupVersion=<group/version> marker");
  const slash = gv.indexOf("/");
  const group = slash < 0 ? "" : gv.slice(0, slash);
  const version = slash < 0 ? gv : gv.slice(slash + 1);
  const opts: Record<string, string> = {};
  for (const part of text.split(/\s+/).filter(Boolean)) {
    const eq = part.indexOf("=");
    if (eq < 0) throw new SchemaError(where, `+tug:kind option "${part}" is not key=value`);
    opts[part.slice(0, eq)] = part.slice(eq + 1);
  }
  for (const k of Object.keys(opts)) {
    if (!["plural", "singular", "scope", "shortNames", "categories", "subresources"].includes(k)) {
      throw new SchemaError(where, `unknown +tug:kind option "${k}"`);
    }
  }
  const plural = opts["plural"];
  if (!plural) throw new SchemaError(where, "+tug:kind needs plural=");
  const scope = opts["scope"];
  if (scope !== "Namespaced" && scope !== "Cluster") throw new SchemaError(where, "+tug:kind needs scope=Namespaced|Cluster");
  const list = (k: string): string[] => {
    const v = opts[k];
    if (v === undefined) return [];
    if (!NAME_LIST.test(v)) throw new SchemaError(where, `+tug:kind ${k}=${v} must be a comma list without spaces`);
    return v.split(",");
  };
  const listMessage = `${msg.name}List`;
  if (!names.has(listMessage)) throw new SchemaError(where, `kind ${msg.name} has no ${listMessage} message in the same file`);
  return {
    group, version, kind: msg.name, plural, singular: opts["singular"] ?? msg.name.toLowerCase(),
    namespaced: scope === "Namespaced",
    shortNames: list("shortNames"), categories: list("categories"), subresources: list("subresources"),
    listMessage: `${file.package}.${listMessage}`,
  };
}

function bodyApiVersions(file: ProtoFile, msg: MessageDecl, text: string): string[] {
  const where = `${file.path}:${msg.line}`;
  const m = /^apiVersions=(\S+)$/.exec(text.trim());
  if (m) return m[1]!.split(",");
  if (text.trim() !== "") throw new SchemaError(where, `bad +tug:body options "${text}"`);
  const gv = file.markers["groupVersion"]?.[0];
  if (!gv) throw new SchemaError(where, "+tug:body without apiVersions= needs a file-level groupVersion marker");
  return [gv];
}

/** Proto scoping: try the name inside the current package, then each enclosing one. */
function resolveType(name: string, pkg: string, all: ReadonlyMap<string, unknown>): string | undefined {
  if (name.startsWith(".")) return all.has(name.slice(1)) ? name.slice(1) : undefined;
  const parts = pkg.split(".");
  for (let i = parts.length; i >= 0; i--) {
    const cand = [...parts.slice(0, i), name].join(".");
    if (all.has(cand)) return cand;
  }
  return undefined;
}

export function buildModel(files: readonly ProtoFile[]): Model {
  const declared = new Map<string, { file: ProtoFile; msg: MessageDecl }>();
  const byPath = new Map<string, ProtoFile>();
  for (const file of files) {
    byPath.set(file.path, file);
    for (const msg of file.messages) {
      const fq = `${file.package}.${msg.name}`;
      const prev = declared.get(fq);
      if (prev) throw new SchemaError(`${file.path}:${msg.line}`, `message ${fq} already declared in ${prev.file.path}:${prev.msg.line}`);
      declared.set(fq, { file, msg });
    }
  }
  for (const file of files) {
    for (const imp of file.imports) {
      if (!byPath.has(imp)) throw new SchemaError(file.path, `import "${imp}" not found under proto/`);
    }
  }
  const messages = new Map<string, Message>();
  const modules = new Map<string, Message[]>();
  const listOf = new Set<string>();
  const kindsPending: Array<{ fq: string; marker: KindMarker }> = [];

  for (const file of files) {
    const names = new Set(file.messages.map((m) => m.name));
    const visible = new Set([file.path, ...file.imports]);
    for (const msg of file.messages) {
      const fq = `${file.package}.${msg.name}`;
      const where = (line: number): string => `${file.path}:${line}`;
      const numbers = new Set<number>();
      const jsonNames = new Set<string>();
      const fields: Field[] = [];
      for (const f of msg.fields) {
        fields.push(resolveField(f, file, fq, visible, declared, where(f.line), numbers, jsonNames));
      }
      const kindText = msg.markers["kind"]?.[0];
      const bodyText = msg.markers["body"]?.[0];
      const kind = kindText !== undefined ? kindMarker(file, msg, kindText, names) : undefined;
      if (kind) {
        listOf.add(kind.listMessage);
        kindsPending.push({ fq, marker: kind });
      }
      const body = bodyText !== undefined ? bodyApiVersions(file, msg, bodyText) : undefined;
      const special = SPECIAL[fq];
      const m: Message = {
        fq, name: msg.name, pkg: file.package, module: moduleName(file.package), fields,
        ...(special ? { special } : {}), comments: msg.comments,
        ...(kind ? { kind } : {}), ...(body ? { bodyApiVersions: body } : {}),
        topLevel: kind !== undefined || body !== undefined,
      };
      messages.set(fq, m);
      const list = modules.get(m.module) ?? [];
      list.push(m);
      modules.set(m.module, list);
    }
  }
  for (const fq of listOf) {
    const m = messages.get(fq);
    if (m) messages.set(fq, { ...m, topLevel: true });
  }
  for (const [mod, list] of modules) modules.set(mod, list.map((m) => messages.get(m.fq)!));
  return { messages, modules };
}

function resolveField(
  f: FieldDecl, file: ProtoFile, fq: string, visible: ReadonlySet<string>,
  declared: ReadonlyMap<string, { file: ProtoFile; msg: MessageDecl }>, where: string,
  numbers: Set<number>, jsonNames: Set<string>,
): Field {
  if (numbers.has(f.number)) throw new SchemaError(where, `field number ${f.number} used twice in ${fq}`);
  numbers.add(f.number);
  const known = new Set(["keepZero", "inline", "json", "patchStrategy", "patchMergeKey", "listType", "listMapKey"]);
  for (const k of Object.keys(f.markers)) {
    if (!known.has(k)) throw new SchemaError(where, `unknown field marker +tug:${k}`);
  }
  const json = f.markers["json"]?.[0] ?? f.name;
  const inline = f.markers["inline"] !== undefined;
  if (!inline) {
    if (jsonNames.has(json)) throw new SchemaError(where, `JSON name "${json}" used twice in ${fq}`);
    jsonNames.add(json);
  }
  let kind = f.type;
  let ref: string | undefined;
  if (!SCALARS.has(f.type)) {
    ref = resolveType(f.type, file.package, declared);
    if (!ref) {
      if (/^(u?int|s?fixed|sint)(32|64)$/.test(f.type)) throw new SchemaError(where, `scalar type ${f.type} is not supported`);
      throw new SchemaError(where, `unknown type ${f.type}`);
    }
    const target = declared.get(ref)!;
    if (!visible.has(target.file.path)) {
      throw new SchemaError(where, `type ${ref} is declared in ${target.file.path}, which this file does not import`);
    }
    kind = "message";
  }
  if (f.keyType !== undefined && f.keyType !== "string") throw new SchemaError(where, `map keys must be strings, got ${f.keyType}`);
  if (inline && (kind !== "message" || f.label !== "optional")) throw new SchemaError(where, "+tug:inline applies to optional message fields");
  const keepZero = f.markers["keepZero"] !== undefined;
  const one = (k: string): string | undefined => f.markers[k]?.[0];
  const listType = one("listType");
  if (listType !== undefined && !["map", "set", "atomic"].includes(listType)) throw new SchemaError(where, `bad listType ${listType}`);
  const patchStrategy = one("patchStrategy");
  const patchMergeKey = one("patchMergeKey");
  const listMapKeys = f.markers["listMapKey"];
  return {
    name: f.name, json, number: f.number, repeated: f.label === "repeated", map: f.label === "map",
    kind, ...(ref ? { ref } : {}), ...(f.keyType ? { keyType: f.keyType } : {}),
    keepZero, inline,
    ...(patchStrategy ? { patchStrategy } : {}), ...(patchMergeKey ? { patchMergeKey } : {}),
    ...(listType ? { listType } : {}), ...(listMapKeys ? { listMapKeys } : {}),
    comments: f.comments,
  };
}
