/**
 * The ServiceAccount controller: every active namespace has a `default` ServiceAccount. It is
 * created when a namespace appears and re-created when deleted.
 */
import { ApiError } from "../../api/errors.ts";
import type { Controller, ControllerContext, Queue } from "../framework/controller.ts";
import { NAMESPACES, SERVICEACCOUNTS } from "../framework/resources.ts";

export const NAME = "serviceaccount";
export const DEFAULT_ACCOUNT = "default";

export class ServiceAccountController implements Controller {
  readonly name = NAME;

  constructor(private readonly ctx: ControllerContext, queue: Queue) {
    ctx.informers.on(NAMESPACES, { onAdd: (ns) => queue.add(ns.metadata?.name ?? ""), onUpdate: (_o, ns) => queue.add(ns.metadata?.name ?? "") });
    ctx.informers.on(SERVICEACCOUNTS, {
      onDelete: (sa) => {
        if (sa.metadata?.name === DEFAULT_ACCOUNT) queue.add(sa.metadata.namespace ?? "");
      },
    });
  }

  async sync(namespace: string): Promise<void> {
    const ns = this.ctx.informers.lister(NAMESPACES).get(namespace);
    if (!ns || ns.metadata?.deletionTimestamp !== undefined) return;
    if (((ns["status"] ?? {}) as { phase?: string }).phase === "Terminating") return;
    if (this.ctx.informers.lister(SERVICEACCOUNTS).get(`${namespace}/${DEFAULT_ACCOUNT}`)) return;
    try {
      await this.ctx.writer.create(SERVICEACCOUNTS, { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: DEFAULT_ACCOUNT, namespace } });
    } catch (e) {
      if (e instanceof ApiError && e.reason === "AlreadyExists") return; // the cache was behind
      if (e instanceof ApiError && e.code === 403) return; // the namespace started terminating
      throw e;
    }
  }
}

export function newServiceAccountController(ctx: ControllerContext, queue: Queue): ServiceAccountController {
  return new ServiceAccountController(ctx, queue);
}
