/**
 * The node agent's command-line entry points (`tug agent`, `tug hollow`) and the agent `tug up`
 * runs in-process. Flag checking is pure (`parseAgentFlags`, `parseHollowFlags`) and throws
 * `Error` with a one-line message for bad input; the runners own clients, signals and shutdown.
 */
import { hostname } from "node:os";
import { Option, type Command } from "commander";
import { join, resolve } from "node:path";
import { createClient, type Client } from "../client/client.ts";
import { loadKubeconfig } from "../client/kubeconfig.ts";
import { NodeAgent } from "./agent.ts";
import { startHollowFleet, type HollowFleet } from "./fleet.ts";
import { isQuantity, type NodeCapacity } from "./node-status.ts";
import { HollowHost, HollowRuntime } from "./runtimes/hollow/mod.ts";
import { createProcessRuntime } from "./runtimes/process/mod.ts";
import type { RuntimeService } from "./runtime/types.ts";
import { pkiDirNextTo, startAgentStreaming } from "./streaming/agent.ts";
import { nodeToken, readNodeTokenKey } from "../auth/nodetoken.ts";

export const RUNTIME_NAMES = ["hollow", "process", "docker"] as const;
/** The Docker host `--runtime docker` uses without `--docker-host`. */
export const DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock";
export type RuntimeName = (typeof RUNTIME_NAMES)[number];

export interface AgentFlags {
  kubeconfig: string;
  nodeName: string;
  runtime: RuntimeName;
  dataDir?: string;
  capacity: Partial<NodeCapacity>;
  nodeIP?: string;
  /** Cluster CA for the streaming endpoint's certificate (default: `<kubeconfig dir>/pki` if present). */
  pkiDir?: string;
  /** `--docker-host` (docker runtime). */
  dockerHost?: string;
}

export interface HollowFlags {
  kubeconfig: string;
  nodes: number;
  namePrefix: string;
  capacity: Partial<NodeCapacity>;
  connections: number;
  pkiDir?: string;
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
    throw new Error(`unknown --runtime "${r}" (available: ${RUNTIME_NAMES.join(", ")})`);
  }
  return r as RuntimeName;
}

/** Checks `--docker-host` (`unix:///abs/path.sock` or `tcp://host:port`); only with `--runtime docker`. */
export function dockerHostOf(runtime: RuntimeName, v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (runtime !== "docker") throw new Error(`--docker-host needs --runtime docker (got --runtime ${runtime})`);
  if (!/^unix:\/\/\/.+$/.test(v) && !/^tcp:\/\/[^/:]+:[0-9]{1,5}$/.test(v)) {
    throw new Error(`--docker-host ${JSON.stringify(v)} must be unix:///path/to/docker.sock or tcp://host:port`);
  }
  return v;
}

/** Checks `tug agent` flags. */
export function parseAgentFlags(raw: { kubeconfig?: string; nodeName?: string; runtime?: string; dataDir?: string; cpu?: string; memory?: string; pods?: string; nodeIp?: string; pkiDir?: string; dockerHost?: string }): AgentFlags {
  if (!raw.kubeconfig) throw new Error("--kubeconfig is required");
  if (!raw.nodeName) throw new Error("--node-name is required");
  if (!NODE_NAME.test(raw.nodeName) || raw.nodeName.length > 253) throw new Error(`--node-name ${JSON.stringify(raw.nodeName)} must be a lowercase RFC 1123 subdomain`);
  if (raw.nodeIp !== undefined && !/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(raw.nodeIp) && raw.nodeIp !== "::1") {
    throw new Error(`--node-ip ${JSON.stringify(raw.nodeIp)} must be a loopback address`);
  }
  const runtime = runtimeOf(raw.runtime);
  const dockerHost = dockerHostOf(runtime, raw.dockerHost);
  if (runtime === "process" && raw.dataDir === undefined) throw new Error("--runtime process needs --data-dir (containers, logs and state live there)");
  return {
    kubeconfig: raw.kubeconfig, nodeName: raw.nodeName, runtime, capacity: capacityOf(raw),
    ...(raw.dataDir !== undefined ? { dataDir: raw.dataDir } : {}),
    ...(raw.nodeIp !== undefined ? { nodeIP: raw.nodeIp } : {}),
    ...(raw.pkiDir !== undefined ? { pkiDir: raw.pkiDir } : {}),
    ...(dockerHost !== undefined ? { dockerHost } : {}),
  };
}

/** Checks `tug hollow` flags. */
export function parseHollowFlags(raw: { kubeconfig?: string; nodes?: string; namePrefix?: string; podsPerNode?: string; cpu?: string; memory?: string; connections?: string; pkiDir?: string }): HollowFlags {
  if (!raw.kubeconfig) throw new Error("--kubeconfig is required");
  const nodes = Number(raw.nodes);
  if (raw.nodes === undefined || !/^[0-9]+$/.test(raw.nodes) || nodes < 1 || nodes > 100_000) throw new Error(`--nodes must be an integer from 1 to 100000, got ${JSON.stringify(raw.nodes ?? "")}`);
  const prefix = raw.namePrefix ?? "hollow-";
  if (!/^[a-z0-9]([-a-z0-9.]*)?$/.test(prefix)) throw new Error(`--name-prefix ${JSON.stringify(prefix)} must start a lowercase RFC 1123 name`);
  const conns = Number(raw.connections ?? "1");
  if (!Number.isInteger(conns) || conns < 1 || conns > 64) throw new Error(`--connections must be an integer from 1 to 64, got ${JSON.stringify(raw.connections)}`);
  return { kubeconfig: raw.kubeconfig, nodes, namePrefix: prefix, capacity: capacityOf(raw), connections: conns, ...(raw.pkiDir !== undefined ? { pkiDir: raw.pkiDir } : {}) };
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

/**
 * The client a node agent uses: authenticated as `system:node:<name>` by a node token when the
 * cluster's node-token key is in `pkiDir` (src/auth/nodetoken.ts), else the kubeconfig's identity.
 * `close()` on the result closes the underlying connection either way.
 */
function asNode(base: Client, pkiDir: string | undefined, nodeName: string): Client {
  const key = pkiDir !== undefined ? readNodeTokenKey(pkiDir) : undefined;
  if (key === undefined) return base;
  const node = base.withToken(nodeToken(key, nodeName));
  node.close = () => base.close();
  return node;
}

/** Starts one agent for `tug up` with the given kubeconfig; returns its stop function. */
export async function startLocalAgent(o: { kubeconfigPath: string; nodeName?: string; dataDir?: string; runtime?: RuntimeName; dockerHost?: string }): Promise<() => Promise<void>> {
  const nodeName = o.nodeName ?? hostNodeName();
  const runtime = await createRuntime(o.runtime ?? "hollow", nodeName, o.dataDir, o.dataDir !== undefined, dockerHostOf(o.runtime ?? "hollow", o.dockerHost));
  // The control plane's own PKI (same data dir) signs the streaming endpoint's certificate.
  const pkiDir = o.dataDir !== undefined ? join(resolve(o.dataDir), "pki") : pkiDirNextTo(o.kubeconfigPath);
  const streaming = await startAgentStreaming({ pkiDir, log });
  const client = asNode(createClient(loadKubeconfig(o.kubeconfigPath)), pkiDir, nodeName);
  const agent = new NodeAgent({
    client, nodeName, runtime, onError: errorLogger(),
    ...(o.dataDir !== undefined ? { logRoot: join(resolve(o.dataDir), "logs", "pods"), podsDir: join(resolve(o.dataDir), "pods") } : {}),
    ...(streaming !== undefined ? { kubeletEndpoint: streaming.endpoint } : {}),
  });
  streaming?.register(agent.streaming);
  try {
    await agent.start();
  } catch (err) {
    await agent.stop().catch(() => undefined);
    await streaming?.close();
    await runtime.close();
    client.close();
    throw err;
  }
  return async () => {
    await agent.stop();
    await streaming?.close();
    await agent.runtime.close();
    client.close();
  };
}

/**
 * The runtime named by `--runtime` (process: state under `<dataDir>/process`; docker: the daemon at
 * `dockerHost`, containers scoped to this node). An unreachable Docker daemon is an `Error` naming
 * the socket.
 */
async function createRuntime(name: RuntimeName, nodeName: string, dataDir: string | undefined, hollowLogs: boolean, dockerHost?: string): Promise<RuntimeService> {
  if (name === "docker") {
    const host = dockerHost ?? DEFAULT_DOCKER_HOST;
    try {
      // Loaded on demand: dockerode and its dependencies are only needed with --runtime docker.
      const { createDockerRuntime } = await import("./runtimes/docker/mod.ts");
      return await createDockerRuntime({ host, scope: nodeName });
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      throw new Error(`--runtime docker: ${msg.includes(host) ? msg : `cannot reach the Docker daemon at ${host}: ${msg}`}`);
    }
  }
  if (name === "process") {
    if (dataDir === undefined) throw new Error("--runtime process needs --data-dir");
    return createProcessRuntime({ dataDir: join(resolve(dataDir), "process") });
  }
  return new HollowRuntime(new HollowHost({ nodeName, ...(hollowLogs ? { logs: "output" as const } : {}) }));
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
  const runtime = await createRuntime(f.runtime, f.nodeName, f.dataDir, f.dataDir !== undefined, f.dockerHost);
  const pkiDir = f.pkiDir ?? pkiDirNextTo(f.kubeconfig);
  const streaming = await startAgentStreaming({ pkiDir, log });
  const client = asNode(createClient(loadKubeconfig(f.kubeconfig)), pkiDir, f.nodeName);
  const agent = new NodeAgent({
    client, nodeName: f.nodeName, runtime, capacity: f.capacity, onError: errorLogger(),
    ...(f.nodeIP !== undefined ? { nodeIP: f.nodeIP } : {}),
    ...(f.dataDir !== undefined ? { logRoot: join(resolve(f.dataDir), "logs", "pods"), podsDir: join(resolve(f.dataDir), "pods") } : {}),
    ...(streaming !== undefined ? { kubeletEndpoint: streaming.endpoint } : {}),
  });
  streaming?.register(agent.streaming);
  await agent.start();
  process.stdout.write(`tug agent: node ${f.nodeName} registered (runtime ${f.runtime}, pid ${process.pid}${streaming !== undefined ? `, streaming ${streaming.endpoint.url}` : ""})\n`);
  onSignals(async () => {
    await agent.stop();
    await streaming?.close();
    await agent.runtime.close();
    client.close();
  });
}

/**
 * Adds `tug agent` to a commander program (the full `tug` CLI and the agent-only entry `main.ts`
 * share it). `fail` prints one line and exits 1.
 */
export function addAgentCommand(program: Command, fail: (message: string) => never): void {
  program.command("agent")
    .description("run a node agent (kubelet) against the apiserver of a kubeconfig")
    .requiredOption("--kubeconfig <file>", "kubeconfig of the apiserver")
    .requiredOption("--node-name <name>", "name of the Node to register")
    .addOption(new Option("--runtime <name>", "container runtime").choices(RUNTIME_NAMES).default("hollow"))
    .option("--docker-host <url>", `Docker daemon for --runtime docker (default ${DEFAULT_DOCKER_HOST})`)
    .option("--data-dir <dir>", "agent state and container logs (logs/pods/…)")
    .option("--node-ip <ip>", "the node's InternalIP (loopback; default 127.0.0.1)")
    .option("--pki-dir <dir>", "cluster CA (ca.crt, ca.key) for the streaming endpoint's certificate (default: <kubeconfig dir>/pki)")
    .option("--cpu <quantity>", "cpu capacity (default 4)")
    .option("--memory <quantity>", "memory capacity (default 8Gi)")
    .option("--pods <n>", "max pods (default 110)")
    .action(async (raw: Parameters<typeof parseAgentFlags>[0]) => {
      let flags;
      try {
        flags = parseAgentFlags(raw);
      } catch (err) {
        fail(err instanceof Error ? err.message : String(err));
      }
      await runAgent(flags).catch((err: unknown) => fail(err instanceof Error ? err.message : String(err)));
    });
}

/** `tug hollow`: N hollow agents in the foreground until SIGTERM/SIGINT. */
export async function runHollow(f: HollowFlags): Promise<void> {
  const config = loadKubeconfig(f.kubeconfig);
  const clients: Client[] = Array.from({ length: f.connections }, () => createClient(config));
  const t0 = Date.now();
  // One streaming server for the whole fleet: it finds a pod's node by asking each agent's informer.
  const pkiDir = f.pkiDir ?? pkiDirNextTo(f.kubeconfig);
  const streaming = await startAgentStreaming({ pkiDir, log });
  // Each node authenticates as system:node:<name> (node token) when the cluster's key is at hand.
  const nodeKey = pkiDir !== undefined ? readNodeTokenKey(pkiDir) : undefined;
  let fleet: HollowFleet;
  try {
    fleet = await startHollowFleet({
      clients, nodes: f.nodes, namePrefix: f.namePrefix, capacity: f.capacity, onError: errorLogger(),
      ...(nodeKey !== undefined ? { clientFor: (n: string, c: Client) => c.withToken(nodeToken(nodeKey, n)) } : {}),
      ...(streaming !== undefined ? { agent: { kubeletEndpoint: streaming.endpoint } } : {}),
    });
  } catch (err) {
    await streaming?.close();
    for (const c of clients) c.close();
    throw err;
  }
  for (const a of fleet.agents) streaming?.register(a.streaming);
  process.stdout.write(`tug hollow: ${f.nodes} nodes ${f.namePrefix}0…${f.namePrefix}${f.nodes - 1} registered in ${Date.now() - t0} ms (pid ${process.pid})\n`);
  onSignals(async () => {
    await fleet.stop();
    await streaming?.close();
    for (const c of clients) c.close();
  });
}
