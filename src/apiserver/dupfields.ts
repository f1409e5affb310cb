/**
 * Finds duplicate object members in JSON text (pure). `JSON.parse` silently keeps the last one;
 * upstream's strict decoder reports them as `duplicate field "<path>"`. Input must already be
 * valid JSON (call after JSON.parse succeeded). Paths are dotted, list items as `[i]`.
 */
export function duplicateFields(text: string, limit = 100, parsed?: unknown): string[] {
  // With the parsed value at hand, a text with as many members as the value has no duplicates
  // (JSON.parse keeps one member per name): two counting passes instead of the path walk below.
  if (parsed !== undefined && memberCount(text) === keyCount(parsed, 0)) return [];
  const out: string[] = [];
  let i = 0;
  const ws = (): void => {
    while (i < text.length && (text[i] === " " || text[i] === "\n" || text[i] === "\r" || text[i] === "\t")) i++;
  };
  const str = (): string => {
    const start = i;
    i++; // opening quote
    while (i < text.length && text[i] !== "\"") i += text[i] === "\\" ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const join = (path: string, k: string): string => (path === "" ? k : `${path}.${k}`);
  // Recursive: callers bound the nesting first (body.ts `checkDepth`), so depth stays small.
  const value = (path: string): void => {
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      const seen = new Set<string>();
      ws();
      if (text[i] === "}") {
        i++;
        return;
      }
      for (;;) {
        ws();
        const k = str();
        if (seen.has(k)) {
          if (out.length < limit) out.push(join(path, k));
        } else seen.add(k);
        ws();
        i++; // colon
        value(join(path, k));
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        i++; // closing brace
        return;
      }
    } else if (c === "[") {
      i++;
      ws();
      if (text[i] === "]") {
        i++;
        return;
      }
      for (let n = 0; ; n++) {
        value(`${path}[${n}]`);
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        i++;
        return;
      }
    } else if (c === "\"") {
      str();
    } else {
      while (i < text.length && !",}] \n\r\t".includes(text[i] as string)) i++;
    }
  };
  value("");
  return out;
}

/** Object members in valid JSON text: the colons outside strings. */
function memberCount(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x3a) n++;
    else if (c === 0x22) {
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) i++;
        else if (d === 0x22) break;
      }
    }
  }
  return n;
}

/** Object members in a parsed JSON value (callers bound its depth first, see body.ts). */
function keyCount(v: unknown, n: number): number {
  if (typeof v !== "object" || v === null) return n;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) n = keyCount(v[i], n);
    return n;
  }
  const o = v as Record<string, unknown>;
  for (const k in o) n = keyCount(o[k], n + 1);
  return n;
}
