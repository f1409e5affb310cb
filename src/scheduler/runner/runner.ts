/**
 * The running scheduler: informers (protobuf list+watch) feed the pure core, a scheduling loop
 * pops and schedules continuously while binding cycles run concurrently (bounded), `flush()` runs
 * every second, and the core's ports write through the API (api.ts, events.ts). Leader election on
 * the Lease `kube-system/kube-scheduler` (the controllers' elector): only the leader's term runs;
 * a new term starts from empty caches.
 *
 *   const runner = await createSchedulerRunner({ client, config });   // throws SchedulerConfigError, kernel load errors
 *   runner.start();
 *   ...
 *   await runner.stop();
 *
 * Informers: nodes, pods (all: assigned ones feed the cache, unassigned ones this scheduler's
 * profiles own feed the queue; terminal pods are invisible, as upstream's field selector makes
 * them), namespaces (labels for namespaceSelector), policy/v1 PodDisruptionBudgets (preemption),
 * services / replicationcontrollers / replicasets / statefulsets (default topology spreading).
 * PriorityClasses are not watched: the Priority admission plugin resolves `spec.priority`.
 */
import { setMaxListeners } from "node:events";
import { hostname } from "node:os";
import { randomUUID } from "node:crypto";
import type { Node, Pod } from "../../api/generated/core_v1.ts";
import type { KubeObject } from "../../api/object.ts";
import { selectorFromSet, type LabelSelector, type Labels } from "../../api/selectors/labels.ts";
import type { Client } from "../../client/client.ts";
import { createInformer, type EventHandler, type Informer } from "../../client/informer.ts";
import { DEFAULT_LEADER_ELECTION, LeaderElector, type LeaderElectionConfig } from "../../controllers/framework/leaderelection.ts";
import { selectorOf } from "../../controllers/framework/selector.ts";
import { clientWriter } from "../../controllers/framework/writer.ts";
import { systemClock } from "../clock.ts";
import { defaultSchedulerConfig, type SchedulerConfig } from "../framework/config.ts";
import type { Kernel } from "../kernel/mod.ts";
import { Scheduler, type ScheduleResult, type SchedulerOptions } from "../scheduler.ts";
import { ApiBinder, ApiPreemptor, ApiStatusWriter, clientEventSink, clientPodApi, type PodApi } from "./api.ts";
import { type EventSink, SchedulerEventRecorder, type SchedulerEventRecorderOptions } from "./events.ts";
import { type KernelChoice, loadKernel } from "./kernel.ts";
import { SchedulerMetrics } from "./metrics.ts";

export const DEFAULT_SCHEDULER_LEASE: Omit<LeaderElectionConfig, "identity"> = { ...DEFAULT_LEADER_ELECTION, name: "kube-scheduler" };

export interface SchedulerRunnerOptions {
  readonly client: Client;
  /** Parsed KubeSchedulerConfiguration (default: kube-scheduler's defaults). */
  readonly config?: SchedulerConfig;
  /** Default "auto" (WASM SIMD, falling back with a logged notice). */
  readonly kernel?: KernelChoice;
  /** Default true: campaign for `kube-system/kube-scheduler` and schedule only while leading. */
  readonly leaderElect?: boolean;
  readonly leaderElection?: Partial<LeaderElectionConfig>;
  /** Binding cycles in flight at most (default 128). */
  readonly maxInFlightBindings?: number;
  /** How often `flush()` runs (default 1000 ms). */
  readonly flushIntervalMs?: number;
  /**
   * Default true: while the loop is idle, a timer at the earliest backoff expiry moves the pods
   * whose backoff ended to activeQ, so they do not wait up to `flushIntervalMs` more for the
   * periodic flush (upstream's SchedulerPopFromBackoffQ goes further: it pops backing-off pods as
   * soon as activeQ is empty). false: only the periodic flush (the earlier behaviour).
   */
  readonly backoffTimer?: boolean;
  /** Grace period of preemption victims (default: the victim's own). */
  readonly preemptionGracePeriodSeconds?: number;
  /** Longest synchronous scheduling slice before yielding to I/O (default 10 ms). */
  readonly sliceMs?: number;
  readonly log?: (message: string) => void;
  /** Test/bench overrides of the API writers. */
  readonly podApi?: PodApi;
  readonly eventSink?: EventSink;
  /** The event recorder's write queue (defaults: SchedulerEventRecorder's). */
  readonly events?: Pick<SchedulerEventRecorderOptions, "concurrency" | "maxQueued">;
  /** Watch only these kinds besides nodes and pods (default: all listed above). */
  readonly watchExtras?: boolean;
  /** Bench/test overrides of the core: plugin registry and the nominated-pods overlay mode. */
  readonly core?: Pick<SchedulerOptions, "registry" | "nominatedOverlay">;
}

/** Counters the runner keeps (beyond the Prometheus metrics). */
export interface RunnerStats {
  scheduled: number;
  unschedulable: number;
  errors: number;
  bound: number;
  bindFailed: number;
  /** Wall time spent inside `scheduleOne` (ms). */
  scheduleMs: number;
  /** Informer handler time (ms): cache and queue upkeep. */
  informerMs: number;
}

/** One leadership term: fresh caches, informers and loop. */
class Term {
  readonly sched: Scheduler;
  readonly informers: Informer<KubeObject>[] = [];
  private readonly firstSeen = new Map<string, number>();
  private inFlight = 0;
  private pending: ReturnType<typeof setImmediate> | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private backoffTimer: ReturnType<typeof setTimeout> | undefined;
  private backoffAt = Infinity;
  private stopped = false;
  private idleWaiters: Array<() => void> = [];
  paused = false;

  constructor(private readonly r: SchedulerRunner, kernel: Kernel, config: SchedulerConfig) {
    const o = r.opts;
    this.sched = new Scheduler({
      kernel, config, binder: new ApiBinder(r.podApi), recorder: r.recorder, statusWriter: r.statusWriter,
      preemptor: new ApiPreemptor(r.podApi, { ...(o.preemptionGracePeriodSeconds !== undefined ? { gracePeriodSeconds: o.preemptionGracePeriodSeconds } : {}) }),
      metrics: r.metrics,
      ...(o.core?.registry ? { registry: o.core.registry } : {}),
      ...(o.core?.nominatedOverlay ? { nominatedOverlay: o.core.nominatedOverlay } : {}),
    });
  }

  private inform<T extends KubeObject>(apiVersion: string, kind: string, h: EventHandler<T>): void {
    const inf = createInformer(this.r.opts.client.resourceFor(apiVersion, kind), { onError: (e) => this.r.log(`informer ${kind}: ${e instanceof Error ? e.message : String(e)}`) });
    const stats = this.r.stats;
    const timed = (f: () => void): void => {
      const t0 = performance.now();
      try { f(); } finally { stats.informerMs += performance.now() - t0; }
      this.kick();
    };
    // Informers of one kind deliver objects of that kind: the casts narrow KubeObject to it.
    inf.addEventHandler({
      onAdd: (o, i) => timed(() => h.onAdd?.(o as T, i)),
      onUpdate: (a, b) => timed(() => h.onUpdate?.(a as T, b as T)),
      onDelete: (o, f) => timed(() => h.onDelete?.(o as T, f)),
    });
    this.informers.push(inf);
  }

  private wire(): void {
    const s = this.sched;
    const key = (p: Pod): string => `${p.metadata?.namespace ?? ""}/${p.metadata?.name ?? ""}`;
    const unassignedOurs = (p: Pod): boolean => !p.spec?.nodeName && s.responsibleFor(p);
    this.inform<Node & KubeObject>("v1", "Node", { onAdd: (n) => s.addNode(n), onUpdate: (a, b) => s.updateNode(a, b), onDelete: (n) => s.deleteNode(n) });
    this.inform<Pod & KubeObject>("v1", "Pod", {
      onAdd: (p) => {
        if (terminal(p)) return;
        if (unassignedOurs(p)) this.firstSeen.set(key(p), performance.now());
        s.addPod(p);
      },
      onUpdate: (a, b) => {
        if (terminal(a)) { if (!terminal(b)) s.addPod(b); return; }
        if (terminal(b)) { this.firstSeen.delete(key(a)); s.deletePod(a); return; }
        s.updatePod(a, b);
      },
      onDelete: (p) => {
        this.firstSeen.delete(key(p));
        if (!terminal(p)) s.deletePod(p);
      },
    });
    if (this.r.opts.watchExtras === false) return;
    const nsLabels = (o: KubeObject): Labels => (o.metadata?.labels ?? {}) as Labels;
    this.inform("v1", "Namespace", {
      onAdd: (n) => s.setNamespace(n.metadata?.name ?? "", nsLabels(n)),
      onUpdate: (_a, n) => s.setNamespace(n.metadata?.name ?? "", nsLabels(n)),
      onDelete: (n) => s.setNamespace(n.metadata?.name ?? "", undefined),
    });
    this.inform("policy/v1", "PodDisruptionBudget", {
      onAdd: (o) => this.setPdb(o), onUpdate: (_a, o) => this.setPdb(o),
      onDelete: (o) => s.setPdb(o.metadata?.namespace ?? "", o.metadata?.name ?? "", undefined),
    });
    for (const [apiVersion, kind, mapSelector] of [["v1", "Service", true], ["v1", "ReplicationController", true], ["apps/v1", "ReplicaSet", false], ["apps/v1", "StatefulSet", false]] as const) {
      const set = (o: KubeObject, sel: LabelSelector | undefined): void => s.setWorkloadSelector(kind, o.metadata?.namespace ?? "", o.metadata?.name ?? "", sel);
      const upd = (o: KubeObject): void => set(o, workloadSelector(o, mapSelector));
      this.inform(apiVersion, kind, { onAdd: upd, onUpdate: (_a, o) => upd(o), onDelete: (o) => set(o, undefined) });
    }
  }

  private setPdb(o: KubeObject): void {
    const ns = o.metadata?.namespace ?? "", name = o.metadata?.name ?? "";
    const spec = (o["spec"] ?? {}) as { selector?: Parameters<typeof selectorOf>[0] }; // policy/v1 PodDisruptionBudget by the kind's contract
    const status = (o["status"] ?? {}) as { disruptionsAllowed?: number; disruptedPods?: Record<string, unknown> };
    let selector: LabelSelector;
    try { selector = selectorOf(spec.selector); } catch { this.sched.setPdb(ns, name, undefined); return; }
    this.sched.setPdb(ns, name, { namespace: ns, name, selector, disruptionsAllowed: status.disruptionsAllowed ?? 0, disruptedPods: new Set(Object.keys(status.disruptedPods ?? {})) });
  }

  async run(signal: AbortSignal): Promise<void> {
    this.wire();
    setMaxListeners(64, signal); // one abort listener per informer's sync wait, and the client's own
    for (const i of this.informers) i.start();
    try {
      await Promise.all(this.informers.map((i) => i.waitForSync({ timeoutMs: 120_000, signal })));
    } catch (e) {
      if (!signal.aborted) this.r.log(`caches did not sync: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    if (signal.aborted || this.stopped) return;
    this.timer = setInterval(() => {
      this.sched.flush();
      this.r.recorder.tick();
      this.kick();
    }, this.r.opts.flushIntervalMs ?? 1000);
    this.r.log(`scheduling (kernel ${this.sched.kernel.impl}, profiles ${[...this.sched.profiles.keys()].join(", ")})`);
    this.r.synced = true;
    this.kick();
  }

  /** Schedules a loop slice soon (idempotent). */
  kick(): void {
    if (this.pending !== undefined || this.stopped || !this.r.synced) return;
    this.pending = setImmediate(() => { this.pending = undefined; this.slice(); });
  }

  private slice(): void {
    if (this.stopped || this.paused) return;
    const max = this.r.opts.maxInFlightBindings ?? 128;
    const sliceMs = this.r.opts.sliceMs ?? 10;
    const t0 = performance.now();
    const stats = this.r.stats;
    while (this.inFlight < max) {
      const s0 = performance.now();
      const r = this.sched.scheduleOne();
      const s1 = performance.now();
      stats.scheduleMs += s1 - s0;
      if (!r) { this.notifyIdle(); this.armBackoff(); return; }
      this.handle(r);
      if (s1 - t0 >= sliceMs) { this.kick(); return; } // let I/O (informers, bind responses) in
    }
  }

  /**
   * The loop is idle: wake when the earliest backoff in backoffQ ends (re-armed if an earlier one
   * appears), move the finished backoffs to activeQ and schedule. One timer at most.
   */
  private armBackoff(): void {
    if (this.r.opts.backoffTimer === false || this.stopped || this.paused) return;
    const at = this.sched.queue.nextBackoffExpiry();
    if (at === undefined || (this.backoffTimer !== undefined && this.backoffAt <= at)) return;
    if (this.backoffTimer !== undefined) clearTimeout(this.backoffTimer);
    this.backoffAt = at;
    this.backoffTimer = setTimeout(() => {
      this.backoffTimer = undefined;
      this.backoffAt = Infinity;
      if (this.stopped) return;
      if (this.sched.queue.flushBackoffCompleted() > 0) this.kick(); else this.armBackoff();
    }, Math.max(0, at - systemClock.now()) + 1);
    this.backoffTimer.unref?.();
  }

  private handle(r: ScheduleResult): void {
    const stats = this.r.stats;
    if (r.kind === "unschedulable") { stats.unschedulable++; return; }
    if (r.kind === "error") { stats.errors++; return; }
    if (r.kind !== "scheduled") return;
    stats.scheduled++;
    this.inFlight++;
    this.r.metrics.setInFlight(this.inFlight);
    const key = r.pod.key;
    this.sched.bindingCycle(r).then((bound) => {
      if (bound) stats.bound++; else stats.bindFailed++;
      const t = this.firstSeen.get(key);
      if (bound) this.firstSeen.delete(key);
      this.r.metrics.bindingDone(bound, bound && t !== undefined ? (performance.now() - t) / 1000 : undefined);
    }, (e: unknown) => {
      stats.bindFailed++;
      this.r.log(`binding cycle of ${key}: ${e instanceof Error ? e.message : String(e)}`);
    }).finally(() => {
      this.inFlight--;
      this.r.metrics.setInFlight(this.inFlight);
      this.kick();
      this.notifyIdle();
    });
  }

  private notifyIdle(): void {
    if (this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  /** Resolves when no binding cycle is in flight. */
  bindingsIdle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  get bindingsInFlight(): number {
    return this.inFlight;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.pending !== undefined) clearImmediate(this.pending);
    if (this.timer !== undefined) clearInterval(this.timer);
    if (this.backoffTimer !== undefined) clearTimeout(this.backoffTimer);
    await Promise.all(this.informers.map((i) => i.stop()));
    await Promise.race([this.bindingsIdle(), new Promise((r) => setTimeout(r, 5000).unref())]);
  }
}

function terminal(p: Pod): boolean {
  const ph = p.status?.phase;
  return ph === "Succeeded" || ph === "Failed";
}

function workloadSelector(o: KubeObject, mapSelector: boolean): LabelSelector | undefined {
  const spec = (o["spec"] ?? {}) as { selector?: unknown }; // Service/RC: map; RS/StatefulSet: LabelSelector
  const sel = spec.selector;
  if (sel === undefined || sel === null) return undefined;
  try {
    if (mapSelector) return typeof sel === "object" && Object.keys(sel).length > 0 ? selectorFromSet(sel as Labels) : undefined;
    return selectorOf(sel as Parameters<typeof selectorOf>[0]);
  } catch {
    return undefined; // an invalid selector selects nothing for spreading
  }
}

export class SchedulerRunner {
  readonly metrics = new SchedulerMetrics();
  readonly stats: RunnerStats = { scheduled: 0, unschedulable: 0, errors: 0, bound: 0, bindFailed: 0, scheduleMs: 0, informerMs: 0 };
  readonly podApi: PodApi;
  readonly recorder: SchedulerEventRecorder;
  readonly statusWriter: ApiStatusWriter;
  readonly elector: LeaderElector | undefined;
  readonly config: SchedulerConfig;
  readonly identity: string;
  /** True once the current term's caches synced. */
  synced = false;
  private term: Term | undefined;
  private termDone: Promise<void> | undefined;
  private stopped = false;
  private paused = false;
  private running: Promise<void> | undefined;
  readonly log: (m: string) => void;

  /** Prefer `createSchedulerRunner`, which validates the configuration and the kernel up front. */
  constructor(readonly opts: SchedulerRunnerOptions, private readonly firstKernel: Kernel | undefined) {
    this.config = opts.config ?? defaultSchedulerConfig();
    this.log = opts.log ?? ((m) => process.stderr.write(`tug scheduler: ${m}\n`));
    this.podApi = opts.podApi ?? clientPodApi(opts.client);
    this.identity = `${hostname()}_${randomUUID()}`;
    this.recorder = new SchedulerEventRecorder(opts.eventSink ?? clientEventSink(opts.client), { instance: this.identity, ...opts.events });
    this.statusWriter = new ApiStatusWriter(this.podApi);
    if (opts.leaderElect !== false) {
      const cfg: LeaderElectionConfig = { ...DEFAULT_SCHEDULER_LEASE, identity: this.identity, ...opts.leaderElection };
      this.elector = new LeaderElector(clientWriter(opts.client), cfg, {
        onStartedLeading: (signal) => this.lead(signal),
        onStoppedLeading: () => this.standDown(),
      }, { log: this.log });
    }
  }

  /** The current term's core (undefined when not leading). */
  get scheduler(): Scheduler | undefined {
    return this.term?.sched;
  }

  /** True while this runner leads and its caches synced. */
  isActive(): boolean {
    return this.term !== undefined && this.synced;
  }

  get bindingsInFlight(): number {
    return this.term?.bindingsInFlight ?? 0;
  }

  start(): void {
    if (this.elector) this.elector.start();
    else this.running ??= this.lead(new AbortController().signal);
  }

  private firstTerm = true;
  private async lead(signal: AbortSignal): Promise<void> {
    if (this.stopped) return;
    let kernel = this.firstTerm ? this.firstKernel : undefined;
    this.firstTerm = false;
    kernel ??= await loadKernel(this.opts.kernel ?? "auto", this.log);
    if (signal.aborted || this.stopped) return;
    const term = new Term(this, kernel, this.config);
    term.paused = this.paused;
    this.term = term;
    this.termDone = term.run(signal);
    await this.termDone;
  }

  private async standDown(): Promise<void> {
    const t = this.term;
    this.term = undefined;
    this.synced = false;
    await t?.stop();
  }

  /** Pauses / resumes the scheduling loop (informers keep running). For benchmarks and tests. */
  pause(): void {
    this.paused = true;
    if (this.term) this.term.paused = true;
  }
  resume(): void {
    this.paused = false;
    if (this.term) { this.term.paused = false; this.term.kick(); }
  }

  /** Resolves once no binding cycle is in flight and queued events/status writes are written. */
  async drain(): Promise<void> {
    await this.term?.bindingsIdle();
    await this.recorder.flush();
    await this.statusWriter.idle();
  }

  /** Prometheus text exposition of the scheduler's metrics. */
  metricsText(): string {
    return this.metrics.render();
  }

  /** Stops scheduling, the informers and the elector (releasing the lease). Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.elector) await this.elector.stop();
    else await this.running?.catch(() => undefined);
    await this.standDown();
    await Promise.race([this.recorder.flush(), new Promise((r) => setTimeout(r, 3000).unref())]);
    this.recorder.close();
  }
}

/**
 * Creates a runner after validating what can fail at start-up: the configuration (the core's
 * constructor throws `SchedulerConfigError` naming the field) and the kernel (a forced WASM
 * variant that cannot load rejects; `auto` falls back with a logged notice). Does not start it.
 */
export async function createSchedulerRunner(opts: SchedulerRunnerOptions): Promise<SchedulerRunner> {
  const log = opts.log ?? ((m: string) => process.stderr.write(`tug scheduler: ${m}\n`));
  const kernel = await loadKernel(opts.kernel ?? "auto", log);
  // Validate the profiles (plugin args, names) with a throwaway core on a throwaway kernel.
  new Scheduler({ kernel: (await import("../kernel/mod.ts")).createTwinKernel(), binder: { bind: () => Promise.resolve() }, ...(opts.config ? { config: opts.config } : {}) });
  return new SchedulerRunner({ ...opts, log }, kernel);
}

/** Creates and starts a runner. */
export async function startScheduler(opts: SchedulerRunnerOptions): Promise<SchedulerRunner> {
  const r = await createSchedulerRunner(opts);
  r.start();
  return r;
}
