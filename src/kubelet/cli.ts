/**
 * The node agent's command-line entry points (`tug agent`, `tug hollow`) and the agent `tug up`
 * runs in-process. Flag checking is pure (`parseAgentFlags`, `parseHollowFlags`) and throws
 * `Error` with a one-line message for bad input; the runners own clients, signals and shutdown.
 */
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import { createClient, type Client } from "../client/client.ts";
import { loadKubeconfig } from "../client/kubeconfig.ts";
import { NodeAgent } from "./agent.ts";
import { startHollowFleet, type HollowFleet } from "./fleet.ts";
import { isQuantity, type NodeCapacity } from "./node-status.ts";
import { HollowHost, HollowRuntime } from "./runtimes/hollow/mod.ts";

export const RUNTIME_NAMES = ["hollow"] as const;
export type RuntimeName = (typeof RUNTIME_NAMES)[number];

export interface AgentFlags {
  kubeconfig: string;
  nodeName: string;
  runtime: RuntimeName;
  dataDir?: string;
  capacity: Partial<NodeCapacity>;
  nodeIP?: string;
}

export interface HollowFlags {
  kubeconfig: string;
  nodes: number;
  namePrefix: string;
  capacity: Partial<NodeCapacity>;
  connections: number;
}

const NODE_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

function capacityOf(raw: { cpu?: string; memory?: string; pods?: string; podsPerNode?: string }): Partial<NodeCapacity> {
  const out: { -readonly [K in keyof NodeCapacity]?: string } = {};
  if (raw.cpu !== undefined) {
    if (!isQuantity(raw.cpu)) throw new Error(`--cpu ${JSON.stringify(raw.cpu)} is not a quantity (e.g. 4 or 3500m)`);
    out.cpu = raw.cpu;
  }
  if (raw.memory !== undefined) {
    if (!isQuantity(raw.memory)) throw new Error(`--memory ${JSON.stringify(raw.memory)} is not a quantity (e.g. 8Gi)`);
    out.memory = raw.memory;
  }
  const pods = raw.pods ?? raw.podsPerNode;
  if (pods !== undefined) {
    if (!/^[1-9][0-9]{0,5}$/.test(pods)) throw new Error(`--${raw.pods !== undefined ? "pods" : "pods-per-node"} ${JSON.stringify(pods)} must be a positive integer`);
    out.pods = pods;
  }
  return out;
}

function runtimeOf(v: string | undefined): RuntimeName {
  const r = v ?? "hollow";
  if (!(RUNTIME_NAMES as readonly string[]).includes(r)) {
    throw new Error(`unknown --runtime "${r}" (available: ${RUNTIME_NAMES.join(", ")}; docker and process come with the real runtimes)`);
  }
  return r as RuntimeName;
}

/** Checks `tug agent` flags. */
export function parseAgentFlags(raw: { kubeconfig?: string; nodeName?: string; runtime?: string; dataDir?: string; cpu?: string; memory?: string; pods?: string; nodeIp?: string }): AgentFlags {
  if (!raw.kubeconfig) throw new Error("--kubeconfig is required");
  if (!raw.nodeName) throw new Error("--node-name is required");
  if (!NODE_NAME.test(raw.nodeName) || raw.nodeName.length > 253) throw new Error(`--node-name ${JSON.stringify(raw.nodeName)} must be a lowercase RFC 1123 subdomain`);
  if (raw.nodeIp !== undefined && !/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(raw.nodeIp) && raw.nodeIp !== "::1") {
    throw new Error(`--node-ip ${JSON.stringify(raw.nodeIp)} must be a loopback address`);
  }
  return {
    kubeconfig: raw.kubeconfig, nodeName: raw.nodeName, runtime: runtimeOf(raw.runtime), capacity: capacityOf(raw),
    ...(raw.dataDir !== undefined ? { dataDir: raw.dataDir } : {}),
    ...(raw.nodeIp !== undefined ? { nodeIP: raw.nodeIp } : {}),
  };
}

/** Checks `tug hollow` flags. */
export function parseHollowFlags(raw: { kubeconfig?: string; nodes?: string; namePrefix?: string; podsPerNode?: string; cpu?: string; memory?: string; connections?: string }): HollowFlags {
  if (!raw.kubeconfig) throw new Error("--kubeconfig is required");
  const nodes = Number(raw.nodes);
  if (raw.nodes === undefined || !/^[0-9]+$/.test(raw.nodes) || nodes < 1 || nodes > 100_000) throw new Error(`--nodes must be an integer from 1 to 100000, got ${JSON.stringify(raw.nodes ?? "")}`);
  const prefix = raw.namePrefix ?? "hollow-";
  if (!/^[a-z0-9]([-a-z0-9.]*)?$/.test(prefix)) throw new Error(`--name-prefix ${JSON.stringify(prefix)} must start a lowercase RFC 1123 name`);
  const conns = Number(raw.connections ?? "1");
  if (!Number.isInteger(conns) || conns < 1 || conns > 64) throw new Error(`--connections must be an integer from 1 to 64, got ${JSON.stringify(raw.connections)}`);
  return { kubeconfig: raw.kubeconfig, nodes, namePrefix: prefix, capacity: capacityOf(raw), connections: conns };
}

/** This machine's host name as a node name (lowercased, invalid characters replaced). */
export function hostNodeName(): string {
  const h = hostname().toLowerCase().replace(/[^-a-z0-9.]/g, "-").replace(/^[-.]+|[-.]+$/g, "");
  return h === "" ? "localhost" : h.slice(0, 253);
}

const log = (msg: string): void => {
  process.stderr.write(`tug: ${msg}\n`);
};

function errorLogger(): (err: unknown, where: string) => void {
  let n = 0;
  return (err, where) => {
    // Bounded: a flapping apiserver must not flood the terminal.
    if (++n <= 100 || n % 1000 === 0) log(`${where}: ${err instanceof Error ? err.message : String(err)}`);
  };
}

/** Starts one agent for `tug up` with the given kubeconfig; returns its stop function. */
export async function startLocalAgent(o: { kubeconfigPath: string; nodeName?: string; dataDir?: string }): Promise<() => Promise<void>> {
  const client = createClient(loadKubeconfig(o.kubeconfigPath));
  const nodeName = o.nodeName ?? hostNodeName();
  const host = new HollowHost({ nodeName });
  const agent = new NodeAgent({
    client, nodeName, runtime: new HollowRuntime(host), onError: errorLogger(),
    ...(o.dataDir !== undefined ? { logRoot: join(resolve(o.dataDir), "logs", "pods") } : {}),
  });
  try {
    await agent.start();
  } catch (err) {
    await agent.stop().catch(() => undefined);
    client.close();
    throw err;
  }
  return async () => {
    await agent.stop();
    await agent.runtime.close();
    client.close();
  };
}

function onSignals(stop: () => Promise<void>): void {
  // Agent timers are unref'd; this keeps the foreground process alive until a signal.
  const keepAlive = setInterval(() => {}, 1 << 30);
  let n = 0;
  const handler = (sig: string): void => {
    if (++n > 1) process.exit(130);
    log(`${sig} received, shutting down`);
    clearInterval(keepAlive);
    stop().then(() => process.exit(0), (err: unknown) => {
      log(`error while stopping: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    });
  };
  process.on("SIGTERM", () => handler("SIGTERM"));
  process.on("SIGINT", () => handler("SIGINT"));
}

/** `tug agent`: one node agent in the foreground until SIGTERM/SIGINT. */
export async function runAgent(f: AgentFlags): Promise<void> {
  const client = createClient(loadKubeconfig(f.kubeconfig));
  const host = new HollowHost({ nodeName: f.nodeName, ...(f.dataDir !== undefined ? { logs: "output" as const } : {}) });
  const agent = new NodeAgent({
    client, nodeName: f.nodeName, runtime: new HollowRuntime(host), capacity: f.capacity, onError: errorLogger(),
    ...(f.nodeIP !== undefined ? { nodeIP: f.nodeIP } : {}),
    ...(f.dataDir !== undefined ? { logRoot: join(resolve(f.dataDir), "logs", "pods") } : {}),
  });
  await agent.start();
  process.stdout.write(`tug agent: node ${f.nodeName} registered (runtime ${f.runtime}, pid ${process.pid})\n`);
  onSignals(async () => {
    await agent.stop();
    await agent.runtime.close();
    client.close();
  });
}

/** `tug hollow`: N hollow agents in the foreground until SIGTERM/SIGINT. */
export async function runHollow(f: HollowFlags): Promise<void> {
  const config = loadKubeconfig(f.kubeconfig);
  const clients: Client[] = Array.from({ length: f.connections }, () => createClient(config));
  const t0 = Date.now();
  let fleet: HollowFleet;
  try {
    fleet = await startHollowFleet({ clients, nodes: f.nodes, namePrefix: f.namePrefix, capacity: f.capacity, onError: errorLogger() });
  } catch (err) {
    for (const c of clients) c.close();
    throw err;
  }
  process.stdout.write(`tug hollow: ${f.nodes} nodes ${f.namePrefix}0…${f.namePrefix}${f.nodes - 1} registered in ${Date.now() - t0} ms (pid ${process.pid})\n`);
  onSignals(async () => {
    await fleet.stop();
    for (const c of clients) c.close();
  });
}
