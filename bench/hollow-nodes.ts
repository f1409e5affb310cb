/**
 * `npm run bench -- hollow-nodes [nodes…]` (default `1000 5000`): cost of idle hollow nodes — full
 * node agents (src/kubelet) with hollow runtimes, each with its Node, Lease, pod informer and
 * watch — in this process, against `tug server` in a child process (plaintext h2c, embedded
 * store), so the figures are the agents' own.
 *
 * For each size: registration time; heap and RSS growth per node (after GC, once every agent
 * registered and synced); CPU of this process per node while idle over a 30 s window (three
 * heartbeat periods: every node renews its lease 3 times, node status is checked but not
 * written). Sizes run one after another in the same process (fleets are stopped in between);
 * a size whose registration takes longer than 240 s is reported as skipped.
 *
 * Goal (issue 4): <= 1 MB and <= 0.001 core per idle hollow node (kubemark: 0.09 cores, 220 MB).
 * Ends with a `RESULT` line.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createClient, type Client } from "../src/client/client.ts";
import { loadKubeconfig } from "../src/client/kubeconfig.ts";
import { startHollowFleet } from "../src/kubelet/fleet.ts";

const sizes = (process.argv.slice(2).length ? process.argv.slice(2) : ["1000", "5000"]).map(Number);
if (sizes.some((n) => !(Number.isInteger(n) && n >= 1 && n <= 20_000))) throw new Error("usage: hollow-nodes [nodes 1..20000 …]");
const IDLE_MS = Number(process.env["IDLE_MS"] ?? 30_000);
const REGISTER_LIMIT_MS = 240_000;

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with --expose-gc (npm run bench does)");
const settle = async (): Promise<void> => {
  for (let i = 0; i < 3; i++) {
    gc!();
    await new Promise((r) => setTimeout(r, 50));
  }
};
const mem = async (): Promise<{ heap: number; rss: number }> => {
  await settle();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, rss: m.rss };
};
const cpuUs = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const repo = resolve(new URL(".", import.meta.url).pathname, "..");
const dir = mkdtempSync(join(tmpdir(), "tug-bench-hollow-"));
const kubeconfig = join(dir, "kubeconfig");
const server = spawn(process.execPath, [join(repo, "bin/tug.js"), "server", "--data-dir", dir, "--listen", "127.0.0.1:0",
  "--kubeconfig-out", kubeconfig, "--insecure-plaintext", "--disable", "controller-manager"], { stdio: ["ignore", "pipe", "pipe"] });
let serverOut = "";
server.stdout?.on("data", (d: Buffer) => { serverOut += d.toString(); });
server.stderr?.on("data", (d: Buffer) => { serverOut += d.toString(); });
const stopServer = (): void => {
  if (server.exitCode === null) server.kill("SIGTERM");
};
process.on("exit", () => {
  stopServer();
  rmSync(dir, { recursive: true, force: true });
});

for (let i = 0; !(existsSync(kubeconfig) && serverOut.includes("export KUBECONFIG")); i++) {
  if (i > 600 || server.exitCode !== null) throw new Error(`tug server did not start: ${serverOut}`);
  await sleep(100);
}
const config = loadKubeconfig(kubeconfig);

interface Row {
  nodes: number;
  registerMs: number;
  heapPerNode: number;
  rssPerNode: number;
  idleCoresPerNode: number;
  idleMillicores: number;
  renewals: number;
  statusWrites: number;
  errors: number;
  skipped?: string;
}
const rows: Row[] = [];
let offset = 0;

for (const n of sizes) {
  const clients: Client[] = Array.from({ length: Math.max(1, Math.ceil(n / 2500)) }, () => createClient(config));
  // Warm the connections and code paths so the baseline includes them.
  await Promise.all(clients.map((c) => c.resourceFor("v1", "Namespace").list({ limit: 1 })));
  const before = await mem();
  const t0 = Date.now();
  let errors = 0;
  const fleetP = startHollowFleet({ clients, nodes: n, namePrefix: "hollow-", firstIndex: offset, startConcurrency: 100, onError: () => { errors++; } });
  const timeout = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), REGISTER_LIMIT_MS).unref());
  const fleet = await Promise.race([fleetP, timeout]);
  if (fleet === "timeout") {
    rows.push({ nodes: n, registerMs: REGISTER_LIMIT_MS, heapPerNode: 0, rssPerNode: 0, idleCoresPerNode: 0, idleMillicores: 0, renewals: 0, statusWrites: 0, errors, skipped: `registration over ${REGISTER_LIMIT_MS / 1000} s` });
    console.error(`${n} nodes: registration did not finish within ${REGISTER_LIMIT_MS / 1000} s; skipped`);
    void fleetP.then((f) => f.stop());
    break;
  }
  const registerMs = Date.now() - t0;
  offset += n;
  // Let the first heartbeats (spread over one period) pass before measuring.
  await sleep(11_000);
  const after = await mem();
  const sum = (f: (s: { leaseRenewals: number; statusWrites: number }) => number): number => fleet.agents.reduce((a, x) => a + f(x.stats.heartbeat), 0);
  const r0 = sum((s) => s.leaseRenewals), w0 = sum((s) => s.statusWrites);
  const c0 = cpuUs();
  const w = Date.now();
  await sleep(IDLE_MS);
  const cpu = cpuUs() - c0;
  const wall = Date.now() - w;
  const cores = cpu / 1000 / wall;
  rows.push({
    nodes: n, registerMs,
    heapPerNode: (after.heap - before.heap) / n,
    rssPerNode: (after.rss - before.rss) / n,
    idleCoresPerNode: cores / n,
    idleMillicores: cores * 1000,
    renewals: sum((s) => s.leaseRenewals) - r0,
    statusWrites: sum((s) => s.statusWrites) - w0,
    errors,
  });
  console.error(`${n} nodes: registered in ${registerMs} ms; idle ${(cores * 1000).toFixed(1)} millicores`);
  await fleet.stop();
  for (const c of clients) c.close();
  await settle();
}

const kb = (b: number): string => `${(b / 1024).toFixed(1)} KiB`;
console.log(`\nhollow-nodes: idle node agents (hollow runtime), agents in this process, tug server in a child; idle window ${IDLE_MS / 1000} s\n`);
console.log("| nodes | register | heap / node | RSS / node | idle CPU (process) | idle cores / node | lease renewals in window | node status writes in window | errors |");
console.log("|------:|---------:|------------:|-----------:|-------------------:|------------------:|------:|------:|------:|");
for (const r of rows) {
  if (r.skipped !== undefined) {
    console.log(`| ${r.nodes.toLocaleString("en-US")} | skipped: ${r.skipped} | | | | | | | |`);
    continue;
  }
  console.log(`| ${r.nodes.toLocaleString("en-US")} | ${(r.registerMs / 1000).toFixed(1)} s | ${kb(r.heapPerNode)} | ${kb(r.rssPerNode)} | ${r.idleMillicores.toFixed(1)} millicores | ${r.idleCoresPerNode.toFixed(6)} | ${r.renewals} | ${r.statusWrites} | ${r.errors} |`);
}
console.log("\ngoal: <= 1 MB and <= 0.001 core per idle hollow node (kubemark hollow node: 0.09 cores, 220 MB)");
const parts = rows.filter((r) => r.skipped === undefined).flatMap((r) => [
  `n${r.nodes}_register_s=${(r.registerMs / 1000).toFixed(1)}`,
  `n${r.nodes}_heap_kib_per_node=${(r.heapPerNode / 1024).toFixed(1)}`,
  `n${r.nodes}_rss_kib_per_node=${(r.rssPerNode / 1024).toFixed(1)}`,
  `n${r.nodes}_idle_cores_per_node=${r.idleCoresPerNode.toFixed(6)}`,
]);
console.log(`\nRESULT ${parts.join(" ")}`);
stopServer();
process.exit(0);
