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

export function authenticate(
  req: Pick<HttpRequest, "headers" | "peerCertificate">,
  tokens: ReadonlyMap<string, TokenEntry> | undefined,
): AuthResult {
  const authz = req.headers["authorization"];
  if (authz !== undefined) {
    const m = /^\s*bearer\s+(\S+)\s*$/i.exec(authz);
    if (m && tokens) {
      const entry = tokens.get(m[1] as string);
      if (entry) {
        return { ok: true, user: { name: entry.user, ...(entry.uid ? { uid: entry.uid } : {}), groups: withAuthenticated(entry.groups) } };
      }
    }
    // A client certificate still authenticates when a bad/unknown header is present (upstream
    // tries every authenticator; x509 runs first).
    if (req.peerCertificate && req.peerCertificate.commonName !== "") return fromCert(req.peerCertificate);
    return { ok: false, presented: true };
  }
  if (req.peerCertificate && req.peerCertificate.commonName !== "") return fromCert(req.peerCertificate);
  return { ok: false, presented: false };
}

function fromCert(cert: NonNullable<HttpRequest["peerCertificate"]>): AuthResult {
  return { ok: true, user: { name: cert.commonName, groups: withAuthenticated(cert.organizations) } };
}

/** Paths open to anonymous users (upstream's system:public-info-viewer / discovery roles). */
export function isPublicPath(path: string): boolean {
  return path === "/healthz" || path === "/livez" || path === "/readyz" || path === "/version" ||
    path.startsWith("/healthz/") || path.startsWith("/livez/") || path.startsWith("/readyz/");
}
