/**
 * The I/O half of controller history (pure parts in history.ts): find the ControllerRevision
 * holding an owner's current template or create it, as the StatefulSet and DaemonSet controllers
 * both do. A name taken by a revision with other data bumps the collision count (the next name
 * differs); an older equal revision (a rollback) is renumbered to be the newest.
 */
import { ApiError } from "../../api/errors.ts";
import type { KubeObject } from "../../api/object.ts";
import { equalRevision, newRevision, nextRevisionNumber, sortRevisions, type ControllerRevisionLike } from "./history.ts";
import { controllerOf } from "./ownerrefs.ts";
import { CONTROLLERREVISIONS } from "./resources.ts";
import type { ObjectWriter } from "./writer.ts";

export interface UpdateRevision {
  readonly revision: ControllerRevisionLike;
  /** The collision count to record in the owner's status. */
  readonly collisionCount: number | undefined;
}

/**
 * @param revisions the owner's revisions (from the cache)
 * @param collisionCount the owner's `status.collisionCount`
 */
export async function ensureUpdateRevision(writer: ObjectWriter, owner: KubeObject, ownerKind: string, template: { metadata?: { labels?: Record<string, string> } } | undefined,
  revisions: readonly ControllerRevisionLike[], collisionCount: number | undefined): Promise<UpdateRevision> {
  const sorted = sortRevisions(revisions);
  const labels = template?.metadata?.labels ?? {};
  const want = newRevision(owner, ownerKind, template, nextRevisionNumber(sorted), collisionCount, labels);
  const equal = sorted.filter((r) => equalRevision(r, want));
  if (equal.length > 0) {
    const found = equal[equal.length - 1]!;
    if (found === sorted[sorted.length - 1]) return { revision: found, collisionCount };
    const bumped = await writer.patch<ControllerRevisionLike>(CONTROLLERREVISIONS, owner.metadata?.namespace ?? "", found.metadata?.name ?? "", { revision: want.revision }, "merge");
    return { revision: bumped, collisionCount };
  }
  let cc = collisionCount;
  for (let attempt = 0; attempt < 5; attempt++) {
    const r = newRevision(owner, ownerKind, template, nextRevisionNumber(sorted), cc, labels);
    try {
      return { revision: await writer.create(CONTROLLERREVISIONS, r), collisionCount: cc };
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 409)) throw e;
      const existing = await writer.get<ControllerRevisionLike>(CONTROLLERREVISIONS, r.metadata.namespace ?? "", r.metadata.name);
      if (existing && equalRevision(existing, r) && controllerOf(existing)?.uid === owner.metadata?.uid) return { revision: existing, collisionCount: cc };
      cc = (cc ?? 0) + 1;
    }
  }
  throw new Error(`could not find a free ControllerRevision name for ${owner.kind ?? ""} ${owner.metadata?.namespace ?? ""}/${owner.metadata?.name ?? ""}`);
}

/** Deletes the oldest revisions beyond `limit` whose names are not in `live`. */
export async function truncateHistory(writer: ObjectWriter, namespace: string, revisions: readonly ControllerRevisionLike[], live: ReadonlySet<string>, limit: number): Promise<void> {
  const history = sortRevisions(revisions).filter((r) => !live.has(r.metadata?.name ?? ""));
  for (const r of history.slice(0, Math.max(0, history.length - Math.max(0, limit)))) {
    await writer.delete(CONTROLLERREVISIONS, namespace, r.metadata?.name ?? "");
  }
}
