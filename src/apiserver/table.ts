/**
 * meta.k8s.io Table and PartialObjectMetadata rendering (pure) from a kind's TablePrinter.
 */
import type { KubeObject, ObjectMetaLike } from "../api/object.ts";
import { badRequest } from "../api/errors.ts";
import type { TablePrinter } from "./registry/strategy.ts";

export type IncludeObject = "None" | "Metadata" | "Object";

export function includeObjectOf(query: URLSearchParams): IncludeObject {
  const v = query.get("includeObject");
  if (v === null || v === "") return "Metadata";
  if (v === "None" || v === "Metadata" || v === "Object") return v;
  throw badRequest(`includeObject must be one of "None", "Metadata", or "Object", got "${v}"`);
}

export function partialObjectMetadata(obj: KubeObject, version: "v1" | "v1beta1"): KubeObject {
  return { kind: "PartialObjectMetadata", apiVersion: `meta.k8s.io/${version}`, metadata: obj.metadata ?? {} };
}

export interface ListMetaLike {
  resourceVersion?: string;
  continue?: string;
  remainingItemCount?: number;
}

export interface TableOptions {
  readonly version: "v1" | "v1beta1";
  readonly include: IncludeObject;
  /** Omit columnDefinitions (watch events after the first). */
  readonly noHeaders?: boolean;
  readonly now: Date;
}

/** Builds a Table for `objects` (one row each). */
export function buildTable(printer: TablePrinter, objects: readonly KubeObject[], meta: ListMetaLike, opts: TableOptions): KubeObject {
  const rows = objects.map((o) => {
    const row: Record<string, unknown> = { cells: printer.row(o, opts.now) };
    if (opts.include === "Object") row["object"] = o;
    else if (opts.include === "Metadata") row["object"] = partialObjectMetadata(o, opts.version);
    return row;
  });
  return {
    kind: "Table",
    apiVersion: `meta.k8s.io/${opts.version}`,
    metadata: meta as ObjectMetaLike,
    columnDefinitions: opts.noHeaders ? [] : printer.columns.map((c) => ({ ...c })),
    rows,
  };
}
