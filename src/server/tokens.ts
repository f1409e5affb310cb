/**
 * The admin bearer token: generated into `DIR/tokens.csv` at first start (kube-apiserver's
 * `--token-auth-file` format, parsed by src/auth), so clients without certificates can use it.
 */
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { parseTokenFile, type TokenUser } from "../auth/mod.ts";
import { writeFileAtomic } from "./fs.ts";

export type { TokenUser };

/** The admin identity of the generated token (the same as the admin client certificate's). */
export const ADMIN_USER = "admin";
export const ADMIN_GROUP = "system:masters";

/** A fresh random token (256 bits, URL-safe base64). */
export function generateToken(): string {
  return randomBytes(32).toString("base64url");
}

/** Reads and parses a token file; errors name the file. */
export function loadTokenFile(path: string): Map<string, TokenUser> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new Error(`cannot read token file ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
  try {
    return parseTokenFile(text);
  } catch (err) {
    throw new Error(`${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * Ensures `path` exists: at first start writes `<random>,admin,admin,"system:masters"` (mode
 * 0600). Returns the parsed file and the first token of the `admin` user; throws when the file
 * is malformed or has no admin token.
 */
export function ensureAdminTokenFile(path: string): { tokens: Map<string, TokenUser>; adminToken: string } {
  if (!existsSync(path)) {
    writeFileAtomic(path, `${generateToken()},${ADMIN_USER},${ADMIN_USER},"${ADMIN_GROUP}"\n`, 0o600);
  }
  const tokens = loadTokenFile(path);
  for (const [token, u] of tokens) {
    if (u.user === ADMIN_USER) return { tokens, adminToken: token };
  }
  throw new Error(`${path}: no token for user "${ADMIN_USER}"`);
}
