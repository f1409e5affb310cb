/** batch/v1: jobs and cronjobs. */
import {
  invalid, notSupported, required, validateImmutable, validateNonnegative, type FieldError,
} from "../../../api/validation/field.ts";
import { selectorMatches, validateLabelSelector } from "../../../api/validation/meta.ts";
import { bool, ensure, isRecord, num, rec, recs, setDefault, str, strMap, type Json } from "./_access.ts";
import {
  AGE_COLUMN, CONTAINERS_COLUMN, IMAGES_COLUMN, NAME_COLUMN, ageOf, col, defineStrategy, nameOf, printer,
} from "./_base.ts";
import { cronScheduleError, isTimeZone } from "./_cron.ts";
import { humanDuration, translateTimestampSince } from "./_duration.ts";
import { defaultPodTemplate, validatePodTemplate } from "./_podspec.ts";
import { boolCell, formatLabelSelector, layoutContainerCells } from "./_printers.ts";

const JOB_RESTART = ["OnFailure", "Never"];
const CONTROLLER_UID = "batch.kubernetes.io/controller-uid";
const LEGACY_CONTROLLER_UID = "controller-uid";
const JOB_NAME = "batch.kubernetes.io/job-name";
const LEGACY_JOB_NAME = "job-name";

function defaultJobSpec(spec: Json): void {
  if (spec.completions === undefined && spec.parallelism === undefined) { spec.completions = 1; spec.parallelism = 1; }
  setDefault(spec, "parallelism", 1);
  setDefault(spec, "backoffLimit", spec.backoffLimitPerIndex !== undefined ? 2147483647 : 6);
  setDefault(spec, "completionMode", "NonIndexed");
  setDefault(spec, "suspend", false);
  setDefault(spec, "podReplacementPolicy", spec.podFailurePolicy !== undefined ? "Failed" : "TerminatingOrFailed");
  defaultPodTemplate(rec(spec, "template"));
}

/** Upstream `generateSelector`: job-name and controller-uid labels plus the uid selector. */
export function generateJobSelector(job: Json): void {
  const spec = ensure(job, "spec");
  if (spec.manualSelector === true) return;
  const name = str(job, "metadata", "name") ?? "";
  const uid = str(job, "metadata", "uid") ?? "";
  const labels = ensure(spec, "template", "metadata", "labels");
  for (const k of [LEGACY_JOB_NAME, JOB_NAME]) if (labels[k] === undefined) labels[k] = name;
  for (const k of [LEGACY_CONTROLLER_UID, CONTROLLER_UID]) if (labels[k] === undefined) labels[k] = uid;
  const ml = ensure(spec, "selector", "matchLabels");
  if (ml[CONTROLLER_UID] === undefined) ml[CONTROLLER_UID] = uid;
}

/** Job spec rules shared by Job and CronJob.jobTemplate (no selector requirement here). */
function validateJobSpecCommon(spec: Json, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const f of ["parallelism", "completions", "activeDeadlineSeconds", "backoffLimit", "ttlSecondsAfterFinished"]) {
    errs.push(...validateNonnegative(num(spec, f), `${path}.${f}`));
  }
  const cm = spec.completionMode;
  if (cm !== undefined && cm !== "NonIndexed" && cm !== "Indexed") errs.push(notSupported(`${path}.completionMode`, cm, ["NonIndexed", "Indexed"]));
  if (cm === "Indexed" && spec.completions === undefined) errs.push(required(`${path}.completions`, "when completion mode is Indexed"));
  errs.push(...validatePodTemplate(spec.template, `${path}.template`, JOB_RESTART));
  return errs;
}

function validateJob(job: Json): FieldError[] {
  const spec = rec(job, "spec") ?? {};
  const errs: FieldError[] = [];
  const sel = spec.selector;
  if (!isRecord(sel)) errs.push(required("spec.selector"));
  else {
    errs.push(...validateLabelSelector(sel, "spec.selector"));
    const labels = strMap(spec, "template", "metadata", "labels");
    if (!selectorMatches(sel, labels)) errs.push(invalid("spec.template.metadata.labels", labels ?? {}, "`selector` does not match template `labels`"));
    if (spec.manualSelector !== true) {
      const uid = str(job, "metadata", "uid") ?? "";
      if (uid === "") errs.push(required("metadata.uid"));
      else if (str(sel, "matchLabels", CONTROLLER_UID) !== uid) errs.push(invalid("spec.selector", sel, "`selector` not auto-generated"));
    }
  }
  errs.push(...validateJobSpecCommon(spec, "spec"));
  return errs;
}

function validateJobUpdate(job: Json, old: Json): FieldError[] {
  const s = rec(job, "spec") ?? {};
  const o = rec(old, "spec") ?? {};
  return [
    ...validateImmutable(s.completions, o.completions, "spec.completions"),
    ...validateImmutable(s.selector, o.selector, "spec.selector"),
    ...validateImmutable(s.template, o.template, "spec.template"),
    ...validateImmutable(s.completionMode, o.completionMode, "spec.completionMode"),
    ...validateImmutable(s.podFailurePolicy, o.podFailurePolicy, "spec.podFailurePolicy"),
  ];
}

const hasCondition = (job: Json, type: string): boolean =>
  recs(job, "status", "conditions").some((c) => c.type === type && c.status === "True");

function jobStatusCell(job: Json): string {
  if (hasCondition(job, "Complete")) return "Complete";
  if (hasCondition(job, "Failed")) return "Failed";
  if (str(job, "metadata", "deletionTimestamp")) return "Terminating";
  if (hasCondition(job, "Suspended")) return "Suspended";
  if (hasCondition(job, "FailureTarget")) return "FailureTarget";
  if (hasCondition(job, "SuccessCriteriaMet")) return "SuccessCriteriaMet";
  return "Running";
}

function jobCompletionsCell(job: Json): string {
  const succeeded = num(job, "status", "succeeded") ?? 0;
  const completions = num(job, "spec", "completions");
  if (completions !== undefined) return `${succeeded}/${completions}`;
  const parallelism = num(job, "spec", "parallelism") ?? 0;
  return parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
}

function jobDurationCell(job: Json, now: Date): string {
  const start = Date.parse(str(job, "status", "startTime") ?? "");
  if (Number.isNaN(start)) return "";
  const done = Date.parse(str(job, "status", "completionTime") ?? "");
  return humanDuration((Number.isNaN(done) ? now.getTime() : done) - start);
}

export const jobs = defineStrategy({
  group: "batch", kind: "Job", plural: "jobs", namespaced: true,
  statusSubresource: true, tracksGeneration: true,
  defaults: (job) => {
    const spec = ensure(job, "spec");
    const tl = strMap(spec, "template", "metadata", "labels");
    const ml = strMap(job, "metadata", "labels");
    if (tl && (!ml || Object.keys(ml).length === 0)) ensure(job, "metadata").labels = { ...tl };
    defaultJobSpec(spec);
  },
  prepareCreate: (job) => {
    const m = ensure(job, "metadata");
    // The selector embeds the uid; the REST layer normally fills it first, see docs/strategies.md.
    if (!m.uid) m.uid = crypto.randomUUID();
    generateJobSelector(job);
  },
  validate: validateJob,
  validateUpdate: validateJobUpdate,
  fields: (job) => ({ "status.successful": String(num(job, "status", "succeeded") ?? 0) }),
  table: printer([
    NAME_COLUMN,
    col("Status", "string", "Summary of the job's conditions."),
    col("Completions", "string", "Succeeded pods out of the desired completions."),
    col("Duration", "string", "Time the job ran (or has been running)."),
    AGE_COLUMN, CONTAINERS_COLUMN, IMAGES_COLUMN,
    col("Selector", "string", "Label selector of the job's pods.", 1),
  ], (job, now) => {
    const [names, images] = layoutContainerCells(rec(job, "spec", "template", "spec"));
    return [
      nameOf(job), jobStatusCell(job), jobCompletionsCell(job), jobDurationCell(job, now), ageOf(job, now),
      names, images, formatLabelSelector(rec(job, "spec", "selector")),
    ];
  }),
});

// ---- CronJob ----

const CONCURRENCY = ["Allow", "Forbid", "Replace"];

function validateCronJob(cj: Json): FieldError[] {
  const errs: FieldError[] = [];
  const name = str(cj, "metadata", "name") ?? "";
  if (name.length > 52) errs.push(invalid("metadata.name", name, "must be no more than 52 characters"));
  const spec = rec(cj, "spec") ?? {};
  const schedule = str(spec, "schedule") ?? "";
  if (schedule === "") errs.push(required("spec.schedule"));
  else {
    const err = cronScheduleError(schedule);
    if (err) errs.push(invalid("spec.schedule", schedule, err));
    if (schedule.includes("TZ")) errs.push(invalid("spec.schedule", schedule, "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"));
  }
  const tz = spec.timeZone;
  if (typeof tz === "string") {
    if (tz.includes(" ") || !isTimeZone(tz)) errs.push(invalid("spec.timeZone", tz, `unknown time zone ${tz}`));
  }
  const cp = spec.concurrencyPolicy;
  if (cp === undefined || cp === "") errs.push(required("spec.concurrencyPolicy"));
  else if (typeof cp !== "string" || !CONCURRENCY.includes(cp)) errs.push(notSupported("spec.concurrencyPolicy", cp, CONCURRENCY));
  for (const f of ["startingDeadlineSeconds", "successfulJobsHistoryLimit", "failedJobsHistoryLimit"]) {
    errs.push(...validateNonnegative(num(spec, f), `spec.${f}`));
  }
  const jt = rec(spec, "jobTemplate");
  errs.push(...validateJobSpecCommon(rec(jt, "spec") ?? {}, "spec.jobTemplate.spec"));
  return errs;
}

export const cronjobs = defineStrategy({
  group: "batch", kind: "CronJob", plural: "cronjobs", namespaced: true,
  statusSubresource: true, tracksGeneration: true,
  defaults: (cj) => {
    const spec = ensure(cj, "spec");
    setDefault(spec, "concurrencyPolicy", "Allow");
    setDefault(spec, "suspend", false);
    setDefault(spec, "successfulJobsHistoryLimit", 3);
    setDefault(spec, "failedJobsHistoryLimit", 1);
    defaultPodTemplate(rec(spec, "jobTemplate", "spec", "template"));
  },
  validate: validateCronJob,
  table: printer([
    NAME_COLUMN,
    col("Schedule", "string", "Cron schedule."),
    col("Timezone", "string", "Time zone the schedule is read in."),
    col("Suspend", "boolean", "Whether new runs are suspended."),
    col("Active", "integer", "Jobs currently running."),
    col("Last Schedule", "string", "Time since a job was last scheduled."),
    AGE_COLUMN, CONTAINERS_COLUMN, IMAGES_COLUMN,
    col("Selector", "string", "Label selector of the job template.", 1),
  ], (cj, now) => {
    const [names, images] = layoutContainerCells(rec(cj, "spec", "jobTemplate", "spec", "template", "spec"));
    const last = str(cj, "status", "lastScheduleTime");
    return [
      nameOf(cj), str(cj, "spec", "schedule") ?? "", str(cj, "spec", "timeZone") ?? "<none>",
      boolCell(bool(cj, "spec", "suspend")), recs(cj, "status", "active").length,
      last ? translateTimestampSince(last, now) : "<none>", ageOf(cj, now), names, images,
      formatLabelSelector(rec(cj, "spec", "jobTemplate", "spec", "selector")),
    ];
  }),
});
