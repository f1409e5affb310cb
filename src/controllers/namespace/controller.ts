/**
 * The Namespace controller: for a namespace being deleted, deletes its content across every
 * namespaced resource, reports what remains in the `NamespaceContentRemaining` /
 * `NamespaceDeletionContentFailure` conditions, and once nothing is left removes the `kubernetes`
 * finalizer from `spec.finalizers` through the `finalize` subresource (the apiserver then
 * deletes the namespace).
 *
 * NOTE: today the apiserver deletes a namespace's content inline on DELETE (docs/apiserver.md), so
 * this controller usually finds the namespace already gone; it takes over cleanly once the
 * apiserver only marks the namespace Terminating and serves `PUT .../finalize`.
 */
import type { KubeObject } from "../../api/object.ts";
import { allKinds } from "../../api/registry.ts";
import type { Controller, ControllerContext, Queue, SyncResult } from "../framework/controller.ts";
import { NAMESPACES, type ResourceId } from "../framework/resources.ts";
import { updateStatusRetrying } from "../framework/writer.ts";

export const NAME = "namespace";
export const FINALIZER = "kubernetes";

/** Namespaced resources whose content goes with the namespace (every built-in namespaced kind). */
export function namespacedResources(): ResourceId[] {
  return allKinds().filter((k) => k.namespaced).map((k) => ({ apiVersion: k.group === "" ? k.version : `${k.group}/${k.version}`, kind: k.kind }));
}

interface NamespaceCondition { type: string; status: string; lastTransitionTime?: string; reason?: string; message?: string }

/** The conditions for what remains (pure): `remaining` maps plural -> count. */
export function deletionConditions(remaining: ReadonlyMap<string, number>, failures: readonly string[], now: string): NamespaceCondition[] {
  const left = [...remaining].filter(([, n]) => n > 0).sort(([a], [b]) => a.localeCompare(b));
  return [
    failures.length > 0
      ? { type: "NamespaceDeletionContentFailure", status: "True", lastTransitionTime: now, reason: "ContentDeletionFailed", message: `Failed to delete all resource types, ${failures.length} remaining: ${failures.join(", ")}` }
      : { type: "NamespaceDeletionContentFailure", status: "False", lastTransitionTime: now, reason: "ContentDeleted", message: "All content successfully deleted, may be waiting on finalization" },
    left.length > 0
      ? { type: "NamespaceContentRemaining", status: "True", lastTransitionTime: now, reason: "SomeResourcesRemain", message: `Some resources are remaining: ${left.map(([r, n]) => `${r} has ${n} resource instances`).join(", ")}` }
      : { type: "NamespaceContentRemaining", status: "False", lastTransitionTime: now, reason: "ContentRemoved", message: "All content successfully removed" },
  ];
}

export class NamespaceController implements Controller {
  readonly name = NAME;

  constructor(private readonly ctx: ControllerContext, queue: Queue, private readonly resources: readonly ResourceId[] = namespacedResources()) {
    const consider = (ns: KubeObject): void => {
      if (ns.metadata?.deletionTimestamp !== undefined) queue.add(ns.metadata.name ?? "");
    };
    ctx.informers.on(NAMESPACES, { onAdd: consider, onUpdate: (_o, ns) => consider(ns) });
  }

  async sync(key: string): Promise<SyncResult | void> {
    const ns = this.ctx.informers.lister(NAMESPACES).get(key);
    if (!ns || ns.metadata?.deletionTimestamp === undefined) return;
    const { writer } = this.ctx;
    const remaining = new Map<string, number>();
    const failures: string[] = [];
    for (const r of this.resources) {
      try {
        await writer.deleteCollection(r, key);
        const left = await writer.list(r, key);
        if (left.length > 0) remaining.set(r.kind, left.length);
      } catch (e) {
        failures.push(`${r.kind}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    const now = this.ctx.now().toISOString().replace(/\.\d{3}Z$/, "Z");
    const status = { ...((ns["status"] ?? {}) as Record<string, unknown>), phase: "Terminating", conditions: deletionConditions(remaining, failures, now) };
    const written = (await updateStatusRetrying(writer, NAMESPACES, ns, status)) ?? ns;
    if (failures.length > 0) throw new Error(`namespace ${key}: ${failures.join("; ")}`);
    if ([...remaining.values()].some((n) => n > 0)) return { requeueAfterMs: 5_000 };
    const spec = (written["spec"] ?? {}) as { finalizers?: string[] };
    if (!(spec.finalizers ?? []).includes(FINALIZER)) return;
    await writer.updateSubresource(NAMESPACES, { ...written, spec: { ...spec, finalizers: (spec.finalizers ?? []).filter((f) => f !== FINALIZER) } }, "finalize");
  }
}

export function newNamespaceController(ctx: ControllerContext, queue: Queue): NamespaceController {
  return new NamespaceController(ctx, queue);
}
