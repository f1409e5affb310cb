import { describe, expect, it } from "vitest";
import type { CronJob, Job } from "../../api/generated/batch_v1.ts";
import type { KubeObject } from "../../api/object.ts";
import { CRONJOBS, JOBS } from "../framework/resources.ts";
import { fakeKit } from "../framework/testing.ts";
import { CronJobController, jobName, jobsToPrune } from "./controller.ts";
import { missedSchedules, parseSchedule, rfc3339In } from "./schedule.ts";

const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());
const at = (s: string): number => Date.parse(s);

describe("cron schedules", () => {
  it.each([
    ["*/15 * * * *", "", "2024-01-01T00:07:00Z", "2024-01-01T00:15:00.000Z"],
    ["0 9 * * mon-fri", "", "2024-01-05T10:00:00Z", "2024-01-08T09:00:00.000Z"],
    ["30 2 1 * *", "", "2024-01-31T00:00:00Z", "2024-02-01T02:30:00.000Z"],
    ["0 0 29 2 *", "", "2024-03-01T00:00:00Z", "2028-02-29T00:00:00.000Z"],
    ["@hourly", "", "2024-01-01T00:00:00Z", "2024-01-01T01:00:00.000Z"],
    ["@daily", "", "2024-01-01T00:00:01Z", "2024-01-02T00:00:00.000Z"],
    ["@weekly", "", "2024-01-01T00:00:00Z", "2024-01-07T00:00:00.000Z"],
    ["0 0 1,15 * 5", "", "2024-01-01T00:00:00Z", "2024-01-05T00:00:00.000Z"], // dom OR dow
    ["0 9 * * *", "Europe/Berlin", "2024-07-01T00:00:00Z", "2024-07-01T07:00:00.000Z"],
    ["0 9 * * *", "America/New_York", "2024-01-01T00:00:00Z", "2024-01-01T14:00:00.000Z"],
    ["TZ=Asia/Tokyo 0 9 * * *", "", "2024-01-01T00:00:00Z", "2024-01-02T00:00:00.000Z"],
    ["@every 90s", "", "2024-01-01T00:00:00Z", "2024-01-01T00:01:30.000Z"],
    ["0 0 31 2 *", "", "2024-01-01T00:00:00Z", undefined],
  ])("%s in %j after %s", (sched, tz, after, want) => {
    expect(iso(parseSchedule(sched, tz).next(at(after)))).toBe(want);
  });

  it.each([
    ["* * * *", "", "expected exactly 5 fields, found 4: [* * * *]"],
    ["61 * * * *", "", "end of range (61) above maximum (59): 61"],
    ["@fortnightly", "", "unrecognized descriptor: @fortnightly"],
    ["* * * * *", "Mars/Olympus", "unknown time zone Mars/Olympus"],
  ])("rejects %j (zone %j)", (sched, tz, msg) => {
    expect(() => parseSchedule(sched, tz)).toThrow(msg);
  });

  it("counts missed times and finds the most recent without walking long gaps", () => {
    const s = parseSchedule("* * * * *");
    const r = missedSchedules(s, at("2024-01-01T00:00:00Z"), at("2024-01-01T00:03:30Z"));
    expect([iso(r.mostRecent), r.missed, iso(r.next)]).toEqual(["2024-01-01T00:03:00.000Z", 3, "2024-01-01T00:04:00.000Z"]);
    const far = missedSchedules(s, at("2023-01-01T00:00:00Z"), at("2024-01-01T00:03:30Z"));
    expect([iso(far.mostRecent), far.missed]).toEqual(["2024-01-01T00:03:00.000Z", 101]);
    expect(missedSchedules(s, at("2024-01-01T00:00:10Z"), at("2024-01-01T00:00:50Z")).mostRecent).toBeUndefined();
  });

  it("formats scheduled times in the zone", () => {
    expect(rfc3339In(at("2024-07-01T07:00:00Z"), "Europe/Berlin")).toBe("2024-07-01T09:00:00+02:00");
    expect(rfc3339In(at("2024-07-01T07:00:00Z"), "UTC")).toBe("2024-07-01T07:00:00Z");
  });
});

function cronJob(spec: Record<string, unknown> = {}, status: Record<string, unknown> = {}): CronJob {
  return {
    apiVersion: "batch/v1", kind: "CronJob",
    metadata: { name: "tick", namespace: "default", uid: "uid-cj", resourceVersion: "2", creationTimestamp: "2024-01-01T00:00:00Z" },
    spec: { schedule: "*/5 * * * *", concurrencyPolicy: "Allow", suspend: false, successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 1, jobTemplate: { metadata: { labels: { team: "a" } }, spec: { template: { spec: { containers: [{ name: "c", image: "busybox" }], restartPolicy: "OnFailure" } } } }, ...spec },
    status,
  } as CronJob;
}

function ownedJob(name: string, state: "Complete" | "Failed" | undefined, start = "2024-01-01T00:00:00Z"): Job {
  return {
    apiVersion: "batch/v1", kind: "Job",
    metadata: { name, namespace: "default", uid: `uid-${name}`, resourceVersion: "1", creationTimestamp: start, ownerReferences: [{ apiVersion: "batch/v1", kind: "CronJob", name: "tick", uid: "uid-cj", controller: true }] },
    spec: {},
    status: { startTime: start, ...(state ? { conditions: [{ type: state, status: "True" }], ...(state === "Complete" ? { completionTime: start } : {}) } : {}) },
  } as Job;
}

describe("cronjob controller with a test clock", () => {
  function setup(cj: CronJob, jobs: Job[] = [], now = "2024-01-01T00:04:00Z") {
    const kit = fakeKit(now);
    const c = new CronJobController(kit.ctx, kit.queue);
    kit.informers.seed(CRONJOBS, cj as KubeObject);
    kit.writer.seed(CRONJOBS, cj as KubeObject);
    for (const j of jobs) { kit.informers.seed(JOBS, j as KubeObject); kit.writer.seed(JOBS, j as KubeObject); }
    return { ...kit, c };
  }

  it("does nothing before the first time, then fires when the clock reaches it", async () => {
    const k = setup(cronJob());
    expect(await k.c.sync("default/tick")).toEqual({ requeueAfterMs: 60_100 });
    expect(k.writer.summary()).toEqual([]);
    k.setNow("2024-01-01T00:05:00Z");
    expect(await k.c.sync("default/tick")).toEqual({ requeueAfterMs: 300_100 });
    const name = jobName("tick", at("2024-01-01T00:05:00Z"));
    expect(name).toBe("tick-28401125");
    expect(k.writer.summary()).toEqual([`create jobs default/${name}`, "updateStatus cronjobs default/tick"]);
    const job = (k.writer.stored(JOBS, "default", name) as Job | undefined);
    expect(job?.metadata?.labels).toEqual({ team: "a" });
    expect(job?.metadata?.annotations?.["batch.kubernetes.io/cronjob-scheduled-timestamp"]).toBe("2024-01-01T00:05:00Z");
    expect(job?.metadata?.ownerReferences?.[0]).toMatchObject({ kind: "CronJob", name: "tick", controller: true });
    const st = (k.writer.stored(CRONJOBS, "default", "tick") as CronJob | undefined)?.status;
    expect(st?.lastScheduleTime).toBe("2024-01-01T00:05:00Z");
    expect(st?.active?.map((r) => r.name)).toEqual([name]);
    expect(k.recorder.events).toEqual([`Normal SuccessfulCreate Created job ${name}`]);
  });

  it("Forbid skips while a job is active; Replace deletes it first", async () => {
    const running = ownedJob("tick-1", undefined);
    const status = { active: [{ apiVersion: "batch/v1", kind: "Job", name: "tick-1", namespace: "default", uid: "uid-tick-1" }], lastScheduleTime: "2024-01-01T00:00:00Z" };
    const f = setup(cronJob({ concurrencyPolicy: "Forbid" }, status), [running], "2024-01-01T00:05:00Z");
    await f.c.sync("default/tick");
    expect(f.writer.writes("create", "jobs")).toHaveLength(0);
    expect(f.recorder.events).toContain("Normal JobAlreadyActive Not starting job because prior execution is running and concurrency policy is Forbid");
    const r = setup(cronJob({ concurrencyPolicy: "Replace" }, status), [running], "2024-01-01T00:05:00Z");
    await r.c.sync("default/tick");
    expect(r.writer.summary().slice(0, 2)).toEqual(["delete jobs default/tick-1", "create jobs default/tick-28401125"]);
  });

  it("startingDeadlineSeconds: a time missed by more than the deadline is not started", async () => {
    const k = setup(cronJob({ startingDeadlineSeconds: 10 }, { lastScheduleTime: "2024-01-01T00:00:00Z" }), [], "2024-01-01T00:05:30Z");
    await k.c.sync("default/tick");
    expect(k.writer.writes("create", "jobs")).toHaveLength(0);
    k.setNow("2024-01-01T00:05:05Z");
    await k.c.sync("default/tick");
    expect(k.writer.writes("create", "jobs")).toHaveLength(1);
  });

  it("suspend: no jobs; finished jobs leave active and set lastSuccessfulTime; history pruned", async () => {
    const jobs = [ownedJob("tick-a", "Complete", "2024-01-01T00:00:00Z"), ownedJob("tick-b", "Complete", "2024-01-01T00:01:00Z"), ownedJob("tick-c", "Failed", "2024-01-01T00:02:00Z"), ownedJob("tick-d", "Failed", "2024-01-01T00:03:00Z")];
    const k = setup(cronJob({ suspend: true, successfulJobsHistoryLimit: 1, failedJobsHistoryLimit: 1 }, { active: [{ name: "tick-b", uid: "uid-tick-b" }] }), jobs, "2024-01-01T00:10:00Z");
    await k.c.sync("default/tick");
    expect(k.writer.summary()).toEqual(["delete jobs default/tick-a", "delete jobs default/tick-c", "updateStatus cronjobs default/tick"]);
    const st = (k.writer.stored(CRONJOBS, "default", "tick") as CronJob | undefined)?.status;
    expect(st?.active).toBeUndefined();
    expect(st?.lastSuccessfulTime).toBe("2024-01-01T00:01:00Z");
    expect(k.recorder.events[0]).toBe("Normal SawCompletedJob Saw completed job: tick-b, condition: Complete");
  });

  it("an active Job missing from the cache is kept when the apiserver still has it, dropped when gone", async () => {
    const status = { active: [{ name: "tick-new", uid: "uid-tick-new" }, { name: "tick-gone", uid: "uid-tick-gone" }], lastScheduleTime: "2024-01-01T00:00:00Z" };
    const k = setup(cronJob({ suspend: true }, status), [], "2024-01-01T00:01:00Z");
    k.writer.seed(JOBS, ownedJob("tick-new", undefined) as KubeObject);
    await k.c.sync("default/tick");
    expect(k.writer.calls.filter((c) => c.verb === "get").map((c) => c.name)).toEqual(["tick-new", "tick-gone"]);
    const st = (k.writer.stored(CRONJOBS, "default", "tick") as CronJob | undefined)?.status;
    expect(st?.active?.map((r) => r.name)).toEqual(["tick-new"]);
  });

  it("an unparseable schedule is a Warning event, not an error", async () => {
    const k = setup(cronJob({ schedule: "not a schedule" }));
    await k.c.sync("default/tick");
    expect(k.recorder.events[0]).toMatch(/^Warning UnparseableSchedule unparseable schedule: "not a schedule" : expected exactly 5 fields/);
  });

  it("jobsToPrune keeps the newest per state", () => {
    const jobs = [ownedJob("a", "Complete", "2024-01-01T00:00:00Z"), ownedJob("b", "Complete", "2024-01-01T00:01:00Z"), ownedJob("c", undefined)];
    expect(jobsToPrune(jobs, 1, 1).map((j) => j.metadata?.name)).toEqual(["a"]);
    expect(jobsToPrune(jobs, 0, 0).map((j) => j.metadata?.name)).toEqual(["a", "b"]);
  });
});
