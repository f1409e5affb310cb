/**
 * Pod workers: one serialized worker per pod (syncs of one pod never overlap; different pods sync
 * concurrently). A sync reads the pod's runtime state (sandboxes and containers are linked to the
 * pod by the `io.kubernetes.pod.uid` label, so a restarted agent finds what it started before),
 * moves it one step towards the spec — sandbox, init containers in order, app containers,
 * restarts per restartPolicy with CrashLoopBackOff, probe-driven restarts — and hands the
 * resulting status to the status manager. Deleted pods are stopped with their grace period, their
 * final status is written, and the pod is deleted for good (gracePeriodSeconds=0).
 *
 * Triggers: informer events (new pod, spec or deletion change), runtime container events,
 * backoff expiry and probe result changes (tasks on the shared timer queue).
 */
import { ApiError } from "../api/errors.ts";
import { Backoff } from "./backoff.ts";
import { generatePodStatus, type ContainerHistory, type ObservedContainer, type WaitingReason } from "./podstatus.ts";
import type { Prober } from "./probes.ts";
import { isRuntimeError } from "./runtime/errors.ts";
import type { ScheduledTask, TimerQueue } from "./runtime/timers.ts";
import type { ContainerConfig, PodSandbox, PodSandboxConfig, RuntimeService } from "./runtime/types.ts";
import type { StatusManager } from "./status-manager.ts";
import { EnvError, expandArgs, makeEnvironment, type EnvResult } from "./env/env.ts";
import type { NodeAllocatable } from "./env/fieldpath.ts";
import { MapObjectSource, type ObjectSource } from "./env/objects.ts";
import { noEvents, type PodEventSink } from "./events/recorder.ts";
import { activeDeadlineAt, DEADLINE_MESSAGE, DEADLINE_REASON, runHook, runPreStop } from "./lifecycle/hooks.ts";
import { podResourcesOf, resourcesOf } from "./env/resources.ts";
import type { VolumeManager } from "./volumes/manager.ts";
import {
  ANNOTATION_INIT, ANNOTATION_RESTART_COUNT, LABEL_CONTAINER_NAME, LABEL_POD_NAME, LABEL_POD_NAMESPACE, LABEL_POD_UID,
  podDesc, type ContainerSpec, type PodObject,
} from "./types.ts";

export interface PodWorkersOptions {
  readonly runtime: RuntimeService;
  /** `<name>://` prefix of container ids in statuses (changeable later through `runtimeName`). */
  readonly runtimeName: string;
  readonly timers: TimerQueue;
  readonly status: StatusManager;
  readonly prober: Prober;
  /** CrashLoopBackOff (default 10 s doubling to 5 min). */
  readonly backoff?: Backoff;
  /** Image pull backoff (default 10 s doubling to 5 min). */
  readonly pullBackoff?: Backoff;
  readonly hostIPs: () => readonly string[];
  /** The final delete (gracePeriodSeconds=0, uid precondition); a 404 or 409 means it is gone already. */
  readonly deletePod: (namespace: string, name: string, uid: string) => Promise<void>;
  /** Root of pod log directories (`<root>/<ns>_<name>_<uid>/<container>/<attempt>.log`); absent: no logs. */
  readonly logRoot?: string;
  readonly onError?: (err: unknown, pod: string) => void;
  /** ConfigMaps, Secrets and Services for env and volumes (default: none exist). */
  readonly objects?: ObjectSource;
  /** Registers what a pod references before its sync reads it (waits until it is cached). */
  readonly trackObjects?: (pod: PodObject) => Promise<void>;
  /** The pod is gone: what it referenced may be forgotten. */
  readonly releaseObjects?: (uid: string) => void;
  /** Prepares volumes (absent: pods with volumes get no mounts). */
  readonly volumes?: VolumeManager;
  /** Events about pods (default: discarded). */
  readonly events?: PodEventSink;
  /** Node allocatable: what unset limits mean for resourceFieldRef. */
  readonly nodeAllocatable?: () => NodeAllocatable;
  /** The runtime has a pod network (httpGet hooks are sent; false: they count as delivered). */
  readonly podNetwork?: () => boolean;
  /** Upper bound of a postStart hook's run (default 2 min). */
  readonly postStartTimeoutMs?: number;
}

const DEFAULT_ALLOCATABLE: NodeAllocatable = { cpuMillis: 4000, memoryBytes: 8 * 2 ** 30, ephemeralStorageBytes: 100 * 2 ** 30 };

interface PodRecord {
  readonly uid: string;
  pod: PodObject;
  /** Gone from the API (DELETED event). */
  deleted: boolean;
  running: Promise<void> | undefined;
  dirty: boolean;
  wake: ScheduledTask | undefined;
  waiting: Map<string, WaitingReason>;
  /** Finished for good (Succeeded/Failed): containers are not restarted any more. */
  terminal: boolean;
  removed: boolean;
  /** activeDeadlineSeconds passed: the pod is being failed with DeadlineExceeded. */
  deadline: boolean;
  /** When this agent first synced the pod (fallback start time for the deadline). */
  firstSeen: number;
  /** Pod IPs of the current sandbox (for env and hooks). */
  podIPs: string[];
  /** Volume names whose FailedMount was recorded for the current failure text. */
  mountFailures: Map<string, string>;
}

/** The runtime state of one pod. */
interface Observed {
  sandboxes: PodSandbox[];
  ready: PodSandbox | undefined;
  podIPs: string[];
  history: Map<string, ContainerHistory>;
  all: ObservedContainer[];
  names: Map<string, string>;
}

const ACTIVE = new Set(["RUNNING", "CREATED", "UNKNOWN"]);

export class PodWorkers {
  readonly #pods = new Map<string, PodRecord>();
  readonly #backoff: Backoff;
  readonly #pullBackoff: Backoff;
  #stopped = false;
  readonly stats = { syncs: 0, errors: 0, started: 0, killed: 0 };
  /** `<runtimeName>://<id>` is how container ids appear in statuses. */
  runtimeName: string;

  constructor(private readonly o: PodWorkersOptions) {
    this.runtimeName = o.runtimeName;
    this.#backoff = o.backoff ?? new Backoff();
    this.#pullBackoff = o.pullBackoff ?? new Backoff();
  }

  get size(): number {
    return this.#pods.size;
  }

  /** The pod object of a known uid (events about it). */
  pod(uid: string): PodObject | undefined {
    return this.#pods.get(uid)?.pod;
  }

  /** Known pod uids. */
  uids(): string[] {
    return [...this.#pods.keys()];
  }

  /** A pod was added or changed in the API. Syncs when it is new or its spec or deletion changed. */
  update(pod: PodObject): void {
    const uid = pod.metadata?.uid ?? "";
    if (uid === "") return;
    const rec = this.#pods.get(uid);
    if (rec === undefined) {
      this.#pods.set(uid, {
        uid, pod, deleted: false, running: undefined, dirty: false, wake: undefined, waiting: new Map(), terminal: false, removed: false,
        deadline: false, firstSeen: this.o.timers.clock.now(), podIPs: [], mountFailures: new Map(),
      });
      this.sync(uid);
      return;
    }
    const old = rec.pod;
    rec.pod = pod;
    if (old.metadata?.generation !== pod.metadata?.generation || old.metadata?.deletionTimestamp !== pod.metadata?.deletionTimestamp ||
        old.metadata?.deletionGracePeriodSeconds !== pod.metadata?.deletionGracePeriodSeconds ||
        // downwardAPI volumes show labels and annotations
        JSON.stringify([old.metadata?.labels, old.metadata?.annotations]) !== JSON.stringify([pod.metadata?.labels, pod.metadata?.annotations])) {
      this.sync(uid);
    }
  }

  /** The pod is gone from the API: stop what is left of it. */
  remove(pod: PodObject): void {
    const uid = pod.metadata?.uid ?? "";
    const rec = this.#pods.get(uid);
    if (rec === undefined) return;
    rec.pod = pod;
    rec.deleted = true;
    this.sync(uid);
  }

  /** Queues a sync of the pod (coalesced while one runs). Unknown uids are ignored. */
  sync(uid: string): void {
    const rec = this.#pods.get(uid);
    if (rec === undefined || rec.removed || this.#stopped) return;
    if (rec.running !== undefined) {
      rec.dirty = true;
      return;
    }
    rec.running = this.#loop(rec);
  }

  /** Resolves when no pod sync is running (tests). */
  async idle(): Promise<void> {
    for (let i = 0; i < 1000; i++) {
      const busy = [...this.#pods.values()].map((r) => r.running).filter((p) => p !== undefined);
      if (busy.length === 0) return;
      await Promise.all(busy);
    }
  }

  /** Stops scheduling syncs (running ones finish); containers keep running. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const r of this.#pods.values()) r.wake?.cancel();
    await this.idle();
  }

  /**
   * Stops and removes runtime sandboxes whose pod is not known (after the first informer sync):
   * pods deleted while the agent was down.
   */
  async cleanupOrphans(): Promise<number> {
    const sandboxes = await this.o.runtime.listPodSandboxes();
    let n = 0;
    for (const s of sandboxes) {
      const uid = s.labels[LABEL_POD_UID] ?? s.metadata.uid;
      if (this.#pods.has(uid)) continue;
      n++;
      await this.#killSandboxContainers(s.id, 0);
      await this.o.runtime.removePodSandbox(s.id);
    }
    this.o.volumes?.cleanupOrphans(new Set(this.#pods.keys()));
    return n;
  }

  async #loop(rec: PodRecord): Promise<void> {
    try {
      for (let i = 0; i < 1000; i++) {
        rec.dirty = false;
        try {
          this.stats.syncs++;
          await this.#syncPod(rec);
        } catch (err) {
          this.stats.errors++;
          this.o.onError?.(err, podDesc(rec.pod));
          this.#wakeAt(rec, this.o.timers.clock.now() + 1000);
        }
        if (!rec.dirty || rec.removed || this.#stopped) break;
      }
    } finally {
      rec.running = undefined;
    }
  }

  #wakeAt(rec: PodRecord, at: number): void {
    if (rec.wake !== undefined && rec.wake.at <= at) return;
    rec.wake?.cancel();
    rec.wake = this.o.timers.scheduleAt(at, () => {
      rec.wake = undefined;
      this.sync(rec.uid);
    });
  }

  async #observe(uid: string): Promise<Observed> {
    const rt = this.o.runtime;
    const sandboxes = (await rt.listPodSandboxes({ labelSelector: { [LABEL_POD_UID]: uid } })).sort((a, b) => b.metadata.attempt - a.metadata.attempt);
    const ready = sandboxes.find((s) => s.state === "READY");
    let podIPs: string[] = [];
    if (ready !== undefined) {
      const st = await rt.podSandboxStatus(ready.id);
      if (st.network) podIPs = [st.network.ip, ...(st.network.additionalIps ?? [])];
    }
    const list = await rt.listContainers({ labelSelector: { [LABEL_POD_UID]: uid } });
    const all: ObservedContainer[] = [];
    const names = new Map<string, string>();
    for (const c of list) {
      try {
        const s = await rt.containerStatus(c.id);
        all.push({
          id: s.id, state: s.state, attempt: s.metadata.attempt, imageRef: s.imageRef,
          ...(s.startedAt !== undefined ? { startedAt: s.startedAt } : {}),
          ...(s.finishedAt !== undefined ? { finishedAt: s.finishedAt } : {}),
          ...(s.exitCode !== undefined ? { exitCode: s.exitCode } : {}),
          ...(s.reason !== undefined ? { reason: s.reason } : {}),
          ...(s.message !== undefined ? { message: s.message } : {}),
        });
        names.set(s.id, s.metadata.name);
      } catch (err) {
        if (!(isRuntimeError(err) && err.code === "NotFound")) throw err; // removed meanwhile
      }
    }
    const history = new Map<string, ContainerHistory>();
    const byName = new Map<string, ObservedContainer[]>();
    for (const c of all) {
      const n = names.get(c.id) ?? "";
      const arr = byName.get(n) ?? [];
      arr.push(c);
      byName.set(n, arr);
    }
    for (const [n, arr] of byName) {
      arr.sort((a, b) => b.attempt - a.attempt);
      const latest = arr[0]!;
      const previous = arr.slice(1).find((c) => c.state === "EXITED");
      history.set(n, previous !== undefined ? { latest, previous } : { latest });
    }
    return { sandboxes, ready, podIPs, history, all, names };
  }

  #sandboxConfig(pod: PodObject, attempt: number): PodSandboxConfig {
    const m = pod.metadata ?? {};
    const name = m.name ?? "", ns = m.namespace ?? "", uid = m.uid ?? "";
    const ports = [...(pod.spec?.containers ?? [])].flatMap((c) => c.ports ?? []).filter((p) => (p.hostPort ?? 0) > 0);
    let podResources: ReturnType<typeof podResourcesOf>;
    try {
      podResources = podResourcesOf(pod);
    } catch {
      podResources = undefined; // a bad quantity fails the container's config, not the sandbox
    }
    return {
      metadata: { name, namespace: ns, uid, attempt },
      hostname: pod.spec?.hostname ?? name,
      ...(this.o.logRoot !== undefined ? { logDirectory: `${this.o.logRoot}/${ns}_${name}_${uid}` } : {}),
      ...(ports.length > 0 ? {
        portMappings: ports.map((p) => ({
          protocol: (p.protocol ?? "TCP") as "TCP" | "UDP" | "SCTP", containerPort: p.containerPort ?? 0, hostPort: p.hostPort ?? 0,
          ...(p.hostIP ? { hostIp: p.hostIP } : {}),
        })),
      } : {}),
      labels: { [LABEL_POD_NAME]: name, [LABEL_POD_NAMESPACE]: ns, [LABEL_POD_UID]: uid },
      annotations: {},
      ...(podResources !== undefined ? { resources: podResources } : {}),
    };
  }

  #containerConfig(pod: PodObject, spec: ContainerSpec, attempt: number, isInit: boolean, env: EnvResult, mounts: ContainerConfig["mounts"]): ContainerConfig {
    const m = pod.metadata ?? {};
    const name = spec.name ?? "";
    const envs = env.envs;
    const command = expandArgs(spec.command, env.vars), args = expandArgs(spec.args, env.vars);
    const resources = resourcesOf(spec);
    return {
      metadata: { name, attempt },
      image: { image: spec.image ?? "" },
      ...(command !== undefined ? { command } : {}),
      ...(args !== undefined ? { args } : {}),
      ...(mounts !== undefined && mounts.length > 0 ? { mounts } : {}),
      ...(resources !== undefined ? { resources } : {}),
      ...(spec.workingDir ? { workingDir: spec.workingDir } : {}),
      ...(envs.length > 0 ? { envs } : {}),
      labels: { [LABEL_POD_NAME]: m.name ?? "", [LABEL_POD_NAMESPACE]: m.namespace ?? "", [LABEL_POD_UID]: m.uid ?? "", [LABEL_CONTAINER_NAME]: name },
      annotations: { [ANNOTATION_RESTART_COUNT]: String(attempt), ...(isInit ? { [ANNOTATION_INIT]: "true" } : {}) },
      ...(this.o.logRoot !== undefined ? { logPath: `${name}/${attempt}.log` } : {}),
      ...(spec.stdin ? { stdin: true } : {}),
      ...(spec.stdinOnce ? { stdinOnce: true } : {}),
      ...(spec.tty ? { tty: true } : {}),
    };
  }

  /** Pulls (with image pull backoff), creates and starts one container. Returns false when it has to wait. */
  async #start(rec: PodRecord, sandboxId: string, sandboxConfig: PodSandboxConfig, spec: ContainerSpec, attempt: number, isInit: boolean): Promise<boolean> {
    const rt = this.o.runtime;
    const name = spec.name ?? "";
    const image = spec.image ?? "";
    const pullKey = `${rec.uid}/${name}/${image}`;
    const now = this.o.timers.clock.now();
    const ev = this.#events;
    const who = { name, init: isInit };
    const present = (spec.imagePullPolicy !== "Always") ? await rt.imageStatus({ image }).catch(() => undefined) : undefined;
    if (present === undefined && spec.imagePullPolicy === "Never" && rt.pullsFromRegistry === true) {
      // Upstream's image manager: no pull, no backoff; the container waits until the image appears.
      // (Runtimes resolving images locally — process, hollow — go on to their local "pull".)
      const msg = `Container image "${image}" is not present with pull policy of Never`;
      if (rec.waiting.get(name)?.reason !== "ErrImageNeverPull") {
        ev.event(rec.pod, "Warning", "ErrImageNeverPull", msg, who);
        ev.event(rec.pod, "Warning", "Failed", "Error: ErrImageNeverPull", who);
      }
      rec.waiting.set(name, { reason: "ErrImageNeverPull", message: msg });
      this.#wakeAt(rec, now + 5000);
      return false;
    }
    if (present === undefined) {
      if (this.#pullBackoff.inBackoffSince(pullKey, this.#pullFailedAt(rec, name), now)) {
        if (rec.waiting.get(name)?.reason !== "ImagePullBackOff") {
          ev.event(rec.pod, "Normal", "BackOff", `Back-off pulling image "${image}"`, who);
          ev.event(rec.pod, "Warning", "Failed", "Error: ImagePullBackOff", who);
        }
        rec.waiting.set(name, { reason: "ImagePullBackOff", message: `Back-off pulling image "${image}"` });
        this.#wakeAt(rec, this.#pullFailedAt(rec, name) + this.#pullBackoff.get(pullKey));
        return false;
      }
      ev.event(rec.pod, "Normal", "Pulling", `Pulling image "${image}"`, who);
      const t0 = Date.now();
      try {
        await rt.pullImage({ image });
        this.#pullBackoff.reset(pullKey);
        const size = (await rt.imageStatus({ image }).catch(() => undefined))?.size ?? 0;
        const took = fmtSeconds(Date.now() - t0);
        ev.event(rec.pod, "Normal", "Pulled", `Successfully pulled image "${image}" in ${took} (${took} including waiting). Image size: ${size} bytes.`, who);
      } catch (err) {
        const msg = err instanceof Error ? err.message : String(err);
        this.#pullBackoff.next(pullKey, now);
        this.#pullFailures.set(`${rec.uid}/${name}`, now);
        rec.waiting.set(name, { reason: "ErrImagePull", message: msg });
        ev.event(rec.pod, "Warning", "Failed", `Failed to pull image "${image}": ${msg}`, who);
        ev.event(rec.pod, "Warning", "Failed", "Error: ErrImagePull", who);
        // Look again soon: the container then shows ImagePullBackOff until the backoff expires.
        this.#wakeAt(rec, now + Math.min(1000, this.#pullBackoff.get(pullKey) / 2));
        return false;
      }
    } else {
      ev.event(rec.pod, "Normal", "Pulled", `Container image "${image}" already present on machine`, who);
    }
    // The container's config: environment (ConfigMaps, Secrets, downward API, services) and mounts.
    let config: ContainerConfig;
    try {
      const env = makeEnvironment({
        pod: rec.pod, container: spec, objects: this.#objects,
        facts: { podIPs: rec.podIPs, hostIPs: this.o.hostIPs() }, node: this.#allocatable(),
      });
      for (const w of env.warnings) ev.event(rec.pod, "Warning", w.reason, w.message);
      const mounts = this.o.volumes !== undefined && (spec.volumeMounts ?? []).length > 0 ? this.o.volumes.mounts(rec.pod, spec, env.vars) : undefined;
      config = this.#containerConfig(rec.pod, spec, attempt, isInit, env, mounts);
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      if (rec.waiting.get(name)?.message !== msg) ev.event(rec.pod, "Warning", "Failed", `Error: ${msg}`, who);
      rec.waiting.set(name, { reason: "CreateContainerConfigError", message: msg });
      if (!(err instanceof EnvError) && !(err instanceof Error)) throw err;
      // Object changes resync the pod; the timer covers everything else.
      this.#wakeAt(rec, now + 5000);
      return false;
    }
    let id: string;
    try {
      id = await rt.createContainer(sandboxId, config, sandboxConfig);
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      ev.event(rec.pod, "Warning", "Failed", `Error: ${msg}`, who);
      rec.waiting.set(name, { reason: "CreateContainerError", message: msg });
      this.#wakeAt(rec, now + 1000);
      return false;
    }
    rec.waiting.delete(name);
    this.stats.started++;
    ev.event(rec.pod, "Normal", "Created", `Created container: ${name}`, who);
    try {
      await rt.startContainer(id);
    } catch (err) {
      // The container is EXITED (ContainerCannotRun); the next sync restarts it with backoff. Until
      // then it waits with upstream's RunContainerError and the runtime's message.
      if (!(isRuntimeError(err) && err.code === "FailedPrecondition")) throw err;
      ev.event(rec.pod, "Warning", "Failed", `Error: ${err.message}`, who);
      rec.waiting.set(name, { reason: "RunContainerError", message: err.message });
      return true;
    }
    ev.event(rec.pod, "Normal", "Started", `Started container ${name}`, who);
    const postStart = spec.lifecycle?.postStart;
    if (postStart !== undefined) {
      const r = await runHook(postStart, {
        runtime: rt, clock: this.o.timers.clock, pod: rec.pod, container: spec, containerId: id, podIP: rec.podIPs[0],
        timeoutMs: this.o.postStartTimeoutMs ?? 120_000, network: this.o.podNetwork?.() ?? false,
      });
      if (!r.ok) {
        // As the kubelet: the hook's output stays out of the event (it may hold secrets).
        ev.event(rec.pod, "Warning", "FailedPostStartHook", "PostStartHook failed", who);
        this.o.onError?.(new Error(r.message), podDesc(rec.pod));
        await this.#stopOne(rec, spec, id, this.#podGrace(rec.pod), "FailedPostStartHook");
      }
    }
    return true;
  }

  get #events(): PodEventSink {
    return this.o.events ?? noEvents;
  }

  get #objects(): ObjectSource {
    return this.o.objects ?? EMPTY_OBJECTS;
  }

  #allocatable(): NodeAllocatable {
    return this.o.nodeAllocatable?.() ?? DEFAULT_ALLOCATABLE;
  }

  /** The pod's termination grace period (spec, else 30 s). */
  #podGrace(pod: PodObject): number {
    return Math.max(0, pod.spec?.terminationGracePeriodSeconds ?? 30);
  }

  /**
   * Stops one running container as the kubelet kills containers: `Killing` event (`message`, else
   * `Stopping container <name>`), preStop hook within the grace period, then the stop signal with
   * what is left of it.
   */
  async #stopOne(rec: PodRecord, spec: ContainerSpec | undefined, id: string, graceSeconds: number, message?: string): Promise<void> {
    const name = spec?.name ?? "";
    const isInit = (rec.pod.spec?.initContainers ?? []).some((c) => c.name === name);
    this.#events.event(rec.pod, "Normal", "Killing", message ?? `Stopping container ${name}`, { name, init: isInit });
    let grace = graceSeconds;
    if (spec?.lifecycle?.preStop !== undefined) {
      const r = await runPreStop({
        runtime: this.o.runtime, clock: this.o.timers.clock, pod: rec.pod, container: spec, containerId: id,
        podIP: rec.podIPs[0], network: this.o.podNetwork?.() ?? false,
      }, graceSeconds);
      grace = r.graceSeconds;
      if (r.failure !== undefined) {
        this.#events.event(rec.pod, "Warning", "FailedPreStopHook", "PreStopHook failed", { name, init: isInit });
        this.o.onError?.(new Error(r.failure), podDesc(rec.pod));
      }
    }
    try {
      await this.o.runtime.stopContainer(id, grace);
      this.stats.killed++;
    } catch (err) {
      if (!(isRuntimeError(err) && err.code === "NotFound")) throw err;
    }
  }

  readonly #pullFailures = new Map<string, number>();
  #pullFailedAt(rec: PodRecord, name: string): number {
    return this.#pullFailures.get(`${rec.uid}/${name}`) ?? 0;
  }

  /** Decides about an exited container: restart now, wait (CrashLoopBackOff), or leave it. */
  #restartDecision(rec: PodRecord, name: string, c: ObservedContainer, isInit: boolean): "restart" | "wait" | "done" {
    const policy = rec.pod.spec?.restartPolicy ?? "Always";
    const failed = (c.exitCode ?? 0) !== 0;
    if (isInit ? !failed : !(policy === "Always" || (policy === "OnFailure" && failed))) return "done";
    if (isInit && policy === "Never") return "done";
    const key = `${rec.uid}/${name}`;
    const finished = c.finishedAt ?? this.o.timers.clock.now();
    const now = this.o.timers.clock.now();
    if (this.#backoff.inBackoffSince(key, finished, now)) {
      const delay = this.#backoff.get(key);
      if (rec.waiting.get(name)?.reason !== "CrashLoopBackOff") {
        this.#events.event(rec.pod, "Warning", "BackOff", `Back-off restarting failed container ${name} in pod ${podDesc(rec.pod)}`, { name, init: isInit });
      }
      rec.waiting.set(name, { reason: "CrashLoopBackOff", message: `back-off ${fmtDuration(delay)} restarting failed container=${name} pod=${podDesc(rec.pod)}` });
      this.#wakeAt(rec, finished + delay);
      return "wait";
    }
    this.#backoff.next(key, finished);
    return "restart";
  }

  async #syncPod(rec: PodRecord): Promise<void> {
    const pod = rec.pod;
    if (rec.deleted || pod.metadata?.deletionTimestamp) {
      await this.#terminate(rec);
      return;
    }
    const rt = this.o.runtime;
    const spec = pod.spec ?? {};
    let obs = await this.#observe(rec.uid);
    const apiPhase = this.o.status.getPodStatus(rec.uid)?.phase ?? pod.status?.phase;
    if (apiPhase === "Succeeded" || apiPhase === "Failed") rec.terminal = true;
    if (!rec.terminal && !rec.deadline) this.#checkDeadline(rec);

    let volumesReady = true;
    if (!rec.terminal && !rec.deadline) volumesReady = await this.#setupVolumes(rec, obs.podIPs);

    if (!rec.terminal && !rec.deadline) {
      let sandbox = obs.ready;
      let sandboxConfig: PodSandboxConfig | undefined;
      if (sandbox === undefined && !volumesReady) {
        // Upstream waits for every volume before it creates the sandbox; FailedMount says why.
        sandboxConfig = undefined;
      } else if (sandbox === undefined) {
        const everRan = obs.all.length > 0;
        if (!(everRan && spec.restartPolicy === "Never")) {
          for (const s of obs.sandboxes) await this.#killSandboxContainers(s.id, 0);
          const attempt = obs.sandboxes.length > 0 ? obs.sandboxes[0]!.metadata.attempt + 1 : 0;
          sandboxConfig = this.#sandboxConfig(pod, attempt);
          await rt.runPodSandbox(sandboxConfig);
          obs = await this.#observe(rec.uid);
          sandbox = obs.ready;
        }
      } else {
        sandboxConfig = this.#sandboxConfig(pod, sandbox.metadata.attempt);
      }
      if (sandbox !== undefined && sandboxConfig !== undefined) {
        // Containers start (or restart) only with every volume ready.
        const changed = volumesReady ? await this.#syncContainers(rec, obs, sandbox.id, sandboxConfig) : false;
        if (changed) obs = await this.#observe(rec.uid);
        this.#ensureProbes(rec, obs);
      }
    }

    let status = this.#status(rec, obs, false);
    if (!rec.terminal && (status.phase === "Succeeded" || status.phase === "Failed" || rec.deadline)) {
      // Finished for good: stop whatever is left and release the sandbox (the pod IP stays in the status).
      rec.terminal = true;
      const grace = pod.spec?.terminationGracePeriodSeconds ?? 30;
      for (const s of obs.sandboxes) {
        await this.#killSandboxContainers(s.id, grace, rec);
        await rt.stopPodSandbox(s.id);
      }
      this.o.prober.removePod(rec.uid);
      obs = await this.#observe(rec.uid);
      status = this.#status(rec, obs, true);
    } else if (rec.terminal && obs.ready !== undefined) {
      for (const s of obs.sandboxes) {
        await this.#killSandboxContainers(s.id, 0);
        await rt.stopPodSandbox(s.id);
      }
    }
    this.o.status.setPodStatus(pod, status);
  }

  /** Starts, restarts or kills containers. Returns true when the runtime state changed. */
  async #syncContainers(rec: PodRecord, obs: Observed, sandboxId: string, sandboxConfig: PodSandboxConfig): Promise<boolean> {
    const spec = rec.pod.spec ?? {};
    const now = this.o.timers.clock.now();
    let changed = false;
    const podIP = obs.podIPs[0];
    rec.podIPs = obs.podIPs;
    // Init containers, one at a time, in order.
    for (const c of spec.initContainers ?? []) {
      const name = c.name ?? "";
      const h = obs.history.get(name);
      if (h === undefined) {
        changed = (await this.#start(rec, sandboxId, sandboxConfig, c, 0, true)) || changed;
        return changed;
      }
      const l = h.latest;
      if (l.state === "CREATED") {
        await this.o.runtime.startContainer(l.id).catch(() => undefined);
        return true;
      }
      if (l.state !== "EXITED") return changed;
      if ((l.exitCode ?? 0) === 0) {
        rec.waiting.delete(name);
        continue;
      }
      const d = this.#restartDecision(rec, name, l, true);
      if (d === "restart") {
        changed = (await this.#start(rec, sandboxId, sandboxConfig, c, l.attempt + 1, true)) || changed;
        await this.#gcContainers(obs, name, l.attempt);
      }
      return changed; // later init containers and app containers wait
    }
    for (const c of spec.containers ?? []) {
      const name = c.name ?? "";
      const h = obs.history.get(name);
      if (h === undefined) {
        changed = (await this.#start(rec, sandboxId, sandboxConfig, c, 0, false)) || changed;
        continue;
      }
      let l = h.latest;
      if (l.state === "CREATED") {
        await this.o.runtime.startContainer(l.id).catch(() => undefined);
        changed = true;
        continue;
      }
      if (l.state === "RUNNING") {
        const failed = this.o.prober.failed(rec.uid, name, l.id);
        if (failed === undefined) {
          this.o.prober.ensure(rec.uid, c, l.id, l.startedAt ?? now, podIP);
          rec.waiting.delete(name);
          continue;
        }
        // Liveness or startup probe failed: kill, then restart per policy.
        const grace = failed.probe.terminationGracePeriodSeconds ?? spec.terminationGracePeriodSeconds ?? 30;
        this.o.prober.removeContainer(rec.uid, name);
        await this.#stopOne(rec, c, l.id, grace, `Container ${name} failed ${failed.kind} probe, will be restarted`);
        changed = true;
        const st = await this.o.runtime.containerStatus(l.id);
        l = { ...l, state: st.state, ...(st.exitCode !== undefined ? { exitCode: st.exitCode } : {}), ...(st.finishedAt !== undefined ? { finishedAt: st.finishedAt } : {}) };
      }
      if (l.state !== "EXITED") continue;
      this.o.prober.removeContainer(rec.uid, name);
      const d = this.#restartDecision(rec, name, l, false);
      if (d === "restart") {
        changed = (await this.#start(rec, sandboxId, sandboxConfig, c, l.attempt + 1, false)) || changed;
        await this.#gcContainers(obs, name, l.attempt);
      } else if (d === "done") {
        rec.waiting.delete(name);
      }
    }
    return changed;
  }

  /** Starts probe workers for running app containers (idempotent per container id). */
  #ensureProbes(rec: PodRecord, obs: Observed): void {
    const now = this.o.timers.clock.now();
    for (const c of rec.pod.spec?.containers ?? []) {
      const l = obs.history.get(c.name ?? "")?.latest;
      if (l !== undefined && l.state === "RUNNING") this.o.prober.ensure(rec.uid, c, l.id, l.startedAt ?? now, obs.podIPs[0]);
    }
  }

  /** Keeps the newest exited attempt before `keepFrom` (lastState) and removes older ones. */
  async #gcContainers(obs: Observed, name: string, keepFrom: number): Promise<void> {
    for (const c of obs.all) {
      if (obs.names.get(c.id) === name && c.attempt < keepFrom && c.state === "EXITED") await this.o.runtime.removeContainer(c.id);
    }
  }

  #status(rec: PodRecord, obs: Observed, podIsTerminal: boolean): ReturnType<typeof generatePodStatus> {
    const st = this.#baseStatus(rec, obs, podIsTerminal);
    if (rec.deadline && st.phase !== "Succeeded") {
      st.phase = "Failed";
      st.reason = DEADLINE_REASON;
      st.message = DEADLINE_MESSAGE;
    }
    return st;
  }

  /**
   * activeDeadlineSeconds: past `startTime + deadline` the pod is failed (DeadlineExceeded) and its
   * containers are stopped; before, a wake-up is set for the deadline.
   */
  #checkDeadline(rec: PodRecord): void {
    const startTime = this.o.status.getPodStatus(rec.uid)?.startTime ?? rec.pod.status?.startTime;
    const parsed = startTime !== undefined ? Date.parse(startTime) : NaN;
    const at = activeDeadlineAt(rec.pod, Number.isNaN(parsed) ? rec.firstSeen : parsed);
    if (at === undefined) return;
    const now = this.o.timers.clock.now();
    if (now >= at) {
      rec.deadline = true;
      this.#events.event(rec.pod, "Normal", DEADLINE_REASON, DEADLINE_MESSAGE);
    } else {
      this.#wakeAt(rec, at);
    }
  }

  /**
   * Sets up (or refreshes) the pod's volumes; records `FailedMount` once per distinct failure and
   * retries later. Returns true when every volume is ready.
   */
  async #setupVolumes(rec: PodRecord, podIPs: readonly string[]): Promise<boolean> {
    await this.o.trackObjects?.(rec.pod);
    const vm = this.o.volumes;
    if (vm === undefined || (rec.pod.spec?.volumes ?? []).length === 0) return true;
    const r = vm.setup(rec.pod, { objects: this.#objects, facts: { podIPs, hostIPs: this.o.hostIPs() }, node: this.#allocatable() });
    const seen = new Set<string>();
    for (const f of r.failures) {
      seen.add(f.volume);
      if (rec.mountFailures.get(f.volume) !== f.message) this.#events.event(rec.pod, "Warning", "FailedMount", f.message);
      rec.mountFailures.set(f.volume, f.message);
    }
    for (const v of [...rec.mountFailures.keys()]) if (!seen.has(v)) rec.mountFailures.delete(v);
    if (r.failures.length > 0) this.#wakeAt(rec, this.o.timers.clock.now() + 5000);
    return r.failures.length === 0;
  }

  #baseStatus(rec: PodRecord, obs: Observed, podIsTerminal: boolean): ReturnType<typeof generatePodStatus> {
    const old = this.o.status.getPodStatus(rec.uid) ?? rec.pod.status ?? {};
    return generatePodStatus({
      pod: rec.pod, old, sandboxReady: obs.ready !== undefined, podIPs: obs.podIPs, hostIPs: this.o.hostIPs(),
      containers: obs.history, waiting: rec.waiting, runtimeName: this.runtimeName, podIsTerminal,
      nowMs: this.o.timers.clock.now(),
      probe: (name) => {
        const h = obs.history.get(name);
        return h !== undefined ? this.o.prober.view(rec.uid, name, h.latest.id) : { ready: false, started: false };
      },
    });
  }

  async #killSandboxContainers(sandboxId: string, graceSeconds: number, rec?: PodRecord): Promise<void> {
    const rt = this.o.runtime;
    const list = await rt.listContainers({ podSandboxId: sandboxId });
    await Promise.all(list.filter((c) => ACTIVE.has(c.state)).map(async (c) => {
      if (rec !== undefined && c.state === "RUNNING") {
        // Pod kill: Killing events and preStop hooks, as the kubelet does it.
        const name = c.labels[LABEL_CONTAINER_NAME] ?? c.metadata.name;
        const spec = [...(rec.pod.spec?.containers ?? []), ...(rec.pod.spec?.initContainers ?? [])].find((x) => x.name === name);
        await this.#stopOne(rec, spec ?? { name }, c.id, graceSeconds);
        return;
      }
      try {
        await rt.stopContainer(c.id, graceSeconds);
        this.stats.killed++;
      } catch (err) {
        if (!(isRuntimeError(err) && err.code === "NotFound")) throw err;
      }
    }));
  }

  /** Graceful termination: stop with the grace period, final status, final delete, cleanup. */
  async #terminate(rec: PodRecord): Promise<void> {
    const pod = rec.pod;
    const m = pod.metadata ?? {};
    const grace = Math.max(0, m.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30);
    rec.wake?.cancel();
    rec.wake = undefined;
    this.o.prober.removePod(rec.uid);
    let obs = await this.#observe(rec.uid);
    if (obs.podIPs.length > 0) rec.podIPs = obs.podIPs;
    for (const s of obs.sandboxes) {
      await this.#killSandboxContainers(s.id, grace, rec.deleted ? undefined : rec);
      await this.o.runtime.stopPodSandbox(s.id);
    }
    // Containers stopped by us are not waiting for a restart any more.
    rec.waiting.clear();
    if (!rec.deleted) {
      obs = await this.#observe(rec.uid);
      this.o.status.setPodStatus(pod, this.#status(rec, obs, true));
      await this.o.status.flush(rec.uid);
      try {
        await this.o.deletePod(m.namespace ?? "", m.name ?? "", rec.uid);
      } catch (err) {
        if (!(err instanceof ApiError && (err.code === 404 || err.code === 409))) throw err;
      }
    }
    for (const s of obs.sandboxes) await this.o.runtime.removePodSandbox(s.id);
    this.o.volumes?.teardown(rec.uid);
    this.o.releaseObjects?.(rec.uid);
    rec.removed = true;
    this.#pods.delete(rec.uid);
    this.o.status.forget(rec.uid);
    for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
      this.#backoff.reset(`${rec.uid}/${c.name ?? ""}`);
      this.#pullFailures.delete(`${rec.uid}/${c.name ?? ""}`);
    }
  }
}

const EMPTY_OBJECTS: ObjectSource = new MapObjectSource();

/** Go's time.Duration formatting of sub-minute durations with milliseconds (`1.234s`, `12ms`). */
function fmtSeconds(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  return `${(ms / 1000).toFixed(3).replace(/\.?0+$/, "")}s`;
}

/** Go's time.Duration formatting for whole seconds/minutes (`10s`, `1m20s`, `5m0s`). */
export function fmtDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const h = Math.floor(s / 3600), mi = Math.floor((s % 3600) / 60), se = s % 60;
  return h > 0 ? `${h}h${mi}m${se}s` : `${mi}m${se}s`;
}
