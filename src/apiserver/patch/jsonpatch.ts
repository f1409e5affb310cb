/**
 * JSON Patch (RFC 6902) over plain JSON values (pure). `applyJsonPatch(doc, ops)` returns a new
 * document and never mutates `doc`. Errors are `PatchError` with upstream-like messages; the
 * apiserver maps a malformed patch document to 400 and a failing operation (missing path, failed
 * `test`) to 422, as kube-apiserver does.
 */

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** `kind`: "malformed" (the patch document itself is bad) or "failed" (an op could not apply). */
export class PatchError extends Error {
  constructor(readonly kind: "malformed" | "failed", message: string) {
    super(message);
    this.name = "PatchError";
  }
}

export interface JsonPatchOp {
  readonly op: "add" | "remove" | "replace" | "move" | "copy" | "test";
  readonly path: string;
  readonly from?: string;
  readonly value?: Json;
}

const MAX_OPS = 10_000;

function isObject(v: unknown): v is { [k: string]: Json } {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Validates and normalises a parsed patch document. */
export function parseJsonPatch(doc: unknown): JsonPatchOp[] {
  if (!Array.isArray(doc)) throw new PatchError("malformed", "json: cannot unmarshal object into Go value of type jsonpatch.Patch");
  if (doc.length > MAX_OPS) throw new PatchError("malformed", `the allowed maximum operations in a JSON patch is ${MAX_OPS}, got ${doc.length}`);
  return doc.map((raw: unknown, i): JsonPatchOp => {
    if (!isObject(raw)) throw new PatchError("malformed", `invalid JSON patch operation at index ${i}`);
    const op = raw["op"];
    const path = raw["path"];
    // An unknown or missing op is upstream's failure at apply time (422), not a decoding error.
    if (typeof op !== "string" || !["add", "remove", "replace", "move", "copy", "test"].includes(op)) {
      throw new PatchError("failed", `Unexpected kind: ${typeof op === "string" ? op : "unknown"}`);
    }
    if (typeof path !== "string") throw new PatchError("malformed", `operation ${op} at index ${i}: missing "path"`);
    const out: { op: JsonPatchOp["op"]; path: string; from?: string; value?: Json } = { op: op as JsonPatchOp["op"], path };
    if (op === "move" || op === "copy") {
      const from = raw["from"];
      if (typeof from !== "string") throw new PatchError("malformed", `operation ${op} at index ${i}: missing "from"`);
      out.from = from;
    }
    if (op === "add" || op === "replace" || op === "test") {
      if (!("value" in raw)) throw new PatchError("malformed", `operation ${op} at index ${i}: missing "value"`);
      out.value = raw["value"] as Json;
    }
    return out;
  });
}

/** RFC 6901 pointer -> reference tokens. */
export function parsePointer(pointer: string): string[] {
  if (pointer === "") return [];
  if (!pointer.startsWith("/")) throw new PatchError("malformed", `JSON pointer must be empty or start with a "/": ${JSON.stringify(pointer)}`);
  return pointer.slice(1).split("/").map((t) => {
    if (/~[^01]|~$/.test(t)) throw new PatchError("malformed", `invalid JSON pointer escape in ${JSON.stringify(pointer)}`);
    return t.replace(/~1/g, "/").replace(/~0/g, "~");
  });
}

function clone<T extends Json>(v: T): T {
  return structuredClone(v);
}

function arrayIndex(tok: string, len: number, forAdd: boolean, path: string): number {
  if (forAdd && tok === "-") return len;
  if (!/^(0|[1-9][0-9]*)$/.test(tok)) throw new PatchError("failed", `invalid array index ${JSON.stringify(tok)} in path ${JSON.stringify(path)}`);
  const i = Number(tok);
  if (i > len || (!forAdd && i === len)) throw new PatchError("failed", `Unable to access invalid index: ${i}`);
  return i;
}

/** Resolves the parent container of a pointer; returns [parent, lastToken]. */
function parentOf(doc: Json, tokens: string[], path: string): [Json[] | { [k: string]: Json }, string] {
  let cur: Json = doc;
  for (let i = 0; i < tokens.length - 1; i++) {
    const t = tokens[i] as string;
    if (Array.isArray(cur)) {
      cur = cur[arrayIndex(t, cur.length, false, path)] as Json;
    } else if (isObject(cur)) {
      if (!(t in cur)) throw new PatchError("failed", `doc is missing path: ${path}`);
      cur = cur[t] as Json;
    } else {
      throw new PatchError("failed", `doc is missing path: ${path}`);
    }
  }
  if (!Array.isArray(cur) && !isObject(cur)) throw new PatchError("failed", `doc is missing path: ${path}`);
  return [cur, tokens[tokens.length - 1] as string];
}

function get(doc: Json, path: string): Json {
  let cur: Json = doc;
  for (const t of parsePointer(path)) {
    if (Array.isArray(cur)) cur = cur[arrayIndex(t, cur.length, false, path)] as Json;
    else if (isObject(cur) && t in cur) cur = cur[t] as Json;
    else throw new PatchError("failed", `doc is missing path: ${path}`);
  }
  return cur;
}

function add(doc: Json, path: string, value: Json): Json {
  const tokens = parsePointer(path);
  if (tokens.length === 0) return value;
  const [parent, last] = parentOf(doc, tokens, path);
  if (Array.isArray(parent)) parent.splice(arrayIndex(last, parent.length, true, path), 0, value);
  else parent[last] = value;
  return doc;
}

function remove(doc: Json, path: string): Json {
  const tokens = parsePointer(path);
  if (tokens.length === 0) throw new PatchError("failed", "unable to remove the whole document");
  const [parent, last] = parentOf(doc, tokens, path);
  if (Array.isArray(parent)) parent.splice(arrayIndex(last, parent.length, false, path), 1);
  else {
    if (!(last in parent)) throw new PatchError("failed", `Unable to remove nonexistent key: ${last}: missing value`);
    delete parent[last];
  }
  return doc;
}

/** Deep equality over JSON values (object key order ignored). */
export function jsonEqual(a: Json, b: Json): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i] as Json));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => k in b && jsonEqual(a[k] as Json, b[k] as Json));
  }
  return false;
}

/** Applies the ops in order to a copy of `doc`. Throws PatchError. */
export function applyJsonPatch(doc: Json, ops: readonly JsonPatchOp[]): Json {
  let cur = clone(doc);
  for (const op of ops) {
    switch (op.op) {
      case "add":
        cur = add(cur, op.path, clone(op.value as Json));
        break;
      case "remove":
        cur = remove(cur, op.path);
        break;
      case "replace": {
        get(cur, op.path); // must exist
        const tokens = parsePointer(op.path);
        if (tokens.length === 0) {
          cur = clone(op.value as Json);
          break;
        }
        const [parent, last] = parentOf(cur, tokens, op.path);
        if (Array.isArray(parent)) parent[arrayIndex(last, parent.length, false, op.path)] = clone(op.value as Json);
        else parent[last] = clone(op.value as Json);
        break;
      }
      case "move": {
        const from = op.from as string;
        if (op.path !== from && op.path.startsWith(from + "/")) {
          throw new PatchError("failed", `Unable to move a value into one of its children: from ${from} to ${op.path}`);
        }
        const v = get(cur, from);
        cur = remove(cur, from);
        cur = add(cur, op.path, v);
        break;
      }
      case "copy":
        cur = add(cur, op.path, clone(get(cur, op.from as string)));
        break;
      case "test": {
        let v: Json;
        try {
          v = get(cur, op.path);
        } catch {
          throw new PatchError("failed", `testing value ${op.path} failed: test failed`);
        }
        if (!jsonEqual(v, op.value as Json)) throw new PatchError("failed", `testing value ${op.path} failed: test failed`);
        break;
      }
    }
  }
  return cur;
}
