/**
 * The ReplicaSet controller: keeps `spec.replicas` active pods owned by each ReplicaSet.
 *
 * Handlers only enqueue RS keys (and record observed creations/deletions for expectations).
 * `sync(key)`: read the RS and its namespace's pods from the caches; adopt matching orphans and
 * release owned pods that stopped matching; when no own writes are in flight (expectations),
 * create pods in slow-start batches or delete the surplus in deletion order; write the status.
 */
import type { KubeObject } from "../../api/object.ts";
import type { ReplicaSet } from "../../api/generated/apps_v1.ts";
import { ApiError } from "../../api/errors.ts";
import type { LabelSelector } from "../../api/selectors/labels.ts";
import { selectorOf } from "../framework/selector.ts";
import { keyOf, splitKey } from "../../client/indexer.ts";
import type { Controller, ControllerContext, Queue } from "../framework/controller.ts";
import { Expectations } from "../framework/expectations.ts";
import { adoptPatch, claimDecision, controllerOf, controllerRef, releasePatch } from "../framework/ownerrefs.ts";
import { isPodActive, isPodReady } from "../framework/pods.ts";
import { PODS, REPLICASETS } from "../framework/resources.ts";
import { updateStatusRetrying } from "../framework/writer.ts";
import { calculateStatus, podFromTemplate, podsToDelete, replicaDiff, slowStartBatches, statusEqual } from "./replicas.ts";

export const NAME = "replicaset";

function asRs(o: KubeObject): ReplicaSet {
  return o as ReplicaSet; // objects from the ReplicaSet cache
}

export class ReplicaSetController implements Controller {
  readonly name = NAME;
  readonly expectations = new Expectations();

  constructor(private readonly ctx: ControllerContext, private readonly queue: Queue) {
    const inf = ctx.informers;
    inf.on(REPLICASETS, {
      onAdd: (rs) => queue.add(keyOf(rs)),
      onUpdate: (_o, rs) => queue.add(keyOf(rs)),
      onDelete: (rs) => {
        this.expectations.forget(keyOf(rs));
        queue.add(keyOf(rs));
      },
    });
    inf.on(PODS, {
      onAdd: (pod) => this.addPod(pod),
      onUpdate: (old, cur) => this.updatePod(old, cur),
      onDelete: (pod) => this.deletePod(pod),
    });
  }

  /** The RS a controller reference points at, if it is in the cache with that uid. */
  private resolve(pod: KubeObject): KubeObject | undefined {
    const ref = controllerOf(pod);
    if (!ref || ref.kind !== "ReplicaSet" || !ref.apiVersion.startsWith("apps/")) return undefined;
    const rs = this.ctx.informers.lister(REPLICASETS).get(`${pod.metadata?.namespace ?? ""}/${ref.name}`);
    return rs && rs.metadata?.uid === ref.uid ? rs : undefined;
  }

  /** Every RS in the pod's namespace whose selector matches it (for orphans). */
  private matching(pod: KubeObject): KubeObject[] {
    const labels = pod.metadata?.labels ?? {};
    return this.ctx.informers.lister(REPLICASETS).listNamespace(pod.metadata?.namespace ?? "").filter((rs) => {
      try {
        const sel = selectorOf(asRs(rs).spec?.selector);
        return !sel.empty && sel.matches(labels);
      } catch {
        return false;
      }
    });
  }

  private addPod(pod: KubeObject): void {
    if (pod.metadata?.deletionTimestamp !== undefined) return this.deletePod(pod);
    if (controllerOf(pod)) {
      const rs = this.resolve(pod);
      if (!rs) return;
      this.expectations.creationObserved(keyOf(rs));
      this.queue.add(keyOf(rs));
      return;
    }
    for (const rs of this.matching(pod)) this.queue.add(keyOf(rs));
  }

  private updatePod(old: KubeObject, cur: KubeObject): void {
    if (old.metadata?.resourceVersion === cur.metadata?.resourceVersion) return;
    const labelsChanged = JSON.stringify(old.metadata?.labels ?? {}) !== JSON.stringify(cur.metadata?.labels ?? {});
    if (cur.metadata?.deletionTimestamp !== undefined) {
      this.deletePod(cur);
      if (labelsChanged) this.deletePod(old);
      return;
    }
    const oldRef = controllerOf(old), curRef = controllerOf(cur);
    const refChanged = oldRef?.uid !== curRef?.uid;
    if (refChanged && oldRef) {
      const rs = this.resolve(old);
      if (rs) this.queue.add(keyOf(rs));
    }
    if (curRef) {
      const rs = this.resolve(cur);
      if (!rs) return;
      this.queue.add(keyOf(rs));
      const minReady = asRs(rs).spec?.minReadySeconds ?? 0;
      if (minReady > 0 && !isPodReady(old) && isPodReady(cur)) this.queue.addAfter(keyOf(rs), minReady * 1000 + 1000);
      return;
    }
    if (labelsChanged || refChanged) for (const rs of this.matching(cur)) this.queue.add(keyOf(rs));
  }

  private deletePod(pod: KubeObject): void {
    const rs = this.resolve(pod);
    if (!rs) return;
    this.expectations.deletionObserved(keyOf(rs), keyOf(pod));
    this.queue.add(keyOf(rs));
  }

  async sync(key: string): Promise<{ requeueAfterMs?: number } | void> {
    const { ctx } = this;
    const cached = ctx.informers.lister(REPLICASETS).get(key);
    if (!cached) {
      this.expectations.forget(key);
      return;
    }
    const rs = asRs(cached);
    const nowMs = ctx.now().getTime();
    const needsSync = this.expectations.satisfied(key, nowMs);
    let selector: LabelSelector;
    try {
      selector = selectorOf(rs.spec?.selector);
    } catch (e) {
      // Cannot act on it; say so on the object and do not retry until it changes.
      ctx.recorder.event(cached, "Warning", "InvalidSelector", `invalid selector: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    const ns = splitKey(key).namespace;
    const all = ctx.informers.lister(PODS).listNamespace(ns);
    const owned = await this.claimPods(cached, selector, all.filter(isPodActive));

    let manageError: { message: string; creating: boolean } | undefined;
    if (needsSync && rs.metadata?.deletionTimestamp === undefined) {
      manageError = await this.manageReplicas(key, rs, cached, owned);
    }
    const status = calculateStatus(rs, owned, manageError, nowMs);
    if (!statusEqual(rs.status, status)) {
      await updateStatusRetrying(ctx.writer, REPLICASETS, cached, status);
    }
    if (manageError) throw new Error(manageError.message);
    const minReady = rs.spec?.minReadySeconds ?? 0;
    if (minReady > 0 && status.readyReplicas === (rs.spec?.replicas ?? 1) && status.availableReplicas !== status.readyReplicas) {
      return { requeueAfterMs: minReady * 1000 };
    }
  }

  /** Adopts matching orphans, releases owned pods that no longer match; returns the owned pods. */
  private async claimPods(owner: KubeObject, selector: LabelSelector, pods: readonly KubeObject[]): Promise<KubeObject[]> {
    const { writer } = this.ctx;
    const owned: KubeObject[] = [];
    let canAdopt: boolean | undefined;
    const ownerUid = owner.metadata?.uid ?? "";
    for (const pod of pods) {
      const d = claimDecision(pod, owner, !selector.empty && selector.matches(pod.metadata?.labels ?? {}));
      if (d === "owned") owned.push(pod);
      else if (d === "release") {
        try {
          await writer.patch(PODS, pod.metadata?.namespace ?? "", pod.metadata?.name ?? "", releasePatch(pod, ownerUid), "merge");
        } catch (e) {
          if (!(e instanceof ApiError && (e.code === 404 || e.code === 409))) throw e;
        }
      } else if (d === "adopt") {
        // Re-check with a live read that the owner is still the same object and not being deleted.
        if (canAdopt === undefined) {
          const fresh = await writer.get(REPLICASETS, owner.metadata?.namespace ?? "", owner.metadata?.name ?? "");
          canAdopt = fresh !== undefined && fresh.metadata?.uid === ownerUid && fresh.metadata?.deletionTimestamp === undefined;
        }
        if (!canAdopt) continue;
        try {
          const adopted = await writer.patch(PODS, pod.metadata?.namespace ?? "", pod.metadata?.name ?? "", adoptPatch(pod, controllerRef(owner, "apps/v1", "ReplicaSet")), "merge");
          owned.push(adopted);
        } catch (e) {
          if (!(e instanceof ApiError && (e.code === 404 || e.code === 409))) throw e;
        }
      }
    }
    return owned;
  }

  private async manageReplicas(key: string, rs: ReplicaSet, obj: KubeObject, owned: readonly KubeObject[]): Promise<{ message: string; creating: boolean } | undefined> {
    const { ctx } = this;
    const diff = replicaDiff(rs, owned.length);
    const nowMs = ctx.now().getTime();
    if (diff > 0) {
      this.expectations.expect(key, diff, [], nowMs);
      const template = podFromTemplate(rs, { apiVersion: "apps/v1", kind: "ReplicaSet" });
      let created = 0;
      let attempted = 0;
      for (const batch of slowStartBatches(diff)) {
        attempted += batch;
        const results = await Promise.allSettled(Array.from({ length: batch }, () => ctx.writer.create(PODS, structuredClone(template))));
        let firstError: unknown;
        for (const r of results) {
          if (r.status === "fulfilled") {
            created++;
            ctx.recorder.event(obj, "Normal", "SuccessfulCreate", `Created pod: ${r.value.metadata?.name ?? ""}`);
          } else {
            firstError ??= r.reason;
            this.expectations.lowerCreations(key, 1);
            ctx.recorder.event(obj, "Warning", "FailedCreate", `Error creating: ${errText(r.reason)}`);
          }
        }
        if (firstError !== undefined) {
          // The batches not attempted will not be observed either.
          this.expectations.lowerCreations(key, diff - attempted);
          return { message: errText(firstError), creating: true };
        }
      }
      return undefined;
    }
    if (diff < 0) {
      const victims = podsToDelete(owned, owned, -diff);
      this.expectations.expect(key, 0, victims.map(keyOf), nowMs);
      const results = await Promise.allSettled(victims.map((p) => ctx.writer.delete(PODS, p.metadata?.namespace ?? "", p.metadata?.name ?? "")));
      let firstError: unknown;
      results.forEach((r, i) => {
        const p = victims[i]!;
        if (r.status === "fulfilled") ctx.recorder.event(obj, "Normal", "SuccessfulDelete", `Deleted pod: ${p.metadata?.name ?? ""}`);
        else {
          firstError ??= r.reason;
          this.expectations.deletionObserved(key, keyOf(p));
          ctx.recorder.event(obj, "Warning", "FailedDelete", `Error deleting: ${errText(r.reason)}`);
        }
      });
      if (firstError !== undefined) return { message: errText(firstError), creating: false };
    }
    return undefined;
  }
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function newReplicaSetController(ctx: ControllerContext, queue: Queue): ReplicaSetController {
  return new ReplicaSetController(ctx, queue);
}
