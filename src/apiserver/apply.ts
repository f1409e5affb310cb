/**
 * Server-side apply over HTTP (`PATCH` with `application/apply-patch+yaml`) and the field-manager
 * identity of every other write. The merge and ownership rules live in `fieldmanager/`; this module
 * decodes the request, reads the live object, runs `apply` and hands the result to the generic
 * create/update path (defaulting, prepare, validation, dryRun, storage).
 *
 * - `fieldManager` is required (422 `PatchOptions.meta.k8s.io "" is invalid: fieldManager:
 *   Required value: ...`), `force` is only for apply (422 otherwise).
 * - The body is YAML or JSON. Unknown fields are always a 400 (`failed to create typed patch
 *   object (...): .spec.foo: field not declared in schema`), as upstream: apply needs a strict
 *   schema whatever `fieldValidation` says; duplicate fields follow `fieldValidation`.
 * - Absent object: created (201). Conflicts: 409 with one `FieldManagerConflict` cause per field
 *   unless `force=true`. An apply that changes nothing writes nothing (same resourceVersion).
 * - A `metadata.resourceVersion` in the body is a precondition (409 when stale).
 */
import { ApiError, badRequest, invalid, notFound, type StatusCause } from "../api/errors.ts";
import type { KubeObject } from "../api/object.ts";
import type { HttpResponse } from "../transport/types.ts";
import { asKubeObject, checkFields, fieldValidationOf, parseJson, parseYamlBody, readBody } from "./body.ts";
import { renderContext, type RequestContext, type ServerCore } from "./context.ts";
import {
  apply, conflictError, fieldManagerCauses, isConflicts, resetFieldsFor, schemaForKind, validatePatchOptions,
} from "./fieldmanager/mod.ts";
import { checkNamespaceMatch, checkTypes } from "./handlers/input.ts";
import { renderObject } from "./respond.ts";
import { createObject, keyOf, updateObject, type FieldTracking, type UpdateMode } from "./rest.ts";
import { readObject } from "./storage.ts";

/** Upstream managerOrUserAgent: the fieldManager parameter, else the User-Agent up to its first "/". */
export function managerOf(ctx: RequestContext): string {
  const fm = ctx.req.query.get("fieldManager");
  if (fm !== null && fm !== "") return fm;
  const ua = ctx.req.headers["user-agent"] ?? "";
  const slash = ua.indexOf("/");
  return slash < 0 ? ua : ua.slice(0, slash);
}

/** The managedFields tracking of a non-apply write on the main resource or `subresource`. */
export function trackingOf(ctx: RequestContext, subresource?: string): FieldTracking {
  return { manager: managerOf(ctx), ...(subresource ? { subresource } : {}) };
}

/**
 * The object in its typed form, as a write stores and answers it: for kinds stored as protobuf a
 * round trip through the codec drops what the typed form cannot carry (empty maps and lists such
 * as `annotations: {}`, unknown fields), as upstream's conversion into the Go type does before
 * defaulting. Without it a patch or apply leaving `annotations: {}` answers (and `kubectl diff`
 * shows) a field the stored object does not have, and a no-op write looks like a change.
 * `metadata.resourceVersion` (a precondition) is kept. Custom resources (JSON) are returned as
 * they are; so is anything the codec refuses (the write path reports it as before).
 */
export function typedForm(core: ServerCore, obj: KubeObject, touched?: readonly string[]): KubeObject {
  if (typeof obj.apiVersion !== "string" || typeof obj.kind !== "string" || !core.codec.protobuf(obj.apiVersion, obj.kind)) return obj;
  if (touched !== undefined) return typedMembers(core, obj, touched);
  const out = roundTrip(core, obj);
  if (out === undefined) return obj;
  const rv = obj.metadata?.resourceVersion;
  if (rv !== undefined) out.metadata = { ...(out.metadata ?? {}), resourceVersion: rv };
  return out;
}

/** Encode + decode through the storage codec; undefined when the codec refuses the object. */
function roundTrip(core: ServerCore, obj: KubeObject): KubeObject | undefined {
  try {
    return core.codec.decodeStorage(core.codec.encodeStorage(obj));
  } catch {
    return undefined;
  }
}

/**
 * `typedForm` of an object whose members other than `touched` already are in typed form (a patch
 * of a stored object changes only the top-level members it names): only those members make the
 * round trip — each top-level member of a kind is its own protobuf field, so its typed form does
 * not depend on the others. A status patch of a pod encodes its status, not its spec and
 * managedFields. `obj` is changed in place and returned.
 */
function typedMembers(core: ServerCore, obj: KubeObject, touched: readonly string[]): KubeObject {
  const rec = obj as Record<string, unknown>;
  const part: Record<string, unknown> = { apiVersion: obj.apiVersion, kind: obj.kind };
  for (const k of touched) if (k !== "apiVersion" && k !== "kind" && rec[k] !== undefined) part[k] = rec[k];
  const out = roundTrip(core, part as KubeObject) as Record<string, unknown> | undefined;
  if (out === undefined) return obj;
  const rv = obj.metadata?.resourceVersion;
  for (const k of touched) {
    if (k === "apiVersion" || k === "kind" || !(k in rec)) continue;
    if (out[k] === undefined) delete rec[k];
    else rec[k] = out[k];
  }
  if (rv !== undefined) obj.metadata = { ...(obj.metadata ?? {}), resourceVersion: rv };
  return obj;
}

export type OptionsKind = "CreateOptions" | "UpdateOptions" | "PatchOptions";

/**
 * Checks the write options in the query (upstream ValidateCreate/Update/PatchOptions): a given
 * fieldManager must be at most 128 bytes of printable characters; `force` only with apply; apply
 * needs a fieldManager. Throws the 422 kube-apiserver answers.
 */
export function checkWriteOptions(ctx: RequestContext, kind: OptionsKind, isApply = false): void {
  const fieldManager = ctx.req.query.get("fieldManager") ?? "";
  if (kind === "PatchOptions") {
    const err = validatePatchOptions({ isApply, fieldManager, forceGiven: ctx.req.query.has("force") });
    if (err) throw err;
    return;
  }
  const causes: StatusCause[] = fieldManagerCauses(fieldManager);
  if (causes.length > 0) throw invalid("meta.k8s.io", kind, "", causes);
}

function forceOf(query: URLSearchParams): boolean {
  const v = query.get("force");
  if (v === null || v === "" || v === "false" || v === "0" || v === "False" || v === "FALSE" || v === "f" || v === "F") return false;
  if (v === "true" || v === "1" || v === "True" || v === "TRUE" || v === "t" || v === "T") return true;
  throw badRequest(`invalid boolean value for force: ${JSON.stringify(v)}`);
}

/** Decodes the apply body: YAML (JSON is YAML) into an object; schema checks per upstream. */
async function readApplyBody(ctx: RequestContext, apiVersion: string, kind: string): Promise<KubeObject> {
  const bytes = await readBody(ctx.req);
  if (bytes.length === 0) throw badRequest("the request body is empty; expected an apply configuration");
  // kubectl sends JSON (a YAML subset): the JSON parser is far cheaper than the YAML one.
  const { value, duplicates } = looksLikeJson(bytes) ? parseJson(bytes) : parseYamlBody(bytes);
  const obj = asKubeObject(value);
  const policy = fieldValidationOf(ctx.req.query);
  ctx.warnings.push(...checkFields(policy, [], duplicates));
  if (obj.apiVersion !== apiVersion || obj.kind !== kind) {
    // The fieldmanager's check, early: nothing below makes sense for another kind.
    throw badRequest(`invalid object type: ${gvkString(typeof obj.apiVersion === "string" ? obj.apiVersion : "", typeof obj.kind === "string" ? obj.kind : "")}`);
  }
  checkTypes(ctx, apiVersion, kind, obj);
  const unknown = ctx.core.schema.unknownFields?.(apiVersion, kind, obj) ?? [];
  if (unknown.length > 0) {
    const list = unknown.map((f) => `.${f}: field not declared in schema`);
    throw badRequest(`failed to create typed patch object (${describe(obj, ctx)}; ${gvkString(apiVersion, kind)}): ${list.length === 1 ? list[0] : `errors:\n  ${list.join("\n  ")}`}`);
  }
  return obj;
}

/** The first non-blank byte opens a JSON object. */
function looksLikeJson(bytes: Uint8Array): boolean {
  for (const b of bytes) {
    if (b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09) continue;
    return b === 0x7b;
  }
  return false;
}

function gvkString(apiVersion: string, kind: string): string {
  return `${apiVersion.includes("/") ? apiVersion : `/${apiVersion}`}, Kind=${kind}`;
}

function describe(obj: KubeObject, ctx: RequestContext): string {
  const ns = ctx.res.info.namespaced ? ctx.info.namespace : "";
  return `${ns}/${typeof obj.metadata?.name === "string" ? obj.metadata.name : ctx.info.name}`;
}

const MAX_APPLY_ATTEMPTS = 3;

/**
 * PATCH with `application/apply-patch+yaml` on the main resource (`mode` "main") or the status
 * subresource ("status").
 */
export async function handleApply(ctx: RequestContext, mode: UpdateMode = "main"): Promise<HttpResponse> {
  checkWriteOptions(ctx, "PatchOptions", true);
  const { core, res, info } = ctx;
  const apiVersion = res.apiVersion;
  const kind = res.info.kind;
  const schema = res.typeSchema ?? schemaForKind(apiVersion, kind);
  if (!schema) throw new ApiError(415, "UnsupportedMediaType", `server-side apply is not supported for ${kind} (no schema)`);
  const body = await readApplyBody(ctx, apiVersion, kind);
  const meta = { ...(body.metadata ?? {}) };
  const bodyName = meta.name;
  if (bodyName !== undefined && bodyName !== null && bodyName !== "" && bodyName !== info.name) {
    throw badRequest(`the name of the object (${String(bodyName)}) does not match the name on the URL (${info.name})`);
  }
  meta.name = info.name;
  body.metadata = meta;
  checkNamespaceMatch(body, res, info.namespace);
  const hasRv = typeof body.metadata?.resourceVersion === "string" && body.metadata.resourceVersion !== "";
  const subresource = mode === "status" ? "status" : undefined;
  const ignore = resetFieldsFor(subresource
    ? { subresource, hasStatusSubresource: res.info.subresources.includes("status") }
    : { hasStatusSubresource: res.info.subresources.includes("status") });
  const run = (live: KubeObject | undefined): KubeObject => {
    const result = apply(schema, live, structuredClone(body), {
      manager: ctx.req.query.get("fieldManager") ?? "", apiVersion, kind, force: forceOf(ctx.req.query),
      time: core.now(), ignore, ...(subresource ? { subresource } : {}),
    });
    if (isConflicts(result)) throw conflictError(result.conflicts);
    return typedForm(core, result.object);
  };

  const key = keyOf(res, info.namespace, info.name);
  for (let attempt = 1; ; attempt++) {
    const cur = await readObject(core.store, core.codec, key);
    if (!cur) {
      if (mode === "status") throw notFound(res.info.group, res.info.plural, info.name);
      if (hasRv) throw notFound(res.info.group, res.info.plural, info.name); // a precondition on an object that does not exist
      try {
        const created = await createObject(core, res, run(undefined), ctx.dryRun, undefined, { typed: true });
        return renderObject(201, created, renderContext(ctx));
      } catch (e) {
        if (attempt < MAX_APPLY_ATTEMPTS && e instanceof ApiError && e.reason === "AlreadyExists") continue;
        throw e;
      }
    }
    try {
      const r = await updateObject(core, res, info.namespace, info.name, (live) => {
        const rv = live.metadata?.resourceVersion;
        const out = run(live);
        // Without a resourceVersion in the body the apply is to whatever is current: a lost
        // race retries instead of failing with 409.
        if (!hasRv || out.metadata?.resourceVersion === rv) {
          if (out.metadata) delete out.metadata.resourceVersion;
        }
        return out;
      }, { mode, dryRun: ctx.dryRun, typed: true });
      return renderObject(200, r.object, renderContext(ctx));
    } catch (e) {
      if (attempt < MAX_APPLY_ATTEMPTS && e instanceof ApiError && e.reason === "NotFound" && !hasRv && mode !== "status") continue;
      throw e;
    }
  }
}
