/**
 * OpenAPI definitions of a custom resource version, as kube-apiserver publishes them: the
 * version's structural schema with `apiVersion`, `kind` and `metadata` (ObjectMeta) properties and
 * `x-kubernetes-group-version-kind`, plus the list kind. Definition names are the reversed group,
 * the version and the kind: `com.example.stable.v1.CronTab`. v2 leaves out what Swagger 2.0
 * cannot say (nullable, anyOf/oneOf/not).
 */
import type { CustomResourceDefinition, CustomResourceDefinitionVersion } from "../api/generated/apiextensions_v1.ts";
import type { JsonSchema } from "../apiserver/openapi/schemas.ts";
import type { DynamicOpenApi } from "../apiserver/crd/registry.ts";
import { isObj } from "./schema.ts";

const META = "io.k8s.apimachinery.pkg.apis.meta.v1";

export function definitionPrefix(group: string, version: string): string {
  return `${group.split(".").reverse().join(".")}.${version}`;
}

const V2_DROP = new Set(["nullable", "anyOf", "oneOf", "not", "x-kubernetes-validations"]);

/** Deep copy of a schema node for the v2 document (drops what Swagger 2.0 lacks). */
function toV2(v: unknown, depth = 0): unknown {
  if (depth > 64) return {};
  if (Array.isArray(v)) return v.map((x) => toV2(x, depth + 1));
  if (!isObj(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    if (V2_DROP.has(k)) continue;
    out[k] = k === "default" || k === "example" || k === "enum" ? x : toV2(x, depth + 1);
  }
  return out;
}

function asSchema(v: unknown): JsonSchema {
  // A CRD schema node is a JSON Schema object; JsonSchema names only the keywords the generator emits.
  return v as JsonSchema;
}

export function crdOpenApi(crd: CustomResourceDefinition, v: CustomResourceDefinitionVersion): DynamicOpenApi {
  const group = crd.spec?.group ?? "";
  const kind = crd.spec?.names?.kind ?? "";
  const listKind = crd.spec?.names?.listKind ?? `${kind}List`;
  const version = v.name ?? "";
  const prefix = definitionPrefix(group, version);
  const definition = `${prefix}.${kind}`;
  const listDefinition = `${prefix}.${listKind}`;
  const build = (flavor: "v2" | "v3"): Record<string, JsonSchema> => {
    const ref = (name: string): JsonSchema => ({ $ref: `${flavor === "v3" ? "#/components/schemas/" : "#/definitions/"}${name}` });
    const base = structuredClone(v.schema?.openAPIV3Schema ?? { type: "object", "x-kubernetes-preserve-unknown-fields": true }) as Record<string, unknown>;
    const root = (flavor === "v2" ? toV2(base) : base) as Record<string, unknown>;
    const props = { ...((isObj(root["properties"]) ? root["properties"] : {}) as Record<string, unknown>) };
    props["apiVersion"] = { type: "string", description: "APIVersion defines the versioned schema of this representation of an object." };
    props["kind"] = { type: "string", description: "Kind is a string value representing the REST resource this object represents." };
    props["metadata"] = ref(`${META}.ObjectMeta`);
    root["properties"] = props;
    root["type"] = "object";
    root["x-kubernetes-group-version-kind"] = [{ group, kind, version }];
    const list: JsonSchema = {
      type: "object",
      required: ["items"],
      properties: {
        apiVersion: { type: "string" },
        items: { type: "array", items: ref(definition) },
        kind: { type: "string" },
        metadata: ref(`${META}.ListMeta`),
      },
      "x-kubernetes-group-version-kind": [{ group, kind: listKind, version }],
    };
    return { [definition]: asSchema(root), [listDefinition]: list };
  };
  return { definition, listDefinition, v3: build("v3"), v2: build("v2") };
}
