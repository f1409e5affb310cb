/**
 * Generic object-metadata rules shared by every kind: uid, timestamps, generateName and the
 * path-segment check upstream applies to every object name.
 */
import { randomInt, randomUUID } from "node:crypto";
import type { FieldError } from "./registry/strategy.ts";

let lastSecond = NaN;
let lastText = "";

/** RFC 3339 with second precision, as metav1.Time serialises. */
export function rfc3339(d: Date): string {
  // Writes stamp "now" many times a second: the text of the last second is kept.
  const s = Math.floor(d.getTime() / 1000);
  if (s === lastSecond) return lastText;
  const text = d.toISOString().replace(/\.\d{3}Z$/, "Z");
  lastSecond = s;
  lastText = text;
  return text;
}

export function newUid(): string {
  return randomUUID();
}

const ALNUM = "bcdfghjklmnpqrstvwxz2456789"; // upstream's utilrand alphabet (no vowels, no 0/1/3)

/** `generateName` + 5 random characters; the base is cut to keep the result <= 63 characters. */
export function generateName(base: string): string {
  const maxBase = 63 - 5;
  const b = base.length > maxBase ? base.slice(0, maxBase) : base;
  let s = "";
  for (let i = 0; i < 5; i++) s += ALNUM[randomInt(ALNUM.length)];
  return b + s;
}

/** Go-style quoting of a string value for messages. */
export function goQuote(s: string): string {
  return JSON.stringify(s);
}

/** Path-segment rule applied to every name (kube's path.IsValidPathSegmentName). */
export function pathSegmentErrors(name: string): string[] {
  if (name === "." || name === "..") return [`may not be '${name}'`];
  for (const bad of ["/", "%"]) if (name.includes(bad)) return [`may not contain '${bad}'`];
  return [];
}

/**
 * The name rule the REST layer applies to every kind: a name must be usable as a URL path segment.
 * Presence and format (DNS-1123 subdomain, label, …) are the kind's own rules, checked by its
 * strategy's validation, so they are not repeated here (that would report one problem twice).
 */
export function validateObjectMetaName(name: string | undefined): FieldError[] {
  if (!name) return [];
  return pathSegmentErrors(name).map((m) => ({
    type: "FieldValueInvalid", field: "metadata.name", message: `Invalid value: ${goQuote(name)}: ${m}`,
  }));
}
