import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { checkHostPathType } from "./hostpath.ts";

const d = mkdtempSync(join(tmpdir(), "tug-hp-"));
afterAll(() => rmSync(d, { recursive: true, force: true }));
mkdirSync(join(d, "dir"));
writeFileSync(join(d, "file"), "x");

describe("checkHostPathType", () => {
  it("unset type checks nothing", () => {
    expect(() => checkHostPathType(join(d, "missing"), undefined)).not.toThrow();
    expect(() => checkHostPathType(join(d, "missing"), "")).not.toThrow();
  });
  it("DirectoryOrCreate creates nested directories 0755; refuses a file", () => {
    const p = join(d, "a", "b");
    checkHostPathType(p, "DirectoryOrCreate");
    expect(statSync(p).isDirectory()).toBe(true);
    expect(statSync(p).mode & 0o777).toBe(0o755 & ~process.umask());
    expect(() => checkHostPathType(join(d, "file"), "DirectoryOrCreate")).toThrow(`hostPath type check failed: ${join(d, "file")} is not a directory`);
  });
  it("Directory must exist", () => {
    expect(() => checkHostPathType(join(d, "dir"), "Directory")).not.toThrow();
    expect(() => checkHostPathType(join(d, "nope"), "Directory")).toThrow(`hostPath type check failed: ${join(d, "nope")} is not a directory`);
  });
  it("FileOrCreate creates an empty file; File must be a file", () => {
    const p = join(d, "new.txt");
    checkHostPathType(p, "FileOrCreate");
    expect(statSync(p).size).toBe(0);
    expect(() => checkHostPathType(join(d, "dir"), "FileOrCreate")).toThrow("is not a file");
    expect(() => checkHostPathType(join(d, "file"), "File")).not.toThrow();
    expect(() => checkHostPathType(join(d, "dir"), "File")).toThrow(`hostPath type check failed: ${join(d, "dir")} is not a file`);
    expect(() => checkHostPathType(join(d, "nope", "x"), "FileOrCreate")).toThrow(/ENOENT/);
  });
  it("Socket, CharDevice, BlockDevice", async () => {
    const sock = join(d, "s.sock");
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(sock, r));
    try {
      expect(() => checkHostPathType(sock, "Socket")).not.toThrow();
    } finally {
      srv.close();
    }
    expect(() => checkHostPathType(join(d, "file"), "Socket")).toThrow("is not a socket file");
    expect(() => checkHostPathType("/dev/null", "CharDevice")).not.toThrow();
    expect(() => checkHostPathType(join(d, "file"), "CharDevice")).toThrow("is not a character device");
    expect(() => checkHostPathType("/dev/null", "BlockDevice")).toThrow("hostPath type check failed: /dev/null is not a block device");
  });
  it("bad input", () => {
    expect(() => checkHostPathType(join(d, "dir"), "Folder")).toThrow("Folder is an invalid volume type");
    expect(() => checkHostPathType("relative/path", "Directory")).toThrow('hostPath "relative/path" must be an absolute path');
  });
});
