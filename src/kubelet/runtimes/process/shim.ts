/**
 * The container shim: a tiny `/bin/sh` script that is the process-group leader of a container.
 * It moves itself into the container's cgroup (or applies RLIMIT_DATA), starts the program with the
 * container's stdin, forwards SIGTERM/SIGINT/SIGHUP to it, waits for it and writes its exit status
 * to `<dir>/exit` — so the status survives an agent restart (the agent is not the program's parent
 * then). It costs one `sh` process (~1 MB) per container.
 *
 * The container's stdout/stderr are FIFOs (`<dir>/out`, `<dir>/err`) opened read-write for the
 * shim and the program: there is always a reader, so a container never gets SIGPIPE while the agent
 * is down; it blocks once the pipe buffer (64 KiB) is full and continues when the agent reads again.
 *
 * Known limits of the sh shim: programs start with SIGINT and SIGQUIT ignored (POSIX rule for
 * background jobs of a non-interactive shell; stop uses SIGTERM, so pods are unaffected), and a
 * program that calls setsid() leaves the process group (cgroup mode still kills it).
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { closeSync, constants, openSync } from "node:fs";
import { join } from "node:path";

export const SHIM_MARKER = "tugboat-shim";

export const SHIM_SCRIPT = [
  'd=$1; shift',
  'echo $$ > "$d/shim.pid"',
  'if [ -n "$TUGBOAT_CGROUP" ]; then echo $$ > "$TUGBOAT_CGROUP/cgroup.procs" || exit 125; fi',
  'if [ -n "$TUGBOAT_DATA_KB" ]; then ulimit -d "$TUGBOAT_DATA_KB" || exit 125; fi',
  'unset TUGBOAT_CGROUP TUGBOAT_DATA_KB',
  'exec 3<&0 0</dev/null',
  '"$@" <&3 3<&- &',
  'pid=$!',
  'exec 3<&- 1>/dev/null 2>/dev/null',
  'echo "$pid" > "$d/pid"',
  "trap 'kill -TERM \"$pid\" 2>/dev/null' TERM",
  "trap 'kill -INT \"$pid\" 2>/dev/null' INT",
  "trap 'kill -HUP \"$pid\" 2>/dev/null' HUP",
  'while :; do wait "$pid"; s=$?; kill -0 "$pid" 2>/dev/null || break; done',
  'echo "$s" > "$d/exit"',
  'exit "$s"',
].join("\n");

/** True when `argv` (from /proc/<pid>/cmdline) is the shim of container directory `dir`. */
export function isShimOf(argv: readonly string[], dir: string): boolean {
  return argv[3] === SHIM_MARKER && argv[4] === dir;
}

/** True when `argv` is any shim whose container directory lies under `root`. */
export function isShimUnder(argv: readonly string[], root: string): boolean {
  return argv[3] === SHIM_MARKER && (argv[4] ?? "").startsWith(`${root}/`);
}

export const fifoPaths = (dir: string): { out: string; err: string; in: string } => ({
  out: join(dir, "out"),
  err: join(dir, "err"),
  in: join(dir, "in"),
});

/** Creates the stdio FIFOs of a container (`mkfifo`); stdin only when asked. */
export function makeFifos(dir: string, stdin: boolean): void {
  const f = fifoPaths(dir);
  execFileSync("mkfifo", ["-m", "600", f.out, f.err, ...(stdin ? [f.in] : [])], { stdio: "ignore" });
}

export interface ShimSpawn {
  readonly child: ChildProcess;
  /** Our write end of the container's stdin FIFO (opened non-blocking), when the container has stdin. */
  readonly stdinFd?: number;
}

/**
 * Starts the shim for `argv` (argv[0] resolved to an absolute path) in its own session and process
 * group. Resolves once spawned; rejects with the spawn error (bad cwd, missing /bin/sh).
 */
export async function spawnShim(opts: {
  dir: string;
  argv: readonly string[];
  cwd: string;
  env: Record<string, string>;
  stdin: boolean;
}): Promise<ShimSpawn> {
  const f = fifoPaths(opts.dir);
  const outFd = openSync(f.out, constants.O_RDWR);
  const errFd = openSync(f.err, constants.O_RDWR);
  let inFd: number | undefined;
  let writerFd: number | undefined;
  if (opts.stdin) {
    const holder = openSync(f.in, constants.O_RDWR);
    inFd = openSync(f.in, constants.O_RDONLY); // a writer (holder) exists: does not block
    writerFd = openSync(f.in, constants.O_WRONLY | constants.O_NONBLOCK);
    closeSync(holder);
  }
  try {
    const child = spawn("/bin/sh", ["-c", SHIM_SCRIPT, SHIM_MARKER, opts.dir, ...opts.argv], {
      cwd: opts.cwd,
      env: opts.env,
      detached: true,
      stdio: [inFd ?? "ignore", outFd, errFd],
    });
    await new Promise<void>((resolve, reject) => {
      child.once("spawn", resolve);
      child.once("error", reject);
    });
    child.unref();
    return { child, ...(writerFd !== undefined ? { stdinFd: writerFd } : {}) };
  } catch (err) {
    if (writerFd !== undefined) closeSync(writerFd);
    throw err;
  } finally {
    closeSync(outFd);
    closeSync(errFd);
    if (inFd !== undefined) closeSync(inFd);
  }
}
