/**
 * Pure computation of a pod's API status from what the runtime reports, as the kubelet does it:
 * container statuses (state, lastState, ready, started, restartCount, ids), the pod phase, the
 * kubelet-owned conditions (PodReadyToStartContainers, Initialized, Ready, ContainersReady,
 * PodScheduled) with stable lastTransitionTime, pod/host IPs and startTime.
 *
 * No I/O and no clock: the caller passes `nowMs` and the previous status.
 */
import type { ContainerExitReason, ContainerState as RuntimeContainerState } from "./runtime/types.ts";
import type { ContainerState as ApiContainerState } from "../api/generated/core_v1.ts";
import type { ContainerSpec, ContainerStatus, PodCondition, PodObject, PodStatus } from "./types.ts";
import { rfc3339 } from "./types.ts";

/** One runtime container of the pod, as the status computation needs it. */
export interface ObservedContainer {
  readonly id: string;
  readonly state: RuntimeContainerState;
  /** Restart attempt (= restart count). */
  readonly attempt: number;
  readonly imageRef: string;
  readonly startedAt?: number;
  readonly finishedAt?: number;
  readonly exitCode?: number;
  readonly reason?: ContainerExitReason;
  readonly message?: string;
}

/** Per container name: the newest attempt and the newest terminated one before it. */
export interface ContainerHistory {
  readonly latest: ObservedContainer;
  readonly previous?: ObservedContainer;
}

/** A container that is not running for a known reason (ErrImagePull, CrashLoopBackOff, …). */
export interface WaitingReason {
  readonly reason: string;
  readonly message?: string;
}

export interface ProbeView {
  /** Readiness (true when the container has no readiness probe and is started). */
  readonly ready: boolean;
  /** Startup probe passed (true when the container has none). */
  readonly started: boolean;
}

export interface StatusInput {
  readonly pod: PodObject;
  /** Status the kubelet computed last (status manager), else the pod's API status. */
  readonly old: PodStatus;
  /** A READY sandbox with its network exists. */
  readonly sandboxReady: boolean;
  readonly podIPs: readonly string[];
  readonly hostIPs: readonly string[];
  readonly containers: ReadonlyMap<string, ContainerHistory>;
  readonly waiting: ReadonlyMap<string, WaitingReason>;
  /** Probe results for running containers (absent: ready and started). */
  readonly probe?: (containerName: string) => ProbeView;
  /** `<runtime>://` prefix of container ids, e.g. `hollow`. */
  readonly runtimeName: string;
  /** The pod is done (deleted and stopped, or finished for good): phase becomes Succeeded/Failed. */
  readonly podIsTerminal: boolean;
  readonly nowMs: number;
}

/** Condition types the kubelet owns (others are preserved from the API object). */
export const KUBELET_CONDITIONS: ReadonlySet<string> = new Set([
  "PodScheduled", "Ready", "Initialized", "ContainersReady", "PodReadyToStartContainers",
]);

function terminatedOf(c: ObservedContainer, runtimeName: string): ApiContainerState {
  return {
    terminated: {
      exitCode: c.exitCode ?? 0,
      reason: c.reason ?? (c.exitCode === 0 ? "Completed" : "Error"),
      ...(c.message !== undefined && c.message !== "" ? { message: c.message } : {}),
      ...(c.startedAt !== undefined ? { startedAt: rfc3339(c.startedAt) } : {}),
      ...(c.finishedAt !== undefined ? { finishedAt: rfc3339(c.finishedAt) } : {}),
      containerID: `${runtimeName}://${c.id}`,
    },
  };
}

/** The API status of one container (spec order is kept by the caller). */
export function containerStatusOf(
  spec: ContainerSpec,
  history: ContainerHistory | undefined,
  opts: { isInit: boolean; waitingForInit: boolean; waiting?: WaitingReason; probe?: ProbeView; runtimeName: string },
): ContainerStatus {
  const name = spec.name ?? "";
  const image = spec.image ?? "";
  const latest = history?.latest;
  const out: ContainerStatus = { name, state: {}, lastState: {}, ready: false, restartCount: latest?.attempt ?? 0, image, imageID: "", started: false };
  const waitingState = (dflt: string): ApiContainerState => {
    const w = opts.waiting ?? { reason: dflt };
    return { waiting: { reason: w.reason, ...(w.message !== undefined ? { message: w.message } : {}) } };
  };
  if (latest === undefined) {
    out.state = waitingState(opts.waitingForInit ? "PodInitializing" : "ContainerCreating");
    return out;
  }
  out.imageID = latest.imageRef;
  out.containerID = `${opts.runtimeName}://${latest.id}`;
  const prev = history?.previous;
  if (prev !== undefined && prev.state === "EXITED") out.lastState = terminatedOf(prev, opts.runtimeName);
  switch (latest.state) {
    case "RUNNING": {
      out.state = { running: { ...(latest.startedAt !== undefined ? { startedAt: rfc3339(latest.startedAt) } : {}) } };
      const p = opts.probe ?? { ready: true, started: true };
      out.started = p.started;
      out.ready = opts.isInit ? false : p.started && p.ready;
      break;
    }
    case "EXITED": {
      const term = terminatedOf(latest, opts.runtimeName);
      if (opts.waiting !== undefined) {
        // Waiting to be restarted (CrashLoopBackOff …): the exit is the last state.
        out.state = waitingState(opts.waiting.reason);
        out.lastState = term;
      } else {
        out.state = term;
      }
      out.ready = opts.isInit && opts.waiting === undefined && (latest.exitCode ?? 0) === 0;
      break;
    }
    default:
      out.state = waitingState("ContainerCreating");
  }
  return out;
}

function counts(status: ContainerStatus | undefined): "running" | "terminated" | "waitingAfterExit" | "waiting" | "unknown" {
  if (status === undefined) return "unknown";
  const s = status.state ?? {};
  if (s.running) return "running";
  if (s.terminated) return "terminated";
  if (s.waiting) return status.lastState?.terminated ? "waitingAfterExit" : "waiting";
  return "unknown";
}

/**
 * The pod phase from its container statuses, as the kubelet's getPhase computes it (regular init
 * containers; restartable "sidecar" init containers are treated as regular ones).
 */
export function computePhase(pod: PodObject, statuses: readonly ContainerStatus[], initStatuses: readonly ContainerStatus[], podIsTerminal: boolean): string {
  const spec = pod.spec ?? {};
  const policy = spec.restartPolicy ?? "Always";
  const byName = (list: readonly ContainerStatus[], n: string | undefined): ContainerStatus | undefined => list.find((s) => s.name === n);
  let pendingInit = 0;
  let failedInit = 0;
  for (const c of spec.initContainers ?? []) {
    const st = byName(initStatuses, c.name);
    const k = counts(st);
    if (k === "terminated") {
      if ((st?.state?.terminated?.exitCode ?? 0) !== 0) failedInit++;
    } else if (k === "waitingAfterExit") {
      if ((st?.lastState?.terminated?.exitCode ?? 0) !== 0) failedInit++;
      else pendingInit++;
    } else {
      pendingInit++;
    }
  }
  let unknown = 0, running = 0, waiting = 0, stopped = 0, succeeded = 0;
  for (const c of spec.containers ?? []) {
    const st = byName(statuses, c.name);
    switch (counts(st)) {
      case "running": running++; break;
      case "terminated": stopped++; if ((st?.state?.terminated?.exitCode ?? 0) === 0) succeeded++; break;
      case "waitingAfterExit": stopped++; break;
      case "waiting": waiting++; break;
      default: unknown++;
    }
  }
  if (failedInit > 0 && policy === "Never") return "Failed";
  if (pendingInit > 0 || waiting > 0) return "Pending";
  if (running > 0 && unknown === 0) return "Running";
  if (running === 0 && stopped > 0 && unknown === 0) {
    if (podIsTerminal) return stopped === succeeded ? "Succeeded" : "Failed";
    if (policy === "Always") return "Running";
    if (stopped === succeeded) return "Succeeded";
    if (policy === "Never") return "Failed";
    return "Running";
  }
  return "Pending";
}

type Cond = Omit<PodCondition, "lastTransitionTime">;

const listOf = (names: readonly string[]): string => `[${names.join(" ")}]`;

/** ContainersReady (and, without readiness gates, Ready) from the container statuses. */
export function containersReadyCondition(pod: PodObject, statuses: readonly ContainerStatus[], phase: string): Cond {
  const unknown: string[] = [];
  const unready: string[] = [];
  for (const c of pod.spec?.containers ?? []) {
    const st = statuses.find((s) => s.name === c.name);
    if (st === undefined) unknown.push(c.name ?? "");
    else if (st.ready !== true) unready.push(c.name ?? "");
  }
  if (phase === "Succeeded" && unknown.length === 0) return { type: "ContainersReady", status: "False", reason: "PodCompleted" };
  if (phase === "Failed") return { type: "ContainersReady", status: "False", reason: "PodFailed" };
  const msgs: string[] = [];
  if (unknown.length) msgs.push(`containers with unknown status: ${listOf(unknown)}`);
  if (unready.length) msgs.push(`containers with unready status: ${listOf(unready)}`);
  if (msgs.length) return { type: "ContainersReady", status: "False", reason: "ContainersNotReady", message: msgs.join(", ") };
  return { type: "ContainersReady", status: "True" };
}

export function podReadyCondition(pod: PodObject, conditions: readonly PodCondition[], statuses: readonly ContainerStatus[], phase: string): Cond {
  const cr = containersReadyCondition(pod, statuses, phase);
  if (cr.status !== "True") return { ...cr, type: "Ready" };
  const msgs: string[] = [];
  for (const g of pod.spec?.readinessGates ?? []) {
    const t = g.conditionType ?? "";
    const c = conditions.find((x) => x.type === t);
    if (c === undefined) msgs.push(`corresponding condition of pod readiness gate "${t}" does not exist.`);
    else if (c.status !== "True") msgs.push(`the status of pod readiness gate "${t}" is not "True", but ${c.status ?? ""}`);
  }
  if (msgs.length) return { type: "Ready", status: "False", reason: "ReadinessGatesNotReady", message: msgs.join(", ") };
  return { type: "Ready", status: "True" };
}

export function initializedCondition(pod: PodObject, initStatuses: readonly ContainerStatus[], statuses: readonly ContainerStatus[], phase: string): Cond {
  const unknown: string[] = [];
  const incomplete: string[] = [];
  for (const c of pod.spec?.initContainers ?? []) {
    const st = initStatuses.find((s) => s.name === c.name);
    if (st === undefined) unknown.push(c.name ?? "");
    else if (st.ready !== true) incomplete.push(c.name ?? "");
  }
  if (phase === "Succeeded" && unknown.length === 0) return { type: "Initialized", status: "True", reason: "PodCompleted" };
  // A regular container has started before: the pod was initialized.
  if (statuses.some((s) => s.state?.running !== undefined || s.state?.terminated !== undefined || s.lastState?.terminated !== undefined)) {
    return { type: "Initialized", status: "True" };
  }
  const msgs: string[] = [];
  if (unknown.length) msgs.push(`containers with unknown status: ${listOf(unknown)}`);
  if (incomplete.length) msgs.push(`containers with incomplete status: ${listOf(incomplete)}`);
  if (msgs.length) return { type: "Initialized", status: "False", reason: "ContainersNotInitialized", message: msgs.join(", ") };
  return { type: "Initialized", status: "True" };
}

/** Keeps `lastTransitionTime` of an old condition with the same status; otherwise now. */
export function withTransitionTime(c: Cond, old: readonly PodCondition[], nowMs: number): PodCondition {
  const prev = old.find((o) => o.type === c.type);
  const t = prev !== undefined && prev.status === c.status && prev.lastTransitionTime ? prev.lastTransitionTime : rfc3339(nowMs);
  const { reason, message, ...rest } = c;
  return { ...rest, lastTransitionTime: t, ...(reason ? { reason } : {}), ...(message ? { message } : {}) };
}

const TERMINAL = new Set(["Succeeded", "Failed"]);

/** The complete status the kubelet reports for `input.pod`. */
export function generatePodStatus(input: StatusInput): PodStatus {
  const { pod, old } = input;
  const spec = pod.spec ?? {};
  const inits = spec.initContainers ?? [];
  const initDone = inits.every((c) => {
    const h = input.containers.get(c.name ?? "");
    return h !== undefined && h.latest.state === "EXITED" && (h.latest.exitCode ?? 0) === 0 && !input.waiting.has(c.name ?? "");
  });
  const initStatuses = inits.map((c) => containerStatusOf(c, input.containers.get(c.name ?? ""), {
    isInit: true, waitingForInit: false, runtimeName: input.runtimeName,
    ...(input.waiting.has(c.name ?? "") ? { waiting: input.waiting.get(c.name ?? "")! } : {}),
  }));
  const statuses = (spec.containers ?? []).map((c) => containerStatusOf(c, input.containers.get(c.name ?? ""), {
    isInit: false, waitingForInit: inits.length > 0 && !initDone, runtimeName: input.runtimeName,
    ...(input.waiting.has(c.name ?? "") ? { waiting: input.waiting.get(c.name ?? "")! } : {}),
    ...(input.probe ? { probe: input.probe(c.name ?? "") } : {}),
  }));
  let phase = computePhase(pod, statuses, initStatuses, input.podIsTerminal);
  // Terminal phases are final (the kubelet never moves a pod out of Succeeded/Failed).
  if (!TERMINAL.has(phase)) {
    if (TERMINAL.has(old.phase ?? "")) phase = old.phase!;
    else if (TERMINAL.has(pod.status?.phase ?? "")) phase = pod.status!.phase!;
  }
  const apiConds = pod.status?.conditions ?? [];
  const oldConds = old.conditions ?? [];
  const kept = apiConds.filter((c) => !KUBELET_CONDITIONS.has(c.type ?? ""));
  const prevFor = [...oldConds, ...apiConds];
  const conds: Cond[] = [
    { type: "PodReadyToStartContainers", status: input.sandboxReady ? "True" : "False" },
    initializedCondition(pod, initStatuses, statuses, phase),
    podReadyCondition(pod, kept, statuses, phase),
    containersReadyCondition(pod, statuses, phase),
    { type: "PodScheduled", status: "True" },
  ];
  const conditions = [...kept, ...conds.map((c) => withTransitionTime(c, prevFor, input.nowMs))];
  const podIPs = input.podIPs.length > 0 ? input.podIPs.map((ip) => ({ ip })) : (old.podIPs ?? pod.status?.podIPs ?? []);
  const status: PodStatus = {
    phase,
    conditions,
    ...(input.hostIPs.length > 0 ? { hostIP: input.hostIPs[0]!, hostIPs: input.hostIPs.map((ip) => ({ ip })) } : {}),
    ...(podIPs.length > 0 ? { podIP: podIPs[0]!.ip ?? "", podIPs } : {}),
    startTime: old.startTime ?? pod.status?.startTime ?? rfc3339(input.nowMs),
    ...(inits.length > 0 ? { initContainerStatuses: initStatuses } : {}),
    containerStatuses: statuses,
    ...(pod.status?.qosClass !== undefined ? { qosClass: pod.status.qosClass } : {}),
  };
  const reason = phase === old.phase ? old.reason ?? pod.status?.reason : undefined;
  const message = phase === old.phase ? old.message ?? pod.status?.message : undefined;
  if (reason) status.reason = reason;
  if (message) status.message = message;
  return status;
}
