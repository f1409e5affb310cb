import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DataDirLockedError, lockDataDir, writeFileAtomic } from "./fs.ts";
import { ensureAdminTokenFile, loadTokenFile } from "./tokens.ts";

const tmp = (): string => mkdtempSync(join(tmpdir(), "tug-server-fs-"));

describe("writeFileAtomic", () => {
  it("creates parents, writes with the mode, leaves no temp file", () => {
    const dir = tmp();
    const p = join(dir, "a/b/kubeconfig");
    writeFileAtomic(p, "one");
    writeFileAtomic(p, "two");
    expect(readFileSync(p, "utf8")).toBe("two");
    expect(statSync(p).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(dir, "a/b"))).toEqual(["kubeconfig"]);
  });
});

describe("lockDataDir", () => {
  it("refuses a dir held by a live process and takes over a stale lock", () => {
    const dir = tmp();
    // pid 1 is always alive: a foreign holder
    writeFileSync(join(dir, "tug.lock"), "1\n");
    expect(() => lockDataDir(dir)).toThrow(DataDirLockedError);
    expect(() => lockDataDir(dir)).toThrow(`data directory ${dir} is in use by another tug process (pid 1)`);
    // a pid that cannot exist: stale
    writeFileSync(join(dir, "tug.lock"), "2147483646\n");
    const release = lockDataDir(dir);
    expect(readFileSync(join(dir, "tug.lock"), "utf8")).toBe(`${process.pid}\n`);
    release();
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe("tokens", () => {
  it("generates the admin token once and keeps it", () => {
    const p = join(tmp(), "tokens.csv");
    const a = ensureAdminTokenFile(p);
    const b = ensureAdminTokenFile(p);
    expect(a.adminToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(b.adminToken).toBe(a.adminToken);
    expect(a.tokens.get(a.adminToken)).toMatchObject({ user: "admin", groups: ["system:masters"] });
    expect(statSync(p).mode & 0o777).toBe(0o600);
  });
  it("names the file in errors", () => {
    const p = join(tmp(), "bad.csv");
    writeFileSync(p, "onlytoken\n");
    expect(() => loadTokenFile(p)).toThrow(`${p}: token file line 1`);
    expect(() => loadTokenFile(join(tmp(), "missing.csv"))).toThrow("cannot read token file");
    writeFileSync(p, "t,bob,1\n");
    expect(() => ensureAdminTokenFile(p)).toThrow('no token for user "admin"');
  });
});
