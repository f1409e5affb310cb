/**
 * `npm run bench -- pod-startup [--runtime process|hollow] [--rounds N]`
 *
 * Pod startup latency on a real single-node cluster: `tug up` (control plane, controllers,
 * scheduler and one node agent with the chosen runtime) runs as a child process on loopback; the
 * bench creates pods through the API and times creation -> `status.phase == Running` as observed
 * by a watch, for 1 pod at a time (N rounds) and for a batch of 50 created together. Compared
 * against the Kubernetes pod startup SLO (p99 <= 5 s) and issue 5's goal for Docker (p99 <= 2 s
 * for 50 pods; the Docker runtime needs root and a daemon, so it is not part of this bench yet).
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { clientFromKubeconfig } from "../src/client/mod.ts";
import type { KubeObject } from "../src/api/object.ts";

const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? (process.argv[i + 1] as string) : dflt;
};
const RUNTIME = arg("runtime", "process");
const ROUNDS = Number(arg("rounds", "10"));
const BATCH = 50;
const SLO_MS = 5000;
const DOCKER_GOAL_MS = 2000;

function pct(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
}

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

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "tug-bench-startup-"));
  const kubeconfig = join(dir, "kubeconfig");
  const child = spawn(process.execPath, [
    join(import.meta.dirname, "..", "bin", "tug.js"), "up", "--data-dir", dir, "--listen", "127.0.0.1:0",
    "--kubeconfig-out", kubeconfig, "--runtime", RUNTIME,
  ], { stdio: ["ignore", "ignore", "inherit"] });
  const started = Date.now();
  try {
    while (!existsSync(kubeconfig)) {
      if (Date.now() - started > 60_000) throw new Error("tug up did not write its kubeconfig in 60 s");
      await new Promise((r) => setTimeout(r, 100));
    }
    const client = clientFromKubeconfig(kubeconfig);
    const nodes = client.resourceFor("v1", "Node");
    for (;;) {
      const list = await nodes.list();
      const ready = (list.items as KubeObject[]).some((n) =>
        ((n["status"] as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? [])
          .some((c) => c.type === "Ready" && c.status === "True"));
      if (ready) break;
      if (Date.now() - started > 90_000) throw new Error("no Ready node within 90 s");
      await new Promise((r) => setTimeout(r, 200));
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
        if (Date.now() > until) throw new Error(`pods not Running within ${capMs} ms: ${names.filter((n) => !running.has(n)).length}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    const latencies = (names: readonly string[]) => names.map((n) => (running.get(n) ?? NaN) - (created.get(n) ?? NaN));

    const singles: string[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const name = `single-${i}`;
      created.set(name, performance.now());
      await pods.create(pod(name));
      singles.push(name);
      await waitAll([name], 30_000);
    }
    const batch = Array.from({ length: BATCH }, (_, i) => `batch-${i}`);
    await Promise.all(batch.map(async (name) => {
      created.set(name, performance.now());
      await pods.create(pod(name));
    }));
    await waitAll(batch, 120_000);
    watch.stop();
    await observe.catch(() => undefined);

    const one = latencies(singles);
    const fifty = latencies(batch);
    const row = (label: string, xs: number[]) =>
      `| ${label} | ${xs.length} | ${pct(xs, 50).toFixed(0)} | ${pct(xs, 99).toFixed(0)} | ${(pct(xs, 99) / SLO_MS).toFixed(2)} |`;
    console.log(`pod startup latency, runtime=${RUNTIME} (create -> Running seen by a watch; ms)`);
    console.log("| case | pods | p50 | p99 | p99 / SLO (5 s) |");
    console.log("|---|---:|---:|---:|---:|");
    console.log(row("1 pod at a time", one));
    console.log(row(`${BATCH} pods at once`, fifty));
    console.log(`RESULT runtime=${RUNTIME} single_p50_ms=${pct(one, 50).toFixed(0)} single_p99_ms=${pct(one, 99).toFixed(0)} ` +
      `batch50_p50_ms=${pct(fifty, 50).toFixed(0)} batch50_p99_ms=${pct(fifty, 99).toFixed(0)} slo_ms=${SLO_MS} ` +
      `slo_met=${pct(fifty, 99) <= SLO_MS} docker_goal_ms=${DOCKER_GOAL_MS}`);
    for (const name of [...singles, ...batch]) await pods.delete(name, { gracePeriodSeconds: 0 }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 2000)); // let the agent stop the containers it started
  } finally {
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
