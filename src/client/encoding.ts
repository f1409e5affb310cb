/**
 * Wire encoding for the client: which Content-Type/Accept a client sends, how request bodies are
 * encoded and how response bodies are decoded (by the response's Content-Type, whatever was asked).
 * Pure functions; no I/O.
 */
import { decodeObject, encodeObject, hasProto, PROTOBUF_CONTENT_TYPE } from "../api/codec/wire.ts";
import { ApiError, type Status, type StatusReason } from "../api/errors.ts";
import type { KubeObject } from "../api/object.ts";

/** `protobuf` (default): Kubernetes protobuf where the kind has a message, JSON otherwise. */
export type Encoding = "protobuf" | "json";

export const JSON_CONTENT_TYPE = "application/json";
export { PROTOBUF_CONTENT_TYPE };

const PROTOBUF_ACCEPT = `${PROTOBUF_CONTENT_TYPE}, ${JSON_CONTENT_TYPE}`;

/** Accept header per encoding. Protobuf clients also accept JSON (kinds without a message, errors). */
export function acceptFor(encoding: Encoding): string {
  return encoding === "protobuf" ? PROTOBUF_ACCEPT : JSON_CONTENT_TYPE;
}

/** Throws `TypeError` for anything but "protobuf" or "json" (config typos fail loudly). */
export function parseEncoding(v: string): Encoding {
  if (v === "protobuf" || v === "json") return v;
  throw new TypeError(`unknown encoding "${v}": expected "protobuf" or "json"`);
}

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Encodes a request body. Protobuf is used only when asked and the object's apiVersion/kind has a
 * message (custom kinds fall back to JSON, as client-go does). Throws `ApiError` 400 when the
 * object cannot be encoded as protobuf (e.g. a field of the wrong type).
 */
export function encodeBody(obj: KubeObject, encoding: Encoding): { bytes: Uint8Array; contentType: string } {
  if (encoding === "protobuf" && typeof obj.apiVersion === "string" && typeof obj.kind === "string" && hasProto(obj.apiVersion, obj.kind)) {
    return { bytes: encodeObject(obj), contentType: PROTOBUF_CONTENT_TYPE };
  }
  return { bytes: utf8.encode(JSON.stringify(obj)), contentType: JSON_CONTENT_TYPE };
}

/** The media type without parameters, lower-cased: "application/json; charset=utf-8" -> "application/json". */
export function mediaType(contentType: string | undefined): string {
  if (contentType === undefined) return "";
  let m = mediaTypes.get(contentType);
  if (m === undefined) {
    m = contentType.split(";", 1)[0]!.trim().toLowerCase();
    if (mediaTypes.size >= 64) mediaTypes.clear(); // a server sends a handful of distinct values
    mediaTypes.set(contentType, m);
  }
  return m;
}

/** Content-Type header value -> media type, memoized (every response is looked up). */
const mediaTypes = new Map<string, string>();

/** Thrown when a response body cannot be decoded: the server sent something this client cannot read. */
export class DecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DecodeError";
  }
}

/**
 * Decodes a response body by its Content-Type: Kubernetes protobuf via the codec, JSON (and
 * `+json` types) via JSON.parse. Throws `DecodeError` for other media types or malformed bytes.
 */
export function decodeBody(bytes: Uint8Array, contentType: string | undefined): unknown {
  const mt = mediaType(contentType);
  if (mt === PROTOBUF_CONTENT_TYPE) {
    try {
      return decodeObject(bytes);
    } catch (e) {
      throw new DecodeError(`cannot decode protobuf response: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  if (mt === JSON_CONTENT_TYPE || mt.endsWith("+json") || (mt === "" && bytes.length > 0 && (bytes[0] === 0x7b || bytes[0] === 0x5b))) {
    try {
      return JSON.parse(utf8Decoder.decode(bytes)) as unknown;
    } catch (e) {
      throw new DecodeError(`cannot decode JSON response: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  throw new DecodeError(`cannot decode a response of type "${contentType ?? ""}"`);
}

/** Decodes a body that must be an object (not an array or scalar). Throws `DecodeError` otherwise. */
export function decodeObjectBody(bytes: Uint8Array, contentType: string | undefined): KubeObject {
  const v = decodeBody(bytes, contentType);
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new DecodeError("response body is not an object");
  return v as KubeObject; // narrowed just above: a plain object
}

const REASON_BY_CODE: Record<number, StatusReason> = {
  400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 405: "MethodNotAllowed",
  406: "NotAcceptable", 409: "Conflict", 410: "Expired", 413: "RequestEntityTooLarge",
  415: "UnsupportedMediaType", 422: "Invalid", 429: "TooManyRequests", 500: "InternalError",
  503: "ServiceUnavailable", 504: "Timeout",
};

function isStatus(v: unknown): v is Status {
  return typeof v === "object" && v !== null && (v as { kind?: unknown }).kind === "Status";
}

/** Builds an `ApiError` carrying a Status (the server's own, when it sent one). */
export function apiErrorFromStatus(status: Status, httpStatus?: number): ApiError {
  const code = typeof status.code === "number" && status.code > 0 ? status.code : (httpStatus ?? 500);
  const reason = status.reason ?? REASON_BY_CODE[code] ?? "InternalError";
  const err = new ApiError(code, reason, status.message ?? `the server responded with status ${code}`, status.details);
  if (status.metadata && Object.keys(status.metadata).length > 0) err.status.metadata = { ...status.metadata };
  return err;
}

/**
 * The error for a non-2xx response: the server's Status when the body decodes to one, else a
 * synthesized Status whose message quotes (a bounded prefix of) the body, as client-go does.
 */
export function errorFromResponse(httpStatus: number, contentType: string | undefined, body: Uint8Array): ApiError {
  try {
    const v = decodeBody(body, contentType);
    if (isStatus(v)) return apiErrorFromStatus(v, httpStatus);
  } catch {
    // not a Status: describe the raw body below
  }
  const text = new TextDecoder().decode(body.subarray(0, 512)).trim();
  const reason = REASON_BY_CODE[httpStatus] ?? (httpStatus >= 500 ? "InternalError" : "BadRequest");
  return new ApiError(httpStatus, reason,
    `the server responded with status ${httpStatus}${text ? `: ${text}` : " and an empty body"}`);
}
