/**
 * create (POST), update (PUT) and patch (PATCH) of the main resource and of the `status`
 * subresource.
 */
import { ApiError, badRequest, unsupportedMediaType } from "../../api/errors.ts";
import type { KubeObject } from "../../api/object.ts";
import type { HttpResponse } from "../../transport/types.ts";
import { checkFields, fieldValidationOf, parseJson, readBody, requestFormat } from "../body.ts";
import { renderContext, type RequestContext } from "../context.ts";
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch, applyStrategicMergePatchOwned, parseJsonPatch, PatchError, type Json, type JsonPatchOp } from "../patch/mod.ts";
import { renderObject } from "../respond.ts";
import { createObject, updateObject, type UpdateMode } from "../rest.ts";
import { checkWriteOptions, handleApply, trackingOf, typedForm } from "../apply.ts";
import { checkGvk, checkNamespaceMatch, checkTypes, readObjectBody, validateMetaTypes } from "./input.ts";

/**
 * The body in its typed form. A protobuf body already is: it was decoded by the storage codec,
 * and `typedForm` (encode + decode) would give the same object back.
 */
function typedBody(ctx: RequestContext, obj: KubeObject): KubeObject {
  return requestFormat(ctx.req) === "protobuf" ? obj : typedForm(ctx.core, obj);
}

export async function handleCreate(ctx: RequestContext): Promise<HttpResponse> {
  checkWriteOptions(ctx, "CreateOptions");
  const obj = typedBody(ctx, await readObjectBody(ctx));
  checkNamespaceMatch(obj, ctx.res, ctx.info.namespace);
  if (ctx.res.info.namespaced && ctx.info.namespace === "") {
    throw new ApiError(404, "NotFound", "the server could not find the requested resource");
  }
  // The decoded body belongs to this request: createObject may use it without a copy.
  const created = await createObject(ctx.core, ctx.res, obj, ctx.dryRun, trackingOf(ctx), { owned: true, typed: true });
  return renderObject(201, created, renderContext(ctx));
}

function checkName(obj: KubeObject, name: string): void {
  const bodyName = obj.metadata?.name;
  if (bodyName !== undefined && bodyName !== "" && bodyName !== name) {
    throw badRequest(`the name of the object (${bodyName}) does not match the name on the URL (${name})`);
  }
  obj.metadata = { ...(obj.metadata ?? {}), name };
}

function subresourceOf(mode: UpdateMode): string | undefined {
  return mode === "status" ? "status" : undefined;
}

export async function handleUpdate(ctx: RequestContext, mode: UpdateMode = "main"): Promise<HttpResponse> {
  checkWriteOptions(ctx, "UpdateOptions");
  const obj = typedBody(ctx, await readObjectBody(ctx));
  checkName(obj, ctx.info.name);
  checkNamespaceMatch(obj, ctx.res, ctx.info.namespace);
  const r = await updateObject(ctx.core, ctx.res, ctx.info.namespace, ctx.info.name, () => obj,
    { mode, dryRun: ctx.dryRun, track: trackingOf(ctx, subresourceOf(mode)), typed: true });
  return renderObject(200, r.object, renderContext(ctx));
}

/** A parsed patch request: applies itself to the current JSON object. */
/**
 * Applies the request's patch to `current` and returns the checked result. `owned`: the caller hands
 * over `current` (its own deep copy, not used afterwards), so a strategic merge may build the
 * result in it instead of copying it first; otherwise `current` is not modified.
 */
export type PatchFn = (current: KubeObject, owned?: boolean) => KubeObject;

/** A read patch: `touched` names the top-level members it can change (undefined when it may change them all). */
export interface ReadPatch {
  readonly apply: PatchFn;
  readonly hasRv: boolean;
  readonly touched: readonly string[] | undefined;
}

/**
 * The top-level members a merge or strategic merge patch can change: its own members, unless one
 * is a directive (`$patch`, `$retainKeys`, …), which may reach further.
 */
function mergePatchMembers(patch: Record<string, unknown>): string[] | undefined {
  const keys = Object.keys(patch);
  return keys.some((k) => k.startsWith("$")) ? undefined : keys;
}

/** The top-level members JSON patch operations can change (undefined when one targets the root). */
function jsonPatchMembers(ops: readonly JsonPatchOp[]): string[] | undefined {
  const out = new Set<string>();
  for (const o of ops) {
    for (const p of o.from === undefined ? [o.path] : [o.path, o.from]) {
      if (!p.startsWith("/")) return undefined;
      const end = p.indexOf("/", 1);
      out.add((end < 0 ? p.slice(1) : p.slice(1, end)).replace(/~1/g, "/").replace(/~0/g, "~"));
    }
  }
  return [...out];
}

/** Reads the patch body and returns the function applying it. */
export async function readPatch(ctx: RequestContext, apiVersion: string, kind: string): Promise<ReadPatch> {
  const format = requestFormat(ctx.req);
  if (format === "apply-patch") {
    // The main resource and status go through handleApply; other callers (scale) cannot apply yet.
    throw new ApiError(415, "UnsupportedMediaType", "server-side apply (application/apply-patch+yaml) is not supported on this subresource yet");
  }
  if (format !== "json-patch" && format !== "merge-patch" && format !== "strategic-merge-patch") {
    throw unsupportedMediaType(ctx.req.headers["content-type"] ?? "");
  }
  // Custom resources have no patch-merge metadata: strategic merge patch is refused, as upstream.
  if (format === "strategic-merge-patch" && ctx.res.custom && apiVersion === ctx.res.apiVersion) {
    throw unsupportedMediaType(ctx.req.headers["content-type"] ?? "");
  }
  const policy = fieldValidationOf(ctx.req.query);
  const bytes = await readBody(ctx.req);
  if (bytes.length === 0) throw badRequest("the request body is empty; expected a patch document");
  const { value, duplicates } = parseJson(bytes);
  ctx.warnings.push(...checkFields(policy, [], duplicates));
  const wrap = (f: (cur: Json, owned: boolean) => Json): PatchFn => (current, owned = false) => {
    let out: Json;
    try {
      out = f(current as unknown as Json, owned);
    } catch (e) {
      if (e instanceof PatchError) {
        throw e.kind === "malformed" ? badRequest(e.message) : new ApiError(422, "Invalid", e.message);
      }
      if (e instanceof RangeError) throw badRequest(e.message);
      throw e;
    }
    if (typeof out !== "object" || out === null || Array.isArray(out)) throw badRequest("the patch result is not an object");
    const obj = out as unknown as KubeObject;
    checkGvk(obj, apiVersion, kind);
    validateMetaTypes(obj);
    checkTypes(ctx, apiVersion, kind, obj);
    const unknown = ctx.core.schema.unknownFields?.(apiVersion, kind, obj) ?? [];
    ctx.warnings.push(...checkFields(policy, unknown, []));
    return obj;
  };
  const hasRv = typeof value === "object" && value !== null && !Array.isArray(value) &&
    typeof (value as { metadata?: { resourceVersion?: unknown } }).metadata?.resourceVersion === "string";
  switch (format) {
    case "json-patch": {
      let ops;
      try {
        ops = parseJsonPatch(value);
      } catch (e) {
        if (e instanceof PatchError && e.kind === "failed") throw new ApiError(422, "Invalid", e.message);
        throw badRequest(e instanceof Error ? e.message : String(e));
      }
      const touchesRv = ops.some((o) => o.path === "/metadata/resourceVersion" && (o.op === "replace" || o.op === "add"));
      return { apply: wrap((cur) => applyJsonPatch(cur, ops)), hasRv: touchesRv, touched: jsonPatchMembers(ops) };
    }
    case "merge-patch":
      if (typeof value !== "object" || value === null || Array.isArray(value)) throw badRequest("merge patch must be a JSON object");
      return { apply: wrap((cur) => applyMergePatch(cur, value as Json)), hasRv, touched: mergePatchMembers(value as Record<string, unknown>) };
    default: {
      if (typeof value !== "object" || value === null || Array.isArray(value)) throw badRequest("strategic merge patch must be a JSON object");
      const lookup = ctx.core.schema.mergeKeys?.(apiVersion, kind) ?? (() => undefined);
      return {
        apply: wrap((cur, owned) => owned ? applyStrategicMergePatchOwned(cur, value as Json, lookup) : applyStrategicMergePatch(cur, value as Json, lookup)),
        hasRv,
        touched: mergePatchMembers(value as Record<string, unknown>),
      };
    }
  }
}

export async function handlePatch(ctx: RequestContext, mode: UpdateMode = "main"): Promise<HttpResponse> {
  if (mode !== "internal" && requestFormat(ctx.req) === "apply-patch") return handleApply(ctx, mode);
  checkWriteOptions(ctx, "PatchOptions");
  const { apply, hasRv, touched } = await readPatch(ctx, ctx.res.apiVersion, ctx.res.info.kind);
  // The stored object is in typed form, so only the members the patch touches need the round
  // trip — unless a version conversion produced the object patched.
  const members = ctx.res.convert ? undefined : touched;
  const r = await updateObject(ctx.core, ctx.res, ctx.info.namespace, ctx.info.name, (cur) => {
    const rv = cur.metadata?.resourceVersion;
    // `cur` is updateObject's own deep copy for this attempt (not copy-on-write): hand it over.
    const out = typedForm(ctx.core, apply(cur, true), members);
    checkName(out, ctx.info.name);
    checkNamespaceMatch(out, ctx.res, ctx.info.namespace);
    // Without a resourceVersion in the patch, the patch applies to whatever is current: drop the
    // RV so a race retries instead of failing with 409.
    if (!hasRv || out.metadata?.resourceVersion === rv) delete out.metadata?.resourceVersion;
    return out;
  }, { mode, dryRun: ctx.dryRun, track: trackingOf(ctx, subresourceOf(mode)), typed: true });
  return renderObject(200, r.object, renderContext(ctx));
}
