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
 */
import type { KubeObject, OwnerReferenceLike } from "../../api/object.ts";
import { kindByGvk } from "../../api/registry.ts";
import { ApiError } from "../../api/errors.ts";
import { keyOf, splitKey } from "../../client/indexer.ts";
import type { Controller, ControllerContext, Queue } from "../framework/controller.ts";
import { OWNER_UID_INDEX, UID_INDEX } from "../framework/informers.ts";
import { releasePatch } from "../framework/ownerrefs.ts";
import { resourceKey, type ResourceId } from "../framework/resources.ts";
import { decideDependent, decideOwner, FOREGROUND_FINALIZER, ORPHAN_FINALIZER, type OwnerCheck } from "./decide.ts";

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

export class GarbageCollector implements Controller {
  readonly name = NAME;
  private readonly monitored: readonly ResourceId[];

  constructor(private readonly ctx: ControllerContext, private readonly queue: Queue, monitored: readonly ResourceId[] = MONITORED) {
    this.monitored = monitored;
    for (const r of monitored) {
      const consider = (o: KubeObject): void => {
        if ((o.metadata?.ownerReferences ?? []).length > 0 || (o.metadata?.deletionTimestamp !== undefined && hasGcFinalizer(o))) queue.add(gcKey(r, o));
      };
      ctx.informers.on(r, {
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
      });
    }
  }

  private byUid(uid: string): { r: ResourceId; obj: KubeObject } | undefined {
    if (uid === "") return undefined;
    for (const r of this.monitored) {
      const hit = this.ctx.informers.lister(r).byIndex(UID_INDEX, uid)[0];
      if (hit) return { r, obj: hit };
    }
    return undefined;
  }

  private dependents(uid: string): Array<{ r: ResourceId; obj: KubeObject; key: string }> {
    if (uid === "") return [];
    const out: Array<{ r: ResourceId; obj: KubeObject; key: string }> = [];
    for (const r of this.monitored) {
      for (const obj of this.ctx.informers.lister(r).byIndex(OWNER_UID_INDEX, uid)) out.push({ r, obj, key: gcKey(r, obj) });
    }
    return out;
  }

  /** Owner state from the caches, confirmed with a live read before calling it absent. */
  private async ownerState(ref: OwnerReferenceLike, namespace: string): Promise<OwnerCheck> {
    const cached = this.byUid(ref.uid);
    const stateOf = (o: KubeObject): OwnerCheck["state"] =>
      o.metadata?.deletionTimestamp !== undefined && (o.metadata.finalizers ?? []).includes(FOREGROUND_FINALIZER) ? "waiting" : "solid";
    if (cached) return { uid: ref.uid, state: stateOf(cached.obj) };
    const info = kindByGvk(ref.apiVersion, ref.kind);
    // An owner of a kind we cannot look up is never assumed gone.
    if (!info) return { uid: ref.uid, state: "solid" };
    const live = await this.ctx.writer.get({ apiVersion: ref.apiVersion, kind: ref.kind }, info.namespaced ? namespace : "", ref.name);
    if (live && live.metadata?.uid === ref.uid) return { uid: ref.uid, state: stateOf(live) };
    return { uid: ref.uid, state: "absent" };
  }

  async sync(key: string): Promise<void> {
    const parsed = parseKey(key);
    if (!parsed) return;
    const { r, objKey } = parsed;
    const obj = this.ctx.informers.lister(r).get(objKey);
    if (!obj) return;
    const { namespace, name } = splitKey(objKey);
    const md = obj.metadata ?? {};
    const uid = md.uid ?? "";
    const deps = this.dependents(uid);
    const blocking = deps.filter((d) => (d.obj.metadata?.ownerReferences ?? []).some((x) => x.uid === uid && x.blockOwnerDeletion === true));
    const ownerAction = decideOwner(md.deletionTimestamp !== undefined, md.finalizers ?? [], deps.length, blocking.length);
    const { writer } = this.ctx;
    switch (ownerAction.action) {
      case "orphanDependents":
        for (const d of deps) {
          await writer.patch(d.r, d.obj.metadata?.namespace ?? "", d.obj.metadata?.name ?? "", releasePatch(d.obj, uid), "merge");
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
    await this.ctx.writer.patch(r, namespace, name, { metadata: { finalizers: rest.length > 0 ? rest : null, resourceVersion: obj.metadata?.resourceVersion } }, "merge");
  }
}

export function newGarbageCollector(ctx: ControllerContext, queue: Queue): GarbageCollector {
  return new GarbageCollector(ctx, queue);
}
