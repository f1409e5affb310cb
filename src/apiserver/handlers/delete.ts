/**
 * delete and deletecollection, with DeleteOptions from the body (JSON/YAML/protobuf) or query.
 * Namespaces: the system namespaces cannot be deleted; deleting another marks it Terminating
 * until the namespace controller has removed its content and finalized it.
 */
import { ApiError, badRequest } from "../../api/errors.ts";
import type { KubeObject } from "../../api/object.ts";
import type { HttpResponse } from "../../transport/types.ts";
import { decodeObjectBody, isObject, readBody, requestFormat } from "../body.ts";
import { renderContext, type RequestContext, type Resource } from "../context.ts";
import { renderObject } from "../respond.ts";
import { deleteObject, type DeleteOptions, type WriteResult } from "../rest.ts";

const POLICIES = new Set(["Orphan", "Background", "Foreground"]);

function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === "") return undefined;
  if (!/^-?[0-9]+$/.test(v)) throw badRequest(`invalid ${name} "${v}": must be an integer`);
  return Number(v);
}

/** Parses DeleteOptions from the body (if any) merged over the query parameters. */
export async function deleteOptionsOf(ctx: RequestContext): Promise<DeleteOptions> {
  const q = ctx.req.query;
  let body: Record<string, unknown> = {};
  const bytes = await readBody(ctx.req);
  if (bytes.length > 0) {
    const format = requestFormat(ctx.req);
    if (format !== "json" && format !== "yaml" && format !== "protobuf") throw badRequest("DeleteOptions must be JSON, YAML or protobuf");
    const { value } = decodeObjectBody(bytes, format, ctx.core.codec.raw);
    if (!isObject(value)) throw badRequest("DeleteOptions must be an object");
    body = value;
    if (body["kind"] !== undefined && body["kind"] !== "DeleteOptions") {
      throw badRequest(`${String(body["kind"])} in version "v1" cannot be handled as a DeleteOptions`);
    }
  }
  const grace = body["gracePeriodSeconds"] ?? intParam(q, "gracePeriodSeconds");
  if (grace !== undefined && grace !== null && (typeof grace !== "number" || !Number.isInteger(grace))) throw badRequest("gracePeriodSeconds must be an integer");
  const policy = body["propagationPolicy"] ?? q.get("propagationPolicy") ?? undefined;
  if (policy !== undefined && policy !== null && (typeof policy !== "string" || !POLICIES.has(policy))) {
    throw new ApiError(422, "Invalid", `DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "${String(policy)}": supported values: "Foreground", "Background", "Orphan", "nil"`,
      { kind: "DeleteOptions", group: "meta.k8s.io", causes: [{ reason: "FieldValueNotSupported", field: "propagationPolicy", message: `Unsupported value: "${String(policy)}": supported values: "Foreground", "Background", "Orphan", "nil"` }] });
  }
  const orphanQ = q.get("orphanDependents");
  const orphan = body["orphanDependents"] ?? (orphanQ === null ? undefined : orphanQ === "true");
  if (orphan !== undefined && orphan !== null && policy) {
    throw new ApiError(422, "Invalid", `DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Invalid value: "${String(policy)}": orphanDependents and deletionPropagation cannot be both set`);
  }
  const pre = body["preconditions"];
  if (pre !== undefined && pre !== null && !isObject(pre)) throw badRequest("preconditions must be an object");
  let dryRun = ctx.dryRun;
  const bodyDry = body["dryRun"];
  if (Array.isArray(bodyDry)) {
    for (const v of bodyDry) if (v !== "All") throw badRequest(`Invalid dry run value: unsupported dry run value "${String(v)}": only "All" is supported`);
    dryRun ||= bodyDry.length > 0;
  }
  const preconditions = pre && isObject(pre)
    ? {
      ...(typeof pre["uid"] === "string" ? { uid: pre["uid"] } : {}),
      ...(typeof pre["resourceVersion"] === "string" ? { resourceVersion: pre["resourceVersion"] } : {}),
    }
    : undefined;
  return {
    ...(typeof grace === "number" ? { gracePeriodSeconds: grace } : {}),
    ...(typeof policy === "string" ? { propagationPolicy: policy as DeleteOptions["propagationPolicy"] & string } : {}),
    ...(typeof orphan === "boolean" ? { orphanDependents: orphan } : {}),
    ...(preconditions ? { preconditions } : {}),
    dryRun,
  };
}

/** Upstream returns the deleted object for these; a Status for the rest. */
const RETURNS_OBJECT = new Set(["pods", "namespaces", "services", "nodes", "persistentvolumes", "persistentvolumeclaims"]);

function successStatus(res: Resource, obj: KubeObject): KubeObject {
  return {
    kind: "Status", apiVersion: "v1", metadata: {}, status: "Success",
    details: {
      name: obj.metadata?.name ?? "", ...(res.info.group ? { group: res.info.group } : {}), kind: res.info.plural,
      uid: obj.metadata?.uid ?? "",
    },
  };
}

function deleteResponse(ctx: RequestContext, r: WriteResult): HttpResponse {
  const rc = renderContext(ctx);
  if (r.deleted && !RETURNS_OBJECT.has(ctx.res.info.plural)) {
    return renderObject(200, successStatus(ctx.res, r.object), { ...rc, neg: ctx.neg.shape.kind === "object" ? ctx.neg : { serialization: "json", shape: { kind: "object" }, contentType: "application/json" } });
  }
  return renderObject(200, r.object, rc);
}

const PROTECTED_NAMESPACES = new Set(["default", "kube-system", "kube-public"]);

export async function handleDelete(ctx: RequestContext): Promise<HttpResponse> {
  const opts = await deleteOptionsOf(ctx);
  const { res, info, core } = ctx;
  if (res.info.group === "" && res.info.plural === "namespaces") {
    if (PROTECTED_NAMESPACES.has(info.name)) {
      throw new ApiError(403, "Forbidden", `namespaces "${info.name}" is forbidden: this namespace may not be deleted`, { name: info.name, kind: "namespaces" });
    }
    // Marks it Terminating (its spec.finalizers hold it); the namespace controller deletes the
    // content and then calls `finalize`, which removes it.
    return deleteResponse(ctx, await deleteObject(core, res, "", info.name, opts));
  }
  return deleteResponse(ctx, await deleteObject(core, res, info.namespace, info.name, opts));
}

export async function handleDeleteCollection(ctx: RequestContext): Promise<HttpResponse> {
  const opts = await deleteOptionsOf(ctx);
  const reader = ctx.core.readerFor(ctx.res);
  const q = ctx.req.query;
  const filter = ctx.core.filters({
    ...(ctx.info.namespace ? { namespace: ctx.info.namespace } : {}),
    ...(q.get("labelSelector") ? { labelSelector: q.get("labelSelector") as string } : {}),
    ...(q.get("fieldSelector") ? { fieldSelector: q.get("fieldSelector") as string } : {}),
    supportedFields: ctx.res.supportedFields,
    indexFields: ctx.res.indexFields,
  });
  const list = await reader.list({ filter, resourceVersion: "" });
  const deleted: KubeObject[] = [];
  for (const item of list.items) {
    try {
      deleted.push((await deleteObject(ctx.core, ctx.res, item.namespace, item.name, opts)).object);
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 404)) throw e;
    }
  }
  const out: KubeObject = {
    kind: ctx.res.info.listKind, apiVersion: ctx.res.apiVersion,
    metadata: { resourceVersion: String(ctx.core.store.currentRevision()) }, items: deleted,
  };
  const rc = renderContext(ctx);
  return renderObject(200, out, { ...rc, neg: ctx.neg.shape.kind === "object" ? ctx.neg : { serialization: "json", shape: { kind: "object" }, contentType: "application/json" } });
}
