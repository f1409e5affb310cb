/**
 * The Job controller's pure core: classify a Job's pods, decide what to create and delete, when
 * the Job has succeeded or failed, and the status to write.
 *
 * Pod failures are counted without finalizers: `status.failed` / `status.succeeded` never go down
 * (the maximum of the recorded count and the finished pods present), so a finished pod removed
 * by someone else is not lost once counted, but one removed before the controller saw it is.
 */
import type { Job, JobCondition, JobStatus } from "../../api/generated/batch_v1.ts";
import type { KubeObject } from "../../api/object.ts";
import { compareForDeletion, isPodReady } from "../framework/pods.ts";

export const COMPLETION_INDEX = "batch.kubernetes.io/job-completion-index";
export const BACKOFF_BASE_MS = 10_000;
export const BACKOFF_MAX_MS = 360_000;

export const REASON = {
  backoff: "BackoffLimitExceeded", deadline: "DeadlineExceeded", completions: "CompletionsReached",
} as const;
export const MESSAGE = {
  backoff: "Job has reached the specified backoff limit",
  deadline: "Job was active longer than specified deadline",
  completions: "Reached expected number of succeeded pods",
} as const;

interface PodStatusLike {
  phase?: string;
  conditions?: Array<{ type?: string; status?: string; lastTransitionTime?: string }>;
  containerStatuses?: Array<{ state?: { terminated?: { finishedAt?: string } } }>;
}

function podStatus(p: KubeObject): PodStatusLike {
  return (p["status"] ?? {}) as PodStatusLike; // Pod.status by the kind's contract
}

export interface PodSets {
  /** Not finished, not being deleted. */
  readonly active: KubeObject[];
  /** Being deleted, not finished. */
  readonly terminating: KubeObject[];
  readonly succeeded: KubeObject[];
  readonly failed: KubeObject[];
}

export function classifyPods(pods: readonly KubeObject[]): PodSets {
  const s: PodSets = { active: [], terminating: [], succeeded: [], failed: [] };
  for (const p of pods) {
    const phase = podStatus(p).phase;
    if (phase === "Succeeded") s.succeeded.push(p);
    else if (phase === "Failed") s.failed.push(p);
    else if (p.metadata?.deletionTimestamp !== undefined) s.terminating.push(p);
    else s.active.push(p);
  }
  return s;
}

/** When a pod finished: the latest container finishedAt, else the Ready transition, else creation. */
export function finishTime(p: KubeObject): number {
  let best = NaN;
  for (const c of podStatus(p).containerStatuses ?? []) {
    const t = Date.parse(c.state?.terminated?.finishedAt ?? "");
    if (Number.isFinite(t) && !(t <= best)) best = t;
  }
  if (Number.isFinite(best)) return best;
  const r = Date.parse((podStatus(p).conditions ?? []).find((c) => c.type === "Ready")?.lastTransitionTime ?? "");
  if (Number.isFinite(r)) return r;
  const c = Date.parse(p.metadata?.creationTimestamp ?? "");
  return Number.isFinite(c) ? c : 0;
}

/** The completion index of a pod (annotation, else label); undefined when absent or malformed. */
export function podIndex(p: KubeObject): number | undefined {
  const v = p.metadata?.annotations?.[COMPLETION_INDEX] ?? p.metadata?.labels?.[COMPLETION_INDEX];
  if (v === undefined || !/^(0|[1-9][0-9]{0,8})$/.test(v)) return undefined;
  return Number(v);
}

/** Parses "1,3-5,7" into a sorted set of indexes below `limit`; malformed parts are skipped. */
export function parseIndexes(s: string | undefined, limit: number): Set<number> {
  const out = new Set<number>();
  for (const part of (s ?? "").split(",")) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) continue;
    const a = Number(m[1]), b = m[2] !== undefined ? Number(m[2]) : a;
    for (let i = a; i <= Math.min(b, limit - 1); i++) out.add(i);
  }
  return out;
}

/** Formats indexes as intervals: 1,3-5,7. */
export function formatIndexes(set: Iterable<number>): string {
  const xs = [...new Set(set)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < xs.length;) {
    let j = i;
    while (j + 1 < xs.length && xs[j + 1] === xs[j]! + 1) j++;
    parts.push(i === j ? String(xs[i]) : `${xs[i]}-${xs[j]}`);
    i = j + 1;
  }
  return parts.join(",");
}

/** Exponential backoff before creating pods again: 10 s, 20 s, 40 s, … capped at 6 min after the last failure. */
export function backoffUntil(sets: PodSets): number {
  const lastSuccess = sets.succeeded.reduce((m, p) => Math.max(m, finishTime(p)), 0);
  const fails = sets.failed.map(finishTime).filter((t) => t > lastSuccess);
  if (fails.length === 0) return 0;
  const delay = Math.min(BACKOFF_BASE_MS * 2 ** Math.min(fails.length - 1, 30), BACKOFF_MAX_MS);
  return Math.max(...fails) + delay;
}

export function hasCondition(status: JobStatus | undefined, type: string): JobCondition | undefined {
  return (status?.conditions ?? []).find((c) => c.type === type && c.status === "True");
}

export function isJobFinished(job: Job): boolean {
  return hasCondition(job.status, "Complete") !== undefined || hasCondition(job.status, "Failed") !== undefined;
}

/** Sets (or updates) a condition; the transition time changes only when the status does. */
export function setCondition(conds: readonly JobCondition[], type: string, status: string, reason: string, message: string, now: string): JobCondition[] {
  const out = conds.filter((c) => c.type !== type);
  const prev = conds.find((c) => c.type === type);
  if (prev && prev.status === status && prev.reason === reason && prev.message === message) return [...conds];
  out.push({ type, status, reason, message, lastProbeTime: now, lastTransitionTime: prev && prev.status === status ? prev.lastTransitionTime ?? now : now });
  return out;
}

export interface JobPlan {
  /** Pods to create: the completion index for Indexed Jobs, else undefined per pod. */
  readonly create: Array<number | undefined>;
  readonly delete: KubeObject[];
  readonly status: JobStatus;
  /** Re-check at this time (ms) (deadline, backoff). */
  readonly recheckAt?: number;
  /** Events to record. */
  readonly events: Array<{ type: "Normal" | "Warning"; reason: string; message: string }>;
}

/**
 * One sync of a Job, pure: from the job, its pods and the time, what to create, what to delete,
 * and the new status.
 */
export function planJob(job: Job, pods: readonly KubeObject[], nowMs: number): JobPlan {
  const now = new Date(nowMs).toISOString().replace(/\.\d{3}Z$/, "Z");
  const spec = job.spec ?? {};
  const prev = job.status ?? {};
  const sets = classifyPods(pods);
  const indexed = spec.completionMode === "Indexed";
  const completions = spec.completions;
  const parallelism = Math.max(0, spec.parallelism ?? 1);
  const backoffLimit = spec.backoffLimit ?? 6;
  const events: JobPlan["events"] = [];
  let conditions = [...(prev.conditions ?? [])];

  const completed = indexed && completions !== undefined ? parseIndexes(prev.completedIndexes, completions) : new Set<number>();
  if (indexed && completions !== undefined) for (const p of sets.succeeded) {
    const i = podIndex(p);
    if (i !== undefined && i < completions) completed.add(i);
  }
  const succeeded = indexed ? Math.max(prev.succeeded ?? 0, completed.size) : Math.max(prev.succeeded ?? 0, sets.succeeded.length);
  const failed = Math.max(prev.failed ?? 0, sets.failed.length);
  const status: JobStatus = { ...prev };
  const finish = (create: JobPlan["create"], del: KubeObject[], recheckAt?: number): JobPlan => {
    const active = sets.active.length - del.filter((p) => sets.active.includes(p)).length + create.length;
    status.active = active;
    status.ready = sets.active.filter((p) => !del.includes(p) && isPodReady(p)).length;
    status.succeeded = succeeded;
    status.failed = failed;
    status.terminating = sets.terminating.length + del.length;
    if (indexed) status.completedIndexes = formatIndexes(completed);
    status.conditions = conditions;
    if (conditions.length === 0) delete status.conditions;
    return { create, delete: del, status, events, ...(recheckAt !== undefined ? { recheckAt } : {}) };
  };

  if (isJobFinished(job)) {
    // Finished: only make sure nothing keeps running.
    return finish([], [...sets.active]);
  }

  // Interim conditions reached earlier: wait for the pods to go, then the terminal condition.
  const target = hasCondition(prev, "FailureTarget") ?? hasCondition(prev, "SuccessCriteriaMet");
  if (target) {
    const remaining = sets.active.length + sets.terminating.length;
    if (remaining > 0) return finish([], [...sets.active]);
    const failedTarget = target.type === "FailureTarget";
    conditions = setCondition(conditions, failedTarget ? "Failed" : "Complete", "True", target.reason ?? "", target.message ?? "", now);
    if (!failedTarget) {
      status.completionTime = now;
      events.push({ type: "Normal", reason: "Completed", message: "Job completed" });
    } else events.push({ type: "Warning", reason: target.reason ?? "Failed", message: target.message ?? "" });
    return finish([], []);
  }

  // Suspend / resume.
  if (spec.suspend === true) {
    if (!hasCondition(prev, "Suspended")) {
      conditions = setCondition(conditions, "Suspended", "True", "JobSuspended", "Job suspended", now);
      events.push({ type: "Normal", reason: "Suspended", message: "Job suspended" });
    }
    delete status.startTime;
    return finish([], [...sets.active]);
  }
  if (hasCondition(prev, "Suspended")) {
    conditions = setCondition(conditions, "Suspended", "False", "JobResumed", "Job resumed", now);
    events.push({ type: "Normal", reason: "Resumed", message: "Job resumed" });
  }
  status.startTime ??= now;
  const started = Date.parse(status.startTime);

  // Failure and success criteria.
  let failure: keyof typeof REASON | undefined;
  if (failed > backoffLimit) failure = "backoff";
  else if (spec.activeDeadlineSeconds !== undefined && nowMs >= started + spec.activeDeadlineSeconds * 1000) failure = "deadline";
  if (failure) {
    conditions = setCondition(conditions, "FailureTarget", "True", REASON[failure], MESSAGE[failure], now);
    if (sets.active.length + sets.terminating.length === 0) {
      conditions = setCondition(conditions, "Failed", "True", REASON[failure], MESSAGE[failure], now);
      events.push({ type: "Warning", reason: REASON[failure], message: MESSAGE[failure] });
    }
    return finish([], [...sets.active]);
  }
  const complete = indexed ? completions !== undefined && completed.size >= completions
    : completions !== undefined ? succeeded >= completions : succeeded > 0 && sets.active.length === 0;
  if (complete) {
    conditions = setCondition(conditions, "SuccessCriteriaMet", "True", REASON.completions, MESSAGE.completions, now);
    if (sets.active.length + sets.terminating.length === 0) {
      conditions = setCondition(conditions, "Complete", "True", REASON.completions, MESSAGE.completions, now);
      status.completionTime = now;
      events.push({ type: "Normal", reason: "Completed", message: "Job completed" });
    }
    return finish([], [...sets.active]);
  }

  const deadlineAt = spec.activeDeadlineSeconds !== undefined ? started + spec.activeDeadlineSeconds * 1000 : undefined;
  const backoffAt = backoffUntil(sets);
  const inBackoff = backoffAt > nowMs;
  const recheck = [deadlineAt, inBackoff ? backoffAt : undefined].filter((t): t is number => t !== undefined);
  const recheckAt = recheck.length > 0 ? Math.min(...recheck) : undefined;

  if (indexed) {
    if (completions === undefined) return finish([], [], recheckAt);
    // Duplicates or out-of-range / completed indexes are deleted; missing indexes created lowest first.
    const del: KubeObject[] = [];
    const byIndex = new Map<number, KubeObject>();
    for (const p of [...sets.active].sort((a, b) => -compareForDeletion(a, b))) {
      const i = podIndex(p);
      if (i === undefined || i >= completions || completed.has(i) || byIndex.has(i)) del.push(p);
      else byIndex.set(i, p);
    }
    const running = [...byIndex.values()];
    if (running.length > parallelism) {
      const extra = [...running].sort((a, b) => (podIndex(b) ?? 0) - (podIndex(a) ?? 0)).slice(0, running.length - parallelism);
      del.push(...extra);
    }
    const create: number[] = [];
    if (!inBackoff) {
      const room = Math.max(0, parallelism - Math.min(running.length, parallelism) - (spec.podReplacementPolicy === "Failed" ? sets.terminating.length : 0));
      for (let i = 0; i < completions && create.length < room; i++) {
        if (!completed.has(i) && !byIndex.has(i)) create.push(i);
      }
    }
    return finish(create, del, recheckAt);
  }

  // podReplacementPolicy Failed: a terminating pod still holds its place until it is finished.
  const holding = spec.podReplacementPolicy === "Failed" ? sets.terminating.length : 0;
  const active = sets.active.length;
  const want = completions === undefined
    ? Math.min(parallelism, succeeded > 0 ? active : parallelism)
    : Math.min(parallelism, Math.max(0, completions - succeeded));
  if (active > want) {
    const victims = [...sets.active].sort((a, b) => compareForDeletion(a, b)).slice(0, active - want);
    return finish([], victims, recheckAt);
  }
  const create = inBackoff ? [] : Array.from({ length: Math.max(0, want - active - holding) }, () => undefined);
  return finish(create, [], recheckAt);
}

/** The pod a Job creates (optionally for a completion index). */
export function podForJob(job: Job, index: number | undefined): KubeObject {
  const name = job.metadata?.name ?? "";
  const tpl = structuredClone(job.spec?.template ?? {});
  const md = tpl.metadata ?? {};
  const spec = tpl.spec ?? {};
  const labels: Record<string, string> = { ...(md.labels ?? {}) };
  const annotations: Record<string, string> = { ...(md.annotations ?? {}) };
  if (index !== undefined) {
    labels[COMPLETION_INDEX] = String(index);
    annotations[COMPLETION_INDEX] = String(index);
    spec.hostname = `${name}-${index}`;
    const env = { name: "JOB_COMPLETION_INDEX", valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${COMPLETION_INDEX}']` } } };
    for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) {
      if (!(c.env ?? []).some((e) => e.name === env.name)) c.env = [...(c.env ?? []), env];
    }
  }
  return {
    apiVersion: "v1", kind: "Pod",
    metadata: {
      generateName: index !== undefined ? `${name}-${index}-` : `${name}-`,
      namespace: job.metadata?.namespace ?? "",
      labels,
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
      ownerReferences: [{ apiVersion: "batch/v1", kind: "Job", name, uid: job.metadata?.uid ?? "", controller: true, blockOwnerDeletion: true }],
    },
    spec,
  };
}
