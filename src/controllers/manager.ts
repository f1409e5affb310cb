/**
 * The controller-manager: the set of controllers, one shared informer factory, one writer over a
 * protobuf client, event recorders per controller, and leader election on the Lease
 * `kube-system/kube-controller-manager` so that of several managers only one acts.
 *
 *   const cm = await startControllerManager({ client: clientFromKubeconfig(path) });
 *   ...
 *   await cm.stop();   // stops the controllers and releases the lease
 */
import { setMaxListeners } from "node:events";
import { hostname } from "node:os";
import { randomUUID } from "node:crypto";
import type { Client } from "../client/client.ts";
import type { ControllerContext, ControllerFactory } from "./framework/controller.ts";
import { EventBroadcaster } from "../client/events/mod.ts";
import { controllerEventRecorder, writerEventSink } from "./framework/events.ts";
import { SharedInformerFactory } from "./framework/informers.ts";
import { DEFAULT_LEADER_ELECTION, LeaderElector, type LeaderElectionConfig } from "./framework/leaderelection.ts";
import { ControllerRunner, metricsText } from "./framework/runner.ts";
import { clientWriter, type ObjectWriter } from "./framework/writer.ts";
import { newDeploymentController } from "./deployment/controller.ts";
import { newGarbageCollector } from "./garbagecollector/controller.ts";
import { newNamespaceController } from "./namespace/controller.ts";
import { newReplicaSetController } from "./replicaset/controller.ts";
import { newServiceAccountController } from "./serviceaccount/controller.ts";
import { newStatefulSetController } from "./statefulset/controller.ts";
import { newDaemonSetController } from "./daemonset/controller.ts";
import { newJobController } from "./job/controller.ts";
import { newCronJobController } from "./cronjob/controller.ts";
import { newTtlAfterFinishedController } from "./ttlafterfinished/controller.ts";
import { newNodeLifecycleController } from "./nodelifecycle/controller.ts";
import { newEndpointSliceController } from "./endpointslice/controller.ts";
import { newEndpointsController } from "./endpoints/controller.ts";
import { newPodGcController } from "./podgc/controller.ts";
import { newDisruptionController } from "./disruption/controller.ts";

export interface ControllerInfo {
  readonly name: string;
  readonly description: string;
  readonly factory: ControllerFactory;
  /** Concurrent syncs (upstream defaults: deployment 5, replicaset 5, gc 20, namespace 10, sa 1, statefulset 5, daemonset 2, job 5, cronjob 5, ttl 5, endpointslice 5, endpoints 5). */
  readonly workers: number;
}

export const CONTROLLERS: readonly ControllerInfo[] = [
  { name: "deployment", description: "Deployments -> ReplicaSets (rolling update, recreate, rollback)", factory: newDeploymentController, workers: 5 },
  { name: "replicaset", description: "ReplicaSets -> Pods", factory: newReplicaSetController, workers: 5 },
  { name: "garbagecollector", description: "ownerReferences: background, foreground and orphan deletion", factory: newGarbageCollector, workers: 10 },
  { name: "namespace", description: "deletes a terminating namespace's content, then finalizes it", factory: newNamespaceController, workers: 2 },
  { name: "serviceaccount", description: "a default ServiceAccount per namespace", factory: newServiceAccountController, workers: 1 },
  { name: "statefulset", description: "StatefulSets -> ordered pods, claims, revisions, partitioned rolling update", factory: newStatefulSetController, workers: 5 },
  { name: "daemonset", description: "DaemonSets -> one pod per eligible node, rolling update", factory: newDaemonSetController, workers: 2 },
  { name: "job", description: "Jobs -> pods run to completion (parallelism, backoff, deadlines, indexed)", factory: newJobController, workers: 5 },
  { name: "cronjob", description: "CronJobs -> Jobs on schedule (time zones, concurrency policy, history)", factory: newCronJobController, workers: 5 },
  { name: "ttl-after-finished", description: "deletes finished Jobs after ttlSecondsAfterFinished", factory: newTtlAfterFinishedController, workers: 5 },
  { name: "nodelifecycle", description: "node health from leases, not-ready/unreachable taints, rate-limited NoExecute eviction", factory: newNodeLifecycleController, workers: 5 },
  { name: "endpointslice", description: "Services -> EndpointSlices of their pods", factory: newEndpointSliceController, workers: 5 },
  { name: "endpoints", description: "Services -> legacy Endpoints of their pods", factory: newEndpointsController, workers: 5 },
  { name: "podgc", description: "deletes terminated pods beyond the threshold and pods of deleted nodes", factory: newPodGcController, workers: 1 },
  { name: "disruption", description: "PodDisruptionBudget status from the selected pods (disruptionsAllowed for pods/eviction)", factory: newDisruptionController, workers: 5 },
];

/**
 * Resolves `--controllers` (upstream syntax): `*` = all, `name` enables, `-name` disables;
 * items may be comma-separated. Empty = all. Throws `Error` naming an unknown controller.
 */
export function selectControllers(spec: readonly string[]): string[] {
  const known = CONTROLLERS.map((c) => c.name);
  const items = spec.flatMap((s) => s.split(",")).map((s) => s.trim()).filter((s) => s !== "");
  if (items.length === 0) return known;
  const on = new Set<string>();
  const off = new Set<string>();
  let star = false;
  for (const it of items) {
    if (it === "*") { star = true; continue; }
    const neg = it.startsWith("-");
    const name = neg ? it.slice(1) : it;
    if (!known.includes(name)) throw new Error(`unknown controller "${name}" in --controllers (known: ${known.join(", ")})`);
    (neg ? off : on).add(name);
  }
  return known.filter((n) => !off.has(n) && (star || on.has(n)));
}

export interface ControllerManagerOptions {
  readonly client: Client;
  /** `--controllers` items (default: all). */
  readonly controllers?: readonly string[];
  /** Default true. */
  readonly leaderElect?: boolean;
  readonly leaderElection?: Partial<LeaderElectionConfig>;
  readonly log?: (message: string) => void;
  /** Overrides the writer (tests). */
  readonly writer?: ObjectWriter;
}

export class ControllerManager {
  readonly names: readonly string[];
  readonly elector: LeaderElector | undefined;
  private runners: ControllerRunner[] = [];
  private factory: SharedInformerFactory | undefined;
  private readonly writer: ObjectWriter;
  /** One event broadcaster (queue, correlator) for every controller of this manager. */
  readonly events: EventBroadcaster;
  private readonly log: (m: string) => void;
  private running: Promise<void> | undefined;
  private term: AbortController | undefined;
  private stopped = false;

  constructor(private readonly opts: ControllerManagerOptions) {
    this.names = selectControllers(opts.controllers ?? []);
    this.writer = opts.writer ?? clientWriter(opts.client);
    this.events = new EventBroadcaster({ sink: writerEventSink(this.writer) });
    this.log = opts.log ?? ((m) => process.stderr.write(`tug controller-manager: ${m}\n`));
    if (opts.leaderElect !== false) {
      const cfg: LeaderElectionConfig = { ...DEFAULT_LEADER_ELECTION, identity: `${hostname()}_${randomUUID()}`, ...opts.leaderElection };
      this.elector = new LeaderElector(this.writer, cfg, {
        onStartedLeading: (signal) => this.lead(signal),
        onStoppedLeading: () => this.standDown(),
      }, { log: this.log });
    }
  }

  /** True while this manager's controllers run. */
  isActive(): boolean {
    return this.runners.length > 0;
  }

  /** Runners of the current term (empty when not leading). */
  get controllers(): readonly ControllerRunner[] {
    return this.runners;
  }

  /** Informers of the current term (one per resource). */
  get informerCount(): number {
    return this.factory?.size ?? 0;
  }

  start(): void {
    if (this.elector) this.elector.start();
    else this.running ??= this.lead(new AbortController().signal);
  }

  private async lead(signal: AbortSignal): Promise<void> {
    if (this.stopped) return;
    const factory = new SharedInformerFactory(this.opts.client, (r, e) => this.log(`informer ${r.kind}: ${e instanceof Error ? e.message : String(e)}`));
    const runners: ControllerRunner[] = [];
    const term = (this.term = new AbortController());
    // One term signal is watched by every informer and controller of the term (dozens): by design.
    setMaxListeners(0, term.signal);
    setMaxListeners(0, signal);
    for (const info of CONTROLLERS) {
      if (!this.names.includes(info.name)) continue;
      const ctx: ControllerContext = {
        informers: factory,
        writer: this.writer,
        recorder: controllerEventRecorder(this.events, `${info.name}-controller`),
        now: () => new Date(),
        log: this.log,
        client: this.opts.client,
        signal: term.signal,
      };
      runners.push(new ControllerRunner(info.name, info.factory, ctx, { workers: info.workers }));
    }
    this.factory = factory;
    this.runners = runners;
    factory.start();
    try {
      await factory.waitForSync(120_000, signal);
    } catch (e) {
      if (!signal.aborted) this.log(`caches did not sync: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    if (signal.aborted || this.runners !== runners) return;
    for (const r of runners) r.start();
    this.log(`running ${runners.map((r) => r.name).join(", ")} (${factory.size} shared informers)`);
  }

  private async standDown(): Promise<void> {
    const runners = this.runners;
    const factory = this.factory;
    this.runners = [];
    this.factory = undefined;
    this.term?.abort();
    this.term = undefined;
    await Promise.all(runners.map((r) => r.stop()));
    await factory?.stop();
  }

  metricsText(): string {
    return metricsText(this.runners);
  }

  /** Stops the controllers and informers and releases the lease. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.elector) await this.elector.stop();
    else await this.running;
    await this.standDown();
    // Queued events get a short grace to be written; the rest are dropped (best effort).
    await Promise.race([this.events.flush(), new Promise((r) => setTimeout(r, 2000).unref())]);
    this.events.close();
  }
}

/** Creates and starts a controller-manager (campaigning for the lease unless `leaderElect: false`). */
export function startControllerManager(opts: ControllerManagerOptions): ControllerManager {
  const cm = new ControllerManager(opts);
  cm.start();
  return cm;
}
