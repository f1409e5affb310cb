/**
 * The JSONPath subset CRD printer columns and selectable fields use: `.spec.replicas`,
 * `{.status.conditions[0].type}`, `.spec.items[*].name`, `.metadata.labels['app.kubernetes.io/name']`.
 * `parseJsonPath` throws `JsonPathError` with a reason (used to reject a CRD); `evaluate` never throws.
 */

export type Step = { readonly kind: "field"; readonly name: string } | { readonly kind: "index"; readonly index: number } | { readonly kind: "all" };

export class JsonPathError extends Error {}

export function parseJsonPath(expr: string): Step[] {
  let s = expr.trim();
  if (s.startsWith("{") && s.endsWith("}")) s = s.slice(1, -1).trim();
  if (s.startsWith("$")) s = s.slice(1);
  if (s === "" ) throw new JsonPathError("must not be empty");
  const steps: Step[] = [];
  let i = 0;
  const n = s.length;
  for (let guard = 0; i < n && guard < 10_000; guard++) {
    const c = s[i];
    if (c === ".") {
      i++;
      let j = i;
      while (j < n && s[j] !== "." && s[j] !== "[") j++;
      const name = s.slice(i, j);
      if (name === "") throw new JsonPathError(`unexpected "." at position ${i}`);
      if (!/^[A-Za-z0-9_\-$@/]+$/.test(name)) throw new JsonPathError(`invalid field name "${name}"`);
      steps.push({ kind: "field", name });
      i = j;
    } else if (c === "[") {
      const close = s.indexOf("]", i);
      if (close < 0) throw new JsonPathError("unterminated [");
      const inner = s.slice(i + 1, close).trim();
      if (inner === "*") steps.push({ kind: "all" });
      else if (/^-?\d+$/.test(inner)) steps.push({ kind: "index", index: Number(inner) });
      else if (/^'[^']*'$/.test(inner) || /^"[^"]*"$/.test(inner)) steps.push({ kind: "field", name: inner.slice(1, -1) });
      else throw new JsonPathError(`unsupported subscript [${inner}]`);
      i = close + 1;
    } else {
      throw new JsonPathError(`unexpected ${JSON.stringify(c)} at position ${i}`);
    }
  }
  return steps;
}

/** Every value the path reaches in `obj` (missing steps yield nothing). */
export function evaluate(steps: readonly Step[], obj: unknown): unknown[] {
  let cur: unknown[] = [obj];
  for (const st of steps) {
    const next: unknown[] = [];
    for (const v of cur) {
      if (st.kind === "field") {
        if (typeof v === "object" && v !== null && !Array.isArray(v)) {
          const x = (v as Record<string, unknown>)[st.name];
          if (x !== undefined) next.push(x);
        }
      } else if (Array.isArray(v)) {
        if (st.kind === "all") next.push(...v);
        else {
          const idx = st.index < 0 ? v.length + st.index : st.index;
          if (idx >= 0 && idx < v.length) next.push(v[idx]);
        }
      }
    }
    cur = next;
    if (cur.length === 0) break;
  }
  return cur;
}

/** Whether a path only walks fields (scale subresource paths, selectable fields). */
export function isSimpleFieldPath(steps: readonly Step[]): boolean {
  return steps.every((s) => s.kind === "field");
}
