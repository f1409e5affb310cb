/**
 * The EndpointSlice controller: for every Service with a selector, EndpointSlices of its pods
 * (reconcile.ts), labelled `kubernetes.io/service-name` and managed-by
 * `endpointslice-controller.k8s.io`, owned by the Service.
 *
 * Handlers enqueue Service keys: Service events, pod events for the Services whose selector
 * matches the pod's old or new labels, slice events of managed slices, node label changes (zones)
 * for every Service. Before acting, `sync` checks that the cache shows its own earlier writes
 * (the resourceVersions it got back, slices it created or deleted) so a stale cache never makes
 * it write twice; while stale it requeues shortly.
 */
import type { EndpointSlice } from "../../api/generated/discovery_v1.ts";
import type { Node, Pod, Service } from "../../api/generated/core_v1.ts";
import type { KubeObject } from "../../api/object.ts";
import { keyOf, splitKey } from "../../client/indexer.ts";
import type { Controller, ControllerContext, Queue, SyncResult } from "../framework/controller.ts";
import type { InformerSource } from "../framework/informers.ts";
import { ENDPOINTSLICES, NODES, PODS, SERVICES } from "../framework/resources.ts";
import { selectorOf } from "../framework/selector.ts";
import { lastChangeTriggerTime, MANAGED_BY, MANAGED_BY_LABEL, SERVICE_NAME_LABEL, ZONE_LABEL } from "./endpoints.ts";
import { desiredGroups, reconcileSlices } from "./reconcile.ts";

export const NAME = "endpointslice";

/** The pods a Service selects (undefined: no selector or ExternalName — not managed). */
export function podsForService(informers: InformerSource, svc: Service): Pod[] | undefined {
  const sel = svc.spec?.selector;
  if (sel === undefined || Object.keys(sel).length === 0 || svc.spec?.type === "ExternalName") return undefined;
  return (informers.lister(PODS).listNamespace(svc.metadata?.namespace ?? "") as Pod[]).filter((p) => {
    const l = p.metadata?.labels ?? {};
    return Object.entries(sel).every(([k, v]) => l[k] === v);
  });
}

/** Registers handlers enqueueing the keys of Services affected by pod / service events. */
export function watchServicesAndPods(informers: InformerSource, queue: Queue): void {
  informers.on(SERVICES, { onAdd: (s) => queue.add(keyOf(s)), onUpdate: (_o, s) => queue.add(keyOf(s)), onDelete: (s) => queue.add(keyOf(s)) });
  const forPod = (...pods: KubeObject[]): void => {
    const ns = pods[0]?.metadata?.namespace ?? "";
    for (const svc of informers.lister(SERVICES).listNamespace(ns) as Service[]) {
      const sel = svc.spec?.selector;
      if (!sel || Object.keys(sel).length === 0) continue;
      if (pods.some((p) => Object.entries(sel).every(([k, v]) => (p.metadata?.labels ?? {})[k] === v))) queue.add(keyOf(svc as KubeObject));
    }
  };
  informers.on(PODS, {
    onAdd: (p) => forPod(p),
    onUpdate: (o, p) => { if (o.metadata?.resourceVersion !== p.metadata?.resourceVersion) forPod(o, p); },
    onDelete: (p) => forPod(p),
  });
}

/** Remembers own writes (by object key) until the cache shows them. */
export class WriteTracker {
  private readonly rvs = new Map<string, string>();
  private readonly gone = new Set<string>();
  private readonly created = new Map<string, Map<string, number>>();

  wrote(key: string, rv: string | undefined): void {
    if (rv) this.rvs.set(key, rv);
  }
  deleted(key: string): void {
    this.gone.add(key);
    this.rvs.delete(key);
  }
  createdFor(owner: string, key: string, nowMs: number): void {
    const s = this.created.get(owner) ?? new Map<string, number>();
    s.set(key, nowMs);
    this.created.set(owner, s);
  }
  /** Called by the informer handlers. */
  observed(obj: KubeObject, owner: string, removed: boolean): void {
    const k = keyOf(obj);
    if (removed) this.gone.delete(k);
    const want = this.rvs.get(k);
    if (want !== undefined && !olderRv(obj.metadata?.resourceVersion, want)) this.rvs.delete(k);
    const c = this.created.get(owner);
    if (c) {
      c.delete(k);
      if (c.size === 0) this.created.delete(owner);
    }
  }
  /** True while creations are unseen, a deleted object is still cached, or a cached one is older than written. */
  stale(owner: string, cached: readonly KubeObject[], nowMs: number): boolean {
    const c = this.created.get(owner);
    if (c) {
      // A creation the handler saw before it was recorded is visible in the cache; after 30 s give up waiting.
      for (const o of cached) c.delete(keyOf(o));
      for (const [k, t] of c) if (nowMs - t > 30_000) c.delete(k);
      if (c.size > 0) return true;
      this.created.delete(owner);
    }
    for (const o of cached) {
      const k = keyOf(o);
      if (this.gone.has(k)) return true;
      const want = this.rvs.get(k);
      if (want !== undefined && olderRv(o.metadata?.resourceVersion, want)) return true;
    }
    return false;
  }
  forget(owner: string): void {
    this.created.delete(owner);
  }
}

function olderRv(have: string | undefined, want: string): boolean {
  if (have === undefined) return true;
  if (/^\d+$/.test(have) && /^\d+$/.test(want)) return BigInt(have) < BigInt(want);
  return have !== want;
}

export class EndpointSliceController implements Controller {
  readonly name = NAME;
  readonly tracker = new WriteTracker();

  constructor(private readonly ctx: ControllerContext, queue: Queue) {
    watchServicesAndPods(ctx.informers, queue);
    const sliceOwner = (s: KubeObject): string | undefined => {
      const l = s.metadata?.labels ?? {};
      return l[MANAGED_BY_LABEL] === MANAGED_BY && l[SERVICE_NAME_LABEL] ? `${s.metadata?.namespace ?? ""}/${l[SERVICE_NAME_LABEL]}` : undefined;
    };
    ctx.informers.on(ENDPOINTSLICES, {
      onAdd: (s) => { const k = sliceOwner(s); if (k) { this.tracker.observed(s, k, false); queue.add(k); } },
      onUpdate: (_o, s) => { const k = sliceOwner(s); if (k) { this.tracker.observed(s, k, false); queue.add(k); } },
      onDelete: (s) => { const k = sliceOwner(s); if (k) { this.tracker.observed(s, k, true); queue.add(k); } },
    });
    ctx.informers.on(NODES, {
      onUpdate: (a, b) => {
        if (a.metadata?.labels?.[ZONE_LABEL] === b.metadata?.labels?.[ZONE_LABEL]) return;
        for (const s of ctx.informers.lister(SERVICES).list()) queue.add(keyOf(s));
      },
    });
  }

  async sync(key: string): Promise<SyncResult | void> {
    const { ctx } = this;
    const { namespace } = splitKey(key);
    const existing = (ctx.informers.lister(ENDPOINTSLICES).listNamespace(namespace) as EndpointSlice[]).filter((s) => {
      const l = s.metadata?.labels ?? {};
      return l[MANAGED_BY_LABEL] === MANAGED_BY && l[SERVICE_NAME_LABEL] === splitKey(key).name;
    });
    const svc = ctx.informers.lister(SERVICES).get(key) as Service | undefined;
    if (!svc) {
      // The garbage collector removes owned slices; nothing to do here.
      this.tracker.forget(key);
      return;
    }
    const pods = podsForService(ctx.informers, svc);
    if (pods === undefined || svc.metadata?.deletionTimestamp !== undefined) return;
    if (this.tracker.stale(key, existing as KubeObject[], ctx.now().getTime())) return { requeueAfterMs: 100 };
    try {
      selectorOf({ matchLabels: svc.spec?.selector ?? {} });
    } catch (e) {
      ctx.recorder.event(svc as KubeObject, "Warning", "InvalidSelector", `invalid selector: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    const nodes = new Map((ctx.informers.lister(NODES).list() as Node[]).map((n) => [n.metadata?.name ?? "", n]));
    const plan = reconcileSlices(svc, existing, desiredGroups(svc, pods, nodes), lastChangeTriggerTime(svc, pods));
    for (const s of plan.delete) {
      await ctx.writer.delete(ENDPOINTSLICES, namespace, s.metadata?.name ?? "");
      this.tracker.deleted(keyOf(s as KubeObject));
    }
    for (const s of plan.update) {
      const out = await ctx.writer.update(ENDPOINTSLICES, s as KubeObject);
      this.tracker.wrote(keyOf(out), out.metadata?.resourceVersion);
    }
    for (const s of plan.create) {
      const out = await ctx.writer.create(ENDPOINTSLICES, s as KubeObject);
      this.tracker.createdFor(key, keyOf(out), ctx.now().getTime());
      this.tracker.wrote(keyOf(out), out.metadata?.resourceVersion);
    }
  }
}

export function newEndpointSliceController(ctx: ControllerContext, queue: Queue): EndpointSliceController {
  return new EndpointSliceController(ctx, queue);
}
