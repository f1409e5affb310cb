/**
 * Atomic updates of a directory of projected files (ConfigMap, Secret, downward API, projected
 * volumes), in the layout Kubernetes uses so that a reader never sees a mix of old and new files:
 *
 *   <dir>/..2024_05_01_10_00_00.123456789/   the current payload (a new directory per update)
 *   <dir>/..data -> ..2024_05_01_10_00_00.…    the switch, replaced by rename(2) (atomic)
 *   <dir>/<key>  -> ..data/<key>               one relative symlink per top-level entry
 *
 * An update writes the new payload into a fresh timestamped directory, points `..data_tmp` at it,
 * renames `..data_tmp` over `..data`, adds/removes the top-level links, and deletes the old
 * directory. Writing an identical payload (same paths, bytes and modes) changes nothing. The links
 * are relative, so the tree works the same when the directory is bind-mounted elsewhere.
 */
import { Buffer } from "node:buffer";
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

/** One file of a payload: bytes and permission bits. */
export interface FileProjection {
  readonly data: Uint8Array;
  readonly mode: number;
}

/** Relative path (`a/b.txt`) -> file. */
export type Payload = ReadonlyMap<string, FileProjection>;

const DATA = "..data";
const DATA_TMP = "..data_tmp";
const MAX_PATH = 4096;
const MAX_SEGMENT = 255;

/** Checks a payload path as upstream does; returns the error text or undefined. */
export function validatePayloadPath(p: string): string | undefined {
  if (p === "") return "invalid path: must not be empty";
  if (p.length > MAX_PATH) return `invalid path: must be less than or equal to ${MAX_PATH} characters`;
  if (p.startsWith("/")) return "invalid path: must be relative path";
  const segs = p.split("/");
  if (segs.some((s) => s.length > MAX_SEGMENT)) return `invalid path: each path element must be less than or equal to ${MAX_SEGMENT} characters`;
  if (segs.includes("..")) return "invalid path: must not contain '..'";
  if (p.startsWith("..")) return "invalid path: must not start with '..'";
  return undefined;
}

function timestampName(now: Date): string {
  const pad = (n: number, w = 2): string => String(n).padStart(w, "0");
  return `..${now.getUTCFullYear()}_${pad(now.getUTCMonth() + 1)}_${pad(now.getUTCDate())}_${pad(now.getUTCHours())}_${pad(now.getUTCMinutes())}_${pad(now.getUTCSeconds())}.`;
}

function listFiles(root: string, rel = "", out = new Map<string, string>(), depth = 0): Map<string, string> {
  if (depth > 64) return out;
  for (const name of readdirSync(join(root, rel))) {
    const r = rel === "" ? name : `${rel}/${name}`;
    const st = lstatSync(join(root, r));
    if (st.isDirectory()) listFiles(root, r, out, depth + 1);
    else out.set(r, join(root, r));
  }
  return out;
}

function sameContent(dir: string, payload: Payload): boolean {
  let files: Map<string, string>;
  try {
    files = listFiles(dir);
  } catch {
    return false;
  }
  if (files.size !== payload.size) return false;
  for (const [p, f] of payload) {
    const abs = files.get(p);
    if (abs === undefined) return false;
    const st = statSync(abs);
    if ((st.mode & 0o7777) !== (f.mode & 0o7777)) return false;
    if (st.size !== f.data.byteLength || !Buffer.from(readFileSync(abs)).equals(Buffer.from(f.data))) return false;
  }
  return true;
}

function topLevel(paths: Iterable<string>): Set<string> {
  const s = new Set<string>();
  for (const p of paths) s.add(p.split("/")[0]!);
  return s;
}

/**
 * Makes `dir` hold exactly `payload` (see the module comment). Returns true when something was
 * written. Throws `Error` for invalid paths (nothing is changed then) or I/O failures.
 */
export function writeAtomic(dir: string, payload: Payload, now: Date = new Date()): boolean {
  for (const p of payload.keys()) {
    const err = validatePayloadPath(p);
    if (err !== undefined) throw new Error(`${err}: ${JSON.stringify(p)}`);
  }
  mkdirSync(dir, { recursive: true });
  const dataLink = join(dir, DATA);
  let oldTs: string | undefined;
  try {
    oldTs = readlinkSync(dataLink);
  } catch {
    oldTs = undefined;
  }
  if (oldTs !== undefined && sameContent(join(dir, oldTs), payload)) {
    // Same payload: only make sure the user-visible links exist (e.g. after a crash mid-update).
    for (const top of topLevel(payload.keys())) ensureLink(dir, top);
    return false;
  }
  const oldPaths = oldTs !== undefined ? [...listFiles(join(dir, oldTs)).keys()] : [];
  const tsDir = mkdtempSync(join(dir, timestampName(now)));
  chmodSync(tsDir, 0o755);
  for (const [p, f] of payload) {
    const abs = join(tsDir, p);
    mkdirSync(dirname(abs), { recursive: true, mode: 0o755 });
    writeFileSync(abs, f.data);
    chmodSync(abs, f.mode & 0o7777);
  }
  const tmp = join(dir, DATA_TMP);
  rmSync(tmp, { force: true });
  symlinkSync(tsDir.slice(dir.length + 1), tmp);
  renameSync(tmp, dataLink);
  const tops = topLevel(payload.keys());
  for (const top of tops) ensureLink(dir, top);
  for (const top of topLevel(oldPaths)) {
    if (!tops.has(top)) rmSync(join(dir, top), { force: true });
  }
  if (oldTs !== undefined && oldTs.startsWith("..") && oldTs !== DATA) rmSync(join(dir, oldTs), { recursive: true, force: true });
  return true;
}

function ensureLink(dir: string, top: string): void {
  const link = join(dir, top);
  const want = `${DATA}/${top}`;
  try {
    if (readlinkSync(link) === want) return;
    unlinkSync(link);
  } catch {
    if (existsSync(link)) rmSync(link, { recursive: true, force: true });
  }
  symlinkSync(want, link);
}
