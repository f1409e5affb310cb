/**
 * Key selectors normalized to a half-open interval, with the validation rules every backend shares.
 */
import { type KeySelector, StoreError } from "../types.ts";

/** A validated selector: one key (`end` === null), or `[start, end)` (`end` undefined: unbounded). */
export interface KeyInterval {
  readonly start: string;
  readonly end: string | undefined | null;
}

/**
 * The smallest string greater than every string with this prefix, or undefined when none exists
 * (empty prefix, or one made only of U+FFFF code units). Same rule as etcd's prefix end.
 */
export function prefixEnd(prefix: string): string | undefined {
  let i = prefix.length - 1;
  while (i >= 0 && prefix.charCodeAt(i) === 0xffff) i--;
  if (i < 0) return undefined;
  return prefix.slice(0, i) + String.fromCharCode(prefix.charCodeAt(i) + 1);
}

/**
 * Checks and normalizes a selector.
 * @throws StoreError("InvalidArgument") when `prefix` and `end` are both given, or when a single
 *   key or a `[key, end)` range has an empty key. An empty key with `prefix: true` selects all keys.
 *   A range whose `end` <= `key` is valid and selects nothing (as in etcd).
 */
export function toInterval(sel: KeySelector): KeyInterval {
  if (typeof sel.key !== "string") throw new StoreError("InvalidArgument", "key must be a string");
  if (sel.prefix === true) {
    if (sel.end !== undefined) throw new StoreError("InvalidArgument", "prefix and end are mutually exclusive");
    return { start: sel.key, end: prefixEnd(sel.key) };
  }
  if (sel.key === "") throw new StoreError("InvalidArgument", "key is not provided");
  if (sel.end !== undefined) {
    if (typeof sel.end !== "string") throw new StoreError("InvalidArgument", "end must be a string");
    return { start: sel.key, end: sel.end };
  }
  return { start: sel.key, end: null };
}

/** True when `key` lies in the interval. */
export function intervalHas(iv: KeyInterval, key: string): boolean {
  if (iv.end === null) return key === iv.start;
  return key >= iv.start && (iv.end === undefined || key < iv.end);
}

/** True when two intervals share a key. */
export function intervalsOverlap(a: KeyInterval, b: KeyInterval): boolean {
  if (a.end === null) return intervalHas(b, a.start);
  if (b.end === null) return intervalHas(a, b.start);
  const aBeforeB = a.end !== undefined && a.end <= b.start;
  const bBeforeA = b.end !== undefined && b.end <= a.start;
  return !aBeforeB && !bBeforeA && (a.end === undefined || a.start < a.end) && (b.end === undefined || b.start < b.end);
}
