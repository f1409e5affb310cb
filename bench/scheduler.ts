/**
 * Scheduler throughput, shaped like upstream scheduler_perf: an apiserver with the memory store,
 * no kubelets, nodes and pods created through the API, binding through the API (pods/binding),
 * `Scheduled` events written as in production. Every node is filtered and scored.
 *
 * Processes: the **apiserver** process runs the control plane (apiserver only, memory store, h2c
 * on loopback); the **driver** process creates nodes and pods through its own client and watches
 * pods to time creation → bound; the **parent** runs the scheduler (`SchedulerRunner`, WASM SIMD
 * kernel) and nothing else. Each CPU figure is one process's own. (Upstream runs apiserver,
 * scheduler and driver in one multi-threaded Go process; a Node process uses one core, so the
 * test driver gets its own instead of taking the apiserver's.)
 *
 * Per workload: fresh child; create nodes (then drop the admission's not-ready taint: there is no
 * node lifecycle controller); create the initial pods and wait until they are bound; then the
 * measured pods, two ways:
 *   - upstream shape ("concurrent"): pods created while the scheduler runs; throughput =
 *     measured pods / (first create → last bound).
 *   - "pre-created": the scheduler's loop is paused while the pods are created and delivered to
 *     its queue, then resumed; throughput = measured pods / (resume → last bound). This is the
 *     scheduler+binding rate without the pod creation traffic.
 * "pods/s, scheduler's writes done" counts the measured pods over first create → last bound plus
 * the time the scheduler's writes still queued then (events above all, status patches, evictions)
 * took to finish: the scheduler's work for those pods is done only then (upstream writes each event
 * in its own goroutine, so its events do not queue behind the bindings).
 * Latency p50/p99 = pod create request sent → the driver's watch sees spec.nodeName (concurrent run).
 *
 * `npm run bench -- scheduler [--workloads SchedulingBasic,NodeAffinity,…] [--scale 0.2] [--budget-s 600] [--timeout-s 3600] [--event-queue N]`
 * (--budget-s bounds each wait — setup, creates, all bound —, --timeout-s the whole run; --event-queue
 * is the scheduler's event write queue, default 1,000,000 so that no event is dropped, as upstream's
 * events/v1 broadcaster drops none; 1000 is the production default, which drops under overload).
 * Profiles: `TUG_BENCH_APISERVER_PROF=DIR` / `TUG_BENCH_CHILD_PROF=DIR` write `--cpu-prof` files of the
 * apiserver / driver process to DIR (run bench/scheduler.ts itself with `node --cpu-prof` for the
 * scheduler's).
 *
 * Preemption workloads follow upstream's PreemptionBasic: "Preemption" is 5000Nodes (20,000 low +
 * 5,000 high; the published floor of 570 pods/s is for this one), "Preemption500" is 500Nodes
 * (2,000 + 500; no published floor).
 */
import { fork, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { KubeObject } from "../src/api/object.ts";

const self = fileURLToPath(import.meta.url);
/**
 * The apiserver runs with the young generation `npm start` gives it (package.json): 64 MB semi-spaces
 * instead of V8's 16 MB take 4–8 % off its CPU per pod here (fewer scavenges, less promoted).
 */
const APISERVER_SEMI_SPACE = "--max-semi-space-size=64";

// ---- workloads -----------------------------------------------------------------------------------

interface Workload {
  readonly name: string;
  readonly nodes: number;
  readonly initPods: number;
  readonly measuredPods: number;
  /** Upstream's published floor (pods/s) for the same workload; undefined = none published. */
  readonly floor: number | undefined;
  readonly goal: number | undefined;
  readonly note: string;
  node(i: number): KubeObject;
  initPod(i: number): KubeObject;
  measuredPod(i: number): KubeObject;
}

function node(i: number, extraLabels: Record<string, string> = {}, cpu = "4"): KubeObject {
  const name = `node-${String(i).padStart(5, "0")}`;
  return {
    apiVersion: "v1", kind: "Node",
    metadata: { name, labels: { "kubernetes.io/hostname": name, "topology.kubernetes.io/zone": `zone-${i % 10}`, ...extraLabels } },
    status: {
      capacity: { cpu, memory: "32Gi", pods: "110" }, allocatable: { cpu, memory: "32Gi", pods: "110" },
      conditions: [{ type: "Ready", status: "True", reason: "KubeletReady" }],
    },
  };
}

function pod(name: string, ns: string, labels: Record<string, string>, cpu: string, mem: string, spec: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: "v1", kind: "Pod", metadata: { name, namespace: ns, labels },
    spec: { containers: [{ name: "pause", image: "registry.k8s.io/pause:3.10", resources: { requests: { cpu, memory: mem }, limits: { cpu, memory: mem } } }], terminationGracePeriodSeconds: 0, ...spec },
  };
}

function workloads(scale: number): Workload[] {
  const s = (n: number): number => Math.max(1, Math.round(n * scale));
  return [
    {
      name: "SchedulingBasic", nodes: s(5000), initPods: s(1000), measuredPods: s(10000), floor: 680, goal: 6800,
      note: "5000Nodes_10000Pods: pod-default (100m / 500Mi)",
      node: (i) => node(i), initPod: (i) => pod(`init-${i}`, "init", { app: "init" }, "100m", "500Mi"),
      measuredPod: (i) => pod(`pod-${i}`, "measured", { app: "basic" }, "100m", "500Mi"),
    },
    {
      name: "NodeAffinity", nodes: s(5000), initPods: s(1000), measuredPods: s(5000), floor: 220, goal: 2200,
      note: "required node affinity: half the nodes labelled for the pods",
      node: (i) => node(i, i % 2 === 0 ? { "scheduler-perf": "affinity" } : {}),
      initPod: (i) => pod(`init-${i}`, "init", { app: "init" }, "100m", "500Mi"),
      measuredPod: (i) => pod(`pod-${i}`, "measured", { app: "affinity" }, "100m", "500Mi", {
        affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "scheduler-perf", operator: "In", values: ["affinity"] }] }] } } },
      }),
    },
    {
      name: "PodAntiAffinity", nodes: s(5000), initPods: s(1000), measuredPods: s(1000), floor: 60, goal: 600,
      note: "required anti-affinity by hostname among color=green pods (init pods too)",
      node: (i) => node(i),
      initPod: (i) => antiPod(`init-${i}`, "init"),
      measuredPod: (i) => antiPod(`pod-${i}`, "measured"),
    },
    {
      name: "TopologySpread", nodes: s(5000), initPods: s(1000), measuredPods: s(5000), floor: undefined, goal: undefined,
      note: "DoNotSchedule, maxSkew 5 over 10 zones",
      node: (i) => node(i),
      initPod: (i) => pod(`init-${i}`, "init", { app: "init" }, "100m", "500Mi"),
      measuredPod: (i) => pod(`pod-${i}`, "measured", { app: "spread" }, "100m", "500Mi", {
        topologySpreadConstraints: [{ maxSkew: 5, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "DoNotSchedule", labelSelector: { matchLabels: { app: "spread" } } }],
      }),
    },
    {
      // upstream PreemptionBasic/5000Nodes: the workload the published floor (570 pods/s) is for.
      name: "Preemption", nodes: s(5000), initPods: s(20000), measuredPods: s(5000), floor: 570, goal: 5700,
      note: "PreemptionBasic 5000Nodes (upstream's floor 570 applies): 4 low-priority pods (900m / 500Mi, priority 0) fill each 4-cpu node, each high-priority pod (3 cpu / 500Mi, priority 10) preempts 3",
      node: (i) => node(i),
      initPod: (i) => lowPod(i),
      measuredPod: (i) => highPod(i),
    },
    {
      name: "Preemption500", nodes: s(500), initPods: s(2000), measuredPods: s(500), floor: undefined, goal: undefined,
      note: "PreemptionBasic 500Nodes, same pods (no published floor: the 570 floor is the 5000Nodes workload's)",
      node: (i) => node(i),
      initPod: (i) => lowPod(i),
      measuredPod: (i) => highPod(i),
    },
  ];
}

/** upstream's templates pod-low-priority.yaml / pod-high-priority.yaml (the priority through a PriorityClass: admission runs here). */
function lowPod(i: number): KubeObject {
  return pod(`low-${i}`, "init", { app: "low" }, "900m", "500Mi");
}
function highPod(i: number): KubeObject {
  return pod(`high-${i}`, "measured", { app: "high" }, "3", "500Mi", { priorityClassName: "bench-high" });
}

function antiPod(name: string, ns: string): KubeObject {
  return pod(name, ns, { color: "green" }, "100m", "500Mi", {
    affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { color: "green" } }, topologyKey: "kubernetes.io/hostname", namespaces: ["init", "measured"] }] } },
  });
}

// ---- child: control plane + driver -----------------------------------------------------------------

type ToChild =
  | { cmd: "setup"; workload: string; scale: number }
  | { cmd: "create"; phase: "init" | "measured" }
  | { cmd: "resumed"; at: number }
  | { cmd: "stop" };
type ToParent =
  | { type: "ready"; kubeconfig: string }
  | { type: "setupDone"; ms: number }
  | { type: "created"; phase: string; ms: number }
  | { type: "bound"; phase: string; stats: PhaseStats }
  | { type: "error"; message: string };

interface PhaseStats { n: number; bound: number; firstCreate: number; lastCreate: number; lastBound: number; p50: number; p99: number; childCpuMs: number; apiserverCpuMs: number }

/** Messages between the driver and its apiserver process. */
type ToApiserver = { cmd: "cpu" } | { cmd: "stop" };
type FromApiserver = { type: "ready"; kubeconfig: string } | { type: "cpu"; ms: number };

/** The apiserver process: control plane only; reports its CPU on request. */
async function apiserverProcess(): Promise<void> {
  const { startControlPlane, defaultDeps } = await import("../src/server/control-plane.ts");
  const { createMemoryStore } = await import("../src/store/memory.ts");
  const { COMPONENTS } = await import("../src/server/components.ts");
  const dir = mkdtempSync(join(tmpdir(), "tug-bench-sched-"));
  const cp = await startControlPlane({
    dataDir: dir, listen: { host: "127.0.0.1", port: 0 }, kubeconfigOut: join(dir, "kubeconfig"), insecurePlaintext: true,
    disable: COMPONENTS.filter((c) => !c.required).map((c) => c.name),
  }, { ...defaultDeps, openStore: async () => createMemoryStore() });
  const send = (m: FromApiserver): void => { process.send?.(m); };
  process.on("message", (raw: unknown) => {
    const m = raw as ToApiserver;
    if (m.cmd === "cpu") {
      const c = process.cpuUsage();
      send({ type: "cpu", ms: (c.user + c.system) / 1000 });
    } else if (m.cmd === "stop") {
      void cp.stop().finally(() => { rmSync(dir, { recursive: true, force: true }); process.exit(0); });
    }
  });
  process.on("disconnect", () => process.exit(0)); // the driver is gone
  send({ type: "ready", kubeconfig: cp.kubeconfigPath });
}

/** Forks the apiserver process; resolves with its kubeconfig and a CPU probe. */
async function forkApiserver(): Promise<{ proc: ChildProcess; kubeconfig: string; cpuMs(): Promise<number> }> {
  const prof = process.env["TUG_BENCH_APISERVER_PROF"];
  const proc = fork(self, ["--apiserver"], { execArgv: ["--import", "tsx", "--max-old-space-size=4096", APISERVER_SEMI_SPACE, ...(prof ? ["--cpu-prof", `--cpu-prof-dir=${prof}`] : [])], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const waiters: ((m: FromApiserver) => void)[] = [];
  proc.on("message", (m) => { waiters.shift()?.(m as FromApiserver); });
  const next = (): Promise<FromApiserver> => new Promise((resolve, reject) => {
    waiters.push(resolve);
    proc.once("exit", () => reject(new Error("the apiserver process exited")));
  });
  const ready = await next();
  if (ready.type !== "ready") throw new Error("apiserver process: unexpected first message");
  return {
    proc, kubeconfig: ready.kubeconfig,
    async cpuMs() {
      const p = next();
      proc.send({ cmd: "cpu" } satisfies ToApiserver);
      const m = await p;
      if (m.type !== "cpu") throw new Error("apiserver process: unexpected reply");
      return m.ms;
    },
  };
}

function pct(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

async function pool(n: number, inflight: number, op: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  let err: unknown;
  await Promise.all(Array.from({ length: Math.min(inflight, n) }, async () => {
    while (next < n && err === undefined) {
      const i = next++;
      try { await op(i); } catch (e) { err = e; }
    }
  }));
  if (err !== undefined) throw err;
}

async function child(): Promise<void> {
  const { createClient } = await import("../src/client/client.ts");
  const { loadKubeconfig } = await import("../src/client/kubeconfig.ts");
  const { createInformer } = await import("../src/client/informer.ts");
  const send = (m: ToParent): void => { process.send?.(m); };
  const api = await forkApiserver();
  const client = createClient(loadKubeconfig(api.kubeconfig));
  let wl: Workload | undefined;
  const created = new Map<string, number>();
  const bound = new Map<string, number>();
  const boundIn = new Map<string, number>();
  const markBound = (o: KubeObject): void => {
    const ns = o.metadata?.namespace ?? "";
    const k = `${ns}/${o.metadata?.name}`;
    if (bound.has(k) || !created.has(k)) return;
    bound.set(k, Date.now());
    boundIn.set(ns, (boundIn.get(ns) ?? 0) + 1);
    check();
  };
  let waiting: { phase: string; ns: string; n: number; cpu0: NodeJS.CpuUsage; apiCpu0: number } | undefined;
  let resumedAt = 0;
  const check = (): void => {
    if (!waiting) return;
    const w = waiting;
    const cnt = boundIn.get(w.ns) ?? 0;
    if (cnt < w.n) return;
    waiting = undefined;
    const lat: number[] = [];
    let first = Infinity, lastC = 0, lastB = 0;
    for (const [k, c] of created) {
      if (!k.startsWith(`${w.ns}/`)) continue;
      const b = bound.get(k);
      first = Math.min(first, c);
      lastC = Math.max(lastC, c);
      if (b !== undefined) { lastB = Math.max(lastB, b); lat.push(b - Math.max(c, resumedAt)); }
    }
    lat.sort((a, b) => a - b);
    const cpu = process.cpuUsage(w.cpu0);
    const stats = { n: w.n, bound: cnt, firstCreate: first, lastCreate: lastC, lastBound: lastB, p50: pct(lat, 0.5), p99: pct(lat, 0.99), childCpuMs: (cpu.user + cpu.system) / 1000 };
    void api.cpuMs().then(
      (ms) => send({ type: "bound", phase: w.phase, stats: { ...stats, apiserverCpuMs: ms - w.apiCpu0 } }),
      (e: unknown) => send({ type: "error", message: String(e) }),
    );
  };
  const podsInf = createInformer(client.resourceFor("v1", "Pod"));
  podsInf.addEventHandler({
    onUpdate: (a, b) => {
      const was = (a["spec"] as { nodeName?: string } | undefined)?.nodeName, now = (b["spec"] as { nodeName?: string } | undefined)?.nodeName;
      if (!was && now) markBound(b);
    },
    onAdd: (o) => { if ((o["spec"] as { nodeName?: string } | undefined)?.nodeName) markBound(o); },
  });
  podsInf.start();
  await podsInf.waitForSync({ timeoutMs: 30_000 });
  process.on("message", (raw: unknown) => {
    const m = raw as ToChild;
    void (async () => {
      try {
        if (m.cmd === "setup") {
          wl = workloads(m.scale).find((w) => w.name === m.workload);
          if (!wl) throw new Error(`unknown workload ${m.workload}`);
          const t0 = Date.now();
          for (const ns of ["init", "measured"]) await client.resourceFor("v1", "Namespace").create({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
          await client.resourceFor("scheduling.k8s.io/v1", "PriorityClass").create({ apiVersion: "scheduling.k8s.io/v1", kind: "PriorityClass", metadata: { name: "bench-high" }, value: 10 });
          const nodes = client.resourceFor("v1", "Node");
          const w = wl;
          await pool(w.nodes, 64, async (i) => {
            const n = await nodes.create(w.node(i));
            await nodes.patch(n.metadata?.name ?? "", { spec: { taints: null } }, "merge");
          });
          send({ type: "setupDone", ms: Date.now() - t0 });
        } else if (m.cmd === "create") {
          const w = wl!;
          const ns = m.phase === "init" ? "init" : "measured";
          const n = m.phase === "init" ? w.initPods : w.measuredPods;
          for (const k of [...created.keys()]) if (k.startsWith(`${ns}/`)) { created.delete(k); bound.delete(k); }
          boundIn.set(ns, 0);
          waiting = { phase: m.phase, ns, n, cpu0: process.cpuUsage(), apiCpu0: await api.cpuMs() };
          const pods = client.resourceFor("v1", "Pod").namespace(ns);
          const t0 = Date.now();
          await pool(n, 128, async (i) => {
            const p = m.phase === "init" ? w.initPod(i) : w.measuredPod(i);
            created.set(`${ns}/${p.metadata?.name}`, Date.now());
            await pods.create(p);
          });
          send({ type: "created", phase: m.phase, ms: Date.now() - t0 });
          check();
        } else if (m.cmd === "resumed") {
          resumedAt = m.at;
        } else if (m.cmd === "stop") {
          await podsInf.stop();
          client.close();
          api.proc.send({ cmd: "stop" } satisfies ToApiserver);
          await new Promise((r) => { api.proc.once("exit", r); setTimeout(r, 10_000); });
          process.exit(0);
        }
      } catch (e) {
        send({ type: "error", message: e instanceof Error ? `${e.message}\n${e.stack ?? ""}` : String(e) });
      }
    })();
  });
  send({ type: "ready", kubeconfig: api.kubeconfig });
}

// ---- parent: the scheduler -------------------------------------------------------------------------

/** Live children (killed by the whole-run timeout). */
const children = new Set<ChildProcess>();

class Child {
  readonly proc: ChildProcess;
  private readonly inbox: ToParent[] = [];
  private wake: (() => void) | undefined;
  constructor() {
    this.proc = fork(self, ["--child"], { execArgv: ["--import", "tsx", "--max-old-space-size=4096", ...(process.env.TUG_BENCH_CHILD_PROF ? ["--cpu-prof", `--cpu-prof-dir=${process.env.TUG_BENCH_CHILD_PROF}`] : [])], stdio: ["ignore", "inherit", "inherit", "ipc"] });
    this.proc.on("message", (m) => { this.inbox.push(m as ToParent); this.wake?.(); });
    children.add(this.proc);
    this.proc.on("exit", () => { children.delete(this.proc); this.inbox.push({ type: "error", message: "child exited" }); this.wake?.(); });
  }
  send(m: ToChild): void { this.proc.send(m); }
  async next<T extends ToParent["type"]>(type: T, timeoutMs: number): Promise<Extract<ToParent, { type: T }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.inbox.findIndex((m) => m.type === type || m.type === "error");
      if (i >= 0) {
        const m = this.inbox.splice(i, 1)[0]!;
        if (m.type === "error") throw new Error(`bench child: ${m.message}`);
        return m as Extract<ToParent, { type: T }>;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${type}`);
      await new Promise<void>((r) => { this.wake = r; setTimeout(r, 1000); });
    }
  }
}

interface Row {
  name: string; nodes: number; init: number; measured: number; floor: number | undefined; goal: number | undefined; note: string;
  concurrent: PhaseStats; concurrentPodsPerS: number; precreatedPodsPerS: number; precreated: PhaseStats;
  /** Measured pods / (first create → the scheduler's last write of the phase: events, status patches, deletes). */
  writesDonePodsPerS: number;
  schedMsPerPod: number; informerMsPerPod: number; parentCpuMsPerPod: number; childCpuMsPerPod: number; apiserverCpuMsPerPod: number; bindP50: number; bindP99: number;
  createPodsPerS: number; kernel: string;
  /** Event writes made after the last measured pod was seen bound, and how long the drain took. */
  eventBacklog: { writes: number; drainMs: number };
  /** Scheduling attempts during the measured phase, failed ones, preemptions and victims. */
  attempts: number; failedAttempts: number; preemptions: number; victims: number;
  /** The scheduler's API writes during the measured phase (pod writes counted at the PodApi port, events at the recorder). */
  writes: { bind: number; patchStatus: number; deletePod: number; eventCreate: number; eventPatch: number; eventDropped: number };
}

/** Counts the scheduler's pod writes (a measurement wrapper around the runner's PodApi). */
function countingPodApi(inner: import("../src/scheduler/runner/api.ts").PodApi): { api: import("../src/scheduler/runner/api.ts").PodApi; n: { bind: number; patchStatus: number; deletePod: number } } {
  const n = { bind: 0, patchStatus: 0, deletePod: 0 };
  return {
    n,
    api: {
      bind: (...a) => { n.bind++; return inner.bind(...a); },
      patchStatus: (...a) => { n.patchStatus++; return inner.patchStatus(...a); },
      deletePod: (...a) => { n.deletePod++; return inner.deletePod(...a); },
    },
  };
}

async function runWorkload(name: string, scale: number, budgetMs: number, eventQueue: number): Promise<Row> {
  const { createClient } = await import("../src/client/client.ts");
  const { loadKubeconfig } = await import("../src/client/kubeconfig.ts");
  const { createSchedulerRunner } = await import("../src/scheduler/runner/runner.ts");
  const { clientPodApi } = await import("../src/scheduler/runner/api.ts");
  const wl = workloads(scale).find((w) => w.name === name);
  if (!wl) throw new Error(`unknown workload ${name}`);
  const ch = new Child();
  const { kubeconfig } = await ch.next("ready", 60_000);
  ch.send({ cmd: "setup", workload: name, scale });
  await ch.next("setupDone", budgetMs);
  const client = createClient(loadKubeconfig(kubeconfig));
  // TUG_BENCH_SCHED_LEGACY=1: the core as it was before the incremental nominated overlay and the
  // resource-only preemption dry run (per-cycle overlay, generic dry runs, scan from offset 0,
  // victims with evictions in flight not counted as terminating).
  const legacy = process.env["TUG_BENCH_SCHED_LEGACY"] === "1";
  const core = legacy ? await legacyCore() : undefined;
  const counted = countingPodApi(clientPodApi(client));
  const runner = await createSchedulerRunner({
    client, leaderElect: false, preemptionGracePeriodSeconds: 0, maxInFlightBindings: 256, log: () => {}, podApi: counted.api,
    events: { maxQueued: eventQueue }, ...(core ? { core } : {}),
  });
  runner.start();
  try {
    for (let t = Date.now(); !runner.isActive(); await new Promise((r) => setTimeout(r, 50))) if (Date.now() - t > 120_000) throw new Error("scheduler did not sync");
    ch.send({ cmd: "create", phase: "init" });
    await ch.next("created", budgetMs);
    await ch.next("bound", budgetMs);
    // 1. upstream shape: create while scheduling
    const s0 = { ...runner.stats };
    const pre0 = runner.metrics.preemptionAttempts.get();
    const vic0 = runner.metrics.preemptionVictims.get({})?.sum ?? 0;
    await runner.drain(); // the init phase's events and status writes are not the measured pods'
    const cpu0 = process.cpuUsage();
    const w0 = { ...counted.n }, e0 = { ...runner.recorder.stats };
    ch.send({ cmd: "create", phase: "measured" });
    const created = await ch.next("created", budgetMs);
    const { stats: conc } = await ch.next("bound", budgetMs);
    const cpu = process.cpuUsage(cpu0);
    const eBound = { ...runner.recorder.stats }, tBound = performance.now();
    // Writes still queued when the last pod was seen bound (events, status patches) belong to this phase.
    await runner.drain();
    const e1 = runner.recorder.stats;
    const eventBacklog = { writes: e1.created + e1.patched - (eBound.created + eBound.patched), drainMs: performance.now() - tBound };
    const writes = { bind: counted.n.bind - w0.bind, patchStatus: counted.n.patchStatus - w0.patchStatus, deletePod: counted.n.deletePod - w0.deletePod, eventCreate: e1.created - e0.created, eventPatch: e1.patched - e0.patched, eventDropped: e1.dropped - e0.dropped };
    const s1 = { ...runner.stats };
    const preemptions = runner.metrics.preemptionAttempts.get() - pre0;
    const victims = (runner.metrics.preemptionVictims.get({})?.sum ?? 0) - vic0;
    const n = wl.measuredPods;
    const sched = runner.scheduler!;
    const bindSeries = runner.metrics.phaseDuration.get({ extension_point: "bind", profile: "default-scheduler" });
    // 2. pre-created: pause, create a second batch, wait until it is queued, resume
    // (the measured namespace is reused: delete the first batch first, so the cluster state matches)
    // (Preemption*: the second batch would land in the room the first one made, so it is not run.)
    const prePods = name.startsWith("Preemption") ? { stats: conc, rate: NaN } : await precreated(ch, runner, client, wl, budgetMs);
    return {
      name, nodes: wl.nodes, init: wl.initPods, measured: n, floor: wl.floor, goal: wl.goal, note: wl.note,
      concurrent: conc, concurrentPodsPerS: n / ((conc.lastBound - conc.firstCreate) / 1000),
      writesDonePodsPerS: n / ((conc.lastBound - conc.firstCreate + eventBacklog.drainMs) / 1000),
      precreated: prePods.stats, precreatedPodsPerS: prePods.rate,
      schedMsPerPod: (s1.scheduleMs - s0.scheduleMs) / n, informerMsPerPod: (s1.informerMs - s0.informerMs) / n,
      parentCpuMsPerPod: (cpu.user + cpu.system) / 1000 / n, childCpuMsPerPod: conc.childCpuMs / n, apiserverCpuMsPerPod: conc.apiserverCpuMs / n,
      bindP50: (bindSeries?.quantile(0.5) ?? NaN) * 1000, bindP99: (bindSeries?.quantile(0.99) ?? NaN) * 1000,
      createPodsPerS: n / (created.ms / 1000), kernel: sched.kernel.impl,
      attempts: s1.scheduled + s1.unschedulable + s1.errors - (s0.scheduled + s0.unschedulable + s0.errors),
      failedAttempts: s1.unschedulable + s1.errors - (s0.unschedulable + s0.errors), preemptions, victims, writes, eventBacklog,
    };
  } finally {
    await runner.stop();
    client.close();
    ch.send({ cmd: "stop" });
    await new Promise((r) => { ch.proc.once("exit", r); setTimeout(r, 10_000); });
  }
}

async function legacyCore(): Promise<{ registry: Map<string, import("../src/scheduler/framework/registry.ts").PluginFactory>; nominatedOverlay: "per-cycle" }> {
  const { inTreeRegistry } = await import("../src/scheduler/plugins/registry.ts");
  const dp = await import("../src/scheduler/plugins/defaultpreemption/defaultpreemption.ts");
  const registry = new Map(inTreeRegistry);
  registry.set(dp.NAME, (args, ctx) => dp.newDefaultPreemption(args, ctx, { resourceFastPath: false, random: () => 0, evictionsInFlightTerminate: false, gateWhilePreempting: false }));
  return { registry, nominatedOverlay: "per-cycle" };
}

async function precreated(ch: Child, runner: import("../src/scheduler/runner/runner.ts").SchedulerRunner, client: import("../src/client/client.ts").Client, wl: Workload, budgetMs: number): Promise<{ stats: PhaseStats; rate: number }> {
  // Remove the measured pods (immediate deletion: grace 0) and wait until the scheduler's cache forgot them.
  const pods = client.resourceFor("v1", "Pod").namespace("measured");
  await pods.deleteCollection({}, { gracePeriodSeconds: 0 });
  const sched = runner.scheduler!;
  await new Promise((r) => setTimeout(r, 3000));
  runner.pause();
  ch.send({ cmd: "create", phase: "measured" });
  await ch.next("created", budgetMs);
  for (let t = Date.now(); sched.queue.stats().active < wl.measuredPods; await new Promise((r) => setTimeout(r, 50))) if (Date.now() - t > 60_000) break;
  const at = Date.now();
  ch.send({ cmd: "resumed", at });
  runner.resume();
  const { stats } = await ch.next("bound", budgetMs);
  return { stats, rate: wl.measuredPods / ((stats.lastBound - at) / 1000) };
}

function fmt(n: number, d = 0): string {
  return Number.isFinite(n) ? n.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d }) : "-";
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  let scale = 1;
  let budgetS = 600;
  let timeoutS = 3600;
  // Upstream's events/v1 broadcaster writes each event in its own goroutine, so it does not drop
  // them at these rates; the default queue here is large enough to drop none either.
  let eventQueue = 1_000_000;
  let names = ["SchedulingBasic", "NodeAffinity", "PodAntiAffinity", "TopologySpread", "Preemption500", "Preemption"];
  const num = (flag: string, v: string | undefined): number => {
    const x = Number(v);
    if (!(x > 0)) throw new Error(`${flag} needs a positive number, got ${v ?? "nothing"}`);
    return x;
  };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--scale") scale = Number(argv[++i]);
    else if (argv[i] === "--workloads") names = (argv[++i] ?? "").split(",").filter((s) => s !== "");
    else if (argv[i] === "--budget-s") budgetS = num("--budget-s", argv[++i]);
    else if (argv[i] === "--timeout-s") timeoutS = num("--timeout-s", argv[++i]);
    else if (argv[i] === "--event-queue") eventQueue = num("--event-queue", argv[++i]);
    else throw new Error(`unknown argument ${argv[i]} (flags: --workloads A,B --scale f --budget-s N --timeout-s N --event-queue N)`);
  }
  if (!(scale > 0 && scale <= 1)) throw new Error("--scale must be in (0, 1]");
  const known = workloads(1).map((w) => w.name);
  for (const n of names) if (!known.includes(n)) throw new Error(`unknown workload ${n} (one of: ${known.join(", ")})`);
  // Whole-run bound: a stuck phase fails after --budget-s; the run as a whole after --timeout-s.
  const killer = setTimeout(() => {
    process.stderr.write(`scheduler bench: --timeout-s ${timeoutS} exceeded; exiting\n`);
    for (const c of children) c.kill("SIGKILL");
    process.exit(2);
  }, timeoutS * 1000);
  killer.unref();
  const rows: Row[] = [];
  for (const n of names) {
    process.stderr.write(`scheduler bench: ${n}…\n`);
    rows.push(await runWorkload(n, scale, budgetS * 1000, eventQueue));
  }
  console.log("| workload | nodes | init / measured pods | pods/s (upstream shape) | upstream floor | ratio | goal | pods/s, scheduler's writes done | ratio | pods/s (pre-created) | ratio | latency p50 / p99 ms | sched ms/pod | bind p50 / p99 ms | scheduler CPU ms/pod | apiserver CPU ms/pod | driver CPU ms/pod | create pods/s |");
  console.log("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  const kv: string[] = [];
  for (const r of rows) {
    const ratio = r.floor ? r.concurrentPodsPerS / r.floor : NaN;
    const ratioPre = r.floor ? r.precreatedPodsPerS / r.floor : NaN;
    console.log(`| ${r.name} | ${fmt(r.nodes)} | ${fmt(r.init)} / ${fmt(r.measured)} | ${fmt(r.concurrentPodsPerS)} | ${r.floor ?? "no published floor"} | ${r.floor ? `${fmt(ratio, 2)}x` : "-"} | ${r.goal ?? "-"} | ${fmt(r.writesDonePodsPerS)} | ${r.floor ? `${fmt(r.writesDonePodsPerS / r.floor, 2)}x` : "-"} | ${fmt(r.precreatedPodsPerS)} | ${r.floor ? `${fmt(ratioPre, 2)}x` : "-"} | ${fmt(r.concurrent.p50)} / ${fmt(r.concurrent.p99)} | ${fmt(r.schedMsPerPod, 3)} | ${fmt(r.bindP50, 1)} / ${fmt(r.bindP99, 1)} | ${fmt(r.parentCpuMsPerPod, 2)} | ${fmt(r.apiserverCpuMsPerPod, 2)} | ${fmt(r.childCpuMsPerPod, 2)} | ${fmt(r.createPodsPerS)} |`);
    const k = r.name;
    kv.push(`${k}_pods_per_s=${fmt(r.concurrentPodsPerS).replace(/,/g, "")}`, `${k}_writes_done_pods_per_s=${fmt(r.writesDonePodsPerS).replace(/,/g, "")}`, `${k}_precreated_pods_per_s=${fmt(r.precreatedPodsPerS).replace(/,/g, "")}`, `${k}_p99_ms=${fmt(r.concurrent.p99).replace(/,/g, "")}`);
    if (r.floor) kv.push(`${k}_ratio=${fmt(ratio, 2)}`);
  }
  for (const r of rows) console.log(`${r.name}: ${fmt(r.attempts)} scheduling attempts for ${fmt(r.measured)} measured pods (${fmt(r.failedAttempts)} failed), ${fmt(r.preemptions)} preemptions, ${fmt(r.victims)} victims`);
  for (const r of rows) {
    const w = r.writes, per = (x: number): string => fmt(x / r.measured, 2);
    console.log(`${r.name}: scheduler API writes per measured pod ${per(w.bind + w.patchStatus + w.deletePod + w.eventCreate + w.eventPatch)} (bindings ${per(w.bind)}, status patches ${per(w.patchStatus)}, deletes ${per(w.deletePod)}, event creates ${per(w.eventCreate)}, event patches ${per(w.eventPatch)}; events dropped by the recorder's full queue ${per(w.eventDropped)}; event writes still queued at the last bind ${fmt(r.eventBacklog.writes)}, drained in ${fmt(r.eventBacklog.drainMs / 1000, 1)} s)`);
  }
  console.log(`\nkernel: ${rows[0]?.kernel ?? "-"}${process.env["TUG_BENCH_SCHED_LEGACY"] === "1" ? " (LEGACY core: per-cycle nominated overlay, generic preemption dry runs, offset 0, in-flight evictions not terminating)" : ""}; 100% of nodes scored (percentageOfNodesToScore ignored); notes: ${rows.map((r) => `${r.name}: ${r.note}`).join("; ")}`);
  const basic = rows.find((r) => r.name === "SchedulingBasic");
  console.log(`RESULT scale=${scale} ${kv.join(" ")} goal_basic=6800 goal_basic_met=${basic ? basic.concurrentPodsPerS >= 6800 : "n/a"}`);
}

if (process.argv.includes("--apiserver")) await apiserverProcess();
else if (process.argv.includes("--child")) await child();
else await main();
