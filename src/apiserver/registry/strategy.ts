/**
 * Per-kind behaviour of the REST registry ("strategy", in Kubernetes' words): defaulting,
 * preparation on create/update, validation, field-selector attributes and table printing.
 * The generic REST handlers call these; nothing kind-specific lives in the handlers.
 */
import type { CauseType } from "../../api/errors.ts";
import type { KubeObject } from "../../api/object.ts";

/** One validation failure. `message` is what kubectl prints after `<field>: `. */
export interface FieldError {
  readonly type: CauseType;
  /** JSON path like `spec.template.spec.containers[0].image` or `metadata.name`. */
  readonly field: string;
  /** E.g. `Invalid value: "Web": a lowercase RFC 1123 subdomain must consist of ...`. */
  readonly message: string;
}

/** meta.k8s.io/v1 TableColumnDefinition. */
export interface TableColumn {
  readonly name: string;
  readonly type: "string" | "integer" | "number" | "boolean" | "date";
  readonly format: string;
  readonly description: string;
  /** 0: always shown; 1: shown with `-o wide`. */
  readonly priority: number;
}

export type TableCell = string | number | boolean | null;

export interface TablePrinter<T extends KubeObject = KubeObject> {
  readonly columns: readonly TableColumn[];
  /** One row: exactly `columns.length` cells. `now` makes ages deterministic in tests. */
  row(obj: T, now: Date): TableCell[];
}

export interface ScaleMapping<T extends KubeObject = KubeObject> {
  specReplicas(obj: T): number;
  setSpecReplicas(obj: T, replicas: number): void;
  statusReplicas(obj: T): number;
  /** The label selector as a string (`app=web`) for Scale.status.selector. */
  selector(obj: T): string;
}

export interface ResourceStrategy<T extends KubeObject = KubeObject> {
  /** Fills defaults in place (runs before validation on create and update). */
  applyDefaults(obj: T): void;
  /** Create: e.g. clears status where the kind has a status subresource, sets generation 1. */
  prepareForCreate(obj: T): void;
  /**
   * Main-resource update: keeps the old status when the kind has a status subresource and bumps
   * `metadata.generation` when the spec changed (kinds that track generation).
   */
  prepareForUpdate(obj: T, old: T): void;
  /** `status` subresource update: keeps everything but status (and metadata changes allowed there). */
  prepareForStatusUpdate(obj: T, old: T): void;
  validateCreate(obj: T): FieldError[];
  validateUpdate(obj: T, old: T): FieldError[];
  /**
   * A `status` subresource update (after `prepareForStatusUpdate`). Absent: `validateUpdate`.
   */
  validateStatusUpdate?(obj: T, old: T): FieldError[];
  /** Field-selector attributes, always including `metadata.name` (and `metadata.namespace`). */
  fields(obj: T): Record<string, string>;
  readonly table: TablePrinter<T>;
  /** Present for kinds with a `scale` subresource. */
  readonly scale?: ScaleMapping<T>;
}
