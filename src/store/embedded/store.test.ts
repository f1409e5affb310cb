import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runStoreConformance } from "../conformance.ts";
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
