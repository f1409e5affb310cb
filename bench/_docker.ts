/**
 * Shared by the benches that run on Docker (`--runtime docker`): a private dockerd in its own
 * network namespace (test/support/dockerd.ts), busybox imported as `busybox:latest` and as the
 * agent's default pause image, then the bench script run again inside the namespace
 * (`nsenter --net=…`, `--docker-host unix://…` appended to its arguments) so the apiserver, the
 * node agent and the bench's client all use the namespace's own loopback.
 *
 * Cleanup whatever happens (normal end, error, SIGINT/SIGTERM): the signal is passed on to the
 * inner bench (which stops its own children by PID), then every container is removed, dockerd is
 * stopped by PID and the namespace deleted.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { resolve } from "node:path";
import { dockerdUnavailableReason, startDockerd } from "../test/support/dockerd.ts";

export const REPO = resolve(import.meta.dirname, "..");
/** The docker runtime's default sandbox image; imported from busybox (no registry is reachable). */
export const PAUSE_IMAGE = "registry.k8s.io/pause:3.9";
/** The app image the benches' pods use. */
export const BUSYBOX_IMAGE = "busybox:latest";

/** `--docker-host` of the inner run, or undefined in the outer one. */
export function innerDockerHost(argv: readonly string[]): string | undefined {
  const i = argv.indexOf("--docker-host");
  if (i < 0) return undefined;
  const v = argv[i + 1];
  if (v === undefined || !v.startsWith("unix:///")) throw new Error(`--docker-host wants unix:///path.sock, got ${JSON.stringify(v ?? "")}`);
  return v;
}

/** Runs `bench/<script>` with `args` inside a private dockerd's network namespace; resolves its exit code. */
export async function runInDockerNetns(script: string, args: readonly string[]): Promise<number> {
  const reason = dockerdUnavailableReason();
  if (reason !== undefined) throw new Error(`--runtime docker: ${reason}`);
  const d = await startDockerd();
  let inner: ChildProcess | undefined;
  let interrupted = false;
  const onSignal = (sig: NodeJS.Signals): void => {
    interrupted = true;
    if (inner?.pid !== undefined && inner.exitCode === null && inner.signalCode === null) inner.kill(sig);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    await d.importBusybox(BUSYBOX_IMAGE);
    await d.importBusybox(PAUSE_IMAGE, { cmd: ["sleep", "2147483647"] });
    if (interrupted) return 130;
    // nsenter execs node, so the child's PID is the inner bench's.
    const child = spawn("nsenter", [
      `--net=/var/run/netns/${d.netns}`, process.execPath, "--import", "tsx", resolve(REPO, "bench", script), ...args, "--docker-host", d.host,
    ], { cwd: REPO, stdio: "inherit" });
    inner = child;
    return await new Promise<number>((r) => child.once("exit", (c, s) => r(c ?? (s !== null ? 1 : 0))));
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await d.stop();
  }
}
