/**
 * The CronJob controller: creates a Job per schedule time, honoring `timeZone`,
 * `startingDeadlineSeconds`, `concurrencyPolicy` (Allow / Forbid / Replace) and `suspend`; keeps
 * `status.active`, `lastScheduleTime` and `lastSuccessfulTime`; deletes finished Jobs beyond the
 * history limits.
 *
 * Time comes from `ctx.now()` only (a test clock in tests): `sync` returns `requeueAfterMs` for the
 * next fire time, so advancing the clock and syncing again fires deterministically.
 * Job names are `<cronjob>-<scheduled time in minutes since the epoch>` (upstream's), so a second
 * attempt for the same time meets AlreadyExists and is treated as done.
 */
import type { CronJob, Job } from "../../api/generated/batch_v1.ts";
import type { ObjectReference } from "../../api/generated/core_v1.ts";
import { ApiError } from "../../api/errors.ts";
import type { KubeObject } from "../../api/object.ts";
import { keyOf } from "../../client/indexer.ts";
import type { Controller, ControllerContext, Queue, SyncResult } from "../framework/controller.ts";
import { OWNER_UID_INDEX } from "../framework/informers.ts";
import { controllerOf, controllerRef } from "../framework/ownerrefs.ts";
import { CRONJOBS, JOBS } from "../framework/resources.ts";
import { updateStatusRetrying } from "../framework/writer.ts";
import { canonicalJson } from "../deployment/hash.ts";
import { hasCondition } from "../job/job.ts";
import { missedSchedules, parseSchedule, rfc3339In } from "./schedule.ts";

export const NAME = "cronjob";
export const SCHEDULED_TIMESTAMP = "batch.kubernetes.io/cronjob-scheduled-timestamp";

function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** `<cj>-<minutes>`: upstream's job name for a scheduled time. */
export function jobName(cronJobName: string, scheduledMs: number): string {
  return `${cronJobName}-${Math.floor(scheduledMs / 60_000)}`;
}

/** Finished state of a Job: "Complete", "Failed" or undefined. */
export function finishedAs(job: Job): "Complete" | "Failed" | undefined {
  if (hasCondition(job.status, "Complete")) return "Complete";
  if (hasCondition(job.status, "Failed")) return "Failed";
  return undefined;
}

/** The Job a CronJob creates for a schedule time. */
export function jobFromTemplate(cj: CronJob, scheduledMs: number, tz: string): Job {
  const tpl = structuredClone(cj.spec?.jobTemplate ?? {});
  return {
    apiVersion: "batch/v1", kind: "Job",
    metadata: {
      name: jobName(cj.metadata?.name ?? "", scheduledMs),
      namespace: cj.metadata?.namespace ?? "",
      labels: { ...(tpl.metadata?.labels ?? {}) },
      annotations: { ...(tpl.metadata?.annotations ?? {}), [SCHEDULED_TIMESTAMP]: rfc3339In(scheduledMs, tz) },
      ownerReferences: [controllerRef(cj as KubeObject, "batch/v1", "CronJob")],
    },
    spec: tpl.spec ?? {},
  } as Job;
}

/** Finished jobs beyond the history limits, oldest first (by start time, then creation). */
export function jobsToPrune(jobs: readonly Job[], successfulLimit: number, failedLimit: number): Job[] {
  const t = (j: Job): string => j.status?.startTime ?? j.metadata?.creationTimestamp ?? "";
  const out: Job[] = [];
  for (const [state, limit] of [["Complete", successfulLimit], ["Failed", failedLimit]] as const) {
    const done = jobs.filter((j) => finishedAs(j) === state).sort((a, b) => t(a).localeCompare(t(b)) || (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? ""));
    out.push(...done.slice(0, Math.max(0, done.length - Math.max(0, limit))));
  }
  return out;
}

function refOf(job: Job): ObjectReference {
  return { apiVersion: "batch/v1", kind: "Job", name: job.metadata?.name ?? "", namespace: job.metadata?.namespace ?? "", uid: job.metadata?.uid ?? "", resourceVersion: job.metadata?.resourceVersion ?? "" };
}

export class CronJobController implements Controller {
  readonly name = NAME;

  constructor(private readonly ctx: ControllerContext, queue: Queue) {
    ctx.informers.on(CRONJOBS, {
      onAdd: (o) => queue.add(keyOf(o)),
      onUpdate: (_o, n) => queue.add(keyOf(n)),
      onDelete: (o) => queue.add(keyOf(o)),
    });
    const owner = (j: KubeObject): void => {
      const ref = controllerOf(j);
      if (ref && ref.kind === "CronJob") queue.add(`${j.metadata?.namespace ?? ""}/${ref.name}`);
    };
    ctx.informers.on(JOBS, { onAdd: owner, onUpdate: (_o, n) => owner(n), onDelete: owner });
  }

  async sync(key: string): Promise<SyncResult | void> {
    const { ctx } = this;
    const cached = ctx.informers.lister(CRONJOBS).get(key);
    if (!cached) return;
    const cj = cached as CronJob; // objects from the CronJob cache
    const nowMs = ctx.now().getTime();
    const ns = cj.metadata?.namespace ?? "";
    const owned = (ctx.informers.lister(JOBS).byIndex(OWNER_UID_INDEX, cj.metadata?.uid ?? "") as Job[]).filter((j) => controllerOf(j as KubeObject)?.uid === cj.metadata?.uid);
    const status = structuredClone(cj.status ?? {});
    const byUid = new Map(owned.map((j) => [j.metadata?.uid ?? "", j]));

    // Reconcile `active` with the Jobs that exist; note finished ones.
    const active: ObjectReference[] = [];
    for (const ref of status.active ?? []) {
      let j = byUid.get(ref.uid ?? "");
      if (!j) {
        // Not cached: just created (the cache lags) or gone — ask the apiserver.
        const live = (await ctx.writer.get(JOBS, ns, ref.name ?? "")) as Job | undefined;
        if (!live || live.metadata?.uid !== ref.uid) continue;
        j = live;
        byUid.set(ref.uid ?? "", live);
      }
      const fin = finishedAs(j);
      if (fin) ctx.recorder.event(cached, "Normal", "SawCompletedJob", `Saw completed job: ${j.metadata?.name ?? ""}, condition: ${fin}`);
      else active.push(ref);
    }
    for (const j of owned) {
      if (!finishedAs(j) && !active.some((r) => r.uid === j.metadata?.uid)) active.push(refOf(j));
      const done = finishedAs(j) === "Complete" ? j.status?.completionTime : undefined;
      if (done && (!status.lastSuccessfulTime || Date.parse(done) > Date.parse(status.lastSuccessfulTime))) status.lastSuccessfulTime = done;
    }
    status.active = active;

    // History limits.
    for (const j of jobsToPrune(owned, cj.spec?.successfulJobsHistoryLimit ?? 3, cj.spec?.failedJobsHistoryLimit ?? 1)) {
      await ctx.writer.delete(JOBS, ns, j.metadata?.name ?? "", { propagationPolicy: "Background" });
      ctx.recorder.event(cached, "Normal", "SuccessfulDelete", `Deleted job ${j.metadata?.name ?? ""}`);
    }

    const write = async (): Promise<void> => {
      const s = { ...status, ...(status.active && status.active.length === 0 ? { active: undefined } : {}) };
      if (s.active === undefined) delete s.active;
      if (canonicalJson(s) !== canonicalJson(cj.status ?? {})) await updateStatusRetrying(ctx.writer, CRONJOBS, cached, s);
    };
    if (cj.metadata?.deletionTimestamp !== undefined) return write();

    let schedule;
    try {
      schedule = parseSchedule(cj.spec?.schedule ?? "", cj.spec?.timeZone ?? "");
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      const tz = /time zone/.test(msg);
      ctx.recorder.event(cached, "Warning", tz ? "UnknownTimeZone" : "UnparseableSchedule", tz ? `invalid timeZone: ${JSON.stringify(cj.spec?.timeZone ?? "")}: ${msg}` : `unparseable schedule: ${JSON.stringify(cj.spec?.schedule ?? "")} : ${msg}`);
      return write();
    }
    if (cj.spec?.suspend === true) return write();

    let earliest = Date.parse(status.lastScheduleTime ?? cj.metadata?.creationTimestamp ?? "") || nowMs;
    const sds = cj.spec?.startingDeadlineSeconds;
    if (sds !== undefined) earliest = Math.max(earliest, nowMs - sds * 1000);
    const m = missedSchedules(schedule, earliest, nowMs);
    const requeue = (): SyncResult | void => (m.next !== undefined ? { requeueAfterMs: m.next - nowMs + 100 } : undefined);
    if (m.missed > 100) ctx.recorder.event(cached, "Warning", "TooManyMissedTimes", "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew");
    const scheduled = m.mostRecent;
    if (scheduled === undefined) {
      await write();
      return requeue();
    }
    if (sds !== undefined && scheduled < nowMs - sds * 1000) {
      ctx.recorder.event(cached, "Warning", "MissSchedule", `Missed scheduled time to start a job: ${rfc3339In(scheduled, schedule.timeZone)}`);
      await write();
      return requeue();
    }
    const policy = cj.spec?.concurrencyPolicy ?? "Allow";
    if (policy === "Forbid" && active.length > 0) {
      ctx.recorder.event(cached, "Normal", "JobAlreadyActive", "Not starting job because prior execution is running and concurrency policy is Forbid");
      await write();
      return requeue();
    }
    if (policy === "Replace") {
      for (const ref of [...active]) {
        await ctx.writer.delete(JOBS, ns, ref.name ?? "", { propagationPolicy: "Background" });
        ctx.recorder.event(cached, "Normal", "SuccessfulDelete", `Deleted job ${ref.name ?? ""}`);
        active.splice(active.indexOf(ref), 1);
      }
    }
    const want = jobFromTemplate(cj, scheduled, schedule.timeZone);
    try {
      const created = await ctx.writer.create(JOBS, want as KubeObject) as Job;
      ctx.recorder.event(cached, "Normal", "SuccessfulCreate", `Created job ${created.metadata?.name ?? ""}`);
      active.push(refOf(created));
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 409)) {
        ctx.recorder.event(cached, "Warning", "FailedCreate", `Error creating job: ${e instanceof Error ? e.message : String(e)}`);
        await write();
        throw e;
      }
      // Already created for this time (an earlier attempt whose status write was lost).
    }
    status.lastScheduleTime = rfc3339(scheduled);
    await write();
    return requeue();
  }
}

export function newCronJobController(ctx: ControllerContext, queue: Queue): CronJobController {
  return new CronJobController(ctx, queue);
}
