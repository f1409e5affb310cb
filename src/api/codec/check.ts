/**
 * Shape checks used by generated encoders: JSON-shaped input may not match its declared type, and
 * a mismatch must become a clear 400, not a crash deep inside the writer.
 */
import { EncodeTypeError } from "./writer.ts";

export function obj<T>(v: T): T {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new EncodeTypeError("object", v);
  return v;
}

export function arr<T>(v: T[]): T[] {
  if (!Array.isArray(v)) throw new EncodeTypeError("array", v);
  return v;
}

export function map<T>(v: Record<string, T>): Record<string, T> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new EncodeTypeError("object (map)", v);
  return v;
}

/**
 * The keys of a map in encoding order: what `Object.keys(m).sort()` returns (UTF-16 code unit
 * order), without sorting when they already are in order (maps decoded or built in order, the
 * common case: the default sort costs ~100 ns even for two keys).
 */
export function sortedKeys(m: object): string[] {
  const keys = Object.keys(m);
  for (let i = 1; i < keys.length; i++) if (keys[i - 1]! > keys[i]!) return keys.sort();
  return keys;
}
