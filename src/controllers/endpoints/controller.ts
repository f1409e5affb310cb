/**
 * The Endpoints controller (legacy core/v1 Endpoints, one per Service with a selector, named like
 * the Service). Same triggers as the EndpointSlice controller (plus Endpoints deletions);
 * `sync(key)` computes the object (endpoints.ts) and creates or updates it when it differs, or
 * deletes it when the Service is gone, as upstream. Services without a selector are left alone
 * (their Endpoints are user-managed).
 */
import type { Endpoints, Service } from "../../api/generated/core_v1.ts";
import { ApiError } from "../../api/errors.ts";
import type { KubeObject } from "../../api/object.ts";
import { keyOf, splitKey } from "../../client/indexer.ts";
import type { Controller, ControllerContext, Queue, SyncResult } from "../framework/controller.ts";
import { ENDPOINTS, SERVICES } from "../framework/resources.ts";
import { lastChangeTriggerTime } from "../endpointslice/endpoints.ts";
import { podsForService, watchServicesAndPods } from "../endpointslice/controller.ts";
import { desiredEndpoints } from "./endpoints.ts";

export const NAME = "endpoints";

export class EndpointsController implements Controller {
  readonly name = NAME;
  /** resourceVersion of the last write per Service (to detect a cache older than it). */
  private readonly lastWritten = new Map<string, string>();

  constructor(private readonly ctx: ControllerContext, queue: Queue) {
    watchServicesAndPods(ctx.informers, queue);
    ctx.informers.on(ENDPOINTS, { onDelete: (e) => queue.add(keyOf(e)) });
  }

  async sync(key: string): Promise<SyncResult | void> {
    const { ctx } = this;
    const { namespace, name } = splitKey(key);
    const svc = ctx.informers.lister(SERVICES).get(key) as Service | undefined;
    if (!svc) {
      this.lastWritten.delete(key);
      if (ctx.informers.lister(ENDPOINTS).get(key)) await ctx.writer.delete(ENDPOINTS, namespace, name);
      return;
    }
    const pods = podsForService(ctx.informers, svc);
    if (pods === undefined || svc.metadata?.deletionTimestamp !== undefined) return;
    const current = ctx.informers.lister(ENDPOINTS).get(key) as Endpoints | undefined;
    // A cache older than our last write would make us write again; wait for it.
    const last = this.lastWritten.get(key);
    if (current && last && /^\d+$/.test(last) && /^\d+$/.test(current.metadata?.resourceVersion ?? "") && BigInt(current.metadata?.resourceVersion ?? "0") < BigInt(last)) {
      return { requeueAfterMs: 100 };
    }
    const want = desiredEndpoints(svc, pods, current, lastChangeTriggerTime(svc, pods));
    if (!want) return;
    try {
      const out = current ? await ctx.writer.update(ENDPOINTS, want as KubeObject) : await ctx.writer.create(ENDPOINTS, want as KubeObject);
      this.lastWritten.set(key, out.metadata?.resourceVersion ?? "");
    } catch (e) {
      if (e instanceof ApiError && e.code === 409) throw new Error(`endpoints ${key} changed or already exist; retrying`);
      throw e;
    }
  }
}

export function newEndpointsController(ctx: ControllerContext, queue: Queue): EndpointsController {
  return new EndpointsController(ctx, queue);
}
