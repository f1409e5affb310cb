/**
 * Shared machinery for per-kind strategies: a kind describes its specifics (`KindSpec`) and
 * `defineStrategy` adds what every kind does the same way — metadata validation, status reset on
 * create, status preservation on update, generation tracking and the base field-selector set.
 */
import type { KubeObject, ObjectMetaLike } from "../../../api/object.ts";
import {
  validateObjectMeta, validateObjectMetaUpdate, nameIsDnsSubdomain, type NameValidator,
} from "../../../api/validation/meta.ts";
import { deepEqual } from "../../../api/validation/field.ts";
import type {
  FieldError, ResourceStrategy, ScaleMapping, TableCell, TableColumn, TablePrinter,
} from "../strategy.ts";
import { clone, isRecord, type Json } from "./_access.ts";
import { translateTimestampSince } from "./_duration.ts";

/** Which metadata a `status` update may change. */
export type StatusMetadataPolicy =
  /** Labels, annotations, finalizers, owners and generation keep their stored values. */
  | "keep-old"
  /** Only owner references and deletion fields keep their stored values (pods). */
  | "allow-labels-annotations";

export interface KindSpec {
  readonly group: string;
  readonly kind: string;
  readonly plural: string;
  /** true: namespace required; false: forbidden; undefined: unknown (generic kinds). */
  readonly namespaced: boolean | undefined;
  readonly nameValidator?: NameValidator;
  readonly statusSubresource: boolean;
  readonly tracksGeneration: boolean;
  readonly statusMetadata?: StatusMetadataPolicy;
  defaults?(obj: Json): void;
  /** The status a fresh object starts with (kinds with a status subresource). */
  initialStatus?(obj: Json): Json | undefined;
  prepareCreate?(obj: Json): void;
  prepareUpdate?(obj: Json, old: Json): void;
  validate?(obj: Json): FieldError[];
  /** Extra update rules (immutability); `validate` runs on the new object as well. */
  validateUpdate?(obj: Json, old: Json): FieldError[];
  /**
   * Rules for a `status` subresource update, after metadata's (which always run). Absent: the
   * whole-object rules (`validate` + `validateUpdate`) run as for a main-resource update. Kinds
   * whose whole-object rules only look at what a status update restores from the old object
   * (spec and friends) set this, as upstream's status strategies validate metadata and status only.
   */
  validateStatusUpdate?(obj: Json, old: Json): FieldError[];
  fields?(obj: Json): Record<string, string>;
  readonly table: TablePrinter;
  readonly scale?: ScaleMapping;
}

export interface KindStrategy extends ResourceStrategy {
  readonly spec: KindSpec;
}

const meta = (o: KubeObject): ObjectMetaLike => (isRecord(o.metadata) ? o.metadata : {});

/** Everything but metadata and status: what "spec changed" means for generation tracking. */
function specPart(o: KubeObject): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(o)) {
    if (k !== "metadata" && k !== "status" && k !== "apiVersion" && k !== "kind") out[k] = v;
  }
  return out;
}

export function defineStrategy(spec: KindSpec): KindStrategy {
  const nameValidator = spec.nameValidator ?? nameIsDnsSubdomain;
  const asJson = (o: KubeObject): Json => o as Json;
  const wholeUpdate = (obj: KubeObject, old: KubeObject): FieldError[] => [
    ...validateObjectMetaUpdate(meta(obj), meta(old)),
    ...(spec.validate?.(asJson(obj)) ?? []),
    ...(spec.validateUpdate?.(asJson(obj), asJson(old)) ?? []),
  ];
  return {
    spec,
    applyDefaults(obj) {
      spec.defaults?.(asJson(obj));
    },
    prepareForCreate(obj) {
      const m = (obj.metadata ??= {});
      delete m.deletionTimestamp;
      delete m.deletionGracePeriodSeconds;
      if (spec.statusSubresource) {
        const st = spec.initialStatus?.(asJson(obj));
        if (st === undefined) delete obj.status; else obj.status = st;
      }
      if (spec.tracksGeneration) m.generation = 1;
      else delete m.generation;
      spec.prepareCreate?.(asJson(obj));
    },
    prepareForUpdate(obj, old) {
      const m = (obj.metadata ??= {});
      const om = meta(old);
      if (!m.uid && om.uid) m.uid = om.uid;
      if (om.creationTimestamp !== undefined) m.creationTimestamp = om.creationTimestamp;
      else delete m.creationTimestamp;
      if (spec.statusSubresource) {
        if (old.status === undefined) delete obj.status; else obj.status = clone(old.status);
      }
      if (spec.tracksGeneration) {
        const g = om.generation ?? 1;
        m.generation = deepEqual(specPart(obj), specPart(old)) ? g : g + 1;
      } else if (om.generation !== undefined) {
        m.generation = om.generation;
      } else {
        delete m.generation;
      }
      spec.prepareUpdate?.(asJson(obj), asJson(old));
    },
    prepareForStatusUpdate(obj, old) {
      const status = obj.status;
      const newMeta = meta(obj);
      for (const k of Object.keys(obj)) if (k !== "metadata" && k !== "status") delete obj[k];
      for (const [k, v] of Object.entries(old)) if (k !== "metadata" && k !== "status") obj[k] = clone(v);
      const om = meta(old);
      const merged: ObjectMetaLike = { ...newMeta };
      const keep = <K extends keyof ObjectMetaLike>(k: K): void => {
        if (om[k] === undefined) delete merged[k]; else merged[k] = clone(om[k]);
      };
      keep("name"); keep("namespace"); keep("uid"); keep("creationTimestamp");
      keep("deletionTimestamp"); keep("deletionGracePeriodSeconds"); keep("ownerReferences");
      keep("generation");
      if ((spec.statusMetadata ?? "keep-old") === "keep-old") {
        keep("labels"); keep("annotations"); keep("finalizers");
      }
      obj.metadata = merged;
      if (status === undefined) delete obj.status; else obj.status = status;
    },
    validateCreate(obj) {
      return [
        ...validateObjectMeta(meta(obj), { namespaced: spec.namespaced, nameValidator }),
        ...(spec.validate?.(asJson(obj)) ?? []),
      ];
    },
    validateUpdate: wholeUpdate,
    validateStatusUpdate(obj, old) {
      if (spec.validateStatusUpdate === undefined) return wholeUpdate(obj, old);
      return [...validateObjectMetaUpdate(meta(obj), meta(old)), ...spec.validateStatusUpdate(asJson(obj), asJson(old))];
    },
    fields(obj) {
      // Runs for every object the watch cache takes in: one object, no intermediate spreads.
      const m = meta(obj);
      const out: Record<string, string> = { "metadata.name": typeof m.name === "string" ? m.name : "" };
      if (spec.namespaced !== false) out["metadata.namespace"] = typeof m.namespace === "string" ? m.namespace : "";
      const extra = spec.fields?.(asJson(obj));
      if (extra !== undefined) for (const k of Object.keys(extra)) out[k] = extra[k] as string;
      return out;
    },
    table: spec.table,
    ...(spec.scale ? { scale: spec.scale } : {}),
  };
}

// ---- table helpers ----

type ColumnType = TableColumn["type"];

export const col = (name: string, type: ColumnType, description: string, priority = 0, format = ""): TableColumn =>
  ({ name, type, format, description, priority });

export const NAME_COLUMN = col("Name", "string", "Name of the object, unique within its namespace (or the cluster for cluster-scoped kinds).", 0, "name");
export const AGE_COLUMN = col("Age", "string", "Time since the object was created.");
export const CONTAINERS_COLUMN = col("Containers", "string", "Names of the containers in the pod template.", 1);
export const IMAGES_COLUMN = col("Images", "string", "Images of the containers in the pod template.", 1);

export const nameOf = (o: KubeObject): string => meta(o).name ?? "";
export const ageOf = (o: KubeObject, now: Date): string => translateTimestampSince(meta(o).creationTimestamp, now);

/** A printer from columns and a row function; keeps the row length equal to the column count. */
export function printer(columns: readonly TableColumn[], row: (o: Json, now: Date) => TableCell[]): TablePrinter {
  return {
    columns,
    row(obj, now) {
      const cells = row(obj as Json, now);
      while (cells.length < columns.length) cells.push(null);
      return cells.slice(0, columns.length);
    },
  };
}

/** Name + Age: the default table for kinds without their own columns. */
export const DEFAULT_TABLE = printer([NAME_COLUMN, AGE_COLUMN], (o, now) => [nameOf(o), ageOf(o, now)]);

/** A strategy for kinds Tugboat has no specifics for (custom resources and the like). */
export function genericStrategy(group: string, plural: string): KindStrategy {
  return defineStrategy({
    group, plural, kind: "", namespaced: undefined,
    statusSubresource: false, tracksGeneration: true, table: DEFAULT_TABLE,
  });
}
