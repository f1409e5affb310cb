/**
 * Builds the served `Resource`s of a CustomResourceDefinition: one per served version, all
 * stored under `/registry/<group>/<plural>/` as JSON in the storage version's apiVersion, read back
 * in the requested version (`None` conversion: only apiVersion changes). Each version has its own
 * strategy (prune + schema defaults, schema validation, printer columns, scale paths, selectable
 * fields), server-side-apply TypeSchema, unknown-field hook and OpenAPI definitions.
 */
import type {
  CustomResourceDefinition, CustomResourceDefinitionVersion,
} from "../../api/generated/apiextensions_v1.ts";
import type { KubeObject } from "../../api/object.ts";
import { translateTimestampSince } from "../registry/kinds/_duration.ts";
import { col, defineStrategy, NAME_COLUMN, type KindStrategy } from "../registry/kinds/_base.ts";
import type { ScaleMapping, TableCell, TableColumn, TablePrinter } from "../registry/strategy.ts";
import type { Resource } from "../context.ts";
import type { KindInfo } from "../ports.ts";
import { evaluate, parseJsonPath, type Step } from "../../apiextensions/jsonpath.ts";
import { isObj, type Schema } from "../../apiextensions/schema.ts";
import { applySchemaDefaults, prune, unknownFieldPaths } from "../../apiextensions/structural.ts";
import { typeSchemaOf } from "../../apiextensions/typeschema.ts";
import { validateValue } from "../../apiextensions/validate.ts";
import { celValidatorFor } from "../../apiextensions/cel.ts";
import { crdOpenApi } from "../../apiextensions/openapi.ts";
import type { DynamicExtras } from "./registry.ts";

export interface CustomResourceBuild {
  readonly res: Resource;
  readonly extras: DynamicExtras;
}

export function crStoragePrefix(group: string, plural: string): string {
  return `/registry/${group}/${plural}/`;
}

function stepsOrUndefined(path: string | undefined): Step[] | undefined {
  if (!path) return undefined;
  try {
    return parseJsonPath(path);
  } catch {
    return undefined;
  }
}

function cellOf(type: string, values: unknown[], now: Date): TableCell {
  if (values.length === 0) return null;
  if (values.length > 1) return values.map((v) => (typeof v === "object" ? JSON.stringify(v) : String(v))).join(",");
  const v = values[0];
  if (v === null || v === undefined) return null;
  switch (type) {
    case "date":
      return typeof v === "string" ? translateTimestampSince(v, now) : null;
    case "integer":
      return typeof v === "number" ? Math.trunc(v) : null;
    case "number":
      return typeof v === "number" ? v : null;
    case "boolean":
      return typeof v === "boolean" ? v : null;
    default:
      return typeof v === "object" ? JSON.stringify(v) : String(v);
  }
}

/** Name + additionalPrinterColumns (Age when there are none), evaluated server-side. */
export function crTable(v: CustomResourceDefinitionVersion): TablePrinter {
  const defs = v.additionalPrinterColumns ?? [];
  const cols: TableColumn[] = [NAME_COLUMN];
  const paths: Array<{ steps: Step[] | undefined; type: string }> = [];
  if (defs.length === 0) {
    cols.push(col("Age", "date", "Time since the object was created."));
    paths.push({ steps: parseJsonPath(".metadata.creationTimestamp"), type: "date" });
  }
  for (const c of defs) {
    const type = (c.type ?? "string") as TableColumn["type"];
    cols.push({ name: c.name ?? "", type, format: c.format ?? "", description: c.description ?? "", priority: c.priority ?? 0 });
    paths.push({ steps: stepsOrUndefined(c.jsonPath), type });
  }
  return {
    columns: cols,
    row(obj: KubeObject, now: Date): TableCell[] {
      const cells: TableCell[] = [obj.metadata?.name ?? ""];
      for (const p of paths) cells.push(p.steps ? cellOf(p.type, evaluate(p.steps, obj), now) : null);
      return cells;
    },
  };
}

function setPath(obj: Record<string, unknown>, steps: readonly Step[], value: unknown): void {
  let cur = obj;
  steps.forEach((s, i) => {
    if (s.kind !== "field") return;
    if (i === steps.length - 1) cur[s.name] = value;
    else {
      const next = cur[s.name];
      if (!isObj(next)) cur[s.name] = {};
      cur = cur[s.name] as Record<string, unknown>;
    }
  });
}

function scaleOf(v: CustomResourceDefinitionVersion): ScaleMapping | undefined {
  const sc = v.subresources?.scale;
  if (!sc) return undefined;
  const spec = stepsOrUndefined(sc.specReplicasPath) ?? [];
  const status = stepsOrUndefined(sc.statusReplicasPath) ?? [];
  const sel = stepsOrUndefined(sc.labelSelectorPath);
  const first = (steps: readonly Step[], o: KubeObject): unknown => evaluate(steps, o)[0];
  return {
    specReplicas: (o) => {
      const n = first(spec, o);
      return typeof n === "number" ? n : 0;
    },
    setSpecReplicas: (o, n) => setPath(o as Record<string, unknown>, spec, n),
    statusReplicas: (o) => {
      const n = first(status, o);
      return typeof n === "number" ? n : 0;
    },
    selector: (o) => {
      const s = sel ? first(sel, o) : undefined;
      return typeof s === "string" ? s : "";
    },
  };
}

function strategyOf(crd: CustomResourceDefinition, v: CustomResourceDefinitionVersion, schema: Schema | undefined): KindStrategy {
  const spec = crd.spec ?? {};
  const selectable = (v.selectableFields ?? []).flatMap((f) => {
    const steps = stepsOrUndefined(f.jsonPath);
    return steps && f.jsonPath ? [{ name: f.jsonPath.replace(/^\./, ""), steps }] : [];
  });
  const scale = scaleOf(v);
  // CEL rules, compiled once per CRD version: `validate` (create and update) runs the rules without
  // oldSelf, `validateUpdate` the transition rules; both only when the schema checks passed.
  const cel = celValidatorFor(schema);
  return defineStrategy({
    group: spec.group ?? "", kind: spec.names?.kind ?? "", plural: spec.names?.plural ?? "",
    namespaced: spec.scope === "Namespaced",
    statusSubresource: v.subresources?.status !== undefined,
    tracksGeneration: true,
    defaults: (o) => {
      if (!schema) return;
      prune(schema, o);
      applySchemaDefaults(schema, o);
    },
    validate: (o) => {
      if (!schema) return [];
      const errs = validateValue(schema, o, "");
      return errs.length > 0 || !cel ? errs : cel.validate(o, undefined, "plain");
    },
    validateUpdate: (o, old) => (schema && cel && validateValue(schema, o, "").length === 0 ? cel.validate(o, old, "transition") : []),
    fields: (o) => {
      const out: Record<string, string> = {};
      for (const f of selectable) {
        const val = evaluate(f.steps, o)[0];
        out[f.name] = val === undefined || val === null ? "" : typeof val === "object" ? JSON.stringify(val) : String(val);
      }
      return out;
    },
    table: crTable(v),
    ...(scale ? { scale } : {}),
  });
}

/** The served resources of `crd` (empty when it serves nothing). */
export function customResourcesOf(crd: CustomResourceDefinition): CustomResourceBuild[] {
  const spec = crd.spec ?? {};
  const names = spec.names ?? {};
  const group = spec.group ?? "";
  const plural = names.plural ?? "";
  const kind = names.kind ?? "";
  const storage = spec.versions?.find((x) => x.storage === true)?.name ?? "";
  const out: CustomResourceBuild[] = [];
  for (const v of spec.versions ?? []) {
    if (v.served !== true || !v.name) continue;
    const version = v.name;
    const apiVersion = `${group}/${version}`;
    const schema = v.schema?.openAPIV3Schema;
    const subresources: string[] = [];
    if (v.subresources?.status !== undefined) subresources.push("status");
    if (v.subresources?.scale) subresources.push("scale");
    const info: KindInfo = {
      group, version, kind, listKind: names.listKind ?? `${kind}List`, plural, singular: names.singular ?? kind.toLowerCase(),
      namespaced: spec.scope === "Namespaced", shortNames: [...(names.shortNames ?? [])], categories: [...(names.categories ?? [])],
      subresources,
    };
    const strategy = strategyOf(crd, v, schema);
    const supportedFields = ["metadata.name", ...(info.namespaced ? ["metadata.namespace"] : []),
      ...(v.selectableFields ?? []).map((f) => (f.jsonPath ?? "").replace(/^\./, "")).filter((f) => f !== "")];
    const res: Resource = {
      info, apiVersion, prefix: crStoragePrefix(group, plural), strategy, supportedFields, indexFields: [],
      typeSchema: typeSchemaOf(schema), custom: true,
      convert: (o) => {
        if (o.apiVersion !== apiVersion) o.apiVersion = apiVersion;
        return o;
      },
    };
    void storage;
    out.push({
      res,
      extras: {
        schema: {
          unknownFields: (_a, _k, obj) => (schema ? unknownFieldPaths(schema, obj as Record<string, unknown>) : []),
        },
        openapi: crdOpenApi(crd, v),
      },
    });
  }
  return out;
}
