/**
 * The garbage collector's decisions, pure.
 *
 * For an object with owners: each owner is `solid` (exists, same uid), `waiting` (exists but is
 * being deleted in the foreground: it waits for its dependents) or `absent` (gone, or replaced by
 * an object with another uid — verified with a live read before it counts).
 *
 * - some solid owner: drop the references to absent/waiting owners (if any), keep the object;
 * - no solid owner, some waiting: delete the object in the foreground when it has dependents of
 *   its own (so the owner keeps waiting for the whole subtree), else in the background;
 * - all owners absent: delete it, with the policy its own finalizers already ask for
 *   (orphan -> Orphan, foregroundDeletion -> Foreground, else Background).
 */
export type OwnerState = "solid" | "waiting" | "absent";

export interface OwnerCheck {
  readonly uid: string;
  readonly state: OwnerState;
}

export type DependentAction =
  | { readonly action: "none" }
  | { readonly action: "removeRefs"; readonly uids: readonly string[] }
  | { readonly action: "delete"; readonly policy: "Background" | "Foreground" | "Orphan" };

export const ORPHAN_FINALIZER = "orphan";
export const FOREGROUND_FINALIZER = "foregroundDeletion";

export function decideDependent(owners: readonly OwnerCheck[], hasDependents: boolean, finalizers: readonly string[]): DependentAction {
  if (owners.length === 0) return { action: "none" };
  const solid = owners.filter((o) => o.state === "solid");
  const notSolid = owners.filter((o) => o.state !== "solid");
  if (solid.length > 0) return notSolid.length === 0 ? { action: "none" } : { action: "removeRefs", uids: notSolid.map((o) => o.uid) };
  if (owners.some((o) => o.state === "waiting")) return { action: "delete", policy: hasDependents ? "Foreground" : "Background" };
  if (finalizers.includes(ORPHAN_FINALIZER)) return { action: "delete", policy: "Orphan" };
  if (finalizers.includes(FOREGROUND_FINALIZER)) return { action: "delete", policy: "Foreground" };
  return { action: "delete", policy: "Background" };
}

/** What an owner being deleted with a GC finalizer needs next. */
export type OwnerAction =
  | { readonly action: "orphanDependents" }
  | { readonly action: "deleteDependents"; readonly blocking: number }
  | { readonly action: "removeFinalizer"; readonly finalizer: string }
  | { readonly action: "none" };

/**
 * @param dependents how many objects still reference the owner
 * @param blocking how many of them set blockOwnerDeletion
 */
export function decideOwner(deleting: boolean, finalizers: readonly string[], dependents: number, blocking: number): OwnerAction {
  if (!deleting) return { action: "none" };
  if (finalizers.includes(ORPHAN_FINALIZER)) {
    return dependents > 0 ? { action: "orphanDependents" } : { action: "removeFinalizer", finalizer: ORPHAN_FINALIZER };
  }
  if (finalizers.includes(FOREGROUND_FINALIZER)) {
    return blocking > 0 || dependents > 0 ? { action: "deleteDependents", blocking } : { action: "removeFinalizer", finalizer: FOREGROUND_FINALIZER };
  }
  return { action: "none" };
}
