/**
 * Decoding of request inputs shared by the verb handlers: object bodies (with kind/apiVersion
 * checks and field validation), query flags (dryRun) and names.
 */
import { badRequest, unsupportedMediaType } from "../../api/errors.ts";
import type { KubeObject } from "../../api/object.ts";
import { asKubeObject, checkFields, decodeObjectBody, fieldValidationOf, readBody, requestFormat } from "../body.ts";
import type { RequestContext, Resource } from "../context.ts";
import { pathSegmentErrors } from "../meta.ts";

/** `dryRun=All` (repeatable); anything else is 400 like upstream. */
export function dryRunOf(query: URLSearchParams): boolean {
  const vals = query.getAll("dryRun");
  for (const v of vals) if (v !== "All") throw badRequest(`Invalid dry run value: unsupported dry run value "${v}": only "All" is supported`);
  return vals.length > 0;
}

/** Fills a missing apiVersion/kind from the URL; a mismatching one is 400. */
export function checkGvk(obj: KubeObject, apiVersion: string, kind: string): void {
  if (obj.apiVersion !== undefined && typeof obj.apiVersion !== "string") throw badRequest("apiVersion must be a string");
  if (obj.kind !== undefined && typeof obj.kind !== "string") throw badRequest("kind must be a string");
  if (obj.apiVersion && obj.apiVersion !== apiVersion) {
    throw badRequest(`the API version in the data (${obj.apiVersion}) does not match the expected API version (${apiVersion})`);
  }
  if (obj.kind && obj.kind !== kind) {
    const v = (obj.apiVersion ?? apiVersion).split("/").pop() ?? "";
    throw badRequest(`${obj.kind} in version "${v}" cannot be handled as a ${kind}: the kind in the request body does not match the resource of the URL`);
  }
  obj.apiVersion = apiVersion;
  obj.kind = kind;
}

/** Reads and decodes an object body of the given kind (default: the resource's). */
export async function readObjectBody(ctx: RequestContext, apiVersion = ctx.res.apiVersion, kind = ctx.res.info.kind): Promise<KubeObject> {
  const format = requestFormat(ctx.req);
  if (format !== "json" && format !== "yaml" && format !== "protobuf") throw unsupportedMediaType(ctx.req.headers["content-type"] ?? "");
  // Custom resources have no protobuf form (upstream answers 415 too).
  if (format === "protobuf" && !ctx.core.codec.protobuf(apiVersion, kind)) throw unsupportedMediaType(ctx.req.headers["content-type"] ?? "");
  const policy = fieldValidationOf(ctx.req.query);
  const bytes = await readBody(ctx.req);
  if (bytes.length === 0) throw badRequest("the request body is empty; expected a JSON, YAML or protobuf object");
  const { value, duplicates } = decodeObjectBody(bytes, format, ctx.core.codec.raw);
  const obj = asKubeObject(value);
  checkGvk(obj, apiVersion, kind);
  validateMetaTypes(obj);
  // A protobuf body decodes to schema-typed values of known fields only (unknown field numbers are
  // skipped, as upstream's protobuf decoding does), so the type and unknown-field walks can only
  // find something in JSON/YAML bodies.
  if (format === "protobuf") return obj;
  checkTypes(ctx, apiVersion, kind, obj);
  const unknown = ctx.core.schema.unknownFields?.(apiVersion, kind, obj) ?? [];
  ctx.warnings.push(...checkFields(policy, unknown, duplicates));
  return obj;
}

/** Rejects values of the wrong JSON type (per the generated schema) with 400 before strategies run. */
export function checkTypes(ctx: RequestContext, apiVersion: string, kind: string, obj: KubeObject): void {
  const err = ctx.core.schema.typeError?.(apiVersion, kind, obj);
  if (err) throw badRequest(`${kind} in version "${apiVersion.split("/").pop() ?? ""}" cannot be handled as a ${kind}: ${err}`);
}

/** Rejects metadata fields of the wrong JSON type before they reach strategies (400, not 500). */
export function validateMetaTypes(obj: KubeObject): void {
  const m = obj.metadata;
  if (m === undefined || m === null) {
    obj.metadata = {};
    return;
  }
  const str = ["name", "generateName", "namespace", "uid", "resourceVersion", "creationTimestamp", "deletionTimestamp"] as const;
  for (const f of str) {
    const v = (m as Record<string, unknown>)[f];
    if (v !== undefined && v !== null && typeof v !== "string") {
      throw badRequest(`json: cannot unmarshal ${typeof v} into Go struct field ObjectMeta.metadata.${f} of type string`);
    }
    if (v === null) delete (m as Record<string, unknown>)[f];
  }
  for (const f of ["labels", "annotations"] as const) {
    const v = (m as Record<string, unknown>)[f];
    if (v === null) delete (m as Record<string, unknown>)[f];
    else if (v !== undefined) {
      if (typeof v !== "object" || Array.isArray(v) || Object.values(v as object).some((x) => typeof x !== "string")) {
        throw badRequest(`json: cannot unmarshal into Go struct field ObjectMeta.metadata.${f} of type map[string]string`);
      }
    }
  }
  const fin = (m as Record<string, unknown>)["finalizers"];
  if (fin === null) delete (m as Record<string, unknown>)["finalizers"];
  else if (fin !== undefined && (!Array.isArray(fin) || fin.some((x) => typeof x !== "string"))) {
    throw badRequest("json: cannot unmarshal into Go struct field ObjectMeta.metadata.finalizers of type []string");
  }
  const refs = (m as Record<string, unknown>)["ownerReferences"];
  if (refs === null) delete (m as Record<string, unknown>)["ownerReferences"];
  else if (refs !== undefined && (!Array.isArray(refs) || refs.some((r) => typeof r !== "object" || r === null || Array.isArray(r)))) {
    throw badRequest("json: cannot unmarshal into Go struct field ObjectMeta.metadata.ownerReferences of type []v1.OwnerReference");
  }
  for (const f of ["generation", "deletionGracePeriodSeconds"] as const) {
    const v = (m as Record<string, unknown>)[f];
    if (v === null) delete (m as Record<string, unknown>)[f];
    else if (v !== undefined && (typeof v !== "number" || !Number.isInteger(v))) {
      throw badRequest(`json: cannot unmarshal ${typeof v} into Go struct field ObjectMeta.metadata.${f} of type int64`);
    }
  }
}

/** Body namespace must be empty or match the URL's; fills it from the URL. */
export function checkNamespaceMatch(obj: KubeObject, res: Resource, namespace: string): void {
  const meta = obj.metadata ?? {};
  if (!res.info.namespaced) {
    delete meta.namespace;
    obj.metadata = meta;
    return;
  }
  if (meta.namespace && meta.namespace !== namespace) {
    throw badRequest("the namespace of the provided object does not match the namespace sent on the request");
  }
  meta.namespace = namespace;
  obj.metadata = meta;
}

/** A URL name must be a valid path segment. */
export function checkUrlName(res: Resource, name: string): void {
  const errs = pathSegmentErrors(name);
  if (errs.length) throw badRequest(`${res.info.plural} "${name}": ${errs.join(", ")}`);
}
