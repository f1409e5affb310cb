/**
 * Node tokens: bearer tokens that prove a node identity (`system:node:<name>` in `system:nodes`,
 * as a kubelet's client certificate would) without one certificate per connection, so N hollow
 * node agents sharing a few HTTP/2 connections still authenticate as N distinct nodes.
 *
 * A token is `tugnode.<node>.<HMAC-SHA256(key, node), base64url>`; the key is a secret file in the
 * cluster's PKI directory (`node-token.key`), readable by whoever may already read the CA key
 * there (the node agents, to issue their serving certificates). Nothing client-supplied is
 * trusted beyond a token that verifies against the key.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TokenEntry } from "./authenticate.ts";

export const NODE_TOKEN_KEY_FILE = "node-token.key";
const PREFIX = "tugnode.";
const NODE_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

function mac(key: Uint8Array, node: string): string {
  return createHmac("sha256", key).update(node).digest("base64url");
}

/** The token for `node`. Throws `RangeError` for an invalid node name or an empty key. */
export function nodeToken(key: Uint8Array, node: string): string {
  if (key.length === 0) throw new RangeError("node token key is empty");
  if (!NODE_NAME.test(node) || node.length > 253) throw new RangeError(`invalid node name ${JSON.stringify(node)}`);
  return `${PREFIX}${node}.${mac(key, node)}`;
}

/** The node a token proves, or undefined for anything that is not a valid node token. */
export function verifyNodeToken(key: Uint8Array, token: string): string | undefined {
  if (!token.startsWith(PREFIX) || key.length === 0) return undefined;
  const dot = token.lastIndexOf(".");
  if (dot <= PREFIX.length) return undefined;
  const node = token.slice(PREFIX.length, dot);
  if (!NODE_NAME.test(node)) return undefined;
  const want = Buffer.from(mac(key, node));
  const got = Buffer.from(token.slice(dot + 1));
  return got.length === want.length && timingSafeEqual(got, want) ? node : undefined;
}

/** Reads `<pkiDir>/node-token.key`, creating it (32 random bytes, mode 0600) when absent. */
export function ensureNodeTokenKey(pkiDir: string): Uint8Array {
  const path = join(pkiDir, NODE_TOKEN_KEY_FILE);
  if (!existsSync(path)) writeFileSync(path, randomBytes(32).toString("hex") + "\n", { mode: 0o600, flag: "wx" });
  return readNodeTokenKey(pkiDir) as Uint8Array;
}

/** Reads the key, or undefined when the directory has none. Throws `Error` for a malformed file. */
export function readNodeTokenKey(pkiDir: string): Uint8Array | undefined {
  const path = join(pkiDir, NODE_TOKEN_KEY_FILE);
  if (!existsSync(path)) return undefined;
  const hex = readFileSync(path, "utf8").trim();
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new Error(`${path}: not a 32-byte hex key`);
  return Buffer.from(hex, "hex");
}

/** Bound on remembered node identities (cleared when full). */
const MAX_CACHED = 100_000;

/**
 * A token map for `authenticate` that holds the static tokens and also accepts node tokens.
 * Lookups of the same node token return the same entry object (authenticate's cache relies on it).
 */
export class NodeTokenMap implements ReadonlyMap<string, TokenEntry> {
  private readonly nodes = new Map<string, TokenEntry>();

  constructor(private readonly key: Uint8Array, private readonly base: ReadonlyMap<string, TokenEntry>) {}

  get(token: string): TokenEntry | undefined {
    const b = this.base.get(token);
    if (b !== undefined) return b;
    const hit = this.nodes.get(token);
    if (hit !== undefined) return hit;
    const node = verifyNodeToken(this.key, token);
    if (node === undefined) return undefined;
    if (this.nodes.size >= MAX_CACHED) this.nodes.clear();
    const entry: TokenEntry = Object.freeze({ user: `system:node:${node}`, groups: Object.freeze(["system:nodes"]) });
    this.nodes.set(token, entry);
    return entry;
  }

  has(token: string): boolean {
    return this.get(token) !== undefined;
  }

  // Iteration covers the static tokens only (node tokens are not enumerable).
  get size(): number {
    return this.base.size;
  }
  forEach(cb: (value: TokenEntry, key: string, map: ReadonlyMap<string, TokenEntry>) => void): void {
    this.base.forEach((v, k) => cb(v, k, this));
  }
  entries(): MapIterator<[string, TokenEntry]> {
    return this.base.entries();
  }
  keys(): MapIterator<string> {
    return this.base.keys();
  }
  values(): MapIterator<TokenEntry> {
    return this.base.values();
  }
  [Symbol.iterator](): MapIterator<[string, TokenEntry]> {
    return this.base.entries();
  }
}
