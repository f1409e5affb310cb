/**
 * NodeResourcesFit: the node must have room for the pod's requests (and one more pod); scores by
 * LeastAllocated, MostAllocated or RequestedToCapacityRatio over the configured resources. Filter
 * and score run in the kernel; resources outside the kernel's extended list are checked here.
 */
import type { NodeInfo } from "../../cache/node_info.ts";
import type { FitStrategy, ResourceId, ScoringProfile } from "../../kernel/types.ts";
import { fieldErr, isRecord } from "../../framework/config.ts";
import { ActionType } from "../../framework/events.ts";
import type { EnqueueExtensions, FilterPlugin, KernelPlugin } from "../../framework/interface.ts";
import type { PluginContext } from "../../framework/registry.ts";
import { Status } from "../../framework/status.ts";
import type { PodInfo } from "../../types.ts";
import { argsObject } from "../_args.ts";

export const NAME = "NodeResourcesFit";
export const ERR_TOO_MANY_PODS = "Too many pods";
const STRATEGIES: readonly FitStrategy[] = ["LeastAllocated", "MostAllocated", "RequestedToCapacityRatio"];

export interface NodeResourcesFitPlugin extends KernelPlugin, FilterPlugin, EnqueueExtensions {
  readonly scoring: ScoringProfile["fit"];
}

/** Maps a resource name to the kernel's id; undefined when the kernel does not track it. */
export function kernelResourceId(name: string, ext: readonly string[]): ResourceId | undefined {
  if (name === "cpu" || name === "memory" || name === "ephemeral-storage") return name;
  const k = ext.indexOf(name);
  return k < 0 ? undefined : k;
}

/** Parses `resources: [{name, weight}]` (weights 1..100; default cpu:1, memory:1). */
export function parseResources(ctx: PluginContext, v: unknown, path: string): { name: ResourceId; weight: number }[] {
  if (v === undefined || v === null) return [{ name: "cpu", weight: 1 }, { name: "memory", weight: 1 }];
  if (!Array.isArray(v)) { ctx.errors.push(fieldErr.invalid(path, v, "must be a list")); return []; }
  const out: { name: ResourceId; weight: number }[] = [];
  v.forEach((r: unknown, i: number) => {
    const p = `${path}[${i}]`;
    if (!isRecord(r) || typeof r["name"] !== "string") { ctx.errors.push(fieldErr.required(`${p}.name`)); return; }
    const name = r["name"];
    const w = r["weight"] ?? 1;
    if (typeof w !== "number" || !Number.isInteger(w) || w < 1 || w > 100) {
      ctx.errors.push(fieldErr.invalid(`${p}.weight`, w, `resource weight of ${name} not in valid range [1, 100]`));
      return;
    }
    const id = kernelResourceId(name, ctx.extendedResources);
    if (id === undefined) {
      ctx.errors.push(fieldErr.invalid(`${p}.name`, name, `resource is not tracked by the scheduler (extended resources: [${ctx.extendedResources.join(", ")}])`));
      return;
    }
    if (out.length >= 8) { ctx.errors.push(fieldErr.invalid(p, name, "at most 8 resources are supported")); return; }
    out.push({ name: id, weight: w });
  });
  return out;
}

function parseShape(ctx: PluginContext, v: unknown, path: string): { utilization: number; score: number }[] {
  if (!Array.isArray(v) || v.length === 0) { ctx.errors.push(fieldErr.required(path, "at least one point must be specified")); return []; }
  const out: { utilization: number; score: number }[] = [];
  v.forEach((pt: unknown, i: number) => {
    const p = `${path}[${i}]`;
    if (!isRecord(pt)) { ctx.errors.push(fieldErr.invalid(p, pt, "must be an object")); return; }
    const u = pt["utilization"] ?? 0, s = pt["score"] ?? 0;
    if (typeof u !== "number" || !Number.isInteger(u) || u < 0 || u > 100) { ctx.errors.push(fieldErr.invalid(`${p}.utilization`, u, "not in valid range [0, 100]")); return; }
    if (typeof s !== "number" || !Number.isInteger(s) || s < 0 || s > 10) { ctx.errors.push(fieldErr.invalid(`${p}.score`, s, "not in valid range [0, 10]")); return; }
    const prev = out[out.length - 1];
    if (prev && u <= prev.utilization) { ctx.errors.push(fieldErr.invalid(`${p}.utilization`, u, "utilization values must be sorted in increasing order")); return; }
    out.push({ utilization: u, score: s });
  });
  return out;
}

/** What the fit check reads of a node: allocatable and requested amounts ("pods" = pod count). */
export type FitNode = Pick<NodeInfo, "alloc" | "requested">;

/** The resources the pod asks for that the node cannot hold, as upstream's reasons. */
export function insufficient(pod: PodInfo, node: FitNode, only?: (resource: string) => boolean): string[] {
  // Hot in preemption dry runs: plain code, no closures.
  const out: string[] = [];
  if ((only === undefined || only("pods")) && node.requested("pods") + 1 > node.alloc("pods")) out.push(ERR_TOO_MANY_PODS);
  const r = pod.requests;
  if (r.cpu === 0 && r.memory === 0 && r.ephemeralStorage === 0 && pod.scalarRequests.size === 0) return out;
  if (lacks(node, "cpu", r.cpu, only)) out.push("Insufficient cpu");
  if (lacks(node, "memory", r.memory, only)) out.push("Insufficient memory");
  if (lacks(node, "ephemeral-storage", r.ephemeralStorage, only)) out.push("Insufficient ephemeral-storage");
  if (pod.scalarRequests.size > 0) for (const [name, q] of pod.scalarRequests) if (lacks(node, name, q, only)) out.push(`Insufficient ${name}`);
  return out;
}

/** `insufficient(pod, node).length === 0` without building the reasons (preemption's reprieve loop). */
export function fits(pod: PodInfo, node: FitNode): boolean {
  if (node.requested("pods") + 1 > node.alloc("pods")) return false;
  const r = pod.requests;
  if (r.cpu > 0 && r.cpu > node.alloc("cpu") - node.requested("cpu")) return false;
  if (r.memory > 0 && r.memory > node.alloc("memory") - node.requested("memory")) return false;
  if (r.ephemeralStorage > 0 && r.ephemeralStorage > node.alloc("ephemeral-storage") - node.requested("ephemeral-storage")) return false;
  if (pod.scalarRequests.size > 0) for (const [name, q] of pod.scalarRequests) if (q > 0 && q > node.alloc(name) - node.requested(name)) return false;
  return true;
}

function lacks(node: FitNode, name: string, q: number, only: ((resource: string) => boolean) | undefined): boolean {
  return q > 0 && (only === undefined || only(name)) && q > node.alloc(name) - node.requested(name);
}

export function newNodeResourcesFit(args: unknown, ctx: PluginContext): NodeResourcesFitPlugin {
  const a = argsObject(args, ctx, "NodeResourcesFitArgs");
  const ss = a["scoringStrategy"];
  const sp = `${ctx.argsPath}.scoringStrategy`;
  let strategy: FitStrategy = "LeastAllocated";
  let resources: { name: ResourceId; weight: number }[] = [{ name: "cpu", weight: 1 }, { name: "memory", weight: 1 }];
  let shape: { utilization: number; score: number }[] | undefined;
  if (ss !== undefined && ss !== null) {
    if (!isRecord(ss)) ctx.errors.push(fieldErr.invalid(sp, ss, "must be an object"));
    else {
      const t = ss["type"] ?? "LeastAllocated";
      if (typeof t !== "string" || !(STRATEGIES as readonly string[]).includes(t)) ctx.errors.push(fieldErr.notSupported(`${sp}.type`, t, STRATEGIES));
      else strategy = t as FitStrategy; // narrowed by the includes check above
      resources = parseResources(ctx, ss["resources"], `${sp}.resources`);
      if (strategy === "RequestedToCapacityRatio") {
        const r = ss["requestedToCapacityRatio"];
        shape = parseShape(ctx, isRecord(r) ? r["shape"] : undefined, `${sp}.requestedToCapacityRatio.shape`);
      }
    }
  }
  const kernelExt = new Set(ctx.extendedResources);
  const scoring: ScoringProfile["fit"] = shape ? { strategy, resources, shape } : { strategy, resources };
  const plugin = {
    name: NAME,
    kernelWeight: "nodeResourcesFit",
    scoring,
    fillKernelInput() { return undefined; },
    filter(_state, pod, node) {
      const reasons = insufficient(pod, node);
      return reasons.length ? Status.unschedulable(...reasons) : undefined;
    },
    /** Scalar resources the kernel does not track are checked here (only when the pod asks for one). */
    filterAll(_state, pod, snap, sink) {
      let untracked = false;
      for (const k of pod.scalarRequests.keys()) if (!kernelExt.has(k)) untracked = true;
      if (!untracked) return;
      const only = (r: string): boolean => pod.scalarRequests.has(r) && !kernelExt.has(r);
      for (let i = 0; i < snap.size; i++) {
        const n = snap.nodes[i];
        if (!n) continue;
        const reasons = insufficient(pod, n, only);
        if (reasons.length) sink.reject(i, Status.unschedulable(...reasons));
      }
    },
    eventsToRegister: () => [
      { resource: "Node", actionType: ActionType.Add | ActionType.UpdateNodeAllocatable },
      { resource: "AssignedPod", actionType: ActionType.Delete | ActionType.UpdatePodScaleDown },
    ],
  } satisfies NodeResourcesFitPlugin;
  return plugin;
}
