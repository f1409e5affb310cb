/**
 * `POST pods/<name>/eviction` (policy/v1 Eviction): a pod delete that honours its
 * PodDisruptionBudget, as upstream's eviction subresource.
 *
 * - The pod is read; a pod that is Succeeded, Failed, Pending or already being deleted is deleted
 *   without looking at budgets (with its resourceVersion as precondition unless one was given).
 * - Budgets of the pod's namespace whose selector matches its labels (`{}` matches all, a missing
 *   selector nothing): none -> delete; more than one -> 500; one -> the budget decides
 *   (`takeDisruption`): 429 TooManyRequests `Cannot evict pod as it would violate the pod's
 *   disruption budget.` with a `DisruptionBudget` cause while `disruptionsAllowed` is 0 or the
 *   status is older than the spec; otherwise `disruptionsAllowed` goes down by one and the pod is
 *   recorded in `disruptedPods` (one status write, retried on races), then the pod is deleted.
 *   A pod that is not ready does not take a disruption when the budget is healthy (or with
 *   `unhealthyPodEvictionPolicy: AlwaysAllow`).
 * - The delete gets the Eviction's `deleteOptions` (grace period, preconditions, propagation,
 *   dryRun) and, before it, the pod gets the `DisruptionTarget` condition (EvictionByEvictionAPI).
 * - Answer: 201 with a Success Status.
 */
import { ApiError, badRequest, conflict, methodNotAllowed, notFound } from "../../api/errors.ts";
import type { KubeObject } from "../../api/object.ts";
import { labelSelectorFromObject, type LabelSelectorObject } from "../../api/selectors/labels.ts";
import type { HttpResponse } from "../../transport/types.ts";
import { findResource, renderContext, type RequestContext } from "../context.ts";
import { rfc3339 } from "../meta.ts";
import { renderObject } from "../respond.ts";
import { deleteObject, keyOf, updateObject, type DeleteOptions } from "../rest.ts";
import { readObject } from "../storage.ts";
import { readObjectBody } from "./input.ts";

export const EVICTION_BLOCKED = "Cannot evict pod as it would violate the pod's disruption budget.";
/** Upstream's bound on `status.disruptedPods` before evictions are refused. */
export const MAX_DISRUPTED_PODS = 2000;

interface Condition { type: string; status: string; reason?: string; message?: string; lastTransitionTime?: string; observedGeneration?: number }

interface BudgetStatus {
  observedGeneration?: number;
  disruptionsAllowed?: number;
  currentHealthy?: number;
  desiredHealthy?: number;
  expectedPods?: number;
  disruptedPods?: Record<string, string>;
  conditions?: Condition[];
}

function phaseOf(pod: KubeObject): string {
  return ((pod["status"] ?? {}) as { phase?: string }).phase ?? "";
}

/** Upstream's canIgnorePDB: finished, pending or already deleting pods are evicted without a budget check. */
export function canIgnoreBudget(pod: KubeObject): boolean {
  const phase = phaseOf(pod);
  return phase === "Succeeded" || phase === "Failed" || phase === "Pending" || pod.metadata?.deletionTimestamp !== undefined;
}

export function isPodReady(pod: KubeObject): boolean {
  const conds = ((pod["status"] ?? {}) as { conditions?: Array<{ type?: string; status?: string }> }).conditions ?? [];
  return conds.some((c) => c.type === "Ready" && c.status === "True");
}

/** Budgets whose selector matches the pod's labels (invalid selectors match nothing). */
export function matchingBudgets(pod: KubeObject, budgets: readonly KubeObject[]): KubeObject[] {
  const labels = pod.metadata?.labels ?? {};
  return budgets.filter((b) => {
    const sel = ((b["spec"] ?? {}) as { selector?: LabelSelectorObject | null }).selector;
    try {
      return labelSelectorFromObject(sel).matches(labels);
    } catch {
      return false;
    }
  });
}

function tooManyRequests(cause: string, retryAfterSeconds: number): ApiError {
  return new ApiError(429, "TooManyRequests", EVICTION_BLOCKED, {
    causes: [{ reason: "DisruptionBudget", message: cause }],
    ...(retryAfterSeconds > 0 ? { retryAfterSeconds } : {}),
  });
}

function forbiddenBudget(name: string, why: string): ApiError {
  return new ApiError(403, "Forbidden", `poddisruptionbudgets.policy "${name}" is forbidden: ${why}`, { name, group: "policy", kind: "poddisruptionbudgets" });
}

/** The DisruptionAllowed condition for a status (lastTransitionTime kept while the status stays). */
export function disruptionAllowedCondition(prev: readonly Condition[] | undefined, allowed: number, observedGeneration: number, now: string): Condition[] {
  const status = allowed > 0 ? "True" : "False";
  const old = (prev ?? []).find((c) => c.type === "DisruptionAllowed");
  const cond: Condition = {
    type: "DisruptionAllowed", status, reason: allowed > 0 ? "SufficientPods" : "InsufficientPods", message: "",
    lastTransitionTime: old && old.status === status && old.lastTransitionTime ? old.lastTransitionTime : now, observedGeneration,
  };
  return [...(prev ?? []).filter((c) => c.type !== "DisruptionAllowed"), cond];
}

export type BudgetAnswer =
  /** Evict without taking a disruption (the pod is unhealthy and the budget allows that). */
  | { readonly kind: "unhealthy" }
  /** Take one disruption: write this status, then delete. */
  | { readonly kind: "take"; readonly status: BudgetStatus };

/**
 * What the budget says to evicting `pod` (pure). Throws 429 (budget exhausted or not processed
 * yet) or 403 (negative budget, too many unconfirmed evictions).
 */
export function takeDisruption(pdb: KubeObject, pod: KubeObject, now: Date): BudgetAnswer {
  const name = pdb.metadata?.name ?? "";
  const st = (pdb["status"] ?? {}) as BudgetStatus;
  const spec = (pdb["spec"] ?? {}) as { unhealthyPodEvictionPolicy?: string };
  const generation = pdb.metadata?.generation ?? 0;
  const desired = st.desiredHealthy ?? 0;
  const current = st.currentHealthy ?? 0;
  if (!isPodReady(pod)) {
    if (spec.unhealthyPodEvictionPolicy === "AlwaysAllow") return { kind: "unhealthy" };
    if (current >= desired && desired > 0) return { kind: "unhealthy" };
  }
  if ((st.observedGeneration ?? 0) < generation) throw tooManyRequests(`The disruption budget ${name} is still being processed by the server.`, 10);
  const allowed = st.disruptionsAllowed ?? 0;
  if (allowed < 0) throw forbiddenBudget(name, "pdb disruptions allowed is negative");
  if (Object.keys(st.disruptedPods ?? {}).length > MAX_DISRUPTED_PODS) {
    throw forbiddenBudget(name, "DisruptedPods map too big - too many evictions not confirmed by PDB controller");
  }
  if (allowed === 0) throw tooManyRequests(`The disruption budget ${name} needs ${desired} healthy pods and has ${current} currently`, 0);
  const left = allowed - 1;
  const status: BudgetStatus = {
    ...st,
    disruptionsAllowed: left,
    disruptedPods: { ...(st.disruptedPods ?? {}), [pod.metadata?.name ?? ""]: rfc3339(now) },
    ...(left === 0 ? { conditions: disruptionAllowedCondition(st.conditions, 0, st.observedGeneration ?? 0, rfc3339(now)) } : {}),
  };
  return { kind: "take", status };
}

const POLICIES = new Set(["Orphan", "Background", "Foreground"]);

/** `Eviction.deleteOptions` (JSON shape) as the delete's options. Throws 400 on bad values. */
export function evictionDeleteOptions(raw: unknown, dryRunQuery: boolean): DeleteOptions {
  if (raw === undefined || raw === null) return { dryRun: dryRunQuery };
  if (typeof raw !== "object" || Array.isArray(raw)) throw badRequest("deleteOptions must be an object");
  const o = raw as Record<string, unknown>;
  const grace = o["gracePeriodSeconds"];
  if (grace !== undefined && grace !== null && (typeof grace !== "number" || !Number.isInteger(grace))) throw badRequest("deleteOptions.gracePeriodSeconds must be an integer");
  const policy = o["propagationPolicy"];
  if (policy !== undefined && policy !== null && (typeof policy !== "string" || !POLICIES.has(policy))) {
    throw badRequest(`deleteOptions.propagationPolicy: Unsupported value: "${String(policy)}": supported values: "Foreground", "Background", "Orphan"`);
  }
  const orphan = o["orphanDependents"];
  let dryRun = dryRunQuery;
  const dr = o["dryRun"];
  if (dr !== undefined && dr !== null) {
    if (!Array.isArray(dr)) throw badRequest("deleteOptions.dryRun must be a list");
    for (const v of dr) if (v !== "All") throw badRequest(`Invalid dry run value: unsupported dry run value "${String(v)}": only "All" is supported`);
    dryRun ||= dr.length > 0;
  }
  const pre = o["preconditions"];
  if (pre !== undefined && pre !== null && (typeof pre !== "object" || Array.isArray(pre))) throw badRequest("deleteOptions.preconditions must be an object");
  const p = (pre ?? {}) as Record<string, unknown>;
  const preconditions = {
    ...(typeof p["uid"] === "string" && p["uid"] !== "" ? { uid: p["uid"] } : {}),
    ...(typeof p["resourceVersion"] === "string" && p["resourceVersion"] !== "" ? { resourceVersion: p["resourceVersion"] } : {}),
  };
  return {
    dryRun,
    ...(typeof grace === "number" ? { gracePeriodSeconds: grace } : {}),
    ...(typeof policy === "string" ? { propagationPolicy: policy as "Orphan" | "Background" | "Foreground" } : {}),
    ...(typeof orphan === "boolean" ? { orphanDependents: orphan } : {}),
    ...(Object.keys(preconditions).length > 0 ? { preconditions } : {}),
  };
}

function checkPreconditions(pod: KubeObject, opts: DeleteOptions, name: string): void {
  const pre = opts.preconditions;
  if (pre?.uid && pre.uid !== pod.metadata?.uid) {
    throw conflict("", "pods", name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${pod.metadata?.uid ?? ""}`);
  }
  if (pre?.resourceVersion && pre.resourceVersion !== pod.metadata?.resourceVersion) {
    throw conflict("", "pods", name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${pod.metadata?.resourceVersion ?? ""}`);
  }
}

/** Adds the DisruptionTarget condition (unless dry run), then deletes with `opts`. */
async function disruptAndDelete(ctx: RequestContext, opts: DeleteOptions): Promise<void> {
  const { core, res, info } = ctx;
  let o = opts;
  if (!opts.dryRun) {
    const r = await updateObject(core, res, info.namespace, info.name, (pod) => {
      checkPreconditions(pod, opts, info.name);
      const status = (pod["status"] ?? {}) as { conditions?: Condition[] };
      const conds = status.conditions ?? [];
      const old = conds.find((c) => c.type === "DisruptionTarget");
      if (old && old.status === "True" && old.reason === "EvictionByEvictionAPI") return pod;
      status.conditions = [...conds.filter((c) => c.type !== "DisruptionTarget"), {
        type: "DisruptionTarget", status: "True", reason: "EvictionByEvictionAPI", message: "Eviction API: evicting", lastTransitionTime: rfc3339(core.now()),
      }];
      pod["status"] = status;
      return pod;
    }, { mode: "status", dryRun: false });
    // Our own write moved the resourceVersion the caller pinned.
    if (opts.preconditions?.resourceVersion) o = { ...opts, preconditions: { ...opts.preconditions, resourceVersion: r.object.metadata?.resourceVersion ?? "" } };
  }
  await deleteObject(core, res, info.namespace, info.name, o);
}

function withResourceVersion(opts: DeleteOptions, rv: string | undefined): DeleteOptions {
  if (opts.preconditions?.resourceVersion || !rv) return opts;
  return { ...opts, preconditions: { ...(opts.preconditions ?? {}), resourceVersion: rv } };
}

export async function handleEviction(ctx: RequestContext): Promise<HttpResponse> {
  const { core, info } = ctx;
  if (ctx.res.info.group !== "" || ctx.res.info.plural !== "pods") throw new ApiError(404, "NotFound", "the server could not find the requested resource", {});
  if (info.verb !== "create") throw methodNotAllowed("the server does not allow this method on the requested resource");
  const eviction = await readObjectBody(ctx, "policy/v1", "Eviction");
  const evName = eviction.metadata?.name;
  if (evName !== undefined && evName !== "" && evName !== info.name) throw badRequest("name in URL does not match name in Eviction object");
  const evNs = eviction.metadata?.namespace;
  if (evNs !== undefined && evNs !== "" && evNs !== info.namespace) throw badRequest("the namespace of the provided object does not match the namespace sent on the request");
  const opts = evictionDeleteOptions(eviction["deleteOptions"], ctx.dryRun);
  const cur = await readObject(core.store, core.codec, keyOf(ctx.res, info.namespace, info.name));
  if (!cur) throw notFound("", "pods", info.name);
  const pod = cur.object;
  checkPreconditions(pod, opts, info.name);
  if (canIgnoreBudget(pod)) {
    await disruptAndDelete(ctx, withResourceVersion(opts, pod.metadata?.resourceVersion));
    return success(ctx);
  }
  const pdbRes = findResource(core, "policy", "poddisruptionbudgets");
  let budgets: KubeObject[] = [];
  if (pdbRes) {
    const filter = core.filters({ namespace: info.namespace, supportedFields: pdbRes.supportedFields, indexFields: pdbRes.indexFields });
    budgets = (await core.readerFor(pdbRes).list({ filter, resourceVersion: "" })).items.map((i) => i.object);
  }
  const matching = matchingBudgets(pod, budgets);
  if (matching.length > 1) throw new ApiError(500, "InternalError", "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.");
  const budget = matching[0];
  if (pdbRes && budget) {
    let unhealthy = false;
    await updateObject(core, pdbRes, info.namespace, budget.metadata?.name ?? "", (pdb) => {
      const answer = takeDisruption(pdb, pod, core.now());
      if (answer.kind === "unhealthy") {
        unhealthy = true;
        return pdb;
      }
      unhealthy = false;
      pdb["status"] = answer.status;
      return pdb;
    }, { mode: "status", dryRun: opts.dryRun });
    await disruptAndDelete(ctx, unhealthy ? withResourceVersion(opts, pod.metadata?.resourceVersion) : opts);
    return success(ctx);
  }
  await disruptAndDelete(ctx, opts);
  return success(ctx);
}

function success(ctx: RequestContext): HttpResponse {
  const rc = renderContext(ctx);
  const neg = ctx.neg.shape.kind === "object" ? ctx.neg : { serialization: "json" as const, shape: { kind: "object" as const }, contentType: "application/json" };
  return renderObject(201, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code: 201 }, { ...rc, neg });
}
