/**
 * `$(VAR)` expansion as Kubernetes applies it to container `env` values, `command`, `args` and
 * `subPathExpr`:
 *
 * - `$(NAME)` becomes the value of NAME when the mapping knows it, else stays `$(NAME)` verbatim;
 * - `$$` is an escaped `$` (so `$$(NAME)` yields the literal text `$(NAME)`);
 * - an unterminated `$(` and a `$` followed by anything else are kept as written.
 *
 * Pure; no I/O.
 */

/** Returns the value of a variable, or `undefined` when it is not defined. */
export type VarLookup = (name: string) => string | undefined;

/** A lookup over maps searched in order (the first one defining the name wins). */
export function lookupIn(...maps: ReadonlyArray<ReadonlyMap<string, string>>): VarLookup {
  return (name) => {
    for (const m of maps) {
      const v = m.get(name);
      if (v !== undefined) return v;
    }
    return undefined;
  };
}

/** Expands `$(VAR)` references in `input` (see the module comment for the rules). */
export function expand(input: string, lookup: VarLookup): string {
  let out = "";
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor++) {
    if (input[cursor] !== "$" || cursor + 1 >= input.length) continue;
    out += input.slice(checkpoint, cursor);
    const next = input[cursor + 1];
    let advance = 1;
    if (next === "$") {
      out += "$"; // escaped operator
    } else if (next === "(") {
      const close = input.indexOf(")", cursor + 2);
      if (close < 0) {
        out += "$("; // incomplete reference: kept
      } else {
        const name = input.slice(cursor + 2, close);
        out += lookup(name) ?? `$(${name})`;
        advance = close - cursor;
      }
    } else {
      out += `$${next ?? ""}`;
    }
    cursor += advance;
    checkpoint = cursor + 1;
  }
  return out + input.slice(checkpoint);
}
