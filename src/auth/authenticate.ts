/**
 * Request authentication: x509 client certificates (CN = user, O = groups) and bearer tokens
 * from a static token map. Pure: takes the request's headers and peer certificate.
 * Authenticated users also get `system:authenticated`; anonymous ones are `system:anonymous`
 * in `system:unauthenticated`.
 */
import type { HttpRequest } from "../transport/types.ts";

export interface UserInfo {
  readonly name: string;
  readonly uid?: string;
  readonly groups: readonly string[];
}

export interface TokenEntry {
  readonly user: string;
  readonly uid?: string;
  readonly groups: readonly string[];
}

export type AuthResult =
  | { readonly ok: true; readonly user: UserInfo }
  /** `presented`: credentials were sent but rejected (always 401); otherwise anonymous. */
  | { readonly ok: false; readonly presented: boolean };

export const ANONYMOUS: UserInfo = { name: "system:anonymous", groups: ["system:unauthenticated"] };

function withAuthenticated(groups: readonly string[]): string[] {
  return groups.includes("system:authenticated") ? [...groups] : [...groups, "system:authenticated"];
}

/** Results are shared between requests (cached): deeply frozen. */
function success(user: UserInfo): AuthResult {
  Object.freeze(user.groups);
  return Object.freeze({ ok: true as const, user: Object.freeze(user) });
}

const PRESENTED: AuthResult = Object.freeze({ ok: false as const, presented: true });
const NOTHING: AuthResult = Object.freeze({ ok: false as const, presented: false });

/** Bound on cached Authorization header values per token map (cleared when full). */
const TOKEN_CACHE_MAX = 4096;

interface TokenHit {
  /** The bearer token in the header, or undefined when the header is malformed. */
  readonly token: string | undefined;
  /** The map entry the result was built from (re-checked on every hit). */
  readonly entry: TokenEntry | undefined;
  readonly result: AuthResult | undefined;
}

/**
 * Authorization header value -> parsed token and result, per token map. A hit is used only while
 * the map still holds the same entry for that token, so a map that changes (reload, revocation)
 * is honoured at the cost of one lookup.
 */
const tokenCache = new WeakMap<ReadonlyMap<string, TokenEntry>, Map<string, TokenHit>>();
/** Verified peer identities (the transport keeps one object per connection) -> result. */
const certCache = new WeakMap<NonNullable<HttpRequest["peerCertificate"]>, AuthResult>();

const BEARER = /^\s*bearer\s+(\S+)\s*$/i;

function tokenResult(authz: string, tokens: ReadonlyMap<string, TokenEntry>): AuthResult | undefined {
  let cache = tokenCache.get(tokens);
  if (cache === undefined) {
    cache = new Map();
    tokenCache.set(tokens, cache);
  }
  const hit = cache.get(authz);
  if (hit !== undefined && (hit.token === undefined || tokens.get(hit.token) === hit.entry)) return hit.result;
  const m = BEARER.exec(authz);
  const token = m ? (m[1] as string) : undefined;
  const entry = token !== undefined ? tokens.get(token) : undefined;
  const result = entry
    ? success({ name: entry.user, ...(entry.uid ? { uid: entry.uid } : {}), groups: withAuthenticated(entry.groups) })
    : undefined;
  if (cache.size >= TOKEN_CACHE_MAX) cache.clear();
  cache.set(authz, { token, entry, result });
  return result;
}

/**
 * Authenticates a request: a known bearer token, else a verified client certificate, else
 * anonymous (`presented` tells whether credentials were sent and rejected). Results are cached
 * per header value and per peer-certificate object, and are frozen (shared between requests).
 */
export function authenticate(
  req: Pick<HttpRequest, "headers" | "peerCertificate">,
  tokens: ReadonlyMap<string, TokenEntry> | undefined,
): AuthResult {
  const authz = req.headers["authorization"];
  if (authz !== undefined) {
    if (tokens) {
      const r = tokenResult(authz, tokens);
      if (r) return r;
    }
    // A client certificate still authenticates when a bad/unknown header is present (upstream
    // tries every authenticator; x509 runs first).
    if (req.peerCertificate && req.peerCertificate.commonName !== "") return fromCert(req.peerCertificate);
    return PRESENTED;
  }
  if (req.peerCertificate && req.peerCertificate.commonName !== "") return fromCert(req.peerCertificate);
  return NOTHING;
}

function fromCert(cert: NonNullable<HttpRequest["peerCertificate"]>): AuthResult {
  let r = certCache.get(cert);
  if (r === undefined) {
    r = success({ name: cert.commonName, groups: withAuthenticated(cert.organizations) });
    certCache.set(cert, r);
  }
  return r;
}

/** Paths open to anonymous users (upstream's system:public-info-viewer / discovery roles). */
export function isPublicPath(path: string): boolean {
  return path === "/healthz" || path === "/livez" || path === "/readyz" || path === "/version" ||
    path.startsWith("/healthz/") || path.startsWith("/livez/") || path.startsWith("/readyz/");
}
