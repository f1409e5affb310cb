/**
 * Request bodies: bounded reading, decoding by Content-Type (JSON, YAML, Kubernetes protobuf) and
 * the field-validation policy (`fieldValidation=Strict|Warn|Ignore`) for unknown and duplicate
 * fields. Every failure is an ApiError with upstream's code (400, 413, 415).
 */
import { parse as parseYaml, parseDocument } from "yaml";
import { ApiError, badRequest, tooLarge, unsupportedMediaType } from "../api/errors.ts";
import type { KubeObject } from "../api/object.ts";
import { BodyTooLargeError, type HttpRequest } from "../transport/types.ts";
import { bodyFormat, type BodyFormat } from "./negotiate.ts";
import { duplicateFields } from "./dupfields.ts";
import type { Codec } from "./ports.ts";

/** kube-apiserver's default maximum request body (3 MiB). */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

export async function readBody(req: HttpRequest, limit = MAX_BODY_BYTES): Promise<Uint8Array> {
  try {
    return await req.body(limit);
  } catch (e) {
    if (e instanceof BodyTooLargeError) throw tooLarge(limit);
    // The client reset the stream or closed the connection mid-body (for example its own timeout
    // fired): a client-side failure, answered (to nobody) and counted as a 400, not a server error.
    if (req.signal.aborted) throw badRequest(`the request body was not received in full: the client went away (${e instanceof Error ? e.message : String(e)})`);
    throw e;
  }
}

export type FieldValidation = "Strict" | "Warn" | "Ignore";

export function fieldValidationOf(query: URLSearchParams): FieldValidation {
  const v = query.get("fieldValidation");
  if (v === null || v === "") return "Warn"; // upstream default since 1.27
  if (v === "Strict" || v === "Warn" || v === "Ignore") return v;
  throw badRequest(`fieldValidation must be one of "Ignore", "Warn", or "Strict", got "${v}"`);
}

export function requestFormat(req: HttpRequest): BodyFormat {
  const ct = req.headers["content-type"];
  const f = bodyFormat(ct);
  if (f === undefined) throw unsupportedMediaType(ct ?? "");
  return f;
}

export interface DecodedBody {
  readonly value: unknown;
  /** Duplicate member paths (JSON/YAML only). */
  readonly duplicates: string[];
}

const dec = new TextDecoder("utf-8", { fatal: true });

function text(bytes: Uint8Array): string {
  try {
    return dec.decode(bytes);
  } catch {
    throw badRequest("the request body is not valid UTF-8");
  }
}

function jsonError(e: unknown): ApiError {
  return badRequest(`json: ${(e as Error).message}`);
}

/** Parses JSON text, reporting duplicate members. */
export function parseJson(bytes: Uint8Array): DecodedBody {
  const t = text(bytes);
  let value: unknown;
  try {
    value = JSON.parse(t);
  } catch (e) {
    throw badRequest(`couldn't parse request body: ${jsonError(e).message}`);
  }
  checkDepth(value);
  return { value, duplicates: duplicateFields(t, 100, value) };
}

export function parseYamlBody(bytes: Uint8Array): DecodedBody {
  const t = text(bytes);
  let value: unknown;
  try {
    const doc = parseDocument(t, { uniqueKeys: false });
    if (doc.errors.length > 0) throw doc.errors[0];
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    throw badRequest(`couldn't parse request body: yaml: ${(e as Error).message.split("\n")[0] ?? ""}`);
  }
  checkDepth(value);
  let duplicates: string[] = [];
  try {
    parseYaml(t, { uniqueKeys: true, maxAliasCount: 100 });
  } catch (e) {
    const m = /Map keys must be unique/.exec((e as Error).message);
    if (m) duplicates = ["<yaml>"];
  }
  return { value, duplicates };
}

/**
 * Deepest nesting accepted in a JSON/YAML body. Real objects nest a few dozen levels; the bound keeps
 * every recursive walker after decoding (validation, unknown fields, codecs) far from stack limits.
 */
export const MAX_BODY_DEPTH = 1000;

/** Throws 400 when `value` nests deeper than MAX_BODY_DEPTH (iterative: safe on any input). */
export function checkDepth(value: unknown): void {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== "object" || v === null) continue;
    if (depth > MAX_BODY_DEPTH) {
      throw badRequest(`couldn't parse request body: the body nests deeper than ${MAX_BODY_DEPTH} levels`);
    }
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, depth + 1]);
  }
}

/** Decodes an object body of the given format (json, yaml or protobuf). */
export function decodeObjectBody(bytes: Uint8Array, format: BodyFormat, codec: Codec | undefined): DecodedBody {
  switch (format) {
    case "json":
      return parseJson(bytes);
    case "yaml":
      return parseYamlBody(bytes);
    case "protobuf": {
      if (!codec) throw unsupportedMediaType("application/vnd.kubernetes.protobuf");
      return { value: codec.decodeObject(bytes), duplicates: [] };
    }
    default:
      throw unsupportedMediaType(format);
  }
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Narrows a decoded body to an object or throws 400. */
export function asKubeObject(v: unknown): KubeObject {
  if (!isObject(v)) throw badRequest(`the body of the request must be a JSON or YAML object`);
  const meta = v["metadata"];
  if (meta !== undefined && meta !== null && !isObject(meta)) {
    throw badRequest(`json: cannot unmarshal ${Array.isArray(meta) ? "array" : typeof meta} into Go struct field .metadata of type v1.ObjectMeta`);
  }
  return v as KubeObject;
}

/**
 * Applies the field-validation policy. Strict: throws 400 `strict decoding error: ...`.
 * Warn: returns the warnings (for `Warning: 299 - "..."` headers). Ignore: returns [].
 */
export function checkFields(policy: FieldValidation, unknown: readonly string[], duplicates: readonly string[]): string[] {
  if (policy === "Ignore") return [];
  const msgs = [
    ...unknown.map((f) => `unknown field "${f}"`),
    ...duplicates.map((f) => (f === "<yaml>" ? "duplicate field in YAML document" : `duplicate field "${f}"`)),
  ];
  if (msgs.length === 0) return [];
  if (policy === "Strict") throw badRequest(`strict decoding error: ${msgs.join(", ")}`);
  return msgs;
}

/** Formats warnings as one `Warning` header value (RFC 7234 warn-code 299). */
export function warningHeader(warnings: readonly string[]): string {
  return warnings.map((w) => `299 - ${JSON.stringify(w)}`).join(", ");
}
