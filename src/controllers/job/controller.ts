/**
 * The Job controller: runs a Job's pods to completion (see job.ts for the decisions).
 *
 * Handlers enqueue Job keys: Job events, and pod events of pods a Job controls (found by the
 * pod's controller reference). `sync(key)` reads the Job and its pods (the `ownerUid` index) from
 * the caches, plans with `planJob`, creates/deletes pods (guarded by expectations so a sync does
 * not act twice on writes it has not observed yet) and writes the status. Deadlines and backoff
 * come back as `requeueAfterMs`.
 */
import type { Job } from "../../api/generated/batch_v1.ts";
import type { KubeObject } from "../../api/object.ts";
import { keyOf } from "../../client/indexer.ts";
import type { Controller, ControllerContext, Queue, SyncResult } from "../framework/controller.ts";
import { Expectations } from "../framework/expectations.ts";
import { OWNER_UID_INDEX } from "../framework/informers.ts";
import { controllerOf } from "../framework/ownerrefs.ts";
import { JOBS, PODS } from "../framework/resources.ts";
import { updateStatusRetrying } from "../framework/writer.ts";
import { canonicalJson } from "../deployment/hash.ts";
import { planJob, podForJob } from "./job.ts";

export const NAME = "job";

export class JobController implements Controller {
  readonly name = NAME;
  readonly expectations = new Expectations();

  constructor(private readonly ctx: ControllerContext, queue: Queue) {
    ctx.informers.on(JOBS, {
      onAdd: (j) => queue.add(keyOf(j)),
      onUpdate: (_o, j) => queue.add(keyOf(j)),
      onDelete: (j) => { this.expectations.forget(keyOf(j)); queue.add(keyOf(j)); },
    });
    const owner = (p: KubeObject): string | undefined => {
      const ref = controllerOf(p);
      return ref && ref.kind === "Job" ? `${p.metadata?.namespace ?? ""}/${ref.name}` : undefined;
    };
    ctx.informers.on(PODS, {
      onAdd: (p) => {
        const k = owner(p);
        if (!k) return;
        this.expectations.creationObserved(k);
        queue.add(k);
      },
      onUpdate: (o, p) => {
        const k = owner(p);
        if (!k) return;
        if (o.metadata?.deletionTimestamp === undefined && p.metadata?.deletionTimestamp !== undefined) this.expectations.deletionObserved(k, keyOf(p));
        queue.add(k);
      },
      onDelete: (p) => {
        const k = owner(p);
        if (!k) return;
        this.expectations.deletionObserved(k, keyOf(p));
        queue.add(k);
      },
    });
  }

  async sync(key: string): Promise<SyncResult | void> {
    const { ctx } = this;
    const cached = ctx.informers.lister(JOBS).get(key);
    if (!cached) {
      this.expectations.forget(key);
      return;
    }
    const job = cached as Job; // objects from the Job cache
    if (job.metadata?.deletionTimestamp !== undefined) return;
    if (job.spec?.managedBy !== undefined && job.spec.managedBy !== "kubernetes.io/job-controller") return;
    const nowMs = ctx.now().getTime();
    const pods = ctx.informers.lister(PODS).byIndex(OWNER_UID_INDEX, job.metadata?.uid ?? "").filter((p) => controllerOf(p)?.uid === job.metadata?.uid);
    const plan = planJob(job, pods, nowMs);
    const satisfied = this.expectations.satisfied(key, nowMs);
    let firstError: unknown;
    if (satisfied && (plan.create.length > 0 || plan.delete.length > 0)) {
      this.expectations.expect(key, plan.create.length, plan.delete.map(keyOf), nowMs);
      const ns = job.metadata?.namespace ?? "";
      const dels = await Promise.allSettled(plan.delete.map((p) => ctx.writer.delete(PODS, ns, p.metadata?.name ?? "")));
      dels.forEach((r, i) => {
        const p = plan.delete[i]!;
        if (r.status === "fulfilled") ctx.recorder.event(cached, "Normal", "SuccessfulDelete", `Deleted pod: ${p.metadata?.name ?? ""}`);
        else {
          firstError ??= r.reason;
          this.expectations.deletionObserved(key, keyOf(p));
        }
      });
      const creates = await Promise.allSettled(plan.create.map((i) => ctx.writer.create(PODS, podForJob(job, i))));
      for (const r of creates) {
        if (r.status === "fulfilled") ctx.recorder.event(cached, "Normal", "SuccessfulCreate", `Created pod: ${r.value.metadata?.name ?? ""}`);
        else {
          firstError ??= r.reason;
          this.expectations.lowerCreations(key, 1);
          ctx.recorder.event(cached, "Warning", "FailedCreate", `Error creating: ${r.reason instanceof Error ? r.reason.message : String(r.reason)}`);
        }
      }
    }
    // While own writes are unobserved, the counts in the plan may be stale: keep the old status.
    const status = satisfied ? plan.status : { ...(job.status ?? {}) };
    if (canonicalJson(status) !== canonicalJson(job.status ?? {})) {
      const updated = await updateStatusRetrying(ctx.writer, JOBS, cached, status);
      if (updated) for (const e of plan.events) ctx.recorder.event(cached, e.type, e.reason, e.message);
    }
    if (firstError !== undefined) throw firstError instanceof Error ? firstError : new Error(String(firstError));
    if (plan.recheckAt !== undefined) return { requeueAfterMs: Math.max(0, plan.recheckAt - nowMs) + 10 };
  }
}

export function newJobController(ctx: ControllerContext, queue: Queue): JobController {
  return new JobController(ctx, queue);
}
