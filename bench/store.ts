/**
 * `npm run bench -- store [seconds]`: durable writes/s with 256-byte values at 1 and 1,000 puts in
 * flight, for the embedded store (in process, fsync on) and a single-member etcd started here
 * (through its HTTP/JSON gateway with an undici keep-alive pool: client overhead included, as
 * the output says, and natively over gRPC/HTTP2). One discarded 1 s warm-up, then the median of 3
 * runs of `seconds` (argument, default 3) per method, each run made of 0.5 s slices alternating
 * between the methods (fair under bursty background load). Ends with a `RESULT` line whose
 * etcd figures are the better of etcd's two client methods.
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

/** Runs `inFlight` closed-loop writers for `seconds`; returns [completed writes, elapsed s]. */
async function slice(put: Put, inFlight: number, tag: string, seconds: number): Promise<[number, number]> {
  let done = 0;
  let n = 0;
  const start = performance.now();
  const deadline = start + seconds * 1000;
  async function worker(): Promise<void> {
    while (performance.now() < deadline) {
      await put(`/registry/bench/${tag}/${n++}`, VALUE);
      done++;
    }
  }
  await Promise.all(Array.from({ length: inFlight }, worker));
  return [done, (performance.now() - start) / 1000];
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1] as number;
const fmt = (x: number): string => Math.round(x).toLocaleString("en-US");

type Method = "embedded" | "gateway" | "grpc";

/** Measures every method at every level (runs interleaved, see below). */
async function benchAll(etcd: Etcd | undefined): Promise<Record<Method, Record<number, number>>> {
  const dir = await mkdtemp(join(tmpdir(), "tug-bench-store-"));
  const out: Record<Method, Record<number, number>> = { embedded: {}, gateway: {}, grpc: {} };
  try {
    const store = await openEmbeddedStore({ dataDir: dir });
    for (const c of LEVELS) {
      const puts: [Method, Put, () => Promise<void>][] = [["embedded", (k, v) => store.put(k, v), async () => {}]];
      if (etcd) {
        const gw = etcd.client(Math.min(c, 128));
        const grpc = etcd.grpcClient();
        puts.push(["gateway", (k, v) => gw.put(k, v), () => gw.close()]);
        puts.push(["grpc", (k, v) => grpc.put(k, v), () => grpc.close()]);
      }
      const runs = new Map<Method, number[]>(puts.map(([m]) => [m, []]));
      for (const [m, put] of puts) await slice(put, c, `${m}-${c}-warmup`, 1);
      // One run = SECONDS per method, taken in 0.5 s slices that alternate between the methods,
      // so that bursts of disk latency from other jobs on a shared machine hit all of them alike.
      const slices = Math.max(1, Math.round(SECONDS / 0.5));
      for (let i = 0; i < RUNS; i++) {
        const acc = new Map<Method, [number, number]>(puts.map(([m]) => [m, [0, 0]]));
        for (let k = 0; k < slices; k++) {
          for (const [m, put] of puts) {
            const [d, t] = await slice(put, c, `${m}-${c}-${i}-${k}`, SECONDS / slices);
            const a = acc.get(m) as [number, number];
            a[0] += d;
            a[1] += t;
          }
        }
        for (const [m, [d, t]] of acc) runs.get(m)?.push(d / t);
      }
      for (const [m, , close] of puts) {
        await close();
        const r = runs.get(m) ?? [];
        out[m][c] = median(r);
        console.log(`  ${m.padEnd(8)} w${c}: runs ${r.map(fmt).join(", ")} -> median ${fmt(median(r))}/s`);
      }
    }
    await store.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return out;
}

console.log(`store bench: durable puts of 256-byte values, 1s warm-up + ${RUNS} runs x ${SECONDS}s per cell (each run in 0.5s slices alternating between methods), median`);
console.log(`machine: ${cpus().length} cores (${cpus()[0]?.model ?? "?"}), Node ${process.version}`);
console.log("embedded: in-process Store.put (no client/network), group commit with O_DSYNC writes, data dir in os.tmpdir()");
const etcd = await startEtcd();
let results: Record<Method, Record<number, number>>;
if (etcd === undefined) {
  console.log("etcd: NOT FOUND at /usr/bin/etcd (install the Debian package etcd-server); skipping the comparison");
  results = await benchAll(undefined);
} else {
  console.log(`etcd ${etcd.version}: single member (pid ${etcd.pid}), data dir in os.tmpdir(), two client methods:`);
  console.log("  gateway = HTTP/1.1 JSON gRPC gateway POST /v3/kv/put (base64), undici Pool keep-alive, connections = min(in-flight, 128)");
  console.log("  grpc    = native gRPC etcdserverpb.KV/Put over one node:http2 connection, hand-encoded protobuf");
  try {
    results = await benchAll(etcd);
  } finally {
    await etcd.stop();
  }
}
const ours = results.embedded;
const gateway = etcd ? results.gateway : undefined;
const grpc = etcd ? results.grpc : undefined;
/** The comparison uses etcd's better client method per level (the stronger baseline). */
const theirs: Record<number, number> | undefined =
  gateway && grpc ? Object.fromEntries(LEVELS.map((c) => [c, Math.max(gateway[c] as number, grpc[c] as number)])) : undefined;

const rows = LEVELS.map((c) => {
  const o = ours[c] as number;
  const t = theirs?.[c];
  return { c, o, t, ratio: t ? o / t : undefined };
});
const na = (x: number | undefined): string => (x === undefined ? "n/a" : fmt(x));
console.log("\n| in flight | embedded writes/s | etcd gateway writes/s | etcd gRPC writes/s | embedded/etcd (best) |");
console.log("|---:|---:|---:|---:|---:|");
for (const r of rows) {
  console.log(`| ${r.c} | ${fmt(r.o)} | ${na(gateway?.[r.c])} | ${na(grpc?.[r.c])} | ${r.ratio ? r.ratio.toFixed(2) : "n/a"} |`);
}
const f = (x: number | undefined): string => (x === undefined ? "na" : String(Math.round(x)));
const g = (x: number | undefined): string => (x === undefined ? "na" : x.toFixed(2));
const [r1, r1000] = rows;
console.log(
  `RESULT store_w1=${f(r1?.o)} store_w1000=${f(r1000?.o)} etcd_w1=${f(r1?.t)} etcd_w1000=${f(r1000?.t)} ratio_w1=${g(r1?.ratio)} ratio_w1000=${g(r1000?.ratio)}`,
);
