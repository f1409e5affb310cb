/**
 * Crash-test writer (run by crash.test.ts as `node --import tsx _crash_child.ts <dataDir> <round>`):
 * opens the store and writes as fast as it can, 16 puts in flight, printing `ack <key> <revision>`
 * for each acknowledged put, until it is killed (or after 20 s, as a safety bound).
 * Every ~200 acks it compacts a little, so snapshots and compaction records are exercised too.
 */
import { openEmbeddedStore } from "./mod.ts";

const [dir, round] = process.argv.slice(2);
if (!dir || !round) {
  console.error("usage: _crash_child.ts <dataDir> <round>");
  process.exit(2);
}
const store = await openEmbeddedStore({ dataDir: dir, snapshotEvery: 300, segmentBytes: 16 * 1024, log: () => {} });
const enc = new TextEncoder();
const deadline = Date.now() + 20_000;
let n = 0;
let acks = 0;
process.stdout.write(`ready ${store.currentRevision()}\n`);

export function valueFor(key: string): Uint8Array {
  return enc.encode(`${key}|`.repeat(4));
}

async function writer(): Promise<void> {
  while (Date.now() < deadline) {
    const key = `/registry/pods/r${round}/p${n++}`;
    const rev = await store.put(key, valueFor(key));
    process.stdout.write(`ack ${key} ${rev}\n`);
    if (++acks % 200 === 0) await store.compact(Math.max(1, rev - 100));
  }
}
await Promise.all(Array.from({ length: 16 }, writer));
await store.close();
