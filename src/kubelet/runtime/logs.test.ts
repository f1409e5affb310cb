import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  appendCriLog,
  type CriLogRecord,
  CriLogWriter,
  encodeCriRecord,
  formatCriTimestamp,
  formatLogRecord,
  parseCriRecord,
  parseCriTimestamp,
  readCriLog,
  recordText,
} from "./logs.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const T0 = Date.UTC(2026, 10, 22, 10, 0, 0);

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "tug-logs-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function collect(it: AsyncIterable<CriLogRecord>): Promise<string[]> {
  const out: string[] = [];
  for await (const r of it) out.push(`${r.stream}:${r.partial ? "P" : "F"}:${recordText(r)}`);
  return out;
}

describe("CRI timestamps", () => {
  it("formats RFC3339 with nine fractional digits in UTC", () => {
    expect(formatCriTimestamp(T0 + 123)).toBe("2026-11-22T10:00:00.123000000Z");
    expect(formatCriTimestamp(T0 + 0.5)).toBe("2026-11-22T10:00:00.000500000Z");
  });
  it("parses nanoseconds, short fractions and offsets", () => {
    expect(parseCriTimestamp("2026-11-22T10:00:00.123456789Z")).toBeCloseTo(T0 + 123.456789, 6);
    expect(parseCriTimestamp("2026-11-22T10:00:00Z")).toBe(T0);
    expect(parseCriTimestamp("2026-11-22T11:00:00.5+01:00")).toBe(T0 + 500);
    expect(parseCriTimestamp("yesterday")).toBeNaN();
    expect(parseCriTimestamp("2026-11-22 10:00:00Z")).toBeNaN();
  });
});

describe("CRI records", () => {
  it("round-trips a record", () => {
    const line = encodeCriRecord(T0, "stderr", false, "hello world");
    expect(dec.decode(line)).toBe("2026-11-22T10:00:00.000000000Z stderr F hello world\n");
    const r = parseCriRecord(line.subarray(0, line.length - 1));
    expect(r).toMatchObject({ stream: "stderr", partial: false, timeMs: T0, time: "2026-11-22T10:00:00.000000000Z" });
    expect(recordText(r)).toBe("hello world");
  });
  it("parses P tags, tags with extra flags and empty content", () => {
    expect(parseCriRecord(enc.encode("2026-11-22T10:00:00Z stdout P abc")).partial).toBe(true);
    expect(parseCriRecord(enc.encode("2026-11-22T10:00:00Z stdout F:x abc")).partial).toBe(false);
    expect(recordText(parseCriRecord(enc.encode("2026-11-22T10:00:00Z stdout F")))).toBe("");
    expect(recordText(parseCriRecord(enc.encode("2026-11-22T10:00:00Z stdout F  two spaces")))).toBe(" two spaces");
  });
  it("rejects malformed lines with a SyntaxError naming the part", () => {
    expect(() => parseCriRecord(enc.encode("garbage"))).toThrow(/lacks/);
    expect(() => parseCriRecord(enc.encode("notatime stdout F x"))).toThrow(/bad timestamp/);
    expect(() => parseCriRecord(enc.encode("2026-11-22T10:00:00Z stdin F x"))).toThrow(/bad stream/);
    expect(() => parseCriRecord(enc.encode("2026-11-22T10:00:00Z stdout X x"))).toThrow(/bad tag/);
  });
  it("formats for kubectl logs, with and without timestamps", () => {
    const r = parseCriRecord(enc.encode("2026-11-22T10:00:00.000000001Z stdout F hi"));
    expect(dec.decode(formatLogRecord(r))).toBe("hi\n");
    expect(dec.decode(formatLogRecord(r, true))).toBe("2026-11-22T10:00:00.000000001Z hi\n");
    const p = parseCriRecord(enc.encode("2026-11-22T10:00:00Z stdout P par"));
    expect(dec.decode(formatLogRecord(p))).toBe("par");
  });
});

describe("CriLogWriter", () => {
  it("splits chunks into lines per stream and joins pieces across writes", async () => {
    let t = T0;
    const path = join(dir, "c", "0.log");
    const w = new CriLogWriter(path, { now: () => t++ });
    w.write("stdout", "a\nb");
    w.write("stderr", "err\n");
    w.write("stdout", "c\n\nd");
    w.close();
    w.close(); // idempotent
    expect(await collect(readCriLog(path))).toEqual(["stdout:F:a", "stderr:F:err", "stdout:F:bc", "stdout:F:", "stdout:F:d"]);
    expect(() => w.write("stdout", "x")).toThrow(/closed/);
  });
  it("splits long lines into P records of at most maxLineBytes", async () => {
    const path = join(dir, "long.log");
    const w = new CriLogWriter(path, { maxLineBytes: 4, now: () => T0 });
    w.write("stdout", "abcdefghij\n");
    w.write("stdout", "123456");
    w.write("stdout", "7\n");
    w.close();
    expect(await collect(readCriLog(path))).toEqual([
      "stdout:P:abcd",
      "stdout:P:efgh",
      "stdout:F:ij",
      "stdout:P:1234",
      "stdout:P:56",
      "stdout:F:7",
    ]);
  });
  it("rotates by size keeping maxFiles files", async () => {
    const path = join(dir, "r.log");
    const w = new CriLogWriter(path, { maxBytes: 200, maxFiles: 3, now: () => T0 });
    for (let i = 0; i < 40; i++) w.write("stdout", `line ${i}\n`);
    w.close();
    const files = readdirSync(dir).sort();
    expect(files).toEqual(["r.log", "r.log.1", "r.log.2"]);
    for (const f of files) expect(statSync(join(dir, f)).size).toBeLessThanOrEqual(200);
    const cur = await collect(readCriLog(path));
    expect(cur[cur.length - 1]).toBe("stdout:F:line 39");
    const prev = await collect(readCriLog(`${path}.1`));
    expect(Number(prev[prev.length - 1]!.split(" ")[1]) + 1).toBe(Number(cur[0]!.split(" ")[1]));
  });
  it("with maxFiles 1 starts over in place", async () => {
    const path = join(dir, "one.log");
    const w = new CriLogWriter(path, { maxBytes: 100, maxFiles: 1, now: () => T0 });
    for (let i = 0; i < 10; i++) w.write("stdout", `line ${i}\n`);
    w.close();
    expect(readdirSync(dir)).toEqual(["one.log"]);
    expect(statSync(path).size).toBeLessThanOrEqual(100);
  });
  it("rejects bad rotation options", () => {
    expect(() => new CriLogWriter(join(dir, "x"), { maxBytes: 0 })).toThrow(RangeError);
    expect(() => new CriLogWriter(join(dir, "x"), { maxFiles: 0 })).toThrow(RangeError);
    expect(() => new CriLogWriter(join(dir, "x"), { maxLineBytes: -1 })).toThrow(RangeError);
    expect(() => appendCriLog(join(dir, "y"), [{ stream: "stdout", text: "x", timeMs: T0 }], { maxBytes: 1.5 })).toThrow(RangeError);
  });
});

describe("appendCriLog", () => {
  it("appends whole lines (newlines inside become spaces) and rotates", async () => {
    const path = join(dir, "p", "a.log");
    appendCriLog(path, [{ stream: "stdout", text: "one\ntwo", timeMs: T0 }]);
    appendCriLog(path, []);
    expect(await collect(readCriLog(path))).toEqual(["stdout:F:one two"]);
    for (let i = 0; i < 30; i++) appendCriLog(path, [{ stream: "stderr", text: `n${i}`, timeMs: T0 }], { maxBytes: 120, maxFiles: 2 });
    expect(readdirSync(join(dir, "p")).sort()).toEqual(["a.log", "a.log.1"]);
  });
});

describe("readCriLog", () => {
  const seed = (path: string, n: number): void => {
    appendCriLog(path, Array.from({ length: n }, (_, i) => ({ stream: i % 2 ? "stderr" : "stdout", text: `m${i}`, timeMs: T0 + i * 1000 }) as const));
  };
  it("reads a missing file as empty (without follow)", async () => {
    expect(await collect(readCriLog(join(dir, "none.log")))).toEqual([]);
  });
  it("applies tail, since and stream", async () => {
    const path = join(dir, "l.log");
    seed(path, 6);
    expect((await collect(readCriLog(path, { tail: 2 }))).map((s) => s.split(":")[2])).toEqual(["m4", "m5"]);
    expect(await collect(readCriLog(path, { tail: 0 }))).toEqual([]);
    expect((await collect(readCriLog(path, { sinceMs: T0 + 3000 }))).map((s) => s.split(":")[2])).toEqual(["m3", "m4", "m5"]);
    expect((await collect(readCriLog(path, { stream: "stderr" }))).map((s) => s.split(":")[2])).toEqual(["m1", "m3", "m5"]);
    // tail first, then since (the kubelet's order)
    expect((await collect(readCriLog(path, { tail: 3, sinceMs: T0 + 4000 }))).map((s) => s.split(":")[2])).toEqual(["m4", "m5"]);
  });
  it("skips garbled lines instead of failing", async () => {
    const path = join(dir, "g.log");
    writeFileSync(path, `garbage line\n${dec.decode(encodeCriRecord(T0, "stdout", false, "ok"))}`);
    expect(await collect(readCriLog(path))).toEqual(["stdout:F:ok"]);
  });
  it("rejects bad options with RangeError", async () => {
    await expect(collect(readCriLog(join(dir, "x"), { tail: -1 }))).rejects.toThrow(RangeError);
    await expect(collect(readCriLog(join(dir, "x"), { pollMs: 0 }))).rejects.toThrow(RangeError);
  });
  it("follows new records, waits for the file, survives rotation and ends when done", async () => {
    const path = join(dir, "f", "0.log");
    let done = false;
    const got: string[] = [];
    const follower = (async () => {
      for await (const r of readCriLog(path, { follow: true, pollMs: 2, isDone: () => done })) got.push(recordText(r));
    })();
    await new Promise((r) => setTimeout(r, 10));
    const w = new CriLogWriter(path, { maxBytes: 150, maxFiles: 2, now: () => T0 });
    for (let i = 0; i < 12; i++) {
      w.write("stdout", `x${i}\n`);
      await new Promise((r) => setTimeout(r, 3));
    }
    w.close();
    await new Promise((r) => setTimeout(r, 20));
    done = true;
    await follower;
    expect(got).toEqual(Array.from({ length: 12 }, (_, i) => `x${i}`));
    expect(existsSync(`${path}.1`)).toBe(true);
  });
  it("stops following on abort", async () => {
    const path = join(dir, "a.log");
    seed(path, 1);
    const ac = new AbortController();
    const got: string[] = [];
    const follower = (async () => {
      for await (const r of readCriLog(path, { follow: true, pollMs: 2, signal: ac.signal })) got.push(recordText(r));
    })();
    await new Promise((r) => setTimeout(r, 10));
    ac.abort();
    await follower;
    expect(got).toEqual(["m0"]);
    expect(readFileSync(path, "utf8")).toContain("m0");
  });
});
