/**
 * hostPath volume type checks (`type:` of a hostPath volume), with upstream's semantics and error
 * texts: `DirectoryOrCreate` / `FileOrCreate` create what is missing (0755 directories, 0644
 * empty files), the others require the kind of file named; `""` checks nothing. Paths are
 * followed through symlinks, as stat(2) does.
 */
import { closeSync, mkdirSync, openSync, statSync, type Stats } from "node:fs";

export const HOST_PATH_TYPES = ["", "DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket", "CharDevice", "BlockDevice"] as const;

function stat(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/** Checks (and for the *OrCreate types, creates) `path`; throws `Error` with upstream's message. */
export function checkHostPathType(path: string, type: string | undefined): void {
  const t = type ?? "";
  if (!path.startsWith("/")) throw new Error(`hostPath ${JSON.stringify(path)} must be an absolute path`);
  const st = stat(path);
  switch (t) {
    case "":
      return;
    case "DirectoryOrCreate":
    case "Directory":
      if (t === "DirectoryOrCreate" && st === undefined) {
        mkdirSync(path, { recursive: true, mode: 0o755 });
        return;
      }
      if (!st?.isDirectory()) throw new Error(`hostPath type check failed: ${path} is not a directory`);
      return;
    case "FileOrCreate":
    case "File":
      if (t === "FileOrCreate" && st === undefined) {
        closeSync(openSync(path, "a", 0o644));
        return;
      }
      if (!st?.isFile()) throw new Error(`hostPath type check failed: ${path} is not a file`);
      return;
    case "Socket":
      if (!st?.isSocket()) throw new Error(`hostPath type check failed: ${path} is not a socket file`);
      return;
    case "CharDevice":
      if (!st?.isCharacterDevice()) throw new Error(`hostPath type check failed: ${path} is not a character device`);
      return;
    case "BlockDevice":
      if (!st?.isBlockDevice()) throw new Error(`hostPath type check failed: ${path} is not a block device`);
      return;
    default:
      throw new Error(`${t} is an invalid volume type`);
  }
}
