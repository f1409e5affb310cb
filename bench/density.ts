/**
 * `npm run bench -- density [--scale f] [--cap-min m] [--mode split|single] [--latency-pods n]
 * [--latency-qps q] [--concurrency c]` — shaped like Kubernetes' density/load tests (clusterloader2):
 *
 * Processes (all children of this one, on loopback, stopped by PID at the end):
 * - `tug server --insecure-plaintext` (h2c) with the **embedded store** in a fresh temp dir;
 * - `--mode split` (default): `tug server --disable controller-manager --disable scheduler` plus
 *   `tug controller-manager` and `tug scheduler` as their own processes, so each component's CPU
 *   and RSS is measured separately; `--mode single`: one `tug server` running all three;
 * - `tug hollow --nodes 1000` (one process, 1,000 node agents with the hollow runtime);
 * - this process is the driver: it creates the workload through the API (protobuf client) and
 *   watches every pod.
 *
 * Phases:
 * 1. **Saturation**: 300 Deployments × 100 replicas = 30,000 pods (30 per node, as upstream's
 *    density test) created with bounded concurrency; time from the first create to every pod
 *    Running+Ready as seen on the driver's watch. Capped (`--cap-min`, default 15): if the cap
 *    passes, the progress reached is reported.
 * 2. **Latency** (only when phase 1 finished): `--latency-pods` single-replica Deployments created at
 *    `--latency-qps` on the saturated cluster; their pod startup latency is the SLO figure, as in
 *    upstream's density test ("latency pods").
 *
 * Pod startup latency (SLO: p99 <= 5 s): creationTimestamp -> the driver's watch shows the pod
 * Running with Ready=True. creationTimestamp has 1 s resolution, which adds 0–1 s; the watch-only
 * figure (first seen on the watch -> Running) is printed beside it. Stage split per pod: created
 * (first seen) -> bound (spec.nodeName seen) -> Running.
 * API call latency (goal p99 <= 1 s for mutating calls): (a) as the driver observes it — its
 * Deployment creates plus a probe (ConfigMap create + patch + delete every 500 ms) running through
 * the whole saturation phase; (b) the apiserver's own `apiserver_request_sli_duration_seconds` per
 * (verb, resource) over the saturation phase (upstream's SLI: processing time without the wait
 * for an API Priority and Fairness seat), p99 from the histogram buckets, printed beside the
 * same figure with the queue wait (`apiserver_request_duration_seconds`).
 * CPU (utime+stime from /proc) and RSS (VmRSS / VmHWM) of every process, sampled every second.
 *
 * `--scale f` multiplies nodes, Deployments and latency pods (replicas stay 100: 30 pods per node);
 * a scaled run prints a clearly labelled linear extrapolation of the time to all Running.
 * Ends with one `RESULT` line.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createClient } from "../src/client/client.ts";
import { createInformer } from "../src/client/informer.ts";
import { loadKubeconfig } from "../src/client/kubeconfig.ts";
import type { KubeObject } from "../src/api/object.ts";

// ---- arguments ------------------------------------------------------------------------------------

interface Args { scale: number; capMin: number; mode: "split" | "single"; latencyPods: number; latencyQps: number; concurrency: number; replicas: number; inflight: [number, number] | undefined }

function parseArgs(argv: readonly string[]): Args {
  const a: Args = { scale: 1, capMin: 15, mode: "split", latencyPods: -1, latencyQps: 10, concurrency: 10, replicas: 100, inflight: undefined };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i], v = argv[i + 1];
    const num = (lo: number, hi: number): number => {
      const n = Number(v);
      if (v === undefined || !Number.isFinite(n) || n < lo || n > hi) throw new Error(`${k} wants a number in [${lo}, ${hi}], got ${JSON.stringify(v)}`);
      i++;
      return n;
    };
    if (k === "--scale") a.scale = num(0.001, 1);
    else if (k === "--cap-min") a.capMin = num(0.5, 120);
    else if (k === "--latency-pods") a.latencyPods = Math.round(num(0, 5000));
    else if (k === "--latency-qps") a.latencyQps = num(0.1, 1000);
    else if (k === "--concurrency") a.concurrency = Math.round(num(1, 500));
    else if (k === "--replicas") a.replicas = Math.round(num(1, 1000));
    else if (k === "--inflight") {
      // `R,M`: tug server's --max-requests-inflight R --max-mutating-requests-inflight M
      const m = /^(\d+),(\d+)$/.exec(v ?? "");
      if (!m) throw new Error(`--inflight wants R,M (e.g. 40,20), got ${JSON.stringify(v)}`);
      a.inflight = [Number(m[1]), Number(m[2])];
      i++;
    }
    else if (k === "--mode") {
      if (v !== "split" && v !== "single") throw new Error(`--mode wants split or single, got ${JSON.stringify(v)}`);
      a.mode = v;
      i++;
    } else throw new Error(`unknown argument ${JSON.stringify(k)} (density [--scale f] [--cap-min m] [--mode split|single] [--latency-pods n] [--latency-qps q] [--concurrency c] [--replicas r] [--inflight R,M])`);
  }
  if (a.latencyPods < 0) a.latencyPods = Math.max(20, Math.round(300 * a.scale));
  return a;
}

const args = parseArgs(process.argv.slice(2));
const NODES = Math.max(1, Math.round(1000 * args.scale));
const DEPLOYMENTS = Math.max(1, Math.round(300 * args.scale));
const PODS = DEPLOYMENTS * args.replicas;
const PER_NS = 30;
const SLO_STARTUP_MS = 5000;
const SLO_MUTATING_MS = 1000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const log = (m: string): void => { process.stderr.write(`density: ${m}\n`); };

// ---- child processes ---------------------------------------------------------------------------------

const repo = resolve(new URL(".", import.meta.url).pathname, "..");
const dir = mkdtempSync(join(tmpdir(), "tug-bench-density-"));
const kubeconfig = join(dir, "kubeconfig");

interface Proc { name: string; child: ChildProcess; out: string }
const procs: Proc[] = [];

function tug(name: string, argv: string[]): Proc {
  const child = spawn(process.execPath, ["--max-old-space-size=6144", join(repo, "bin/tug.js"), ...argv], { cwd: repo, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
  const p: Proc = { name, child, out: "" };
  const keep = (d: Buffer): void => { p.out = (p.out + d.toString("utf8")).slice(-20_000); };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  procs.push(p);
  return p;
}

async function stopAll(): Promise<void> {
  for (const p of [...procs].reverse()) {
    const c = p.child;
    if (c.pid === undefined || c.exitCode !== null || c.signalCode !== null) continue;
    const exited = new Promise<void>((r) => c.once("exit", () => r()));
    process.kill(c.pid, "SIGTERM");
    const t = setTimeout(() => { if (c.exitCode === null && c.signalCode === null && c.pid !== undefined) process.kill(c.pid, "SIGKILL"); }, 10_000);
    await exited;
    clearTimeout(t);
  }
}
process.on("exit", () => {
  for (const p of procs) if (p.child.pid !== undefined && p.child.exitCode === null && p.child.signalCode === null) process.kill(p.child.pid, "SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

async function waitOutput(p: Proc, re: RegExp, ms: number): Promise<RegExpExecArray> {
  const deadline = Date.now() + ms;
  for (;;) {
    const m = re.exec(p.out);
    if (m) return m;
    if (p.child.exitCode !== null || p.child.signalCode !== null) throw new Error(`${p.name} exited: ${p.out.slice(-3000)}`);
    if (Date.now() > deadline) throw new Error(`${p.name}: no ${String(re)} within ${ms} ms: ${p.out.slice(-3000)}`);
    await sleep(100);
  }
}

// ---- /proc sampling -----------------------------------------------------------------------------------

const TICK_S = 0.01; // CLK_TCK is 100 on Linux
interface Sample { at: number; cpuS: number; rssMiB: number; hwmMiB: number }
function procSample(pid: number): Sample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? NaN);
    return { at: Date.now(), cpuS: (Number(f[11]) + Number(f[12])) * TICK_S, rssMiB: kb("VmRSS") / 1024, hwmMiB: kb("VmHWM") / 1024 };
  } catch {
    return undefined;
  }
}
/** Busy and total CPU seconds of the whole machine (all cores) from /proc/stat. */
function machineCpu(): { busyS: number; totalS: number } {
  const f = (/^cpu\s+(.*)$/m.exec(readFileSync("/proc/stat", "utf8"))?.[1] ?? "").trim().split(/\s+/).map(Number);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busyS: (total - idle) * TICK_S, totalS: total * TICK_S };
}
const samples = new Map<string, Sample[]>();
function push(name: string, s: Sample): void {
  const a = samples.get(name);
  if (a) a.push(s);
  else samples.set(name, [s]);
}
function sampleAll(): void {
  for (const p of procs) {
    if (p.child.pid === undefined) continue;
    const s = procSample(p.child.pid);
    if (s) push(p.name, s);
  }
  const u = process.cpuUsage(), m = process.memoryUsage();
  push("driver", { at: Date.now(), cpuS: (u.user + u.system) / 1e6, rssMiB: m.rss / 2 ** 20, hwmMiB: NaN });
}
/** CPU seconds, peak RSS in [t0, t1] for a process (nearest samples). */
function procWindow(name: string, t0: number, t1: number): { cpuS: number; peakRss: number; endRss: number } {
  const s = samples.get(name) ?? [];
  const at = (t: number): Sample | undefined => s.reduce<Sample | undefined>((b, x) => (b === undefined || Math.abs(x.at - t) < Math.abs(b.at - t) ? x : b), undefined);
  const a = at(t0), b = at(t1);
  const inside = s.filter((x) => x.at >= t0 - 1000 && x.at <= t1 + 1000);
  return { cpuS: a && b ? b.cpuS - a.cpuS : NaN, peakRss: Math.max(...inside.map((x) => x.rssMiB)), endRss: b?.rssMiB ?? NaN };
}

// ---- metrics parsing ------------------------------------------------------------------------------------

interface Hist { verb: string; resource: string; le: number[]; cum: number[]; count: number; sum: number }
type Metrics = { hists: Map<string, Hist>; sli: Map<string, Hist>; counters: Map<string, number> };
function parseMetrics(text: string): Metrics {
  const hists = new Map<string, Hist>();
  const sli = new Map<string, Hist>();
  const counters = new Map<string, number>();
  for (const line of text.split("\n")) {
    const m = /^(\w+)\{([^}]*)\} ([0-9.eE+-]+)$/.exec(line) ?? /^(\w+) ([0-9.eE+-]+)$/.exec(line);
    if (!m) continue;
    const name = m[1]!;
    const labels = m.length === 4 ? Object.fromEntries([...m[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1]!, x[2]!])) : {};
    const value = Number(m[m.length - 1]);
    const into = name.startsWith("apiserver_request_duration_seconds") ? hists : name.startsWith("apiserver_request_sli_duration_seconds") ? sli : undefined;
    if (into !== undefined) {
      const key = `${labels["verb"]} ${labels["resource"]}`;
      const h = into.get(key) ?? { verb: labels["verb"] ?? "", resource: labels["resource"] ?? "", le: [], cum: [], count: 0, sum: 0 };
      into.set(key, h);
      if (name.endsWith("_bucket") && labels["le"] !== "+Inf") { h.le.push(Number(labels["le"])); h.cum.push(value); }
      else if (name.endsWith("_count")) h.count = value;
      else if (name.endsWith("_sum")) h.sum = value;
    } else {
      counters.set(`${name}{${m.length === 4 ? m[2] : ""}}`, value);
    }
  }
  return { hists, sli, counters };
}
/** b - a for every histogram of one family. */
function diffHists(a: Metrics, b: Metrics, family: "hists" | "sli" = "hists"): Hist[] {
  return [...b[family].values()].map((h) => {
    const o = a[family].get(`${h.verb} ${h.resource}`);
    return { ...h, cum: h.cum.map((c, i) => c - (o?.cum[i] ?? 0)), count: h.count - (o?.count ?? 0), sum: h.sum - (o?.sum ?? 0) };
  }).filter((h) => h.count > 0);
}
/** Upper bound of the bucket holding quantile q (Infinity when above the last bucket). */
function histQuantileS(h: Hist, q: number): number {
  const want = q * h.count;
  for (let i = 0; i < h.le.length; i++) if ((h.cum[i] ?? 0) >= want) return h.le[i]!;
  return Infinity;
}

function pct(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN;
}
const fmt = (n: number, d = 0): string => (Number.isFinite(n) ? n.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d }) : n === Infinity ? "inf" : "-");
const bare = (n: number, d = 0): string => fmt(n, d).replace(/,/g, "");

// ---- main ------------------------------------------------------------------------------------------------

const tStart = Date.now();
const serverArgs = ["server", "--data-dir", dir, "--listen", "127.0.0.1:0", "--kubeconfig-out", kubeconfig, "--insecure-plaintext"];
if (args.mode === "split") serverArgs.push("--disable", "controller-manager", "--disable", "scheduler");
if (args.inflight) serverArgs.push("--max-requests-inflight", String(args.inflight[0]), "--max-mutating-requests-inflight", String(args.inflight[1]));
else serverArgs.push("--scheduler-metrics-address", "127.0.0.1:0");
const server = tug("apiserver", serverArgs);
await waitOutput(server, /export KUBECONFIG=/, 60_000);
if (!existsSync(kubeconfig)) throw new Error("no kubeconfig");
let schedMetricsUrl: string | undefined;
if (args.mode === "split") {
  // Their own identities (written by `tug server` beside the admin kubeconfig), so API Priority and
  // Fairness classifies them as upstream does (admin = system:masters would be exempt).
  const own = (file: string): string => (existsSync(join(dir, file)) ? join(dir, file) : kubeconfig);
  tug("controller-manager", ["controller-manager", "--kubeconfig", own("controller-manager.kubeconfig"), "--no-leader-elect"]);
  const sched = tug("scheduler", ["scheduler", "--kubeconfig", own("scheduler.kubeconfig"), "--no-leader-elect", "--metrics-address", "127.0.0.1:0"]);
  schedMetricsUrl = (await waitOutput(sched, /metrics at (http:\/\/\S+\/metrics)/, 60_000))[1];
} else {
  schedMetricsUrl = (await waitOutput(server, /scheduler metrics at (http:\/\/\S+\/metrics)/, 60_000))[1];
}
const sampler = setInterval(sampleAll, 1000);
sampleAll();

const client = createClient(loadKubeconfig(kubeconfig), { userAgent: "density-driver" });
const metricsText = async (): Promise<string> => new TextDecoder().decode((await client.rest.request({ method: "GET", path: "/metrics", accept: "text/plain" })).body);

// Nodes: register, become Ready, lose the admission's not-ready taint (node lifecycle controller).
const tNodes0 = Date.now();
const hollow = tug("hollow", ["hollow", "--kubeconfig", kubeconfig, "--nodes", String(NODES)]);
await waitOutput(hollow, /registered in/, 300_000);
const nodesRc = client.resourceFor("v1", "Node");
for (let i = 0; ; i++) {
  const l = await nodesRc.list();
  const ready = l.items.filter((n) => {
    const conds = ((n["status"] as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? []);
    const taints = ((n["spec"] as { taints?: unknown[] } | undefined)?.taints ?? []);
    return conds.some((c) => c.type === "Ready" && c.status === "True") && taints.length === 0;
  }).length;
  if (ready === NODES) break;
  if (i > 150) throw new Error(`only ${ready}/${NODES} nodes Ready and untainted after 300 s`);
  await sleep(2000);
}
const nodesReadyS = (Date.now() - tNodes0) / 1000;
log(`${NODES} nodes Ready and untainted in ${nodesReadyS.toFixed(1)} s`);

// Pod tracking through one watch (informer) of all pods.
interface PodRec { ns: string; createdTs: number; seen: number; bound: number; running: number }
const pods = new Map<string, PodRec>();
const counts = { created: 0, bound: 0, running: 0 };
const latencyNs = "density-latency";
const observe = (p: KubeObject): void => {
  const md = p.metadata ?? {};
  const ns = md.namespace ?? "";
  if (!ns.startsWith("density-")) return;
  const uid = md.uid ?? "";
  const now = Date.now();
  let r = pods.get(uid);
  if (r === undefined) {
    r = { ns, createdTs: Date.parse(String(md.creationTimestamp ?? "")), seen: now, bound: 0, running: 0 };
    pods.set(uid, r);
    if (ns !== latencyNs) counts.created++;
  }
  const spec = p["spec"] as { nodeName?: string } | undefined;
  if (r.bound === 0 && spec?.nodeName) { r.bound = now; if (ns !== latencyNs) counts.bound++; }
  const st = p["status"] as { phase?: string; conditions?: { type: string; status: string }[] } | undefined;
  if (r.running === 0 && st?.phase === "Running" && (st.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True")) {
    r.running = now;
    if (r.bound === 0) { r.bound = now; if (ns !== latencyNs) counts.bound++; }
    if (ns !== latencyNs) counts.running++;
  }
};
const informerErrors: string[] = [];
const podInf = createInformer(client.resourceFor("v1", "Pod"), { onError: (e) => { if (informerErrors.length < 5) informerErrors.push(e instanceof Error ? `${e.name}: ${e.message}`.slice(0, 200) : String(e)); } });
podInf.addEventHandler({ onAdd: observe, onUpdate: (_a, b) => observe(b) });
podInf.start();
await podInf.waitForSync({ timeoutMs: 60_000 });

const namespaces = Array.from({ length: Math.ceil(DEPLOYMENTS / PER_NS) }, (_, j) => `density-${j}`);
for (const ns of [...namespaces, latencyNs, "density-probe"]) await client.resourceFor("v1", "Namespace").create({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });

function deployment(name: string, ns: string, replicas: number): KubeObject {
  return {
    apiVersion: "apps/v1", kind: "Deployment", metadata: { name, namespace: ns, labels: { group: "density" } },
    spec: {
      replicas, selector: { matchLabels: { name } },
      template: {
        metadata: { labels: { name, group: "density" } },
        spec: { containers: [{ name: "pause", image: "registry.k8s.io/pause:3.10", resources: { requests: { cpu: "10m", memory: "10Mi" } } }], terminationGracePeriodSeconds: 1 },
      },
    },
  };
}

const mutLat: number[] = []; // driver-observed mutating calls, saturation phase (ms)
const probeLat: number[] = [];
const timed = async <T>(into: number[], f: () => Promise<T>): Promise<T> => {
  const t = performance.now();
  const v = await f();
  into.push(performance.now() - t);
  return v;
};

// Probe: a mutating call sequence every 500 ms through the whole saturation phase.
let probing = true;
let probeErrors = 0;
const probe = (async () => {
  const cms = client.resourceFor("v1", "ConfigMap").namespace("density-probe");
  for (let i = 0; probing; i++) {
    const t = Date.now();
    try {
      await timed(probeLat, () => cms.create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: `probe-${i}` }, data: { i: String(i) } }));
      await timed(probeLat, () => cms.patch(`probe-${i}`, { data: { j: "1" } }, "merge"));
      await timed(probeLat, () => cms.delete(`probe-${i}`));
    } catch {
      probeErrors++;
    }
    await sleep(Math.max(0, 500 - (Date.now() - t)));
  }
})();

// ---- phase 1: saturation ----
const m0 = parseMetrics(await metricsText());
const tSat0 = Date.now();
sampleAll();
const mc0 = machineCpu();
const capAt = tSat0 + args.capMin * 60_000;
let createErrors = 0;
let next = 0;
const tCreated = new Map<string, number>();
const createAll = Promise.all(Array.from({ length: Math.min(args.concurrency, DEPLOYMENTS) }, async () => {
  const deps = client.resourceFor("apps/v1", "Deployment");
  while (next < DEPLOYMENTS && Date.now() < capAt) {
    const i = next++;
    const ns = namespaces[Math.floor(i / PER_NS)]!;
    try {
      await timed(mutLat, () => deps.namespace(ns).create(deployment(`d-${i}`, ns, args.replicas)));
      tCreated.set(`${ns}/d-${i}`, Date.now());
    } catch (e) {
      createErrors++;
      log(`create d-${i}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}));
const timeline: string[] = [];
let tDepsCreated = 0;
void createAll.then(() => { tDepsCreated = Date.now(); log(`${DEPLOYMENTS} Deployments created in ${((tDepsCreated - tSat0) / 1000).toFixed(1)} s`); });
let tAllCreated = 0, tAllBound = 0, tAllRunning = 0;
let lastLog = 0;
while (Date.now() < capAt) {
  const now = Date.now();
  if (tAllCreated === 0 && counts.created >= PODS) tAllCreated = now;
  if (tAllBound === 0 && counts.bound >= PODS) tAllBound = now;
  if (counts.running >= PODS) { tAllRunning = now; break; }
  if (now - lastLog >= 10_000) {
    lastLog = now;
    const line = `t=${((now - tSat0) / 1000).toFixed(0)}s created=${counts.created} bound=${counts.bound} running=${counts.running}`;
    timeline.push(line);
    log(line);
  }
  await sleep(100);
}
await createAll;
const tSat1 = tAllRunning || Date.now();
sampleAll();
const mc1 = machineCpu();
const m1 = parseMetrics(await metricsText());
const schedText = schedMetricsUrl ? await (await fetch(schedMetricsUrl)).text() : "";
probing = false;
await probe;
const satDone = tAllRunning > 0;
timeline.push(`t=${((tSat1 - tSat0) / 1000).toFixed(0)}s created=${counts.created} bound=${counts.bound} running=${counts.running}${satDone ? " (all Running)" : " (cap reached)"}`);
log(timeline.at(-1)!);

// ---- phase 2: latency pods ----
let latencyRecs: PodRec[] = [];
let latencyNote = "not run (saturation did not finish within the cap)";
if (satDone && args.latencyPods > 0) {
  const deps = client.resourceFor("apps/v1", "Deployment").namespace(latencyNs);
  const t0 = Date.now();
  const creates: Promise<unknown>[] = [];
  for (let i = 0; i < args.latencyPods; i++) {
    await sleep(Math.max(0, t0 + (i * 1000) / args.latencyQps - Date.now()));
    creates.push(deps.create(deployment(`lat-${i}`, latencyNs, 1)).catch((e: unknown) => { createErrors++; log(`latency create: ${String(e)}`); }));
  }
  await Promise.all(creates);
  const deadline = Date.now() + 120_000;
  const lat = (): PodRec[] => [...pods.values()].filter((r) => r.ns === latencyNs);
  while (lat().filter((r) => r.running > 0).length < args.latencyPods && Date.now() < deadline) await sleep(200);
  latencyRecs = lat();
  latencyNote = `${args.latencyPods} single-replica Deployments at ${args.latencyQps}/s on the saturated cluster; ${latencyRecs.filter((r) => r.running > 0).length} Running`;
}
// Who wrote the Events (stored objects by source.component and reason; `count` summed).
const eventGroups = new Map<string, { objects: number; count: number }>();
try {
  const evs = client.resourceFor("v1", "Event");
  let cont: string | undefined;
  for (let page = 0; page < 200; page++) {
    const l = await evs.list({ limit: 5000, ...(cont ? { continue: cont } : {}) });
    for (const e of l.items) {
      const src = (e["source"] as { component?: string } | undefined)?.component ?? (e["reportingComponent"] as string | undefined) ?? "?";
      const key = `${src} ${String(e["reason"] ?? "?")}`;
      const g = eventGroups.get(key) ?? { objects: 0, count: 0 };
      g.objects++;
      g.count += typeof e["count"] === "number" ? e["count"] : 1;
      eventGroups.set(key, g);
    }
    cont = l.metadata?.continue;
    if (!cont) break;
  }
} catch (e) {
  log(`listing events: ${e instanceof Error ? e.message : String(e)}`);
}
sampleAll();
clearInterval(sampler);
await podInf.stop();
client.close();

// ---- report --------------------------------------------------------------------------------------------------

function startup(recs: PodRec[]): { n: number; slo: number[]; watch: number[]; sched: number[]; agent: number[] } {
  const done = recs.filter((r) => r.running > 0);
  const s = (f: (r: PodRec) => number): number[] => done.map(f).sort((a, b) => a - b);
  return { n: done.length, slo: s((r) => r.running - r.createdTs), watch: s((r) => r.running - r.seen), sched: s((r) => r.bound - r.seen), agent: s((r) => r.running - r.bound) };
}
const sat = startup([...pods.values()].filter((r) => r.ns !== latencyNs));
const latS = startup(latencyRecs);
const wallS = (tSat1 - tSat0) / 1000;
const mutSorted = [...mutLat].sort((a, b) => a - b);
const probeSorted = [...probeLat].sort((a, b) => a - b);
const hists = diffHists(m0, m1);
const mutating = hists.filter((h) => ["POST", "PUT", "PATCH", "DELETE"].includes(h.verb)).sort((a, b) => b.count - a.count);
const worstMut = mutating.filter((h) => h.count >= 100).reduce((w, h) => Math.max(w, histQuantileS(h, 0.99)), 0);
// Upstream's SLI: processing time without the wait for an API Priority and Fairness seat.
const isMutating = (h: Hist): boolean => ["POST", "PUT", "PATCH", "DELETE"].includes(h.verb) && h.count >= 100;
const worstMutSli = diffHists(m0, m1, "sli").filter(isMutating).reduce((w, h) => Math.max(w, histQuantileS(h, 0.99)), 0);
const schedAttempt = /scheduler_scheduling_attempt_duration_seconds_sum\{[^}]*result="scheduled"[^}]*\} ([0-9.eE+-]+)/.exec(schedText);
const schedCount = /scheduler_scheduling_attempt_duration_seconds_count\{[^}]*result="scheduled"[^}]*\} ([0-9.eE+-]+)/.exec(schedText);

const names = args.mode === "split" ? ["apiserver", "controller-manager", "scheduler", "hollow", "driver"] : ["apiserver", "hollow", "driver"];
const label = (n: string): string => (args.mode === "single" && n === "apiserver" ? "tug server (apiserver + controllers + scheduler)" : n === "hollow" ? `tug hollow (${NODES} agents)` : n === "apiserver" ? "tug server (apiserver)" : n);
const cpuRows = names.map((n) => ({ n, ...procWindow(n, tSat0, tSat1) }));

const out: string[] = [];
const p = (s = ""): void => { out.push(s); };
p(`\n### density — ${NODES.toLocaleString("en-US")} hollow nodes, ${DEPLOYMENTS} Deployments × ${args.replicas} = ${PODS.toLocaleString("en-US")} pods${args.scale < 1 ? ` (SCALED: --scale ${args.scale})` : ""}, mode ${args.mode}\n`);
p(`Setup: embedded store in a temp dir (${dir}), h2c on loopback; ${NODES} nodes Ready+untainted ${nodesReadyS.toFixed(1)} s after \`tug hollow\` started; Deployments created ${args.concurrency} at a time${tDepsCreated ? ` (all ${DEPLOYMENTS} in ${((tDepsCreated - tSat0) / 1000).toFixed(1)} s)` : ""}; cap ${args.capMin} min.\n`);
p("| measure | value | goal | ratio (value / goal) | met |");
p("|---|---:|---:|---:|:-:|");
const row = (m: string, v: number, unit: string, goal: number | undefined, d = 0): void => {
  p(`| ${m} | ${fmt(v, d)} ${unit} | ${goal === undefined ? "-" : `${fmt(goal, d)} ${unit}`} | ${goal === undefined ? "-" : fmt(v / goal, 2)} | ${goal === undefined ? "" : v <= goal ? "yes" : "**no**"} |`);
};
row(satDone ? "time to all pods Running (first create → last Running)" : `pods Running at the cap (${args.capMin} min)`, satDone ? wallS : counts.running, satDone ? "s" : "pods", undefined, satDone ? 1 : 0);
p(`| throughput (Running pods / s over the phase) | ${fmt(counts.running / wallS, 1)} pods/s | - | - | |`);
row("saturation pod startup p50 (creationTimestamp → Running seen)", pct(sat.slo, 0.5), "ms", undefined);
row("saturation pod startup p90", pct(sat.slo, 0.9), "ms", undefined);
row("saturation pod startup p99", pct(sat.slo, 0.99), "ms", SLO_STARTUP_MS);
if (latS.n > 0) {
  row("latency pods startup p50 (creationTimestamp → Running seen)", pct(latS.slo, 0.5), "ms", undefined);
  row("latency pods startup p90", pct(latS.slo, 0.9), "ms", undefined);
  row("latency pods startup p99 (the SLO figure)", pct(latS.slo, 0.99), "ms", SLO_STARTUP_MS);
  row("latency pods startup p99, watch only (first seen → Running seen)", pct(latS.watch, 0.99), "ms", SLO_STARTUP_MS);
}
row(`driver-observed mutating calls p99 (${mutLat.length} Deployment creates)`, pct(mutSorted, 0.99), "ms", SLO_MUTATING_MS);
row(`driver-observed mutating calls p99 (probe: ${probeLat.length} ConfigMap create/patch/delete through the phase)`, pct(probeSorted, 0.99), "ms", SLO_MUTATING_MS);
row("apiserver mutating (verb, resource) worst p99, SLI: without APF queue wait (bucket bound, pairs with >= 100 calls)", worstMutSli * 1000, "ms", SLO_MUTATING_MS);
row("apiserver mutating (verb, resource) worst p99 including APF queue wait (bucket bound)", worstMut * 1000, "ms", SLO_MUTATING_MS);
p("");
p(`Stages per pod (ms, p50 / p90 / p99; saturation pods): created → bound ${fmt(pct(sat.sched, 0.5))} / ${fmt(pct(sat.sched, 0.9))} / ${fmt(pct(sat.sched, 0.99))}; bound → Running ${fmt(pct(sat.agent, 0.5))} / ${fmt(pct(sat.agent, 0.9))} / ${fmt(pct(sat.agent, 0.99))}; watch-only startup ${fmt(pct(sat.watch, 0.5))} / ${fmt(pct(sat.watch, 0.9))} / ${fmt(pct(sat.watch, 0.99))}.`);
if (latS.n > 0) p(`Latency pods (${latencyNote}): created → bound ${fmt(pct(latS.sched, 0.5))} / ${fmt(pct(latS.sched, 0.99))} ms (p50 / p99); bound → Running ${fmt(pct(latS.agent, 0.5))} / ${fmt(pct(latS.agent, 0.99))} ms.`);
else p(`Latency pods: ${latencyNote}.`);
p(`All pods created ${tAllCreated ? `${fmt((tAllCreated - tSat0) / 1000, 1)} s` : "-"}, all bound ${tAllBound ? `${fmt((tAllBound - tSat0) / 1000, 1)} s` : "-"}, all Running ${tAllRunning ? `${fmt((tAllRunning - tSat0) / 1000, 1)} s` : "-"} after the first Deployment create.`);
p("");
p("| process (saturation phase) | CPU s | avg cores | CPU ms / pod | RSS end MiB | RSS peak MiB |");
p("|---|---:|---:|---:|---:|---:|");
for (const r of cpuRows) p(`| ${label(r.n)} | ${fmt(r.cpuS, 1)} | ${fmt(r.cpuS / wallS, 2)} | ${fmt((r.cpuS * 1000) / Math.max(1, counts.running), 2)} | ${fmt(r.endRss)} | ${fmt(r.peakRss)} |`);
const oursS = cpuRows.reduce((a, r) => a + (Number.isFinite(r.cpuS) ? r.cpuS : 0), 0);
const machineBusy = (mc1.busyS - mc0.busyS) / wallS, machineCores = (mc1.totalS - mc0.totalS) / wallS;
p(`| whole machine: busy / available cores | ${fmt(machineBusy, 2)} / ${fmt(machineCores, 2)} | | | | |`);
p(`| of which these processes / everything else on the box | ${fmt(oursS / wallS, 2)} / ${fmt(machineBusy - oursS / wallS, 2)} | | | | |`);
p("");
p("| apiserver requests in the phase (verb resource) | calls | calls / pod | server-side s total | mean ms | p99 ≤ (bucket) | SLI p99 ≤ (bucket) |");
p("|---|---:|---:|---:|---:|---:|---:|");
const sliHists = new Map(diffHists(m0, m1, "sli").map((h) => [`${h.verb} ${h.resource}`, h]));
for (const h of hists.sort((a, b) => b.sum - a.sum).slice(0, 14)) {
  const sh = sliHists.get(`${h.verb} ${h.resource}`);
  p(`| ${h.verb} ${h.resource} | ${fmt(h.count)} | ${fmt(h.count / Math.max(1, counts.running), 2)} | ${fmt(h.sum, 1)} | ${fmt((h.sum / h.count) * 1000, 1)} | ${fmt(histQuantileS(h, 0.99) * 1000)} ms | ${sh ? `${fmt(histQuantileS(sh, 0.99) * 1000)} ms` : "-"} |`);
}
{
  // Why latency rises inside the apiserver: event-loop delay and GC pauses (src/apiserver/processmetrics.ts).
  const c = (k: string): number => m1.counters.get(k) ?? NaN;
  const d = (k: string): number => c(k) - (m0.counters.get(k) ?? 0);
  p(`\napiserver event loop: delay p50 / p99 / max ${fmt(c('nodejs_eventloop_lag_seconds{quantile="0.5"}') * 1000)} / ${fmt(c('nodejs_eventloop_lag_seconds{quantile="0.99"}') * 1000)} / ${fmt(c("nodejs_eventloop_lag_max_seconds{}") * 1000)} ms (since start); GC in the phase: major ${fmt(d('nodejs_gc_duration_seconds_count{kind="major"}'))} pauses, ${fmt(d('nodejs_gc_duration_seconds_sum{kind="major"}'), 1)} s, longest ${fmt(c('nodejs_gc_duration_max_seconds{kind="major"}') * 1000)} ms; minor ${fmt(d('nodejs_gc_duration_seconds_count{kind="minor"}'))} pauses, ${fmt(d('nodejs_gc_duration_seconds_sum{kind="minor"}'), 1)} s; heap used at the end ${fmt(c("nodejs_heap_size_used_bytes{}") / 2 ** 20)} MiB.`);
}
{
  // Non-2xx answers in the phase, from apiserver_request_total{verb,resource,code}.
  const bad: string[] = [];
  for (const [k, v] of m1.counters) {
    if (!k.startsWith("apiserver_request_total{")) continue;
    const code = /code="(\d+)"/.exec(k)?.[1] ?? "";
    const d = v - (m0.counters.get(k) ?? 0);
    if (d > 0 && !code.startsWith("2")) bad.push(`${/verb="(\w*)"/.exec(k)?.[1]} ${/resource="([^"]*)"/.exec(k)?.[1]} ${code}: ${d}`);
  }
  p(`\nStored Events (whole run) by source and reason: ${[...eventGroups].sort((a, b) => b[1].objects - a[1].objects).slice(0, 8).map(([k, g]) => `${k}: ${g.objects} objects / count ${g.count}`).join("; ")}.`);
  p(`\nNon-2xx apiserver answers in the phase: ${bad.length ? bad.join("; ") : "none"}.`);
  // A 5xx is a server bug: show what the apiserver logged about it (its last 20 kB of output).
  const apiOut = procs.find((x) => x.name === "apiserver")?.out ?? "";
  const unexpected = apiOut.split("\n").filter((l) => /unexpected error|Error:/.test(l));
  if (unexpected.length > 0) p(`\napiserver log lines about errors (last 20 kB of its output, ${unexpected.length} lines; first 10):\n${unexpected.slice(0, 10).join("\n")}`);
}
if (schedAttempt && schedCount) p(`\nScheduler: ${fmt(Number(schedCount[1]))} scheduled attempts, ${fmt((Number(schedAttempt[1]) / Number(schedCount[1])) * 1000, 2)} ms mean attempt (scheduler_scheduling_attempt_duration_seconds).`);
p(`\nProgress (every 10 s): ${timeline.join("; ")}`);
p(`Errors: ${createErrors} creates, ${probeErrors} probe rounds. Driver pod informer: ${podInf.stats.lists} lists, ${podInf.stats.watches} watches, ${podInf.stats.events} events, ${podInf.stats.errors} errors${informerErrors.length ? ` (${informerErrors.join(" | ")})` : ""}.`);
if (args.scale < 1) {
  const rate = counts.running / wallS;
  p(`\nEXTRAPOLATION (not measured): at the measured ${fmt(rate, 1)} Running pods/s, 30,000 pods would take ≈ ${fmt(30_000 / rate)} s (linear in pods; assumes per-pod cost does not grow with cluster size).`);
}
console.log(out.join("\n"));
const cpu = (n: string): number => cpuRows.find((r) => r.n === n)?.cpuS ?? NaN;
console.log(`\nRESULT nodes=${NODES} pods=${PODS} mode=${args.mode} scale=${args.scale} all_running=${satDone} running=${counts.running} time_to_all_running_s=${satDone ? bare(wallS, 1) : "cap"} pods_per_s=${bare(counts.running / wallS, 1)} ` +
  `sat_startup_p50_ms=${bare(pct(sat.slo, 0.5))} sat_startup_p99_ms=${bare(pct(sat.slo, 0.99))} ` +
  `latency_startup_p50_ms=${bare(pct(latS.slo, 0.5))} latency_startup_p90_ms=${bare(pct(latS.slo, 0.9))} latency_startup_p99_ms=${bare(pct(latS.slo, 0.99))} goal_startup_p99_ms=${SLO_STARTUP_MS} ` +
  `driver_mutating_p99_ms=${bare(pct(mutSorted, 0.99))} probe_mutating_p99_ms=${bare(pct(probeSorted, 0.99))} apiserver_mutating_worst_p99_ms=${bare(worstMut * 1000)} apiserver_mutating_sli_worst_p99_ms=${bare(worstMutSli * 1000)} goal_mutating_p99_ms=${SLO_MUTATING_MS} ` +
  `apiserver_cpu_s=${bare(cpu("apiserver"), 1)} cm_cpu_s=${bare(cpu("controller-manager"), 1)} scheduler_cpu_s=${bare(cpu("scheduler"), 1)} hollow_cpu_s=${bare(cpu("hollow"), 1)} driver_cpu_s=${bare(cpu("driver"), 1)} ` +
  `apiserver_rss_peak_mib=${bare(procWindow("apiserver", tSat0, tSat1).peakRss)} hollow_rss_peak_mib=${bare(procWindow("hollow", tSat0, tSat1).peakRss)} machine_busy_cores=${bare(machineBusy, 2)} others_cores=${bare(machineBusy - oursS / wallS, 2)} total_s=${bare((Date.now() - tStart) / 1000)}`);
await stopAll();
process.exit(0);
