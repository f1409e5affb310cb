/**
 * The Namespace controller: for a namespace being deleted, deletes its content across every
 * namespaced resource, reports what remains in the `NamespaceContentRemaining` /
 * `NamespaceDeletionContentFailure` conditions, and once nothing is left removes the `kubernetes`
 * finalizer from `spec.finalizers` through the `finalize` subresource (the apiserver then
 * deletes the namespace).
 *
 * The resources to empty come from the apiserver's aggregated discovery, read afresh for every
 * sync of a terminating namespace (so custom resources of a CRD created a moment ago count):
 * every namespaced resource that can be listed and deleted, in its preferred version. Built-in
 * kinds go through the context's writer; others (custom resources) through a JSON writer over
 * the client. A 404 for a resource (its CRD just went away) counts as empty and invalidates the
 * discovery cache. Without a client (unit tests) the built-in registry's namespaced kinds are used.
 */
import { ApiError } from "../../api/errors.ts";
import type { KubeObject } from "../../api/object.ts";
import { allKinds } from "../../api/registry.ts";
import type { Controller, ControllerContext, Queue, SyncResult } from "../framework/controller.ts";
import { NAMESPACES, type ResourceId } from "../framework/resources.ts";
import { updateStatusRetrying, type ObjectWriter } from "../framework/writer.ts";
import {
  apiVersionOf, discoveryFor, isBuiltIn, preferredResources, resourceIdOf, supports, type DiscoveredResource, type DiscoverySource,
} from "../garbagecollector/discovery.ts";
import { dynamicWriter } from "../garbagecollector/dynamic.ts";

export const NAME = "namespace";
export const FINALIZER = "kubernetes";

/** Namespaced resources whose content goes with the namespace (every built-in namespaced kind). */
export function namespacedResources(): ResourceId[] {
  return allKinds().filter((k) => k.namespaced).map((k) => ({ apiVersion: k.group === "" ? k.version : `${k.group}/${k.version}`, kind: k.kind }));
}

/** The custom-resource side: discovery and the writer of resources the client library does not know. */
export interface NamespaceDynamic {
  readonly discovery: DiscoverySource;
  readonly writer: ObjectWriter;
}

/** What to empty: discovered namespaced resources that can be listed and deleted, preferred versions. */
export function deletableNamespaced(all: readonly DiscoveredResource[]): DiscoveredResource[] {
  return preferredResources(all).filter((d) => d.namespaced && supports(d, "list") && (supports(d, "deletecollection") || supports(d, "delete")));
}

interface Target {
  readonly r: ResourceId;
  readonly writer: ObjectWriter;
  readonly collection: boolean;
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
  private readonly dynamic: NamespaceDynamic | undefined;

  /**
   * @param resources a fixed resource list (tests); default: discovery when `ctx.client` is set
   *   (or `dynamic` is given), else the built-in namespaced kinds.
   */
  constructor(private readonly ctx: ControllerContext, queue: Queue, private readonly resources?: readonly ResourceId[], dynamic?: NamespaceDynamic) {
    const consider = (ns: KubeObject): void => {
      if (ns.metadata?.deletionTimestamp !== undefined) queue.add(ns.metadata.name ?? "");
    };
    ctx.informers.on(NAMESPACES, { onAdd: consider, onUpdate: (_o, ns) => consider(ns) });
    const client = ctx.client;
    if (dynamic) this.dynamic = dynamic;
    else if (client && resources === undefined) {
      const discovery = discoveryFor(client);
      const resolve = (r: ResourceId): DiscoveredResource | undefined => discovery.cached().find((d) => d.kind === r.kind && apiVersionOf(d) === r.apiVersion);
      this.dynamic = { discovery, writer: dynamicWriter(client, resolve) };
    }
  }

  private async targets(): Promise<Target[]> {
    if (this.resources !== undefined || !this.dynamic) {
      return (this.resources ?? namespacedResources()).map((r) => ({ r, writer: this.ctx.writer, collection: true }));
    }
    const dyn = this.dynamic;
    // Fresh for every sync: namespace deletions are rare and must not miss a just-created CRD.
    return deletableNamespaced(await dyn.discovery.resources(0)).map((d) => {
      const r = resourceIdOf(d);
      return { r, writer: isBuiltIn(r) ? this.ctx.writer : dyn.writer, collection: supports(d, "deletecollection") };
    });
  }

  async sync(key: string): Promise<SyncResult | void> {
    const ns = this.ctx.informers.lister(NAMESPACES).get(key);
    if (!ns || ns.metadata?.deletionTimestamp === undefined) return;
    const { writer } = this.ctx;
    const remaining = new Map<string, number>();
    const failures: string[] = [];
    for (const { r, writer: w, collection } of await this.targets()) {
      try {
        if (collection) await w.deleteCollection(r, key);
        else for (const o of await w.list(r, key)) if (o.metadata?.deletionTimestamp === undefined) await w.delete(r, key, o.metadata?.name ?? "");
        const left = await w.list(r, key);
        if (left.length > 0) remaining.set(r.kind, left.length);
      } catch (e) {
        if (e instanceof ApiError && e.code === 404) {
          // The resource is no longer served (e.g. its CRD was deleted): nothing of it is left.
          this.dynamic?.discovery.invalidate();
          continue;
        }
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
