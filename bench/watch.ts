/**
 * `npm run bench -- watch [watchers] [changes]`: watch fan-out from the watch cache, in process.
 *
 * 1. fan-out: N watchers on all pods; one pod change; time from the store write until every
 *    watcher's consumer has the event and its JSON bytes (encoded once, shared). p50/p99 over
 *    several changes. Goal (issue 2): p99 <= 100 ms with 5,000 watchers.
 * 2. indexed: N per-node watchers (`spec.nodeName=node-i`, the kubelet's watch) with the cache's
 *    spec.nodeName index; a pod change visits only its node's watcher.
 * 3. unindexed: the same per-node watchers without the index (every change visits all N), to
 *    show what the index buys.
 */
import { decodeObject, encodeObject } from "../src/api/codec/mod.ts";
import type { KubeObject } from "../src/api/object.ts";
import { buildObjectFilter, matchAll } from "../src/api/selectors/filter.ts";
import { createWatchCache, type WatchCache } from "../src/apiserver/watchcache/mod.ts";
import type { CacheWatch, ObjectFilter } from "../src/apiserver/watchcache/types.ts";
import { createMemoryStore } from "../src/store/memory.ts";
import type { Store } from "../src/store/types.ts";
import { jsonEncoders, realisticPod } from "./list.ts";

const WATCHERS = Number(process.argv[2] ?? 5000);
const CHANGES = Number(process.argv[3] ?? 30);
const POD_FIELDS = ["metadata.name", "metadata.namespace", "spec.nodeName", "status.phase"];

function podFields(o: KubeObject): Record<string, string> {
  const spec = (o["spec"] ?? {}) as { nodeName?: string };
  const status = (o["status"] ?? {}) as { phase?: string };
  return {
    "metadata.name": o.metadata?.name ?? "", "metadata.namespace": o.metadata?.namespace ?? "",
    "spec.nodeName": spec.nodeName ?? "", "status.phase": status.phase ?? "",
  };
}

const keyOf = (p: KubeObject) => `/registry/pods/${p.metadata?.namespace}/${p.metadata?.name}`;
const pct = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN; };

interface Scenario { name: string; indexed: boolean; perNode: boolean }

async function run(sc: Scenario): Promise<{ p50: number; p99: number; max: number; visits: number; bytes: number }> {
  const store: Store = createMemoryStore();
  const pods: KubeObject[] = [];
  for (let i = 0; i < WATCHERS; i++) {
    const p = realisticPod(i, WATCHERS); // one pod per node
    pods.push(p);
    await store.put(keyOf(p), encodeObject(p));
  }
  const cache: WatchCache = createWatchCache({
    store, prefix: "/registry/pods/", decode: (kv) => decodeObject(kv.value), fields: podFields,
    encoders: jsonEncoders, indexFields: sc.indexed ? ["spec.nodeName"] : [], bookmarkIntervalMs: 0,
  });
  await cache.start();
  const rv = String(cache.revision());
  // Expected deliveries per change and a resolver fired when they are all in.
  let expected = 0, got = 0, bytes = 0, last = 0;
  let done: (() => void) | undefined;
  const watches: CacheWatch[] = [];
  for (let i = 0; i < WATCHERS; i++) {
    const filter: ObjectFilter = sc.perNode
      ? buildObjectFilter({ fieldSelector: `spec.nodeName=node-${String(i).padStart(5, "0")}`, supportedFields: POD_FIELDS, indexFields: ["spec.nodeName"] })
      : matchAll();
    const w = cache.watch({ filter, resourceVersion: rv, bufferSize: 100 });
    watches.push(w);
    void (async () => {
      for await (const item of w) {
        if (item.type === "BOOKMARK") continue;
        bytes = item.object.encoded("json").length; // what a watch response writes
        last = performance.now();
        if (++got === expected) done?.();
      }
    })();
  }
  await new Promise((r) => setTimeout(r, 50));
  const lat: number[] = [];
  let visits = 0;
  for (let c = 0; c < CHANGES; c++) {
    const p = pods[(c * 7919) % pods.length] as KubeObject & { status: { phase: string } };
    p.status.phase = c % 2 ? "Running" : "Succeeded";
    got = 0;
    expected = sc.perNode ? 1 : WATCHERS;
    const all = new Promise<void>((r) => { done = r; });
    const v0 = cache.stats().dispatchVisits;
    const t0 = performance.now();
    await store.put(keyOf(p), encodeObject(p));
    await all;
    lat.push(last - t0);
    visits += cache.stats().dispatchVisits - v0;
    if (cache.stats().cutOffWatchers) throw new Error("a watcher was cut off");
  }
  for (const w of watches) w.stop();
  cache.stop();
  return { p50: pct(lat, 50), p99: pct(lat, 99), max: Math.max(...lat), visits: visits / CHANGES, bytes };
}

async function main(): Promise<void> {
  const scenarios: Scenario[] = [
    { name: "fan-out: all watchers see every pod", indexed: true, perNode: false },
    { name: "per-node watchers, spec.nodeName index", indexed: true, perNode: true },
    { name: "per-node watchers, no index", indexed: false, perNode: true },
  ];
  const out: Record<string, { p50: number; p99: number; max: number; visits: number; bytes: number }> = {};
  console.log(`watch fan-out: ${WATCHERS} watchers on pods, ${CHANGES} changes each (in-process, JSON, memory store)`);
  console.log("| scenario | deliveries/change | watcher visits/change | p50 ms | p99 ms | max ms |");
  console.log("|---|---|---|---|---|---|");
  for (const sc of scenarios) {
    const r = await run(sc);
    out[sc.name] = r;
    console.log(`| ${sc.name} | ${sc.perNode ? 1 : WATCHERS} | ${r.visits.toFixed(0)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.max.toFixed(2)} |`);
    (globalThis as { gc?: () => void }).gc?.();
  }
  const f = out[scenarios[0]!.name]!, ix = out[scenarios[1]!.name]!, nx = out[scenarios[2]!.name]!;
  console.log(`RESULT watchers=${WATCHERS} changes=${CHANGES} fanout_p50_ms=${f.p50.toFixed(2)} fanout_p99_ms=${f.p99.toFixed(2)} ` +
    `indexed_p99_ms=${ix.p99.toFixed(3)} indexed_visits=${ix.visits.toFixed(0)} unindexed_p99_ms=${nx.p99.toFixed(3)} unindexed_visits=${nx.visits.toFixed(0)} ` +
    `event_bytes=${f.bytes} goal_fanout_p99_ms=100 ratio_fanout=${(f.p99 / 100).toFixed(2)}`);
}

main().catch((e: unknown) => { console.error(e); process.exit(1); });
