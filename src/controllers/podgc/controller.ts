/**
 * The Pod GC controller: one key (`podgc`), synced every `periodMs` and shortly after relevant
 * pod and node events (batched: handlers add the key with a 1 s delay). Decisions in podgc.ts.
 * Pods are force-deleted (grace period 0) as upstream; a pod that was not finished is first
 * marked `phase: Failed` with a `DisruptionTarget` condition (reason `DeletionByPodGC`).
 */
import type { Node, Pod } from "../../api/generated/core_v1.ts";
import { ApiError } from "../../api/errors.ts";
import type { KubeObject } from "../../api/object.ts";
import type { Controller, ControllerContext, Queue, SyncResult } from "../framework/controller.ts";
import { NODES, PODS } from "../framework/resources.ts";
import { rfc3339 } from "../nodelifecycle/health.ts";
import { DEFAULT_PODGC, isTerminated, missingNodes, terminatedToDelete, terminatingOnOutOfService, unscheduledTerminating, type PodGcOptions } from "./podgc.ts";

export const NAME = "podgc";
export const KEY = "podgc";

export class PodGcController implements Controller {
  readonly name = NAME;
  readonly opts: PodGcOptions;
  /** Missing node -> when it was first seen missing (ms). */
  readonly quarantine = new Map<string, number>();

  constructor(private readonly ctx: ControllerContext, queue: Queue, opts: Partial<PodGcOptions> = {}) {
    this.opts = { ...DEFAULT_PODGC, ...opts };
    const kick = (): void => queue.addAfter(KEY, 1000);
    ctx.informers.on(PODS, {
      onAdd: (p) => { if (isTerminated(p as Pod) || p.metadata?.deletionTimestamp !== undefined) kick(); },
      onUpdate: (_o, p) => { if (isTerminated(p as Pod) || p.metadata?.deletionTimestamp !== undefined) kick(); },
    });
    ctx.informers.on(NODES, { onAdd: kick, onDelete: kick });
    queue.add(KEY);
  }

  async sync(_key: string): Promise<SyncResult | void> {
    const { ctx, opts } = this;
    const nowMs = ctx.now().getTime();
    const pods = ctx.informers.lister(PODS).list() as Pod[];
    const nodes = new Map((ctx.informers.lister(NODES).list() as Node[]).map((n) => [n.metadata?.name ?? "", n]));
    let failure: unknown;
    const attempt = async (f: () => Promise<void>): Promise<void> => {
      try { await f(); } catch (e) { failure ??= e; }
    };

    for (const p of terminatingOnOutOfService(pods, nodes)) await attempt(() => this.failAndDelete(p, "PodGC: node is out-of-service", nowMs));
    for (const p of terminatedToDelete(pods, opts.terminatedPodThreshold)) await attempt(() => this.forceDelete(p));

    const missing = missingNodes(pods, new Set(nodes.keys()));
    for (const n of [...this.quarantine.keys()]) if (!missing.has(n)) this.quarantine.delete(n);
    let nextCheck = nowMs + opts.periodMs;
    for (const n of missing) {
      const since = this.quarantine.get(n) ?? nowMs;
      this.quarantine.set(n, since);
      if (nowMs - since < opts.quarantineMs) {
        nextCheck = Math.min(nextCheck, since + opts.quarantineMs);
        continue;
      }
      // Confirm with a live read: the cache may lag a node that was just created.
      if (await ctx.writer.get(NODES, "", n)) {
        this.quarantine.delete(n);
        continue;
      }
      for (const p of pods) if (p.spec?.nodeName === n) await attempt(() => this.failAndDelete(p, "PodGC: node no longer exists", nowMs));
      this.quarantine.delete(n);
    }
    for (const p of unscheduledTerminating(pods)) await attempt(() => this.forceDelete(p));
    if (failure !== undefined) throw failure instanceof Error ? failure : new Error(String(failure));
    return { requeueAfterMs: Math.max(10, nextCheck - nowMs) };
  }

  private async forceDelete(p: Pod): Promise<void> {
    await this.ctx.writer.delete(PODS, p.metadata?.namespace ?? "", p.metadata?.name ?? "", { gracePeriodSeconds: 0 });
  }

  private async failAndDelete(p: Pod, message: string, nowMs: number): Promise<void> {
    if (!isTerminated(p)) {
      try {
        await this.ctx.writer.patch(PODS, p.metadata?.namespace ?? "", p.metadata?.name ?? "", {
          status: { phase: "Failed", conditions: [{ type: "DisruptionTarget", status: "True", reason: "DeletionByPodGC", message, lastTransitionTime: rfc3339(nowMs) }] },
        }, "strategic", "status");
      } catch (e) {
        if (e instanceof ApiError && e.code === 404) return;
        throw e;
      }
    }
    this.ctx.recorder.event(p as KubeObject, "Normal", "PodGCDeletion", message);
    await this.forceDelete(p);
  }
}

/** `TUG_TERMINATED_POD_GC_THRESHOLD` (count) and `TUG_POD_GC_QUARANTINE` (seconds) from the environment. */
export function optionsFromEnv(env: Readonly<Record<string, string | undefined>>): Partial<PodGcOptions> {
  const o: { -readonly [K in keyof PodGcOptions]?: PodGcOptions[K] } = {};
  const t = env["TUG_TERMINATED_POD_GC_THRESHOLD"];
  if (t !== undefined && t !== "") {
    if (!/^\d+$/.test(t)) throw new Error(`invalid TUG_TERMINATED_POD_GC_THRESHOLD ${JSON.stringify(t)} (want a count >= 0)`);
    o.terminatedPodThreshold = Number(t);
  }
  const q = env["TUG_POD_GC_QUARANTINE"];
  if (q !== undefined && q !== "") {
    if (!/^\d+(\.\d+)?$/.test(q)) throw new Error(`invalid TUG_POD_GC_QUARANTINE ${JSON.stringify(q)} (want seconds)`);
    o.quarantineMs = Number(q) * 1000;
  }
  return o;
}

export function newPodGcController(ctx: ControllerContext, queue: Queue): PodGcController {
  let opts: Partial<PodGcOptions> = {};
  try {
    opts = optionsFromEnv(process.env);
  } catch (e) {
    ctx.log(`podgc: ignoring the environment, using defaults: ${e instanceof Error ? e.message : String(e)}`);
  }
  return new PodGcController(ctx, queue, opts);
}
