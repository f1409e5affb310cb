/**
 * The node agent (kubelet): registers its Node, keeps its Lease and node status fresh, watches
 * only its own pods (`fieldSelector=spec.nodeName=<node>`) and runs them through a container
 * runtime (`RuntimeService`) with one serialized worker per pod.
 *
 *   const agent = new NodeAgent({ client, nodeName: "n1", runtime: new HollowRuntime() });
 *   await agent.start();     // registered, pods listed, orphans cleaned up
 *   …
 *   await agent.stop();      // containers keep running: a new agent over the same runtime adopts them
 *
 * Time: every periodic task (heartbeat, backoff expiry, probes) is an entry on a `TimerQueue`
 * (default: the process-wide one), so N idle agents cost N heap entries and one process timer.
 */
import { readFileSync } from "node:fs";
import type { Client } from "../client/client.ts";
import { createInformer, type Informer } from "../client/informer.ts";
import { Backoff, type BackoffOptions } from "./backoff.ts";
import { Heartbeat, LEASE_NAMESPACE, type HeartbeatStats } from "./heartbeat.ts";
import { DEFAULT_CAPACITY, type NodeCapacity, type NodeDescription } from "./node-status.ts";
import { PodWorkers } from "./pod-workers.ts";
import { Prober, type NetworkProbe } from "./probes.ts";
import { isRuntimeError } from "./runtime/errors.ts";
import { sharedTimerQueue, type ScheduledTask, TimerQueue } from "./runtime/timers.ts";
import type { RuntimeService } from "./runtime/types.ts";
import { StatusManager, type StatusManagerStats } from "./status-manager.ts";
import { KubeletStreaming } from "./streaming.ts";
import { WatchingObjectSource } from "./env/watching.ts";
import type { NodeAllocatable } from "./env/fieldpath.ts";
import { quantityUnits } from "./env/resources.ts";
import { clientEventSink, EventBroadcaster } from "../client/events/mod.ts";
import { KubeletEventRecorder } from "./events/recorder.ts";
import { podNetworkProbe } from "./lifecycle/netprobe.ts";
import { alwaysSucceeds } from "./probes.ts";
import { VolumeManager } from "./volumes/manager.ts";
import { StatsProvider } from "./stats/provider.ts";
import type { Summary } from "./stats/summary.ts";
import type { LeaseObject, NodeObject, PodObject } from "./types.ts";

export interface NodeAgentOptions {
  readonly client: Client;
  readonly nodeName: string;
  readonly runtime: RuntimeService;
  readonly timers?: TimerQueue;
  readonly capacity?: Partial<NodeCapacity>;
  readonly labels?: Readonly<Record<string, string>>;
  /** The node's InternalIP (default 127.0.0.1). */
  readonly nodeIP?: string;
  readonly podCIDR?: string;
  readonly osImage?: string;
  /** Heartbeat period: lease renewal and node status check (default 10 s). */
  readonly heartbeatMs?: number;
  /** Node status is written at least this often (default 5 min). */
  readonly statusReportMs?: number;
  readonly leaseDurationSeconds?: number;
  /** Delay of the first heartbeat after registration (default: random within one period, to spread many agents). */
  readonly firstHeartbeatMs?: number;
  /** CrashLoopBackOff timing (default 10 s doubling to 5 min). */
  readonly backoff?: BackoffOptions;
  readonly imagePullBackoff?: BackoffOptions;
  readonly networkProbe?: NetworkProbe;
  /** Root of pod log directories (absent: containers are created without log paths). */
  readonly logRoot?: string;
  /** Errors the agent recovered from (default: ignored). */
  readonly onError?: (err: unknown, where: string) => void;
  /**
   * Root of per-pod volume directories (`<root>/<uid>/volumes/…`; the CLI uses `<data dir>/pods`).
   * Absent: volumes are not prepared and `volumeMounts` are not passed to the runtime.
   */
  readonly podsDir?: string;
  /** Record Events about pods (default true). */
  readonly recordEvents?: boolean;
  /**
   * The event broadcaster to record through (a hollow fleet shares one among its agents, so the
   * process has one bounded event queue). Default: the agent's own over its client.
   */
  readonly eventBroadcaster?: EventBroadcaster;
  /**
   * The streaming endpoint serving this node (src/kubelet/streaming/server.ts): advertised as the
   * `tugboat.dev/kubelet-endpoint` annotation and `status.daemonEndpoints.kubeletEndpoint.Port`.
   */
  readonly kubeletEndpoint?: { readonly url: string; readonly port: number };
}

export interface NodeAgentStats {
  readonly heartbeat: Readonly<HeartbeatStats>;
  readonly status: Readonly<StatusManagerStats>;
  readonly pods: number;
  readonly syncs: number;
  readonly syncErrors: number;
  readonly containersStarted: number;
  /** Watches of ConfigMaps/Secrets/Services the node's pods reference. */
  readonly objectWatches: number;
  /** Events recorded / dropped (backlog full) / failed to write. */
  readonly events: { readonly recorded: number; readonly dropped: number; readonly failed: number };
}

/** The host's `PRETTY_NAME` from /etc/os-release (what the kubelet reports as osImage for real runtimes). */
function hostOsImage(): string {
  try {
    const m = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync("/etc/os-release", "utf8"));
    return m?.[1] || "Linux";
  } catch {
    return "Linux";
  }
}

export class NodeAgent {
  readonly nodeName: string;
  readonly timers: TimerQueue;
  readonly runtime: RuntimeService;
  readonly #o: NodeAgentOptions;
  readonly #status: StatusManager;
  readonly #prober: Prober;
  readonly #workers: PodWorkers;
  readonly #objects: WatchingObjectSource;
  readonly #events: KubeletEventRecorder | undefined;
  /** The broadcaster this agent created (and closes on stop); undefined when shared or off. */
  readonly #ownBroadcaster: EventBroadcaster | undefined;
  #allocatable: NodeAllocatable;
  /** The runtime gives pods a reachable network (every runtime but hollow). */
  #podNetwork = false;
  #heartbeat: Heartbeat | undefined;
  #informer: Informer<PodObject> | undefined;
  #tick: ScheduledTask | undefined;
  #stopped = false;
  #eventsLoop: Promise<void> | undefined;
  #eventsAbort: (() => void) | undefined;
  /** Created on the first Summary request (nothing is sampled before). */
  #stats: StatsProvider | undefined;

  constructor(o: NodeAgentOptions) {
    if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(o.nodeName) || o.nodeName.length > 253) {
      throw new TypeError(`invalid node name ${JSON.stringify(o.nodeName)}: a lowercase RFC 1123 subdomain is required`);
    }
    this.#o = o;
    this.nodeName = o.nodeName;
    this.runtime = o.runtime;
    this.timers = o.timers ?? sharedTimerQueue();
    const onError = o.onError ?? (() => {});
    const pods = o.client.resourceFor<PodObject>("v1", "Pod");
    this.#status = new StatusManager(
      { patchPodStatus: (ns, name, patch) => pods.namespace(ns).patch(name, patch, "merge", { subresource: "status" }) },
      this.timers,
      (err, pod) => onError(err, `status ${pod}`),
    );
    // ConfigMaps/Secrets/Services the node's pods reference: a watch per referenced object.
    this.#objects = new WatchingObjectSource({
      client: o.client, onChange: (uids) => { for (const u of uids) this.#workers.sync(u); },
      onError: (err, where) => onError(err, where),
    });
    this.#ownBroadcaster = o.recordEvents === false || o.eventBroadcaster !== undefined
      ? undefined
      : new EventBroadcaster({ sink: clientEventSink(o.client), clock: () => this.timers.clock.now() });
    const broadcaster = o.eventBroadcaster ?? this.#ownBroadcaster;
    this.#events = o.recordEvents === false || broadcaster === undefined ? undefined : new KubeletEventRecorder({ broadcaster, nodeName: o.nodeName });
    const kindOf: Record<string, string> = { startup: "Startup", liveness: "Liveness", readiness: "Readiness" };
    this.#prober = new Prober({
      runtime: o.runtime, timers: this.timers, onChange: (uid) => this.#workers.sync(uid),
      // httpGet/tcpSocket probes: the given checker, else a real one once the runtime has a pod network.
      networkProbe: (p, ip, c) => (o.networkProbe ?? (this.#podNetwork ? podNetworkProbe : alwaysSucceeds))(p, ip, c),
      onFailure: (uid, name, kind, message) => {
        const pod = this.#workers.pod(uid);
        if (pod !== undefined) this.#events?.event(pod, "Warning", "Unhealthy", `${kindOf[kind] ?? kind} probe failed: ${message}`, { name });
      },
    });
    this.#workers = new PodWorkers({
      runtime: o.runtime, runtimeName: "hollow", timers: this.timers, status: this.#status, prober: this.#prober,
      backoff: new Backoff(o.backoff), pullBackoff: new Backoff(o.imagePullBackoff),
      hostIPs: () => [o.nodeIP ?? "127.0.0.1"],
      deletePod: async (ns, name, uid) => {
        await pods.namespace(ns).delete(name, { gracePeriodSeconds: 0, preconditions: { uid } });
      },
      ...(o.logRoot !== undefined ? { logRoot: o.logRoot } : {}),
      onError: (err, pod) => onError(err, `sync ${pod}`),
      objects: this.#objects,
      trackObjects: (pod) => this.#objects.track(pod),
      releaseObjects: (uid) => this.#objects.release(uid),
      ...(o.podsDir !== undefined ? { volumes: new VolumeManager({ root: o.podsDir }) } : {}),
      ...(this.#events !== undefined ? { events: this.#events } : {}),
      nodeAllocatable: () => this.#allocatable,
      podNetwork: () => this.#podNetwork,
    });
    const cap = { ...DEFAULT_CAPACITY, ...(o.capacity ?? {}) };
    try {
      this.#allocatable = {
        cpuMillis: quantityUnits(cap.cpu, "cpu") ?? 0, memoryBytes: quantityUnits(cap.memory, "memory") ?? 0,
        ephemeralStorageBytes: quantityUnits(cap.ephemeralStorage, "memory") ?? 0,
      };
    } catch {
      this.#allocatable = { cpuMillis: 0, memoryBytes: 0, ephemeralStorageBytes: 0 };
    }
  }

  get stats(): NodeAgentStats {
    const w = this.#workers.stats;
    return {
      heartbeat: this.#heartbeat?.stats ?? { leaseRenewals: 0, statusWrites: 0, errors: 0 },
      status: this.#status.stats, pods: this.#workers.size, syncs: w.syncs, syncErrors: w.errors, containersStarted: w.started,
      objectWatches: this.#objects.watchCount, events: { ...(this.#events?.stats ?? { recorded: 0, dropped: 0, failed: 0 }) },
    };
  }

  /**
   * Registers the node, renews the lease once, lists this node's pods, adopts what the runtime
   * already runs and starts the loops. Rejects when the apiserver or the runtime cannot be reached.
   */
  async start(opts: { syncTimeoutMs?: number } = {}): Promise<void> {
    const o = this.#o;
    const version = await o.runtime.version();
    const description: NodeDescription = {
      nodeName: o.nodeName,
      capacity: { ...DEFAULT_CAPACITY, ...(o.capacity ?? {}) },
      internalIP: o.nodeIP ?? "127.0.0.1",
      containerRuntimeVersion: `${version.runtimeName}://${version.runtimeVersion}`,
      ...(o.labels !== undefined ? { labels: o.labels } : {}),
      ...(o.podCIDR !== undefined ? { podCIDR: o.podCIDR } : {}),
      ...(o.osImage !== undefined ? { osImage: o.osImage } : version.runtimeName !== "hollow" ? { osImage: hostOsImage() } : {}),
      ...(o.kubeletEndpoint !== undefined
        ? { kubeletPort: o.kubeletEndpoint.port, annotations: { "tugboat.dev/kubelet-endpoint": o.kubeletEndpoint.url } }
        : {}),
    };
    // The pod workers name containers `<runtimeName>://id`.
    this.#workers.runtimeName = version.runtimeName;
    // Hollow pods have no network and run nothing that reads service variables.
    this.#podNetwork = version.runtimeName !== "hollow";
    this.#objects.watchServices = this.#podNetwork;
    this.#heartbeat = new Heartbeat({
      description,
      nodes: o.client.resourceFor<NodeObject>("v1", "Node"),
      leases: o.client.resourceFor<LeaseObject>("coordination.k8s.io/v1", "Lease").namespace(LEASE_NAMESPACE),
      runtime: o.runtime, now: () => this.timers.clock.now(),
      ...(o.leaseDurationSeconds !== undefined ? { leaseDurationSeconds: o.leaseDurationSeconds } : {}),
      ...(o.statusReportMs !== undefined ? { statusReportMs: o.statusReportMs } : {}),
    });
    await this.#heartbeat.register();
    await this.#heartbeat.renewLease();

    const informer = createInformer(o.client.resourceFor<PodObject>("v1", "Pod"), {
      fieldSelector: `spec.nodeName=${o.nodeName}`,
      onError: (err) => o.onError?.(err, "pod informer"),
    });
    this.#informer = informer;
    informer.addEventHandler({
      onAdd: (p) => this.#onPod(p),
      onUpdate: (_old, p) => this.#onPod(p),
      onDelete: (p) => this.#workers.remove(p),
    });
    this.#subscribeEvents();
    informer.start();
    await informer.waitForSync({ timeoutMs: opts.syncTimeoutMs ?? 30_000 });
    try {
      await this.#workers.cleanupOrphans();
    } catch (err) {
      o.onError?.(err, "orphan cleanup");
    }
    const period = o.heartbeatMs ?? 10_000;
    this.#scheduleTick(o.firstHeartbeatMs ?? Math.floor(Math.random() * period));
  }

  #onPod(p: PodObject): void {
    if (p.spec?.nodeName !== this.nodeName) return; // the field selector already ensures it; never touch others' pods
    this.#status.observeApiPod(p);
    this.#workers.update(p);
  }

  #scheduleTick(ms: number): void {
    if (this.#stopped) return;
    this.#tick = this.timers.schedule(ms, () => {
      this.#tick = undefined;
      const hb = this.#heartbeat;
      if (hb === undefined || this.#stopped) return;
      hb.tick().catch((err: unknown) => this.#o.onError?.(err, "heartbeat")).finally(() => this.#scheduleTick(this.#o.heartbeatMs ?? 10_000));
    });
  }

  #subscribeEvents(): void {
    const events = this.runtime.events?.bind(this.runtime);
    if (events === undefined) return;
    let stop = false;
    let iter: AsyncIterator<{ podUid: string; type: string }> | undefined;
    this.#eventsAbort = () => {
      stop = true;
      void iter?.return?.();
    };
    this.#eventsLoop = (async () => {
      for (let round = 0; !stop && !this.#stopped && round < 1_000_000; round++) {
        try {
          iter = events()[Symbol.asyncIterator]();
          for (;;) {
            const r = await iter.next();
            if (r.done || stop) return;
            if (r.value.type === "STOPPED") this.#workers.sync(r.value.podUid);
          }
        } catch (err) {
          if (stop || this.#stopped) return;
          // Fell behind: resync every pod, then subscribe again.
          if (!(isRuntimeError(err) && err.code === "Unavailable")) this.#o.onError?.(err, "runtime events");
          for (const uid of this.#workers.uids()) this.#workers.sync(uid);
          await new Promise<void>((r) => this.timers.schedule(1000, r));
        }
      }
    })();
  }

  /** Logs/exec/attach/port-forward lookups for the streaming endpoints (issue 5 wires them to HTTP). */
  get streaming(): KubeletStreaming {
    return new KubeletStreaming(this.runtime, (ns, name) => this.#informer?.store.get(`${ns}/${name}`), { nodeName: this.nodeName, summary: () => this.summary() });
  }

  /**
   * The node's usage Summary (kubelet stats/v1alpha1 shape: node CPU/memory from /proc, pods and
   * containers from the runtime's `listContainerStats`), sampled on demand (stats/provider.ts).
   */
  summary(): Promise<Summary> {
    this.#stats ??= new StatsProvider({ nodeName: this.nodeName, runtime: this.runtime });
    return this.#stats.summary();
  }

  /** Pods this agent currently manages. */
  podCount(): number {
    return this.#workers.size;
  }

  /** Resolves when no pod sync runs (tests). */
  idle(): Promise<void> {
    return this.#workers.idle();
  }

  /** Runs a heartbeat now (tests, shutdown). */
  async heartbeatNow(): Promise<void> {
    await this.#heartbeat?.tick();
  }

  /** Stops watching and ticking. Containers keep running (the runtime's state outlives the agent). */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#tick?.cancel();
    this.#eventsAbort?.();
    await this.#informer?.stop();
    await this.#workers.stop();
    await this.#objects.stop();
    if (this.#ownBroadcaster !== undefined) {
      // Queued events get a short grace to be written; the rest are dropped (best effort).
      await Promise.race([this.#ownBroadcaster.flush(), new Promise((r) => setTimeout(r, 2000).unref())]);
      this.#ownBroadcaster.close();
    }
    // The events loop is not awaited: a pending next() of the runtime's subscription only settles
    // on the next event or when the runtime client is closed (the caller owns the runtime).
    void this.#eventsLoop?.catch(() => undefined);
  }
}
