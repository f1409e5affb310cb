/**
 * A small parser for the proto2 subset used under proto/: syntax, package, import, option, top-level
 * messages with optional/required/repeated scalar or message fields and map<K,V> fields, `//` and
 * `/* *\/` comments. Comment lines directly above a message or field (no blank line between) are kept:
 * the `+tug:` markers live there. Anything else (nested messages, enums, oneof, groups) is rejected
 * with file:line so a schema author sees the problem at once.
 */

export interface FieldDecl {
  readonly name: string;
  readonly number: number;
  readonly label: "optional" | "required" | "repeated" | "map";
  /** Value type as written (for maps, the value type). */
  readonly type: string;
  /** Map key type (maps only). */
  readonly keyType?: string;
  /** `+tug:` markers: name -> values (a marker may repeat, e.g. listMapKey). Flags have value "". */
  readonly markers: Readonly<Record<string, readonly string[]>>;
  readonly comments: readonly string[];
  readonly line: number;
}

export interface MessageDecl {
  readonly name: string;
  readonly fields: readonly FieldDecl[];
  readonly markers: Readonly<Record<string, readonly string[]>>;
  /** Comment lines above the message that are not markers (our own doc text). */
  readonly comments: readonly string[];
  readonly line: number;
}

export interface ProtoFile {
  /** Path relative to proto/, e.g. "k8s.io/api/core/v1/types.proto". */
  readonly path: string;
  readonly package: string;
  readonly imports: readonly string[];
  /** File-level markers (e.g. groupVersion). */
  readonly markers: Readonly<Record<string, readonly string[]>>;
  readonly messages: readonly MessageDecl[];
}

export class ProtoSyntaxError extends Error {
  constructor(file: string, line: number, message: string) {
    super(`${file}:${line}: ${message}`);
    this.name = "ProtoSyntaxError";
  }
}

/** Splits "+tug:kind plural=x scope=y" / "+tug:keepZero" / "+tug:listMapKey=a" into markers. */
function addMarker(into: Record<string, string[]>, text: string): void {
  const body = text.slice("+tug:".length).trim();
  const sp = body.indexOf(" ");
  const head = sp < 0 ? body : body.slice(0, sp);
  const eq = head.indexOf("=");
  if (eq >= 0) {
    (into[head.slice(0, eq)] ??= []).push(head.slice(eq + 1));
  } else {
    (into[head] ??= []).push(sp < 0 ? "" : body.slice(sp + 1).trim());
  }
}

const FIELD_RE =
  /^(optional|required|repeated)?\s*(map\s*<\s*([\w.]+)\s*,\s*([\w.]+)\s*>|[\w.]+)\s+(\w+)\s*=\s*(\d+)\s*(\[[^\]]*\])?\s*;$/;

export function parseProto(path: string, text: string): ProtoFile {
  // Blank out block comments but keep their newlines so line numbers stay right.
  text = text.replace(/\/\*[\s\S]*?\*\//g, (m) => m.replace(/[^\n]/g, " "));
  const lines = text.split("\n");
  let pkg = "";
  const imports: string[] = [];
  const fileMarkers: Record<string, string[]> = {};
  const messages: MessageDecl[] = [];
  let pending: string[] = [];
  let current: { name: string; fields: FieldDecl[]; markers: Record<string, string[]>; comments: string[]; line: number } | undefined;
  let sawSyntax = false;

  const fail = (line: number, msg: string): never => {
    throw new ProtoSyntaxError(path, line, msg);
  };
  const splitComments = (block: string[]): { markers: Record<string, string[]>; comments: string[] } => {
    const markers: Record<string, string[]> = {};
    const comments: string[] = [];
    for (const c of block) {
      if (c.startsWith("+tug:")) addMarker(markers, c);
      else comments.push(c);
    }
    return { markers, comments };
  };

  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const raw = lines[i]!;
    const trimmed = raw.trim();
    if (trimmed === "") {
      pending = [];
      continue;
    }
    if (trimmed.startsWith("//")) {
      const c = trimmed.replace(/^\/\/\s?/, "").trimEnd();
      pending.push(c);
      if (!current && messages.length === 0 && c.startsWith("+tug:groupVersion")) addMarker(fileMarkers, c);
      continue;
    }
    // Trailing comments on code lines are ignored.
    const code = trimmed.replace(/\s*\/\/.*$/, "");
    if (!current) {
      let m: RegExpExecArray | null;
      if ((m = /^syntax\s*=\s*"(\w+)"\s*;$/.exec(code))) {
        if (m[1] !== "proto2") fail(lineNo, `only proto2 is supported, got ${m[1]}`);
        sawSyntax = true;
      } else if ((m = /^package\s+([\w.]+)\s*;$/.exec(code))) {
        pkg = m[1]!;
      } else if ((m = /^import\s+(?:public\s+|weak\s+)?"([^"]+)"\s*;$/.exec(code))) {
        imports.push(m[1]!);
      } else if (/^option\s+/.test(code)) {
        // ignored
      } else if ((m = /^message\s+(\w+)\s*\{\s*(\}?)$/.exec(code))) {
        const { markers, comments } = splitComments(pending);
        current = { name: m[1]!, fields: [], markers, comments, line: lineNo };
        if (m[2]) {
          messages.push(current);
          current = undefined;
        }
      } else {
        fail(lineNo, `unsupported top-level statement: ${code}`);
      }
      pending = [];
      continue;
    }
    if (code === "}") {
      messages.push(current);
      current = undefined;
      pending = [];
      continue;
    }
    if (/^(reserved|option)\b/.test(code)) {
      pending = [];
      continue;
    }
    if (/^(message|enum|oneof|extend|group)\b/.test(code)) fail(lineNo, `nested ${code.split(/\s/)[0]} is not supported`);
    const f = FIELD_RE.exec(code);
    if (!f) fail(lineNo, `cannot parse field: ${code}`);
    const fm = f!;
    const isMap = fm[3] !== undefined;
    if (isMap && fm[1]) fail(lineNo, "map fields take no label");
    if (!isMap && !fm[1]) fail(lineNo, "proto2 fields need a label (optional, required or repeated)");
    const number = Number(fm[6]);
    if (number < 1 || number > 536870911 || (number >= 19000 && number <= 19999)) fail(lineNo, `invalid field number ${number}`);
    const { markers, comments } = splitComments(pending);
    current.fields.push({
      name: fm[5]!,
      number,
      label: isMap ? "map" : (fm[1] as "optional" | "required" | "repeated"),
      type: isMap ? fm[4]! : fm[2]!,
      ...(isMap ? { keyType: fm[3]! } : {}),
      markers,
      comments,
      line: lineNo,
    });
    pending = [];
  }
  if (current) fail(current.line, `message ${current.name} is not closed`);
  if (!sawSyntax) fail(1, 'missing `syntax = "proto2";`');
  if (!pkg) fail(1, "missing package statement");
  return { path, package: pkg, imports, markers: fileMarkers, messages };
}
