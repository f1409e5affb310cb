/**
 * Subresources: `status` (get/update/patch through prepareForStatusUpdate), `scale`
 * (autoscaling/v1 Scale over the strategy's ScaleMapping) and `pods/binding` (POST a Binding).
 */
import { ApiError, badRequest, conflict, invalid, methodNotAllowed, notFound } from "../../api/errors.ts";
import type { KubeObject } from "../../api/object.ts";
import type { HttpResponse } from "../../transport/types.ts";
import { renderContext, type RequestContext } from "../context.ts";
import { renderObject } from "../respond.ts";
import { keyOf, updateObject } from "../rest.ts";
import { readObject } from "../storage.ts";
import { rfc3339 } from "../meta.ts";
import type { ScaleMapping } from "../registry/strategy.ts";
import { readObjectBody } from "./input.ts";
import { handleGet } from "./read.ts";
import { handlePatch, handleUpdate, readPatch } from "./write.ts";
import { checkWriteOptions, trackingOf } from "../apply.ts";

/** Plain-JSON render context (Scale/Status are not Table-able). */
function objectCtx(ctx: RequestContext) {
  const rc = renderContext(ctx);
  return ctx.neg.shape.kind === "object" ? rc : { ...rc, neg: { serialization: "json" as const, shape: { kind: "object" as const }, contentType: "application/json" } };
}

export async function handleStatus(ctx: RequestContext): Promise<HttpResponse> {
  switch (ctx.info.verb) {
    case "get": return handleGet(ctx);
    case "update": return handleUpdate(ctx, "status");
    case "patch": return handlePatch(ctx, "status");
    default: throw methodNotAllowed(`the server does not allow this method on the requested resource`);
  }
}

function toScale(obj: KubeObject, m: ScaleMapping): KubeObject {
  const meta = obj.metadata ?? {};
  return {
    kind: "Scale", apiVersion: "autoscaling/v1",
    metadata: {
      name: meta.name ?? "", ...(meta.namespace ? { namespace: meta.namespace } : {}), uid: meta.uid ?? "",
      resourceVersion: meta.resourceVersion ?? "", ...(meta.creationTimestamp ? { creationTimestamp: meta.creationTimestamp } : {}),
    },
    spec: { replicas: m.specReplicas(obj) },
    status: { replicas: m.statusReplicas(obj), selector: m.selector(obj) },
  };
}

function replicasOf(scale: KubeObject, name: string): number {
  const r = (scale["spec"] as { replicas?: unknown } | undefined)?.replicas;
  if (r === undefined || r === null) return 0;
  if (typeof r !== "number" || !Number.isInteger(r)) throw badRequest(`json: cannot unmarshal ${typeof r} into Go struct field ScaleSpec.spec.replicas of type int32`);
  if (r < 0) {
    throw invalid("autoscaling", "Scale", name, [{ reason: "FieldValueInvalid", field: "spec.replicas", message: `Invalid value: ${r}: must be greater than or equal to 0` }]);
  }
  return r;
}

export async function handleScale(ctx: RequestContext): Promise<HttpResponse> {
  const m = ctx.res.strategy.scale;
  if (!m) throw new ApiError(404, "NotFound", "the server could not find the requested resource");
  const { core, res, info } = ctx;
  const rc = objectCtx(ctx);
  if (info.verb === "get") {
    const cur = await readObject(core.store, core.codec, keyOf(res, info.namespace, info.name));
    if (!cur) throw notFound(res.info.group, res.info.plural, info.name);
    return renderObject(200, toScale(cur.object, m), rc);
  }
  let compute: (cur: KubeObject) => KubeObject;
  if (info.verb === "update" || info.verb === "patch") checkWriteOptions(ctx, info.verb === "update" ? "UpdateOptions" : "PatchOptions");
  if (info.verb === "update") {
    const scale = await readObjectBody(ctx, "autoscaling/v1", "Scale");
    if (scale.metadata?.name && scale.metadata.name !== info.name) {
      throw badRequest(`the name of the object (${scale.metadata.name}) does not match the name on the URL (${info.name})`);
    }
    compute = () => scale;
  } else if (info.verb === "patch") {
    const { apply } = await readPatch(ctx, "autoscaling/v1", "Scale");
    compute = (cur) => apply(toScale(cur, m));
  } else {
    throw methodNotAllowed(`the server does not allow this method on the requested resource`);
  }
  const r = await updateObject(core, res, info.namespace, info.name, (cur) => {
    const scale = compute(cur);
    const replicas = replicasOf(scale, info.name);
    const rv = scale.metadata?.resourceVersion;
    if (rv && rv !== cur.metadata?.resourceVersion) throw conflict(res.info.group, res.info.plural, info.name, "the object has been modified; please apply your changes to the latest version and try again");
    m.setSpecReplicas(cur, replicas);
    return cur;
  }, { mode: "main", dryRun: ctx.dryRun, track: trackingOf(ctx, "scale") });
  return renderObject(200, toScale(r.object, m), rc);
}

/** POST pods/<name>/binding: assigns the pod to a node once. */
export async function handleBinding(ctx: RequestContext): Promise<HttpResponse> {
  const { core, res, info } = ctx;
  if (info.verb !== "create") throw methodNotAllowed(`the server does not allow this method on the requested resource`);
  const binding = await readObjectBody(ctx, "v1", "Binding");
  const bname = binding.metadata?.name;
  if (bname && bname !== info.name) throw badRequest(`the name of the object (${bname}) does not match the name on the URL (${info.name})`);
  const target = binding["target"] as { name?: unknown; kind?: unknown } | undefined;
  const node = target?.name;
  if (typeof node !== "string" || node === "") {
    throw invalid("", "Binding", info.name, [{ reason: "FieldValueRequired", field: "target.name", message: "Required value" }]);
  }
  if (target?.kind !== undefined && target.kind !== "" && target.kind !== "Node") {
    throw invalid("", "Binding", info.name, [{ reason: "FieldValueNotSupported", field: "target.kind", message: `Unsupported value: "${String(target.kind)}": supported values: "Node"` }]);
  }
  const annotations = binding.metadata?.annotations;
  const uid = binding.metadata?.uid;
  await updateObject(core, res, info.namespace, info.name,
    (pod) => bindPod(pod, info.name, node, rfc3339(core.now()), annotations, uid),
    { mode: "internal", dryRun: ctx.dryRun, copyOnWrite: true, typed: true });
  return renderObject(201, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code: 201 }, objectCtx(ctx));
}

/**
 * The bound pod: `spec.nodeName` set, the PodScheduled condition replaced by `True` at `now`, the
 * binding's annotations merged in. Copy-on-write: `pod` is not changed; the result shares every
 * part of it the binding does not touch. 409 when the binding names another pod's `uid` (a pod
 * deleted and re-created under the same name), when the pod is being deleted, already bound, or
 * still has scheduling gates. managedFields are left as they are (upstream's binding does not
 * record a manager either).
 */
export function bindPod(pod: KubeObject, name: string, node: string, now: string, annotations?: Readonly<Record<string, string>>, uid?: string): KubeObject {
  if (uid !== undefined && uid !== "" && uid !== pod.metadata?.uid) {
    throw conflict("", "pods", name, `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${pod.metadata?.uid ?? ""}`);
  }
  if (pod.metadata?.deletionTimestamp) {
    throw conflict("", "pods", name, `pod ${name} is being deleted, cannot be assigned to a host`);
  }
  const spec = (pod["spec"] ?? {}) as Record<string, unknown>;
  const cur = spec["nodeName"];
  if (typeof cur === "string" && cur !== "") {
    throw conflict("", "pods", name, `pod ${name} is already assigned to node "${cur}"`);
  }
  const gates = spec["schedulingGates"];
  if (Array.isArray(gates) && gates.length > 0) {
    throw conflict("", "pods", name, `pod ${name} has non-empty .spec.schedulingGates`);
  }
  const status = (pod["status"] ?? {}) as { conditions?: Record<string, unknown>[] };
  const conds = (status.conditions ?? []).filter((c) => c["type"] !== "PodScheduled");
  // No `lastProbeTime: null`: the typed form has no null times (the pod is read back without it).
  conds.push({ type: "PodScheduled", status: "True", lastTransitionTime: now });
  const out: KubeObject = { ...pod, spec: { ...spec, nodeName: node }, status: { ...status, conditions: conds } };
  if (annotations) out.metadata = { ...pod.metadata, annotations: { ...(pod.metadata?.annotations ?? {}), ...annotations } };
  return out;
}

/**
 * `PUT namespaces/<name>/finalize`: replaces only `spec.finalizers` (the namespace controller
 * removes `kubernetes` once the content is gone). A Terminating namespace left with no finalizers
 * of either kind is removed by the write (updateObject's rule for deleted objects).
 */
export async function handleFinalize(ctx: RequestContext): Promise<HttpResponse> {
  const { core, res, info } = ctx;
  if (res.info.group !== "" || res.info.plural !== "namespaces") throw new ApiError(404, "NotFound", "the server could not find the requested resource");
  if (info.verb !== "update") throw methodNotAllowed(`the server does not allow this method on the requested resource`);
  const body = await readObjectBody(ctx, "v1", "Namespace");
  const bname = body.metadata?.name;
  if (bname && bname !== info.name) throw badRequest(`the name of the object (${bname}) does not match the name on the URL (${info.name})`);
  const wanted = (body["spec"] as { finalizers?: unknown } | undefined)?.finalizers ?? [];
  if (!Array.isArray(wanted) || wanted.some((f) => typeof f !== "string" || f === "")) {
    throw invalid("", "Namespace", info.name, [{ reason: "FieldValueInvalid", field: "spec.finalizers", message: "Invalid value: must be a list of non-empty finalizer names" }]);
  }
  const r = await updateObject(core, res, "", info.name, (ns) => {
    const spec = { ...((ns["spec"] as Record<string, unknown> | undefined) ?? {}) };
    if (wanted.length > 0) spec["finalizers"] = wanted;
    else delete spec["finalizers"];
    return { ...ns, spec, metadata: { ...ns.metadata, resourceVersion: body.metadata?.resourceVersion ?? "" } };
  }, { mode: "internal", dryRun: ctx.dryRun });
  return renderObject(200, r.object, objectCtx(ctx));
}
