/**
 * List continue tokens in kube-apiserver's format: unpadded base64url of
 * `{"v":"meta.k8s.io/v1","rv":<revision>,"start":"<next key relative to the resource prefix>"}`.
 * `rv` -1 marks a token handed out with a 410 after compaction: continuing with it serves the
 * rest at the current revision (inconsistent, as the 410's message says).
 */
import { badRequest } from "../../api/errors.ts";

export interface ContinueToken {
  /** Snapshot revision (or -1: continue at the latest revision). */
  readonly revision: number;
  /** Full store key to start at (inclusive). */
  readonly startKey: string;
}

export function encodeContinue(nextKey: string, prefix: string, revision: number): string {
  const start = nextKey.startsWith(prefix) ? nextKey.slice(prefix.length) : nextKey;
  return Buffer.from(JSON.stringify({ v: "meta.k8s.io/v1", rv: revision, start }), "utf8").toString("base64url");
}

/** Normalizes `/`-separated segments like Go's path.Clean on an absolute path. */
function cleanPath(p: string): string {
  const out: string[] = [];
  for (const seg of p.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") out.pop();
    else out.push(seg);
  }
  return "/" + out.join("/");
}

/**
 * Decodes and checks a token. Throws ApiError 400 (`continue key is not valid: ...`) for anything
 * malformed, including a start key that would escape `prefix`.
 */
export function decodeContinue(token: string, prefix: string): ContinueToken {
  const bad = (why: string) => badRequest(`continue key is not valid: ${why}`);
  if (!/^[A-Za-z0-9_-]*$/.test(token) || token.length % 4 === 1) throw bad("illegal base64 data");
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch (e) {
    throw bad((e as Error).message);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw bad("not a JSON object");
  const rec = parsed as Record<string, unknown>;
  if (rec["v"] !== "meta.k8s.io/v1") {
    throw bad(`server does not recognize this encoded version ${String(rec["v"] ?? "")}`.replace(/^/, ""));
  }
  const rv = rec["rv"];
  if (typeof rv !== "number" || !Number.isSafeInteger(rv) || rv === 0 || rv < -1) {
    throw bad("incorrect encoded start resourceVersion (version meta.k8s.io/v1)");
  }
  const start = rec["start"];
  if (typeof start !== "string" || start.length === 0) throw bad("encoded start key empty (version meta.k8s.io/v1)");
  const key = start.startsWith("/") ? start : "/" + start;
  // The \0 a token's start key ends with survives cleaning; `..` or `//` do not.
  if (cleanPath(key) !== key) throw bad(start);
  return { revision: rv, startKey: prefix + key.slice(1) };
}
