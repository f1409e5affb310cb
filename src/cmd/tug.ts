/**
 * `tug` command line: `tug server` (the control plane in the foreground) and `tug up` (everything
 * for a single-node cluster, with defaults). Runs on Node (via tsx) and on Deno.
 */
import { Command, CommanderError, Option } from "commander";
import { COMPONENTS } from "../server/components.ts";
import { StartError, startControlPlane, type ControlPlane } from "../server/control-plane.ts";
import { parseListenAddress } from "../server/listen.ts";
import { DEFAULT_EVENT_TTL, parseEventTtl } from "../server/eventttl.ts";
import { TRANSPORT_NAMES, defaultTransport, isTransportName } from "../server/transports.ts";
import { clientFromKubeconfig } from "../client/client.ts";
import { CONTROLLERS, selectControllers, startControllerManager } from "../controllers/manager.ts";
import { addAgentCommand, DEFAULT_DOCKER_HOST, parseHollowFlags, RUNTIME_NAMES, runHollow, type RuntimeName } from "../kubelet/cli.ts";
import { parseFlowControlFlags, type FlowControlFlags } from "../apiserver/flowcontrol/mod.ts";
import { addSchedulerCommand, addSchedulerServerFlags, schedulerServerOptions, type SchedulerServerFlags } from "../scheduler/cmd.ts";

interface RunFlags extends SchedulerServerFlags, FlowControlFlags {
  dataDir: string;
  listen: string;
  kubeconfigOut?: string;
  transport?: string;
  tokenAuthFile?: string;
  insecurePlaintext?: boolean;
  disable: string[];
  runtime?: string;
  dockerHost?: string;
  eventTtl: string;
}

/** Prints one line on stderr and exits 1: the contract for every start-up failure. */
function fail(message: string): never {
  process.stderr.write(`tug: ${message.replace(/\s*\n\s*/g, " ")}\n`);
  process.exit(1);
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

async function run(flags: RunFlags, command: "server" | "up"): Promise<void> {
  let listen;
  try {
    listen = parseListenAddress(flags.listen);
  } catch (err) {
    fail(err instanceof Error ? err.message : String(err));
  }
  const transport = flags.transport ?? defaultTransport();
  if (!isTransportName(transport)) {
    fail(`unknown --transport "${transport}" (one of: ${TRANSPORT_NAMES.join(", ")})`);
  }
  const kubeconfigOut = flags.kubeconfigOut ?? `${flags.dataDir.replace(/\/+$/, "")}/kubeconfig`;
  let scheduler;
  let flowControl;
  let eventTtlMs: number | undefined;
  try {
    scheduler = schedulerServerOptions(flags);
    flowControl = parseFlowControlFlags(flags);
    eventTtlMs = parseEventTtl(flags.eventTtl);
  } catch (err) {
    fail(err instanceof Error ? err.message : String(err));
  }

  // Signal handlers go in before start-up: the kubeconfig (which callers wait for) is written
  // before the controllers and scheduler finish starting, and a signal in that window must still
  // be a clean stop, not Node's default exit.
  let cp: ControlPlane | undefined;
  let stopping: string | undefined;
  let signals = 0;
  const stopNow = (sig: string, plane: ControlPlane): void => {
    process.stderr.write(`tug: ${sig} received, shutting down\n`);
    plane.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`tug: error while stopping: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(1);
      },
    );
  };
  const onSignal = (sig: string): void => {
    signals++;
    if (signals > 1) {
      process.stderr.write(`tug: second ${sig}, exiting at once\n`);
      process.exit(130);
    }
    if (cp) stopNow(sig, cp);
    else stopping = sig; // acted on as soon as start-up returns
  };
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  process.on("SIGINT", () => onSignal("SIGINT"));

  try {
    cp = await startControlPlane({
      dataDir: flags.dataDir,
      listen,
      kubeconfigOut,
      transport,
      disable: flags.disable,
      scheduler,
      flowControl,
      ...(eventTtlMs !== undefined ? { eventTtlMs } : {}),
      ...(command === "up" ? { agent: { runtime: upRuntime(flags.runtime), ...(flags.dockerHost !== undefined ? { dockerHost: flags.dockerHost } : {}) } } : {}),
      ...(flags.tokenAuthFile !== undefined ? { tokenAuthFile: flags.tokenAuthFile } : {}),
      ...(flags.insecurePlaintext === true ? { insecurePlaintext: true } : {}),
    });
  } catch (err) {
    if (err instanceof StartError) fail(err.message);
    fail(err instanceof Error ? `${err.name}: ${err.message}` : String(err));
  }

  process.stdout.write(
    `tug ${command}: API serving at ${cp.url} (transport ${cp.transport}, pid ${process.pid})\n` +
      `export KUBECONFIG=${cp.kubeconfigPath}\n`,
  );
  if (stopping !== undefined) stopNow(stopping, cp);
}

function addRunFlags(cmd: Command, defaults: { dataDir?: string; listen?: string }): Command {
  const dataDir = new Option("--data-dir <dir>", "data directory (store, PKI, tokens)");
  const listen = new Option("--listen <host:port>", "address the API listens on (port 0: any free port)");
  const kubeconfig = new Option("--kubeconfig-out <file>", "where to write the admin kubeconfig once serving (default: <data-dir>/kubeconfig)");
  if (defaults.dataDir !== undefined) dataDir.default(defaults.dataDir);
  else dataDir.makeOptionMandatory();
  if (defaults.listen !== undefined) listen.default(defaults.listen);
  else listen.makeOptionMandatory();
  return addSchedulerServerFlags(cmd)
    .addOption(dataDir)
    .addOption(listen)
    .addOption(kubeconfig)
    .addOption(new Option("--transport <name>", `HTTP adapter (default: ${defaultTransport()})`).choices(TRANSPORT_NAMES))
    .option("--token-auth-file <file>", "extra bearer tokens: lines of token,user,uid[,\"group1,group2\"]")
    .option("--insecure-plaintext", "serve without TLS (h2c); for tests and benchmarks only")
    .option("--max-requests-inflight <n>", "seats for non-mutating requests; with priority and fairness, the total of both limits is split among priority levels (default 400; 0 = no limit)")
    .option("--max-mutating-requests-inflight <n>", "seats for mutating requests (default 200; 0 = no limit)")
    .option("--enable-priority-and-fairness [bool]", "API Priority and Fairness: classify requests into priority levels with fair queues (default true; false: plain max-in-flight limits)")
    .option("--event-ttl <duration>", "how long Events are kept after their last update (0: forever)", DEFAULT_EVENT_TTL)
    .option("--disable <component>", `do not start a component (repeatable; components: ${COMPONENTS.map((c) => c.name).join(", ")})`, collect, []);
}

const program = new Command()
  .name("tug")
  .description("Tugboat: a Kubernetes-compatible container orchestrator")
  .showHelpAfterError()
  .exitOverride();

addRunFlags(
  program.command("server").description("run the control plane (apiserver, controllers, scheduler) in the foreground"),
  {},
).action((flags: RunFlags) => run(flags, "server"));

addRunFlags(
  program.command("up").description("run a single-node cluster: the control plane plus one node agent"),
  { dataDir: ".tug", listen: "127.0.0.1:6443" },
)
  .addOption(new Option("--runtime <name>", "container runtime of the node agent").choices(RUNTIME_NAMES).default("process"))
  .option("--docker-host <url>", `Docker daemon for --runtime docker (default ${DEFAULT_DOCKER_HOST})`)
  .action((flags: RunFlags) => run(flags, "up"));

/** `tug up --runtime`: process (the default), docker or hollow. */
function upRuntime(v: string | undefined): RuntimeName {
  return v === "docker" || v === "hollow" ? v : "process";
}

interface ControllerManagerFlags {
  kubeconfig: string;
  controllers: string[];
  leaderElect: boolean;
}

/** `tug controller-manager`: the controllers against any apiserver, in the foreground. */
function runControllerManager(flags: ControllerManagerFlags): void {
  let names: string[];
  let client;
  try {
    names = selectControllers(flags.controllers);
    client = clientFromKubeconfig(flags.kubeconfig, { userAgent: "tug-controller-manager" });
  } catch (err) {
    fail(err instanceof Error ? err.message : String(err));
  }
  const cm = startControllerManager({ client, controllers: names, leaderElect: flags.leaderElect });
  process.stdout.write(`tug controller-manager: ${names.join(", ")} against ${client.config.server} (pid ${process.pid}${flags.leaderElect ? ", leader election on kube-system/kube-controller-manager" : ""})\n`);
  const onSignal = (sig: string): void => {
    process.stderr.write(`tug: ${sig} received, shutting down\n`);
    cm.stop().then(() => {
      client.close();
      process.exit(0);
    }, () => process.exit(1));
  };
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  process.on("SIGINT", () => onSignal("SIGINT"));
}

program.command("controller-manager")
  .description("run the controllers (leader-elected) against the apiserver of a kubeconfig")
  .requiredOption("--kubeconfig <file>", "kubeconfig of the apiserver to manage")
  .option("--controllers <names>", `controllers to run: * (all), name, -name; comma-separated, repeatable (known: ${CONTROLLERS.map((c) => c.name).join(", ")})`, collect, [])
  .option("--no-leader-elect", "run without leader election (only one manager may then run)")
  .action((flags: ControllerManagerFlags) => runControllerManager(flags));

addSchedulerCommand(program, fail);

addAgentCommand(program, fail);

program.command("hollow")
  .description("run N hollow node agents in one process (simulated containers; real API traffic)")
  .requiredOption("--kubeconfig <file>", "kubeconfig of the apiserver")
  .requiredOption("--nodes <n>", "number of hollow nodes")
  .option("--name-prefix <prefix>", "node names are <prefix><i>", "hollow-")
  .option("--pods-per-node <n>", "max pods per node (default 110)")
  .option("--connections <n>", "HTTP/2 connections shared by the agents", "1")
  .option("--pki-dir <dir>", "cluster CA (ca.crt, ca.key) for the streaming endpoint's certificate (default: <kubeconfig dir>/pki)")
  .action(async (raw: Parameters<typeof parseHollowFlags>[0]) => {
    let flags;
    try {
      flags = parseHollowFlags(raw);
    } catch (err) {
      fail(err instanceof Error ? err.message : String(err));
    }
    await runHollow(flags).catch((err: unknown) => fail(err instanceof Error ? err.message : String(err)));
  });

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode);
  throw err;
}
