/**
 * The node lifecycle controller (decisions in health.ts). Keys are node names.
 *
 * Handlers enqueue: node events; lease events in `kube-node-lease` (the lease's name is the
 * node's); pods bound to a node that carries a NoExecute taint.
 *
 * `sync(node)`:
 * 1. health: the probe time moves when the Ready heartbeat or the lease renewal changes; past the
 *    grace period every watched condition becomes Unknown (status write, `NodeNotReady` event,
 *    the node's pods marked Ready=False);
 * 2. taints: the NoSchedule condition taints and the NoExecute not-ready / unreachable taint,
 *    adding a NoExecute taint only when the zone's token bucket allows (the rate follows the zone
 *    state; with every zone fully disrupted no NoExecute taint is kept), removing them at once
 *    when the node is healthy again;
 * 3. the NoExecute taint manager: pods not tolerating the taint are deleted at once (after a
 *    `DisruptionTarget` condition), pods with `tolerationSeconds` when that has passed;
 * 4. requeue at the next deadline (grace period end, an eviction, a limiter token).
 */
import type { Lease } from "../../api/generated/coordination_v1.ts";
import type { Node, Pod } from "../../api/generated/core_v1.ts";
import type { KubeObject } from "../../api/object.ts";
import { ApiError } from "../../api/errors.ts";
import { keyOf } from "../../client/indexer.ts";
import type { Controller, ControllerContext, Queue, SyncResult } from "../framework/controller.ts";
import { NODE_NAME_INDEX } from "../framework/informers.ts";
import { isPodReady } from "../framework/pods.ts";
import { LEASES, NODES, PODS } from "../framework/resources.ts";
import {
  condition, DEFAULT_NODE_LIFECYCLE, desiredTaints, evictionDecision, graceDeadline, observeHealth, rfc3339, taintsEqual, TokenBucket, unknownConditions, zoneOf, zoneRate, zoneState,
  type NodeHealth, type NodeLifecycleOptions, type ZoneState,
} from "./health.ts";

export const NAME = "nodelifecycle";
export const NODE_LEASE_NAMESPACE = "kube-node-lease";

interface Zones {
  readonly at: number;
  readonly states: Map<string, { state: ZoneState; size: number }>;
  readonly allFullyDisrupted: boolean;
}

export class NodeLifecycleController implements Controller {
  readonly name = NAME;
  readonly opts: NodeLifecycleOptions;
  readonly health = new Map<string, NodeHealth>();
  readonly limiters = new Map<string, TokenBucket>();
  private readonly readyOf = new Map<string, string | undefined>();
  private readonly firstNoExecute = new Map<string, number>();
  private zones: Zones | undefined;

  constructor(private readonly ctx: ControllerContext, private readonly queue: Queue, opts: Partial<NodeLifecycleOptions> = {}) {
    this.opts = { ...DEFAULT_NODE_LIFECYCLE, ...opts };
    ctx.informers.on(NODES, {
      onAdd: (n) => queue.add(keyOf(n)),
      onUpdate: (_o, n) => queue.add(keyOf(n)),
      onDelete: (n) => queue.add(keyOf(n)),
    });
    const lease = (l: KubeObject): void => {
      if (l.metadata?.namespace === NODE_LEASE_NAMESPACE) queue.add(l.metadata.name ?? "");
    };
    ctx.informers.on(LEASES, { onAdd: lease, onUpdate: (_o, l) => lease(l) });
    const pod = (p: KubeObject): void => {
      const nodeName = (p as Pod).spec?.nodeName;
      if (!nodeName) return;
      const node = ctx.informers.lister(NODES).get(nodeName) as Node | undefined;
      if ((node?.spec?.taints ?? []).some((t) => t.effect === "NoExecute")) queue.add(nodeName);
    };
    ctx.informers.on(PODS, { onAdd: pod, onUpdate: (o, p) => { if ((o as Pod).spec?.nodeName !== (p as Pod).spec?.nodeName) pod(p); } });
  }

  /** Zone states from the latest Ready status of every node (recomputed at most once a second unless `force`). */
  private zoneStates(nowMs: number, force: boolean): Zones {
    if (this.zones && !force && nowMs - this.zones.at < 1000) return this.zones;
    const byZone = new Map<string, Array<string | undefined>>();
    for (const n of this.ctx.informers.lister(NODES).list() as Node[]) {
      const name = n.metadata?.name ?? "";
      const z = zoneOf(n);
      const st = this.readyOf.has(name) ? this.readyOf.get(name) : condition(n, "Ready")?.status;
      byZone.set(z, [...(byZone.get(z) ?? []), st]);
    }
    const states = new Map<string, { state: ZoneState; size: number }>();
    for (const [z, sts] of byZone) states.set(z, { state: zoneState(sts, this.opts), size: sts.length });
    const allFullyDisrupted = states.size > 0 && [...states.values()].every((s) => s.state === "FullDisruption");
    if (this.zones && this.zones.allFullyDisrupted !== allFullyDisrupted) {
      // Entering or leaving "every zone down": every node's NoExecute taint is to be removed or restored.
      this.ctx.log(`nodelifecycle: ${allFullyDisrupted ? "all zones fully disrupted: NoExecute tainting stopped" : "some zone healthy again: NoExecute tainting resumed"}`);
      for (const n of this.ctx.informers.lister(NODES).keys()) this.queue.add(n);
    }
    this.zones = { at: nowMs, states, allFullyDisrupted };
    return this.zones;
  }

  private limiterFor(zone: string, qps: number): TokenBucket {
    let l = this.limiters.get(zone);
    if (!l) this.limiters.set(zone, (l = new TokenBucket(qps)));
    l.qps = qps;
    return l;
  }

  async sync(name: string): Promise<SyncResult | void> {
    const { ctx, opts } = this;
    const cached = ctx.informers.lister(NODES).get(name) as Node | undefined;
    if (!cached) {
      this.health.delete(name);
      this.readyOf.delete(name);
      this.firstNoExecute.delete(name);
      return;
    }
    const nowMs = ctx.now().getTime();
    const lease = ctx.informers.lister(LEASES).get(`${NODE_LEASE_NAMESPACE}/${name}`) as Lease | undefined;
    const h = observeHealth(this.health.get(name), cached, lease?.spec?.renewTime, nowMs);
    this.health.set(name, h);
    let node = cached;
    const waits: number[] = [];

    const unknown = unknownConditions(node, h, nowMs, opts);
    if (unknown) {
      const wasReady = condition(node, "Ready")?.status === "True";
      node = await ctx.writer.updateStatus(NODES, { ...node, status: { ...(node.status ?? {}), conditions: unknown } } as KubeObject) as Node;
      if (wasReady) {
        ctx.recorder.event(node as KubeObject, "Normal", "NodeNotReady", `Node ${name} status is now: NodeNotReady`);
        await this.markPodsNotReady(name, nowMs);
      }
    } else if (condition(node, "Ready")?.status !== "Unknown") {
      waits.push(graceDeadline(node, h, opts) + 1);
    }
    const prevReady = this.readyOf.get(name);
    const ready = condition(node, "Ready")?.status;
    this.readyOf.set(name, ready);

    const zones = this.zoneStates(nowMs, prevReady !== ready);
    let { taints, limited } = desiredTaints(node, nowMs, false, zones.allFullyDisrupted);
    if (limited) {
      const z = zoneOf(node);
      const info = zones.states.get(z) ?? { state: "Normal" as ZoneState, size: 1 };
      const limiter = this.limiterFor(z, zoneRate(info.state, info.size, opts));
      if (limiter.tryAccept(nowMs)) ({ taints } = desiredTaints(node, nowMs, true));
      else {
        const w = limiter.waitMs(nowMs);
        waits.push(nowMs + (Number.isFinite(w) ? Math.max(w, 10) : opts.monitorPeriodMs));
      }
    }
    if (!taintsEqual(taints, node.spec?.taints ?? [])) {
      const spec = { ...(node.spec ?? {}) };
      if (taints.length > 0) spec.taints = taints;
      else delete spec.taints;
      node = await ctx.writer.update(NODES, { ...node, spec } as KubeObject) as Node;
    }

    // The NoExecute taint manager.
    const noExec = (node.spec?.taints ?? []).filter((t) => t.effect === "NoExecute");
    if (noExec.length === 0) this.firstNoExecute.delete(name);
    else {
      if (!this.firstNoExecute.has(name)) this.firstNoExecute.set(name, nowMs);
      const first = this.firstNoExecute.get(name) ?? nowMs;
      for (const p of ctx.informers.lister(PODS).byIndex(NODE_NAME_INDEX, name) as Pod[]) {
        if (p.metadata?.deletionTimestamp !== undefined || p.status?.phase === "Succeeded" || p.status?.phase === "Failed") continue;
        const d = evictionDecision(p, noExec, first, nowMs);
        if (d.action === "wait") waits.push(d.atMs);
        else if (d.action === "evict") await this.evict(p, nowMs);
      }
    }
    if (waits.length > 0) return { requeueAfterMs: Math.max(10, Math.min(...waits) - nowMs) };
  }

  private async markPodsNotReady(nodeName: string, nowMs: number): Promise<void> {
    for (const p of this.ctx.informers.lister(PODS).byIndex(NODE_NAME_INDEX, nodeName)) {
      if (!isPodReady(p) || p.metadata?.deletionTimestamp !== undefined) continue;
      try {
        await this.ctx.writer.patch(PODS, p.metadata?.namespace ?? "", p.metadata?.name ?? "",
          { status: { conditions: [{ type: "Ready", status: "False", lastTransitionTime: rfc3339(nowMs) }] } }, "strategic", "status");
        this.ctx.recorder.event(p, "Warning", "NodeNotReady", "Node is not ready");
      } catch (e) {
        if (!(e instanceof ApiError && e.code === 404)) throw e;
      }
    }
  }

  private async evict(p: Pod, nowMs: number): Promise<void> {
    const ns = p.metadata?.namespace ?? "";
    const name = p.metadata?.name ?? "";
    try {
      await this.ctx.writer.patch(PODS, ns, name, {
        status: { conditions: [{ type: "DisruptionTarget", status: "True", reason: "DeletionByTaintManager", message: "Taint manager: deleting due to NoExecute taint", lastTransitionTime: rfc3339(nowMs) }] },
      }, "strategic", "status");
    } catch (e) {
      if (e instanceof ApiError && e.code === 404) return;
      throw e;
    }
    this.ctx.recorder.event(p as KubeObject, "Normal", "TaintManagerEviction", `Marking for deletion Pod ${ns}/${name}`);
    await this.ctx.writer.delete(PODS, ns, name);
  }
}

/**
 * Options from the environment (the controller-manager has no flags for them yet):
 * `TUG_NODE_MONITOR_GRACE_PERIOD` and `TUG_NODE_STARTUP_GRACE_PERIOD` (seconds, or a Go duration
 * like `5s`), `TUG_NODE_EVICTION_RATE` and `TUG_NODE_SECONDARY_EVICTION_RATE` (nodes/s).
 */
export function optionsFromEnv(env: Readonly<Record<string, string | undefined>>): Partial<NodeLifecycleOptions> {
  const dur = (v: string | undefined): number | undefined => {
    if (v === undefined || v === "") return undefined;
    const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(v.trim());
    if (!m) throw new Error(`invalid duration ${JSON.stringify(v)} (want e.g. 40s)`);
    const n = Number(m[1]);
    return m[2] === "ms" ? n : m[2] === "m" ? n * 60_000 : n * 1000;
  };
  const num = (v: string | undefined): number | undefined => {
    if (v === undefined || v === "") return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`invalid rate ${JSON.stringify(v)} (want a number >= 0)`);
    return n;
  };
  const o: { -readonly [K in keyof NodeLifecycleOptions]?: NodeLifecycleOptions[K] } = {};
  const g = dur(env["TUG_NODE_MONITOR_GRACE_PERIOD"]);
  if (g !== undefined) o.nodeMonitorGracePeriodMs = g;
  const s = dur(env["TUG_NODE_STARTUP_GRACE_PERIOD"]);
  if (s !== undefined) o.nodeStartupGracePeriodMs = s;
  const r = num(env["TUG_NODE_EVICTION_RATE"]);
  if (r !== undefined) o.evictionLimiterQps = r;
  const r2 = num(env["TUG_NODE_SECONDARY_EVICTION_RATE"]);
  if (r2 !== undefined) o.secondaryEvictionLimiterQps = r2;
  return o;
}

export function newNodeLifecycleController(ctx: ControllerContext, queue: Queue): NodeLifecycleController {
  let opts: Partial<NodeLifecycleOptions> = {};
  try {
    opts = optionsFromEnv(process.env);
  } catch (e) {
    ctx.log(`nodelifecycle: ignoring the environment, using defaults: ${e instanceof Error ? e.message : String(e)}`);
  }
  return new NodeLifecycleController(ctx, queue, opts);
}
