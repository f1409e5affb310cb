/**
 * `npm run bench -- pod-startup [--runtime process|hollow|docker] [--rounds N] [--repeat R]`
 *
 * Pod startup latency on a real single-node cluster: `tug up` (control plane, controllers,
 * scheduler and one node agent with the chosen runtime) runs as a child process on loopback; the
 * bench creates pods through the API and times creation -> `status.phase == Running` as observed
 * by a watch, for 1 pod at a time (N rounds) and for a batch of 50 created together; the whole
 * measurement is repeated R times on the same cluster (pods deleted in between) and the table
 * shows the median of the R per-run p50/p99 figures. Compared against the Kubernetes pod startup
 * SLO (p99 <= 5 s) and issue 5's goal for Docker (p99 <= 2 s for 50 pods).
 *
 * `--runtime docker` (root, dockerd, busybox-static): the bench starts a private dockerd in its own
 * network namespace (test/support/dockerd.ts), imports busybox as `busybox:latest` and as the
 * agent's pause image, then re-runs itself inside that namespace (`nsenter --net=…`, with
 * `--docker-host`) so `tug up --runtime docker`, the apiserver and this client all use the
 * namespace's loopback. The outer process removes the containers, stops dockerd by PID and deletes
 * the namespace at the end, also on error and SIGINT/SIGTERM.
 * Baseline (docker only), measured in each repeat just before the agent's batch: the same number of
 * pods made straight through the Docker API with no agent — per pod a sandbox container (busybox
 * `sleep`, init, bridge network, shareable IPC) then an app container joined to its network and IPC,
 * all 50 concurrently — i.e. the floor this daemon on this machine allows for 100 containers.
 * Between repeats the bench waits until the agent has removed the previous pods' containers, so
 * their teardown does not overlap the next measurements.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { clientFromKubeconfig } from "../src/client/mod.ts";
import type { KubeObject } from "../src/api/object.ts";
import { connectDocker, type DockerClient } from "../src/kubelet/runtimes/docker/client.ts";
import { BUSYBOX_IMAGE, innerDockerHost, PAUSE_IMAGE, REPO, runInDockerNetns } from "./_docker.ts";

const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? (process.argv[i + 1] as string) : dflt;
};
const RUNTIME = arg("runtime", "process");
const ROUNDS = Number(arg("rounds", "10"));
const REPEAT = Number(arg("repeat", "1"));
/** Set on the inner run of `--runtime docker` (inside the daemon's network namespace). */
const DOCKER_HOST = innerDockerHost(process.argv);
if (!["process", "hollow", "docker"].includes(RUNTIME)) throw new Error(`--runtime must be process, hollow or docker, got ${JSON.stringify(RUNTIME)}`);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1 || ROUNDS > 200) throw new Error(`--rounds must be an integer 1-200, got ${ROUNDS}`);
if (!Number.isInteger(REPEAT) || REPEAT < 1 || REPEAT > 10) throw new Error(`--repeat must be an integer 1-10, got ${REPEAT}`);
const BATCH = 50;
const SLO_MS = 5000;
const DOCKER_GOAL_MS = 2000;

function pct(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
}
const median = (xs: readonly number[]): number => pct(xs, 50);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function pod(name: string): KubeObject {
  const image = RUNTIME === "hollow" ? "hollow/sleep" : "busybox";
  return {
    apiVersion: "v1", kind: "Pod", metadata: { name, labels: { bench: "startup" } },
    spec: {
      terminationGracePeriodSeconds: 0,
      containers: [{ name: "c", image, imagePullPolicy: "IfNotPresent", command: ["sleep", "3600"] }],
    },
  };
}

interface RunFigures { single: number[]; batch: number[]; raw: number[] }

/**
 * The raw-Docker floor: `n` sandbox + app container pairs created and started concurrently through
 * the Docker API (no scope labels, so the agent ignores them); latency per pair; removed afterwards.
 */
async function rawDockerBatch(docker: DockerClient, n: number, tag: string): Promise<number[]> {
  const lat: number[] = [];
  const ids: string[] = [];
  try {
    await Promise.all(Array.from({ length: n }, async (_, i) => {
      const t0 = performance.now();
      const sb = await docker.createContainer({
        name: `raw-${tag}-${i}-pod`, Image: PAUSE_IMAGE, Labels: { "bench.tugboat.raw": "1" },
        HostConfig: { Init: true, Privileged: false, NetworkMode: "bridge", IpcMode: "shareable", RestartPolicy: { Name: "no" } },
      });
      ids.push(sb.id);
      await docker.getContainer(sb.id).start();
      const c = await docker.createContainer({
        name: `raw-${tag}-${i}-c`, Image: BUSYBOX_IMAGE, Entrypoint: ["sleep", "3600"], Labels: { "bench.tugboat.raw": "1" },
        HostConfig: { Init: true, Privileged: false, NetworkMode: `container:${sb.id}`, IpcMode: `container:${sb.id}`, RestartPolicy: { Name: "no" } },
      });
      ids.push(c.id);
      await docker.getContainer(c.id).start();
      lat.push(performance.now() - t0);
    }));
  } finally {
    await Promise.all(ids.map((id) => docker.getContainer(id).remove({ force: true, v: true }).catch(() => undefined)));
  }
  return lat;
}

/** Runs `tug up` and measures; prints the table and the RESULT line. */
async function measure(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "tug-bench-startup-"));
  const kubeconfig = join(dir, "kubeconfig");
  const child = spawn(process.execPath, [
    join(REPO, "bin", "tug.js"), "up", "--data-dir", dir, "--listen", "127.0.0.1:0",
    "--kubeconfig-out", kubeconfig, "--runtime", RUNTIME,
    ...(DOCKER_HOST !== undefined ? ["--docker-host", DOCKER_HOST] : []),
  ], { cwd: REPO, stdio: ["ignore", "ignore", "inherit"] });
  const stopChild = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
  };
  // SIGINT/SIGTERM: stop `tug up` (by PID) and let the finally below clean up.
  let interrupted = false;
  const onSignal = (): void => {
    interrupted = true;
    stopChild();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const started = Date.now();
  try {
    while (!existsSync(kubeconfig)) {
      if (interrupted) throw new Error("interrupted");
      if (Date.now() - started > 60_000) throw new Error("tug up did not write its kubeconfig in 60 s");
      await sleep(100);
    }
    const client = clientFromKubeconfig(kubeconfig);
    const nodes = client.resourceFor("v1", "Node");
    for (;;) {
      const list = await nodes.list();
      const ready = (list.items as KubeObject[]).some((n) =>
        ((n["status"] as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? [])
          .some((c) => c.type === "Ready" && c.status === "True"));
      if (ready) break;
      if (interrupted) throw new Error("interrupted");
      if (Date.now() - started > 90_000) throw new Error("no Ready node within 90 s");
      await sleep(200);
    }
    const pods = client.resourceFor("v1", "Pod").namespace("default");
    const created = new Map<string, number>();
    const running = new Map<string, number>();
    const list = await pods.list();
    const watch = await pods.watch({ resourceVersion: String(list.metadata?.resourceVersion ?? "") });
    const observe = (async () => {
      for await (const ev of watch) {
        const o = ev.object as KubeObject;
        const name = o.metadata?.name ?? "";
        const phase = (o["status"] as { phase?: string } | undefined)?.phase;
        if (phase === "Running" && created.has(name) && !running.has(name)) running.set(name, performance.now());
      }
    })();
    const waitAll = async (names: readonly string[], capMs: number): Promise<void> => {
      const until = Date.now() + capMs;
      while (names.some((n) => !running.has(n))) {
        if (interrupted) throw new Error("interrupted");
        if (Date.now() > until) throw new Error(`pods not Running within ${capMs} ms: ${names.filter((n) => !running.has(n)).length}`);
        await sleep(20);
      }
    };
    const latencies = (names: readonly string[]) => names.map((n) => (running.get(n) ?? NaN) - (created.get(n) ?? NaN));
    /** Deletes the pods and waits (bounded) until the API no longer lists any. */
    const deleteAll = async (names: readonly string[]): Promise<void> => {
      await Promise.all(names.map((n) => pods.delete(n, { gracePeriodSeconds: 0 }).catch(() => undefined)));
      const until = Date.now() + 60_000;
      while (Date.now() < until && !interrupted) {
        if (((await pods.list()).items as KubeObject[]).length === 0) return;
        await sleep(250);
      }
    };

    const docker = DOCKER_HOST !== undefined ? await connectDocker(DOCKER_HOST) : undefined;
    /**
     * Docker: waits (bounded) until the agent has removed every container of the deleted pods. The
     * API forgets a pod before the agent tears it down (kill, wait, remove: ~55 ms of daemon CPU per
     * container here), and that teardown would otherwise run during the next repeat's measurements.
     */
    const dockerDrained = async (): Promise<void> => {
      if (docker === undefined) return;
      const until = Date.now() + 120_000;
      while (Date.now() < until && !interrupted) {
        const left = await docker.listContainers({ all: true, filters: JSON.stringify({ label: ["io.tugboat.scope"] }) });
        if (left.length === 0) return;
        await sleep(250);
      }
    };
    const runs: RunFigures[] = [];
    for (let r = 0; r < REPEAT; r++) {
      const raw = docker !== undefined ? await rawDockerBatch(docker, BATCH, String(r)) : [];
      const singles: string[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        const name = `single-${r}-${i}`;
        created.set(name, performance.now());
        await pods.create(pod(name));
        singles.push(name);
        await waitAll([name], 30_000);
      }
      const batch = Array.from({ length: BATCH }, (_, i) => `batch-${r}-${i}`);
      await Promise.all(batch.map(async (name) => {
        created.set(name, performance.now());
        await pods.create(pod(name));
      }));
      await waitAll(batch, 120_000);
      runs.push({ single: latencies(singles), batch: latencies(batch), raw });
      process.stderr.write(`pod-startup: run ${r + 1}/${REPEAT}: 1-pod p50 ${pct(runs[r]!.single, 50).toFixed(0)} ms, ` +
        `${BATCH}-pod p50 ${pct(runs[r]!.batch, 50).toFixed(0)} ms p99 ${pct(runs[r]!.batch, 99).toFixed(0)} ms` +
        (docker !== undefined ? `; raw Docker ${BATCH} pairs p50 ${pct(raw, 50).toFixed(0)} ms p99 ${pct(raw, 99).toFixed(0)} ms` : "") + "\n");
      await deleteAll([...singles, ...batch]);
      await dockerDrained();
    }
    watch.stop();
    await observe.catch(() => undefined);

    const fig = (pick: (f: RunFigures) => number[], p: number) => median(runs.map((f) => pct(pick(f), p)));
    const s50 = fig((f) => f.single, 50), s99 = fig((f) => f.single, 99);
    const b50 = fig((f) => f.batch, 50), b99 = fig((f) => f.batch, 99);
    const perRun = (pick: (f: RunFigures) => number[]) => runs.map((f) => pct(pick(f), 99).toFixed(0)).join(" / ");
    const goal = RUNTIME === "docker" ? DOCKER_GOAL_MS : SLO_MS;
    console.log(`pod startup latency, runtime=${RUNTIME} (create -> Running seen by a watch; ms; median over ${REPEAT} run(s))`);
    console.log("| case | pods per run | p50 | p99 | p99 of each run | p99 / SLO (5 s) | p99 / Docker goal (2 s) |");
    console.log("|---|---:|---:|---:|---|---:|---:|");
    console.log(`| 1 pod at a time | ${ROUNDS} | ${s50.toFixed(0)} | ${s99.toFixed(0)} | ${perRun((f) => f.single)} | ${(s99 / SLO_MS).toFixed(2)} | ${(s99 / DOCKER_GOAL_MS).toFixed(2)} |`);
    console.log(`| ${BATCH} pods at once | ${BATCH} | ${b50.toFixed(0)} | ${b99.toFixed(0)} | ${perRun((f) => f.batch)} | ${(b99 / SLO_MS).toFixed(2)} | ${(b99 / DOCKER_GOAL_MS).toFixed(2)} |`);
    const r50 = fig((f) => f.raw, 50), r99 = fig((f) => f.raw, 99);
    if (docker !== undefined) {
      console.log(`| baseline: ${BATCH} sandbox+app pairs straight through the Docker API, no agent | ${BATCH} | ${r50.toFixed(0)} | ${r99.toFixed(0)} | ${perRun((f) => f.raw)} | ${(r99 / SLO_MS).toFixed(2)} | ${(r99 / DOCKER_GOAL_MS).toFixed(2)} |`);
      console.log(`agent ${BATCH}-pod p99 / raw Docker p99 (same runs): ${(b99 / r99).toFixed(2)}x`);
    }
    console.log(`RESULT runtime=${RUNTIME} repeat=${REPEAT} single_p50_ms=${s50.toFixed(0)} single_p99_ms=${s99.toFixed(0)} ` +
      `batch50_p50_ms=${b50.toFixed(0)} batch50_p99_ms=${b99.toFixed(0)} slo_ms=${SLO_MS} ` +
      `slo_met=${b99 <= SLO_MS} docker_goal_ms=${DOCKER_GOAL_MS} ratio_goal=${(b99 / goal).toFixed(2)}` +
      (docker !== undefined ? ` docker_goal_met=${b99 <= DOCKER_GOAL_MS} raw_docker_p50_ms=${r50.toFixed(0)} raw_docker_p99_ms=${r99.toFixed(0)} ratio_vs_raw=${(b99 / r99).toFixed(2)}` : ""));
    client.close();
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    stopChild();
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      const t = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

if (RUNTIME === "docker" && DOCKER_HOST === undefined) {
  process.exitCode = await runInDockerNetns("pod-startup.ts", ["--runtime", "docker", "--rounds", String(ROUNDS), "--repeat", String(REPEAT)]);
}
else await measure();
