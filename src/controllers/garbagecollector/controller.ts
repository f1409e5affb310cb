/**
 * The garbage collector: deletes objects whose owners are gone (Background), carries out
 * Foreground deletion (dependents first, the owner's `foregroundDeletion` finalizer removed once
 * no blocking dependent is left) and Orphan deletion (owner references removed from the
 * dependents, then the `orphan` finalizer). The apiserver adds those finalizers on DELETE
 * according to propagationPolicy.
 *
 * Upstream keeps a graph of every object; here the shared informers of the monitored resources
 * are the graph: the `ownerUid` index gives an object's dependents and the `uid` index its owners.
 * Keys are `<apiVersion> <kind>|<namespace>/<name>`.
 *
 * Custom resources (and any other resource the client library does not know) come from the
 * apiserver's aggregated discovery: every 30 s, on CustomResourceDefinition events and when an
 * owner of an unknown kind or a 404 turns up (key `DISCOVERY_KEY`), the collector starts a
 * metadata-only informer for each new deletable (list, watch, delete, patch) resource and stops
 * those no longer served. Built-in kinds stay on the shared full-object informers of `MONITORED`.
 */
import type { KubeObject, OwnerReferenceLike } from "../../api/object.ts";
import { kindByGvk } from "../../api/registry.ts";
import { ApiError } from "../../api/errors.ts";
import { keyOf, splitKey, type Lister } from "../../client/indexer.ts";
import type { EventHandler } from "../../client/informer.ts";
import type { Controller, ControllerContext, Queue, SyncResult } from "../framework/controller.ts";
import { OWNER_UID_INDEX, UID_INDEX } from "../framework/informers.ts";
import { releasePatch } from "../framework/ownerrefs.ts";
import { resourceKey, type ResourceId } from "../framework/resources.ts";
import type { ObjectWriter } from "../framework/writer.ts";
import { decideDependent, decideOwner, FOREGROUND_FINALIZER, ORPHAN_FINALIZER, type OwnerCheck } from "./decide.ts";
import {
  apiVersionOf, discoveryFor, isBuiltIn, preferredResources, resourceIdOf, supports, type DiscoveredResource, type DiscoverySource,
} from "./discovery.ts";
import { dynamicWriter, MetadataInformers, type DynamicInformers } from "./dynamic.ts";

export const NAME = "garbagecollector";

/** Resources whose objects the collector watches (owners and dependents). */
export const MONITORED: readonly ResourceId[] = [
  { apiVersion: "v1", kind: "Pod" },
  { apiVersion: "apps/v1", kind: "ReplicaSet" },
  { apiVersion: "apps/v1", kind: "Deployment" },
  { apiVersion: "apps/v1", kind: "StatefulSet" },
  { apiVersion: "apps/v1", kind: "DaemonSet" },
  { apiVersion: "apps/v1", kind: "ControllerRevision" },
  { apiVersion: "batch/v1", kind: "Job" },
  { apiVersion: "batch/v1", kind: "CronJob" },
  { apiVersion: "v1", kind: "ConfigMap" },
  { apiVersion: "v1", kind: "Secret" },
  { apiVersion: "v1", kind: "Service" },
  { apiVersion: "v1", kind: "Endpoints" },
  { apiVersion: "discovery.k8s.io/v1", kind: "EndpointSlice" },
  { apiVersion: "v1", kind: "ServiceAccount" },
  { apiVersion: "v1", kind: "PersistentVolumeClaim" },
  { apiVersion: "v1", kind: "ReplicationController" },
  { apiVersion: "v1", kind: "PodTemplate" },
  { apiVersion: "policy/v1", kind: "PodDisruptionBudget" },
  { apiVersion: "v1", kind: "Node" },
  { apiVersion: "coordination.k8s.io/v1", kind: "Lease" },
];

const SEP = "|";

/** The key of the discovery refresh (not an object key: it has no `|`). */
export const DISCOVERY_KEY = "discovery";
/** How often discovery is re-read for new or removed custom resources. */
export const DISCOVERY_PERIOD_MS = 30_000;
const CRDS: ResourceId = { apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition" };

export function gcKey(r: ResourceId, obj: KubeObject): string {
  return `${resourceKey(r)}${SEP}${keyOf(obj)}`;
}

function parseKey(key: string): { r: ResourceId; objKey: string } | undefined {
  const i = key.indexOf(SEP);
  if (i < 0) return undefined;
  const [apiVersion, kind] = key.slice(0, i).split(" ");
  if (!apiVersion || !kind) return undefined;
  return { r: { apiVersion, kind }, objKey: key.slice(i + 1) };
}

function hasGcFinalizer(o: KubeObject): boolean {
  const f = o.metadata?.finalizers ?? [];
  return f.includes(ORPHAN_FINALIZER) || f.includes(FOREGROUND_FINALIZER);
}

/** The custom-resource side of the collector: discovery, informers of discovered resources, their writer. */
export interface GcDynamic {
  readonly discovery: DiscoverySource;
  readonly informers: DynamicInformers;
  /** Writes (and live reads) of discovered, non-built-in resources. */
  readonly writer: ObjectWriter;
}

/** Discovered resources the collector watches itself: not built in, and deletable. */
export function collectableResources(all: readonly DiscoveredResource[]): DiscoveredResource[] {
  return preferredResources(all).filter((d) => !isBuiltIn(resourceIdOf(d)) && supports(d, "list", "watch", "delete", "patch"));
}

function dynamicFromClient(ctx: ControllerContext, queue: Queue): GcDynamic | undefined {
  const client = ctx.client;
  if (!client) return undefined;
  const discovery = discoveryFor(client);
  const informers = new MetadataInformers(client, {
    signal: ctx.signal,
    onError: (r, e) => {
      if (e instanceof ApiError && e.code === 404) {
        discovery.invalidate();
        queue.add(DISCOVERY_KEY);
        return;
      }
      ctx.log(`garbagecollector: informer ${r.kind}.${r.apiVersion}: ${e instanceof Error ? e.message : String(e)}`);
    },
  });
  const resolve = (r: ResourceId): DiscoveredResource | undefined =>
    discovery.cached().find((d) => d.kind === r.kind && apiVersionOf(d) === r.apiVersion);
  return { discovery, informers, writer: dynamicWriter(client, resolve) };
}

export class GarbageCollector implements Controller {
  readonly name = NAME;
  private readonly monitored: readonly ResourceId[];
  private readonly dynamic: GcDynamic | undefined;

  /**
   * @param dynamic custom-resource support; default: built from `ctx.client` when present (none
   *   in unit tests without a client, where only `monitored` is watched).
   */
  constructor(private readonly ctx: ControllerContext, private readonly queue: Queue, monitored: readonly ResourceId[] = MONITORED, dynamic?: GcDynamic) {
    this.monitored = monitored;
    this.dynamic = dynamic ?? dynamicFromClient(ctx, queue);
    for (const r of monitored) ctx.informers.on(r, this.handlersFor(r));
    if (this.dynamic) {
      const refresh = (): void => {
        this.dynamic?.discovery.invalidate();
        queue.add(DISCOVERY_KEY);
        // The CRD's resource may be added to discovery just after its status is written.
        queue.addAfter(DISCOVERY_KEY, 2_000);
      };
      ctx.informers.on(CRDS, { onAdd: (_o, initial) => { if (!initial) refresh(); }, onUpdate: refresh, onDelete: refresh });
      queue.add(DISCOVERY_KEY);
    }
  }

  private handlersFor(r: ResourceId): EventHandler<KubeObject> {
    const queue = this.queue;
    const consider = (o: KubeObject): void => {
      if ((o.metadata?.ownerReferences ?? []).length > 0 || (o.metadata?.deletionTimestamp !== undefined && hasGcFinalizer(o))) queue.add(gcKey(r, o));
    };
    return {
      onAdd: consider,
      onUpdate: (old, cur) => {
        consider(cur);
        // A dependent that dropped a reference may have been what a deleting owner waited for.
        const still = new Set((cur.metadata?.ownerReferences ?? []).map((x) => x.uid));
        for (const ref of old.metadata?.ownerReferences ?? []) {
          if (still.has(ref.uid)) continue;
          const owner = this.byUid(ref.uid);
          if (owner && owner.obj.metadata?.deletionTimestamp !== undefined) queue.add(gcKey(owner.r, owner.obj));
        }
      },
      onDelete: (o) => {
        // Its dependents may now be garbage; an owner waiting for it may be done.
        for (const d of this.dependents(o.metadata?.uid ?? "")) queue.add(d.key);
        for (const ref of o.metadata?.ownerReferences ?? []) {
          const owner = this.byUid(ref.uid);
          if (owner && owner.obj.metadata?.deletionTimestamp !== undefined) queue.add(gcKey(owner.r, owner.obj));
        }
      },
    };
  }

  /** Every watched resource: the monitored built-ins, then the discovered ones. */
  private allResources(): ResourceId[] {
    return [...this.monitored, ...(this.dynamic?.informers.resources() ?? [])];
  }

  /** The cache of a resource; undefined for a resource that is neither built in nor discovered. */
  private listerOf(r: ResourceId): Lister<KubeObject> | undefined {
    const dyn = this.dynamic?.informers.lister(r);
    if (dyn) return dyn;
    return this.dynamic && !isBuiltIn(r) ? undefined : this.ctx.informers.lister(r);
  }

  private writerFor(r: ResourceId): ObjectWriter {
    return this.dynamic && !isBuiltIn(r) ? this.dynamic.writer : this.ctx.writer;
  }

  private byUid(uid: string): { r: ResourceId; obj: KubeObject } | undefined {
    if (uid === "") return undefined;
    for (const r of this.allResources()) {
      const hit = this.listerOf(r)?.byIndex(UID_INDEX, uid)[0];
      if (hit) return { r, obj: hit };
    }
    return undefined;
  }

  private dependents(uid: string): Array<{ r: ResourceId; obj: KubeObject; key: string }> {
    if (uid === "") return [];
    const out: Array<{ r: ResourceId; obj: KubeObject; key: string }> = [];
    for (const r of this.allResources()) {
      for (const obj of this.listerOf(r)?.byIndex(OWNER_UID_INDEX, uid) ?? []) out.push({ r, obj, key: gcKey(r, obj) });
    }
    return out;
  }

  /** Re-reads discovery (at most every 30 s unless invalidated) and starts/stops informers of custom resources. */
  private async refreshDiscovery(): Promise<SyncResult> {
    const dyn = this.dynamic;
    if (!dyn) return {};
    let all: readonly DiscoveredResource[];
    try {
      all = await dyn.discovery.resources(DISCOVERY_PERIOD_MS);
    } catch (e) {
      // Never dropped by the runner's retry limit: try again soon.
      this.ctx.log(`garbagecollector: discovery: ${e instanceof Error ? e.message : String(e)}`);
      return { requeueAfterMs: 5_000 };
    }
    const found = collectableResources(all);
    const keep = new Set<string>();
    for (const d of found) {
      const r = resourceIdOf(d);
      keep.add(resourceKey(r));
      if (dyn.informers.ensure(d, this.handlersFor(r))) this.ctx.log(`garbagecollector: watching ${d.plural}.${d.group} (${apiVersionOf(d)} ${d.kind})`);
    }
    for (const r of dyn.informers.retain(keep)) this.ctx.log(`garbagecollector: stopped watching ${r.kind} (${r.apiVersion})`);
    return { requeueAfterMs: DISCOVERY_PERIOD_MS };
  }

  /** Owner state from the caches, confirmed with a live read before calling it absent. */
  private async ownerState(ref: OwnerReferenceLike, namespace: string): Promise<OwnerCheck> {
    const cached = this.byUid(ref.uid);
    const stateOf = (o: KubeObject): OwnerCheck["state"] =>
      o.metadata?.deletionTimestamp !== undefined && (o.metadata.finalizers ?? []).includes(FOREGROUND_FINALIZER) ? "waiting" : "solid";
    if (cached) return { uid: ref.uid, state: stateOf(cached.obj) };
    const r: ResourceId = { apiVersion: ref.apiVersion, kind: ref.kind };
    const info = kindByGvk(ref.apiVersion, ref.kind);
    const found = info ? undefined : this.dynamic?.discovery.cached().find((d) => d.kind === ref.kind && apiVersionOf(d) === ref.apiVersion);
    if (!info && !found) {
      // An owner of a kind we cannot look up is never assumed gone; discovery may know it soon.
      if (this.dynamic) {
        this.dynamic.discovery.invalidate();
        this.queue.add(DISCOVERY_KEY);
      }
      return { uid: ref.uid, state: "solid" };
    }
    const namespaced = info ? info.namespaced : found?.namespaced === true;
    const live = await this.writerFor(r).get(r, namespaced ? namespace : "", ref.name);
    if (live && live.metadata?.uid === ref.uid) return { uid: ref.uid, state: stateOf(live) };
    return { uid: ref.uid, state: "absent" };
  }

  async sync(key: string): Promise<SyncResult | void> {
    if (key === DISCOVERY_KEY) return this.refreshDiscovery();
    const parsed = parseKey(key);
    if (!parsed) return;
    const { r, objKey } = parsed;
    const obj = this.listerOf(r)?.get(objKey);
    if (!obj) return;
    const { namespace, name } = splitKey(objKey);
    const md = obj.metadata ?? {};
    const uid = md.uid ?? "";
    const deps = this.dependents(uid);
    const blocking = deps.filter((d) => (d.obj.metadata?.ownerReferences ?? []).some((x) => x.uid === uid && x.blockOwnerDeletion === true));
    const ownerAction = decideOwner(md.deletionTimestamp !== undefined, md.finalizers ?? [], deps.length, blocking.length);
    // Dependents among discovered resources may not be listed yet: do not finish an owner early.
    if (ownerAction.action === "removeFinalizer" && this.dynamic && !this.dynamic.informers.synced()) return { requeueAfterMs: 1_000 };
    switch (ownerAction.action) {
      case "orphanDependents":
        for (const d of deps) {
          await this.writerFor(d.r).patch(d.r, d.obj.metadata?.namespace ?? "", d.obj.metadata?.name ?? "", releasePatch(d.obj, uid), "merge");
        }
        await this.removeFinalizer(r, obj, namespace, name, ORPHAN_FINALIZER);
        return;
      case "removeFinalizer":
        await this.removeFinalizer(r, obj, namespace, name, ownerAction.finalizer);
        return;
      case "deleteDependents":
        for (const d of deps) if (d.obj.metadata?.deletionTimestamp === undefined) this.queue.add(d.key);
        return;
      case "none":
        break;
    }
    if (md.deletionTimestamp !== undefined) return; // already going away
    const refs = md.ownerReferences ?? [];
    if (refs.length === 0) return;
    const owners: OwnerCheck[] = [];
    for (const ref of refs) owners.push(await this.ownerState(ref, namespace));
    const decision = decideDependent(owners, deps.length > 0, md.finalizers ?? []);
    const writer = this.writerFor(r);
    if (decision.action === "removeRefs") {
      const gone = new Set(decision.uids);
      const keep = refs.filter((x) => !gone.has(x.uid));
      await writer.patch(r, namespace, name, { metadata: { ownerReferences: keep.length > 0 ? keep : null, resourceVersion: md.resourceVersion } }, "merge");
    } else if (decision.action === "delete") {
      try {
        await writer.delete(r, namespace, name, { propagationPolicy: decision.policy, preconditions: { uid } });
      } catch (e) {
        if (!(e instanceof ApiError && e.code === 409)) throw e; // replaced meanwhile: nothing to do
      }
    }
  }

  private async removeFinalizer(r: ResourceId, obj: KubeObject, namespace: string, name: string, finalizer: string): Promise<void> {
    const rest = (obj.metadata?.finalizers ?? []).filter((f) => f !== finalizer);
    await this.writerFor(r).patch(r, namespace, name, { metadata: { finalizers: rest.length > 0 ? rest : null, resourceVersion: obj.metadata?.resourceVersion } }, "merge");
  }
}

export function newGarbageCollector(ctx: ControllerContext, queue: Queue): GarbageCollector {
  return new GarbageCollector(ctx, queue);
}
