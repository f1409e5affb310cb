/**
 * CPU and memory limits for process-runtime containers.
 *
 * Modes (which one is active is detected once, at runtime creation, and reported by `status()`):
 * - `cgroup-v2`: a tugboat-owned cgroup v2 subtree where the `cpu` and `memory` controllers can be
 *   enabled. One child cgroup per container: `memory.max`, `memory.swap.max = 0`, `cpu.max`
 *   (quota per 100 ms period), `cpu.weight` from the request; OOM kills read from `memory.events`
 *   (`oom_kill`); `cgroup.kill` takes every process of the container, escaped ones included.
 *   The container's shim moves itself into the cgroup before it starts the program.
 * - `rlimit`: no usable cgroup v2. Memory: `RLIMIT_DATA` (set by the shim with `ulimit -d`) at twice
 *   the limit as a hard backstop, plus an RSS watchdog in the agent that SIGKILLs the container's
 *   process tree when its resident memory passes the limit (reported `OOMKilled`, 137). CPU limits
 *   cannot be applied (said so in the status message).
 * - `none`: limits are not applied at all (requested explicitly).
 *
 * The cgroup subtree is found as follows: `cgroupRoot` when given (must be a cgroup v2 directory we
 * may write), else `<cgroup2 mount>/tugboat` when the mount's root already delegates `cpu` and
 * `memory`. Nothing is written to a cgroup tugboat does not own.
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export type LimitsMode = "cgroup-v2" | "rlimit" | "none";

export interface LimitsInfo {
  readonly mode: LimitsMode;
  /** CPU limits are enforced. */
  readonly cpu: boolean;
  /** Memory limits are enforced. */
  readonly memory: boolean;
  /** OOM kills are detected and reported as OOMKilled. */
  readonly oomKill: boolean;
  /** The tugboat-owned cgroup directory (cgroup-v2 mode). */
  readonly cgroupRoot?: string;
  /** Human summary for node status ("cpu limits cannot be applied: …"). */
  readonly message: string;
}

export interface LimitsOptions {
  /** `auto` (default) detects; the others force a mode (`cgroup-v2` fails to `rlimit` when unusable). */
  readonly mode?: "auto" | LimitsMode;
  /** A cgroup v2 directory owned by tugboat (created if missing). */
  readonly cgroupRoot?: string;
  /** For tests: the text of /proc/self/mountinfo. */
  readonly mountinfo?: string;
}

const CPU_PERIOD_US = 100_000;

function read(p: string): string | undefined {
  try {
    return readFileSync(p, "utf8");
  } catch {
    return undefined;
  }
}

/** The mount point of the cgroup2 filesystem from mountinfo text, if any. */
export function findCgroup2Mount(mountinfo: string): string | undefined {
  for (const line of mountinfo.split("\n")) {
    const sep = line.indexOf(" - ");
    if (sep < 0) continue;
    const fstype = line.slice(sep + 3).split(" ")[0];
    if (fstype !== "cgroup2") continue;
    const mountPoint = line.slice(0, sep).split(" ")[4];
    if (mountPoint !== undefined) return mountPoint.replace(/\\040/g, " ");
  }
  return undefined;
}

const words = (s: string | undefined): Set<string> => new Set((s ?? "").split(/\s+/).filter((w) => w !== ""));

/** Tries to make `dir` a tugboat cgroup v2 subtree with cpu+memory for children; returns why not. */
function prepareSubtree(dir: string): string | undefined {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    return `cannot create ${dir}: ${(err as Error).message}`;
  }
  const controllers = words(read(join(dir, "cgroup.controllers")));
  if (!controllers.has("memory") || !controllers.has("cpu")) {
    return `${dir} is not a cgroup v2 directory with the cpu and memory controllers (has: ${[...controllers].join(" ") || "none"})`;
  }
  const enabled = words(read(join(dir, "cgroup.subtree_control")));
  if (!enabled.has("memory") || !enabled.has("cpu")) {
    try {
      writeFileSync(join(dir, "cgroup.subtree_control"), "+cpu +memory");
    } catch (err) {
      return `cannot enable cpu+memory in ${dir}/cgroup.subtree_control: ${(err as Error).message}`;
    }
  }
  return undefined;
}

/** Detects the limits mode (see the module doc). Never throws. */
export function detectLimits(opts: LimitsOptions = {}): LimitsInfo {
  const want = opts.mode ?? "auto";
  if (want === "none") return { mode: "none", cpu: false, memory: false, oomKill: false, message: "resource limits are disabled (limits mode none)" };
  let why: string;
  if (want === "rlimit") {
    why = "rlimit mode was requested";
  } else if (process.platform !== "linux") {
    return { mode: "none", cpu: false, memory: false, oomKill: false, message: `resource limits cannot be applied on ${process.platform}` };
  } else if (opts.cgroupRoot !== undefined) {
    const err = prepareSubtree(opts.cgroupRoot);
    if (err === undefined) return cgroupInfo(opts.cgroupRoot);
    why = err;
  } else {
    const mount = findCgroup2Mount(opts.mountinfo ?? read("/proc/self/mountinfo") ?? "");
    if (mount === undefined) {
      why = "no cgroup v2 filesystem is mounted";
    } else {
      const delegated = words(read(join(mount, "cgroup.subtree_control")));
      if (!delegated.has("memory") || !delegated.has("cpu")) {
        why = `cgroup v2 at ${mount} does not offer the cpu and memory controllers (cgroup v1 holds them, or they are not delegated)`;
      } else {
        const err = prepareSubtree(join(mount, "tugboat"));
        if (err === undefined) return cgroupInfo(join(mount, "tugboat"));
        why = err;
      }
    }
  }
  return {
    mode: "rlimit",
    cpu: false,
    memory: true,
    oomKill: true,
    message: `cpu limits cannot be applied (${why}); memory limits are enforced by RLIMIT_DATA and an RSS watchdog`,
  };
}

function cgroupInfo(root: string): LimitsInfo {
  return { mode: "cgroup-v2", cpu: true, memory: true, oomKill: true, cgroupRoot: root, message: `cpu and memory limits enforced by cgroup v2 under ${root}` };
}

/** Effective limits of one container (its own, else its image's defaults). */
export interface ContainerLimits {
  readonly memoryBytesLimit?: number;
  readonly cpuMillisLimit?: number;
  readonly cpuMillisRequest?: number;
}

/** `cpu.max` content for a limit in millicores (`max 100000` without one). */
export function cpuMax(cpuMillisLimit: number | undefined): string {
  if (cpuMillisLimit === undefined || cpuMillisLimit <= 0) return `max ${CPU_PERIOD_US}`;
  // cpu.max quota has a kernel minimum of 1000 us.
  return `${Math.max(1000, Math.round((cpuMillisLimit * CPU_PERIOD_US) / 1000))} ${CPU_PERIOD_US}`;
}

/** `cpu.weight` (1-10000) from a request in millicores, as the kubelet maps shares to weight. */
export function cpuWeight(cpuMillisRequest: number | undefined): number {
  const shares = Math.max(2, Math.round(((cpuMillisRequest ?? 0) * 1024) / 1000) || 2);
  return Math.min(10_000, Math.max(1, 1 + Math.floor(((shares - 2) * 9999) / 262142)));
}

/** The cgroup of one container (cgroup-v2 mode). */
export class ContainerCgroup {
  constructor(readonly dir: string) {}

  /** Creates the cgroup and writes the limits. Throws Error on failure. */
  create(limits: ContainerLimits): void {
    mkdirSync(this.dir, { recursive: true });
    const mem = limits.memoryBytesLimit;
    writeFileSync(join(this.dir, "memory.max"), mem !== undefined && mem > 0 ? String(Math.floor(mem)) : "max");
    if (mem !== undefined && mem > 0 && existsSync(join(this.dir, "memory.swap.max"))) writeFileSync(join(this.dir, "memory.swap.max"), "0");
    writeFileSync(join(this.dir, "cpu.max"), cpuMax(limits.cpuMillisLimit));
    if (limits.cpuMillisRequest !== undefined) writeFileSync(join(this.dir, "cpu.weight"), String(cpuWeight(limits.cpuMillisRequest)));
  }

  /** Moves `pid` into the cgroup (best effort; false on failure). */
  add(pid: number): boolean {
    try {
      writeFileSync(join(this.dir, "cgroup.procs"), String(pid));
      return true;
    } catch {
      return false;
    }
  }

  /** Number of OOM kills in this cgroup (memory.events `oom_kill`). */
  oomKills(): number {
    const m = /(?:^|\n)oom_kill (\d+)/.exec(read(join(this.dir, "memory.events")) ?? "");
    return m ? Number(m[1]) : 0;
  }

  /** Memory in use (bytes), if readable. */
  memoryCurrent(): number | undefined {
    const v = read(join(this.dir, "memory.current"));
    return v === undefined ? undefined : Number(v.trim());
  }

  /** SIGKILLs every process in the cgroup (`cgroup.kill`, kernel 5.14+); false when unsupported. */
  killAll(): boolean {
    try {
      writeFileSync(join(this.dir, "cgroup.kill"), "1");
      return true;
    } catch {
      return false;
    }
  }

  /** Removes the cgroup (it must be empty); false when it could not be removed. */
  remove(): boolean {
    try {
      rmdirSync(this.dir);
      return true;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === "ENOENT";
    }
  }
}
