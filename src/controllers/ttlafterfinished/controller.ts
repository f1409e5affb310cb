/**
 * TTL after finished: deletes a Job `ttlSecondsAfterFinished` seconds after it finished (its
 * Complete/Failed condition's transition time, else completionTime). Before deleting, the Job is
 * read live (the cache may be stale: the TTL may have been changed or the Job re-created) and the
 * delete carries the uid and resourceVersion as preconditions, with Foreground propagation so its
 * pods go first — as upstream.
 */
import type { Job } from "../../api/generated/batch_v1.ts";
import { ApiError } from "../../api/errors.ts";
import type { KubeObject } from "../../api/object.ts";
import { keyOf, splitKey } from "../../client/indexer.ts";
import type { Controller, ControllerContext, Queue, SyncResult } from "../framework/controller.ts";
import { JOBS } from "../framework/resources.ts";

export const NAME = "ttl-after-finished";

/** When the Job finished (ms), or undefined while it runs. */
export function finishedAt(job: Job): number | undefined {
  const c = (job.status?.conditions ?? []).find((x) => (x.type === "Complete" || x.type === "Failed") && x.status === "True");
  if (!c) return undefined;
  const t = Date.parse(c.lastTransitionTime ?? job.status?.completionTime ?? "");
  return Number.isFinite(t) ? t : undefined;
}

/** When the Job expires (ms): undefined without a TTL, while running, or while being deleted. */
export function expiresAt(job: Job): number | undefined {
  const ttl = job.spec?.ttlSecondsAfterFinished;
  if (ttl === undefined || job.metadata?.deletionTimestamp !== undefined) return undefined;
  const f = finishedAt(job);
  return f === undefined ? undefined : f + ttl * 1000;
}

export class TtlAfterFinishedController implements Controller {
  readonly name = NAME;

  constructor(private readonly ctx: ControllerContext, queue: Queue) {
    const enqueue = (j: Job): void => {
      if (expiresAt(j) !== undefined) queue.add(keyOf(j as KubeObject));
    };
    ctx.informers.on(JOBS, { onAdd: (j) => enqueue(j as Job), onUpdate: (_o, j) => enqueue(j as Job) });
  }

  async sync(key: string): Promise<SyncResult | void> {
    const { ctx } = this;
    const cached = ctx.informers.lister(JOBS).get(key) as Job | undefined; // objects from the Job cache
    if (!cached) return;
    const nowMs = ctx.now().getTime();
    let exp = expiresAt(cached);
    if (exp === undefined) return;
    if (exp > nowMs) return { requeueAfterMs: exp - nowMs };
    const { namespace, name } = splitKey(key);
    const fresh = (await ctx.writer.get(JOBS, namespace, name)) as Job | undefined;
    if (!fresh || fresh.metadata?.uid !== cached.metadata?.uid) return;
    exp = expiresAt(fresh);
    if (exp === undefined) return;
    if (exp > nowMs) return { requeueAfterMs: exp - nowMs };
    try {
      await ctx.writer.delete(JOBS, namespace, name, {
        propagationPolicy: "Foreground",
        preconditions: { uid: fresh.metadata?.uid ?? "", resourceVersion: fresh.metadata?.resourceVersion ?? "" },
      });
    } catch (e) {
      if (e instanceof ApiError && e.code === 409) throw new Error(`job ${key} changed while being deleted; retrying`);
      throw e;
    }
  }
}

export function newTtlAfterFinishedController(ctx: ControllerContext, queue: Queue): TtlAfterFinishedController {
  return new TtlAfterFinishedController(ctx, queue);
}
