/**
 * `npm run bench -- hollow-runtime [nodes] [podsPerNode]`: cost of the hollow container runtime
 * (src/kubelet/runtimes/hollow) at kubemark-like scale, in process, no API traffic.
 *
 * - Memory: heap growth (after GC) for `nodes` hollow hosts × `podsPerNode` pods of one container
 *   each (default 1,000 × 10 = 10,000 sandboxes + 10,000 running containers), reported per
 *   10,000 containers, per pod and per node. Measured twice: "runtime only" (the kubelet-like
 *   configs are built before the baseline, since the agent holds them anyway) and "with configs".
 * - CPU: user+system µs per operation for each RuntimeService call the kubelet makes, over all pods.
 * - Timers: 10,000 containers with pending exits spread over 1 s on one shared TimerQueue (fake
 *   clock, driven here): CPU per scheduled transition, and host timers armed (must be 1).
 * - Idle: CPU of the process over 2 s of real time with every container idle (no timers at all).
 *
 * Ends with a `RESULT` line.
 */
import { FakeClock } from "../src/kubelet/runtime/clock.ts";
import { TimerQueue } from "../src/kubelet/runtime/timers.ts";
import type { ContainerConfig, PodSandboxConfig } from "../src/kubelet/runtime/types.ts";
import { HollowHost } from "../src/kubelet/runtimes/hollow/host.ts";
import { HollowRuntime } from "../src/kubelet/runtimes/hollow/runtime.ts";

const NODES = Number(process.argv[2] ?? 1000);
const PODS = Number(process.argv[3] ?? 10);
if (!(NODES >= 1 && PODS >= 1)) throw new Error("usage: hollow-runtime [nodes>=1] [podsPerNode>=1]");
const TOTAL = NODES * PODS;

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with --expose-gc (npm run bench does)");
function heap(): number {
  for (let i = 0; i < 3; i++) gc!();
  return process.memoryUsage().heapUsed;
}
const cpuUs = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

interface PodSpec {
  sandbox: PodSandboxConfig;
  container: ContainerConfig;
}

/** Configs shaped like the kubelet's: pod identity labels, restart annotations, log paths. */
function podSpec(node: number, pod: number): PodSpec {
  const uid = `${node.toString(16).padStart(8, "0")}-0000-4000-8000-${pod.toString(16).padStart(12, "0")}`;
  const name = `web-7d9c8b6f5-${(node * 1000 + pod).toString(36)}`;
  return {
    sandbox: {
      metadata: { name, namespace: "default", uid, attempt: 0 },
      hostname: name,
      logDirectory: `/var/log/pods/default_${name}_${uid}`,
      labels: { "io.kubernetes.pod.name": name, "io.kubernetes.pod.namespace": "default", "io.kubernetes.pod.uid": uid, app: "web" },
      annotations: { "kubernetes.io/config.seen": "2026-11-22T00:00:00Z", "kubernetes.io/config.source": "api" },
    },
    container: {
      metadata: { name: "web", attempt: 0 },
      image: { image: "nginx:1.25" },
      labels: { "io.kubernetes.container.name": "web", "io.kubernetes.pod.name": name, "io.kubernetes.pod.namespace": "default", "io.kubernetes.pod.uid": uid },
      annotations: { "io.kubernetes.container.hash": "5f2c1a0b", "io.kubernetes.container.restartCount": "0", "io.kubernetes.container.terminationMessagePath": "/dev/termination-log" },
      logPath: "web/0.log",
      resources: { cpuMillisRequest: 100, memoryBytesRequest: 128 * 1024 * 1024 },
    },
  };
}

/** Process CPU in millicores over 2 s of real time in which this process does nothing. */
async function idleMillicores(): Promise<number> {
  heap();
  const c0 = cpuUs();
  const w0 = performance.now();
  await new Promise((r) => setTimeout(r, 2000));
  return (cpuUs() - c0) / (performance.now() - w0);
}

const rows: [string, string][] = [];
const row = (k: string, v: string): void => {
  rows.push([k, v]);
};

async function main(): Promise<Record<string, number | string>> {
  const clock = new FakeClock();
  const timers = new TimerQueue(clock);
  const specs: PodSpec[][] = Array.from({ length: NODES }, (_, n) => Array.from({ length: PODS }, (_, p) => podSpec(n, p)));

  // --- idle CPU baseline (the process before any hollow state) ------------------------------
  const idleBase = await idleMillicores();

  // --- memory -------------------------------------------------------------------------------
  const base = heap();
  const nodes = Array.from({ length: NODES }, (_, i) => new HollowRuntime(new HollowHost({ timers, nodeName: `hollow-${i}`, seed: i + 1 })));
  const ids: { sid: string; cid: string }[][] = [];
  const perOp: Record<string, number> = {};
  const timed = async (name: string, fn: (n: number, p: number) => Promise<void>): Promise<void> => {
    const t0 = cpuUs();
    for (let n = 0; n < NODES; n++) for (let p = 0; p < PODS; p++) await fn(n, p);
    perOp[name] = (cpuUs() - t0) / TOTAL;
  };
  for (let n = 0; n < NODES; n++) await nodes[n]!.pullImage({ image: "nginx:1.25" });
  const afterNodes = heap();
  await timed("runPodSandbox", async (n, p) => {
    const sid = await nodes[n]!.runPodSandbox(specs[n]![p]!.sandbox);
    (ids[n] ??= [])[p] = { sid, cid: "" };
  });
  await timed("pullImage(present)", async (n) => {
    await nodes[n]!.pullImage({ image: "nginx:1.25" });
  });
  await timed("createContainer", async (n, p) => {
    const x = ids[n]![p]!;
    x.cid = await nodes[n]!.createContainer(x.sid, specs[n]![p]!.container, specs[n]![p]!.sandbox);
  });
  await timed("startContainer", async (n, p) => {
    await nodes[n]!.startContainer(ids[n]![p]!.cid);
  });
  const loaded = heap();
  const runtimeBytes = loaded - afterNodes;
  const nodeBytes = afterNodes - base;

  await timed("containerStatus", async (n, p) => {
    await nodes[n]!.containerStatus(ids[n]![p]!.cid);
  });
  await timed("podSandboxStatus", async (n, p) => {
    await nodes[n]!.podSandboxStatus(ids[n]![p]!.sid);
  });
  // A kubelet relist: one listContainers + listPodSandboxes per node (reported per pod).
  await timed("relist (per pod)", async (n, p) => {
    if (p === 0) {
      await nodes[n]!.listPodSandboxes();
      await nodes[n]!.listContainers();
    }
  });

  // --- idle CPU -----------------------------------------------------------------------------
  const idleLoaded = await idleMillicores();

  await timed("stopContainer", async (n, p) => {
    await nodes[n]!.stopContainer(ids[n]![p]!.cid, 30);
  });
  await timed("removeContainer", async (n, p) => {
    await nodes[n]!.removeContainer(ids[n]![p]!.cid);
  });
  await timed("removePodSandbox", async (n, p) => {
    await nodes[n]!.removePodSandbox(ids[n]![p]!.sid);
  });

  // --- memory with configs (configs built after the baseline) --------------------------------
  const base2 = heap();
  const nodes2 = Array.from({ length: NODES }, (_, i) => new HollowRuntime(new HollowHost({ timers, nodeName: `hollow2-${i}`, seed: i + 7 })));
  for (let n = 0; n < NODES; n++) {
    const rt = nodes2[n]!;
    await rt.pullImage({ image: "nginx:1.25" });
    for (let p = 0; p < PODS; p++) {
      const s = podSpec(n + NODES, p);
      const sid = await rt.runPodSandbox(s.sandbox);
      await rt.startContainer(await rt.createContainer(sid, s.container, s.sandbox));
    }
  }
  const withConfigsBytes = heap() - base2;
  for (const rt of nodes2) await rt.close();
  nodes2.length = 0;

  // --- scheduled transitions on one timer ----------------------------------------------------
  // 1,000 pods (sandboxes) × 10 containers each, exits spread over 1..1000 ms.
  const churnRt = nodes[0]!;
  const churnIds: string[] = [];
  const sc = specs[0]![0]!.sandbox;
  const churnSids: string[] = [];
  for (let p = 0; p < 1000; p++) churnSids.push(await churnRt.runPodSandbox({ ...sc, metadata: { ...sc.metadata, uid: `churn-${p}` } }));
  for (let ms = 1; ms <= 1000; ms++) await churnRt.pullImage({ image: `hollow/crash:${ms}` });
  const sched0 = cpuUs();
  for (let i = 0; i < 10_000; i++) {
    const cfg: ContainerConfig = { metadata: { name: "c", attempt: i % 10 }, image: { image: `hollow/crash:${(i % 1000) + 1}` }, labels: {}, annotations: {} };
    const id = await churnRt.createContainer(churnSids[Math.floor(i / 10)]!, cfg, sc);
    await churnRt.startContainer(id);
    churnIds.push(id);
  }
  const schedUs = (cpuUs() - sched0) / 10_000;
  const hostTimers = clock.pendingTimers();
  const queued = timers.size;
  const fire0 = cpuUs();
  clock.advance(1000);
  const fireUs = (cpuUs() - fire0) / 10_000;
  let exitedCount = 0;
  for (const id of churnIds) if ((await churnRt.containerStatus(id)).state === "EXITED") exitedCount++;

  const per10k = (b: number): number => (b / TOTAL) * 10_000;
  row("nodes × pods/node (1 container each)", `${NODES.toLocaleString("en-US")} × ${PODS}`);
  row("heap per empty hollow node (host + client)", `${(nodeBytes / NODES).toFixed(0)} B`);
  row("heap per 10,000 containers (+ sandboxes), runtime only", `${(per10k(runtimeBytes) / 1048576).toFixed(2)} MiB (${(runtimeBytes / TOTAL).toFixed(0)} B/pod)`);
  row("heap per 10,000 containers (+ sandboxes), with kubelet configs", `${(per10k(withConfigsBytes) / 1048576).toFixed(2)} MiB (${(withConfigsBytes / TOTAL).toFixed(0)} B/pod)`);
  for (const [k, v] of Object.entries(perOp)) row(`CPU ${k}`, `${v.toFixed(2)} µs/op`);
  row("10,000 pending exits: host timers armed", String(hostTimers));
  row("10,000 pending exits: queue entries", String(queued));
  row("CPU create+start with a scheduled exit", `${schedUs.toFixed(2)} µs/container`);
  row("CPU per fired exit transition", `${fireUs.toFixed(2)} µs`);
  row("exited after 1 s (fake clock)", `${exitedCount.toLocaleString("en-US")} / 10,000`);
  row("idle CPU of the process before any hollow state, 2 s", `${idleBase.toFixed(2)} millicores`);
  row(`idle CPU with ${TOTAL.toLocaleString("en-US")} running containers, 2 s`, `${idleLoaded.toFixed(2)} millicores`);

  return {
    nodes: NODES,
    pods_per_node: PODS,
    node_bytes: Math.round(nodeBytes / NODES),
    mib_per_10k_containers: Number((per10k(runtimeBytes) / 1048576).toFixed(2)),
    mib_per_10k_with_configs: Number((per10k(withConfigsBytes) / 1048576).toFixed(2)),
    ...Object.fromEntries(Object.entries(perOp).map(([k, v]) => [`us_${k.replace(/[^A-Za-z]+/g, "_").replace(/_+$/, "")}`, Number(v.toFixed(2))])),
    host_timers: hostTimers,
    us_per_transition: Number(fireUs.toFixed(2)),
    idle_base_millicores: Number(idleBase.toFixed(2)),
    idle_millicores: Number(idleLoaded.toFixed(2)),
  };
}

const result = await main();
const w = Math.max(...rows.map(([k]) => k.length));
console.log(`hollow runtime, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}\n`);
console.log(`| ${"measure".padEnd(w)} | value |`);
console.log(`|${"-".repeat(w + 2)}|-------|`);
for (const [k, v] of rows) console.log(`| ${k.padEnd(w)} | ${v} |`);
console.log(`\nRESULT ${Object.entries(result).map(([k, v]) => `${k}=${v}`).join(" ")}`);
