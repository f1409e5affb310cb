/**
 * Image references: parsing and normalization shared by every runtime, so `busybox`,
 * `library/busybox:latest` and `docker.io/library/busybox:latest` name the same image everywhere.
 * Grammar: Docker's distribution reference (domain[:port]/path[:tag][@digest]), lower-case path
 * components separated by `.`, `_`, `__` or `-`.
 */
import { RuntimeError } from "./errors.ts";

export interface ImageReference {
  /** Registry host (and port); `docker.io` by default. */
  readonly domain: string;
  /** Repository path; `library/` is added for single-component Docker Hub names. */
  readonly path: string;
  /** `latest` when neither tag nor digest is given. */
  readonly tag?: string;
  /** `sha256:<hex>`. */
  readonly digest?: string;
}

const COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const DOMAIN = /^(?:localhost|[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?$/;

/** True for a bare image id (`sha256:<64 hex>`), which names an image by content only. */
export function isImageId(ref: string): boolean {
  return DIGEST.test(ref);
}

/**
 * Parses a reference. Throws `RuntimeError("InvalidArgument")` naming the problem for anything
 * malformed (empty, spaces, upper case in the path, bad tag or digest, over 255 characters).
 */
export function parseImageReference(ref: string): ImageReference {
  const bad = (why: string): RuntimeError => new RuntimeError("InvalidArgument", `invalid image reference "${ref}": ${why}`);
  if (ref.length === 0) throw bad("empty");
  if (ref.length > 255) throw bad("longer than 255 characters");
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw bad("digest must be sha256:<64 lower-case hex>");
  }
  let tag: string | undefined;
  const slash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  if (colon > slash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw bad(`tag "${tag}" must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`);
  }
  const parts = rest.split("/");
  let domain = "docker.io";
  const first = parts[0] ?? "";
  if (parts.length > 1 && (first.includes(".") || first.includes(":") || first === "localhost" || first.startsWith("["))) {
    if (!DOMAIN.test(first)) throw bad(`registry "${first}" is not a host[:port]`);
    domain = first;
    parts.shift();
  }
  if (parts.length === 0) throw bad("missing repository name");
  for (const p of parts) {
    if (!COMPONENT.test(p)) {
      throw bad(
        p === "" ? "empty path component" : `path component "${p}" must be lower-case letters, digits and separators (. _ __ -)`,
      );
    }
  }
  if (domain === "docker.io" && parts.length === 1) parts.unshift("library");
  const path = parts.join("/");
  if (tag === undefined && digest === undefined) tag = "latest";
  return { domain, path, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}

/** `docker.io/library/busybox:latest` for `busybox`; image ids are returned as they are. */
export function normalizeImage(ref: string): string {
  if (isImageId(ref)) return ref;
  const r = parseImageReference(ref);
  return `${r.domain}/${r.path}${r.tag !== undefined ? `:${r.tag}` : ""}${r.digest !== undefined ? `@${r.digest}` : ""}`;
}
