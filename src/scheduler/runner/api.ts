/**
 * The core's ports over the API: `ApiBinder` (POST pods/<name>/binding), `ApiStatusWriter`
 * (PodScheduled=False + nominatedNodeName through the status subresource), `ApiPreemptor`
 * (DisruptionTarget condition, then delete). They speak to the apiserver through `PodApi`, a narrow
 * interface with a client implementation (`clientPodApi`) and an in-memory double in tests.
 */
import type { Pod } from "../../api/generated/core_v1.ts";
import { ApiError } from "../../api/errors.ts";
import type { Client } from "../../client/client.ts";
import type { Binder, PodPreemptor, PodStatusWriter } from "../ports.ts";
import { Limiter } from "./_limiter.ts";

/** The pod writes the scheduler makes. Errors are the apiserver's `ApiError`s or transport errors. */
export interface PodApi {
  /** POST pods/<name>/binding (a `uid` precondition in the Binding's metadata). */
  bind(namespace: string, name: string, uid: string, nodeName: string): Promise<void>;
  /** Strategic merge patch of pods/<name>/status. */
  patchStatus(namespace: string, name: string, patch: Record<string, unknown>): Promise<void>;
  /** DELETE with a uid precondition; `gracePeriodSeconds` undefined = the pod's own. */
  deletePod(namespace: string, name: string, uid: string, gracePeriodSeconds: number | undefined): Promise<void>;
}

function podPath(namespace: string, name: string, sub?: string): string {
  return `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}${sub ? `/${sub}` : ""}`;
}

/**
 * `PodApi` over the client (protobuf Binding bodies; patches and delete options are JSON). The
 * responses (the patched or deleted Pod, the binding's Status) are not decoded: the scheduler learns
 * the outcome from its informers, and decoding a Pod per write cost as much as sending it.
 * Non-2xx answers still become the server's `ApiError`.
 */
export function clientPodApi(client: Client): PodApi {
  const rest = client.rest;
  const send = async (req: Parameters<typeof rest.request>[0]): Promise<void> => {
    const res = await rest.request(req);
    if (res.status < 200 || res.status > 299) throw rest.errorOf(res);
  };
  return {
    bind(namespace, name, uid, nodeName) {
      return send({
        method: "POST", path: podPath(namespace, name, "binding"),
        body: { apiVersion: "v1", kind: "Binding", metadata: { name, namespace, ...(uid ? { uid } : {}) }, target: { apiVersion: "v1", kind: "Node", name: nodeName } },
      });
    },
    patchStatus(namespace, name, patch) {
      return send({ method: "PATCH", path: podPath(namespace, name, "status"), body: JSON.stringify(patch), contentType: "application/strategic-merge-patch+json" });
    },
    deletePod(namespace, name, uid, gracePeriodSeconds) {
      const opts = { ...(uid ? { preconditions: { uid } } : {}), ...(gracePeriodSeconds !== undefined ? { gracePeriodSeconds } : {}) };
      return send({
        method: "DELETE", path: podPath(namespace, name),
        ...(Object.keys(opts).length > 0 ? { body: JSON.stringify({ apiVersion: "meta.k8s.io/v1", kind: "DeleteOptions", ...opts }), contentType: "application/json" } : {}),
      });
    },
  };
}

/** `EventSink` over the client (core/v1 Events by default): the event library's. */
export { clientEventSink } from "../../client/events/mod.ts";

function ns(p: Pod): string {
  return p.metadata?.namespace ?? "default";
}

/** The Binder port: one POST per pod; any error rejects (the core rolls back and requeues). */
export class ApiBinder implements Binder {
  constructor(private readonly api: PodApi) {}
  bind(pod: Pod, nodeName: string): Promise<void> {
    return this.api.bind(ns(pod), pod.metadata?.name ?? "", pod.metadata?.uid ?? "", nodeName);
  }
}

function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

export interface WriterStats {
  written: number;
  skipped: number;
  failed: number;
}

/**
 * The PodStatusWriter port, as upstream's `updatePod`: the PodScheduled condition is written only
 * when it changes (status, reason or message; lastTransitionTime moves only with status), and
 * `nominatedNodeName` only when it changes. A message of "" with `nominatedNodeName` "" only clears
 * the nomination. Writes are fire and forget (bounded concurrency); a pod gone meanwhile is fine.
 */
export class ApiStatusWriter implements PodStatusWriter {
  readonly stats: WriterStats = { written: 0, skipped: 0, failed: 0 };
  private readonly limiter: Limiter;
  constructor(private readonly api: PodApi, opts: { concurrency?: number; maxQueued?: number; now?: () => number } = {}) {
    this.limiter = new Limiter(opts.concurrency ?? 16, opts.maxQueued ?? 20_000);
    this.now = opts.now ?? Date.now;
  }
  private readonly now: () => number;

  /** The patch for a pod, or undefined when nothing changes. Pure. */
  static patchFor(pod: Pod, reason: string, message: string, nominatedNodeName: string | undefined, nowMs: number): Record<string, unknown> | undefined {
    const status: Record<string, unknown> = {};
    const cur = pod.status?.conditions?.find((c) => c.type === "PodScheduled");
    if (message !== "" || reason !== "Unschedulable") {
      if (!cur || cur.status !== "False" || cur.reason !== reason || cur.message !== message) {
        const cond: Record<string, unknown> = {
          type: "PodScheduled", status: "False", reason, message, lastProbeTime: null,
          lastTransitionTime: cur && cur.status === "False" && cur.lastTransitionTime ? cur.lastTransitionTime : rfc3339(nowMs),
        };
        status["conditions"] = [cond];
      }
    }
    const curNominated = pod.status?.nominatedNodeName ?? "";
    if (nominatedNodeName !== undefined && nominatedNodeName !== curNominated) status["nominatedNodeName"] = nominatedNodeName === "" ? null : nominatedNodeName;
    return Object.keys(status).length ? { status } : undefined;
  }

  markUnschedulable(pod: Pod, reason: "Unschedulable" | "SchedulingGated" | "SchedulerError", message: string, nominatedNodeName: string | undefined): void {
    const patch = ApiStatusWriter.patchFor(pod, reason, message, nominatedNodeName, this.now());
    if (!patch) { this.stats.skipped++; return; }
    this.limiter.run(() => this.api.patchStatus(ns(pod), pod.metadata?.name ?? "", patch)).then(
      () => { this.stats.written++; },
      (e: unknown) => { if (!(e instanceof ApiError && e.code === 404)) this.stats.failed++; },
    );
  }

  idle(): Promise<void> {
    return this.limiter.idle();
  }
}

/**
 * The PodPreemptor port, as upstream's PrepareCandidate: the victim gets a `DisruptionTarget`
 * condition (reason `PreemptionByScheduler`), then is deleted with a uid precondition.
 * `gracePeriodSeconds` undefined = the victim's own grace period (upstream); benchmarks without
 * kubelets pass 0 so victims do not stay Terminating.
 */
export class ApiPreemptor implements PodPreemptor {
  constructor(private readonly api: PodApi, private readonly opts: { schedulerName?: string; gracePeriodSeconds?: number; now?: () => number } = {}) {}

  async preempt(victim: Pod, _preemptor: Pod, _nodeName: string): Promise<void> {
    const namespace = ns(victim), name = victim.metadata?.name ?? "", uid = victim.metadata?.uid ?? "";
    const cond = {
      type: "DisruptionTarget", status: "True", reason: "PreemptionByScheduler",
      message: `${this.opts.schedulerName ?? "default-scheduler"}: preempting to accommodate a higher priority pod`,
      lastTransitionTime: rfc3339((this.opts.now ?? Date.now)()),
    };
    try {
      await this.api.patchStatus(namespace, name, { status: { conditions: [cond] } });
    } catch (e) {
      if (e instanceof ApiError && e.code === 404) return;
      throw e;
    }
    try {
      await this.api.deletePod(namespace, name, uid, this.opts.gracePeriodSeconds);
    } catch (e) {
      if (e instanceof ApiError && (e.code === 404 || e.code === 409)) return; // gone, or another pod by that name now
      throw e;
    }
  }
}
