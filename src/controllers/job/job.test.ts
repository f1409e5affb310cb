import { describe, expect, it } from "vitest";
import type { Job } from "../../api/generated/batch_v1.ts";
import type { KubeObject } from "../../api/object.ts";
import { JOBS, PODS } from "../framework/resources.ts";
import { fakeKit, pod } from "../framework/testing.ts";
import { JobController } from "./controller.ts";
import { backoffUntil, classifyPods, formatIndexes, parseIndexes, planJob, podForJob } from "./job.ts";

const T = Date.parse("2024-01-01T00:00:00Z");

function job(spec: Record<string, unknown> = {}, status: Record<string, unknown> = {}): Job {
  return {
    apiVersion: "batch/v1", kind: "Job",
    metadata: { name: "pi", namespace: "default", uid: "uid-job", resourceVersion: "3", generation: 1 },
    spec: { parallelism: 1, completions: 1, backoffLimit: 6, completionMode: "NonIndexed", template: { metadata: { labels: { "batch.kubernetes.io/job-name": "pi" } }, spec: { containers: [{ name: "c", image: "perl" }], restartPolicy: "Never" } }, ...spec },
    status,
  } as Job;
}

function jp(name: string, phase: string, extra: { idx?: number; finished?: string; deleting?: boolean; ready?: boolean } = {}): KubeObject {
  const p = pod(name, { phase, owner: job() as KubeObject, ownerKind: "Job", ...(extra.ready !== undefined ? { ready: extra.ready } : {}), ...(extra.deleting ? { deleting: true } : {}) });
  p["apiVersion"] = "v1";
  if (extra.idx !== undefined) p.metadata = { ...p.metadata, annotations: { "batch.kubernetes.io/job-completion-index": String(extra.idx) } };
  if (extra.finished) (p["status"] as Record<string, unknown>)["containerStatuses"] = [{ state: { terminated: { finishedAt: extra.finished } } }];
  return p;
}

describe("job pure functions", () => {
  it.each([
    ["", []], ["0", [0]], ["1,3-5,7", [1, 3, 4, 5, 7]], ["0-2,9", [0, 1, 2]], ["x,2", [2]],
  ])("parseIndexes(%j) below 5", (s, want) => {
    expect([...parseIndexes(s, 5)].sort()).toEqual(want.filter((x) => x < 5));
  });

  it.each([[[], ""], [[0], "0"], [[1, 3, 4, 5, 7], "1,3-5,7"], [[2, 1, 0], "0-2"]])("formatIndexes(%j)", (xs, want) => {
    expect(formatIndexes(xs)).toBe(want);
  });

  it("classifies pods", () => {
    const s = classifyPods([jp("a", "Running"), jp("b", "Succeeded"), jp("c", "Failed"), jp("d", "Running", { deleting: true })]);
    expect([s.active.length, s.succeeded.length, s.failed.length, s.terminating.length]).toEqual([1, 1, 1, 1]);
  });

  it.each([
    [[], 0],
    [["2024-01-01T00:00:00Z"], T + 10_000],
    [["2024-01-01T00:00:00Z", "2024-01-01T00:00:30Z"], T + 30_000 + 20_000],
    [Array.from({ length: 12 }, () => "2024-01-01T00:00:00Z"), T + 360_000],
  ])("backoff after failures %#", (fails, want) => {
    expect(backoffUntil(classifyPods(fails.map((f, i) => jp(`f${i}`, "Failed", { finished: f }))))).toBe(want);
  });

  it.each([
    { name: "creates parallelism pods", spec: { parallelism: 2, completions: 5 }, pods: [] as KubeObject[], create: 2, del: 0 },
    { name: "creates only what remains", spec: { parallelism: 3, completions: 2 }, pods: [jp("s", "Succeeded")], create: 1, del: 0 },
    { name: "deletes surplus when parallelism drops", spec: { parallelism: 1, completions: 5 }, pods: [jp("a", "Running"), jp("b", "Running")], create: 0, del: 1 },
    { name: "work queue: no new pods after a success", spec: { parallelism: 2, completions: undefined }, pods: [jp("s", "Succeeded"), jp("a", "Running")], create: 0, del: 0 },
    { name: "TerminatingOrFailed replaces terminating pods at once", spec: { completions: 1 }, pods: [jp("t", "Running", { deleting: true })], create: 1, del: 0 },
    { name: "podReplacementPolicy Failed waits for terminating pods", spec: { completions: 1, podReplacementPolicy: "Failed" }, pods: [jp("t", "Running", { deleting: true })], create: 0, del: 0 },
    { name: "waits for backoff after a fresh failure", spec: { completions: 1 }, pods: [jp("f", "Failed", { finished: "2024-01-01T00:00:00Z" })], create: 0, del: 0 },
  ])("plan: $name", ({ spec, pods, create, del }) => {
    const p = planJob(job(spec), pods, T + 1000);
    expect(p.create.length).toBe(create);
    expect(p.delete.length).toBe(del);
  });

  it("backoff expires: recreates, and asks to be re-checked while waiting", () => {
    const pods = [jp("f", "Failed", { finished: "2024-01-01T00:00:00Z" })];
    expect(planJob(job(), pods, T + 1000).recheckAt).toBe(T + 10_000);
    expect(planJob(job(), pods, T + 10_000).create.length).toBe(1);
  });

  it("completion: SuccessCriteriaMet then Complete with completionTime", () => {
    const p = planJob(job({}, { startTime: "2024-01-01T00:00:00Z" }), [jp("s", "Succeeded")], T + 5000);
    expect(p.status.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([["SuccessCriteriaMet", "True", "CompletionsReached"], ["Complete", "True", "CompletionsReached"]]);
    expect(p.status).toMatchObject({ succeeded: 1, active: 0, failed: 0, completionTime: "2024-01-01T00:00:05Z" });
    expect(p.events).toEqual([{ type: "Normal", reason: "Completed", message: "Job completed" }]);
  });

  it("backoff limit: FailureTarget, active pods deleted, then Failed once they are gone", () => {
    const fails = [jp("f1", "Failed"), jp("f2", "Failed")];
    const p = planJob(job({ backoffLimit: 1, parallelism: 2, completions: 3 }), [...fails, jp("a", "Running")], T);
    expect(p.status.conditions?.map((c) => [c.type, c.reason])).toEqual([["FailureTarget", "BackoffLimitExceeded"]]);
    expect(p.delete.map((x) => x.metadata?.name)).toEqual(["a"]);
    const j2 = job({ backoffLimit: 1 }, p.status as Record<string, unknown>);
    const p2 = planJob(j2, fails, T + 1000);
    expect(p2.status.conditions?.map((c) => [c.type, c.reason, c.message])).toEqual([
      ["FailureTarget", "BackoffLimitExceeded", "Job has reached the specified backoff limit"],
      ["Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit"],
    ]);
    expect(p2.status.failed).toBe(2);
  });

  it("activeDeadlineSeconds: DeadlineExceeded at startTime + deadline, re-check requested before", () => {
    const j = job({ activeDeadlineSeconds: 30 }, { startTime: "2024-01-01T00:00:00Z" });
    expect(planJob(j, [jp("a", "Running")], T + 10_000).recheckAt).toBe(T + 30_000);
    const p = planJob(j, [], T + 30_000);
    expect(p.status.conditions?.map((c) => [c.type, c.reason])).toEqual([["FailureTarget", "DeadlineExceeded"], ["Failed", "DeadlineExceeded"]]);
  });

  it("failed counts never go down", () => {
    expect(planJob(job({ completions: 2 }, { failed: 4 }), [jp("f", "Failed")], T + 3_600_000).status.failed).toBe(4);
  });

  it("suspend deletes active pods and sets Suspended; resume sets it False", () => {
    const p = planJob(job({ suspend: true }, { startTime: "2024-01-01T00:00:00Z" }), [jp("a", "Running")], T);
    expect(p.delete).toHaveLength(1);
    expect(p.status.startTime).toBeUndefined();
    expect(p.status.conditions?.[0]).toMatchObject({ type: "Suspended", status: "True", reason: "JobSuspended" });
    const r = planJob(job({}, p.status as Record<string, unknown>), [], T + 1000);
    expect(r.status.conditions?.[0]).toMatchObject({ type: "Suspended", status: "False", reason: "JobResumed" });
    expect(r.create).toHaveLength(1);
    expect(r.status.startTime).toBe("2024-01-01T00:00:01Z");
  });

  it("Indexed: creates the missing lowest indexes, records completedIndexes, deletes duplicates", () => {
    const j = job({ completionMode: "Indexed", completions: 5, parallelism: 3 });
    const p = planJob(j, [jp("s0", "Succeeded", { idx: 0 }), jp("a2", "Running", { idx: 2 }), jp("a2b", "Running", { idx: 2 }), jp("s3", "Succeeded", { idx: 3 })], T);
    expect(p.create).toEqual([1, 4]);
    expect(p.delete).toHaveLength(1);
    expect(p.status.completedIndexes).toBe("0,3");
    expect(p.status.succeeded).toBe(2);
  });

  it("Indexed pods carry the index annotation, label, hostname and env", () => {
    const p = podForJob(job({ completionMode: "Indexed", completions: 3 }), 2);
    expect(p.metadata?.generateName).toBe("pi-2-");
    expect(p.metadata?.annotations?.["batch.kubernetes.io/job-completion-index"]).toBe("2");
    expect(p.metadata?.labels).toMatchObject({ "batch.kubernetes.io/job-completion-index": "2", "batch.kubernetes.io/job-name": "pi" });
    const spec = p["spec"] as { hostname: string; containers: Array<{ env: unknown[] }> };
    expect(spec.hostname).toBe("pi-2");
    expect(spec.containers[0]?.env).toEqual([{ name: "JOB_COMPLETION_INDEX", valueFrom: { fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } } }]);
    expect(p.metadata?.ownerReferences?.[0]).toMatchObject({ kind: "Job", name: "pi", controller: true });
  });
});

describe("job controller sync", () => {
  function setup(j: Job, pods: KubeObject[] = []) {
    const kit = fakeKit();
    const c = new JobController(kit.ctx, kit.queue);
    kit.informers.seed(JOBS, j as KubeObject);
    kit.writer.seed(JOBS, j as KubeObject);
    for (const p of pods) { kit.informers.seed(PODS, p); kit.writer.seed(PODS, p); }
    return { ...kit, c };
  }

  it("creates pods and writes status with startTime and active", async () => {
    const k = setup(job({ parallelism: 2, completions: 4 }));
    await k.c.sync("default/pi");
    expect(k.writer.summary()).toEqual(["create pods default/pi-bgdn2", "create pods default/pi-dfhpf", "updateStatus jobs default/pi"].map((s) => expect.stringMatching(s.replace(/pi-\w+$/, "pi-")) as unknown as string));
    const st = k.writer.writes("updateStatus", "jobs")[0]?.object?.["status"];
    expect(st).toMatchObject({ active: 2, startTime: "2024-01-01T00:00:00Z", succeeded: 0, failed: 0 });
    expect(k.recorder.events.filter((e) => e.startsWith("Normal SuccessfulCreate Created pod: pi-"))).toHaveLength(2);
  });

  it("a finished pod enqueues the job; completion writes Complete and records an event", async () => {
    const j = job({}, { startTime: "2024-01-01T00:00:00Z", active: 1 });
    const k = setup(j, [jp("pi-x", "Succeeded")]);
    k.informers.add(PODS, jp("pi-x", "Succeeded"));
    expect(k.queue.keys).toEqual(["default/pi"]);
    await k.c.sync("default/pi");
    const st = (k.writer.stored(JOBS, "default", "pi") as Job | undefined)?.status;
    expect(st?.conditions?.map((c) => c.type)).toEqual(["SuccessCriteriaMet", "Complete"]);
    expect(k.recorder.events).toContain("Normal Completed Job completed");
  });

  it("backoff: returns a requeue for when the backoff ends", async () => {
    const k = setup(job({}, { startTime: "2024-01-01T00:00:00Z" }), [jp("f", "Failed", { finished: "2024-01-01T00:00:00Z" })]);
    expect(await k.c.sync("default/pi")).toEqual({ requeueAfterMs: 10_010 });
    expect(k.writer.writes("create", "pods")).toHaveLength(0);
  });

  it("leaves Jobs managed by another controller alone", async () => {
    const k = setup(job({ managedBy: "example.com/other" }));
    await k.c.sync("default/pi");
    expect(k.writer.summary()).toEqual([]);
  });
});
