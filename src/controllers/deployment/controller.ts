/**
 * The Deployment controller: rolls a Deployment's pod template out through ReplicaSets named
 * `<deployment>-<pod-template-hash>`, RollingUpdate or Recreate, with revisions, proportional
 * scaling, pause, rollback (a template equal to an old RS's reuses that RS), history cleanup,
 * the Progressing/Available conditions and the status fields `kubectl rollout status` reads.
 *
 * Handlers only enqueue deployment keys. `sync(key)` reads the Deployment, its ReplicaSets (and
 * for Recreate its pods) from the caches and follows upstream's flow (deleting -> status only;
 * paused or a scaling event -> scale; else roll out by strategy); the arithmetic is pure (util.ts).
 */
import { ApiError } from "../../api/errors.ts";
import type { KubeObject } from "../../api/object.ts";
import type { Deployment, DeploymentStatus, ReplicaSet } from "../../api/generated/apps_v1.ts";
import type { LabelSelector } from "../../api/selectors/labels.ts";
import { keyOf } from "../../client/indexer.ts";
import type { Controller, ControllerContext, Queue, SyncResult } from "../framework/controller.ts";
import { adoptPatch, claimDecision, controllerOf, controllerRef, isControlledBy, releasePatch } from "../framework/ownerrefs.ts";
import { DEPLOYMENTS, PODS, REPLICASETS } from "../framework/resources.ts";
import { selectorOf } from "../framework/selector.ts";
import { updateStatusRetrying } from "../framework/writer.ts";
import { computeHash, equalIgnoreHash, POD_TEMPLATE_HASH_LABEL } from "./hash.ts";
import {
  byCreation, calculateStatus, condition, deploymentComplete, deploymentProgressing, deploymentTimedOut, DESIRED_REPLICAS_ANNOTATION,
  filterActive, findNewReplicaSet, findOldReplicaSets, getCondition, hasProgressDeadline, isRollingUpdate, isSaturated, MAX_REPLICAS_ANNOTATION,
  maxRevision, maxScaledDown, maxSurge, newReplicaSetAnnotations, newRSNewReplicas, planCleanupUnhealthy, planProportionalScale,
  planScaleDownOld, Reasons, removeCondition, replicasAnnotationsNeedUpdate, replicaSetsToCleanUp, replicasOf, REVISION_ANNOTATION,
  setCondition, specReplicas, actualReplicas, statusEqual,
} from "./util.ts";

export const NAME = "deployment";

const asD = (o: KubeObject): Deployment => o as Deployment; // objects from the Deployment cache
const asRS = (o: KubeObject): ReplicaSet => o as ReplicaSet; // objects from the ReplicaSet cache
const obj = (x: Deployment | ReplicaSet): KubeObject => x as KubeObject; // generated kinds are KubeObjects

function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** One sync's view: the deployment as last written and its ReplicaSets, updated after each write. */
interface Work {
  d: Deployment;
  rss: ReplicaSet[];
}

export class DeploymentController implements Controller {
  readonly name = NAME;

  constructor(private readonly ctx: ControllerContext, private readonly queue: Queue) {
    const inf = ctx.informers;
    inf.on(DEPLOYMENTS, {
      onAdd: (d) => queue.add(keyOf(d)),
      onUpdate: (_o, d) => queue.add(keyOf(d)),
      onDelete: (d) => queue.add(keyOf(d)),
    });
    inf.on(REPLICASETS, {
      onAdd: (rs) => this.enqueueForRS(rs),
      onUpdate: (old, cur) => {
        if (controllerOf(old)?.uid !== controllerOf(cur)?.uid) this.enqueueOwner(old);
        this.enqueueForRS(cur);
      },
      onDelete: (rs) => this.enqueueOwner(rs),
    });
    inf.on(PODS, {
      // Recreate waits for old pods to be gone.
      onDelete: (pod) => {
        const rs = this.rsOwning(pod);
        const d = rs && this.owner(rs);
        if (d && !isRollingUpdate(asD(d))) queue.add(keyOf(d));
      },
    });
  }

  private owner(rs: KubeObject): KubeObject | undefined {
    const ref = controllerOf(rs);
    if (!ref || ref.kind !== "Deployment") return undefined;
    const d = this.ctx.informers.lister(DEPLOYMENTS).get(`${rs.metadata?.namespace ?? ""}/${ref.name}`);
    return d && d.metadata?.uid === ref.uid ? d : undefined;
  }

  private rsOwning(pod: KubeObject): KubeObject | undefined {
    const ref = controllerOf(pod);
    if (!ref || ref.kind !== "ReplicaSet") return undefined;
    return this.ctx.informers.lister(REPLICASETS).get(`${pod.metadata?.namespace ?? ""}/${ref.name}`);
  }

  private enqueueOwner(rs: KubeObject): void {
    const d = this.owner(rs);
    if (d) this.queue.add(keyOf(d));
  }

  private enqueueForRS(rs: KubeObject): void {
    if (controllerOf(rs)) return this.enqueueOwner(rs);
    const labels = rs.metadata?.labels ?? {};
    for (const d of this.ctx.informers.lister(DEPLOYMENTS).listNamespace(rs.metadata?.namespace ?? "")) {
      try {
        const sel = selectorOf(asD(d).spec?.selector);
        if (!sel.empty && sel.matches(labels)) this.queue.add(keyOf(d));
      } catch {
        // an invalid selector matches nothing
      }
    }
  }

  async sync(key: string): Promise<SyncResult | void> {
    const cached = this.ctx.informers.lister(DEPLOYMENTS).get(key);
    if (!cached) return;
    const d = structuredClone(asD(cached));
    const sel = d.spec?.selector;
    if (!sel || (Object.keys(sel.matchLabels ?? {}).length === 0 && (sel.matchExpressions ?? []).length === 0)) {
      this.ctx.recorder.event(cached, "Warning", "SelectingAll", "This deployment is selecting all pods. A non-empty selector is required.");
      if ((d.status?.observedGeneration ?? 0) < (d.metadata?.generation ?? 0)) {
        await updateStatusRetrying(this.ctx.writer, DEPLOYMENTS, obj(d), { ...d.status, observedGeneration: d.metadata?.generation });
      }
      return;
    }
    let selector: LabelSelector;
    try {
      selector = selectorOf(sel);
    } catch (e) {
      this.ctx.recorder.event(cached, "Warning", "InvalidSelector", `invalid selector: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    const w: Work = { d, rss: await this.claimReplicaSets(d, selector) };
    if (d.metadata?.deletionTimestamp !== undefined) return this.syncStatus(w, await this.getAll(w, false));
    await this.checkPausedConditions(w);
    if (w.d.spec?.paused) return this.syncScale(w);
    if (this.isScalingEvent(w)) return this.syncScale(w);
    return isRollingUpdate(w.d) ? this.rolloutRolling(w) : this.rolloutRecreate(w);
  }

  // ------------------------------------------------------------ replica sets of a deployment

  private async claimReplicaSets(d: Deployment, selector: LabelSelector): Promise<ReplicaSet[]> {
    const { writer } = this.ctx;
    const out: ReplicaSet[] = [];
    let canAdopt: boolean | undefined;
    const ns = d.metadata?.namespace ?? "";
    for (const rs of this.ctx.informers.lister(REPLICASETS).listNamespace(ns)) {
      const decision = claimDecision(rs, obj(d), !selector.empty && selector.matches(rs.metadata?.labels ?? {}));
      if (decision === "owned") out.push(structuredClone(asRS(rs)));
      else if (decision === "release") {
        await ignoreGoneOrConflict(writer.patch(REPLICASETS, ns, rs.metadata?.name ?? "", releasePatch(rs, d.metadata?.uid ?? ""), "merge"));
      } else if (decision === "adopt") {
        if (canAdopt === undefined) {
          const fresh = await writer.get(DEPLOYMENTS, ns, d.metadata?.name ?? "");
          canAdopt = fresh !== undefined && fresh.metadata?.uid === d.metadata?.uid && fresh.metadata?.deletionTimestamp === undefined;
        }
        if (!canAdopt) continue;
        const adopted = await ignoreGoneOrConflict(writer.patch<KubeObject>(REPLICASETS, ns, rs.metadata?.name ?? "", adoptPatch(rs, controllerRef(obj(d), "apps/v1", "Deployment")), "merge"));
        if (adopted) out.push(asRS(adopted));
      }
    }
    return out;
  }

  private replace(w: Work, rs: ReplicaSet): ReplicaSet {
    const i = w.rss.findIndex((x) => x.metadata?.uid === rs.metadata?.uid);
    if (i >= 0) w.rss[i] = rs;
    else w.rss.push(rs);
    return rs;
  }

  private async writeStatus(w: Work, status: DeploymentStatus): Promise<void> {
    const written = await updateStatusRetrying(this.ctx.writer, DEPLOYMENTS, obj(w.d), status);
    if (written) w.d = asD(written);
  }

  /** Writes the deployment's revision annotation when it differs (a metadata patch: no new generation). */
  private async syncDeploymentRevision(w: Work, revision: string | undefined): Promise<void> {
    if (revision === undefined || w.d.metadata?.annotations?.[REVISION_ANNOTATION] === revision) return;
    const patched = await this.ctx.writer.patch<KubeObject>(DEPLOYMENTS, w.d.metadata?.namespace ?? "", w.d.metadata?.name ?? "",
      { metadata: { annotations: { [REVISION_ANNOTATION]: revision } } }, "merge");
    w.d = asD(patched);
  }

  private async getAll(w: Work, create: boolean): Promise<{ newRS: ReplicaSet | undefined; old: ReplicaSet[] }> {
    const old = findOldReplicaSets(w.d, w.rss);
    const newRS = await this.getNewReplicaSet(w, old, create);
    return { newRS, old: findOldReplicaSets(w.d, w.rss).filter((rs) => rs.metadata?.uid !== newRS?.metadata?.uid) };
  }

  private async getNewReplicaSet(w: Work, old: ReplicaSet[], create: boolean): Promise<ReplicaSet | undefined> {
    const { ctx } = this;
    const d = w.d;
    const now = rfc3339(ctx.now());
    const existing = findNewReplicaSet(d, w.rss);
    const newRevision = maxRevision(old) + 1;
    if (existing) {
      const { annotations, changed } = newReplicaSetAnnotations(d, existing, newRevision, true);
      const minReadyChanged = (existing.spec?.minReadySeconds ?? 0) !== (d.spec?.minReadySeconds ?? 0);
      let rs = existing;
      if (changed || minReadyChanged) {
        const next: ReplicaSet = { ...existing, metadata: { ...existing.metadata, annotations }, spec: { ...existing.spec, minReadySeconds: d.spec?.minReadySeconds ?? 0 } };
        rs = this.replace(w, asRS(await ctx.writer.update(REPLICASETS, obj(next))));
      }
      await this.syncDeploymentRevision(w, rs.metadata?.annotations?.[REVISION_ANNOTATION]);
      if (hasProgressDeadline(w.d) && !getCondition(w.d.status, "Progressing")) {
        const s = structuredClone(w.d.status ?? {});
        setCondition(s, condition("Progressing", "True", Reasons.FoundNewRS, `Found new replica set "${rs.metadata?.name ?? ""}"`, now));
        await this.writeStatus(w, s);
      }
      return rs;
    }
    if (!create) return undefined;

    const template = structuredClone(d.spec?.template ?? {});
    const hash = computeHash(d.spec?.template, d.status?.collisionCount);
    template.metadata = { ...template.metadata, labels: { ...(template.metadata?.labels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash } };
    const selector = structuredClone(d.spec?.selector ?? {});
    selector.matchLabels = { ...(selector.matchLabels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash };
    const name = `${d.metadata?.name ?? ""}-${hash}`;
    const draft: ReplicaSet = {
      apiVersion: "apps/v1", kind: "ReplicaSet",
      metadata: {
        name, namespace: d.metadata?.namespace ?? "",
        labels: { ...(template.metadata.labels ?? {}) },
        ownerReferences: [controllerRef(obj(d), "apps/v1", "Deployment")],
      },
      spec: { replicas: 0, minReadySeconds: d.spec?.minReadySeconds ?? 0, selector, template },
    };
    draft.spec!.replicas = newRSNewReplicas(d, [...old, draft], draft);
    draft.metadata!.annotations = newReplicaSetAnnotations(d, draft, newRevision, false).annotations;

    let created: ReplicaSet;
    try {
      created = asRS(await ctx.writer.create(REPLICASETS, obj(draft)));
    } catch (e) {
      if (e instanceof ApiError && e.reason === "AlreadyExists") {
        const found = await ctx.writer.get(REPLICASETS, d.metadata?.namespace ?? "", name);
        if (found && isControlledBy(found, obj(d)) && equalIgnoreHash(asRS(found).spec?.template, d.spec?.template)) {
          return this.replace(w, asRS(found));
        }
        // A hash collision with a foreign RS: bump collisionCount so the next hash differs.
        const s = structuredClone(w.d.status ?? {});
        s.collisionCount = (s.collisionCount ?? 0) + 1;
        await this.writeStatus(w, s);
        throw new Error(`replica set "${name}" exists and is not this deployment's: collisionCount is now ${s.collisionCount}`);
      }
      if (hasProgressDeadline(d)) {
        const s = structuredClone(w.d.status ?? {});
        setCondition(s, condition("Progressing", "False", Reasons.FailedRSCreate, `Failed to create new replica set "${name}": ${e instanceof Error ? e.message : String(e)}`, now));
        await this.writeStatus(w, s);
      }
      ctx.recorder.event(obj(d), "Warning", Reasons.FailedRSCreate, `Failed to create new replica set "${name}": ${e instanceof Error ? e.message : String(e)}`);
      throw e;
    }
    this.replace(w, created);
    if (replicasOf(created) > 0) {
      ctx.recorder.event(obj(w.d), "Normal", "ScalingReplicaSet", `Scaled up replica set ${name} from 0 to ${replicasOf(created)}`);
    }
    await this.syncDeploymentRevision(w, created.metadata?.annotations?.[REVISION_ANNOTATION]);
    if (hasProgressDeadline(w.d)) {
      const s = structuredClone(w.d.status ?? {});
      setCondition(s, condition("Progressing", "True", Reasons.NewReplicaSet, `Created new replica set "${name}"`, now));
      await this.writeStatus(w, s);
    }
    return created;
  }

  /** Scales `rs` to `size` and/or refreshes its desired/max annotations. Returns true when the size changed. */
  private async scaleReplicaSet(w: Work, rs: ReplicaSet, size: number): Promise<boolean> {
    const desired = replicasOf(w.d), max = desired + maxSurge(w.d);
    const sizeChanged = replicasOf(rs) !== size;
    if (!sizeChanged && !replicasAnnotationsNeedUpdate(rs, desired, max)) return false;
    const next: ReplicaSet = {
      ...rs,
      metadata: { ...rs.metadata, annotations: { ...(rs.metadata?.annotations ?? {}), [DESIRED_REPLICAS_ANNOTATION]: String(desired), [MAX_REPLICAS_ANNOTATION]: String(max) } },
      spec: { ...rs.spec, replicas: size },
    };
    this.replace(w, asRS(await this.ctx.writer.update(REPLICASETS, obj(next))));
    if (sizeChanged) {
      const op = size > replicasOf(rs) ? "up" : "down";
      this.ctx.recorder.event(obj(w.d), "Normal", "ScalingReplicaSet", `Scaled ${op} replica set ${rs.metadata?.name ?? ""} from ${replicasOf(rs)} to ${size}`);
    }
    return sizeChanged;
  }

  private byName(w: Work, name: string): ReplicaSet | undefined {
    return w.rss.find((r) => r.metadata?.name === name);
  }

  // ------------------------------------------------------------ flows

  private isScalingEvent(w: Work): boolean {
    const newRS = findNewReplicaSet(w.d, w.rss);
    const old = findOldReplicaSets(w.d, w.rss);
    for (const rs of filterActive([...old, newRS])) {
      const desired = rs.metadata?.annotations?.[DESIRED_REPLICAS_ANNOTATION];
      if (desired !== undefined && desired !== String(replicasOf(w.d))) return true;
    }
    return false;
  }

  private async checkPausedConditions(w: Work): Promise<void> {
    if (!hasProgressDeadline(w.d)) return;
    const cur = getCondition(w.d.status, "Progressing");
    if (cur?.reason === Reasons.TimedOut) return;
    const pausedExists = cur?.reason === Reasons.Paused;
    const s = structuredClone(w.d.status ?? {});
    const now = rfc3339(this.ctx.now());
    if (w.d.spec?.paused && !pausedExists) setCondition(s, condition("Progressing", "Unknown", Reasons.Paused, "Deployment is paused", now));
    else if (!w.d.spec?.paused && pausedExists) setCondition(s, condition("Progressing", "Unknown", Reasons.Resumed, "Deployment is resumed", now));
    else return;
    await this.writeStatus(w, s);
  }

  /** Scaling (and, when paused, history cleanup) without rollout progress (upstream sync()). */
  private async syncScale(w: Work): Promise<void> {
    const { newRS, old } = await this.getAll(w, false);
    await this.scale(w, newRS, old);
    const { newRS: n2, old: o2 } = this.current(w, newRS);
    if (w.d.spec?.paused) await this.cleanup(w, o2);
    await this.syncStatus(w, { newRS: n2, old: o2 });
  }

  private current(w: Work, newRS: ReplicaSet | undefined): { newRS: ReplicaSet | undefined; old: ReplicaSet[] } {
    const n = newRS ? w.rss.find((r) => r.metadata?.uid === newRS.metadata?.uid) : undefined;
    return { newRS: n, old: w.rss.filter((r) => r.metadata?.uid !== n?.metadata?.uid) };
  }

  private async scale(w: Work, newRS: ReplicaSet | undefined, old: ReplicaSet[]): Promise<void> {
    const active = filterActive([...old, newRS]);
    if (newRS || old.length > 0) {
      let single: ReplicaSet | undefined;
      if (active.length === 0) single = newRS ?? [...old].sort(byCreation).at(-1);
      else if (active.length === 1) single = active[0];
      if (single) {
        if (replicasOf(single) !== replicasOf(w.d)) await this.scaleReplicaSet(w, single, replicasOf(w.d));
        return;
      }
    }
    if (isSaturated(w.d, newRS)) {
      for (const rs of filterActive(old)) await this.scaleReplicaSet(w, rs, 0);
      return;
    }
    if (isRollingUpdate(w.d) && active.length > 1) {
      const plan = planProportionalScale(w.d, active);
      for (const [name, size] of plan) {
        const rs = this.byName(w, name);
        if (rs) await this.scaleReplicaSet(w, rs, size);
      }
    }
  }

  private async cleanup(w: Work, old: ReplicaSet[]): Promise<void> {
    for (const rs of replicaSetsToCleanUp(w.d, old)) {
      await this.ctx.writer.delete(REPLICASETS, rs.metadata?.namespace ?? "", rs.metadata?.name ?? "");
      w.rss = w.rss.filter((r) => r.metadata?.uid !== rs.metadata?.uid);
    }
  }

  private async syncStatus(w: Work, { newRS, old }: { newRS: ReplicaSet | undefined; old: ReplicaSet[] }): Promise<void> {
    const s = calculateStatus(w.d, [...old, ...(newRS ? [newRS] : [])], newRS, rfc3339(this.ctx.now()));
    if (statusEqual(w.d.status, s)) return;
    await this.writeStatus(w, s);
  }

  private async rolloutRolling(w: Work): Promise<SyncResult | void> {
    const got = await this.getAll(w, true);
    let { newRS, old } = got;
    // Scale the new RS up (within maxSurge) or down to the desired size.
    if (newRS && replicasOf(newRS) !== replicasOf(w.d)) {
      const target = replicasOf(newRS) > replicasOf(w.d) ? replicasOf(w.d) : newRSNewReplicas(w.d, [...old, newRS], newRS);
      if (await this.scaleReplicaSet(w, newRS, target)) return this.syncRolloutStatus(w, this.current(w, newRS));
    }
    ({ newRS, old } = this.current(w, newRS));
    // Scale old RSs down (within maxUnavailable): unhealthy replicas first, then by availability.
    if (specReplicas(old) > 0) {
      const budget = maxScaledDown(w.d, [...old, ...(newRS ? [newRS] : [])], newRS);
      if (budget > 0) {
        let changed = false;
        for (const [name, size] of planCleanupUnhealthy(old, budget)) {
          const rs = this.byName(w, name);
          if (rs) changed = (await this.scaleReplicaSet(w, rs, size)) || changed;
        }
        ({ newRS, old } = this.current(w, newRS));
        for (const [name, size] of planScaleDownOld(w.d, [...old, ...(newRS ? [newRS] : [])], old)) {
          const rs = this.byName(w, name);
          if (rs) changed = (await this.scaleReplicaSet(w, rs, size)) || changed;
        }
        if (changed) return this.syncRolloutStatus(w, this.current(w, newRS));
      }
    }
    ({ newRS, old } = this.current(w, newRS));
    if (deploymentComplete(w.d, w.d.status ?? {})) await this.cleanup(w, old);
    return this.syncRolloutStatus(w, this.current(w, newRS));
  }

  private oldPodsRunning(w: Work, old: ReplicaSet[]): boolean {
    if (actualReplicas(old) > 0) return true;
    const uids = new Set(old.map((r) => r.metadata?.uid));
    return this.ctx.informers.lister(PODS).listNamespace(w.d.metadata?.namespace ?? "").some((p) => {
      const ref = controllerOf(p);
      if (!ref || !uids.has(ref.uid)) return false;
      const phase = ((p["status"] ?? {}) as { phase?: string }).phase;
      return phase !== "Succeeded" && phase !== "Failed";
    });
  }

  private async rolloutRecreate(w: Work): Promise<SyncResult | void> {
    let { newRS, old } = await this.getAll(w, false);
    let scaledDown = false;
    for (const rs of filterActive(old)) scaledDown = (await this.scaleReplicaSet(w, rs, 0)) || scaledDown;
    if (scaledDown) return this.syncRolloutStatus(w, this.current(w, newRS));
    if (this.oldPodsRunning(w, this.current(w, newRS).old)) return this.syncRolloutStatus(w, this.current(w, newRS));
    if (!newRS) ({ newRS, old } = await this.getAll(w, true));
    if (newRS) await this.scaleReplicaSet(w, newRS, replicasOf(w.d));
    ({ newRS, old } = this.current(w, newRS));
    if (deploymentComplete(w.d, w.d.status ?? {})) await this.cleanup(w, old);
    return this.syncRolloutStatus(w, this.current(w, newRS));
  }

  /** Status with the Progressing condition; requeues to notice a passed progress deadline. */
  private async syncRolloutStatus(w: Work, { newRS, old }: { newRS: ReplicaSet | undefined; old: ReplicaSet[] }): Promise<SyncResult | void> {
    const nowDate = this.ctx.now();
    const now = rfc3339(nowDate);
    const all = [...old, ...(newRS ? [newRS] : [])];
    const s = calculateStatus(w.d, all, newRS, now);
    if (!hasProgressDeadline(w.d)) removeCondition(s, "Progressing");
    const cur = getCondition(s, "Progressing");
    const complete = (s.replicas ?? 0) === (s.updatedReplicas ?? 0) && cur?.reason === Reasons.NewRSAvailable;
    const rsName = newRS?.metadata?.name;
    if (hasProgressDeadline(w.d) && !complete) {
      if (deploymentComplete(w.d, s)) {
        setCondition(s, condition("Progressing", "True", Reasons.NewRSAvailable, rsName ? `ReplicaSet "${rsName}" has successfully progressed.` : "Deployment has successfully progressed.", now));
      } else if (deploymentProgressing(w.d, s)) {
        const c = condition("Progressing", "True", Reasons.ReplicaSetUpdated, rsName ? `ReplicaSet "${rsName}" is progressing.` : "Deployment is progressing.", now);
        if (cur?.status === "True" && cur.lastTransitionTime !== undefined) c.lastTransitionTime = cur.lastTransitionTime;
        removeCondition(s, "Progressing");
        setCondition(s, c);
      } else if (deploymentTimedOut(w.d, s, nowDate.getTime())) {
        setCondition(s, condition("Progressing", "False", Reasons.TimedOut, rsName ? `ReplicaSet "${rsName}" has timed out progressing.` : "Deployment has timed out progressing.", now));
      }
    }
    const failure = all.flatMap((rs) => rs.status?.conditions ?? []).find((c) => c.type === "ReplicaFailure");
    if (failure) {
      setCondition(s, {
        type: "ReplicaFailure", status: failure.status ?? "True",
        ...(failure.lastTransitionTime ? { lastTransitionTime: failure.lastTransitionTime, lastUpdateTime: failure.lastTransitionTime } : {}),
        ...(failure.reason ? { reason: failure.reason } : {}), ...(failure.message ? { message: failure.message } : {}),
      });
    } else removeCondition(s, "ReplicaFailure");
    if (!statusEqual(w.d.status, s)) {
      await this.writeStatus(w, s);
      return;
    }
    // Nothing changed: come back when the progress deadline would pass.
    const c = getCondition(s, "Progressing");
    if (!hasProgressDeadline(w.d) || !c || c.reason === Reasons.TimedOut || deploymentComplete(w.d, s)) return;
    const due = Date.parse(c.lastUpdateTime ?? now) + (w.d.spec?.progressDeadlineSeconds ?? 0) * 1000 - nowDate.getTime();
    return { requeueAfterMs: due < 1000 ? 0 : due };
  }
}

async function ignoreGoneOrConflict<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (e) {
    if (e instanceof ApiError && (e.code === 404 || e.code === 409)) return undefined;
    throw e;
  }
}

export function newDeploymentController(ctx: ControllerContext, queue: Queue): DeploymentController {
  return new DeploymentController(ctx, queue);
}
