/**
 * The pod-template-hash: FNV-32a over a canonical printed form of the pod template (then the
 * collision count as 4 little-endian bytes when set), the 32-bit sum printed in decimal and
 * "safe-encoded" into the consonant/digit alphabet upstream uses for generated names.
 *
 * Upstream prints the Go struct with spew, which we cannot reproduce; we print canonical JSON
 * (sorted keys, empty maps/lists and nulls dropped, as Semantic.DeepEqual treats them as absent).
 * The values therefore differ from upstream's, but they are stable, deterministic and change
 * with `collisionCount` exactly as upstream's do.
 */
import type { PodTemplateSpec } from "../../api/generated/core_v1.ts";

export const POD_TEMPLATE_HASH_LABEL = "pod-template-hash";

const SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

/** Maps every character of `s` into the alphabet without vowels or look-alike digits. */
export function safeEncodeString(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) out += SAFE_ALPHABET[s.charCodeAt(i) % SAFE_ALPHABET.length];
  return out;
}

/** FNV-1a, 32 bit. */
export function fnv32a(bytes: Uint8Array, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

function isEmpty(v: unknown): boolean {
  if (v === null || v === undefined) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === "object") return Object.keys(v).length === 0;
  return false;
}

/** JSON with sorted keys; nulls, empty objects and empty arrays inside objects are dropped. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    const parts: string[] = [];
    for (const k of Object.keys(o).sort()) {
      const x = o[k];
      if (isEmpty(x)) continue;
      const inner = canonicalJson(x);
      if (inner === "{}" || inner === "[]") continue;
      parts.push(`${JSON.stringify(k)}:${inner}`);
    }
    return `{${parts.join(",")}}`;
  }
  return JSON.stringify(v) ?? "null";
}

const utf8 = new TextEncoder();

/** The pod-template-hash of a template for a collision count (undefined = never collided). */
export function computeHash(template: PodTemplateSpec | undefined, collisionCount: number | undefined): string {
  let h = fnv32a(utf8.encode(canonicalJson(template ?? {})));
  if (collisionCount !== undefined) {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, collisionCount >>> 0, true);
    h = fnv32a(b, h);
  }
  return safeEncodeString(String(h));
}

/** Templates equal once the pod-template-hash label is ignored (upstream EqualIgnoreHash). */
export function equalIgnoreHash(a: PodTemplateSpec | undefined, b: PodTemplateSpec | undefined): boolean {
  const strip = (t: PodTemplateSpec | undefined): string => {
    const c = structuredClone(t ?? {});
    if (c.metadata?.labels) delete c.metadata.labels[POD_TEMPLATE_HASH_LABEL];
    return canonicalJson(c);
  };
  return strip(a) === strip(b);
}
