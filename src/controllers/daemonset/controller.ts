/**
 * The DaemonSet controller (decisions in ds.ts).
 *
 * Handlers enqueue DaemonSet keys: set events; pod and ControllerRevision events through the
 * controller reference; node additions, deletions and changes of labels, taints or
 * unschedulability enqueue every DaemonSet. `sync(key)` ensures the revision of the current
 * template (its hash is the pods' `controller-revision-hash`), plans, creates/deletes pods when no
 * own writes are in flight (expectations), writes the status and prunes old revisions.
 *
 * Pods on nodes that no longer exist are deleted here (upstream leaves bound ones to Pod GC);
 * failed pods are deleted and re-created on the next sync without upstream's per-node backoff.
 */
import type { DaemonSet, DaemonSetStatus } from "../../api/generated/apps_v1.ts";
import type { Node } from "../../api/generated/core_v1.ts";
import type { KubeObject } from "../../api/object.ts";
import { keyOf } from "../../client/indexer.ts";
import type { Controller, ControllerContext, Queue, SyncResult } from "../framework/controller.ts";
import { Expectations } from "../framework/expectations.ts";
import { CONTROLLER_REVISION_HASH_LABEL, type ControllerRevisionLike } from "../framework/history.ts";
import { OWNER_UID_INDEX } from "../framework/informers.ts";
import { controllerOf } from "../framework/ownerrefs.ts";
import { CONTROLLERREVISIONS, DAEMONSETS, NODES, PODS } from "../framework/resources.ts";
import { ensureUpdateRevision, truncateHistory } from "../framework/revisions.ts";
import { updateStatusRetrying } from "../framework/writer.ts";
import { canonicalJson } from "../deployment/hash.ts";
import { planDaemonSet, podForNode } from "./ds.ts";

export const NAME = "daemonset";

/** Node changes that can change where daemon pods belong. */
export function nodeChangeMatters(a: Node, b: Node): boolean {
  return canonicalJson(a.metadata?.labels ?? {}) !== canonicalJson(b.metadata?.labels ?? {}) ||
    canonicalJson(a.spec?.taints ?? []) !== canonicalJson(b.spec?.taints ?? []) ||
    (a.spec?.unschedulable ?? false) !== (b.spec?.unschedulable ?? false);
}

export class DaemonSetController implements Controller {
  readonly name = NAME;
  readonly expectations = new Expectations();

  constructor(private readonly ctx: ControllerContext, queue: Queue) {
    ctx.informers.on(DAEMONSETS, {
      onAdd: (o) => queue.add(keyOf(o)),
      onUpdate: (_o, n) => queue.add(keyOf(n)),
      onDelete: (o) => { this.expectations.forget(keyOf(o)); queue.add(keyOf(o)); },
    });
    const ownerKey = (o: KubeObject): string | undefined => {
      const ref = controllerOf(o);
      return ref && ref.kind === "DaemonSet" ? `${o.metadata?.namespace ?? ""}/${ref.name}` : undefined;
    };
    ctx.informers.on(PODS, {
      onAdd: (p) => {
        const k = ownerKey(p);
        if (!k) return;
        this.expectations.creationObserved(k);
        queue.add(k);
      },
      onUpdate: (o, p) => {
        const k = ownerKey(p);
        if (!k) return;
        if (o.metadata?.deletionTimestamp === undefined && p.metadata?.deletionTimestamp !== undefined) this.expectations.deletionObserved(k, keyOf(p));
        queue.add(k);
      },
      onDelete: (p) => {
        const k = ownerKey(p);
        if (!k) return;
        this.expectations.deletionObserved(k, keyOf(p));
        queue.add(k);
      },
    });
    ctx.informers.on(CONTROLLERREVISIONS, {
      onAdd: (r) => { const k = ownerKey(r); if (k) queue.add(k); },
      onDelete: (r) => { const k = ownerKey(r); if (k) queue.add(k); },
    });
    const all = (): void => { for (const ds of ctx.informers.lister(DAEMONSETS).list()) queue.add(keyOf(ds)); };
    ctx.informers.on(NODES, {
      onAdd: all,
      onUpdate: (a, b) => { if (nodeChangeMatters(a as Node, b as Node)) all(); },
      onDelete: all,
    });
  }

  async sync(key: string): Promise<SyncResult | void> {
    const { ctx } = this;
    const cached = ctx.informers.lister(DAEMONSETS).get(key);
    if (!cached) {
      this.expectations.forget(key);
      return;
    }
    const ds = cached as DaemonSet; // objects from the DaemonSet cache
    if (ds.metadata?.deletionTimestamp !== undefined) return;
    const uid = ds.metadata?.uid ?? "";
    const ns = ds.metadata?.namespace ?? "";
    const nowMs = ctx.now().getTime();
    const owned = (r: typeof PODS): KubeObject[] => ctx.informers.lister(r).byIndex(OWNER_UID_INDEX, uid).filter((o) => controllerOf(o)?.uid === uid);
    const revisions = owned(CONTROLLERREVISIONS) as ControllerRevisionLike[];
    const { revision, collisionCount } = await ensureUpdateRevision(ctx.writer, cached, "DaemonSet", ds.spec?.template, revisions, ds.status?.collisionCount);
    const hash = revision.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL] ?? "";
    const pods = owned(PODS);
    const nodes = ctx.informers.lister(NODES).list() as Node[];
    const plan = planDaemonSet(ds, nodes, pods, hash, nowMs);
    let failure: unknown;
    if (this.expectations.satisfied(key, nowMs) && (plan.create.length > 0 || plan.delete.length > 0)) {
      const creates = plan.create.slice(0, 500);
      this.expectations.expect(key, creates.length, plan.delete.map(keyOf), nowMs);
      const dels = await Promise.allSettled(plan.delete.map((p) => ctx.writer.delete(PODS, ns, p.metadata?.name ?? "")));
      dels.forEach((r, i) => {
        const p = plan.delete[i]!;
        if (r.status === "fulfilled") ctx.recorder.event(cached, "Normal", "SuccessfulDelete", `Deleted pod: ${p.metadata?.name ?? ""}`);
        else {
          failure ??= r.reason;
          this.expectations.deletionObserved(key, keyOf(p));
          ctx.recorder.event(cached, "Warning", "FailedDelete", `Error deleting: ${r.reason instanceof Error ? r.reason.message : String(r.reason)}`);
        }
      });
      const made = await Promise.allSettled(creates.map((n) => ctx.writer.create(PODS, podForNode(ds, n, hash) as KubeObject)));
      for (const r of made) {
        if (r.status === "fulfilled") ctx.recorder.event(cached, "Normal", "SuccessfulCreate", `Created pod: ${r.value.metadata?.name ?? ""}`);
        else {
          failure ??= r.reason;
          this.expectations.lowerCreations(key, 1);
          ctx.recorder.event(cached, "Warning", "FailedCreate", `Error creating: ${r.reason instanceof Error ? r.reason.message : String(r.reason)}`);
        }
      }
    }
    const status: DaemonSetStatus = { ...plan.status, ...(collisionCount !== undefined ? { collisionCount } : {}) };
    if (canonicalJson(status) !== canonicalJson(ds.status ?? {})) await updateStatusRetrying(ctx.writer, DAEMONSETS, cached, status);
    const live = new Set<string>([revision.metadata?.name ?? ""]);
    const hashes = new Set(pods.map((p) => p.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL] ?? ""));
    for (const r of revisions) if (hashes.has(r.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL] ?? "\0")) live.add(r.metadata?.name ?? "");
    await truncateHistory(ctx.writer, ns, revisions, live, ds.spec?.revisionHistoryLimit ?? 10);
    if (failure !== undefined) throw failure instanceof Error ? failure : new Error(String(failure));
    const minReady = ds.spec?.minReadySeconds ?? 0;
    if (minReady > 0 && (status.numberReady ?? 0) > (status.numberAvailable ?? 0)) return { requeueAfterMs: minReady * 1000 };
  }
}

export function newDaemonSetController(ctx: ControllerContext, queue: Queue): DaemonSetController {
  return new DaemonSetController(ctx, queue);
}
