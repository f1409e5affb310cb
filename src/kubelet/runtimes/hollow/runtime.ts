/**
 * The hollow runtime: a `RuntimeService` client over a simulated `HollowHost`. Behaviour of
 * containers comes from their image and command (program.ts); time from the host's TimerQueue,
 * so tests drive it with a FakeClock and at scale one timer serves every node of the process.
 *
 *   const host = new HollowHost({ clock: fakeClock, logs: "output" });
 *   const rt = new HollowRuntime(host);
 *   // … the agent restarts:
 *   await rt.close();
 *   const again = new HollowRuntime(host); // same sandboxes and containers
 */
import { RuntimeError, runtimeErrors } from "../../runtime/errors.ts";
import { EventBroadcaster } from "../../runtime/events.ts";
import { isImageId, normalizeImage } from "../../runtime/image.ts";
import type {
  AuthConfig,
  ByteDuplex,
  Container,
  ContainerConfig,
  ContainerEvent,
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
import { startExec } from "./exec.ts";
import { hollowContainerStats } from "./stats.ts";
import { HContainer, type HImage, HollowHost, type HollowHostOptions, HSandbox, type OutputListener } from "./host.ts";

export const HOLLOW_RUNTIME_NAME = "hollow";

/** What the hollow runtime can do (docs/runtime.md has the matrix). */
export const HOLLOW_CAPABILITIES: RuntimeCapabilities = {
  exec: true,
  execStdin: true,
  execTty: true,
  attach: true,
  portForward: false,
  events: true,
  oomKill: true,
};
export const HOLLOW_RUNTIME_VERSION = "0.1.0";

const enc = new TextEncoder();

function sandboxKey(c: PodSandboxConfig): string {
  const m = c.metadata;
  return `${m.namespace}\u0000${m.name}\u0000${m.uid}\u0000${m.attempt}`;
}

function imageView(img: HImage): Image {
  return { id: img.id, repoTags: [...img.repoTags], repoDigests: [], size: img.size };
}

/** Delays by `ms` on the host's timer queue (0: no delay, no timer). */
function delay(host: HollowHost, ms: number): Promise<void> | undefined {
  if (ms <= 0) return undefined;
  return new Promise<void>((resolve) => host.timers.schedule(ms, resolve));
}

export class HollowRuntime implements RuntimeService {
  readonly host: HollowHost;
  #closed = false;
  #events: EventBroadcaster<ContainerEvent> | undefined;
  #sink: ((e: ContainerEvent) => void) | undefined;

  /** A client over `host`, or over a new host built from `options`. */
  constructor(host: HollowHost | HollowHostOptions = {}) {
    this.host = host instanceof HollowHost ? host : new HollowHost(host);
  }

  #live(): HollowHost {
    if (this.#closed) throw runtimeErrors.closed(HOLLOW_RUNTIME_NAME);
    return this.host;
  }

  #sandbox(id: string): HSandbox {
    const s = this.#live().sandboxes.get(id);
    if (s === undefined) throw runtimeErrors.sandboxNotFound(id);
    return s;
  }

  #container(id: string): HContainer {
    const c = this.#live().containers.get(id);
    if (c === undefined) throw runtimeErrors.containerNotFound(id);
    return c;
  }

  /** Simulates the CNI plugin going away (NetworkReady=false) and coming back. */
  setNetworkReady(ready: boolean): void {
    this.host.networkReady = ready;
  }

  async version(): Promise<VersionInfo> {
    this.#live();
    return { runtimeApiVersion: "v1", runtimeName: HOLLOW_RUNTIME_NAME, runtimeVersion: HOLLOW_RUNTIME_VERSION };
  }

  async status(): Promise<RuntimeStatus> {
    const h = this.#live();
    return {
      conditions: [
        { type: "RuntimeReady", status: true },
        h.networkReady
          ? { type: "NetworkReady", status: true }
          : { type: "NetworkReady", status: false, reason: "NetworkPluginNotReady", message: "hollow network is marked not ready" },
      ],
    };
  }

  // --- sandboxes -----------------------------------------------------------------------------

  async runPodSandbox(config: PodSandboxConfig): Promise<string> {
    const h = this.#live();
    validateSandboxConfig(config);
    const key = sandboxKey(config);
    if (h.sandboxKeys.has(key)) {
      const m = config.metadata;
      throw new RuntimeError("AlreadyExists", `pod sandbox for ${m.namespace}/${m.name} (uid ${m.uid}, attempt ${m.attempt}) already exists`);
    }
    const id = h.newId();
    h.sandboxKeys.set(key, id);
    const wait = delay(h, h.options.sandboxLatencyMs ?? 0);
    if (wait !== undefined) await wait;
    let ip;
    try {
      ip = h.allocateIp();
    } catch (err) {
      h.sandboxKeys.delete(key);
      throw err;
    }
    const s = new HSandbox(id, config, h.now());
    s.ip = ip.ip;
    s.ipNum = ip.n;
    h.sandboxes.set(id, s);
    return id;
  }

  #stopSandbox(s: HSandbox): void {
    const h = this.host;
    for (const c of s.containers) {
      if (c.state === "RUNNING") h.kill(c, "pod sandbox stopped");
      else if (c.state === "CREATED" && c.startWaiter !== null) {
        c.task?.cancel();
        c.task = null;
        c.startWaiter.reject(new RuntimeError("FailedPrecondition", `pod sandbox "${s.id}" was stopped before container "${c.id}" started`));
        c.startWaiter = null;
      }
    }
    s.state = "NOTREADY";
    h.releaseIp(s);
  }

  async stopPodSandbox(id: string): Promise<void> {
    const s = this.#live().sandboxes.get(id);
    if (s !== undefined) this.#stopSandbox(s);
  }

  async removePodSandbox(id: string): Promise<void> {
    const h = this.#live();
    const s = h.sandboxes.get(id);
    if (s === undefined) return;
    this.#stopSandbox(s);
    for (const c of [...s.containers]) h.remove(c);
    h.sandboxes.delete(id);
    h.sandboxKeys.delete(sandboxKey(s.config));
  }

  #sandboxView(s: HSandbox): PodSandbox {
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
    const h = this.#live();
    const out: PodSandbox[] = [];
    if (filter?.id !== undefined) {
      const s = h.sandboxes.get(filter.id);
      if (s !== undefined && matchesSandboxFilter(this.#sandboxView(s), filter)) out.push(this.#sandboxView(s));
      return out;
    }
    for (const s of h.sandboxes.values()) {
      const v = this.#sandboxView(s);
      if (matchesSandboxFilter(v, filter)) out.push(v);
    }
    return out;
  }

  // --- images --------------------------------------------------------------------------------

  #findImage(image: ImageSpec): HImage | undefined {
    const h = this.#live();
    if (image === null || typeof image !== "object" || typeof image.image !== "string") throw new RuntimeError("InvalidArgument", "image.image must be a string");
    return h.images.get(normalizeImage(image.image));
  }

  async pullImage(image: ImageSpec, _auth?: AuthConfig): Promise<string> {
    const h = this.#live();
    const have = this.#findImage(image);
    if (have !== undefined) return have.id;
    if (isImageId(image.image)) throw new RuntimeError("ErrImagePull", `failed to pull image "${image.image}": an image id names local content only and it is not present`);
    const normalized = normalizeImage(image.image);
    const verdict = h.resolver.pullVerdict(image.image, normalized);
    const wait = delay(h, h.options.pullLatencyMs ?? 0);
    if (wait !== undefined) await wait;
    if (!verdict.ok) throw new RuntimeError("ErrImagePull", verdict.message);
    return h.addImage(normalized).id;
  }

  async imageStatus(image: ImageSpec): Promise<Image | undefined> {
    const img = this.#findImage(image);
    return img === undefined ? undefined : imageView(img);
  }

  async listImages(): Promise<Image[]> {
    const h = this.#live();
    const seen = new Set<HImage>(h.images.values());
    return [...seen].map(imageView);
  }

  async removeImage(image: ImageSpec): Promise<void> {
    const h = this.#live();
    const img = this.#findImage(image);
    if (img === undefined) return;
    for (const c of h.containers.values()) {
      if (c.imageRef === img.id) {
        throw new RuntimeError("FailedPrecondition", `image "${image.image}" is in use by container "${c.id}"`);
      }
    }
    for (const t of img.repoTags) h.images.delete(t);
    h.images.delete(img.id);
  }

  // --- containers ----------------------------------------------------------------------------

  async createContainer(podSandboxId: string, config: ContainerConfig, sandboxConfig: PodSandboxConfig): Promise<string> {
    const h = this.#live();
    const s = this.#sandbox(podSandboxId);
    validateContainerConfig(config, s.config);
    void sandboxConfig; // The stored sandbox config is authoritative; the CRI passes it again for runtimes without state.
    if (s.state !== "READY") throw new RuntimeError("FailedPrecondition", `pod sandbox "${podSandboxId}" is not ready`);
    const normalized = normalizeImage(config.image.image);
    const img = h.images.get(normalized);
    if (img === undefined) throw runtimeErrors.imageNotFound(config.image.image);
    const { name, attempt } = config.metadata;
    for (const other of s.containers) {
      if (other.config.metadata.name === name && other.config.metadata.attempt === attempt) {
        throw new RuntimeError("AlreadyExists", `container "${name}" attempt ${attempt} already exists in pod sandbox "${podSandboxId}" as "${other.id}"`);
      }
    }
    const program = h.resolver.resolve({
      image: config.image.image,
      normalizedImage: normalized,
      ...(config.command !== undefined ? { command: config.command } : {}),
      ...(config.args !== undefined ? { args: config.args } : {}),
    });
    const id = h.newId();
    // The config is kept by reference (the caller must not mutate it): copying costs memory at scale.
    const c = new HContainer(id, s, config, img.id, program, h.now());
    h.containers.set(id, c);
    s.containers.push(c);
    h.emit("CREATED", c);
    return id;
  }

  async startContainer(id: string): Promise<void> {
    const h = this.#live();
    const c = this.#container(id);
    if (c.state !== "CREATED" || c.startWaiter !== null) {
      throw new RuntimeError("FailedPrecondition", `container "${id}" is ${c.startWaiter !== null ? "already starting" : c.state}, not CREATED`);
    }
    if (c.sandbox.state !== "READY") throw new RuntimeError("FailedPrecondition", `pod sandbox "${c.sandbox.id}" is not ready`);
    const latency = h.startLatency(c.program);
    if (latency <= 0) {
      h.begin(c);
      if (c.reason === "ContainerCannotRun") throw new RuntimeError("FailedPrecondition", `failed to start container "${id}": ${c.message ?? ""}`);
      return;
    }
    const started = new Promise<void>((resolve, reject) => {
      c.startWaiter = { resolve, reject };
    });
    c.task = h.timers.schedule(latency, () => h.begin(c));
    return started;
  }

  async stopContainer(id: string, timeoutSeconds: number): Promise<void> {
    const h = this.#live();
    validateStopTimeout(timeoutSeconds);
    const c = this.#container(id);
    await h.stop(c, timeoutSeconds * 1000);
  }

  async removeContainer(id: string): Promise<void> {
    const h = this.#live();
    const c = h.containers.get(id);
    if (c !== undefined) h.remove(c);
  }

  #containerView(c: HContainer): Container {
    return {
      id: c.id,
      podSandboxId: c.sandbox.id,
      metadata: c.config.metadata,
      image: c.config.image,
      imageRef: c.imageRef,
      state: c.state,
      createdAt: c.createdAt,
      labels: c.config.labels,
      annotations: c.config.annotations,
    };
  }

  async containerStatus(id: string): Promise<ContainerStatus> {
    const c = this.#container(id);
    // Built field by field (no spreads): the kubelet asks for this on every pod sync.
    const st: { -readonly [K in keyof ContainerStatus]: ContainerStatus[K] } = {
      ...this.#containerView(c),
      mounts: c.config.mounts ?? [],
    };
    if (c.startedAt !== undefined) st.startedAt = c.startedAt;
    if (c.finishedAt !== undefined) st.finishedAt = c.finishedAt;
    if (c.exitCode !== undefined) st.exitCode = c.exitCode;
    if (c.reason !== undefined) st.reason = c.reason;
    if (c.message !== undefined) st.message = c.message;
    const logPath = c.logPath;
    if (logPath !== undefined) st.logPath = logPath;
    if (c.config.resources !== undefined) st.resources = c.config.resources;
    return st;
  }

  async listContainers(filter?: ContainerFilter): Promise<Container[]> {
    const h = this.#live();
    let source: Iterable<HContainer>;
    if (filter?.id !== undefined) {
      const c = h.containers.get(filter.id);
      source = c === undefined ? [] : [c];
    } else if (filter?.podSandboxId !== undefined) {
      source = h.sandboxes.get(filter.podSandboxId)?.containers ?? [];
    } else {
      source = h.containers.values();
    }
    const out: Container[] = [];
    for (const c of source) {
      const v = this.#containerView(c);
      if (matchesContainerFilter(v, filter)) out.push(v);
    }
    return out;
  }

  // --- stats (simulated, stats.ts) -----------------------------------------------------------

  async containerStats(id: string): Promise<ContainerStats> {
    const c = this.#container(id);
    return hollowContainerStats(c, this.host.now());
  }

  async listContainerStats(filter?: ContainerFilter): Promise<ContainerStats[]> {
    const now = this.#live().now();
    const out: ContainerStats[] = [];
    for (const v of await this.listContainers(filter)) {
      const c = this.host.containers.get(v.id);
      if (c !== undefined && c.state === "RUNNING") out.push(hollowContainerStats(c, now));
    }
    return out;
  }

  // --- streaming -----------------------------------------------------------------------------

  #running(id: string): HContainer {
    const c = this.#container(id);
    if (c.state !== "RUNNING") throw new RuntimeError("FailedPrecondition", `container "${id}" is not running (state ${c.state})`);
    return c;
  }

  async exec(containerId: string, cmd: readonly string[], io: StreamIO): Promise<StreamSession> {
    const h = this.#live();
    const c = this.#running(containerId);
    if (!Array.isArray(cmd) || cmd.length === 0 || cmd[0] === "") throw new RuntimeError("InvalidArgument", "exec needs a non-empty command");
    const session = startExec(
      cmd,
      { hostname: c.sandbox.config.hostname ?? c.sandbox.config.metadata.name, env: c.config.envs ?? [], workingDir: c.config.workingDir ?? "/", timers: h.timers },
      io,
    );
    // An exec'd process dies with its container.
    const listener: OutputListener = { output: () => {}, exited: () => session.abort(137, "container exited") };
    (c.listeners ??= new Set()).add(listener);
    void session.exit.finally(() => c.listeners?.delete(listener));
    return session;
  }

  async attach(containerId: string, io: StreamIO): Promise<StreamSession> {
    this.#live();
    const c = this.#running(containerId);
    let finish: ((st: ExitStatus) => void) | undefined;
    const exit = new Promise<ExitStatus>((resolve) => {
      finish = resolve;
    });
    const out = io.stdout;
    const err = io.tty ? io.stdout : io.stderr;
    const write = (sink: typeof out, text: string): void => {
      if (sink === undefined) return;
      // Hollow output is a few short lines; a failing sink only loses them.
      void Promise.resolve(sink.write(enc.encode(io.tty ? text.replaceAll("\n", "\r\n") : text))).catch(() => {});
    };
    const listener: OutputListener = {
      output: (stream, text) => write(stream === "stdout" ? out : err, text),
      exited: (code) => finish?.({ exitCode: code }),
    };
    (c.listeners ??= new Set()).add(listener);
    if (io.stdin !== undefined) {
      // Hollow main processes read nothing; drain stdin so the client is not blocked.
      const stdin = io.stdin;
      void (async () => {
        for await (const _ of stdin) if (c.listeners === null || !c.listeners.has(listener)) break;
      })().catch(() => {});
    }
    return {
      exit,
      resize: () => {},
      close: () => {
        c.listeners?.delete(listener);
        finish?.({ exitCode: 0, message: "detached" });
      },
    };
  }

  async portForward(podSandboxId: string, _port: number): Promise<ByteDuplex> {
    this.#sandbox(podSandboxId);
    throw runtimeErrors.unimplemented(HOLLOW_RUNTIME_NAME, "port-forward (hollow pods have no network stack)");
  }

  // --- events and lifecycle ------------------------------------------------------------------

  events(): AsyncIterable<ContainerEvent> {
    if (this.#closed) {
      const ended = new EventBroadcaster<ContainerEvent>(1);
      ended.close();
      return ended.subscribe();
    }
    if (this.#events === undefined) {
      const b = new EventBroadcaster<ContainerEvent>();
      this.#events = b;
      this.#sink = (e) => b.publish(e);
      this.host.eventSinks.add(this.#sink);
    }
    return this.#events.subscribe();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#sink !== undefined) this.host.eventSinks.delete(this.#sink);
    this.#events?.close();
  }
}

/** A hollow runtime on a new host built from `options`. */
export function createHollowRuntime(options: HollowHostOptions = {}): HollowRuntime {
  return new HollowRuntime(new HollowHost(options));
}
