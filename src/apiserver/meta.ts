/**
 * Generic object-metadata rules shared by every kind: uid, timestamps, generateName and the
 * name checks upstream applies to every object (path-segment safety, DNS-1123 subdomain).
 */
import { randomInt, randomUUID } from "node:crypto";
import type { FieldError } from "./registry/strategy.ts";

/** RFC 3339 with second precision, as metav1.Time serialises. */
export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, "Z");
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

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_MSG = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

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
 * Generic metadata validation for create: a name (or generateName) is required, and the name must
 * be a DNS-1123 subdomain of at most 253 characters. Kinds with stricter rules add their own.
 */
export function validateObjectMetaName(name: string | undefined, generate: string | undefined): FieldError[] {
  if (!name) {
    if (generate) return [];
    return [{ type: "FieldValueRequired", field: "metadata.name", message: "Required value: name or generateName is required" }];
  }
  const errs: FieldError[] = [];
  for (const m of pathSegmentErrors(name)) errs.push({ type: "FieldValueInvalid", field: "metadata.name", message: `Invalid value: ${goQuote(name)}: ${m}` });
  if (name.length > 253) errs.push({ type: "FieldValueInvalid", field: "metadata.name", message: `Invalid value: ${goQuote(name)}: must be no more than 253 characters` });
  else if (!DNS1123_SUBDOMAIN.test(name)) errs.push({ type: "FieldValueInvalid", field: "metadata.name", message: `Invalid value: ${goQuote(name)}: ${DNS1123_MSG}` });
  return errs;
}
