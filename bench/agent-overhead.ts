/**
 * `npm run bench -- agent-overhead [--runtime process|docker] [--pods 100] [--window 20] [--no-tsx]`
 *
 * Node agent overhead: CPU and RSS of the `tug agent` process alone, idle and with N running pods.
 * Processes (children of this one, loopback, stopped by PID at the end): `tug server` (control
 * plane with controllers and scheduler, its own process: not measured) and `tug agent --runtime R`
 * as launched by bin/tug.js (bundled plain JavaScript, bin/_agent.js). Pods (busybox `sleep 3600`)
 * are created bound to the agent's node.
 *
 * Measures, from /proc only (the agent's own PID):
 * - CPU in millicores = 1000 × Δ(utime+stime) / CLK_TCK / seconds over the `--window` (and the
 *   busiest of its 4 quarters beside it; ticks are 10 ms, so short windows read 0 for a quiet agent);
 * - RSS = VmRSS from /proc/<pid>/status sampled every second through the window; median (and max).
 * Phases: idle (node Ready, 10 s settle), then `--pods` pods created, all Running, 10 s settle.
 * Baselines measured in the same run: a bare `node` process idling (the floor any Node agent pays,
 * sampled alongside the idle window) and, unless `--no-tsx`, the same agent launched through the
 * tsx loader (`TUG_AGENT_BUNDLE=0`, the launch path before the bundle), idle only.
 * Goal (issue 5): idle RSS <= 60 MiB (k3s' agent needs 256 MB).
 *
 * `--runtime docker` (root, dockerd, busybox-static): runs itself inside a private dockerd's network
 * namespace (bench/_docker.ts), which also removes the containers, stops dockerd and deletes the
 * namespace at the end.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { KubeObject } from "../src/api/object.ts";
import { clientFromKubeconfig } from "../src/client/mod.ts";
import { innerDockerHost, REPO, runInDockerNetns } from "./_docker.ts";

const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? (process.argv[i + 1] as string) : dflt;
};
const RUNTIME = arg("runtime", "process");
const PODS = Number(arg("pods", "100"));
const WINDOW_S = Number(arg("window", "20"));
const TSX = !process.argv.includes("--no-tsx");
const DOCKER_HOST = innerDockerHost(process.argv);
if (RUNTIME !== "process" && RUNTIME !== "docker") throw new Error(`--runtime must be process or docker, got ${JSON.stringify(RUNTIME)}`);
if (!Number.isInteger(PODS) || PODS < 1 || PODS > 110) throw new Error(`--pods must be an integer 1-110, got ${PODS}`);
if (!Number.isFinite(WINDOW_S) || WINDOW_S < 4 || WINDOW_S > 120) throw new Error(`--window must be 4-120 seconds, got ${WINDOW_S}`);
const GOAL_MIB = 60;
const K3S_MIB = 256;
const NODE = "bench-agent";
const SETTLE_MS = 10_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const log = (m: string): void => {
  process.stderr.write(`agent-overhead: ${m}\n`);
};

function pct(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
}

const CLK_TCK = ((): number => {
  const r = spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8", timeout: 5000 });
  const n = Number(r.stdout?.trim());
  return Number.isInteger(n) && n > 0 ? n : 100;
})();

/** utime+stime in seconds, VmRSS in MiB; undefined when the process is gone. */
function sample(pid: number): { cpuS: number; rssMiB: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(f[11]) + Number(f[12]);
    const rssKb = Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? NaN);
    return { cpuS: ticks / CLK_TCK, rssMiB: rssKb / 1024 };
  } catch {
    return undefined;
  }
}

interface Window { coresMean: number; coresMaxQuarter: number; rssMiB: number; rssMax: number; samples: number }

/** Samples every second for `seconds` for each pid; CPU per quarter of the window, RSS per sample. */
async function measure(pids: readonly number[], seconds: number): Promise<Window[]> {
  const quarters = 4;
  const per = pids.map(() => ({ rss: [] as number[], cpu: [] as number[], cpu0: NaN, cpu1: NaN }));
  const t0 = performance.now();
  const first = pids.map(sample);
  per.forEach((p, i) => { p.cpu0 = first[i]?.cpuS ?? NaN; });
  let lastCpu = first.map((s) => s?.cpuS ?? NaN);
  let lastT = t0;
  for (let q = 0; q < quarters; q++) {
    const until = t0 + ((q + 1) * seconds * 1000) / quarters;
    for (let i = 0; i < 1000 && performance.now() < until; i++) {
      await sleep(Math.min(1000, Math.max(0, until - performance.now())));
      pids.forEach((pid, j) => {
        const s = sample(pid);
        if (s !== undefined) per[j]!.rss.push(s.rssMiB);
      });
    }
    const now = performance.now();
    const cur = pids.map(sample);
    pids.forEach((_, j) => {
      const c = cur[j]?.cpuS ?? NaN;
      per[j]!.cpu.push((c - (lastCpu[j] ?? NaN)) / ((now - lastT) / 1000));
      per[j]!.cpu1 = c;
    });
    lastCpu = cur.map((s) => s?.cpuS ?? NaN);
    lastT = now;
  }
  const wall = (performance.now() - t0) / 1000;
  return per.map((p) => ({
    coresMean: (p.cpu1 - p.cpu0) / wall, coresMaxQuarter: Math.max(...p.cpu), rssMiB: pct(p.rss, 50), rssMax: Math.max(...p.rss), samples: p.rss.length,
  }));
}

const children: ChildProcess[] = [];
function start(argv: readonly string[], env: Record<string, string> = {}): ChildProcess {
  const c = spawn(process.execPath, argv, { cwd: REPO, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1", ...env } });
  let out = "";
  const keep = (b: Buffer): void => { out = (out + b.toString("utf8")).slice(-4000); };
  c.stdout?.on("data", keep);
  c.stderr?.on("data", keep);
  c.once("exit", (code, sig) => { if (!stopping.has(c)) log(`${argv.slice(0, 2).join(" ")} exited (${code ?? sig}):\n${out}`); });
  children.push(c);
  return c;
}
const stopping = new Set<ChildProcess>();
async function stop(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null || c.pid === undefined) return;
  stopping.add(c);
  const exited = new Promise((r) => c.once("exit", r));
  c.kill("SIGTERM");
  const t = setTimeout(() => c.kill("SIGKILL"), 15_000);
  await exited;
  clearTimeout(t);
}
process.on("exit", () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null && c.pid !== undefined) c.kill("SIGKILL");
});

function pod(name: string): KubeObject {
  return {
    apiVersion: "v1", kind: "Pod", metadata: { name, labels: { bench: "agent-overhead" } },
    spec: {
      nodeName: NODE, terminationGracePeriodSeconds: 0,
      containers: [{ name: "c", image: "busybox", imagePullPolicy: "IfNotPresent", command: ["sleep", "3600"] }],
    },
  };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "tug-bench-agent-"));
  const kubeconfig = join(dir, "server", "kubeconfig");
  let interrupted = false;
  const onSignal = (): void => {
    interrupted = true;
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const check = (): void => {
    if (interrupted) throw new Error("interrupted");
  };
  const tug = join(REPO, "bin", "tug.js");
  try {
    const server = start([tug, "server", "--data-dir", join(dir, "server"), "--listen", "127.0.0.1:0", "--kubeconfig-out", kubeconfig]);
    const t0 = Date.now();
    while (!existsSync(kubeconfig)) {
      check();
      if (server.exitCode !== null || Date.now() - t0 > 60_000) throw new Error("tug server did not write its kubeconfig within 60 s");
      await sleep(100);
    }
    const client = clientFromKubeconfig(kubeconfig);
    const nodes = client.resourceFor("v1", "Node");
    const pods = client.resourceFor("v1", "Pod").namespace("default");
    const nodeReady = async (name: string, capMs: number): Promise<void> => {
      const until = Date.now() + capMs;
      for (;;) {
        check();
        const n = await nodes.get(name).catch(() => undefined);
        const conds = (n?.["status"] as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? [];
        if (conds.some((c) => c.type === "Ready" && c.status === "True")) return;
        if (Date.now() > until) throw new Error(`node ${name} not Ready within ${capMs} ms`);
        await sleep(250);
      }
    };
    const agentArgs = (name: string): string[] => [
      // --pki-dir: the control plane's PKI (the kubeconfig is written elsewhere), so the agent serves
      // its streaming endpoint (logs/exec/port-forward) with the control plane's kubelet-serving pair, as in use.
      tug, "agent", "--kubeconfig", kubeconfig, "--pki-dir", join(dir, "server", "pki"), "--node-name", name, "--runtime", RUNTIME, "--data-dir", join(dir, name),
      ...(DOCKER_HOST !== undefined ? ["--docker-host", DOCKER_HOST] : []),
    ];

    // Baseline: the agent through the tsx loader (the launch path before bin/_agent.js), idle.
    let tsxIdle: Window | undefined;
    if (TSX) {
      const a = start(agentArgs("bench-tsx"), { TUG_AGENT_BUNDLE: "0" });
      await nodeReady("bench-tsx", 90_000);
      await sleep(SETTLE_MS);
      check();
      log(`measuring the tsx-launched agent idle for ${WINDOW_S} s`);
      [tsxIdle] = await measure([a.pid ?? 0], WINDOW_S);
      await stop(a);
      await nodes.delete("bench-tsx").catch(() => undefined);
    }

    const agent = start(agentArgs(NODE));
    const bare = start(["-e", "setInterval(() => {}, 1000)"]);
    await nodeReady(NODE, 90_000);
    await sleep(SETTLE_MS);
    check();
    log(`measuring the agent idle for ${WINDOW_S} s`);
    const [idle, bareIdle] = await measure([agent.pid ?? 0, bare.pid ?? 0], WINDOW_S);
    await stop(bare);

    log(`creating ${PODS} pods`);
    const names = Array.from({ length: PODS }, (_, i) => `load-${i}`);
    const tc = Date.now();
    for (let i = 0; i < names.length; i += 10) await Promise.all(names.slice(i, i + 10).map((n) => pods.create(pod(n))));
    for (;;) {
      check();
      const running = ((await pods.list()).items as KubeObject[])
        .filter((p) => (p["status"] as { phase?: string } | undefined)?.phase === "Running").length;
      if (running >= PODS) break;
      if (Date.now() - tc > 150_000) throw new Error(`only ${running}/${PODS} pods Running after 150 s`);
      await sleep(500);
    }
    const allRunningS = (Date.now() - tc) / 1000;
    log(`${PODS} pods Running after ${allRunningS.toFixed(1)} s; settling, then measuring for ${WINDOW_S} s`);
    await sleep(SETTLE_MS);
    check();
    const [loaded] = await measure([agent.pid ?? 0], WINDOW_S);

    await Promise.all(names.map((n) => pods.delete(n, { gracePeriodSeconds: 0 }).catch(() => undefined)));
    for (const until = Date.now() + 60_000; Date.now() < until && !interrupted;) {
      if (((await pods.list()).items as KubeObject[]).length === 0) break;
      await sleep(500);
    }
    client.close();

    const f1 = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? "-" : x.toFixed(1));
    /** cores as millicores (1 decimal) */
    const f3 = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? "-" : (x * 1000).toFixed(1));
    const row = (label: string, w: Window | undefined): string =>
      `| ${label} | ${f3(w?.coresMean)} | ${f3(w?.coresMaxQuarter)} | ${f1(w?.rssMiB)} | ${f1(w?.rssMax)} | ${w === undefined ? "-" : (w.rssMiB / GOAL_MIB).toFixed(2)} |`;
    console.log(`node agent overhead, runtime=${RUNTIME} (the agent process only; ${WINDOW_S} s windows; CPU from /proc ticks of ${1000 / CLK_TCK} ms; RSS = median of 1 s samples; MiB)`);
    console.log("| phase | CPU millicores (window mean) | CPU millicores (busiest quarter) | RSS MiB (median) | RSS MiB (max) | RSS / goal 60 MiB |");
    console.log("|---|---:|---:|---:|---:|---:|");
    console.log(row("agent idle", idle));
    console.log(row(`agent with ${PODS} running pods`, loaded));
    if (tsxIdle !== undefined) console.log(row("baseline: same agent through the tsx loader, idle", tsxIdle));
    console.log(row("baseline: bare `node` process, idle", bareIdle));
    console.log(`idle RSS ${f1(idle?.rssMiB)} MiB vs goal ${GOAL_MIB} MiB: ${(idle?.rssMiB ?? Infinity) <= GOAL_MIB ? "met" : "NOT met"}; vs k3s agent ${K3S_MIB} MiB: ${((idle?.rssMiB ?? NaN) / K3S_MIB).toFixed(2)}x` +
      (tsxIdle !== undefined ? `; vs the tsx launch: ${((idle?.rssMiB ?? NaN) / tsxIdle.rssMiB).toFixed(2)}x` : ""));
    console.log(`RESULT runtime=${RUNTIME} pods=${PODS} window_s=${WINDOW_S} idle_millicores=${f3(idle?.coresMean)} idle_rss_mib=${f1(idle?.rssMiB)} ` +
      `loaded_millicores=${f3(loaded?.coresMean)} loaded_rss_mib=${f1(loaded?.rssMiB)} all_running_s=${allRunningS.toFixed(1)} ` +
      `bare_node_rss_mib=${f1(bareIdle?.rssMiB)} ${tsxIdle !== undefined ? `tsx_idle_rss_mib=${f1(tsxIdle.rssMiB)} tsx_idle_millicores=${f3(tsxIdle.coresMean)} ` : ""}` +
      `goal_rss_mib=${GOAL_MIB} ratio_goal=${((idle?.rssMiB ?? NaN) / GOAL_MIB).toFixed(2)} goal_met=${(idle?.rssMiB ?? Infinity) <= GOAL_MIB}`);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    // Agents first (they stop nothing on exit; the pods are already deleted), then the server.
    for (const c of [...children].reverse()) await stop(c);
    rmSync(dir, { recursive: true, force: true });
  }
}

if (RUNTIME === "docker" && DOCKER_HOST === undefined) {
  const pass = process.argv.slice(2).filter((a, i, all) => a !== "--docker-host" && all[i - 1] !== "--docker-host");
  process.exitCode = await runInDockerNetns("agent-overhead.ts", pass);
} else {
  await main();
}
