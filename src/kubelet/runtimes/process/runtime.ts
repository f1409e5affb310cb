/**
 * The process runtime: every container is a local process group under a shim (shim.ts), every pod
 * sandbox a directory plus its own loopback address (so two pods can listen on the same port).
 * The embedded default of `npm start` / `tug up`. See docs/process-runtime.md.
 *
 *   const rt = await createProcessRuntime({ dataDir: "/var/lib/tugboat/process" });
 *   // … the agent restarts (or was killed):
 *   const again = await createProcessRuntime({ dataDir: "/var/lib/tugboat/process" }); // adopts
 *
 * No isolation: containers see the host's filesystem and run as the agent's user. Meant for
 * trusted workloads on a developer machine; images are restricted to a documented set (images.ts).
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { connect } from "node:net";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { RuntimeError, runtimeErrors } from "../../runtime/errors.ts";
import { EventBroadcaster } from "../../runtime/events.ts";
import type { LogRotation } from "../../runtime/logs.ts";
import type {
  AuthConfig,
  ByteDuplex,
  Container,
  ContainerConfig,
  ContainerEvent,
  ContainerEventType,
  ContainerFilter,
  ContainerStats,
  ContainerStatus,
  ExitStatus,
  Image,
  ImageSpec,
  PodSandbox,
  PodSandboxConfig,
  PodSandboxFilter,
  PodSandboxStatus,
  RuntimeCapabilities,
  RuntimeService,
  RuntimeStatus,
  StreamIO,
  StreamSession,
  VersionInfo,
} from "../../runtime/types.ts";
import { matchesContainerFilter, matchesSandboxFilter, validateContainerConfig, validateSandboxConfig, validateStopTimeout } from "../../runtime/validate.ts";
import { LiveContainer, type OutputListener } from "./container.ts";
import { exitCodeOf, failedSession, startExec } from "./exec.ts";
import { DEFAULT_PATH, type ImageDefinition, imageIdOf, imageKey, imageView, lookPath, resolveImage, type StoredImage } from "./images.ts";
import { ContainerCgroup, type ContainerLimits, detectLimits, type LimitsInfo, type LimitsOptions } from "./limits.ts";
import { findProcesses, identify, isAlive, killGroup, readCmdline, treeRssBytes } from "./proc.ts";
import { isShimOf, isShimUnder, makeFifos, spawnShim } from "./shim.ts";
import { processContainerStats } from "./stats.ts";
import { type AddressPool, allocateAddress, type ContainerRecord, parseAddressPool, type SandboxRecord, StateDir } from "./state.ts";

export const PROCESS_RUNTIME_NAME = "process";
export const PROCESS_RUNTIME_VERSION = "0.1.0";
export const DEFAULT_POD_ADDRESS_POOL = "127.10.0.0/16";

export interface ProcessRuntimeOptions {
  /** Where sandboxes, containers, images and addresses are kept (created if missing). */
  readonly dataDir: string;
  /** Directory of allowed local images (`<imageRoot>/<domain>/<path>/<tag>`); see images.ts. */
  readonly imageRoot?: string;
  /** Allow `image: /abs/path` (a host executable). Default false. */
  readonly allowHostPathImages?: boolean;
  /** Loopback CIDR for pod addresses (inside 127.0.0.0/8); default 127.10.0.0/16. */
  readonly podAddressPool?: string;
  /** How limits are applied (detected by default). */
  readonly limits?: LimitsOptions;
  /** Container log rotation (default 10 MiB × 5 files). */
  readonly logRotation?: LogRotation;
  /** Liveness polling of recovered containers and the RSS watchdog period, ms (default 100). */
  readonly pollMs?: number;
}

/** `status()` of the process runtime: the port's conditions plus how limits are applied. */
export interface ProcessRuntimeStatus extends RuntimeStatus {
  readonly limits: LimitsInfo;
}

const SIGKILL_WAIT_MS = 10_000;
const DRAIN_MS = 1000;

function sandboxKey(c: PodSandboxConfig): string {
  const m = c.metadata;
  return `${m.namespace}\u0000${m.name}\u0000${m.uid}\u0000${m.attempt}`;
}

const newId = (): string => randomBytes(16).toString("hex");
const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Kubernetes argv: command overrides the entrypoint (and drops the image cmd), args override cmd. */
export function containerArgv(config: ContainerConfig, image: ImageDefinition): string[] {
  const ep = config.command ?? image.entrypoint;
  const cmd = config.args ?? (config.command !== undefined ? [] : image.cmd);
  return [...ep, ...cmd];
}

export class ProcessRuntime implements RuntimeService {
  readonly limits: LimitsInfo;
  readonly capabilities: RuntimeCapabilities;
  readonly #opts: ProcessRuntimeOptions;
  readonly #state: StateDir;
  readonly #pool: AddressPool;
  readonly #script: string | undefined;
  readonly #sandboxes = new Map<string, SandboxRecord>();
  readonly #sandboxKeys = new Map<string, string>();
  readonly #containers = new Map<string, LiveContainer>();
  readonly #images = new Map<string, StoredImage>();
  readonly #imageNames = new Map<string, string>();
  readonly #events = new EventBroadcaster<ContainerEvent>();
  #ipCursor: number;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  /** Use `createProcessRuntime` (it recovers state); the constructor only loads settings. */
  constructor(opts: ProcessRuntimeOptions) {
    if (!isAbsolute(opts.dataDir)) throw new RuntimeError("InvalidArgument", `dataDir must be an absolute path, got "${opts.dataDir}"`);
    if (opts.imageRoot !== undefined && !isAbsolute(opts.imageRoot)) throw new RuntimeError("InvalidArgument", `imageRoot must be an absolute path, got "${opts.imageRoot}"`);
    try {
      this.#pool = parseAddressPool(opts.podAddressPool ?? DEFAULT_POD_ADDRESS_POOL);
    } catch (err) {
      throw new RuntimeError("InvalidArgument", (err as Error).message);
    }
    this.#opts = opts;
    this.#state = new StateDir(opts.dataDir);
    this.#ipCursor = this.#state.loadIpCursor();
    this.limits = detectLimits(opts.limits);
    this.#script = lookPath("script", DEFAULT_PATH);
    this.capabilities = {
      exec: true,
      execStdin: true,
      execTty: this.#script !== undefined,
      attach: true,
      portForward: true,
      events: true,
      oomKill: this.limits.oomKill,
    };
  }

  // --- recovery ------------------------------------------------------------------------------

  /** Loads the data dir: adopts live containers, settles dead ones, kills orphaned shims. */
  recover(): void {
    for (const img of this.#state.loadImages()) this.#addImage(img);
    const { sandboxes, containers, broken } = this.#state.load();
    for (const s of sandboxes) {
      this.#sandboxes.set(s.id, s);
      this.#sandboxKeys.set(sandboxKey(s.config), s.id);
    }
    const adoptedShims = new Set<number>();
    for (const rec of containers) {
      if (!this.#sandboxes.has(rec.sandboxId)) continue;
      const c = new LiveContainer(rec, this.#state.containerDir(rec.sandboxId, rec.id));
      this.#containers.set(rec.id, c);
      if (rec.cgroup !== undefined) c.cgroup = new ContainerCgroup(rec.cgroup);
      if (rec.state === "EXITED") {
        c.markExited();
        continue;
      }
      // A shim may run even when the record still says CREATED (the agent died right after the spawn).
      const shim = rec.shim ?? this.#shimFromPidFile(c);
      if (shim === undefined) {
        if (rec.state === "RUNNING") this.#settleLost(c);
        continue;
      }
      const sandbox = this.#sandboxes.get(rec.sandboxId)!;
      if (isAlive(shim) && isShimOf(readCmdline(shim.pid), c.dir)) {
        rec.shim = shim;
        if (rec.state !== "RUNNING") {
          rec.state = "RUNNING";
          rec.startedAt ??= Date.now();
          this.#state.saveContainer(rec);
        }
        c.adopted = true;
        adoptedShims.add(shim.pid);
        this.#prepareExecEnv(c, sandbox);
        c.openIo(this.#logPath(rec, sandbox), this.#opts.logRotation, false);
        this.#ensureTimer();
      } else {
        rec.shim = shim;
        rec.state = "RUNNING";
        c.openIo(this.#logPath(rec, sandbox), this.#opts.logRotation, false);
        void this.#finalize(c);
      }
    }
    // No orphans: shims under our data dir that no live container owns are killed with their group.
    for (const pid of findProcesses((argv) => isShimUnder(argv, this.#state.root))) {
      if (!adoptedShims.has(pid)) killGroup(pid, "SIGKILL");
    }
    for (const dir of broken) rmSync(dir, { recursive: true, force: true });
  }

  #shimFromPidFile(c: LiveContainer): { pid: number; startTime: number } | undefined {
    try {
      const pid = Number(readFileSync(join(c.dir, "shim.pid"), "utf8").trim());
      if (!Number.isInteger(pid) || pid <= 1) return undefined;
      return identify(pid) ?? { pid, startTime: -1 };
    } catch {
      return undefined;
    }
  }

  /** A RUNNING record without a shim: the agent died mid-start. */
  #settleLost(c: LiveContainer): void {
    const rec = c.record;
    rec.state = "EXITED";
    rec.finishedAt = Date.now();
    rec.exitCode = 255;
    rec.reason = "Error";
    rec.message = "the container's process was lost while the agent was down";
    this.#state.saveContainer(rec);
    c.markExited();
  }

  // --- helpers -------------------------------------------------------------------------------

  #live(): void {
    if (this.#closed) throw runtimeErrors.closed(PROCESS_RUNTIME_NAME);
  }

  #sandbox(id: string): SandboxRecord {
    this.#live();
    const s = this.#sandboxes.get(id);
    if (s === undefined) throw runtimeErrors.sandboxNotFound(id);
    return s;
  }

  #container(id: string): LiveContainer {
    this.#live();
    const c = this.#containers.get(id);
    if (c === undefined) throw runtimeErrors.containerNotFound(id);
    return c;
  }

  #emit(type: ContainerEventType, c: LiveContainer): void {
    if (this.#events.subscribers === 0) return;
    const s = this.#sandboxes.get(c.record.sandboxId);
    this.#events.publish({ type, containerId: c.record.id, podSandboxId: c.record.sandboxId, podUid: s?.config.metadata.uid ?? "", createdAt: Date.now() });
  }

  #logPath(rec: ContainerRecord, s: SandboxRecord): string | undefined {
    if (rec.config.logPath === undefined || s.config.logDirectory === undefined) return undefined;
    return join(s.config.logDirectory, rec.config.logPath);
  }

  #rootfs(c: LiveContainer): string {
    return join(c.dir, "rootfs");
  }

  /** Working directory and environment of the container (also used by exec). */
  #prepareExecEnv(c: LiveContainer, s: SandboxRecord): void {
    const rec = c.record;
    const rootfs = this.#rootfs(c);
    const wd = rec.config.workingDir ?? rec.image.workingDir ?? "/";
    c.cwd = join(rootfs, wd);
    const env: Record<string, string> = {
      PATH: rec.image.env.PATH ?? DEFAULT_PATH,
      HOME: rootfs,
      HOSTNAME: s.config.hostname ?? s.config.metadata.name,
      TUGBOAT_ROOTFS: rootfs,
      ...rec.image.env,
    };
    if (s.ip !== undefined) env.POD_IP = s.ip;
    for (const e of rec.config.envs ?? []) env[e.key] = e.value;
    c.env = env;
  }

  /** argv[0] resolved to an executable (PATH lookup, host busybox applets); throws why not. */
  #resolveArgv(argv: readonly string[], c: LiveContainer): string[] {
    const [first, ...rest] = argv;
    if (first === undefined || first === "") throw new Error("no command specified (the image has no entrypoint or cmd)");
    if (first.includes("/")) {
      const p = isAbsolute(first) ? first : resolve(c.cwd, first);
      if (!existsSync(p)) throw new Error(`exec: "${first}": stat ${p}: no such file or directory`);
      return [p, ...rest];
    }
    const found = lookPath(first, c.env.PATH ?? DEFAULT_PATH);
    if (found !== undefined) return [found, ...rest];
    const bb = c.record.image.busybox;
    if (bb !== undefined && busyboxApplets(bb).has(first)) return [bb, first, ...rest];
    throw new Error(`exec: "${first}": executable file not found in $PATH`);
  }

  #ensureTimer(): void {
    if (this.#timer !== undefined || this.#closed) return;
    const period = this.#opts.pollMs ?? 100;
    this.#timer = setInterval(() => this.#tick(), period);
    this.#timer.unref();
  }

  /** Polls recovered containers for their exit and runs the RSS watchdog. */
  #tick(): void {
    let needed = false;
    for (const c of this.#containers.values()) {
      const rec = c.record;
      if (rec.state !== "RUNNING" || c.finalizing !== undefined || rec.shim === undefined) continue;
      if (c.adopted) {
        needed = true;
        if (!isAlive(rec.shim)) {
          void this.#finalize(c);
          continue;
        }
      }
      const mem = rec.limits.memoryBytesLimit;
      if (this.limits.mode === "rlimit" && mem !== undefined) {
        needed = true;
        if (treeRssBytes(rec.shim.pid) > mem) {
          c.oomByWatchdog = true;
          c.killed = true;
          killGroup(rec.shim.pid, "SIGKILL");
        }
      }
    }
    if (!needed && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  /** Records the exit of a container whose process group has ended (or is ending). */
  #finalize(c: LiveContainer): Promise<void> {
    if (c.finalizing !== undefined) return c.finalizing;
    c.finalizing = (async () => {
      await c.drain(DRAIN_MS);
      c.closeIo();
      const rec = c.record;
      let exitCode: number | undefined;
      try {
        const t = readFileSync(join(c.dir, "exit"), "utf8").trim();
        if (/^\d+$/.test(t)) exitCode = Number(t);
      } catch {
        // no exit file: the shim itself was killed (SIGKILL of the group) or never got that far
      }
      let message: string | undefined;
      if (exitCode === undefined) {
        if (c.killed) exitCode = 137;
        else if (c.childExit !== undefined) exitCode = exitCodeOf(c.childExit.code, c.childExit.signal);
        else {
          exitCode = 255;
          message = "the container ended while the agent was down; its exit status was lost";
        }
      }
      const oom = c.oomByWatchdog || (c.cgroup !== undefined && c.cgroup.oomKills() > 0);
      if (oom) {
        exitCode = 137;
        message = c.oomByWatchdog ? `memory use passed the limit of ${rec.limits.memoryBytesLimit} bytes` : "the cgroup memory limit was reached";
      }
      // Every process of the container goes with it (the group, and in cgroup mode the cgroup).
      if (rec.shim !== undefined) killGroup(rec.shim.pid, "SIGKILL");
      c.cgroup?.killAll();
      for (const e of c.execs) e.kill();
      rec.state = "EXITED";
      rec.finishedAt = Date.now();
      rec.exitCode = exitCode;
      rec.reason = oom ? "OOMKilled" : exitCode === 0 ? "Completed" : "Error";
      if (message !== undefined) rec.message = message;
      delete rec.shim;
      if (!this.#closed && this.#containers.get(rec.id) === c) this.#state.saveContainer(rec);
      c.cgroup?.remove();
      for (const l of c.listeners) l.exited(exitCode);
      c.listeners.clear();
      c.markExited();
      if (!this.#closed) this.#emit("STOPPED", c);
    })();
    return c.finalizing;
  }

  /** SIGKILLs a running container and waits (bounded) for its exit to be recorded. */
  async #kill(c: LiveContainer): Promise<void> {
    if (c.record.state !== "RUNNING") return;
    c.killed = true;
    if (c.record.shim !== undefined) killGroup(c.record.shim.pid, "SIGKILL");
    c.cgroup?.killAll();
    if (c.adopted) this.#ensureTimer();
    await Promise.race([c.exited, delay(SIGKILL_WAIT_MS)]);
    if (c.record.state === "RUNNING") await this.#finalize(c);
  }

  // --- runtime -------------------------------------------------------------------------------

  async version(): Promise<VersionInfo> {
    this.#live();
    return { runtimeApiVersion: "v1", runtimeName: PROCESS_RUNTIME_NAME, runtimeVersion: PROCESS_RUNTIME_VERSION };
  }

  async status(): Promise<ProcessRuntimeStatus> {
    this.#live();
    return {
      conditions: [
        { type: "RuntimeReady", status: true, message: this.limits.message },
        { type: "NetworkReady", status: true, message: `pod addresses from ${this.#pool.cidr} on the loopback interface` },
      ],
      limits: this.limits,
    };
  }

  // --- sandboxes -----------------------------------------------------------------------------

  async runPodSandbox(config: PodSandboxConfig): Promise<string> {
    this.#live();
    validateSandboxConfig(config);
    const key = sandboxKey(config);
    if (this.#sandboxKeys.has(key)) {
      const m = config.metadata;
      throw new RuntimeError("AlreadyExists", `pod sandbox for ${m.namespace}/${m.name} (uid ${m.uid}, attempt ${m.attempt}) already exists`);
    }
    const inUse = new Set<string>();
    for (const s of this.#sandboxes.values()) if (s.ip !== undefined) inUse.add(s.ip);
    const got = allocateAddress(this.#pool, inUse, this.#ipCursor);
    if (got === undefined) throw new RuntimeError("Unavailable", `no pod address left in ${this.#pool.cidr}`);
    this.#ipCursor = got.next;
    this.#state.saveIpCursor(got.next);
    const rec: SandboxRecord = { id: newId(), config, createdAt: Date.now(), state: "READY", ip: got.ip };
    this.#state.saveSandbox(rec);
    this.#sandboxes.set(rec.id, rec);
    this.#sandboxKeys.set(key, rec.id);
    return rec.id;
  }

  async stopPodSandbox(id: string): Promise<void> {
    this.#live();
    const s = this.#sandboxes.get(id);
    if (s === undefined) return;
    const running = [...this.#containers.values()].filter((c) => c.record.sandboxId === id);
    await Promise.all(running.map((c) => this.#kill(c)));
    if (s.state !== "NOTREADY" || s.ip !== undefined) {
      s.state = "NOTREADY";
      delete s.ip;
      this.#state.saveSandbox(s);
    }
  }

  async removePodSandbox(id: string): Promise<void> {
    this.#live();
    const s = this.#sandboxes.get(id);
    if (s === undefined) return;
    await this.stopPodSandbox(id);
    for (const c of [...this.#containers.values()]) if (c.record.sandboxId === id) await this.removeContainer(c.record.id);
    this.#sandboxes.delete(id);
    this.#sandboxKeys.delete(sandboxKey(s.config));
    rmSync(this.#state.sandboxDir(id), { recursive: true, force: true });
  }

  #sandboxView(s: SandboxRecord): PodSandbox {
    return { id: s.id, metadata: s.config.metadata, state: s.state, createdAt: s.createdAt, labels: s.config.labels, annotations: s.config.annotations };
  }

  async podSandboxStatus(id: string): Promise<PodSandboxStatus> {
    const s = this.#sandbox(id);
    return {
      ...this.#sandboxView(s),
      hostname: s.config.hostname ?? s.config.metadata.name,
      ...(s.ip !== undefined ? { network: { ip: s.ip } } : {}),
      ...(s.config.logDirectory !== undefined ? { logDirectory: s.config.logDirectory } : {}),
    };
  }

  async listPodSandboxes(filter?: PodSandboxFilter): Promise<PodSandbox[]> {
    this.#live();
    const out: PodSandbox[] = [];
    for (const s of this.#sandboxes.values()) {
      const v = this.#sandboxView(s);
      if (matchesSandboxFilter(v, filter)) out.push(v);
    }
    return out;
  }

  // --- images --------------------------------------------------------------------------------

  #addImage(img: StoredImage): void {
    this.#images.set(img.id, img);
    for (const t of img.repoTags) this.#imageNames.set(t, img.id);
  }

  #findImage(image: ImageSpec): StoredImage | undefined {
    this.#live();
    if (image === null || typeof image !== "object") throw new RuntimeError("InvalidArgument", "image must be an object");
    const key = imageKey(image.image);
    const id = this.#images.has(key) ? key : this.#imageNames.get(key);
    return id === undefined ? undefined : this.#images.get(id);
  }

  async pullImage(image: ImageSpec, _auth?: AuthConfig): Promise<string> {
    const have = this.#findImage(image);
    if (have !== undefined) return have.id;
    const { name, def } = resolveImage(image.image, {
      allowHostPathImages: this.#opts.allowHostPathImages === true,
      ...(this.#opts.imageRoot !== undefined ? { imageRoot: this.#opts.imageRoot } : {}),
    });
    const id = imageIdOf(name, def);
    const existing = this.#images.get(id);
    if (existing !== undefined) {
      if (!existing.repoTags.includes(name)) existing.repoTags.push(name);
      this.#imageNames.set(name, id);
    } else {
      this.#addImage({ id, repoTags: [name], def });
    }
    this.#state.saveImages([...this.#images.values()]);
    return id;
  }

  async imageStatus(image: ImageSpec): Promise<Image | undefined> {
    const img = this.#findImage(image);
    return img === undefined ? undefined : imageView(img);
  }

  async listImages(): Promise<Image[]> {
    this.#live();
    return [...this.#images.values()].map(imageView);
  }

  async removeImage(image: ImageSpec): Promise<void> {
    const img = this.#findImage(image);
    if (img === undefined) return;
    for (const c of this.#containers.values()) {
      if (c.record.imageRef === img.id) throw new RuntimeError("FailedPrecondition", `image "${image.image}" is in use by container "${c.record.id}"`);
    }
    for (const t of img.repoTags) this.#imageNames.delete(t);
    this.#images.delete(img.id);
    this.#state.saveImages([...this.#images.values()]);
  }

  // --- containers ----------------------------------------------------------------------------

  async createContainer(podSandboxId: string, config: ContainerConfig, sandboxConfig: PodSandboxConfig): Promise<string> {
    const s = this.#sandbox(podSandboxId);
    validateContainerConfig(config, s.config);
    void sandboxConfig; // the stored config is authoritative
    if (s.state !== "READY") throw new RuntimeError("FailedPrecondition", `pod sandbox "${podSandboxId}" is not ready`);
    const img = this.#findImage(config.image);
    if (img === undefined) throw runtimeErrors.imageNotFound(config.image.image);
    const { name, attempt } = config.metadata;
    for (const other of this.#containers.values()) {
      const m = other.record.config.metadata;
      if (other.record.sandboxId === podSandboxId && m.name === name && m.attempt === attempt) {
        throw new RuntimeError("AlreadyExists", `container "${name}" attempt ${attempt} already exists in pod sandbox "${podSandboxId}" as "${other.record.id}"`);
      }
    }
    const r = config.resources;
    const d = img.def.resources;
    const mem = r?.memoryBytesLimit ?? d?.memoryBytesLimit;
    const cpu = r?.cpuMillisLimit ?? d?.cpuMillisLimit;
    const limits: ContainerLimits = {
      ...(mem !== undefined && mem > 0 ? { memoryBytesLimit: mem } : {}),
      ...(cpu !== undefined && cpu > 0 ? { cpuMillisLimit: cpu } : {}),
      ...(r?.cpuMillisRequest !== undefined ? { cpuMillisRequest: r.cpuMillisRequest } : {}),
    };
    const rec: ContainerRecord = { id: newId(), sandboxId: podSandboxId, config, imageRef: img.id, image: img.def, createdAt: Date.now(), limits, state: "CREATED" };
    const c = new LiveContainer(rec, this.#state.containerDir(podSandboxId, rec.id));
    this.#state.saveContainer(rec);
    this.#containers.set(rec.id, c);
    this.#emit("CREATED", c);
    return rec.id;
  }

  /** Marks a start failure: EXITED / ContainerCannotRun (128), and the FailedPrecondition to throw. */
  #cannotRun(c: LiveContainer, why: string): RuntimeError {
    const rec = c.record;
    const now = Date.now();
    rec.state = "EXITED";
    rec.startedAt = now;
    rec.finishedAt = now;
    rec.exitCode = 128;
    rec.reason = "ContainerCannotRun";
    rec.message = why;
    this.#state.saveContainer(rec);
    c.markExited();
    this.#emit("STOPPED", c);
    return new RuntimeError("FailedPrecondition", `failed to start container "${rec.id}": ${why}`);
  }

  async startContainer(id: string): Promise<void> {
    const c = this.#container(id);
    const rec = c.record;
    if (rec.state !== "CREATED" || c.starting) {
      throw new RuntimeError("FailedPrecondition", `container "${id}" is ${c.starting ? "already starting" : rec.state}, not CREATED`);
    }
    const s = this.#sandbox(rec.sandboxId);
    if (s.state !== "READY") throw new RuntimeError("FailedPrecondition", `pod sandbox "${s.id}" is not ready`);
    c.starting = true;
    try {
      this.#prepareExecEnv(c, s);
      let argv: string[];
      try {
        argv = this.#resolveArgv(containerArgv(rec.config, rec.image), c);
      } catch (err) {
        throw this.#cannotRun(c, (err as Error).message);
      }
      const env = { ...c.env };
      try {
        const rootfs = this.#rootfs(c);
        mkdirSync(c.cwd, { recursive: true });
        for (const m of rec.config.mounts ?? []) {
          const at = join(rootfs, m.containerPath);
          mkdirSync(dirname(at), { recursive: true });
          rmSync(at, { recursive: true, force: true });
          symlinkSync(m.hostPath, at);
        }
        makeFifos(c.dir, rec.config.stdin === true);
        if (this.limits.mode === "cgroup-v2" && this.limits.cgroupRoot !== undefined) {
          const cg = new ContainerCgroup(join(this.limits.cgroupRoot, rec.id));
          cg.create(rec.limits);
          c.cgroup = cg;
          rec.cgroup = cg.dir;
          env.TUGBOAT_CGROUP = cg.dir;
        } else if (this.limits.mode === "rlimit" && rec.limits.memoryBytesLimit !== undefined) {
          env.TUGBOAT_DATA_KB = String(Math.ceil((rec.limits.memoryBytesLimit * 2) / 1024));
        }
      } catch (err) {
        throw this.#cannotRun(c, `preparing the container failed: ${(err as Error).message}`);
      }
      try {
        c.openIo(this.#logPath(rec, s), this.#opts.logRotation, true);
      } catch (err) {
        c.closeIo();
        throw this.#cannotRun(c, `opening the container's output failed: ${(err as Error).message}`);
      }
      let spawned;
      try {
        spawned = await spawnShim({ dir: c.dir, argv, cwd: c.cwd, env, stdin: rec.config.stdin === true });
      } catch (err) {
        c.closeIo();
        throw this.#cannotRun(c, `starting the process failed: ${(err as Error).message}`);
      }
      const child = spawned.child;
      c.child = child;
      rec.shim = identify(child.pid!) ?? { pid: child.pid!, startTime: -1 };
      if (spawned.stdinFd !== undefined) c.setStdin(spawned.stdinFd);
      child.once("exit", (code, signal) => {
        c.childExit = { code, signal };
        if (!this.#closed) void this.#finalize(c);
      });
      rec.state = "RUNNING";
      rec.startedAt = Date.now();
      this.#state.saveContainer(rec);
      this.#emit("STARTED", c);
      if (this.limits.mode === "rlimit" && rec.limits.memoryBytesLimit !== undefined) this.#ensureTimer();
    } finally {
      c.starting = false;
    }
  }

  async stopContainer(id: string, timeoutSeconds: number): Promise<void> {
    this.#live();
    validateStopTimeout(timeoutSeconds);
    const c = this.#container(id);
    if (c.record.state !== "RUNNING") {
      if (c.finalizing !== undefined) await c.finalizing;
      return;
    }
    const shim = c.record.shim;
    if (timeoutSeconds > 0 && shim !== undefined) {
      killGroup(shim.pid, "SIGTERM");
      if (c.adopted) this.#ensureTimer();
      let t: NodeJS.Timeout | undefined;
      await Promise.race([c.exited, new Promise<void>((r) => (t = setTimeout(r, timeoutSeconds * 1000)))]);
      clearTimeout(t);
    }
    await this.#kill(c);
  }

  async removeContainer(id: string): Promise<void> {
    this.#live();
    const c = this.#containers.get(id);
    if (c === undefined) return;
    await this.#kill(c);
    if (c.finalizing !== undefined) await c.finalizing;
    c.closeIo();
    this.#containers.delete(id);
    c.cgroup?.remove();
    rmSync(c.dir, { recursive: true, force: true });
    this.#emit("DELETED", c);
  }

  #containerView(c: LiveContainer): Container {
    const r = c.record;
    return { id: r.id, podSandboxId: r.sandboxId, metadata: r.config.metadata, image: r.config.image, imageRef: r.imageRef, state: r.state, createdAt: r.createdAt, labels: r.config.labels, annotations: r.config.annotations };
  }

  async containerStatus(id: string): Promise<ContainerStatus> {
    const c = this.#container(id);
    const r = c.record;
    const s = this.#sandboxes.get(r.sandboxId);
    const logPath = s === undefined ? undefined : this.#logPath(r, s);
    return {
      ...this.#containerView(c),
      mounts: r.config.mounts ?? [],
      ...(r.startedAt !== undefined ? { startedAt: r.startedAt } : {}),
      ...(r.finishedAt !== undefined ? { finishedAt: r.finishedAt } : {}),
      ...(r.exitCode !== undefined ? { exitCode: r.exitCode } : {}),
      ...(r.reason !== undefined ? { reason: r.reason } : {}),
      ...(r.message !== undefined ? { message: r.message } : {}),
      ...(logPath !== undefined ? { logPath } : {}),
      ...(r.config.resources !== undefined ? { resources: r.config.resources } : {}),
    };
  }

  async listContainers(filter?: ContainerFilter): Promise<Container[]> {
    this.#live();
    const out: Container[] = [];
    for (const c of this.#containers.values()) {
      const v = this.#containerView(c);
      if (matchesContainerFilter(v, filter)) out.push(v);
    }
    return out;
  }

  // --- stats (stats.ts) -----------------------------------------------------------------------

  async containerStats(id: string): Promise<ContainerStats> {
    const c = this.#container(id);
    return processContainerStats(c.record, c.cgroup?.dir, c.record.state === "RUNNING" && c.finalizing === undefined);
  }

  async listContainerStats(filter?: ContainerFilter): Promise<ContainerStats[]> {
    const out: ContainerStats[] = [];
    for (const v of await this.listContainers(filter)) {
      const c = this.#containers.get(v.id);
      if (c !== undefined && c.record.state === "RUNNING" && c.finalizing === undefined) out.push(processContainerStats(c.record, c.cgroup?.dir, true));
    }
    return out;
  }

  // --- streaming -----------------------------------------------------------------------------

  #running(id: string): LiveContainer {
    const c = this.#container(id);
    if (c.record.state !== "RUNNING" || c.finalizing !== undefined) {
      throw new RuntimeError("FailedPrecondition", `container "${id}" is not running (state ${c.record.state})`);
    }
    return c;
  }

  async exec(containerId: string, cmd: readonly string[], io: StreamIO): Promise<StreamSession> {
    const c = this.#running(containerId);
    if (!Array.isArray(cmd) || cmd.length === 0 || cmd[0] === "") throw new RuntimeError("InvalidArgument", "exec needs a non-empty command");
    let argv: string[];
    try {
      argv = this.#resolveArgv(cmd, c);
    } catch (err) {
      return failedSession(io, 127, (err as Error).message);
    }
    const cg = c.cgroup;
    let session;
    try {
      session = await startExec(
        { cwd: c.cwd, env: c.env, argv, ...(this.#script !== undefined ? { script: this.#script } : {}), ...(cg !== undefined ? { onSpawn: (pid: number) => void cg.add(pid) } : {}) },
        io,
      );
    } catch (err) {
      return failedSession(io, 126, `exec: "${cmd[0]}": ${(err as Error).message}`);
    }
    c.execs.add(session);
    void session.exit.finally(() => c.execs.delete(session));
    return session;
  }

  async attach(containerId: string, io: StreamIO): Promise<StreamSession> {
    const c = this.#running(containerId);
    let finish!: (st: ExitStatus) => void;
    const exit = new Promise<ExitStatus>((resolve) => {
      finish = resolve;
    });
    let pending: Promise<unknown> = Promise.resolve();
    const out = io.stdout;
    const err = io.tty ? io.stdout : io.stderr;
    const listener: OutputListener = {
      output: (stream, chunk) => {
        const sink = stream === "stdout" ? out : err;
        if (sink === undefined) return;
        const data = chunk.slice();
        // Keep the order of writes; a failing sink only loses its own output.
        pending = pending.then(() => sink.write(data)).catch(() => {});
      },
      exited: (code) => {
        void pending.then(() => finish({ exitCode: code }));
      },
    };
    c.listeners.add(listener);
    if (io.stdin !== undefined) {
      const stdin = io.stdin;
      void (async () => {
        for await (const chunk of stdin) {
          if (!c.listeners.has(listener)) break;
          await c.writeStdin(chunk); // no stdin on the container: drained and dropped
        }
        if (c.listeners.has(listener) && c.record.config.stdinOnce === true) c.closeStdin();
      })().catch(() => {});
    }
    return {
      exit,
      resize: () => {},
      close: () => {
        if (!c.listeners.delete(listener)) return;
        finish({ exitCode: 0, message: "detached" });
      },
    };
  }

  async portForward(podSandboxId: string, port: number): Promise<ByteDuplex> {
    const s = this.#sandbox(podSandboxId);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RuntimeError("InvalidArgument", `port must be 1-65535, got ${port}`);
    if (s.state !== "READY" || s.ip === undefined) throw new RuntimeError("FailedPrecondition", `pod sandbox "${podSandboxId}" is not ready`);
    const ip = s.ip;
    const sock = connect({ host: ip, port });
    await new Promise<void>((resolve, reject) => {
      sock.once("connect", resolve);
      sock.once("error", (err: NodeJS.ErrnoException) => {
        const code = err.code === "ECONNREFUSED" ? "Unavailable" : "Internal";
        reject(new RuntimeError(code, `port-forward to ${ip}:${port} of pod sandbox "${podSandboxId}" failed: ${err.message}`));
      });
    });
    sock.on("error", () => {});
    return {
      readable: (async function* () {
        for await (const chunk of sock) yield chunk as Uint8Array;
      })(),
      write: (chunk) =>
        new Promise<void>((resolve, reject) => {
          sock.write(chunk, (e) => (e ? reject(new RuntimeError("Unavailable", `port-forward write failed: ${e.message}`)) : resolve()));
        }),
      end: () => new Promise<void>((resolve) => sock.end(resolve)),
      close: () => sock.destroy(),
    };
  }

  // --- events and lifecycle ------------------------------------------------------------------

  events(): AsyncIterable<ContainerEvent> {
    return this.#events.subscribe();
  }

  /** Releases this client; containers keep running and a new client over the same dataDir adopts them. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    for (const c of this.#containers.values()) {
      c.child?.removeAllListeners("exit");
      c.closeIo();
      for (const e of c.execs) e.kill();
    }
    this.#events.close();
  }
}

let appletCache: { path: string; applets: Set<string> } | undefined;
/** Applets of a busybox binary (`busybox --list`), cached. */
function busyboxApplets(path: string): Set<string> {
  if (appletCache?.path === path) return appletCache.applets;
  let applets = new Set<string>();
  try {
    applets = new Set(execFileSync(path, ["--list"], { encoding: "utf8", timeout: 2000 }).split("\n").filter((s) => s !== ""));
  } catch {
    // not a busybox
  }
  appletCache = { path, applets };
  return applets;
}

/** Creates a process runtime over `dataDir`, adopting the containers a previous agent left running. */
export async function createProcessRuntime(opts: ProcessRuntimeOptions): Promise<ProcessRuntime> {
  const rt = new ProcessRuntime(opts);
  rt.recover();
  return rt;
}

