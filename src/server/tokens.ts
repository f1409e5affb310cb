/**
 * The admin bearer token: generated into `DIR/tokens.csv` at first start (kube-apiserver's
 * `--token-auth-file` format, parsed by src/auth), so clients without certificates can use it.
 */
import { randomBytes } from "node:crypto";
import { appendFileSync, existsSync, readFileSync } from "node:fs";
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

/** The identities of the in-process components (upstream's user names; no groups beyond system:authenticated). */
export const COMPONENT_USERS = ["system:kube-controller-manager", "system:kube-scheduler"] as const;
export type ComponentUser = (typeof COMPONENT_USERS)[number];

/**
 * Ensures `path` (the token file, already holding the admin token) has one token per component
 * user, appending missing ones (kubeadm gives each component its own kubeconfig likewise; API
 * Priority and Fairness tells them apart by user). Returns the parsed file and the tokens.
 */
export function ensureComponentTokens(path: string): { tokens: Map<string, TokenUser>; componentTokens: Map<ComponentUser, string> } {
  let tokens = loadTokenFile(path);
  const has = new Set([...tokens.values()].map((u) => u.user));
  const missing = COMPONENT_USERS.filter((u) => !has.has(u));
  if (missing.length > 0) {
    appendFileSync(path, missing.map((u) => `${generateToken()},${u},${u}\n`).join(""), { mode: 0o600 });
    tokens = loadTokenFile(path);
  }
  const componentTokens = new Map<ComponentUser, string>();
  for (const [token, u] of tokens) {
    const c = COMPONENT_USERS.find((x) => x === u.user);
    if (c !== undefined && !componentTokens.has(c)) componentTokens.set(c, token);
  }
  return { tokens, componentTokens };
}
