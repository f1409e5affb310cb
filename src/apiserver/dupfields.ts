/**
 * Finds duplicate object members in JSON text (pure). `JSON.parse` silently keeps the last one;
 * upstream's strict decoder reports them as `duplicate field "<path>"`. Input must already be
 * valid JSON (call after JSON.parse succeeded). Paths are dotted, list items as `[i]`.
 */
export function duplicateFields(text: string, limit = 100): string[] {
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
