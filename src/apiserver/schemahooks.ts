/**
 * Schema-driven hooks from the generated schema table (src/api/codec): the strict unknown-field
 * walker and strategic-merge metadata (patchStrategy/patchMergeKey markers).
 */
import { jsonFields, messageForKind, unknownFields } from "../api/codec/mod.ts";
import { findTypeError } from "../api/codec/typecheck.ts";
import type { MergeKeyLookup } from "./patch/strategic.ts";
import type { SchemaHooks } from "./ports.ts";

/** The SMP lookup for a kind: dotted field path -> merge info of that list field. */
export function mergeKeysFor(apiVersion: string, kind: string): MergeKeyLookup | undefined {
  const root = messageForKind(apiVersion, kind);
  if (!root) return undefined;
  const memo = new Map<string, ReturnType<MergeKeyLookup>>();
  return (path) => {
    if (memo.has(path)) return memo.get(path);
    let msg: string | undefined = root;
    let out: ReturnType<MergeKeyLookup>;
    const segs = path.split(".");
    for (let i = 0; i < segs.length && msg; i++) {
      const f = jsonFields(msg).get(segs[i] as string);
      if (!f) {
        msg = undefined;
        break;
      }
      if (i === segs.length - 1) {
        if (f.repeated && !f.map) {
          const merge = (f.patchStrategy ?? "").split(",").includes("merge");
          out = { merge, ...(f.patchMergeKey ? { mergeKey: f.patchMergeKey } : {}) };
        }
      } else msg = f.type;
    }
    memo.set(path, out);
    return out;
  };
}

export const generatedSchemaHooks: SchemaHooks = {
  unknownFields: (apiVersion, kind, obj) => unknownFields(apiVersion, kind, obj),
  mergeKeys: mergeKeysFor,
  typeError(apiVersion, kind, obj) {
    const fq = messageForKind(apiVersion, kind);
    return fq ? findTypeError(fq, obj) : undefined;
  },
};
