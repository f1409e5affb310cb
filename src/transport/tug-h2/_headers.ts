/**
 * HTTP/2 request and response header blocks for the tug-h2 adapter (pure).
 *
 * `parseRequestHead` checks a decoded request header list against RFC 9113 §8.2–8.3 (the
 * session core does not look at field contents) and joins it into the adapter's header record in
 * the same pass. A malformed request is a stream error (RST_STREAM PROTOCOL_ERROR): the caller
 * gets the reason as a string. `responseHead` builds the response list, refusing what HTTP/2
 * cannot carry so the adapter can answer 500 instead.
 */
import { H2_FORBIDDEN } from "../_shared.ts";
import type { HttpResponse } from "../types.ts";

export interface RequestHead {
  readonly method: string;
  /** `:path` as sent (origin-form, or `*`); empty for CONNECT. */
  readonly target: string;
  /** Regular fields, repeated ones joined with ", " (cookie: "; "); `host` from `:authority` when absent. */
  readonly headers: Record<string, string>;
}

/** Lower-case field names (token characters, RFC 9110 §5.6.2, no upper case). */
const LOWER_TOKEN = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;
/** Control characters other than HTAB (NUL, CR and LF among them) and DEL. */
const BAD_VALUE = /[\0-\x08\x0a-\x1f\x7f]/;
/** What a response value may hold: HTAB, visible ASCII, space and obs-text (latin1). */
const GOOD_RESPONSE_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** Names already seen to be valid (requests repeat the same few names). */
const knownNames = new Set<string>();
const KNOWN_NAMES_MAX = 512;

function validName(name: string): boolean {
  if (knownNames.has(name)) return true;
  if (!LOWER_TOKEN.test(name)) return false;
  if (knownNames.size < KNOWN_NAMES_MAX) knownNames.add(name);
  return true;
}

/** Validates and joins a request header list; returns the reason when it is malformed. */
export function parseRequestHead(list: readonly string[]): RequestHead | string {
  let method: string | undefined;
  let scheme: string | undefined;
  let path: string | undefined;
  let authority: string | undefined;
  let regular = false;
  const headers: Record<string, string> = {};
  for (let i = 0; i + 1 < list.length; i += 2) {
    const name = list[i] as string;
    const value = list[i + 1] as string;
    if (BAD_VALUE.test(value)) return `field ${JSON.stringify(name)} has a control character in its value`;
    if (name.charCodeAt(0) === 58 /* : */) {
      if (regular) return `pseudo-header ${name} after a regular field`;
      switch (name) {
        case ":method":
          if (method !== undefined) return "duplicate :method";
          method = value;
          break;
        case ":scheme":
          if (scheme !== undefined) return "duplicate :scheme";
          scheme = value;
          break;
        case ":path":
          if (path !== undefined) return "duplicate :path";
          path = value;
          break;
        case ":authority":
          if (authority !== undefined) return "duplicate :authority";
          authority = value;
          break;
        default:
          return `pseudo-header ${name} is not allowed in a request`;
      }
      continue;
    }
    regular = true;
    if (!validName(name)) return `invalid field name ${JSON.stringify(name)}`;
    if (H2_FORBIDDEN.has(name)) return `connection-specific field ${name}`;
    if (name === "te" && value !== "trailers") return `te may only be "trailers"`;
    const prev = headers[name];
    headers[name] = prev === undefined ? value : `${prev}${name === "cookie" ? "; " : ", "}${value}`;
  }
  if (method === undefined || method === "") return "missing :method";
  if (!LOWER_TOKEN.test(method.toLowerCase())) return "invalid :method";
  if (method === "CONNECT") {
    if (scheme !== undefined || path !== undefined) return "CONNECT with :scheme or :path";
    if (authority === undefined) return "CONNECT without :authority";
  } else {
    if (scheme === undefined || scheme === "") return "missing :scheme";
    if (path === undefined || path === "") return "missing :path";
  }
  if (authority !== undefined && headers["host"] === undefined) headers["host"] = authority;
  return { method, target: path ?? "", headers };
}

/**
 * The response header list (`:status` first, names lower-cased, connection-specific fields
 * dropped, `content-length` added for a fixed body), or undefined when the status or a field
 * cannot be sent.
 */
export function responseHead(res: HttpResponse, noBody: boolean, bodyLength: number | undefined): string[] | undefined {
  const status = res.status;
  if (!Number.isInteger(status) || status < 100 || status > 999) return undefined;
  const list = [":status", String(status)];
  let hasLength = false;
  const src = res.headers;
  if (src !== undefined) {
    for (const k in src) {
      const v = src[k];
      if (typeof v !== "string") return undefined;
      const name = k.toLowerCase();
      if (!validName(name)) return undefined;
      if (H2_FORBIDDEN.has(name)) continue;
      if (!GOOD_RESPONSE_VALUE.test(v)) return undefined;
      if (name === "content-length") hasLength = true;
      list.push(name, v);
    }
  }
  if (bodyLength !== undefined && !noBody && !hasLength) list.push("content-length", String(bodyLength));
  return list;
}
