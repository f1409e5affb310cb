/**
 * Images of the process runtime: how an image name maps to a local executable.
 *
 * The rule (docs/process-runtime.md), first match wins:
 *  1. `image: /abs/path` names a host executable — only when the runtime was created with
 *     `allowHostPathImages: true`; otherwise the pull fails (`ErrImagePull`) saying so.
 *  2. `<imageRoot>/<domain>/<path>/<tag>` (e.g. `<imageRoot>/docker.io/library/app/1.0`) is either
 *     an executable file (the entrypoint) or a directory with `image.json`
 *     (`{ entrypoint?, cmd?, env?, workingDir?, resources? }`, relative paths against the directory)
 *     or an executable named `entrypoint`.
 *  3. Built-in images (no network needed):
 *     - `busybox` (any tag): the host's userland — no entrypoint, `cmd: ["sh"]`, commands found on
 *       the default PATH (`/bin/sh` is the shell); an applet missing on the host runs through the
 *       host's `busybox` binary when there is one (`httpd`, …).
 *     - `tugboat/node` (any tag): `entrypoint: ["node"]` (this agent's own Node.js binary).
 *  4. Anything else is refused with `ErrImagePull`: the process runtime never contacts a registry.
 *
 * Pulling "registers" the image in the data dir (images.json); nothing is downloaded.
 */
import { createHash } from "node:crypto";
import { accessSync, constants, existsSync, readFileSync, realpathSync, statSync } from "node:fs";
import { delimiter, dirname, isAbsolute, join, resolve } from "node:path";
import { RuntimeError } from "../../runtime/errors.ts";
import { isImageId, normalizeImage, parseImageReference } from "../../runtime/image.ts";
import type { Image } from "../../runtime/types.ts";

/** PATH given to containers of images that do not set one. */
export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** What a container of this image runs, resolved at pull time and stored with the image. */
export interface ImageDefinition {
  /** Where it came from (`builtin:busybox`, `root:<dir>`, `host:<path>`), for messages. */
  readonly source: string;
  readonly entrypoint: readonly string[];
  readonly cmd: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly workingDir?: string;
  /** Default limits for containers that set none (image.json `resources`; tests use it for OOM). */
  readonly resources?: { readonly memoryBytesLimit?: number; readonly cpuMillisLimit?: number };
  /** Host `busybox` binary used for applets not found on PATH (builtin busybox only). */
  readonly busybox?: string;
  readonly size: number;
}

export interface StoredImage {
  readonly id: string;
  readonly repoTags: string[];
  readonly def: ImageDefinition;
}

export interface ImageRules {
  readonly imageRoot?: string;
  readonly allowHostPathImages: boolean;
}

function isExecutableFile(p: string): boolean {
  try {
    if (!statSync(p).isFile()) return false;
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function fileSize(p: string): number {
  try {
    return Math.max(1, statSync(p).size);
  } catch {
    return 1;
  }
}

/** The content id of a definition: sha256 over its canonical JSON. */
export function imageIdOf(name: string, def: ImageDefinition): string {
  const h = createHash("sha256");
  h.update(`tugboat-process-image\u0000${name.replace(/:[^:/]*$/, "")}\u0000${JSON.stringify(def)}`);
  return `sha256:${h.digest("hex")}`;
}

const pullError = (image: string, why: string): RuntimeError =>
  new RuntimeError("ErrImagePull", `failed to pull image "${image}": ${why}`);

/** Looks for an executable on a PATH string (absolute directories only). */
export function lookPath(name: string, path: string): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (dir === "" || !isAbsolute(dir)) continue;
    const p = join(dir, name);
    if (isExecutableFile(p)) return p;
  }
  return undefined;
}

function builtin(normalized: string): ImageDefinition | undefined {
  const repo = normalized.replace(/[:@].*$/, "").replace(/:[^/]*$/, "");
  if (repo === "docker.io/library/busybox") {
    const sh = existsSync("/bin/sh") ? realpathSync("/bin/sh") : undefined;
    if (sh === undefined) return undefined;
    const bb = lookPath("busybox", DEFAULT_PATH);
    return {
      source: "builtin:busybox (host userland)",
      entrypoint: [],
      cmd: ["sh"],
      env: { PATH: DEFAULT_PATH },
      ...(bb !== undefined ? { busybox: bb } : {}),
      size: fileSize(sh),
    };
  }
  if (repo === "docker.io/tugboat/node") {
    return {
      source: "builtin:tugboat/node",
      entrypoint: ["node"],
      cmd: [],
      env: { PATH: `${dirname(process.execPath)}${delimiter}${DEFAULT_PATH}` },
      size: fileSize(process.execPath),
    };
  }
  return undefined;
}

function strings(v: unknown, field: string, file: string): string[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) throw new Error(`${file}: "${field}" must be an array of strings`);
  return v as string[];
}

/** Reads `<dir>/image.json` (or an `entrypoint` executable) into a definition; throws Error with the reason. */
function fromImageDir(dir: string): ImageDefinition {
  const file = join(dir, "image.json");
  const rel = (p: string): string => (p.includes("/") && !isAbsolute(p) ? resolve(dir, p) : p);
  if (!existsSync(file)) {
    const ep = join(dir, "entrypoint");
    if (!isExecutableFile(ep)) throw new Error(`${dir} has neither image.json nor an executable "entrypoint"`);
    return { source: `root:${dir}`, entrypoint: [ep], cmd: [], env: {}, size: fileSize(ep) };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new Error(`${file}: not valid JSON (${(err as Error).message})`);
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw new Error(`${file}: must be a JSON object`);
  const o = raw as Record<string, unknown>;
  const entrypoint = (strings(o.entrypoint, "entrypoint", file) ?? []).map((p, i) => (i === 0 ? rel(p) : p));
  const cmd = strings(o.cmd, "cmd", file) ?? [];
  if (entrypoint.length === 0 && cmd.length === 0) throw new Error(`${file}: needs "entrypoint" or "cmd"`);
  const env: Record<string, string> = {};
  if (o.env !== undefined) {
    if (o.env === null || typeof o.env !== "object" || Array.isArray(o.env)) throw new Error(`${file}: "env" must be an object of strings`);
    for (const [k, v] of Object.entries(o.env)) {
      if (typeof v !== "string") throw new Error(`${file}: env "${k}" must be a string`);
      env[k] = v;
    }
  }
  if (o.workingDir !== undefined && (typeof o.workingDir !== "string" || !isAbsolute(o.workingDir))) {
    throw new Error(`${file}: "workingDir" must be an absolute path`);
  }
  let resources: { memoryBytesLimit?: number; cpuMillisLimit?: number } | undefined;
  if (o.resources !== undefined) {
    const r = o.resources as Record<string, unknown>;
    resources = {};
    for (const k of ["memoryBytesLimit", "cpuMillisLimit"] as const) {
      const v = r[k];
      if (v === undefined) continue;
      if (typeof v !== "number" || !(v > 0)) throw new Error(`${file}: resources.${k} must be a positive number`);
      resources[k] = v;
    }
  }
  const first = entrypoint[0] ?? cmd[0]!;
  return {
    source: `root:${dir}`,
    entrypoint,
    cmd,
    env,
    ...(typeof o.workingDir === "string" ? { workingDir: o.workingDir } : {}),
    ...(resources !== undefined ? { resources } : {}),
    size: fileSize(isAbsolute(first) ? first : file),
  };
}

/**
 * Resolves `image` (as written) to a definition by the rule above. Throws `ErrImagePull` with the
 * reason, `InvalidArgument` for a malformed reference.
 */
export function resolveImage(image: string, rules: ImageRules): { name: string; def: ImageDefinition } {
  if (isAbsolute(image)) {
    if (!rules.allowHostPathImages) {
      throw pullError(image, "host-path images are disabled (create the process runtime with allowHostPathImages: true)");
    }
    if (!isExecutableFile(image)) throw pullError(image, "not an executable file on this host");
    return { name: image, def: { source: `host:${image}`, entrypoint: [image], cmd: [], env: {}, size: fileSize(image) } };
  }
  if (isImageId(image)) throw pullError(image, "an image id names local content only and it is not present");
  const ref = parseImageReference(image);
  const name = normalizeImage(image);
  if (rules.imageRoot !== undefined) {
    const p = join(rules.imageRoot, ref.domain, ...ref.path.split("/"), ref.tag ?? "latest");
    if (existsSync(p)) {
      if (statSync(p).isDirectory()) {
        try {
          return { name, def: fromImageDir(p) };
        } catch (err) {
          throw pullError(image, (err as Error).message);
        }
      }
      if (!isExecutableFile(p)) throw pullError(image, `${p} is not executable`);
      return { name, def: { source: `root:${p}`, entrypoint: [p], cmd: [], env: {}, size: fileSize(p) } };
    }
  }
  const b = builtin(name);
  if (b !== undefined) return { name, def: b };
  const where = rules.imageRoot !== undefined ? `not found under the image root ${rules.imageRoot}` : "no image root is configured";
  throw pullError(
    image,
    `not a built-in image (busybox, tugboat/node) and ${where}; the process runtime runs local executables only and never pulls from a registry`,
  );
}

/** The image's list view. */
export function imageView(img: StoredImage): Image {
  return { id: img.id, repoTags: [...img.repoTags], repoDigests: [], size: img.def.size };
}

/** Normalized lookup key for a name as written (absolute paths stay as they are); throws InvalidArgument. */
export function imageKey(image: string): string {
  if (typeof image !== "string") throw new RuntimeError("InvalidArgument", "image.image must be a string");
  if (isAbsolute(image)) return image;
  return normalizeImage(image);
}
