/**
 * `tug scheduler --kubeconfig FILE [--config FILE] [--no-leader-elect] [--kernel NAME]
 * [--metrics-address HOST:PORT]` and the scheduler flags of `tug server` / `tug up`.
 * Every start-up problem (unreadable or invalid config, a forced kernel that cannot load, a bad
 * address) is one line on stderr and exit 1 through the caller's `fail`.
 */
import { readFileSync } from "node:fs";
import { type Command, Option } from "commander";
import { clientFromKubeconfig } from "../client/client.ts";
import { parseListenAddress, type ListenAddress } from "../server/listen.ts";
import { parseSchedulerConfig, type SchedulerConfig } from "./framework/config.ts";
import { isKernelChoice, KERNEL_CHOICES, type KernelChoice } from "./runner/kernel.ts";
import { createSchedulerRunner } from "./runner/runner.ts";
import { serveMetrics } from "./runner/serve.ts";

/**
 * Reads and validates a KubeSchedulerConfiguration file. Throws `Error` with a one-line message
 * naming the file and (for invalid content) the field, e.g.
 * `scheduler config /etc/s.yaml: profiles[0].plugins.score.enabled[1].weight: Invalid value: -1: …`.
 */
export function readSchedulerConfigFile(path: string): SchedulerConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as { code?: unknown }).code; // Node system errors carry a code
    throw new Error(`cannot read scheduler config ${path}: ${typeof code === "string" ? code : e instanceof Error ? e.message : String(e)}`);
  }
  try {
    return parseSchedulerConfig(text);
  } catch (e) {
    throw new Error(`scheduler config ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Parses `--kernel`. Throws `Error` naming the choices. */
export function parseKernelChoice(s: string | undefined): KernelChoice {
  if (s === undefined) return "auto";
  if (!isKernelChoice(s)) throw new Error(`unknown --kernel "${s}" (one of: ${KERNEL_CHOICES.join(", ")})`);
  return s;
}

export interface SchedulerServerFlags {
  schedulerConfig?: string;
  schedulerKernel?: string;
  schedulerMetricsAddress?: string;
}

/** The `scheduler` option of `startControlPlane` from `tug server` / `tug up` flags. Throws `Error`. */
export function schedulerServerOptions(flags: SchedulerServerFlags): { config?: SchedulerConfig; kernel?: KernelChoice; metricsAddress?: ListenAddress } {
  return {
    ...(flags.schedulerConfig !== undefined ? { config: readSchedulerConfigFile(flags.schedulerConfig) } : {}),
    ...(flags.schedulerKernel !== undefined ? { kernel: parseKernelChoice(flags.schedulerKernel) } : {}),
    ...(flags.schedulerMetricsAddress !== undefined ? { metricsAddress: parseListenAddress(flags.schedulerMetricsAddress) } : {}),
  };
}

/** Adds the scheduler flags to `tug server` / `tug up`. */
export function addSchedulerServerFlags(cmd: Command): Command {
  return cmd
    .option("--scheduler-config <file>", "KubeSchedulerConfiguration (YAML or JSON) of the in-process scheduler")
    .addOption(new Option("--scheduler-kernel <name>", "scheduler kernel (auto: WASM SIMD, falling back to scalar, then the TypeScript twin)").choices(KERNEL_CHOICES))
    .option("--scheduler-metrics-address <host:port>", "serve the scheduler's /metrics over plain HTTP here");
}

interface SchedulerFlags {
  kubeconfig: string;
  config?: string;
  leaderElect: boolean;
  kernel?: string;
  metricsAddress?: string;
}

async function runScheduler(flags: SchedulerFlags, fail: (message: string) => never): Promise<void> {
  let config: SchedulerConfig | undefined;
  let kernel: KernelChoice;
  let metricsAddress: ListenAddress | undefined;
  let client;
  try {
    if (flags.config !== undefined) config = readSchedulerConfigFile(flags.config);
    kernel = parseKernelChoice(flags.kernel);
    if (flags.metricsAddress !== undefined) metricsAddress = parseListenAddress(flags.metricsAddress);
    client = clientFromKubeconfig(flags.kubeconfig, { userAgent: "tug-scheduler" });
  } catch (err) {
    fail(err instanceof Error ? err.message : String(err));
  }
  let runner;
  try {
    runner = await createSchedulerRunner({ client, kernel, leaderElect: flags.leaderElect, ...(config ? { config } : {}) });
  } catch (err) {
    client.close();
    fail(err instanceof Error ? err.message : String(err));
  }
  let metrics;
  if (metricsAddress) {
    try {
      const r = runner;
      metrics = await serveMetrics(metricsAddress.host, metricsAddress.port, () => r.metricsText(), () => r.isActive());
    } catch (err) {
      client.close();
      fail(`cannot serve metrics on ${flags.metricsAddress ?? ""}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  runner.start();
  const profiles = runner.config.profiles.map((p) => p.schedulerName).join(", ");
  process.stdout.write(
    `tug scheduler: profiles ${profiles} against ${client.config.server} (pid ${process.pid}` +
      `${flags.leaderElect ? ", leader election on kube-system/kube-scheduler" : ""}` +
      `${metrics ? `, metrics at http://${metricsAddress?.host.includes(":") ? `[${metricsAddress.host}]` : metricsAddress?.host}:${metrics.port}/metrics` : ""})\n`,
  );
  const r = runner, c = client, m = metrics;
  const onSignal = (sig: string): void => {
    process.stderr.write(`tug: ${sig} received, shutting down\n`);
    Promise.all([r.stop(), m?.close()]).then(() => {
      c.close();
      process.exit(0);
    }, () => process.exit(1));
  };
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  process.on("SIGINT", () => onSignal("SIGINT"));
}

/** Registers `tug scheduler` on the program. */
export function addSchedulerCommand(program: Command, fail: (message: string) => never): void {
  program.command("scheduler")
    .description("run the scheduler (leader-elected) against the apiserver of a kubeconfig")
    .requiredOption("--kubeconfig <file>", "kubeconfig of the apiserver")
    .option("--config <file>", "KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1, YAML or JSON)")
    .option("--no-leader-elect", "run without leader election (only one scheduler may then run)")
    .option("--kernel <name>", `filter+score kernel: ${KERNEL_CHOICES.join(", ")} (default auto: WASM SIMD, falling back with a notice)`)
    .option("--metrics-address <host:port>", "serve /metrics and /healthz over plain HTTP (e.g. 127.0.0.1:10259)")
    .action((flags: SchedulerFlags) => runScheduler(flags, fail));
}
