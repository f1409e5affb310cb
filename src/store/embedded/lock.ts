/**
 * An advisory lock on a data directory: the file `LOCK` holding the owner's PID. Node has no
 * flock(), so a lock left by a dead process (SIGKILL, crash) is detected by probing its PID and
 * taken over. Creation is atomic (link of a private temp file), so two openers never both win.
 * Limits: a recycled PID of a live unrelated process makes the lock look held (fail-safe), and
 * the data dir must be on a local file system.
 */
import process from "node:process";
import { link, readFile, rename, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { StoreError } from "../types.ts";

export interface DirLock {
  release(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Takes the lock of `dir`.
 * @throws StoreError("InvalidArgument") when a live process (this one included) holds it.
 */
export async function lockDir(dir: string): Promise<DirLock> {
  const path = join(dir, "LOCK");
  const tmp = join(dir, `LOCK.${process.pid}.${Math.random().toString(36).slice(2)}`);
  await writeFile(tmp, `${process.pid}\n`);
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await link(tmp, path);
        return {
          release: async () => {
            await unlink(path).catch(() => {});
          },
        };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      }
      const text = await readFile(path, "utf8").catch(() => "");
      const pid = Number.parseInt(text, 10);
      if (Number.isSafeInteger(pid) && pid > 0 && alive(pid)) {
        throw new StoreError(
          "InvalidArgument",
          `data directory ${dir} is locked by process ${pid}${pid === process.pid ? " (this process: the store is already open)" : ""}`,
        );
      }
      // Stale: move it aside (atomic) and retry.
      await rename(path, `${tmp}.stale`).catch(() => {});
      await unlink(`${tmp}.stale`).catch(() => {});
    }
    throw new StoreError("InvalidArgument", `could not lock data directory ${dir}`);
  } finally {
    await unlink(tmp).catch(() => {});
  }
}
