/**
 * The StatefulSet controller (see sts.ts for the algorithm).
 *
 * Handlers enqueue set keys (set events; pod and ControllerRevision events through the controller
 * reference). `sync(key)`: find the set's revisions (the `ownerUid` index), make sure one holds the
 * current template (creating it, or bumping the collision count when its name is taken by other
 * data), plan one step, ensure the claims of pods about to be created, create/delete pods, write
 * the status, and prune revisions beyond `revisionHistoryLimit` that no pod uses.
 *
 * Pods have stable names, so no expectations are needed: a create whose pod the cache has not
 * shown yet meets AlreadyExists and the step ends there. Pods are not adopted (only pods with this
 * set's controller reference count); identity labels of existing pods are not repaired.
 */
import type { StatefulSet, StatefulSetStatus } from "../../api/generated/apps_v1.ts";
import type { PersistentVolumeClaim } from "../../api/generated/core_v1.ts";
import { ApiError } from "../../api/errors.ts";
import type { KubeObject } from "../../api/object.ts";
import { keyOf } from "../../client/indexer.ts";
import type { Controller, ControllerContext, Queue, SyncResult } from "../framework/controller.ts";
import { templateOfRevision, type ControllerRevisionLike } from "../framework/history.ts";
import { ensureUpdateRevision, truncateHistory } from "../framework/revisions.ts";
import { OWNER_UID_INDEX } from "../framework/informers.ts";
import { controllerOf } from "../framework/ownerrefs.ts";
import { CONTROLLERREVISIONS, PODS, PVCS, STATEFULSETS } from "../framework/resources.ts";
import { updateStatusRetrying } from "../framework/writer.ts";
import { canonicalJson } from "../deployment/hash.ts";
import { claimsFor, ordinalOf, planStatefulSet, podForOrdinal, revisionOfPod, statefulSetStatus, type Revisions } from "./sts.ts";

export const NAME = "statefulset";

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export class StatefulSetController implements Controller {
  readonly name = NAME;

  constructor(private readonly ctx: ControllerContext, queue: Queue) {
    ctx.informers.on(STATEFULSETS, {
      onAdd: (o) => queue.add(keyOf(o)),
      onUpdate: (_o, n) => queue.add(keyOf(n)),
      onDelete: (o) => queue.add(keyOf(o)),
    });
    const owner = (o: KubeObject): void => {
      const ref = controllerOf(o);
      if (ref && ref.kind === "StatefulSet") queue.add(`${o.metadata?.namespace ?? ""}/${ref.name}`);
    };
    ctx.informers.on(PODS, { onAdd: owner, onUpdate: (_o, n) => owner(n), onDelete: owner });
    ctx.informers.on(CONTROLLERREVISIONS, { onAdd: owner, onDelete: owner });
  }

  private owned(r: typeof PODS, set: StatefulSet): KubeObject[] {
    const uid = set.metadata?.uid ?? "";
    return this.ctx.informers.lister(r).byIndex(OWNER_UID_INDEX, uid).filter((o) => controllerOf(o)?.uid === uid);
  }

  async sync(key: string): Promise<SyncResult | void> {
    const { ctx } = this;
    const cached = ctx.informers.lister(STATEFULSETS).get(key);
    if (!cached) return;
    const set = cached as StatefulSet; // objects from the StatefulSet cache
    if (set.metadata?.deletionTimestamp !== undefined) return;
    const ns = set.metadata?.namespace ?? "";
    const nowMs = ctx.now().getTime();
    const pods = this.owned(PODS, set);
    const revisions = this.owned(CONTROLLERREVISIONS, set) as ControllerRevisionLike[];
    const { revision: updateRev, collisionCount } = await ensureUpdateRevision(ctx.writer, cached, "StatefulSet", set.spec?.template, revisions, set.status?.collisionCount);
    const all = [...revisions.filter((r) => r.metadata?.name !== updateRev.metadata?.name), updateRev];
    const byName = new Map(all.map((r) => [r.metadata?.name ?? "", r]));
    const currentName = set.status?.currentRevision && byName.has(set.status.currentRevision) ? set.status.currentRevision : updateRev.metadata?.name ?? "";
    const templates = new Map<string, Record<string, unknown>>();
    for (const [n, r] of byName) {
      const t = templateOfRevision(r);
      if (t) templates.set(n, t);
    }
    const rev: Revisions = { current: currentName, update: updateRev.metadata?.name ?? "", templates };

    const step = planStatefulSet(set, pods, rev, nowMs);
    let failure: unknown;
    for (const p of step.delete) {
      try {
        await this.releaseClaimsOnScaleDown(set, p);
        await ctx.writer.delete(PODS, ns, p.metadata?.name ?? "");
        ctx.recorder.event(cached, "Normal", "SuccessfulDelete", `delete Pod ${p.metadata?.name ?? ""} in StatefulSet ${set.metadata?.name ?? ""} successful`);
      } catch (e) {
        failure ??= e;
        ctx.recorder.event(cached, "Warning", "FailedDelete", `delete Pod ${p.metadata?.name ?? ""} in StatefulSet ${set.metadata?.name ?? ""} failed error: ${errText(e)}`);
      }
    }
    for (const c of step.create) {
      const pod = podForOrdinal(set, templates.get(c.revision), c.ordinal, c.revision);
      try {
        await this.ensureClaims(set, c.ordinal, pod.metadata?.name ?? "");
        await ctx.writer.create(PODS, pod as KubeObject);
        ctx.recorder.event(cached, "Normal", "SuccessfulCreate", `create Pod ${pod.metadata?.name ?? ""} in StatefulSet ${set.metadata?.name ?? ""} successful`);
      } catch (e) {
        if (e instanceof ApiError && e.code === 409) continue; // the cache is behind
        failure ??= e;
        ctx.recorder.event(cached, "Warning", "FailedCreate", `create Pod ${pod.metadata?.name ?? ""} in StatefulSet ${set.metadata?.name ?? ""} failed error: ${errText(e)}`);
      }
    }

    const status: StatefulSetStatus = statefulSetStatus(set, pods, rev, nowMs, collisionCount);
    if (canonicalJson(status) !== canonicalJson(set.status ?? {})) await updateStatusRetrying(ctx.writer, STATEFULSETS, cached, status);
    const live = new Set<string>([status.currentRevision ?? "", status.updateRevision ?? "", ...pods.map((p) => revisionOfPod(p) ?? "")]);
    await truncateHistory(ctx.writer, ns, all, live, set.spec?.revisionHistoryLimit ?? 10);
    if (failure !== undefined) throw failure instanceof Error ? failure : new Error(String(failure));
    const minReady = set.spec?.minReadySeconds ?? 0;
    if (minReady > 0 && (status.readyReplicas ?? 0) > (status.availableReplicas ?? 0)) return { requeueAfterMs: minReady * 1000 };
  }

  /** Creates the pod's missing claims (from the cache; AlreadyExists is fine). */
  private async ensureClaims(set: StatefulSet, ordinal: number, podName: string): Promise<void> {
    const lister = this.ctx.informers.lister(PVCS);
    for (const claim of claimsFor(set, ordinal)) {
      const k = `${claim.metadata?.namespace ?? ""}/${claim.metadata?.name ?? ""}`;
      if (lister.get(k)) continue;
      try {
        await this.ctx.writer.create(PVCS, claim as KubeObject);
        this.ctx.recorder.event(set as KubeObject, "Normal", "SuccessfulCreate", `create Claim ${claim.metadata?.name ?? ""} Pod ${podName} in StatefulSet ${set.metadata?.name ?? ""} success`);
      } catch (e) {
        if (!(e instanceof ApiError && e.code === 409)) throw e;
      }
    }
  }

  /** whenScaled: Delete — a condemned pod's claims get the pod as owner, so they go with it. */
  private async releaseClaimsOnScaleDown(set: StatefulSet, pod: KubeObject): Promise<void> {
    if (set.spec?.persistentVolumeClaimRetentionPolicy?.whenScaled !== "Delete") return;
    const ord = ordinalOf(set.metadata?.name ?? "", pod.metadata?.name ?? "");
    if (ord === undefined || ord < (set.spec?.ordinals?.start ?? 0) + (set.spec?.replicas ?? 1)) return;
    for (const claim of claimsFor(set, ord)) {
      const cur = this.ctx.informers.lister(PVCS).get(`${claim.metadata?.namespace ?? ""}/${claim.metadata?.name ?? ""}`) as PersistentVolumeClaim | undefined;
      if (!cur || (cur.metadata?.ownerReferences ?? []).some((r) => r.uid === pod.metadata?.uid)) continue;
      const refs = [...(cur.metadata?.ownerReferences ?? []), { apiVersion: "v1", kind: "Pod", name: pod.metadata?.name ?? "", uid: pod.metadata?.uid ?? "" }];
      await this.ctx.writer.patch(PVCS, claim.metadata?.namespace ?? "", claim.metadata?.name ?? "", { metadata: { ownerReferences: refs } }, "merge");
    }
  }
}

export function newStatefulSetController(ctx: ControllerContext, queue: Queue): StatefulSetController {
  return new StatefulSetController(ctx, queue);
}
