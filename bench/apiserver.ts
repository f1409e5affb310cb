/**
 * `npm run bench -- apiserver [--store embedded|memory] [--pods N] [--nodes N] [--budget-s S] [--runs N] [--quick] [--requests-only]`
 *
 * The apiserver measured through Tugboat's own client library (src/client), JSON vs Kubernetes
 * protobuf, as issue 2 §6 asks:
 *
 * - Setup: the control plane (`startControlPlane`, node-http2, plaintext h2c on 127.0.0.1, admin
 *   token, controller-manager and scheduler disabled: the apiserver alone) runs in a CHILD process, so its CPU is measured apart from the load generator's:
 *   server CPU = utime+stime of the child from /proc/<pid>/stat (all its threads, GC included)
 *   read before and after each phase. RSS is read from the child after two forced GCs (IPC
 *   message; the child runs with --expose-gc) and also from /proc/<pid>/status without GC.
 *   Store: the embedded store (WAL + fsync) in a temp dir by default, `--store memory` for the
 *   in-memory one.
 * - Throughput phases, each run 3 times per encoding (interleaved json/protobuf), median reported;
 *   before each run the bench waits (<= 15 s) for the server to be idle, so background work left
 *   by the previous run (store flushes, GC) is not billed to the next:
 *   create (pods, 64 in flight), get (64 in flight), list pages of 500 (16 in flight) and full
 *   lists of a namespace holding 10,000 pods (2 in flight). Creates/gets go through the typed
 *   client (bodies encoded/decoded); list bodies are read to the last byte but not decoded by the
 *   load generator (its decode cost is reported once, separately), so list figures are the
 *   server's. All pods are realistic (bench/_fixtures.ts) and carry a kubelet-like status.
 * - Memory: 5,000 nodes are created through the API, then pods through the API (protobuf create +
 *   status update, 128 in flight) for `--budget-s` seconds (default 90); the rest up to 150,000 is
 *   written by the child straight into its store (`--seed direct`, default: realistic pods with
 *   uid, creationTimestamp and status, encoded as the apiserver stores them; the watch cache loads
 *   them through its store watch). With `--seed api` everything goes through the API and, when the
 *   budget runs out, the rate and a linear extrapolation are reported, clearly labelled.
 * - LIST of all pods (`/api/v1/pods`, served from the watch cache), time to last byte, protobuf
 *   and JSON, median of 3.
 * - `--requests-only`: only the throughput phases (plus a GET of a small object, a Namespace, for
 *   the fixed per-request cost) and their CPU ratios; no memory fill, no 150k LIST.
 */
import { fork, type ChildProcess } from "node:child_process";
import { execSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { KubeObject } from "../src/api/object.ts";
import { createClient, type Client } from "../src/client/client.ts";
import { decodeBody, type Encoding } from "../src/client/encoding.ts";
import { loadKubeconfig } from "../src/client/kubeconfig.ts";
import type { ResourceClient } from "../src/client/resource.ts";
import { realisticNode, realisticPod, realisticPodStatus } from "./_fixtures.ts";

const self = fileURLToPath(import.meta.url);

// ---- child: the control plane -------------------------------------------------------------------

interface StatsReply { type: "stats"; rss: number; heapUsed: number; external: number; arrayBuffers: number }
type ChildMsg = { type: "ready"; url: string; kubeconfig: string } | StatsReply | { type: "seeded" } | { type: "error"; message: string };

async function serve(dir: string, store: string): Promise<void> {
  const { startControlPlane, defaultDeps } = await import("../src/server/control-plane.ts");
  const { createMemoryStore } = await import("../src/store/memory.ts");
  const { encodeObject } = await import("../src/api/codec/mod.ts");
  const { randomUUID } = await import("node:crypto");
  let st: import("../src/store/types.ts").Store | undefined;
  const deps = {
    ...defaultDeps,
    openStore: async (d: string) => (st = store === "memory" ? createMemoryStore() : await defaultDeps.openStore(d)),
  };
  const cp = await startControlPlane({
    dataDir: dir, listen: { host: "127.0.0.1", port: 0 }, kubeconfigOut: join(dir, "kubeconfig"),
    insecurePlaintext: true, transport: "node-http2",
    // The apiserver alone: controllers reacting to the bench's pods would bill their work (informer
    // relists, reconciles) to whatever phase runs at the time.
    disable: ["controller-manager", "scheduler"], // the apiserver alone
  }, deps);
  const gc = (globalThis as { gc?: () => void }).gc;
  process.on("message", (m: unknown) => {
    const cmd = (m as { cmd?: string }).cmd;
    if (cmd === "stats") {
      gc?.();
      gc?.();
      const mu = process.memoryUsage();
      process.send!({ type: "stats", rss: mu.rss, heapUsed: mu.heapUsed, external: mu.external, arrayBuffers: mu.arrayBuffers } satisfies StatsReply);
    } else if (cmd === "seed") {
      // Direct seeding: realistic pods (with uid, creationTimestamp and status) written to the store
      // in batches, as the apiserver would store them; the watch cache picks them up from the store.
      const { from, count, nodes } = m as { from: number; count: number; nodes: number };
      void (async () => {
        for (let b = 0; b < count; b += 500) {
          const ops = [];
          for (let k = b; k < Math.min(count, b + 500); k++) {
            const p = realisticPod(from + k, nodes);
            const md = p.metadata!;
            const full = { ...p, metadata: { ...md, uid: randomUUID(), creationTimestamp: "2026-11-22T10:00:00Z" }, status: realisticPodStatus(from + k) };
            ops.push({ type: "put" as const, key: `/registry/pods/${md.namespace}/${md.name}`, value: encodeObject(full) });
          }
          await st!.txn({ success: ops });
        }
        process.send!({ type: "seeded" });
      })();
    } else if (cmd === "stop") {
      void cp.stop().finally(() => process.exit(0));
    }
  });
  process.send!({ type: "ready", url: cp.url, kubeconfig: cp.kubeconfigPath } satisfies ChildMsg);
}

// ---- parent: the load generator -------------------------------------------------------------------

interface Args { store: string; pods: number; nodes: number; budgetS: number; runs: number; quick: boolean; seed: "api" | "direct"; requestsOnly: boolean }

function parseArgs(argv: string[]): Args {
  const a: Args = { store: "embedded", pods: 150_000, nodes: 5_000, budgetS: 90, runs: 3, quick: false, seed: "direct", requestsOnly: false };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    const v = (): string => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${k} needs a value`);
      return x;
    };
    if (k === "--store") a.store = v();
    else if (k === "--pods") a.pods = Number(v());
    else if (k === "--nodes") a.nodes = Number(v());
    else if (k === "--budget-s") a.budgetS = Number(v());
    else if (k === "--runs") a.runs = Number(v());
    else if (k === "--quick") a.quick = true;
    else if (k === "--requests-only") a.requestsOnly = true;
    else if (k === "--seed") {
      const x = v();
      if (x !== "api" && x !== "direct") throw new Error("--seed must be api or direct");
      a.seed = x;
    }
    else throw new Error(`unknown argument ${k}`);
  }
  if (a.store !== "embedded" && a.store !== "memory") throw new Error(`--store must be embedded or memory`);
  return a;
}

const CLK_TCK = (() => {
  try {
    return Number(execSync("getconf CLK_TCK").toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds (user+system, all threads) the process has used so far. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / CLK_TCK; // fields 14 and 15 (utime, stime)
}

function vmRss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) * 1024 : 0;
}

class Server {
  private waiters: Array<(m: ChildMsg) => void> = [];
  constructor(readonly child: ChildProcess, readonly url: string, readonly kubeconfig: string) {
    child.on("message", (m: unknown) => this.waiters.shift()?.(m as ChildMsg));
  }

  static async start(dir: string, store: string): Promise<Server> {
    const child = fork(self, ["--serve", dir, store], {
      execArgv: ["--import", "tsx", "--expose-gc", "--max-old-space-size=6144"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    const ready = await new Promise<ChildMsg>((resolve, reject) => {
      child.once("message", (m: unknown) => resolve(m as ChildMsg));
      child.once("exit", (code) => reject(new Error(`server exited with code ${code} before serving`)));
    });
    if (ready.type !== "ready") throw new Error(`server failed: ${JSON.stringify(ready)}`);
    return new Server(child, ready.url, ready.kubeconfig);
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Has the child write `count` pods straight into its store (see `serve`). */
  seed(from: number, count: number, nodes: number): Promise<void> {
    return new Promise((resolve) => {
      this.waiters.push(() => resolve());
      this.child.send({ cmd: "seed", from, count, nodes });
    });
  }

  stats(): Promise<StatsReply> {
    return new Promise((resolve) => {
      this.waiters.push((m) => resolve(m as StatsReply));
      this.child.send({ cmd: "stats" });
    });
  }

  async stop(): Promise<void> {
    const exited = new Promise<void>((r) => this.child.once("exit", () => r()));
    this.child.send({ cmd: "stop" });
    const t = setTimeout(() => this.child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(t);
  }
}

interface PhaseResult { ops: number; seconds: number; serverCpu: number; errors: number; bytes: number; firstError?: string }

/** Runs `total` operations with `inflight` at a time; stops early past `deadline` (ms epoch). */
async function pool(total: number, inflight: number, op: (i: number) => Promise<number | void>, deadline = Infinity): Promise<{ done: number; errors: number; bytes: number; firstError?: string }> {
  let next = 0;
  let done = 0;
  let errors = 0;
  let bytes = 0;
  let firstError: string | undefined;
  const worker = async (): Promise<void> => {
    while (next < total && Date.now() < deadline) {
      const i = next++;
      try {
        const n = await op(i);
        if (typeof n === "number") bytes += n;
        done++;
      } catch (e) {
        errors++;
        firstError ??= e instanceof Error ? e.message : String(e);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(inflight, total) }, worker));
  return { done, errors, bytes, ...(firstError !== undefined ? { firstError } : {}) };
}

/**
 * Waits (at most 15 s) until the server is idle — at most one CPU tick in half a second — so that
 * background work left by the previous phase (store flushes and snapshots, GC of its garbage) is
 * not billed to the next one.
 */
async function settle(server: Server): Promise<void> {
  const until = Date.now() + 15_000;
  while (Date.now() < until) {
    const c0 = cpuSeconds(server.pid);
    await new Promise((r) => setTimeout(r, 500));
    if (cpuSeconds(server.pid) - c0 <= 1 / CLK_TCK) return;
  }
}

async function measure(server: Server, total: number, inflight: number, op: (i: number) => Promise<number | void>): Promise<PhaseResult> {
  await settle(server);
  const c0 = cpuSeconds(server.pid);
  const t0 = performance.now();
  const r = await pool(total, inflight, op);
  const seconds = (performance.now() - t0) / 1000;
  return { ops: r.done, seconds, serverCpu: cpuSeconds(server.pid) - c0, errors: r.errors, bytes: r.bytes, ...(r.firstError ? { firstError: r.firstError } : {}) };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const fmt = (n: number, d = 0): string => (Number.isFinite(n) ? n.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d }) : "n/a");
const mib = (b: number): string => fmt(b / 1048576, 0);

/**
 * Creates a pod, then sets its status as a kubelet would. The control plane's controllers may
 * touch the pod in between (409 Conflict): then re-read and retry, a bounded number of times.
 */
async function createPodWithStatus(pods: ResourceClient, obj: KubeObject, status: Record<string, unknown>): Promise<void> {
  let cur = await pods.create(obj);
  for (let attempt = 0; ; attempt++) {
    try {
      await pods.updateStatus({ ...cur, status });
      return;
    } catch (e) {
      if ((e as { code?: number }).code !== 409 || attempt >= 5) throw e;
      cur = await pods.get(obj.metadata!.name!);
    }
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const scale = args.quick ? 0.1 : 1;
  const C = Math.round(2000 * scale), G = Math.round(5000 * scale), P = Math.round(200 * scale), F = Math.max(2, Math.round(10 * scale));
  const LIST_NS_PODS = args.quick ? 2000 : 10_000;
  const dir = mkdtempSync(join(tmpdir(), "tug-bench-api-"));
  const log = (s: string): void => void process.stderr.write(`[apiserver bench] ${s}\n`);
  log(`starting the control plane (child process, store=${args.store}, dir=${dir})`);
  const server = await Server.start(dir, args.store);
  const cfg = loadKubeconfig(server.kubeconfig);
  const clients: Record<Encoding, Client> = { json: createClient(cfg, { encoding: "json", timeoutMs: 300_000 }), protobuf: createClient(cfg, { encoding: "protobuf", timeoutMs: 300_000 }) };
  const proto = clients.protobuf;
  const out: string[] = [];
  const results: Record<string, string> = {};
  try {
    measured: {
      const base = await server.stats();
      log(`server up at ${server.url}, RSS ${mib(base.rss)} MiB`);
      const nsApi = proto.resourceFor("v1", "Namespace");
      const ensureNs = async (name: string): Promise<void> => {
        await nsApi.create({ apiVersion: "v1", kind: "Namespace", metadata: { name } }).catch((e: unknown) => {
          if ((e as { code?: number }).code !== 409) throw e;
        });
      };

      // Seed the list namespace: 10,000 pods with status (protobuf, not measured).
      await ensureNs("list10k");
      const listPods = proto.resourceFor("v1", "Pod").namespace("list10k");
      const names: string[] = [];
      let t = performance.now();
      const seed = await pool(LIST_NS_PODS, 128, async (i) => {
        const p = realisticPod(i, args.nodes, "list10k");
        names[i] = p.metadata!.name!;
        await createPodWithStatus(listPods, p, realisticPodStatus(i));
      });
      if (seed.errors > 0) throw new Error(`seeding failed: ${seed.firstError}`);
      log(`seeded ${LIST_NS_PODS} pods in list10k in ${fmt((performance.now() - t) / 1000, 1)} s`);

      type Row = { phase: string; enc: Encoding; rate: number; cpuPerOp: number; bytesPerOp: number };
      const rows: Row[] = [];
      const phases: Array<{ phase: string; n: number; inflight: number; op: (enc: Encoding, run: number) => (i: number) => Promise<number | void> }> = [
        {
          phase: "create pod", n: C, inflight: 64,
          op: (enc, run) => {
            const pods = clients[enc].resourceFor("v1", "Pod").namespace(`create-${enc}`);
            return async (i) => void (await pods.create(realisticPod(run * C + i, args.nodes, `create-${enc}`)));
          },
        },
        {
          phase: "get pod", n: G, inflight: 64,
          op: (enc) => {
            const pods = clients[enc].resourceFor("v1", "Pod").namespace("list10k");
            return async (i) => void (await pods.get(names[(i * 7919) % names.length]!));
          },
        },
        {
          phase: "get namespace (small object)", n: G, inflight: 64,
          op: (enc) => {
            const nss = clients[enc].resourceFor("v1", "Namespace");
            return async () => void (await nss.get("list10k"));
          },
        },
        {
          phase: "list 500/page", n: P, inflight: 4,
          op: (enc) => async () => {
            const r = await clients[enc].rest.request({ method: "GET", path: "/api/v1/namespaces/list10k/pods", query: { limit: 500 } });
            if (r.status !== 200) throw clients[enc].rest.errorOf(r);
            return r.body.length;
          },
        },
        {
          phase: `list ${fmt(LIST_NS_PODS)} (full)`, n: F, inflight: 1,
          op: (enc) => async () => {
            const r = await clients[enc].rest.request({ method: "GET", path: "/api/v1/namespaces/list10k/pods" });
            if (r.status !== 200) throw clients[enc].rest.errorOf(r);
            return r.body.length;
          },
        },
      ];
      await ensureNs("create-json");
      await ensureNs("create-protobuf");
      for (const ph of phases) {
        const per: Record<Encoding, PhaseResult[]> = { json: [], protobuf: [] };
        for (let run = 0; run < args.runs; run++) {
          for (const enc of ["json", "protobuf"] as const) {
            const r = await measure(server, ph.n, ph.inflight, ph.op(enc, run));
            if (r.errors > 0) throw new Error(`${ph.phase} ${enc}: ${r.errors} errors, first: ${r.firstError}`);
            per[enc].push(r);
          }
        }
        for (const enc of ["json", "protobuf"] as const) {
          const rs = per[enc];
          rows.push({
            phase: ph.phase, enc,
            rate: median(rs.map((r) => r.ops / r.seconds)),
            cpuPerOp: median(rs.map((r) => (r.serverCpu / r.ops) * 1e6)),
            bytesPerOp: median(rs.map((r) => r.bytes / r.ops)),
          });
        }
        const j = rows.at(-2)!, p = rows.at(-1)!;
        log(`${ph.phase}: json ${fmt(j.rate)}/s ${fmt(j.cpuPerOp)} µs CPU/op; protobuf ${fmt(p.rate)}/s ${fmt(p.cpuPerOp)} µs CPU/op`);
      }

      const tableRows = (): string[] => {
        const t = [
          "| phase | in flight | JSON ops/s | protobuf ops/s | JSON server CPU µs/op | protobuf server CPU µs/op | CPU ratio JSON/protobuf | bytes/op JSON / protobuf |",
          "|---|---:|---:|---:|---:|---:|---:|---:|",
        ];
        for (const ph of phases) {
          const j = rows.find((r) => r.phase === ph.phase && r.enc === "json")!, p = rows.find((r) => r.phase === ph.phase && r.enc === "protobuf")!;
          t.push(`| ${ph.phase} | ${ph.inflight} | ${fmt(j.rate)} | ${fmt(p.rate)} | ${fmt(j.cpuPerOp)} | ${fmt(p.cpuPerOp)} | ${fmt(j.cpuPerOp / p.cpuPerOp, 2)}x | ${j.bytesPerOp ? `${fmt(j.bytesPerOp)} / ${fmt(p.bytesPerOp)}` : "-"} |`);
        }
        return t;
      };
      const ratioOf = (phase: string): number =>
        rows.find((r) => r.phase === phase && r.enc === "json")!.cpuPerOp / rows.find((r) => r.phase === phase && r.enc === "protobuf")!.cpuPerOp;
      if (args.requestsOnly) {
        out.push(`Apiserver request benchmark — ${args.store} store, node-http2 h2c on loopback, server in a child process (--requests-only)`);
        out.push(`(server CPU from /proc/<pid>/stat; medians of ${args.runs} runs; client = src/client on one HTTP/2 session)`);
        out.push("", ...tableRows());
        Object.assign(results, {
          store: args.store,
          get_cpu_ratio: fmt(ratioOf("get pod"), 2),
          list500_cpu_ratio: fmt(ratioOf("list 500/page"), 2),
          listfull_cpu_ratio: fmt(ratioOf(phases[4]!.phase), 2),
        });
        break measured; // the report is printed below
      }

      // Client-side decode cost of one full list (informational).
      const decodeMs: Record<Encoding, number> = { json: 0, protobuf: 0 };
      for (const enc of ["json", "protobuf"] as const) {
        const r = await clients[enc].rest.request({ method: "GET", path: "/api/v1/namespaces/list10k/pods" });
        const t1 = performance.now();
        const l = decodeBody(r.body, r.headers["content-type"]) as { items: unknown[] };
        decodeMs[enc] = performance.now() - t1;
        if (l.items.length !== LIST_NS_PODS) throw new Error(`decoded ${l.items.length} items`);
      }

      // ---- memory: 150k pods + 5k nodes through the API ----
      const nodesApi = proto.resourceFor("v1", "Node");
      const deadline = Date.now() + args.budgetS * 1000;
      t = performance.now();
      const nodeRes = await pool(args.nodes, 128, async (i) => void (await nodesApi.create(realisticNode(i))), deadline);
      if (nodeRes.errors > 0) throw new Error(`node creation failed: ${nodeRes.firstError}`);
      const nodeSeconds = (performance.now() - t) / 1000;
      log(`created ${nodeRes.done} nodes in ${fmt(nodeSeconds, 1)} s`);
      for (let n = 0; n < 200; n++) await ensureNs(`team-${n}`);
      const existing = LIST_NS_PODS + 2 * args.runs * C; // list10k + the create phase's pods
      const toCreate = Math.max(0, args.pods - existing);
      const podsApi = proto.resourceFor("v1", "Pod");
      t = performance.now();
      const c0 = cpuSeconds(server.pid);
      let lastLog = Date.now();
      const fill = await pool(toCreate, 128, async (i) => {
        const p = realisticPod(100_000_000 + i, args.nodes);
        await createPodWithStatus(podsApi.namespace(p.metadata!.namespace!), p, realisticPodStatus(i));
        if (Date.now() - lastLog > 15_000) {
          lastLog = Date.now();
          log(`  ${fmt(i)} / ${fmt(toCreate)} pods, ${fmt(i / ((performance.now() - t) / 1000))} pods/s, server RSS ${mib(vmRss(server.pid))} MiB`);
        }
      }, deadline);
      const fillSeconds = (performance.now() - t) / 1000;
      const fillCpu = cpuSeconds(server.pid) - c0;
      if (fill.errors > 0) throw new Error(`pod creation failed (${fill.errors}): ${fill.firstError}`);
      let storedPods = existing + fill.done;
      let seeded = 0;
      if (args.seed === "direct" && storedPods < args.pods) {
        seeded = args.pods - storedPods;
        log(`API fill budget used up at ${fmt(storedPods)} pods; seeding ${fmt(seeded)} more straight into the store`);
        const ts = performance.now();
        await server.seed(100_000_000 + fill.done, seeded, args.nodes);
        storedPods += seeded;
        log(`seeded in ${fmt((performance.now() - ts) / 1000, 1)} s`);
      }
      const counted = await proto.rest.object({ method: "GET", path: "/api/v1/pods", query: { limit: 1 } });
      const remaining = (counted.metadata as { remainingItemCount?: number } | undefined)?.remainingItemCount;
      if (remaining !== undefined && remaining + 1 !== storedPods) log(`WARNING: the server lists ${remaining + 1} pods, expected ${storedPods}`);
      const mem = await server.stats();
      const rssNoGc = vmRss(server.pid);
      const complete = storedPods >= args.pods && nodeRes.done >= args.nodes;
      const podRate = fill.done / fillSeconds;
      // Linear extrapolation of RSS above the idle baseline, by stored pods (nodes are few and done).
      const rssAt = complete ? mem.rss : base.rss + ((mem.rss - base.rss) * args.pods) / storedPods;
      log(`stored ${fmt(storedPods)} pods + ${fmt(nodeRes.done)} nodes; fill ${fmt(podRate)} pods/s (create+status); RSS ${mib(mem.rss)} MiB after GC`);

      // ---- LIST all pods from the cache ----
      const bigList: Record<Encoding, { ms: number; bytes: number; cpu: number }> = { json: { ms: 0, bytes: 0, cpu: 0 }, protobuf: { ms: 0, bytes: 0, cpu: 0 } };
      for (const enc of ["protobuf", "json"] as const) {
        const ms: number[] = [], cpu: number[] = [];
        let bytes = 0;
        for (let run = 0; run < args.runs; run++) {
          const cc = cpuSeconds(server.pid);
          const t1 = performance.now();
          const r = await clients[enc].rest.request({ method: "GET", path: "/api/v1/pods" });
          ms.push(performance.now() - t1);
          cpu.push(cpuSeconds(server.pid) - cc);
          if (r.status !== 200) throw clients[enc].rest.errorOf(r);
          bytes = r.body.length;
        }
        bigList[enc] = { ms: median(ms), bytes, cpu: median(cpu) };
        log(`LIST ${fmt(storedPods)} pods ${enc}: ${fmt(median(ms))} ms, ${mib(bytes)} MiB`);
      }

      // ---- report ----
      const byKey = (phase: string, enc: Encoding): Row => rows.find((r) => r.phase === phase && r.enc === enc)!;
      out.push(`Apiserver benchmark — ${args.store} store, node-http2 h2c on loopback, server in a child process`);
      out.push(`(server CPU from /proc/<pid>/stat; medians of ${args.runs} runs; client = src/client on one HTTP/2 session)`);
      out.push("");
      out.push(...tableRows());
      out.push("");
      out.push(`client decode of one ${fmt(LIST_NS_PODS)}-pod list (load generator, informational): JSON ${fmt(decodeMs.json)} ms, protobuf ${fmt(decodeMs.protobuf)} ms`);
      out.push("");
      out.push(`| memory | value |`);
      out.push(`|---|---:|`);
      out.push(`| idle server RSS (after GC) | ${mib(base.rss)} MiB |`);
      out.push(`| stored | ${fmt(storedPods)} pods + ${fmt(nodeRes.done)} nodes${complete ? "" : ` (budget ${args.budgetS} s ran out; target ${fmt(args.pods)} + ${fmt(args.nodes)})`} |`);
      out.push(`| of which through the API / seeded straight into the store | ${fmt(storedPods - seeded)} / ${fmt(seeded)} |`);
      out.push(`| fill rate (protobuf create + status update, 128 in flight) | ${fmt(podRate)} pods/s, server CPU ${fmt((fillCpu / Math.max(1, fill.done)) * 1e6)} µs/pod |`);
      out.push(`| server RSS after GC | ${mib(mem.rss)} MiB (heap ${mib(mem.heapUsed)} MiB, external ${mib(mem.external)} MiB); without GC ${mib(rssNoGc)} MiB |`);
      if (!complete) out.push(`| EXTRAPOLATED RSS at ${fmt(args.pods)} pods (linear above idle) | ${mib(rssAt)} MiB |`);
      out.push("");
      out.push(`| LIST all ${fmt(storedPods)} pods (/api/v1/pods) | time to last byte | body | server CPU |`);
      out.push(`|---|---:|---:|---:|`);
      for (const enc of ["protobuf", "json"] as const) out.push(`| ${enc} | ${fmt(bigList[enc].ms)} ms | ${mib(bigList[enc].bytes)} MiB | ${fmt(bigList[enc].cpu, 2)} s |`);
      const listScaled = complete ? bigList.protobuf.ms : (bigList.protobuf.ms * args.pods) / storedPods;
      if (!complete) out.push(`| protobuf, EXTRAPOLATED to ${fmt(args.pods)} pods (linear) | ${fmt(listScaled)} ms | | |`);

      const getRatio = byKey("get pod", "json").cpuPerOp / byKey("get pod", "protobuf").cpuPerOp;
      const pageRatio = byKey("list 500/page", "json").cpuPerOp / byKey("list 500/page", "protobuf").cpuPerOp;
      const fullRatio = byKey(phases[4]!.phase, "json").cpuPerOp / byKey(phases[4]!.phase, "protobuf").cpuPerOp;
      const goals = [
        [`protobuf >= 2x JSON on get CPU`, getRatio >= 2, `${fmt(getRatio, 2)}x`],
        [`protobuf >= 2x JSON on list CPU (500/page)`, pageRatio >= 2, `${fmt(pageRatio, 2)}x`],
        [`protobuf >= 2x JSON on list CPU (full)`, fullRatio >= 2, `${fmt(fullRatio, 2)}x`],
        [`RSS <= 2 GiB with ${fmt(args.pods)} pods + ${fmt(args.nodes)} nodes${complete ? "" : " (extrapolated)"}`, rssAt <= 2 * 1024 ** 3, `${mib(rssAt)} MiB`],
        [`LIST ${fmt(args.pods)} pods protobuf <= 1 s${complete ? "" : " (extrapolated)"}`, listScaled <= 1000, `${fmt(listScaled)} ms`],
      ] as const;
      out.push("");
      out.push(`| goal | met | measured |`);
      out.push(`|---|---|---:|`);
      for (const [g, ok, v] of goals) out.push(`| ${g} | ${ok ? "yes" : "**NO**"} | ${v} |`);
      Object.assign(results, {
        store: args.store,
        create_json_per_s: fmt(byKey("create pod", "json").rate).replace(/,/g, ""),
        create_pb_per_s: fmt(byKey("create pod", "protobuf").rate).replace(/,/g, ""),
        get_json_per_s: fmt(byKey("get pod", "json").rate).replace(/,/g, ""),
        get_pb_per_s: fmt(byKey("get pod", "protobuf").rate).replace(/,/g, ""),
        get_cpu_ratio: fmt(getRatio, 2),
        list500_cpu_ratio: fmt(pageRatio, 2),
        listfull_cpu_ratio: fmt(fullRatio, 2),
        pods_stored: String(storedPods),
        nodes_stored: String(nodeRes.done),
        rss_mib: mib(mem.rss).replace(/,/g, ""),
        ...(complete ? {} : { rss_mib_extrapolated: mib(rssAt).replace(/,/g, "") }),
        list_all_pb_ms: fmt(bigList.protobuf.ms).replace(/,/g, ""),
        list_all_json_ms: fmt(bigList.json.ms).replace(/,/g, ""),
        goals_met: `${goals.filter((g) => g[1]).length}/${goals.length}`,
      });
    }
  } finally {
    clients.json.close();
    clients.protobuf.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(out.join("\n"));
  console.log(`RESULT ${Object.entries(results).map(([k, v]) => `${k}=${v}`).join(" ")}`);
}

if (process.argv[2] === "--serve") {
  serve(process.argv[3]!, process.argv[4] ?? "embedded").catch((e: unknown) => {
    process.send?.({ type: "error", message: e instanceof Error ? e.message : String(e) } satisfies ChildMsg);
    process.exit(1);
  });
} else {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
