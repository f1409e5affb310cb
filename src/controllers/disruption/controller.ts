/**
 * The disruption controller: keeps each PodDisruptionBudget's status (currentHealthy,
 * desiredHealthy, expectedPods, disruptionsAllowed, disruptedPods, observedGeneration and the
 * DisruptionAllowed condition) in line with the pods its selector picks, so that the apiserver's
 * `pods/eviction` can decide. Keys are `namespace/name` of budgets.
 *
 * Events: budget add/update; pod add/update/delete enqueue the budgets of the pod's namespace whose
 * selector matches it (old or new labels); a replica count change of a ReplicaSet, Deployment or
 * StatefulSet enqueues the namespace's budgets (their scale feeds percentages and maxUnavailable).
 *
 * Scale: a pod's controller reference must name a ReplicaSet (whose own controlling Deployment's
 * `spec.replicas` counts instead, when it has one) or a StatefulSet, found in the caches with the
 * same uid; each controller counts once. Other owners fail the sync safe (no disruptions,
 * condition SyncFailed, a `CalculateExpectedPodCountFailed` warning).
 */
import type { KubeObject } from "../../api/object.ts";
import { labelSelectorFromObject, type LabelSelectorObject } from "../../api/selectors/labels.ts";
import { keyOf } from "../../client/indexer.ts";
import type { Controller, ControllerContext, Queue, SyncResult } from "../framework/controller.ts";
import { DEPLOYMENTS, PODS, REPLICASETS, STATEFULSETS, type ResourceId } from "../framework/resources.ts";
import { updateStatusRetrying } from "../framework/writer.ts";
import { computeStatus, failSafeStatus, needsScale, type BudgetSpec, type BudgetStatus } from "./budget.ts";

export const NAME = "disruption";
export const PDBS: ResourceId = { apiVersion: "policy/v1", kind: "PodDisruptionBudget" };

function specOf(o: KubeObject): Record<string, unknown> {
  return (o["spec"] ?? {}) as Record<string, unknown>;
}

function replicasOf(o: KubeObject): number {
  const r = specOf(o)["replicas"];
  return typeof r === "number" ? r : 1;
}

function controllerRef(o: KubeObject): { kind: string; name: string; uid: string } | undefined {
  const ref = (o.metadata?.ownerReferences ?? []).find((r) => r.controller === true);
  return ref ? { kind: ref.kind, name: ref.name, uid: ref.uid } : undefined;
}

/** JSON with sorted keys: the status read back from the server may order fields differently. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === "object" && !Array.isArray(x) ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : x);
}

export class DisruptionController implements Controller {
  readonly name = NAME;

  constructor(private readonly ctx: ControllerContext, private readonly queue: Queue) {
    const inf = ctx.informers;
    inf.on(PDBS, { onAdd: (b) => queue.add(keyOf(b)), onUpdate: (_o, b) => queue.add(keyOf(b)) });
    inf.on(PODS, {
      onAdd: (p) => this.enqueueFor(p),
      onUpdate: (old, p) => {
        this.enqueueFor(p);
        if (JSON.stringify(old.metadata?.labels ?? {}) !== JSON.stringify(p.metadata?.labels ?? {})) this.enqueueFor(old);
      },
      onDelete: (p) => this.enqueueFor(p),
    });
    for (const r of [REPLICASETS, DEPLOYMENTS, STATEFULSETS]) {
      inf.on(r, {
        onUpdate: (old, cur) => {
          if (replicasOf(old) !== replicasOf(cur)) this.enqueueNamespace(cur.metadata?.namespace ?? "");
        },
      });
    }
  }

  private budgetsIn(ns: string): KubeObject[] {
    return this.ctx.informers.lister(PDBS).list().filter((b) => (b.metadata?.namespace ?? "") === ns);
  }

  private enqueueNamespace(ns: string): void {
    for (const b of this.budgetsIn(ns)) this.queue.add(keyOf(b));
  }

  private enqueueFor(pod: KubeObject): void {
    const labels = pod.metadata?.labels ?? {};
    for (const b of this.budgetsIn(pod.metadata?.namespace ?? "")) {
      try {
        if (labelSelectorFromObject(specOf(b)["selector"] as LabelSelectorObject | undefined).matches(labels)) this.queue.add(keyOf(b));
      } catch {
        // An invalid selector matches nothing; the budget's own sync reports it.
      }
    }
  }

  /** Summed scale of the pods' controllers. Throws with upstream's texts when a pod has none usable. */
  private scaleOf(pods: readonly KubeObject[]): number {
    const { informers } = this.ctx;
    const scales = new Map<string, number>();
    for (const pod of pods) {
      const ref = controllerRef(pod);
      const podName = pod.metadata?.name ?? "";
      if (!ref) throw new Error(`found no controller ref for pod "${podName}"`);
      const ns = pod.metadata?.namespace ?? "";
      let found: { uid: string; scale: number } | undefined;
      if (ref.kind === "ReplicaSet") {
        const rs = informers.lister(REPLICASETS).get(`${ns}/${ref.name}`);
        if (rs && rs.metadata?.uid === ref.uid) {
          const dref = controllerRef(rs);
          const dep = dref?.kind === "Deployment" ? informers.lister(DEPLOYMENTS).get(`${ns}/${dref.name}`) : undefined;
          found = dep && dref && dep.metadata?.uid === dref.uid ? { uid: dref.uid, scale: replicasOf(dep) } : { uid: ref.uid, scale: replicasOf(rs) };
        }
      } else if (ref.kind === "StatefulSet") {
        const sts = informers.lister(STATEFULSETS).get(`${ns}/${ref.name}`);
        if (sts && sts.metadata?.uid === ref.uid) found = { uid: ref.uid, scale: replicasOf(sts) };
      }
      if (!found) throw new Error(`found no controllers for pod "${podName}"`);
      scales.set(found.uid, found.scale);
    }
    let total = 0;
    for (const v of scales.values()) total += v;
    return total;
  }

  async sync(key: string): Promise<SyncResult | void> {
    const pdb = this.ctx.informers.lister(PDBS).get(key);
    if (!pdb) return;
    const ns = pdb.metadata?.namespace ?? "";
    const spec = specOf(pdb) as BudgetSpec;
    const prev = (pdb["status"] ?? {}) as BudgetStatus;
    const now = this.ctx.now();
    let status: BudgetStatus;
    let recheckAtMs: number | undefined;
    try {
      let selector;
      try {
        selector = labelSelectorFromObject(spec.selector as LabelSelectorObject | undefined);
      } catch (e) {
        throw new Error(`invalid selector: ${e instanceof Error ? e.message : String(e)}`);
      }
      const pods = this.ctx.informers.lister(PODS).list().filter((p) => (p.metadata?.namespace ?? "") === ns && selector.matches(p.metadata?.labels ?? {}));
      if (pods.length === 0) this.ctx.recorder.event(pdb, "Normal", "NoPods", "No matching pods found");
      const c = computeStatus(pdb.metadata?.generation ?? 0, spec, prev, pods, () => this.scaleOf(pods), now);
      status = c.status;
      recheckAtMs = c.recheckAtMs;
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      if (needsScale(spec)) this.ctx.recorder.event(pdb, "Warning", "CalculateExpectedPodCountFailed", `Failed to calculate the number of expected pods: ${msg}`);
      status = failSafeStatus(prev, msg, now);
    }
    if (canonical(status) !== canonical(prev)) await updateStatusRetrying(this.ctx.writer, PDBS, pdb, status);
    if (recheckAtMs !== undefined) return { requeueAfterMs: Math.max(0, recheckAtMs - now.getTime()) };
  }
}

export function newDisruptionController(ctx: ControllerContext, queue: Queue): DisruptionController {
  return new DisruptionController(ctx, queue);
}
