/**
 * Small file-system helpers for the composition root: atomic writes and the data-dir lock.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { dirname, basename, join } from "node:path";

/**
 * Writes `data` to `path` atomically: a temp file in the same directory (created with `mode`),
 * fsynced, then renamed over `path`. Readers see the old file or the whole new one, never a part.
 * Creates the parent directory if needed.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o600): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  const fd = openSync(tmp, "w", mode);
  try {
    const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, path);
}

/** Thrown when another live process holds the data directory. */
export class DataDirLockedError extends Error {
  constructor(readonly dataDir: string, readonly pid: number) {
    super(`data directory ${dataDir} is in use by another tug process (pid ${pid})`);
    this.name = "DataDirLockedError";
  }
}

/** The `code` of a Node system error (`ENOENT`, `EADDRINUSE`, ...), if it has one. */
export function errnoCode(err: unknown): string | undefined {
  if (typeof err !== "object" || err === null || !("code" in err)) return undefined;
  const code: unknown = err.code;
  return typeof code === "string" ? code : undefined;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else — still alive.
    return errnoCode(err) === "EPERM";
  }
}

/**
 * Takes `DIR/tug.lock` (holding our pid). A lock left by a dead process (SIGKILL, crash) is taken
 * over. Throws `DataDirLockedError` when a live process holds it. Returns the release function.
 */
export function lockDataDir(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, "tug.lock");
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, "wx", 0o600);
    } catch (err) {
      if (errnoCode(err) !== "EEXIST") throw err;
      let holder = Number.NaN;
      try {
        holder = Number.parseInt(readFileSync(path, "utf8").trim(), 10);
      } catch {
        // vanished between open and read: retry
      }
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && processAlive(holder)) {
        throw new DataDirLockedError(dataDir, holder);
      }
      rmSync(path, { force: true });
      continue;
    }
    writeSync(fd, `${process.pid}\n`);
    fsyncSync(fd);
    closeSync(fd);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      rmSync(path, { force: true });
    };
  }
  throw new Error(`could not take the lock ${path}`);
}
