/**
 * The docker runtime: the runtime port (`RuntimeService`) over a Docker Engine (API 1.41, e.g.
 * Debian's docker.io 20.10) through dockerode.
 *
 *   const rt = await createDockerRuntime({ host: "unix:///var/run/docker.sock" });
 *
 * - A pod sandbox is a pause-like container (`pauseImage`, `HostConfig.Init`) that holds the pod's
 *   network and IPC namespaces; app containers join them (`NetworkMode: container:<sandbox>`), so
 *   the containers of a pod share localhost. The pod IP is the sandbox's address on `network`.
 * - All state lives in Docker: labels (labels.ts) link every container to its pod and carry the
 *   CRI labels/annotations, so a new client (agent restart) lists the same sandboxes and
 *   containers; Docker's unique names make duplicates impossible.
 * - Container output is followed from Docker's own log into the CRI file at the config's
 *   `logPath` (logpump.ts); a new client resumes the pumps where the files end.
 * - exec / attach / port-forward: streams.ts.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { RuntimeError, runtimeErrors } from "../../runtime/errors.ts";
import { EventBroadcaster } from "../../runtime/events.ts";
import { isImageId, normalizeImage } from "../../runtime/image.ts";
import type { LogRotation } from "../../runtime/logs.ts";
import type {
  AuthConfig,
  ByteDuplex,
  Container,
  ContainerConfig,
  ContainerEvent,
  ContainerEventType,
  ContainerFilter,
  ContainerStatus,
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
import { connectDocker, type DockerClient, type DockerContainerInspect, type DockerContainerSummary, type DockerImageInspect } from "./client.ts";
import {
  containerInfoOf,
  containerLabels,
  containerMetadataOf,
  containerName,
  createdMsOf,
  type DockerKind,
  L,
  podMetadataOf,
  pushdownFilters,
  sandboxInfoOf,
  sandboxLabels,
  sandboxName,
  scopeFilter,
  userAnnotations,
  userLabels,
} from "./labels.ts";
import { LogPump, CriSink, readResumePoint, sinceOf } from "./logpump.ts";
import { containerCreateBody, criState, criStateOfSummary, dockerMessage, dockerTimeMs, exitInfo, type LogOptions, sandboxCreateBody, statusCodeOf, toRuntimeError } from "./mapping.ts";
import { portForwardNsenter, startAttach, startExec } from "./streams.ts";
import type { ContainerStats } from "../../runtime/types.ts";
import { dockerContainerStats, mapLimited } from "./stats.ts";
import { Coalescer } from "./coalesce.ts";

export const DOCKER_RUNTIME_NAME = "docker";

/** What the docker runtime can do (docs/runtime.md and docs/docker-runtime.md have the matrix). */
export const DOCKER_CAPABILITIES: RuntimeCapabilities = {
  exec: true,
  execStdin: true,
  execTty: true,
  attach: true,
  portForward: true,
  events: true,
  oomKill: true,
};

/** The pause image used when none is given (pulled on first use where a registry is reachable). */
export const DEFAULT_PAUSE_IMAGE = "registry.k8s.io/pause:3.9";

export interface DockerRuntimeOptions {
  /** Docker host: `unix:///path/to/docker.sock` (or `tcp://host:port`, plain HTTP). */
  readonly host: string;
  /**
   * Which containers belong to this runtime: several agents may share one daemon, each with its
   * own scope (e.g. the node name). Default `default`.
   */
  readonly scope?: string;
  /** Image of the sandbox containers (default `registry.k8s.io/pause:3.9`); pulled if absent. */
  readonly pauseImage?: string;
  /** Entrypoint for the sandbox container (e.g. `["sleep", "2147483647"]` for a busybox image); default: the image's. */
  readonly pauseCommand?: readonly string[];
  /** Docker network of the sandboxes, which gives the pod IPs (default `bridge`). */
  readonly network?: string;
  /** CRI log rotation (default 10 MiB × 5 files). */
  readonly logRotation?: LogRotation;
  /** Docker's own json-file log per container, only kept to resume CRI logs after an agent restart (default 10m × 1). */
  readonly dockerLog?: Partial<LogOptions>;
  /** How long to wait for the daemon at startup (default 5000 ms). */
  readonly connectTimeoutMs?: number;
  /** Programs of the port-forward helper (default `nsenter` and this process's `node`). */
  readonly portForward?: { readonly nsenter?: string; readonly node?: string };
}

/**
 * Connects to the daemon at `opts.host` and returns the runtime. Rejects `Unavailable` naming the
 * socket when the daemon does not answer, `InvalidArgument` for a malformed host. Resumes the log
 * pumps of containers found running (an agent restart).
 */
export async function createDockerRuntime(opts: DockerRuntimeOptions): Promise<DockerRuntime> {
  const client = await connectDocker(opts.host, opts.connectTimeoutMs);
  const rt = new DockerRuntime(client, opts);
  await rt.resumeLogs();
  return rt;
}

/** Resolves `p`, or `undefined` after `ms`. */
async function bounded<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let t: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([p, new Promise<undefined>((r) => (t = setTimeout(() => r(undefined), ms)))]);
  } finally {
    clearTimeout(t);
  }
}

/** How long a found pause image is trusted without asking Docker again (a failed create re-checks at once). */
const PAUSE_IMAGE_TTL_MS = 60_000;
/** Bound of the "program exists" cache (cleared when full). */
const PROGRAM_CACHE_MAX = 512;

const EVENT_TYPES: Readonly<Record<string, ContainerEventType>> = { create: "CREATED", start: "STARTED", die: "STOPPED", destroy: "DELETED" };

export class DockerRuntime implements RuntimeService {
  /** Images come from registries: an absent image under `imagePullPolicy: Never` is ErrImageNeverPull. */
  readonly pullsFromRegistry = true;
  readonly docker: DockerClient;
  readonly scope: string;
  readonly #host: string;
  readonly #pauseImage: string;
  readonly #pauseCommand: readonly string[] | undefined;
  readonly #network: string;
  readonly #rotation: LogRotation;
  readonly #log: LogOptions;
  readonly #pf: { readonly nsenter?: string; readonly node?: string };
  readonly #pumps = new Map<string, LogPump>();
  /** Concurrent identical container lists share one Docker call (coalesce.ts: never older than the call). */
  readonly #lists = new Coalescer<DockerContainerSummary[]>();
  /** Until when the pause image is known present (epoch ms). */
  #pauseImageUntil = 0;
  /** Keys (programProbeKey) of create bodies whose program was found in the image itself. */
  readonly #programFound = new Set<string>();
  #events = new EventBroadcaster<ContainerEvent>();
  #eventStream: Readable | undefined;
  #closed = false;

  constructor(docker: DockerClient, opts: DockerRuntimeOptions) {
    this.docker = docker;
    this.#host = opts.host;
    this.scope = opts.scope ?? "default";
    this.#pauseImage = opts.pauseImage ?? DEFAULT_PAUSE_IMAGE;
    this.#pauseCommand = opts.pauseCommand;
    this.#network = opts.network ?? "bridge";
    this.#rotation = opts.logRotation ?? {};
    this.#log = { maxSize: opts.dockerLog?.maxSize ?? "10m", maxFile: opts.dockerLog?.maxFile ?? "1" };
    this.#pf = opts.portForward ?? {};
  }

  #live(): void {
    if (this.#closed) throw runtimeErrors.closed(DOCKER_RUNTIME_NAME);
  }

  /** Wraps Docker failures; a closed client always answers Unavailable. */
  #fail(err: unknown, what: string, conflict: Parameters<typeof toRuntimeError>[2] = "FailedPrecondition"): RuntimeError {
    if (this.#closed) return runtimeErrors.closed(DOCKER_RUNTIME_NAME);
    const e = toRuntimeError(err, what, conflict);
    if (e.code === "Unavailable") return new RuntimeError("Unavailable", `${e.message} (docker host ${this.#host})`, { cause: err });
    return e;
  }

  // --- runtime ---------------------------------------------------------------------------------

  async version(): Promise<VersionInfo> {
    this.#live();
    try {
      const v = await this.docker.version();
      return { runtimeApiVersion: "v1", runtimeName: DOCKER_RUNTIME_NAME, runtimeVersion: `${v.Version ?? "unknown"} (API ${v.ApiVersion ?? "?"})` };
    } catch (err) {
      throw this.#fail(err, "docker version");
    }
  }

  async status(): Promise<RuntimeStatus> {
    this.#live();
    try {
      await this.docker.ping();
      return { conditions: [{ type: "RuntimeReady", status: true }, { type: "NetworkReady", status: true }] };
    } catch (err) {
      const message = `docker daemon at ${this.#host} does not answer: ${dockerMessage(err)}`;
      return {
        conditions: [
          { type: "RuntimeReady", status: false, reason: "DockerDaemonNotReady", message },
          { type: "NetworkReady", status: false, reason: "DockerDaemonNotReady", message },
        ],
      };
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const p of this.#pumps.values()) p.stop();
    this.#pumps.clear();
    this.#eventStream?.destroy();
    this.#events.close();
  }

  // --- lookups ---------------------------------------------------------------------------------

  /** Inspects `id` if it is one of ours of `kind` (full id only; Docker also accepts names and prefixes). */
  async #owned(id: string, kind: DockerKind): Promise<DockerContainerInspect | undefined> {
    if (!/^[0-9a-f]{64}$/.test(id)) return undefined;
    try {
      const c = await this.docker.getContainer(id).inspect();
      const labels = c.Config?.Labels ?? {};
      return c.Id === id && labels[L.scope] === this.scope && labels[L.type] === kind ? c : undefined;
    } catch (err) {
      if (statusCodeOf(err) === 404) return undefined;
      throw this.#fail(err, `inspect ${id}`);
    }
  }

  /**
   * Our containers of `kind` with the extra Docker label filters (and, when given, Docker's `id`
   * filter, which matches a superset). The result is shared with concurrent identical calls: read-only.
   */
  async #list(kind: DockerKind, extraLabels: readonly string[] = [], id?: string): Promise<readonly DockerContainerSummary[]> {
    const f: { label: string[]; id?: string[] } = scopeFilter(this.scope, kind);
    f.label.push(...extraLabels);
    if (id !== undefined && /^[0-9a-f]{1,64}$/.test(id)) f.id = [id];
    const filters = JSON.stringify(f);
    try {
      return await this.#lists.run(filters, () => this.docker.listContainers({ all: true, filters }));
    } catch (err) {
      throw this.#fail(err, "list containers");
    }
  }

  /**
   * `#list` narrowed by what Docker can filter of a CRI label selector (labels.ts `pushdownFilters`),
   * plus the few containers marked as having CRI labels that disagree with their identity labels:
   * a superset of the matches, so callers still apply the whole filter.
   */
  async #listSelected(kind: DockerKind, extraLabels: readonly string[], selector: Readonly<Record<string, string>> | undefined, id: string | undefined): Promise<readonly DockerContainerSummary[]> {
    const push = pushdownFilters(selector);
    if (push.length === 0) return this.#list(kind, extraLabels, id);
    const [narrow, marked] = await Promise.all([this.#list(kind, [...extraLabels, ...push], id), this.#list(kind, [...extraLabels, L.labelMismatch], id)]);
    if (marked.length === 0) return narrow;
    const seen = new Set(narrow.map((s) => s.Id));
    return [...narrow, ...marked.filter((s) => !seen.has(s.Id))];
  }

  // --- sandboxes -------------------------------------------------------------------------------

  #sandboxView(s: DockerContainerSummary): PodSandbox {
    const labels = s.Labels ?? {};
    return {
      id: s.Id,
      metadata: podMetadataOf(labels),
      state: s.State === "running" ? "READY" : "NOTREADY",
      createdAt: createdMsOf(labels, (s.Created ?? 0) * 1000),
      labels: userLabels(labels),
      annotations: userAnnotations(labels),
    };
  }

  /** Makes sure the pause image is present (pulling it if not); a positive answer is trusted for PAUSE_IMAGE_TTL_MS. */
  async #ensurePauseImage(): Promise<void> {
    if (Date.now() < this.#pauseImageUntil) return;
    if ((await this.#inspectImage(this.#pauseImage)) === undefined) {
      try {
        await this.#pull(this.#pauseImage, undefined);
      } catch (err) {
        throw new RuntimeError("FailedPrecondition", `pause image "${this.#pauseImage}" is not present and cannot be pulled: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    this.#pauseImageUntil = Date.now() + PAUSE_IMAGE_TTL_MS;
  }

  async runPodSandbox(config: PodSandboxConfig): Promise<string> {
    this.#live();
    validateSandboxConfig(config);
    const m = config.metadata;
    const existing = await this.#list("podsandbox", [`${L.podUid}=${m.uid}`]);
    if (existing.some((s) => {
      const o = podMetadataOf(s.Labels ?? {});
      return o.name === m.name && o.namespace === m.namespace && o.attempt === m.attempt;
    })) {
      throw new RuntimeError("AlreadyExists", `pod sandbox ${m.namespace}/${m.name} (uid ${m.uid}, attempt ${m.attempt}) already exists`);
    }
    await this.#ensurePauseImage();
    const hostname = config.hostname ?? m.name;
    const labels = sandboxLabels(this.scope, config, { hostname, ...(config.logDirectory !== undefined ? { logDirectory: config.logDirectory } : {}) }, Date.now());
    const body = sandboxCreateBody(config, {
      image: this.#pauseImage,
      ...(this.#pauseCommand !== undefined ? { command: this.#pauseCommand } : {}),
      network: this.#network,
      labels,
      hostname,
      log: this.#log,
    });
    let id: string;
    try {
      id = (await this.docker.createContainer({ ...body, name: sandboxName(m) })).id;
    } catch (err) {
      // The pause image may have been removed since it was last checked: check (and pull) again, once.
      if (statusCodeOf(err) !== 404 || this.#pauseImageUntil === 0) throw this.#fail(err, `create pod sandbox ${m.namespace}/${m.name}`, "AlreadyExists");
      this.#pauseImageUntil = 0;
      await this.#ensurePauseImage();
      try {
        id = (await this.docker.createContainer({ ...body, name: sandboxName(m) })).id;
      } catch (err2) {
        this.#pauseImageUntil = 0;
        throw this.#fail(err2, `create pod sandbox ${m.namespace}/${m.name}`, "AlreadyExists");
      }
    }
    try {
      await this.docker.getContainer(id).start();
    } catch (err) {
      await this.docker.getContainer(id).remove({ force: true }).catch(() => {});
      throw this.#fail(err, `start pod sandbox ${m.namespace}/${m.name}`, "Internal");
    }
    return id;
  }

  async stopPodSandbox(id: string): Promise<void> {
    this.#live();
    const sb = await this.#owned(id, "podsandbox");
    if (sb === undefined) return;
    const members = await this.#list("container", [`${L.sandboxId}=${id}`]);
    await Promise.all(members.filter((c) => c.State === "running").map((c) => this.#kill(c.Id)));
    if (sb.State?.Running === true) await this.#kill(id);
  }

  /** SIGKILL and wait for the exit (and the end of the container's log). */
  async #kill(id: string): Promise<void> {
    const c = this.docker.getContainer(id);
    try {
      await c.kill({ signal: "SIGKILL" });
    } catch (err) {
      const code = statusCodeOf(err);
      if (code !== 404 && code !== 409 && code !== 304) throw this.#fail(err, `kill ${id}`);
    }
    await bounded(c.wait({ condition: "not-running" }).catch(() => undefined), 10_000);
    await this.#logsDone(id);
  }

  async removePodSandbox(id: string): Promise<void> {
    this.#live();
    const sb = await this.#owned(id, "podsandbox");
    if (sb === undefined) return;
    await this.stopPodSandbox(id);
    const members = await this.#list("container", [`${L.sandboxId}=${id}`]);
    await Promise.all(members.map((c) => this.#remove(c.Id)));
    await this.#remove(id);
  }

  async #remove(id: string): Promise<void> {
    this.#pumps.get(id)?.stop();
    this.#pumps.delete(id);
    try {
      await this.docker.getContainer(id).remove({ force: true, v: true });
    } catch (err) {
      const code = statusCodeOf(err);
      // 404: gone already; 409: removal already in progress.
      if (code !== 404 && code !== 409) throw this.#fail(err, `remove ${id}`);
    }
  }

  async podSandboxStatus(id: string): Promise<PodSandboxStatus> {
    this.#live();
    const c = await this.#owned(id, "podsandbox");
    if (c === undefined) throw runtimeErrors.sandboxNotFound(id);
    const labels = c.Config?.Labels ?? {};
    const info = sandboxInfoOf(labels);
    const ready = c.State?.Running === true;
    const ns = c.NetworkSettings;
    const ip = ns?.IPAddress || Object.values(ns?.Networks ?? {}).map((n) => n.IPAddress ?? "").find((x) => x !== "") || "";
    return {
      id,
      metadata: podMetadataOf(labels),
      state: ready ? "READY" : "NOTREADY",
      createdAt: createdMsOf(labels, dockerTimeMs(c.Created) ?? 0),
      labels: userLabels(labels),
      annotations: userAnnotations(labels),
      ...(ready && ip !== "" ? { network: { ip } } : {}),
      hostname: info.hostname,
      ...(info.logDirectory !== undefined ? { logDirectory: info.logDirectory } : {}),
    };
  }

  async listPodSandboxes(filter?: PodSandboxFilter): Promise<PodSandbox[]> {
    this.#live();
    return (await this.#listSelected("podsandbox", [], filter?.labelSelector, filter?.id)).map((s) => this.#sandboxView(s)).filter((s) => matchesSandboxFilter(s, filter));
  }

  // --- containers ------------------------------------------------------------------------------

  #containerView(s: DockerContainerSummary): Container {
    const labels = s.Labels ?? {};
    return {
      id: s.Id,
      podSandboxId: labels[L.sandboxId] ?? "",
      metadata: containerMetadataOf(labels),
      image: { image: containerInfoOf(labels).image },
      imageRef: s.ImageID ?? "",
      state: criStateOfSummary(s.State),
      createdAt: createdMsOf(labels, (s.Created ?? 0) * 1000),
      labels: userLabels(labels),
      annotations: userAnnotations(labels),
    };
  }

  async createContainer(podSandboxId: string, config: ContainerConfig, sandboxConfig: PodSandboxConfig): Promise<string> {
    this.#live();
    validateContainerConfig(config, sandboxConfig);
    const normalized = isImageId(config.image.image) ? config.image.image : normalizeImage(config.image.image);
    const sb = await this.#owned(podSandboxId, "podsandbox");
    if (sb === undefined) throw runtimeErrors.sandboxNotFound(podSandboxId);
    if (sb.State?.Running !== true) throw new RuntimeError("FailedPrecondition", `pod sandbox "${podSandboxId}" is not ready`);
    const img = await this.#inspectImage(normalized);
    if (img === undefined) throw runtimeErrors.imageNotFound(config.image.image);
    const { name, attempt } = config.metadata;
    const siblings = await this.#list("container", [`${L.sandboxId}=${podSandboxId}`, `${L.containerName}=${name}`]);
    if (siblings.some((s) => containerMetadataOf(s.Labels ?? {}).attempt === attempt)) {
      throw new RuntimeError("AlreadyExists", `container "${name}" attempt ${attempt} already exists in pod sandbox "${podSandboxId}"`);
    }
    const pod = podMetadataOf(sb.Config?.Labels ?? {});
    const logPath = config.logPath !== undefined && sandboxConfig.logDirectory !== undefined ? join(sandboxConfig.logDirectory, config.logPath) : undefined;
    const labels = containerLabels(
      this.scope,
      podSandboxId,
      pod,
      config,
      {
        image: config.image.image,
        ...(logPath !== undefined ? { logPath } : {}),
        mounts: config.mounts ?? [],
        ...(config.resources !== undefined ? { resources: config.resources } : {}),
        tty: config.tty === true,
      },
      Date.now(),
    );
    const body = containerCreateBody(podSandboxId, config, {
      image: img.Id,
      imageUser: img.Config?.User ?? "",
      labels,
      log: this.#log,
      ...(sandboxConfig.cgroupParent !== undefined ? { cgroupParent: sandboxConfig.cgroupParent } : {}),
    });
    const dockerName = containerName(pod, name, attempt, podSandboxId);
    let id: string;
    try {
      id = (await this.docker.createContainer({ ...body, name: dockerName })).id;
    } catch (err) {
      throw this.#fail(err, `create container "${name}"`, "AlreadyExists");
    }
    // With docker-init as PID 1 a missing program is only an exit 127 after a successful start.
    // Kubernetes reports it as a start failure: recreate without init, so Docker's start itself
    // fails with the runtime's "executable file not found" (ContainerCannotRun, 128).
    const mountTargets = (config.mounts ?? []).map((mt) => mt.containerPath);
    const probeKey = programProbeKey(img.Id, body, mountTargets);
    if (!this.#programFound.has(probeKey) && (await this.#missingProgram(id, probeKey, mountTargets)) !== undefined) {
      await this.#remove(id);
      try {
        id = (await this.docker.createContainer({ ...body, HostConfig: { ...body.HostConfig, Init: false }, name: dockerName })).id;
      } catch (err) {
        throw this.#fail(err, `create container "${name}"`, "AlreadyExists");
      }
    }
    return id;
  }

  /**
   * The container's program when it is absent from its filesystem (PATH lookup like the OCI
   * runtime's); undefined when found or unknown. A program found in the image itself (not under a
   * mount) is remembered under `probeKey`: the same image, command, PATH and mount targets find it again.
   */
  async #missingProgram(id: string, probeKey: string, mountTargets: readonly string[]): Promise<string | undefined> {
    const dc = this.docker.getContainer(id);
    let c: DockerContainerInspect;
    try {
      c = await dc.inspect();
    } catch {
      return undefined;
    }
    const prog = c.Path ?? "";
    if (prog === "") return undefined;
    let candidates: string[];
    if (prog.includes("/")) {
      candidates = [prog.startsWith("/") ? prog : join(c.Config?.WorkingDir || "/", prog)];
    } else {
      const pathVar = (c.Config?.Env ?? []).find((e) => e.startsWith("PATH="))?.slice(5) ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
      candidates = pathVar.split(":").filter((d) => d.startsWith("/")).map((d) => join(d, prog));
    }
    for (const path of candidates.slice(0, 16)) {
      try {
        const res = await dc.infoArchive({ path });
        res.resume();
        if (!mountTargets.some((t) => path === t || path.startsWith(t.endsWith("/") ? t : `${t}/`))) {
          if (this.#programFound.size >= PROGRAM_CACHE_MAX) this.#programFound.clear();
          this.#programFound.add(probeKey);
        }
        return undefined;
      } catch (err) {
        if (statusCodeOf(err) !== 404) return undefined; // cannot tell: leave it to the start
      }
    }
    return prog;
  }

  async startContainer(id: string): Promise<void> {
    this.#live();
    const c = await this.#owned(id, "container");
    if (c === undefined) throw runtimeErrors.containerNotFound(id);
    const state = criState(c.State);
    if (state !== "CREATED") throw new RuntimeError("FailedPrecondition", `container "${id}" is ${state}, not CREATED`);
    try {
      await this.docker.getContainer(id).start();
    } catch (err) {
      throw new RuntimeError("FailedPrecondition", `start container "${id}": ${dockerMessage(err)}`, { cause: err });
    }
    const info = containerInfoOf(c.Config?.Labels ?? {});
    if (info.logPath !== undefined) await this.#startPump(id, info.logPath, info.tty, undefined);
  }

  async #startPump(id: string, logPath: string, tty: boolean, resume: ReturnType<typeof readResumePoint>): Promise<void> {
    if (this.#pumps.has(id)) return;
    let stream: Readable;
    try {
      stream = await this.docker.getContainer(id).logs({
        follow: true,
        stdout: true,
        stderr: true,
        timestamps: true,
        ...(resume !== undefined ? { since: sinceOf(resume) } : {}),
      });
    } catch {
      return; // removed meanwhile: nothing to log
    }
    if (this.#closed) {
      stream.destroy();
      return;
    }
    const pump = new LogPump(stream, new CriSink(logPath, this.#rotation, resume), tty);
    this.#pumps.set(id, pump);
    void pump.done.then(() => {
      if (this.#pumps.get(id) === pump) this.#pumps.delete(id);
    });
  }

  /** Waits (bounded) until the container's log pump has written everything Docker has. */
  async #logsDone(id: string): Promise<void> {
    const p = this.#pumps.get(id);
    if (p !== undefined) await bounded(p.done, 3000);
  }

  /** Restarts the log pumps after an agent restart: running containers, and exited ones whose log file exists. */
  async resumeLogs(): Promise<void> {
    const all = await this.#list("container");
    await Promise.all(
      all.map(async (s) => {
        const info = containerInfoOf(s.Labels ?? {});
        if (info.logPath === undefined) return;
        const state = criStateOfSummary(s.State);
        if (state === "RUNNING" || (state === "EXITED" && existsSync(info.logPath))) {
          await this.#startPump(s.Id, info.logPath, info.tty, readResumePoint(info.logPath));
        }
      }),
    );
  }

  async stopContainer(id: string, timeoutSeconds: number): Promise<void> {
    this.#live();
    validateStopTimeout(timeoutSeconds);
    const c = await this.#owned(id, "container");
    if (c === undefined) throw runtimeErrors.containerNotFound(id);
    if (criState(c.State) !== "RUNNING") return;
    const dc = this.docker.getContainer(id);
    try {
      await dc.stop({ t: Math.ceil(timeoutSeconds) });
    } catch (err) {
      const code = statusCodeOf(err);
      if (code !== 304 && code !== 404) throw this.#fail(err, `stop container "${id}"`);
    }
    await bounded(dc.wait({ condition: "not-running" }).catch(() => undefined), 5000);
    await this.#logsDone(id);
  }

  async removeContainer(id: string): Promise<void> {
    this.#live();
    if ((await this.#owned(id, "container")) === undefined) return;
    await this.#remove(id);
  }

  async containerStatus(id: string): Promise<ContainerStatus> {
    this.#live();
    let c = await this.#owned(id, "container");
    if (c === undefined) throw runtimeErrors.containerNotFound(id);
    let state = criState(c.State);
    if (state === "EXITED" && this.#pumps.has(id)) {
      // EXITED is reported once the log has everything the container wrote.
      await this.#logsDone(id);
      c = (await this.#owned(id, "container")) ?? c;
      state = criState(c.State);
    }
    const labels = c.Config?.Labels ?? {};
    const info = containerInfoOf(labels);
    const s = c.State ?? {};
    const started = dockerTimeMs(s.StartedAt);
    const finished = dockerTimeMs(s.FinishedAt);
    const exit = state === "EXITED" ? exitInfo(s) : undefined;
    return {
      id,
      podSandboxId: labels[L.sandboxId] ?? "",
      metadata: containerMetadataOf(labels),
      image: { image: info.image },
      imageRef: c.Image ?? "",
      state,
      createdAt: createdMsOf(labels, dockerTimeMs(c.Created) ?? 0),
      labels: userLabels(labels),
      annotations: userAnnotations(labels),
      ...(started !== undefined && state !== "CREATED" ? { startedAt: started } : {}),
      // Docker stamps StartedAt and FinishedAt from different events; for a container exiting at
      // once FinishedAt can come out a millisecond before StartedAt. An exit is never before its start.
      ...(state === "EXITED" ? { finishedAt: Math.max(finished ?? started ?? Date.now(), started ?? -Infinity) } : {}),
      ...(exit !== undefined ? { exitCode: exit.exitCode, reason: exit.reason } : {}),
      ...(exit?.message !== undefined ? { message: exit.message } : {}),
      ...(info.logPath !== undefined ? { logPath: info.logPath } : {}),
      mounts: info.mounts,
      ...(info.resources !== undefined ? { resources: info.resources } : {}),
    };
  }

  async listContainers(filter?: ContainerFilter): Promise<Container[]> {
    this.#live();
    const extra = filter?.podSandboxId !== undefined ? [`${L.sandboxId}=${filter.podSandboxId}`] : [];
    const views = await Promise.all(
      (await this.#listSelected("container", extra, filter?.labelSelector, filter?.id)).map(async (s) => {
        const v = this.#containerView(s);
        if (v.state !== "CREATED") return v;
        // A failed start leaves Docker at "created" with an error, which only inspect shows: EXITED.
        const c = await this.docker.getContainer(s.Id).inspect().catch(() => undefined);
        return c === undefined ? v : { ...v, state: criState(c.State) };
      }),
    );
    return views.filter((c) => matchesContainerFilter(c, filter));
  }

  // --- images ----------------------------------------------------------------------------------

  /** The image by normalized name or id; undefined when absent. */
  async #inspectImage(ref: string): Promise<DockerImageInspect | undefined> {
    try {
      return await this.docker.getImage(ref).inspect();
    } catch (err) {
      if (statusCodeOf(err) === 404) return undefined;
      throw this.#fail(err, `inspect image ${ref}`);
    }
  }

  #imageView(i: { Id: string; RepoTags?: string[] | null; RepoDigests?: string[] | null; Size?: number }): Image {
    const tags: string[] = [];
    for (const t of i.RepoTags ?? []) {
      if (t === "<none>:<none>") continue;
      try {
        tags.push(normalizeImage(t));
      } catch {
        tags.push(t);
      }
    }
    return { id: i.Id, repoTags: tags, repoDigests: (i.RepoDigests ?? []).filter((d) => d !== "<none>@<none>"), size: i.Size ?? 0 };
  }

  async #pull(ref: string, auth: AuthConfig | undefined): Promise<void> {
    const authconfig: Record<string, string> = {};
    if (auth !== undefined) {
      for (const [k, v] of Object.entries(auth)) if (typeof v === "string") authconfig[k] = v;
    }
    const stream = await this.docker.pull(ref, Object.keys(authconfig).length > 0 ? { authconfig } : {});
    await new Promise<void>((resolve, reject) => {
      this.docker.modem.followProgress(stream, (err, output) => {
        if (err) return reject(err);
        // Errors can also arrive inside the progress stream as {"error": "..."}.
        for (const o of output) {
          if (o !== null && typeof o === "object" && typeof (o as { error?: unknown }).error === "string") {
            return reject(new Error((o as { error: string }).error));
          }
        }
        resolve();
      });
    });
  }

  async pullImage(image: ImageSpec, auth?: AuthConfig): Promise<string> {
    this.#live();
    const ref = isImageId(image.image) ? image.image : normalizeImage(image.image);
    const present = await this.#inspectImage(ref);
    if (present !== undefined) return present.Id;
    if (isImageId(ref)) throw new RuntimeError("ErrImagePull", `image "${ref}" is not present and an image id cannot be pulled`);
    try {
      await this.#pull(ref, auth);
    } catch (err) {
      if (this.#closed) throw runtimeErrors.closed(DOCKER_RUNTIME_NAME);
      throw new RuntimeError("ErrImagePull", `failed to pull image "${image.image}": ${dockerMessage(err)}`, { cause: err });
    }
    const pulled = await this.#inspectImage(ref);
    if (pulled === undefined) throw new RuntimeError("ErrImagePull", `image "${image.image}" is not present after the pull`);
    return pulled.Id;
  }

  async imageStatus(image: ImageSpec): Promise<Image | undefined> {
    this.#live();
    const ref = isImageId(image.image) ? image.image : normalizeImage(image.image);
    const i = await this.#inspectImage(ref);
    return i === undefined ? undefined : this.#imageView(i);
  }

  async listImages(): Promise<Image[]> {
    this.#live();
    try {
      return (await this.docker.listImages()).map((i) => this.#imageView(i));
    } catch (err) {
      throw this.#fail(err, "list images");
    }
  }

  /**
   * By name: removes that name (Docker deletes the image with its last name). By id: deletes the
   * image with all its names. Refused while any container (of any scope) uses the image.
   */
  async removeImage(image: ImageSpec): Promise<void> {
    this.#live();
    const byId = isImageId(image.image);
    const ref = byId ? image.image : normalizeImage(image.image);
    const img = await this.#inspectImage(ref);
    if (img === undefined) return;
    let users: DockerContainerSummary[];
    try {
      users = (await this.docker.listContainers({ all: true })).filter((c) => c.ImageID === img.Id);
    } catch (err) {
      throw this.#fail(err, "list containers");
    }
    if (users.length > 0) {
      throw new RuntimeError("FailedPrecondition", `image "${image.image}" is in use by ${users.length} container(s), e.g. ${users[0]!.Id.slice(0, 12)}`);
    }
    try {
      await this.docker.getImage(byId ? img.Id : ref).remove(byId ? { force: true } : {});
    } catch (err) {
      if (statusCodeOf(err) === 404) return;
      throw this.#fail(err, `remove image "${image.image}"`);
    }
  }

  // --- stats (stats.ts) -------------------------------------------------------------------------

  async containerStats(id: string): Promise<ContainerStats> {
    const st = await this.containerStatus(id);
    return dockerContainerStats(this.docker, st).catch((err: unknown) => {
      throw this.#fail(err, `stats of container "${id}"`);
    });
  }

  async listContainerStats(filter?: ContainerFilter): Promise<ContainerStats[]> {
    const running = (await this.listContainers(filter)).filter((c) => c.state === "RUNNING");
    const all = await mapLimited(running, 8, (c) => this.containerStats(c.id).catch(() => undefined)); // gone meanwhile: left out
    return all.filter((x): x is ContainerStats => x !== undefined);
  }

  // --- streaming -------------------------------------------------------------------------------

  async #running(id: string, what: string): Promise<DockerContainerInspect> {
    const c = await this.#owned(id, "container");
    if (c === undefined) throw runtimeErrors.containerNotFound(id);
    const state = criState(c.State);
    if (state !== "RUNNING") throw new RuntimeError("FailedPrecondition", `cannot ${what} container "${id}": it is ${state}`);
    return c;
  }

  async exec(containerId: string, cmd: readonly string[], io: StreamIO): Promise<StreamSession> {
    this.#live();
    if (cmd.length === 0 || cmd.some((a) => typeof a !== "string")) throw new RuntimeError("InvalidArgument", "exec needs a non-empty command of strings");
    await this.#running(containerId, "exec in");
    try {
      return await startExec(this.docker.getContainer(containerId), cmd, io);
    } catch (err) {
      throw this.#fail(err, `exec in container "${containerId}"`);
    }
  }

  async attach(containerId: string, io: StreamIO): Promise<StreamSession> {
    this.#live();
    const c = await this.#running(containerId, "attach to");
    try {
      return await startAttach(this.docker.getContainer(containerId), io, {
        containerTty: c.Config?.Tty === true,
        containerStdin: c.Config?.OpenStdin === true,
      });
    } catch (err) {
      throw this.#fail(err, `attach to container "${containerId}"`);
    }
  }

  async portForward(podSandboxId: string, port: number): Promise<ByteDuplex> {
    this.#live();
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RuntimeError("InvalidArgument", `port must be 1-65535, got ${port}`);
    const sb = await this.#owned(podSandboxId, "podsandbox");
    if (sb === undefined) throw runtimeErrors.sandboxNotFound(podSandboxId);
    const pid = sb.State?.Pid ?? 0;
    if (sb.State?.Running !== true || pid <= 0) throw new RuntimeError("FailedPrecondition", `pod sandbox "${podSandboxId}" is not ready`);
    return portForwardNsenter(pid, port, this.#pf);
  }

  // --- events ----------------------------------------------------------------------------------

  events(): AsyncIterable<ContainerEvent> {
    const sub = this.#events.subscribe();
    if (!this.#closed && this.#eventStream === undefined) void this.#startEventStream(Date.now());
    return sub;
  }

  /** One Docker event stream per client, from `sinceMs` (Docker replays what happened since, so nothing between subscribe and connect is lost). */
  async #startEventStream(sinceMs: number): Promise<void> {
    const filters = JSON.stringify({ type: ["container"], event: Object.keys(EVENT_TYPES), label: scopeFilter(this.scope, "container").label });
    let stream: Readable;
    try {
      stream = await this.docker.getEvents({ since: (sinceMs / 1000).toFixed(3), filters });
    } catch {
      // The daemon is unreachable: end the subscriptions so consumers relist and subscribe again.
      this.#resetEvents();
      return;
    }
    if (this.#closed) {
      stream.destroy();
      return;
    }
    this.#eventStream = stream;
    let rest = "";
    stream.on("data", (chunk: Buffer) => {
      rest += chunk.toString("utf8");
      let nl: number;
      while ((nl = rest.indexOf("\n")) >= 0) {
        const line = rest.slice(0, nl);
        rest = rest.slice(nl + 1);
        const e = parseDockerEvent(line);
        if (e !== undefined) this.#events.publish(e);
      }
    });
    const ended = (): void => {
      if (this.#eventStream === stream) this.#resetEvents();
    };
    stream.on("end", ended);
    stream.on("close", ended);
    stream.on("error", ended);
  }

  #resetEvents(): void {
    this.#eventStream = undefined;
    this.#events.close();
    if (!this.#closed) this.#events = new EventBroadcaster<ContainerEvent>();
  }
}

/**
 * What decides where the program of an app container is looked up: the image (by id), the command
 * and args, the working directory, PATH set by the config (the image's is covered by its id) and
 * the mount targets (a mount can hide or supply a program).
 */
export function programProbeKey(imageId: string, body: { Entrypoint?: readonly string[]; Cmd?: readonly string[]; WorkingDir?: string; Env?: readonly string[] }, mountTargets: readonly string[]): string {
  const path = (body.Env ?? []).filter((e) => e.startsWith("PATH="));
  return JSON.stringify([imageId, body.Entrypoint ?? null, body.Cmd ?? null, body.WorkingDir ?? "", path, [...mountTargets].sort()]);
}

/** A Docker event JSON line as a container event (undefined for other events and garbage). */
export function parseDockerEvent(line: string): ContainerEvent | undefined {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (v === null || typeof v !== "object") return undefined;
  const o = v as { Type?: unknown; Action?: unknown; id?: unknown; timeNano?: unknown; time?: unknown; Actor?: { Attributes?: Record<string, unknown> } };
  if (o.Type !== "container" || typeof o.Action !== "string" || typeof o.id !== "string") return undefined;
  const type = EVENT_TYPES[o.Action];
  if (type === undefined) return undefined;
  const attrs = o.Actor?.Attributes ?? {};
  const str = (k: string): string => (typeof attrs[k] === "string" ? (attrs[k] as string) : "");
  const createdAt = typeof o.timeNano === "number" ? o.timeNano / 1e6 : typeof o.time === "number" ? o.time * 1000 : Date.now();
  return { type, containerId: o.id, podSandboxId: str(L.sandboxId), podUid: str(L.podUid), createdAt };
}

