import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type Store, StoreError, type WatchEvent } from "../types.ts";
import { openEmbeddedStore } from "./mod.ts";
import { snapshotName } from "./snapshot.ts";
import { HEADER_SIZE, decodeHeader, scanSegment } from "./wal.ts";

const b = (s: string): Uint8Array => new TextEncoder().encode(s);
const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "tug-recovery-"));
  dirs.push(d);
  return d;
}
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

/** Everything a client can observe: reads at every readable revision and the watch history. */
async function observe(store: Store): Promise<unknown> {
  const out: unknown[] = [store.currentRevision(), store.compactedRevision()];
  for (let rev = store.compactedRevision(); rev <= store.currentRevision(); rev++) {
    out.push((await store.range({ key: "", prefix: true, revision: rev })).kvs);
  }
  const batches: [number, readonly WatchEvent[]][] = [];
  const w = store.watch({ key: "", prefix: true, startRevision: store.compactedRevision() }, { onEvents: (e, r) => batches.push([r, e]), onError: (e) => { throw e; } });
  await new Promise((r) => setTimeout(r, 20));
  w.cancel();
  out.push(batches);
  return out;
}

async function expectCorrupt(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  try {
    const s = await p;
    await (s as Store).close();
  } catch (err) {
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).code).toBe("Corrupt");
    expect((err as Error).message).toMatch(pattern);
    return;
  }
  throw new Error("expected StoreError Corrupt, but open succeeded");
}

async function segmentFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.startsWith("wal-")).sort();
}

/** A store with 30 puts, some deletes and a compaction, closed; returns what it looked like. */
async function populated(dir: string, snapshotEvery = 1_000_000): Promise<unknown> {
  const s = await openEmbeddedStore({ dataDir: dir, snapshotEvery, segmentBytes: 300, log: () => {} });
  for (let i = 0; i < 30; i++) await s.put(`/registry/pods/ns/p${i % 7}`, b(`v${i}`));
  await s.delete({ key: "/registry/pods/ns/p1" });
  await s.delete({ key: "/registry/pods/ns/p2", end: "/registry/pods/ns/p4" });
  await s.compact(12);
  await Promise.all(Array.from({ length: 10 }, (_, i) => s.put(`/registry/nodes/n${i}`, b(`node${i}`))));
  const seen = await observe(s);
  await s.close();
  return seen;
}

describe("embedded store: reopen", () => {
  it("restores values, history, compaction and watch replay from the WAL alone", async () => {
    const dir = await tempDir();
    const before = await populated(dir);
    const s = await openEmbeddedStore({ dataDir: dir });
    expect(await observe(s)).toEqual(before);
    await s.close();
  });

  it("restores the same from snapshots plus the WAL, and truncates the log", async () => {
    const dir = await tempDir();
    const before = await populated(dir, 4);
    const names = await readdir(dir);
    expect(names.filter((n) => n.endsWith(".snap")).length).toBe(2);
    const s = await openEmbeddedStore({ dataDir: dir });
    expect(await observe(s)).toEqual(before);
    // Writing continues at the next revision, and a third open sees it.
    const rev = await s.put("/after", b("x"));
    expect(rev).toBe(s.currentRevision());
    await s.close();
    const s2 = await openEmbeddedStore({ dataDir: dir });
    expect((await s2.range({ key: "/after" })).kvs[0]?.modRevision).toBe(rev);
    await s2.close();
    // Old segments were deleted: far fewer than one per 300 bytes written.
    expect((await segmentFiles(dir)).length).toBeLessThan(8);
  });

  it("refuses a second open of the same directory with a clear error, and allows it after close", async () => {
    const dir = await tempDir();
    const s = await openEmbeddedStore({ dataDir: dir });
    await expect(openEmbeddedStore({ dataDir: dir })).rejects.toThrow(/is locked by process \d+ \(this process/);
    await s.close();
    const again = await openEmbeddedStore({ dataDir: dir });
    await again.close();
  });

  it("takes over a lock left by a dead process", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "LOCK"), "999999999\n");
    const s = await openEmbeddedStore({ dataDir: dir });
    await s.put("/a", b("1"));
    await s.close();
  });

  it("rejects a bad snapshotEvery", async () => {
    const dir = await tempDir();
    await expect(openEmbeddedStore({ dataDir: dir, snapshotEvery: 0 })).rejects.toThrow(/snapshotEvery/);
  });
});

describe("embedded store: damage on disk", () => {
  it("truncates a torn tail (partial record) with a notice and keeps everything before it", async () => {
    const dir = await tempDir();
    await populated(dir);
    const segs = await segmentFiles(dir);
    const last = join(dir, segs[segs.length - 1] as string);
    const good = await readFile(last);
    // A record header announcing 200 bytes, with only 10 present.
    const torn = new Uint8Array([200, 0, 0, 0, 1, 2, 3, 4, 1, 9, 9, 9, 9, 9, 9, 9, 9, 9]);
    await writeFile(last, Buffer.concat([good, torn]));
    const notices: string[] = [];
    const s = await openEmbeddedStore({ dataDir: dir, log: (m) => notices.push(m) });
    expect(notices.join("\n")).toMatch(/truncating torn tail at offset \d+/);
    expect(s.currentRevision()).toBe(43);
    await s.close();
    // Cut right after the last valid record (preallocated zeros went with the garbage).
    expect((await readFile(last)).length).toBe(scanSegment(good).validEnd);
  });

  it("treats zeros after the last record as preallocated space: no notice, nothing lost", async () => {
    const dir = await tempDir();
    await populated(dir);
    const segs = await segmentFiles(dir);
    const last = join(dir, segs[segs.length - 1] as string);
    await writeFile(last, Buffer.concat([await readFile(last), Buffer.alloc(4096)]));
    const notices: string[] = [];
    const s = await openEmbeddedStore({ dataDir: dir, log: (m) => notices.push(m) });
    expect(notices).toEqual([]);
    expect(s.currentRevision()).toBe(43);
    await s.close();
  });

  it("preallocates segments with zeros when fsync is on", async () => {
    const dir = await tempDir();
    const s = await openEmbeddedStore({ dataDir: dir });
    await s.put("/a", b("1"));
    await s.close();
    const segs = await segmentFiles(dir);
    const buf = await readFile(join(dir, segs[0] as string));
    expect(buf.length).toBeGreaterThanOrEqual(64 * 1024);
    const scan = scanSegment(buf);
    expect(scan.records).toHaveLength(1);
    expect(scan.damage).toBeUndefined();
    expect(buf.subarray(scan.validEnd).every((x) => x === 0)).toBe(true);
  });

  it("a torn record followed by preallocated zeros is a noticed torn tail", async () => {
    const dir = await tempDir();
    await populated(dir);
    const segs = await segmentFiles(dir);
    const last = join(dir, segs[segs.length - 1] as string);
    const buf = await readFile(last);
    const end = scanSegment(buf).validEnd;
    // A header announcing 40 bytes, 5 of them written, then the preallocated zeros.
    buf.set([40, 0, 0, 0, 9, 9, 9, 9, 1, 2, 3, 4, 5], end);
    await writeFile(last, buf);
    const notices: string[] = [];
    const s = await openEmbeddedStore({ dataDir: dir, log: (m) => notices.push(m) });
    expect(notices.join()).toMatch(new RegExp(`truncating torn tail at offset ${end} \\(checksum mismatch`));
    expect(s.currentRevision()).toBe(43);
    await s.close();
  });

  it("refuses a bad record followed by valid ones, naming file and offset", async () => {
    const dir = await tempDir();
    await populated(dir);
    const segs = await segmentFiles(dir);
    // The first segment holds several records; damage the first one's payload.
    const first = join(dir, segs[0] as string);
    const buf = await readFile(first);
    buf[24 + 8 + 3] = (buf[24 + 8 + 3] as number) ^ 0xff;
    await writeFile(first, buf);
    await expectCorrupt(openEmbeddedStore({ dataDir: dir }), /wal-0000000000000001\.log: bad record at offset 24 \(checksum mismatch\)/);
  });

  it("refuses damage to the last record of a segment that is not the last", async () => {
    const dir = await tempDir();
    await populated(dir);
    const segs = await segmentFiles(dir);
    const first = join(dir, segs[0] as string);
    const buf = await readFile(first);
    const recs = scanSegment(buf).records;
    const lastRec = recs[recs.length - 1]!.offset;
    buf[lastRec + 9] = (buf[lastRec + 9] as number) ^ 0x55;
    await writeFile(first, buf);
    await expectCorrupt(openEmbeddedStore({ dataDir: dir }), new RegExp(`bad record at offset ${lastRec} \\(checksum mismatch\\) in a segment that is not the last`));
  });

  it("refuses a missing middle segment as a revision gap", async () => {
    const dir = await tempDir();
    await populated(dir);
    const segs = await segmentFiles(dir);
    expect(segs.length).toBeGreaterThan(3);
    await rm(join(dir, segs[1] as string));
    await expectCorrupt(openEmbeddedStore({ dataDir: dir }), /revision gap at offset 24: expected revision \d+, found \d+/);
  });

  it("refuses a damaged segment header when records follow it", async () => {
    const dir = await tempDir();
    await populated(dir);
    const segs = await segmentFiles(dir);
    const p = join(dir, segs[0] as string);
    const buf = await readFile(p);
    buf[2] = 0;
    await writeFile(p, buf);
    await expectCorrupt(openEmbeddedStore({ dataDir: dir }), /bad magic at offset 0/);
  });

  it("drops an empty last segment whose header was torn", async () => {
    const dir = await tempDir();
    await populated(dir);
    await writeFile(join(dir, "wal-0000000000009999.log"), new Uint8Array([0x54, 0x55]));
    const notices: string[] = [];
    const s = await openEmbeddedStore({ dataDir: dir, log: (m) => notices.push(m) });
    expect(notices.join()).toMatch(/incomplete header/);
    expect(s.currentRevision()).toBe(43);
    await s.close();
  });

  it("falls back to the older snapshot when the newest is damaged", async () => {
    const dir = await tempDir();
    const before = await populated(dir, 4);
    const snaps = (await readdir(dir)).filter((n) => n.endsWith(".snap")).sort();
    const newest = join(dir, snaps[snaps.length - 1] as string);
    const buf = await readFile(newest);
    buf[buf.length >> 1] = (buf[buf.length >> 1] as number) ^ 1;
    await writeFile(newest, buf);
    const notices: string[] = [];
    const s = await openEmbeddedStore({ dataDir: dir, log: (m) => notices.push(m) });
    expect(notices.join()).toMatch(/checksum mismatch.*trying an older snapshot/);
    expect(await observe(s)).toEqual(before);
    await s.close();
    // The damaged file is kept aside, out of rotation.
    expect(await readdir(dir)).toContain(`${snaps[snaps.length - 1]}.corrupt`);
  });

  it("refuses a damaged snapshot with no older valid one", async () => {
    const dir = await tempDir();
    await populated(dir, 4);
    const snaps = (await readdir(dir)).filter((n) => n.endsWith(".snap")).sort();
    for (const n of snaps) {
      const p = join(dir, n);
      const buf = await readFile(p);
      buf[12] = (buf[12] as number) ^ 0x40;
      await writeFile(p, buf);
    }
    await expectCorrupt(openEmbeddedStore({ dataDir: dir, log: () => {} }), /snapshot .*snap-\d{16}\.snap: checksum mismatch at offset \d+ \(and no older valid snapshot\)/);
  });

  it("does not read segments the newest snapshot covers; they matter only for the fallback", async () => {
    const dir = await tempDir();
    const before = await populated(dir, 4);
    const snaps = (await readdir(dir)).filter((n) => n.endsWith(".snap")).sort();
    const newestRev = Number(/snap-(\d+)/.exec(snaps[snaps.length - 1] as string)?.[1]);
    const segs = await segmentFiles(dir);
    const bases = await Promise.all(segs.map(async (n) => (decodeHeader(await readFile(join(dir, n))) as { baseRevision: number }).baseRevision));
    // A segment followed by one starting at or below the newest snapshot is covered by it.
    const covered = segs.findIndex((_, i) => i + 1 < segs.length && (bases[i + 1] as number) <= newestRev);
    expect(covered).toBeGreaterThanOrEqual(0);
    const p = join(dir, segs[covered] as string);
    const buf = await readFile(p);
    buf[HEADER_SIZE + 9] = (buf[HEADER_SIZE + 9] as number) ^ 0xff;
    await writeFile(p, buf);
    const s = await openEmbeddedStore({ dataDir: dir, log: () => {} });
    expect(await observe(s)).toEqual(before);
    await s.close();
    // Without the newest snapshot, that segment is needed again, and its damage is reported.
    const newest = join(dir, snaps[snaps.length - 1] as string);
    const snap = await readFile(newest);
    snap[20] = (snap[20] as number) ^ 1;
    await writeFile(newest, snap);
    await expectCorrupt(openEmbeddedStore({ dataDir: dir, log: () => {} }), new RegExp(`${segs[covered]}: bad record at offset 24`));
  });

  it("ignores an unfinished snapshot temp file", async () => {
    const dir = await tempDir();
    const before = await populated(dir);
    await writeFile(join(dir, `${snapshotName(40)}.tmp`), new Uint8Array([1, 2, 3]));
    const s = await openEmbeddedStore({ dataDir: dir, log: () => {} });
    expect(await observe(s)).toEqual(before);
    await s.close();
    expect((await readdir(dir)).some((n) => n.endsWith(".tmp"))).toBe(false);
  });
});
