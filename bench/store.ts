/**
 * `npm run bench -- store [seconds]`: durable writes/s with 256-byte values at 1 and 1,000 puts in
 * flight, for the embedded store (in process, fsync on) and a single-member etcd started here
 * (through its HTTP/JSON gateway with an undici keep-alive pool: client overhead included, as
 * the output says). Median of 3 runs of a few seconds each. Ends with a `RESULT` line.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { openEmbeddedStore } from "../src/store/embedded/mod.ts";
import { type Etcd, startEtcd } from "./_etcd.ts";

const SECONDS = Number(process.argv[2] ?? 3);
const RUNS = 3;
const LEVELS = [1, 1000] as const;
const VALUE = new Uint8Array(256).map((_, i) => (i * 31) & 0xff);

type Put = (key: string, value: Uint8Array) => Promise<unknown>;

/** Runs `inFlight` closed-loop writers for `SECONDS`; returns completed writes per second. */
async function measure(put: Put, inFlight: number, tag: string): Promise<number> {
  let done = 0;
  let n = 0;
  const start = performance.now();
  const deadline = start + SECONDS * 1000;
  async function worker(): Promise<void> {
    while (performance.now() < deadline) {
      await put(`/registry/bench/${tag}/${n++}`, VALUE);
      done++;
    }
  }
  await Promise.all(Array.from({ length: inFlight }, worker));
  return done / ((performance.now() - start) / 1000);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1] as number;
const fmt = (x: number): string => Math.round(x).toLocaleString("en-US");

async function benchOurs(): Promise<Record<number, number>> {
  const out: Record<number, number> = {};
  const dir = await mkdtemp(join(tmpdir(), "tug-bench-store-"));
  try {
    const store = await openEmbeddedStore({ dataDir: dir });
    for (const c of LEVELS) {
      const runs: number[] = [];
      for (let i = 0; i < RUNS; i++) runs.push(await measure((k, v) => store.put(k, v), c, `ours-${c}-${i}`));
      out[c] = median(runs);
      console.log(`  embedded  w${c}: runs ${runs.map(fmt).join(", ")} -> median ${fmt(out[c])}/s`);
    }
    await store.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return out;
}

async function benchEtcd(etcd: Etcd): Promise<Record<number, number>> {
  const out: Record<number, number> = {};
  for (const c of LEVELS) {
    const client = etcd.client(Math.min(c, 128));
    await client.put("/warmup", VALUE);
    const runs: number[] = [];
    for (let i = 0; i < RUNS; i++) runs.push(await measure((k, v) => client.put(k, v), c, `etcd-${c}-${i}`));
    await client.close();
    out[c] = median(runs);
    console.log(`  etcd      w${c}: runs ${runs.map(fmt).join(", ")} -> median ${fmt(out[c])}/s`);
  }
  return out;
}

console.log(`store bench: durable puts of 256-byte values, ${RUNS} runs x ${SECONDS}s per cell, median`);
console.log(`machine: ${cpus().length} cores (${cpus()[0]?.model ?? "?"}), Node ${process.version}`);
console.log("embedded: in-process Store.put, fsync (fdatasync) per group commit, data dir in os.tmpdir()");
const ours = await benchOurs();

let theirs: Record<number, number> | undefined;
const etcd = await startEtcd();
if (etcd === undefined) {
  console.log("etcd: NOT FOUND at /usr/bin/etcd (install the Debian package etcd-server); skipping the comparison");
} else {
  console.log(
    `etcd ${etcd.version}: single member (pid ${etcd.pid}), data dir in os.tmpdir(), ` +
      `client = HTTP/1.1 JSON gRPC gateway POST /v3/kv/put (base64), undici Pool keep-alive, connections = min(in-flight, 128)`,
  );
  try {
    theirs = await benchEtcd(etcd);
  } finally {
    await etcd.stop();
  }
}

const rows = LEVELS.map((c) => {
  const o = ours[c] as number;
  const t = theirs?.[c];
  return { c, o, t, ratio: t ? o / t : undefined };
});
console.log("\n| in flight | embedded writes/s | etcd writes/s | embedded/etcd |");
console.log("|---:|---:|---:|---:|");
for (const r of rows) console.log(`| ${r.c} | ${fmt(r.o)} | ${r.t ? fmt(r.t) : "n/a"} | ${r.ratio ? r.ratio.toFixed(2) : "n/a"} |`);
const f = (x: number | undefined): string => (x === undefined ? "na" : String(Math.round(x)));
const g = (x: number | undefined): string => (x === undefined ? "na" : x.toFixed(2));
const [r1, r1000] = rows;
console.log(
  `RESULT store_w1=${f(r1?.o)} store_w1000=${f(r1000?.o)} etcd_w1=${f(r1?.t)} etcd_w1000=${f(r1000?.t)} ratio_w1=${g(r1?.ratio)} ratio_w1000=${g(r1000?.ratio)}`,
);
