/**
 * Crash tests of the embedded store:
 * (a) a child process writes as fast as it can and is SIGKILLed at random moments; every write it
 *     saw acknowledged must survive, with revisions strictly consistent;
 * (b) a valid WAL damaged at many offsets (truncation at every byte of the last records, random
 *     truncations, byte flips) either recovers every record before the damage point with a
 *     notice, or refuses to open with StoreError("Corrupt").
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, readdir, rm, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Store, StoreError } from "../types.ts";
import { openEmbeddedStore } from "./mod.ts";
import { FRAME_HEADER, HEADER_SIZE } from "./wal.ts";

const here = dirname(fileURLToPath(import.meta.url));
const enc = new TextEncoder();
const dec = new TextDecoder();
const valueFor = (key: string): string => `${key}|`.repeat(4);

function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

let root = "";
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "tug-crash-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Runs the writer child, kills it `killAfterMs` after it is ready; returns the acks it printed. */
function runChild(dir: string, round: number, killAfterMs: number): Promise<Map<string, number>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", join(here, "_crash_child.ts"), dir, String(round)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const acks = new Map<string, number>();
    let buf = "";
    let stderr = "";
    let timer: NodeJS.Timeout | undefined;
    const safety = setTimeout(() => child.kill("SIGKILL"), 25_000);
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const [tag, key, rev] = line.split(" ");
        if (tag === "ready" && timer === undefined) timer = setTimeout(() => child.kill("SIGKILL"), killAfterMs);
        if (tag === "ack" && key !== undefined) acks.set(key, Number(rev));
      }
    });
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      clearTimeout(safety);
      if (timer) clearTimeout(timer);
      // A partial last line was never a complete ack: ignored.
      if (signal === "SIGKILL") resolve(acks);
      else reject(new Error(`writer exited with ${code ?? signal}: ${stderr}`));
    });
  });
}

/** Asserts the store holds every ack and that revisions 2..current are one put each, no gaps. */
async function checkAll(store: Store, acked: Map<string, number>): Promise<void> {
  const all = await store.range({ key: "/registry/pods/", prefix: true });
  const byKey = new Map(all.kvs.map((kv) => [kv.key, kv]));
  const missing: string[] = [];
  for (const [key, rev] of acked) {
    const kv = byKey.get(key);
    if (kv === undefined) {
      missing.push(key);
      continue;
    }
    expect(kv.modRevision).toBe(rev);
    expect(kv.version).toBe(1);
    expect(dec.decode(kv.value)).toBe(valueFor(key));
  }
  expect(missing).toEqual([]);
  // Each revision after 1 was exactly one put of a new key: revisions are dense and unique.
  const revs = all.kvs.map((kv) => kv.modRevision).sort((a, b) => a - b);
  expect(revs.length).toBe(store.currentRevision() - 1);
  revs.forEach((r, i) => expect(r).toBe(i + 2));
}

describe("crash: SIGKILL during writes", () => {
  it("keeps every acknowledged write across random kills", { timeout: 60_000 }, async () => {
    const dir = join(root, "kill");
    await mkdir(dir);
    const r = rng(Date.now() & 0xffff);
    const acked = new Map<string, number>();
    const started = Date.now();
    let rounds = 0;
    // Several rounds, bounded in time (~10-20 s total).
    while (rounds < 6 && Date.now() - started < 15_000) {
      const acks = await runChild(dir, rounds, 100 + Math.floor(r() * 900));
      for (const [k, v] of acks) acked.set(k, v);
      const notices: string[] = [];
      const store = await openEmbeddedStore({ dataDir: dir, log: (m) => notices.push(m), snapshotEvery: 300 });
      try {
        await checkAll(store, acked);
      } finally {
        await store.close();
      }
      rounds++;
      if (process.env.CRASH_DEBUG) console.log(`round ${rounds}: ${acks.size} acks, revision ${Math.max(...acks.values())}, notices ${notices.join("; ")}`);
    }
    expect(rounds).toBeGreaterThanOrEqual(3);
    expect(acked.size).toBeGreaterThan(100);
  });
});

describe("crash: damaged WAL", () => {
  /** A dir with one WAL segment of `n` single-put records (no snapshot); returns its bytes and record ends. */
  async function makeWal(n: number, fsync = false): Promise<{ wal: Uint8Array; name: string; ends: number[] }> {
    const dir = join(root, "src");
    await rm(dir, { recursive: true, force: true });
    const s = await openEmbeddedStore({ dataDir: dir, fsync });
    for (let i = 0; i < n; i++) await s.put(`/k/${i}`, enc.encode(`value-${i}`));
    await s.close();
    const name = (await readdir(dir)).find((f) => f.startsWith("wal-")) as string;
    const wal = new Uint8Array(await readFile(join(dir, name)));
    const ends: number[] = [];
    let off = HEADER_SIZE;
    while (off < wal.length) {
      const len = new DataView(wal.buffer, off, 4).getUint32(0, true);
      if (len === 0) break; // preallocated zeros
      off += FRAME_HEADER + len;
      ends.push(off);
    }
    expect(ends).toHaveLength(n);
    return { wal, name, ends };
  }

  let trial = 0;
  /**
   * Opens a dir holding `bytes` as its only segment. Returns the number of records recovered and
   * whether a notice was logged, or "corrupt".
   */
  async function recoverFrom(name: string, bytes: Uint8Array): Promise<{ records: number; noticed: boolean } | "corrupt"> {
    const dir = join(root, `t${trial++}`);
    await mkdir(dir);
    await writeFile(join(dir, name), bytes);
    const notices: string[] = [];
    try {
      const s = await openEmbeddedStore({ dataDir: dir, fsync: false, log: (m) => notices.push(m) });
      const r = await s.range({ key: "/k/", prefix: true });
      const records = s.currentRevision() - 1;
      // What is there is exactly the first `records` writes, with their values.
      expect(r.count).toBe(records);
      for (const kv of r.kvs) expect(dec.decode(kv.value)).toBe(`value-${kv.key.slice(3)}`);
      await s.close();
      await rm(dir, { recursive: true, force: true });
      return { records, noticed: notices.length > 0 };
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      if (err instanceof StoreError && err.code === "Corrupt") {
        expect(err.message).toMatch(/wal-\d{16}\.log.*offset \d+/);
        return "corrupt";
      }
      throw err;
    }
  }

  /** Records wholly before byte offset `at`. */
  const intactBefore = (ends: number[], at: number): number => ends.filter((e) => e <= at).length;

  it("truncation at every byte of the last records, and at random offsets, keeps every record before the cut", { timeout: 60_000 }, async () => {
    const { wal, name, ends } = await makeWal(40);
    const r = rng(1234);
    const cuts = new Set<number>();
    for (let at = ends[ends.length - 4] as number; at <= wal.length; at++) cuts.add(at);
    for (let i = 0; i < 40; i++) cuts.add(HEADER_SIZE + Math.floor(r() * (wal.length - HEADER_SIZE)));
    for (const at of cuts) {
      const out = await recoverFrom(name, wal.subarray(0, at));
      const want = intactBefore(ends, at);
      if (out === "corrupt") throw new Error(`a plain truncation at ${at} was reported corrupt`);
      expect(out.records).toBe(want);
      // Losing bytes of a record is never silent.
      expect(out.noticed).toBe(!ends.includes(at) && at !== HEADER_SIZE);
    }
  });

  it("byte flips: mid-log damage refuses to open; damage in the last record is a noticed torn tail", { timeout: 60_000 }, async () => {
    const { wal, name, ends } = await makeWal(30);
    const r = rng(99);
    const lastStart = ends[ends.length - 2] as number;
    for (let i = 0; i < 80; i++) {
      // Half the flips land in the last record, half anywhere in the records.
      const at = i % 2 === 0 ? lastStart + Math.floor(r() * (wal.length - lastStart)) : HEADER_SIZE + Math.floor(r() * (wal.length - HEADER_SIZE));
      const bad = wal.slice();
      bad[at] = (bad[at] as number) ^ (1 + Math.floor(r() * 255));
      const out = await recoverFrom(name, bad);
      const before = intactBefore(ends, at);
      if (at >= lastStart) {
        // The last record is damaged: it is a torn tail, dropped with a notice.
        expect(out).toEqual({ records: ends.length - 1, noticed: true });
      } else {
        // A record followed by valid ones: never a silently shorter store.
        if (out !== "corrupt") throw new Error(`flip at ${at} (record ${before}) recovered ${out.records} records instead of refusing`);
      }
    }
    // And the header: a flip there with records after it is corruption too.
    const bad = wal.slice();
    bad[3] = (bad[3] as number) ^ 0x10;
    expect(await recoverFrom(name, bad)).toBe("corrupt");
  });

  it("in a preallocated segment, a write lost mid-record (zeros from any byte on) is a noticed torn tail", { timeout: 60_000 }, async () => {
    const made = await makeWal(20, true);
    const { name, ends } = made;
    const lastEnd = ends[ends.length - 1] as number;
    expect(made.wal.length).toBeGreaterThan(lastEnd + 4096);
    // Keep 4 KiB of the preallocated zeros (enough, and keeps each trial small).
    const wal = made.wal.subarray(0, lastEnd + 4096);
    for (let at = ends[ends.length - 3] as number; at < lastEnd; at++) {
      const bad = wal.slice();
      bad.fill(0, at, lastEnd);
      const out = await recoverFrom(name, bad);
      if (out === "corrupt") throw new Error(`zeroed tail from ${at} was reported corrupt`);
      expect(out.records).toBe(intactBefore(ends, at));
      expect(out.noticed).toBe(!ends.includes(at));
    }
  });

  it("garbage after the last record is a torn tail; a valid record after garbage is corruption", async () => {
    const { wal, name, ends } = await makeWal(10);
    const r = rng(5);
    const garbage = new Uint8Array(300).map(() => Math.floor(r() * 256));
    const withGarbage = new Uint8Array([...wal, ...garbage]);
    expect(await recoverFrom(name, withGarbage)).toEqual({ records: 10, noticed: true });
    // Garbage in place of record 5, then the remaining valid records.
    const cut = ends[4] as number;
    const spliced = new Uint8Array([...wal.subarray(0, cut), ...garbage.subarray(0, 17), ...wal.subarray(ends[5] as number)]);
    expect(await recoverFrom(name, spliced)).toBe("corrupt");
  });
});
