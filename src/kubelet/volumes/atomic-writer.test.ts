import { lstatSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { validatePayloadPath, writeAtomic, type FileProjection } from "./atomic-writer.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), "tug-aw-"));
  dirs.push(d);
  return d;
};
const f = (s: string, mode = 0o644): FileProjection => ({ data: new TextEncoder().encode(s), mode });

describe("writeAtomic", () => {
  it("writes the ..data layout with relative links", () => {
    const d = join(tmp(), "vol");
    expect(writeAtomic(d, new Map([["a", f("1")], ["sub/b", f("2", 0o400)]]), new Date(Date.UTC(2024, 4, 1, 10, 0, 0)))).toBe(true);
    const ts = readlinkSync(join(d, "..data"));
    expect(ts).toMatch(/^\.\.2024_05_01_10_00_00\./);
    expect(readlinkSync(join(d, "a"))).toBe("..data/a");
    expect(readlinkSync(join(d, "sub"))).toBe("..data/sub");
    expect(readFileSync(join(d, "a"), "utf8")).toBe("1");
    expect(readFileSync(join(d, "sub", "b"), "utf8")).toBe("2");
    expect(statSync(join(d, "sub", "b")).mode & 0o777).toBe(0o400);
    expect(readdirSync(d).sort()).toEqual(["..data", ts, "a", "sub"].sort());
  });

  it("an identical payload changes nothing; a new one swaps ..data and removes stale entries", () => {
    const d = join(tmp(), "vol");
    writeAtomic(d, new Map([["a", f("1")], ["gone", f("x")]]));
    const ts1 = readlinkSync(join(d, "..data"));
    expect(writeAtomic(d, new Map([["a", f("1")], ["gone", f("x")]]))).toBe(false);
    expect(readlinkSync(join(d, "..data"))).toBe(ts1);
    // Mode change alone is a change.
    expect(writeAtomic(d, new Map([["a", f("1", 0o600)], ["gone", f("x")]]))).toBe(true);
    expect(writeAtomic(d, new Map([["a", f("2")], ["new", f("n")]]))).toBe(true);
    const ts3 = readlinkSync(join(d, "..data"));
    expect(ts3).not.toBe(ts1);
    expect(readFileSync(join(d, "a"), "utf8")).toBe("2");
    expect(readFileSync(join(d, "new"), "utf8")).toBe("n");
    expect(() => lstatSync(join(d, "gone"))).toThrow();
    expect(readdirSync(d).filter((n) => n.startsWith("..2")).length).toBe(1);
  });

  it("a reader holding the old path keeps seeing consistent content", () => {
    const d = join(tmp(), "vol");
    writeAtomic(d, new Map([["k", f("old")]]));
    const through = join(d, "k");
    writeAtomic(d, new Map([["k", f("new")]]));
    expect(readFileSync(through, "utf8")).toBe("new");
  });

  it("empty payloads and repair of a missing link", () => {
    const d = join(tmp(), "vol");
    expect(writeAtomic(d, new Map())).toBe(true);
    expect(readdirSync(d).filter((n) => !n.startsWith("..")).length).toBe(0);
    writeAtomic(d, new Map([["k", f("v")]]));
    rmSync(join(d, "k"));
    expect(writeAtomic(d, new Map([["k", f("v")]]))).toBe(false);
    expect(readFileSync(join(d, "k"), "utf8")).toBe("v");
  });

  it("rejects bad paths before touching anything", () => {
    for (const [p, msg] of [["", "must not be empty"], ["/abs", "must be relative path"], ["a/../b", "must not contain '..'"], ["..x", "must not start with '..'"], ["a".repeat(256), "255 characters"]] as const) {
      expect(validatePayloadPath(p)).toContain(msg);
    }
    const d = join(tmp(), "vol");
    expect(() => writeAtomic(d, new Map([["../escape", f("x")]]))).toThrow("invalid path: must not contain '..'");
    expect(validatePayloadPath("ok/path.txt")).toBeUndefined();
  });
});
