/**
 * ControllerRevision helpers shared by the StatefulSet and DaemonSet controllers (upstream's
 * controller history, pure): a revision stores the owner's pod template as the patch
 * `{"spec":{"template":{…,"$patch":"replace"}}}`, is named `<owner>-<hash>` and carries a
 * monotonically increasing `revision` number. Two revisions are equal when their data are.
 *
 * The hash is FNV-32a of the data's canonical JSON (then the collision count, 4 bytes little
 * endian), printed in decimal and safe-encoded — the same scheme as the pod-template-hash, so the
 * values are stable and deterministic but not byte-equal to a real cluster's.
 */
import type { KubeObject } from "../../api/object.ts";
import { canonicalJson, fnv32a, safeEncodeString } from "../deployment/hash.ts";
import { controllerRef } from "./ownerrefs.ts";

export const CONTROLLER_REVISION_HASH_LABEL = "controller-revision-hash";

export interface ControllerRevisionLike extends KubeObject {
  data?: unknown;
  revision?: number;
}

const utf8 = new TextEncoder();

/** The data a revision stores for an owner's `spec.template`. */
export function revisionData(template: unknown): Record<string, unknown> {
  const t = (typeof template === "object" && template !== null ? structuredClone(template) : {}) as Record<string, unknown>;
  return { spec: { template: { ...t, $patch: "replace" } } };
}

/** Hash of revision data (plus the collision count when set). */
export function hashRevision(data: unknown, collisionCount: number | undefined): string {
  let h = fnv32a(utf8.encode(canonicalJson(data)));
  if (collisionCount !== undefined && collisionCount !== 0) {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, collisionCount >>> 0, true);
    h = fnv32a(b, h);
  }
  return safeEncodeString(String(h));
}

/** `<prefix>-<hash>` with the prefix cut to 223 characters (upstream's bound). */
export function controllerRevisionName(prefix: string, hash: string): string {
  return `${prefix.length > 223 ? prefix.slice(0, 223) : prefix}-${hash}`;
}

/** One more than the highest revision number (1 when there is none). */
export function nextRevisionNumber(revisions: readonly ControllerRevisionLike[]): number {
  return revisions.reduce((m, r) => Math.max(m, r.revision ?? 0), 0) + 1;
}

/** Revisions sorted by revision number, then creation time, then name (oldest first). */
export function sortRevisions<T extends ControllerRevisionLike>(revisions: readonly T[]): T[] {
  return [...revisions].sort((a, b) =>
    (a.revision ?? 0) - (b.revision ?? 0) ||
    (a.metadata?.creationTimestamp ?? "").localeCompare(b.metadata?.creationTimestamp ?? "") ||
    (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? ""));
}

/** True when both revisions store the same data. */
export function equalRevision(a: ControllerRevisionLike, b: ControllerRevisionLike): boolean {
  return canonicalJson(a.data ?? {}) === canonicalJson(b.data ?? {});
}

/**
 * A new (unsaved) revision of `owner` (kind `ownerKind` in `apps/v1`) for `template`; `labels`
 * go on the revision together with the hash label.
 */
export function newRevision(owner: KubeObject, ownerKind: string, template: unknown, revision: number, collisionCount: number | undefined,
  labels: Readonly<Record<string, string>> = {}): ControllerRevisionLike & { metadata: { name: string } } {
  const data = revisionData(template);
  const hash = hashRevision(data, collisionCount);
  return {
    apiVersion: "apps/v1", kind: "ControllerRevision",
    metadata: {
      name: controllerRevisionName(owner.metadata?.name ?? "", hash),
      namespace: owner.metadata?.namespace ?? "",
      labels: { ...labels, [CONTROLLER_REVISION_HASH_LABEL]: hash },
      ownerReferences: [controllerRef(owner, "apps/v1", ownerKind)],
    },
    data,
    revision,
  };
}

/** The template a revision stores (undefined for foreign data). */
export function templateOfRevision(r: ControllerRevisionLike): Record<string, unknown> | undefined {
  const t = (r.data as { spec?: { template?: Record<string, unknown> } } | undefined)?.spec?.template;
  if (t === undefined || typeof t !== "object") return undefined;
  const { $patch: _ignored, ...rest } = t;
  return rest;
}
