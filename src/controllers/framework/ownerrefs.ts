/**
 * Owner references and the controller-ref manager's decisions (adopt / release), pure.
 *
 * A controller owns an object when the object's ownerReferences hold an entry with
 * `controller: true` and the owner's uid. `claimDecision` says, for one candidate, what
 * upstream's ControllerRefManager would do: keep it, adopt it (an orphan matching the selector
 * while the owner is not being deleted), release it (ours but no longer matching), or ignore it.
 */
import type { KubeObject, OwnerReferenceLike } from "../../api/object.ts";

export function controllerOf(obj: KubeObject): OwnerReferenceLike | undefined {
  return (obj.metadata?.ownerReferences ?? []).find((r) => r.controller === true);
}

export function isControlledBy(obj: KubeObject, owner: KubeObject): boolean {
  const c = controllerOf(obj);
  return c !== undefined && c.uid === owner.metadata?.uid;
}

/** The reference a controller puts on what it creates or adopts. */
export function controllerRef(owner: KubeObject, apiVersion: string, kind: string): OwnerReferenceLike {
  return { apiVersion, kind, name: owner.metadata?.name ?? "", uid: owner.metadata?.uid ?? "", controller: true, blockOwnerDeletion: true };
}

export type Claim = "owned" | "adopt" | "release" | "ignore";

/**
 * @param matches the candidate's labels match the owner's selector
 */
export function claimDecision(candidate: KubeObject, owner: KubeObject, matches: boolean): Claim {
  const ref = controllerOf(candidate);
  const ownerDeleting = owner.metadata?.deletionTimestamp !== undefined;
  if (ref) {
    if (ref.uid !== owner.metadata?.uid) return "ignore";
    if (matches) return "owned";
    return ownerDeleting ? "ignore" : "release";
  }
  if (!matches || ownerDeleting || candidate.metadata?.deletionTimestamp !== undefined) return "ignore";
  return "adopt";
}

/**
 * Merge patch adding `ref` to the candidate's ownerReferences; carries the candidate's
 * resourceVersion so a concurrent change (e.g. someone else adopting it) is a 409.
 */
export function adoptPatch(candidate: KubeObject, ref: OwnerReferenceLike): Record<string, unknown> {
  const refs = [...(candidate.metadata?.ownerReferences ?? []).filter((r) => r.uid !== ref.uid), ref];
  return { metadata: { ownerReferences: refs, resourceVersion: candidate.metadata?.resourceVersion } };
}

/** Merge patch removing the references to `ownerUid` (release / orphaning). */
export function releasePatch(candidate: KubeObject, ownerUid: string): Record<string, unknown> {
  const refs = (candidate.metadata?.ownerReferences ?? []).filter((r) => r.uid !== ownerUid);
  return { metadata: { ownerReferences: refs.length > 0 ? refs : null, resourceVersion: candidate.metadata?.resourceVersion } };
}
