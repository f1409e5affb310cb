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
