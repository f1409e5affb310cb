import type { FileHandle } from "node:fs/promises";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runStoreConformance } from "../conformance.ts";
import type { Store } from "../types.ts";
import { openEmbeddedStore } from "./mod.ts";

runStoreConformance("embedded", async () => {
  const dir = await mkdtemp(join(tmpdir(), "tug-store-"));
  const store = await openEmbeddedStore({ dataDir: dir, log: () => {} });
  return { store, cleanup: () => rm(dir, { recursive: true, force: true }) };
});

runStoreConformance("embedded (snapshot every 3 records)", async () => {
  const dir = await mkdtemp(join(tmpdir(), "tug-store-"));
  const store = await openEmbeddedStore({ dataDir: dir, snapshotEvery: 3, segmentBytes: 512, log: () => {} });
  return { store, cleanup: () => rm(dir, { recursive: true, force: true }) };
});

describe("embedded store: durability and failure", () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });
  async function fresh(): Promise<Store> {
    const dir = await mkdtemp(join(tmpdir(), "tug-store-"));
    dirs.push(dir);
    return openEmbeddedStore({ dataDir: dir, log: () => {} });
  }

  it("exposes a write to reads, currentRevision and watchers only once it is durable", async () => {
    const store = await fresh();
    const seen: number[] = [];
    store.watch({ key: "/d", prefix: true }, { onEvents: (_, rev) => seen.push(rev), onError: () => {} });
    await new Promise((r) => setTimeout(r, 10));
    const write = store.put("/d/1", new Uint8Array([1]));
    // Applied in memory, not yet on disk: invisible.
    const read = store.range({ key: "/d/1" });
    expect(store.currentRevision()).toBe(1);
    expect(seen).toEqual([]);
    expect((await read).kvs).toEqual([]);
    // A later txn still sees it (serializable), and answers only once it is durable.
    const cas = await store.txn({ compare: [{ key: "/d/1", target: "version", op: "=", value: 1 }] });
    expect(cas.succeeded).toBe(true);
    expect(await write).toBe(2);
    expect(store.currentRevision()).toBe(2);
    expect(seen).toEqual([2]);
    await store.close();
  });

  it("after a write-ahead-log I/O error, fails pending and later operations with a clear error", async () => {
    const store = await fresh();
    await store.put("/a", new Uint8Array([1]));
    // Test-only reach into the backend to make the next log write fail (EBADF).
    await (store as unknown as { fh: FileHandle }).fh.close();
    const errors: Error[] = [];
    store.watch({ key: "/a" }, { onEvents: () => {}, onError: (e) => errors.push(e) });
    await expect(store.put("/a", new Uint8Array([2]))).rejects.toThrow(/store failed: .*reopen it/);
    await expect(store.range({ key: "/a" })).rejects.toMatchObject({ code: "Closed" });
    expect(errors[0]?.message).toMatch(/store failed/);
    await store.close();
  });
});
