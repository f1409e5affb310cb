/**
 * The simulated machine behind hollow runtime clients: sandboxes, containers, images and the
 * scheduled transitions of running programs. It outlives clients, the way containerd outlives a
 * kubelet restart: `new HollowRuntime(host)` over the same host sees the same state.
 *
 * Cost model (what makes thousands of nodes per process possible):
 * - A container is one small object; its program is shared with every container of the same
 *   image and command. Idle (sleeping forever) containers hold no timer at all.
 * - Every pending transition (start latency, a program's sleep, SIGKILL deadline) is one entry in
 *   the `TimerQueue`, which may be shared by every host in the process (one host timer in total).
 * - Logs are off unless asked for; events are built only when someone subscribes.
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import type { Clock } from "../../runtime/clock.ts";
import { RuntimeError } from "../../runtime/errors.ts";
import { normalizeImage } from "../../runtime/image.ts";
import { appendCriLog, type LogLine, type LogRotation } from "../../runtime/logs.ts";
import { type ScheduledTask, sharedTimerQueue, TimerQueue } from "../../runtime/timers.ts";
import type {
  ContainerConfig,
  ContainerEvent,
  ContainerEventType,
  ContainerExitReason,
  ContainerState,
  PodSandboxConfig,
  PodSandboxState,
} from "../../runtime/types.ts";
import type { HollowRule, Program } from "./program.ts";
import { ProgramResolver } from "./program.ts";
import { seededRandom } from "./_rng.ts";

export interface HollowHostOptions {
  /** Shared timer queue (default: the process-wide one on the system clock). Its clock is the host's clock. */
  readonly timers?: TimerQueue;
  /** Convenience: a clock to build a private TimerQueue on (ignored when `timers` is given). */
  readonly clock?: Clock;
  /** User rules, checked before the built-in behaviours (see program.ts). */
  readonly rules?: readonly HollowRule[];
  /** Seed of the RNG behind jitter and ids (default 1). */
  readonly seed?: number;
  /** Time from startContainer to RUNNING (default 0: synchronous). */
  readonly startLatencyMs?: number;
  /** Uniform extra start latency in [0, jitter) (default 0). */
  readonly startJitterMs?: number;
  /** Time for runPodSandbox (default 0). */
  readonly sandboxLatencyMs?: number;
  /** Time for a pull of an absent image (default 0). */
  readonly pullLatencyMs?: number;
  /** Images present from the start (no pull needed). */
  readonly preloadedImages?: readonly string[];
  /** Pod IPs come from this IPv4 CIDR (default 10.88.0.0/16). */
  readonly podCidr?: string;
  /**
   * Container logs (default off: thousands of nodes should not write files). `output` writes what
   * programs print; `lifecycle` also writes a line at start and at exit.
   */
  readonly logs?: "off" | "output" | "lifecycle";
  readonly logRotation?: LogRotation;
  /** Name of this simulated node (used in ids and version). */
  readonly nodeName?: string;
}

export class HSandbox {
  state: PodSandboxState = "READY";
  ip: string | undefined;
  ipNum = -1;
  readonly containers: HContainer[] = [];
  constructor(
    readonly id: string,
    readonly config: PodSandboxConfig,
    readonly createdAt: number,
  ) {}
}

export class HContainer {
  state: ContainerState = "CREATED";
  startedAt: number | undefined;
  finishedAt: number | undefined;
  exitCode: number | undefined;
  reason: ContainerExitReason | undefined;
  message: string | undefined;
  pc = 0;
  /** The next program step, the start latency or the SIGTERM delay. */
  task: ScheduledTask | null = null;
  /** SIGKILL deadline of a graceful stop. */
  killTask: ScheduledTask | null = null;
  termSent = false;
  /** Callers waiting for the exit (stopContainer) or the start. Allocated on demand. */
  exitWaiters: (() => void)[] | null = null;
  startWaiter: { resolve: () => void; reject: (e: unknown) => void } | null = null;
  /** Attach sessions listening to output. */
  listeners: Set<OutputListener> | null = null;
  constructor(
    readonly id: string,
    readonly sandbox: HSandbox,
    readonly config: ContainerConfig,
    readonly imageRef: string,
    readonly program: Program,
    readonly createdAt: number,
  ) {}

  /** Absolute log path (computed: most hollow containers never log, so it is not stored). */
  get logPath(): string | undefined {
    const dir = this.sandbox.config.logDirectory;
    return this.config.logPath === undefined || dir === undefined ? undefined : join(dir, this.config.logPath);
  }
}

export interface OutputListener {
  output(stream: "stdout" | "stderr", text: string): void;
  exited(code: number): void;
}

export interface HImage {
  readonly id: string;
  readonly repoTags: string[];
  readonly size: number;
}

/** Parses `a.b.c.d/n` into [first usable address, count]. */
function parseCidr(cidr: string): { base: number; count: number } {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(cidr);
  const oct = m ? [m[1], m[2], m[3], m[4]].map(Number) : [];
  const bits = m ? Number(m[5]) : NaN;
  if (!m || oct.some((o) => o > 255) || !(bits >= 8 && bits <= 30)) {
    throw new RuntimeError("InvalidArgument", `podCidr "${cidr}" must be an IPv4 CIDR with a prefix of 8-30 bits`);
  }
  const addr = ((oct[0]! << 24) | (oct[1]! << 16) | (oct[2]! << 8) | oct[3]!) >>> 0;
  const size = 2 ** (32 - bits);
  const net = addr - (addr % size);
  return { base: net + 1, count: size - 2 };
}

const ipString = (n: number): string => `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;

export class HollowHost {
  readonly timers: TimerQueue;
  readonly clock: Clock;
  readonly resolver: ProgramResolver;
  readonly options: HollowHostOptions;
  readonly nodeName: string;
  readonly sandboxes = new Map<string, HSandbox>();
  readonly sandboxKeys = new Map<string, string>();
  readonly containers = new Map<string, HContainer>();
  readonly images = new Map<string, HImage>();
  /** Listeners of container events (one per client with subscribers). */
  readonly eventSinks = new Set<(e: ContainerEvent) => void>();
  networkReady = true;
  readonly #rng: () => number;
  readonly #idPrefix: string;
  #idSeq = 0;
  readonly #ipBase: number;
  readonly #ipCount: number;
  readonly #ipUsed = new Set<number>();
  #ipNext = 0;

  constructor(options: HollowHostOptions = {}) {
    this.options = options;
    this.timers = options.timers ?? (options.clock !== undefined ? new TimerQueue(options.clock) : sharedTimerQueue());
    this.clock = this.timers.clock;
    this.resolver = new ProgramResolver(options.rules ?? []);
    this.nodeName = options.nodeName ?? "hollow";
    for (const [k, v] of Object.entries({ startLatencyMs: options.startLatencyMs, startJitterMs: options.startJitterMs, sandboxLatencyMs: options.sandboxLatencyMs, pullLatencyMs: options.pullLatencyMs })) {
      if (v !== undefined && !(Number.isFinite(v) && v >= 0)) throw new RuntimeError("InvalidArgument", `${k} must be a non-negative number, got ${v}`);
    }
    this.#rng = seededRandom(options.seed ?? 1);
    this.#idPrefix = Math.floor(this.#rng() * 0xffffffff).toString(16).padStart(8, "0");
    const { base, count } = parseCidr(options.podCidr ?? "10.88.0.0/16");
    this.#ipBase = base;
    this.#ipCount = count;
    for (const image of options.preloadedImages ?? []) this.addImage(normalizeImage(image));
  }

  newId(): string {
    return `${this.#idPrefix}${(this.#idSeq++).toString(16).padStart(16, "0")}`;
  }

  now(): number {
    return this.clock.now();
  }

  startLatency(p: Program): number {
    const base = p.startLatencyMs ?? this.options.startLatencyMs ?? 0;
    const jitter = this.options.startJitterMs ?? 0;
    return jitter > 0 ? base + this.#rng() * jitter : base;
  }

  allocateIp(): { ip: string; n: number } {
    if (this.#ipUsed.size >= this.#ipCount) throw new RuntimeError("Unavailable", `no pod IP left in ${this.options.podCidr ?? "10.88.0.0/16"}`);
    for (;;) {
      const n = this.#ipNext;
      this.#ipNext = (this.#ipNext + 1) % this.#ipCount;
      if (!this.#ipUsed.has(n)) {
        this.#ipUsed.add(n);
        return { ip: ipString(this.#ipBase + n), n };
      }
    }
  }

  releaseIp(s: HSandbox): void {
    if (s.ipNum >= 0) this.#ipUsed.delete(s.ipNum);
    s.ipNum = -1;
    s.ip = undefined;
  }

  /** Records an image as present; returns it. */
  addImage(normalized: string): HImage {
    const have = this.images.get(normalized);
    if (have !== undefined) return have;
    const hash = createHash("sha256").update(normalized).digest();
    const img: HImage = { id: `sha256:${hash.toString("hex")}`, repoTags: [normalized], size: 1_000_000 + (hash.readUInt32BE(0) % 100_000_000) };
    this.images.set(normalized, img);
    this.images.set(img.id, img);
    return img;
  }

  emit(type: ContainerEventType, c: HContainer): void {
    if (this.eventSinks.size === 0) return;
    const e: ContainerEvent = { type, containerId: c.id, podSandboxId: c.sandbox.id, podUid: c.sandbox.config.metadata.uid, createdAt: this.now() };
    for (const sink of this.eventSinks) sink(e);
  }

  // --- program execution -------------------------------------------------------------------

  #log(c: HContainer, lines: LogLine[]): void {
    if (lines.length === 0) return;
    const path = c.logPath;
    if (path === undefined) return;
    try {
      appendCriLog(path, lines, this.options.logRotation);
    } catch {
      // A log that cannot be written must not take the simulated container down (real runtimes drop output too).
    }
  }

  /** Moves a CREATED container to RUNNING (or to EXITED/ContainerCannotRun) and runs its program. */
  begin(c: HContainer): void {
    c.task = null;
    const w = c.startWaiter;
    c.startWaiter = null;
    const now = this.now();
    if (c.program.cannotRun !== undefined) {
      c.state = "EXITED";
      c.finishedAt = now;
      c.exitCode = 128;
      c.reason = "ContainerCannotRun";
      c.message = c.program.cannotRun;
      this.emit("STOPPED", c);
      w?.reject(new RuntimeError("FailedPrecondition", `failed to start container "${c.id}": ${c.program.cannotRun}`));
      return;
    }
    c.state = "RUNNING";
    c.startedAt = now;
    if (this.options.logs === "lifecycle") {
      this.#log(c, [{ stream: "stdout", text: `hollow: started ${c.config.metadata.name} (image ${c.config.image.image}, program ${c.program.source})`, timeMs: now }]);
    }
    this.emit("STARTED", c);
    w?.resolve();
    this.run(c);
  }

  /** Runs program steps from `c.pc` until a sleep or the exit. */
  run(c: HContainer): void {
    c.task = null;
    const steps = c.program.steps;
    const lines: LogLine[] = [];
    const logging = this.options.logs !== undefined && this.options.logs !== "off" && c.config.logPath !== undefined;
    // Bounded: a program has no loop without a positive sleep, so one pass visits each step at most twice.
    for (let n = 0; n <= 2 * steps.length + 1; n++) {
      const step = steps[c.pc];
      if (step === undefined) {
        this.#log(c, lines);
        return this.finish(c, 0, false);
      }
      c.pc++;
      switch (step.op) {
        case "out":
          if (logging) lines.push({ stream: step.stream, text: step.text, timeMs: this.now() });
          if (c.listeners !== null) for (const l of c.listeners) l.output(step.stream, `${step.text}\n`);
          break;
        case "sleep":
          this.#log(c, lines);
          if (step.ms !== Infinity) c.task = this.timers.schedule(step.ms, () => this.run(c));
          return;
        case "exit":
          this.#log(c, lines);
          return this.finish(c, step.code, step.oomKilled === true);
        case "loop":
          c.pc = 0;
          break;
      }
    }
    this.#log(c, lines);
  }

  /** Ends a running container. */
  finish(c: HContainer, code: number, oomKilled: boolean, message?: string): void {
    if (c.state !== "RUNNING") return;
    c.task?.cancel();
    c.task = null;
    c.killTask?.cancel();
    c.killTask = null;
    const now = this.now();
    c.state = "EXITED";
    c.finishedAt = now;
    c.exitCode = code;
    c.reason = oomKilled ? "OOMKilled" : code === 0 ? "Completed" : "Error";
    if (message !== undefined) c.message = message;
    if (this.options.logs === "lifecycle") {
      this.#log(c, [{ stream: "stdout", text: `hollow: exited with code ${code} (${c.reason})`, timeMs: now }]);
    }
    this.emit("STOPPED", c);
    const ws = c.exitWaiters;
    c.exitWaiters = null;
    if (ws !== null) for (const w of ws) w();
    const ls = c.listeners;
    c.listeners = null;
    if (ls !== null) for (const l of ls) l.exited(code);
  }

  /** SIGKILL. */
  kill(c: HContainer, message?: string): void {
    this.finish(c, 137, false, message);
  }

  /** SIGTERM with a SIGKILL deadline; resolves when EXITED (at once for CREATED/EXITED). */
  stop(c: HContainer, timeoutMs: number): Promise<void> {
    if (c.state !== "RUNNING") return Promise.resolve();
    const done = new Promise<void>((resolve) => {
      (c.exitWaiters ??= []).push(resolve);
    });
    if (!c.termSent) {
      c.termSent = true;
      const p = c.program;
      if (!p.ignoreTerm) {
        if (p.termDelayMs <= 0) {
          this.finish(c, p.termExitCode, false);
          return done;
        }
        c.task?.cancel();
        c.task = this.timers.schedule(p.termDelayMs, () => this.finish(c, p.termExitCode, false));
      }
    }
    const killAt = this.now() + timeoutMs;
    if (timeoutMs <= 0) {
      this.kill(c);
    } else if (c.killTask === null || c.killTask.at > killAt) {
      c.killTask?.cancel();
      c.killTask = this.timers.scheduleAt(killAt, () => this.kill(c));
    }
    return done;
  }

  /** Kills (if running) and forgets a container. */
  remove(c: HContainer): void {
    if (c.state === "RUNNING") this.kill(c, "removed while running");
    c.task?.cancel();
    c.task = null;
    if (c.startWaiter !== null) {
      c.startWaiter.reject(new RuntimeError("NotFound", `container "${c.id}" was removed before it started`));
      c.startWaiter = null;
    }
    this.containers.delete(c.id);
    const list = c.sandbox.containers;
    const i = list.indexOf(c);
    if (i >= 0) list.splice(i, 1);
    this.emit("DELETED", c);
  }
}
