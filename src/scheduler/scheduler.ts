/**
 * The scheduler's pure core. The runner feeds informer events in (`addNode`, `updatePod`, …),
 * calls `flush()` about once a second, and loops:
 *
 *   const r = sched.scheduleOne();        // synchronous: pop, snapshot, filter+score, assume
 *   if (r?.kind === "scheduled") void sched.bindingCycle(r);   // async: permit, bind, events
 *
 * Binding, events, status writes and evictions leave through the ports in ports.ts. Every node is
 * filtered and scored: the numeric plugins in one kernel call per pod, the others in TypeScript
 * passes with per-pod precomputation, then scores from plugins outside the kernel are added over
 * the feasible nodes and the best node is picked with the kernel's tie-breaking.
 */
import type { Node, Pod } from "../api/generated/core_v1.ts";
import type { LabelSelector, Labels } from "../api/selectors/labels.ts";
import { SchedulerCache } from "./cache/cache.ts";
import type { NodeInfo } from "./cache/node_info.ts";
import { Snapshot } from "./cache/snapshot.ts";
import { type Clock, systemClock } from "./clock.ts";
import { defaultSchedulerConfig, type SchedulerConfig } from "./framework/config.ts";
import { ActionType, type ClusterEvent, Events, nodeUpdateActions, podUpdateActions } from "./framework/events.ts";
import { Framework } from "./framework/framework.ts";
import type { FilterSink, KernelPodInput, PdbInfo, QueuedPodInfo } from "./framework/interface.ts";
import type { Registry } from "./framework/registry.ts";
import { CycleState, Status } from "./framework/status.ts";
import { createScoreOutput, type Kernel, type ScoreOutput, type ScoringProfile } from "./kernel/mod.ts";
import { DEFAULT_MULTIPOINT, inTreeRegistry } from "./plugins/registry.ts";
import { NAME as PREEMPTION } from "./plugins/defaultpreemption/defaultpreemption.ts";
import { type Binder, type EventRecorder, type Metrics, noMetrics, type PodPreemptor, type PodStatusWriter } from "./ports.ts";
import { filterHistogram, fitErrorMessage, NodeStatuses, pluginOfBits } from "./_diagnosis.ts";
import { selectBest } from "./_select.ts";
import { Reason } from "./kernel/types.ts";
import { NominatedOverlay } from "./_nominated.ts";
import { SchedulingQueue } from "./queue/scheduling_queue.ts";
import type { PodInfo } from "./types.ts";
import { podKey } from "./types.ts";

export interface SchedulerOptions {
  /** The kernel (WASM via `createKernel`, or the TypeScript twin via `createTwinKernel`). Its extended resources are the scheduler's. */
  readonly kernel: Kernel;
  readonly binder: Binder;
  readonly config?: SchedulerConfig;
  readonly clock?: Clock;
  readonly recorder?: EventRecorder;
  readonly statusWriter?: PodStatusWriter;
  readonly preemptor?: PodPreemptor;
  readonly metrics?: Metrics;
  readonly registry?: Registry;
  /** Assumed-pod expiry after binding finished without informer confirmation (ms; 0 = never). */
  readonly assumedPodTtlMs?: number;
  /** Base seed of the per-pod tie-breaking seeds (deterministic runs). */
  readonly seed?: number;
  /**
   * How nominated pods reach the kernel's node state: `incremental` (default) keeps them applied
   * between cycles (`_nominated.ts`); `per-cycle` adds every qualifying nominated pod before each
   * kernel call and removes it after — the reference the agreement tests compare against.
   */
  readonly nominatedOverlay?: "incremental" | "per-cycle";
}

export type ScheduleResult =
  | { readonly kind: "scheduled"; readonly pod: PodInfo; readonly node: string; readonly feasible: number; readonly evaluated: number;
      readonly state: CycleState; readonly framework: Framework; readonly queued: QueuedPodInfo; readonly cycle: number }
  | { readonly kind: "unschedulable"; readonly pod: PodInfo; readonly message: string; readonly nominatedNodeName: string | undefined;
      readonly victims: readonly PodInfo[] }
  | { readonly kind: "error"; readonly pod: PodInfo; readonly message: string }
  | { readonly kind: "skipped"; readonly pod: PodInfo; readonly reason: string };

interface WaitingPod { resolve: (st: Status | undefined) => void; deadline: number; pending: Set<string> }

export class Scheduler {
  readonly cache: SchedulerCache;
  readonly snapshot: Snapshot;
  readonly queue: SchedulingQueue;
  readonly profiles = new Map<string, Framework>();
  readonly kernel: Kernel;
  private readonly clock: Clock;
  private readonly metrics: Metrics;
  private readonly pdbMap = new Map<string, PdbInfo>();
  /** pdbMap's values, rebuilt after a change (a stable identity while nothing changes). */
  private pdbList: readonly PdbInfo[] | undefined;
  private readonly workloads = new Map<string, { namespace: string; selector: LabelSelector }>();
  private readonly waiting = new Map<string, WaitingPod>();
  /** Victims whose eviction this scheduler issued and whose deletion it has not seen: key → when. */
  private readonly evicting = new Map<string, number>();
  /** Preemptors whose evictions are running: preemptor key → victim keys not yet finished. */
  private readonly preempting = new Map<string, Set<string>>();
  /** Victim key → the preemptors waiting for it. */
  private readonly victimOf = new Map<string, string[]>();
  private out: ScoreOutput;
  private extStatus: (Status | undefined)[] = [];
  private reject = new Uint32Array(0);
  private readonly touched: number[] = [];
  /** Bulk rejections of this cycle, in order (statuses of their nodes are resolved on failure only). */
  private readonly masks: { readonly mask: Uint32Array; readonly st: Status }[] = [];
  private lastProfile: ScoringProfile | undefined;
  private seed: number;
  /** Undefined in the `per-cycle` reference mode. */
  private readonly overlay: NominatedOverlay | undefined;

  /** Throws SchedulerConfigError for an invalid configuration. */
  constructor(private readonly o: SchedulerOptions) {
    this.kernel = o.kernel;
    this.clock = o.clock ?? systemClock;
    this.metrics = o.metrics ?? noMetrics;
    this.seed = o.seed ?? 1;
    this.cache = new SchedulerCache({ clock: this.clock, extendedResources: o.kernel.extendedResources, ...(o.assumedPodTtlMs !== undefined ? { assumedPodTtlMs: o.assumedPodTtlMs } : {}) });
    this.snapshot = new Snapshot(o.kernel, this.cache.namespaceLabels);
    this.out = createScoreOutput(0);
    const config = o.config ?? defaultSchedulerConfig();
    for (const pc of config.profiles) {
      this.profiles.set(pc.schedulerName, new Framework(pc, config.percentageOfNodesToScore, {
        registry: o.registry ?? inTreeRegistry,
        defaultMultiPoint: DEFAULT_MULTIPOINT,
        extendedResources: o.kernel.extendedResources,
        binder: o.binder,
        handle: {
          nominatedPodsForNode: (n) => this.queue.nominatedPodsForNode(n),
          nominations: () => this.queue.nominations(),
          nominationChanges: (since) => this.queue.nominationChanges(since),
          nominatedNode: (k) => this.queue.nominatedNode(k),
          preemptionInFlight: (k) => this.evicting.has(k),
          preemptionRunning: (k) => this.preempting.has(k),
          namespaceLabels: (ns) => this.cache.namespaceLabels(ns),
          workloadSelectorsFor: (p) => this.workloadSelectorsFor(p),
          pdbs: () => (this.pdbList ??= [...this.pdbMap.values()]),
        },
      }));
    }
    const first = [...this.profiles.values()][0];
    if (!first?.queueSort) throw new Error("scheduler: no profile");
    const qs = first.queueSort;
    this.queue = new SchedulingQueue({
      clock: this.clock,
      less: (a, b) => qs.less(a, b),
      preEnqueue: (p) => this.runPreEnqueue(p),
      eventsOf: (plugin) => this.eventsOf(plugin),
      initialBackoffMs: config.podInitialBackoffSeconds * 1000,
      maxBackoffMs: config.podMaxBackoffSeconds * 1000,
      onNominationChange: (key) => this.overlay?.podChanged(key),
    });
    if (o.nominatedOverlay !== "per-cycle") {
      const overlay = new NominatedOverlay(this.kernel, (key) => this.queue.nomination(key));
      this.overlay = overlay;
      this.snapshot.onKernelReset = (name) => overlay.nodeReset(name);
    } else this.overlay = undefined;
  }

  // ---- informer events ----

  /** True when one of this scheduler's profiles owns the pod (spec.schedulerName). */
  responsibleFor(pod: Pod): boolean {
    return this.profiles.has(pod.spec?.schedulerName ?? "default-scheduler");
  }

  addNode(node: Node): void {
    this.cache.addNode(node);
    this.event(Events.NodeAdd, undefined, node);
  }
  updateNode(oldNode: Node, node: Node): void {
    this.cache.updateNode(oldNode, node);
    const a = nodeUpdateActions(oldNode, node);
    if (a !== 0) this.event({ resource: "Node", actionType: a, label: "NodeUpdate" }, oldNode, node);
  }
  deleteNode(node: Node): void {
    this.cache.removeNode(node);
    this.event({ resource: "Node", actionType: ActionType.Delete, label: "NodeDelete" }, node, undefined);
  }

  addPod(pod: Pod): void {
    if (pod.spec?.nodeName) {
      this.cache.addPod(pod);
      this.queue.deleteNominated(podKey(pod));
      this.event(Events.AssignedPodAdd, undefined, pod);
    } else if (this.responsibleFor(pod) && !pod.metadata?.deletionTimestamp) {
      this.queue.add(this.cache.podInfo(pod));
    }
  }
  updatePod(oldPod: Pod, pod: Pod): void {
    const key = podKey(pod);
    if (pod.spec?.nodeName) {
      if (!oldPod.spec?.nodeName) { this.queue.delete(key); this.addPod(pod); return; }
      // One parse per update: the old version's parse is the one the cache holds.
      const known = this.cache.knownPodInfo(key);
      const oldInfo = known && known.pod === oldPod ? known : this.cache.podInfo(oldPod);
      const info = this.cache.podInfo(pod);
      this.cache.addPodInfo(info);
      if (info.terminating) this.victimDone(key); // upstream: deletion started = that victim's preemption is done
      this.event({ resource: "AssignedPod", actionType: podUpdateActions(oldPod, pod, oldInfo, info), label: "AssignedPodUpdate" }, oldPod, pod);
    } else if (this.responsibleFor(pod) && !this.cache.isAssumed(key)) {
      // Status-only changes (our own PodScheduled condition, nominatedNodeName) must not pull the
      // pod out of the unschedulable pool, or every failure would retry at backoff pace.
      this.queue.update(this.cache.podInfo(pod), specOrLabelsChanged(oldPod, pod));
    }
  }
  deletePod(pod: Pod): void {
    const key = podKey(pod);
    const w = this.waiting.get(key);
    if (w) w.resolve(Status.unschedulable("pod deleted while waiting on permit"));
    this.evicting.delete(key);
    this.preemptorGone(key);
    if (pod.spec?.nodeName || this.cache.podNode(key) !== undefined) {
      this.cache.removePod(pod);
      // Before the event: a preemptor whose last victim this was leaves its gate with the room free.
      this.victimDone(key);
      this.event(Events.AssignedPodDelete, pod, undefined);
    } else this.queue.delete(key);
    this.queue.deleteNominated(key);
  }

  setNamespace(name: string, labels: Labels | undefined): void { this.cache.setNamespace(name, labels); }
  /** A PodDisruptionBudget (undefined removes it). */
  setPdb(namespace: string, name: string, pdb: PdbInfo | undefined): void {
    const k = `${namespace}/${name}`;
    if (pdb) this.pdbMap.set(k, pdb); else this.pdbMap.delete(k);
    this.pdbList = undefined;
  }
  /**
   * A Service / ReplicaSet / StatefulSet / ReplicationController selector used by default
   * topology spreading (undefined removes it). `kind/namespace/name` identifies it.
   */
  setWorkloadSelector(kind: string, namespace: string, name: string, selector: LabelSelector | undefined): void {
    const k = `${kind}/${namespace}/${name}`;
    if (selector && !selector.empty && !selector.nothing) this.workloads.set(k, { namespace, selector }); else this.workloads.delete(k);
  }

  /** Periodic work: backoff/unschedulable flushes, assumed-pod expiry, permit timeouts. */
  flush(): void {
    this.queue.flush();
    // Expired assumptions free room like a deleted pod would.
    if (this.cache.cleanupExpiredAssumedPods().length > 0) this.event(Events.AssignedPodDelete, undefined, undefined);
    const now = this.clock.now();
    // An eviction whose delete never showed up (e.g. a finalizer holds the pod) stops counting after a minute.
    for (const [key, at] of this.evicting) if (now - at > EVICTION_TTL_MS) { this.evicting.delete(key); this.victimDone(key); }
    for (const [key, w] of this.waiting) {
      if (now >= w.deadline) { this.waiting.delete(key); w.resolve(Status.unschedulable(`rejected due to timeout after waiting at plugin ${[...w.pending].join(",")}`)); }
    }
    const s = this.queue.stats();
    this.metrics.queueDepth("active", s.active);
    this.metrics.queueDepth("backoff", s.backoff);
    this.metrics.queueDepth("unschedulable", s.unschedulable);
    this.metrics.queueDepth("gated", s.gated);
  }

  /** Lets a pod waiting at Permit proceed once every waiting plugin allowed it. */
  allowWaitingPod(key: string, plugin: string): void {
    const w = this.waiting.get(key);
    if (!w) return;
    w.pending.delete(plugin);
    if (w.pending.size === 0) { this.waiting.delete(key); w.resolve(undefined); }
  }
  rejectWaitingPod(key: string, message: string): void {
    const w = this.waiting.get(key);
    if (!w) return;
    this.waiting.delete(key);
    w.resolve(Status.unschedulable(message));
  }

  // ---- the scheduling cycle ----

  /** Schedules the next pod from activeQ (synchronously); undefined when activeQ is empty. */
  scheduleOne(): ScheduleResult | undefined {
    const q = this.queue.pop();
    if (!q) return undefined;
    const start = this.clock.now();
    const pod = q.info;
    const fw = this.profiles.get(pod.pod.spec?.schedulerName ?? "default-scheduler");
    if (!fw) { this.queue.done(pod.key); return { kind: "skipped", pod, reason: "no profile for schedulerName" }; }
    if (this.cache.isAssumed(pod.key)) { this.queue.done(pod.key); return { kind: "skipped", pod, reason: "pod is assumed" }; }
    const cycle = this.queue.schedulingCycle;
    const res = this.schedulePod(fw, q, cycle);
    const secs = (this.clock.now() - start) / 1000;
    this.metrics.scheduleAttempt(res.kind === "scheduled" ? "scheduled" : res.kind === "error" ? "error" : "unschedulable", fw.schedulerName, secs);
    return res;
  }

  private schedulePod(fw: Framework, q: QueuedPodInfo, cycle: number): ScheduleResult {
    const pod = q.info;
    this.cache.updateSnapshot(this.snapshot);
    const snap = this.snapshot;
    const n = snap.size;
    const state = new CycleState();
    if (n === 0) return this.fail(fw, q, cycle, "no nodes available to schedule pods", new Set(), undefined);
    // PreFilter
    for (const p of fw.preFilter) {
      const st = p.preFilter(state, pod, snap);
      if (st && st.code === "Skip") { state.skipFilter.add(p.name); continue; }
      if (st && !st.isSuccess()) {
        st.withPlugin(p.name);
        if (!st.isRejected()) return this.error(fw, q, cycle, st.message);
        const statuses = new NodeStatuses(fw, state, pod, snap, new Int32Array(n).fill(1), [], this.kernel.extendedResources, st);
        return this.unschedulable(fw, q, cycle, state, statuses, st.message, new Set([p.name]));
      }
    }
    // Filters outside the kernel
    // Reset only what the previous cycle touched: no O(nodes) work for pods no external filter rejects.
    for (const i of this.touched) { this.extStatus[i] = undefined; this.reject[i >>> 5] = 0; }
    this.touched.length = 0;
    if (this.masks.length > 0) { this.reject.fill(0); this.masks.length = 0; }
    if (this.extStatus.length < n) this.extStatus = new Array<Status | undefined>(n).fill(undefined);
    const words = (n + 31) >>> 5;
    if (this.reject.length < words) this.reject = new Uint32Array(words);
    let anyReject = false;
    const ext = this.extStatus, reject = this.reject, touched = this.touched, masks = this.masks;
    // A node's first rejection wins: a set bit in `reject` means "already rejected".
    const sink: Required<FilterSink> = {
      reject(i, st) {
        const bit = 1 << (i & 31);
        if (((reject[i >>> 5] ?? 0) & bit) !== 0) return;
        ext[i] = st;
        touched.push(i);
        reject[i >>> 5] = (reject[i >>> 5] ?? 0) | bit;
        anyReject = true;
      },
      rejectMask(mask, st) {
        const w = Math.min(words, mask.length);
        const own = mask.slice(0, w);
        if (w > 0 && (n & 31) !== 0 && w === words) own[w - 1] = (own[w - 1] ?? 0) & ((1 << (n & 31)) - 1);
        for (let k = 0; k < w; k++) reject[k] = (reject[k] ?? 0) | (own[k] ?? 0);
        masks.push({ mask: own, st });
        anyReject = true;
      },
    };
    for (const p of fw.externalFilter) {
      if (state.skipFilter.has(p.name)) continue;
      if (p.filterAll) {
        p.filterAll(state, pod, snap, { reject: (i, st) => sink.reject(i, st.withPlugin(p.name)), rejectMask: (m, st) => sink.rejectMask(m, st.withPlugin(p.name)) });
        continue;
      }
      for (let i = 0; i < n; i++) {
        const node = snap.nodes[i];
        if (!node || ((reject[i >>> 5] ?? 0) & (1 << (i & 31))) !== 0) continue;
        const st = p.filter(state, pod, node);
        if (st && !st.isSuccess()) sink.reject(i, st.withPlugin(p.name));
      }
    }
    // The kernel call: numeric filters + scores for every node
    const input: KernelPodInput = {
      requests: pod.requests, toleratesUnschedulable: true, toleratedTaints: [], toleratedPreferTaints: [],
      numContainers: pod.numContainers, seed: (this.seed + Math.imul(cycle, 0x9e3779b9)) | 0,
    };
    for (const { plugin, filterEnabled } of fw.kernel) {
      const st = plugin.fillKernelInput(state, pod, snap, input, filterEnabled);
      if (st && !st.isSuccess()) return this.error(fw, q, cycle, st.message);
    }
    if (anyReject) input.externalReject = reject;
    if (this.lastProfile !== fw.kernelProfile) { this.kernel.setProfile(fw.kernelProfile); this.lastProfile = fw.kernelProfile; }
    if (this.out.status.length < n) this.out = createScoreOutput(Math.max(n, this.out.status.length * 2));
    if (this.overlay) {
      this.overlay.sync(snap.index);
      const excluded = this.overlay.exclude(pod, snap.index);
      try { this.kernel.filterAndScoreInto(input, this.out); } finally { if (excluded.length) this.overlay.restore(excluded); }
    } else {
      const nominated = this.applyNominated(pod, 1);
      try { this.kernel.filterAndScoreInto(input, this.out); } finally { if (nominated.length) this.applyNominated(pod, -1, nominated); }
    }
    const out = this.out;
    if (out.feasible === 0) {
      this.resolveMaskStatuses(n);
      const statuses = new NodeStatuses(fw, state, pod, snap, out.status, ext, this.kernel.extendedResources, undefined);
      const plugins = new Set<string>();
      let last = 0;
      for (let i = 0; i < n; i++) {
        const bits = out.status[i] ?? 0;
        if (bits === 0 || (bits === last && bits !== Reason.External)) continue; // (runs of equal bits name one plugin)
        last = bits;
        const pl = bits === Reason.External ? ext[i]?.plugin ?? "" : pluginOfBits(bits);
        if (pl) plugins.add(pl);
      }
      return this.unschedulable(fw, q, cycle, state, statuses, "", plugins);
    }
    // Nominated node first (a pod that preempted goes where it made room).
    let best = -1;
    const nom = this.queue.nominatedNode(pod.key) ?? pod.pod.status?.nominatedNodeName;
    if (nom) { const i = snap.index.get(nom); if (i !== undefined && out.status[i] === 0) best = i; }
    if (best < 0) best = this.scoreOutsideKernel(fw, state, pod, input.seed) ?? out.best;
    const node = snap.nodes[best];
    if (!node) return this.error(fw, q, cycle, "internal error: no node at selected index");
    return this.assumeAndReserve(fw, q, cycle, state, node.name, out.feasible, n);
  }

  /**
   * Gives every node rejected only by a bulk mask its status (the first mask holding it, in order),
   * so diagnosis and preemption see per-node statuses as if each node had been rejected alone.
   */
  private resolveMaskStatuses(n: number): void {
    const ext = this.extStatus;
    for (const { mask, st } of this.masks) {
      for (let k = 0; k < mask.length; k++) {
        let bits = mask[k] ?? 0;
        while (bits !== 0) {
          const b = 31 - Math.clz32(bits & -bits);
          bits &= bits - 1;
          const i = (k << 5) + b;
          if (i < n && ext[i] === undefined) { ext[i] = st; this.touched.push(i); }
        }
      }
    }
  }

  /** Reference mode: adds (+1) or removes (−1) nominated pods of ≥ priority to kernel node state; returns what was applied. */
  private applyNominated(pod: PodInfo, sign: 1 | -1, applied?: [number, PodInfo][]): [number, PodInfo][] {
    if (sign < 0) { for (const [i, p] of applied ?? []) this.kernel.removePodFromNode(i, p.requests); return []; }
    const out: [number, PodInfo][] = [];
    for (const name of this.queue.nominatedNodes()) {
      const i = this.snapshot.index.get(name);
      if (i === undefined) continue;
      for (const p of this.queue.nominatedPodsForNode(name)) {
        if (p.key === pod.key || p.priority < pod.priority) continue;
        this.kernel.addPodToNode(i, p.requests);
        out.push([i, p]);
      }
    }
    return out;
  }

  /** PreScore/Score/NormalizeScore of plugins outside the kernel over the feasible nodes; undefined when none applies. */
  private scoreOutsideKernel(fw: Framework, state: CycleState, pod: PodInfo, seed: number): number | undefined {
    if (fw.score.length === 0 || this.out.feasible <= 1) return undefined;
    const snap = this.snapshot, out = this.out, n = snap.size;
    let feasible: NodeInfo[] | undefined;
    let idx: number[] = [];
    const list = (): NodeInfo[] => {
      if (feasible) return feasible;
      feasible = [];
      idx = [];
      for (let i = 0; i < n; i++) if (out.status[i] === 0) { const nd = snap.nodes[i]; if (nd) { feasible.push(nd); idx.push(i); } }
      return feasible;
    };
    for (const p of fw.preScore) {
      const st = p.preScore(state, pod, snap, list);
      if (st?.code === "Skip") state.skipScore.add(p.name);
    }
    let used = false;
    for (const { plugin, weight } of fw.score) {
      if (state.skipScore.has(plugin.name) || weight === 0) continue;
      const nodes = list();
      used = true;
      const raw = new Float64Array(nodes.length);
      for (let j = 0; j < nodes.length; j++) { const nd = nodes[j]; raw[j] = nd ? plugin.score(state, pod, nd) : 0; }
      plugin.normalizeScore?.(state, pod, raw, nodes);
      for (let j = 0; j < nodes.length; j++) {
        const i = idx[j] ?? 0;
        out.scores[i] = ((out.scores[i] ?? 0) + weight * (raw[j] ?? 0)) | 0;
      }
    }
    if (!used) return undefined;
    return selectBest(out.status, out.scores, n, seed);
  }

  private assumeAndReserve(fw: Framework, q: QueuedPodInfo, cycle: number, state: CycleState, nodeName: string, feasible: number, evaluated: number): ScheduleResult {
    const pod = q.info;
    try { this.cache.assumePod(pod, nodeName); } catch (e) { return this.error(fw, q, cycle, e instanceof Error ? e.message : String(e)); }
    for (let k = 0; k < fw.reserve.length; k++) {
      const p = fw.reserve[k];
      if (!p) continue;
      const st = p.reserve(state, pod, nodeName);
      if (st && !st.isSuccess()) {
        for (let j = k; j >= 0; j--) fw.reserve[j]?.unreserve(state, pod, nodeName);
        this.cache.forgetPod(pod.key);
        return st.isRejected() ? this.fail(fw, q, cycle, st.message, new Set([p.name]), undefined) : this.error(fw, q, cycle, st.message);
      }
    }
    const waitFor = new Set<string>();
    let timeout = Infinity;
    for (const p of fw.permit) {
      const r = p.permit(state, pod, nodeName);
      if (!r.status || r.status.isSuccess()) continue;
      if (r.status.code === "Wait") { waitFor.add(p.name); timeout = Math.min(timeout, r.timeoutMs ?? 0); continue; }
      for (let j = fw.reserve.length - 1; j >= 0; j--) fw.reserve[j]?.unreserve(state, pod, nodeName);
      this.cache.forgetPod(pod.key);
      return this.fail(fw, q, cycle, r.status.message, new Set([p.name]), undefined);
    }
    if (waitFor.size > 0) {
      let resolve: (st: Status | undefined) => void = () => {};
      const done = new Promise<Status | undefined>((r) => { resolve = r; });
      this.waiting.set(pod.key, { resolve, deadline: this.clock.now() + timeout, pending: waitFor });
      state.write(permitKey, done);
    }
    this.queue.deleteNominated(pod.key);
    this.queue.done(pod.key);
    return { kind: "scheduled", pod, node: nodeName, feasible, evaluated, state, framework: fw, queued: q, cycle };
  }

  /**
   * The binding cycle for a scheduled pod: wait at Permit, PreBind, Bind (the first non-Skip bind
   * plugin; DefaultBinder uses the Binder port), PostBind. Resolves true when bound; on failure the
   * assumption is rolled back (Unreserve + forget) and the pod requeued with backoff.
   */
  async bindingCycle(r: Extract<ScheduleResult, { kind: "scheduled" }>): Promise<boolean> {
    const { pod, node, state, framework: fw } = r;
    const start = this.clock.now();
    let st: Status | undefined;
    try {
      const wait = state.read(permitKey);
      if (wait) st = await wait;
      for (const p of st ? [] : fw.preBind) { st = await p.preBind(state, pod, node); if (st && !st.isSuccess()) break; st = undefined; }
      if (!st) {
        let bound = false;
        for (const p of fw.bind) {
          const b = await p.bind(state, pod, node);
          if (b?.code === "Skip") continue;
          if (b && !b.isSuccess()) st = b;
          bound = true;
          break;
        }
        if (!bound && !st) st = Status.error("no bind plugin bound the pod");
      }
    } catch (e) {
      st = Status.error(e instanceof Error ? e.message : String(e));
    }
    this.metrics.phase("bind", fw.schedulerName, (this.clock.now() - start) / 1000);
    if (!st) {
      this.cache.finishBinding(pod.key);
      for (const p of fw.postBind) p.postBind(state, pod, node);
      this.o.recorder?.event(pod.pod, "Normal", "Scheduled", "Binding", `Successfully assigned ${pod.key} to ${node}`);
      return true;
    }
    for (let j = fw.reserve.length - 1; j >= 0; j--) fw.reserve[j]?.unreserve(state, pod, node);
    if (this.cache.isAssumed(pod.key)) this.cache.forgetPod(pod.key);
    this.event(Events.AssignedPodDelete, undefined, undefined);
    const msg = st.code === "Error" ? `Binding rejected: ${st.message}` : st.message;
    this.o.recorder?.event(pod.pod, "Warning", "FailedScheduling", "Scheduling", msg);
    this.o.statusWriter?.markUnschedulable(pod.pod, st.code === "Error" ? "SchedulerError" : "Unschedulable", msg, undefined);
    r.queued.unschedulablePlugins = new Set();
    this.queue.addUnschedulable(r.queued, r.cycle);
    return false;
  }

  // ---- failure paths ----

  private unschedulable(fw: Framework, q: QueuedPodInfo, cycle: number, state: CycleState, statuses: NodeStatuses, preFilterMsg: string, plugins: Set<string>): ScheduleResult {
    const pod = q.info;
    const histogram = preFilterMsg === "" ? filterHistogram(statuses) : "";
    let postMsg = "";
    let nominatedNodeName: string | undefined;
    let victims: readonly PodInfo[] = [];
    for (const p of fw.postFilter) {
      const { result, status } = p.postFilter(state, pod, this.snapshot, statuses);
      if (result) { nominatedNodeName = result.nominatedNodeName; victims = result.victims; }
      if (status.isSuccess()) { postMsg = ""; break; }
      postMsg = postMsg ? `${postMsg}, ${status.message}` : status.message;
      if (status.code === "UnschedulableAndUnresolvable") break;
    }
    const message = fitErrorMessage(this.snapshot.size, preFilterMsg, histogram, postMsg);
    if (nominatedNodeName) {
      this.queue.addNominated(pod, nominatedNodeName);
      for (const other of this.queue.nominatedPodsForNode(nominatedNodeName)) {
        if (other.priority < pod.priority) { this.queue.deleteNominated(other.key); this.o.statusWriter?.markUnschedulable(other.pod, "Unschedulable", "", ""); }
      }
      this.evict(pod, nominatedNodeName, victims);
      this.metrics.preemption(victims.length);
    } else if (nominatedNodeName === "") this.queue.deleteNominated(pod.key);
    return this.fail(fw, q, cycle, message, plugins, nominatedNodeName, victims);
  }

  private fail(_fw: Framework, q: QueuedPodInfo, cycle: number, message: string, plugins: Set<string>, nominated: string | undefined, victims: readonly PodInfo[] = []): ScheduleResult {
    q.unschedulablePlugins = plugins;
    this.queue.addUnschedulable(q, cycle);
    this.o.recorder?.event(q.info.pod, "Warning", "FailedScheduling", "Scheduling", message);
    this.o.statusWriter?.markUnschedulable(q.info.pod, "Unschedulable", message, nominated);
    return { kind: "unschedulable", pod: q.info, message, nominatedNodeName: nominated, victims };
  }

  private error(_fw: Framework, q: QueuedPodInfo, cycle: number, message: string): ScheduleResult {
    q.unschedulablePlugins = new Set();
    this.queue.addUnschedulable(q, cycle);
    this.o.recorder?.event(q.info.pod, "Warning", "FailedScheduling", "Scheduling", message);
    this.o.statusWriter?.markUnschedulable(q.info.pod, "SchedulerError", message, undefined);
    return { kind: "error", pod: q.info, message };
  }

  // ---- preemption bookkeeping ----

  /**
   * Issues the victims' evictions without waiting (upstream's async preemption) and tracks them:
   * until each victim failed, was seen deleted or terminating, the preemptor stays gated by
   * DefaultPreemption's PreEnqueue (`preemptionRunning`), so other pods' events do not requeue it
   * into attempts that can only fail. Victims already terminating get no API call (as upstream).
   */
  private evict(pod: PodInfo, node: string, victims: readonly PodInfo[]): void {
    const preemptor = this.o.preemptor;
    const now = this.clock.now();
    let running: Set<string> | undefined;
    for (const v of victims) {
      if (v.terminating) continue;
      this.o.recorder?.event(v.pod, "Normal", "Preempted", "Preempting", `Preempted by pod ${pod.uid} on node ${node}`, pod.pod);
      if (!preemptor) continue;
      this.evicting.set(v.key, now);
      (running ??= new Set()).add(v.key);
      const waiting = this.victimOf.get(v.key);
      if (waiting) { if (!waiting.includes(pod.key)) waiting.push(pod.key); } else this.victimOf.set(v.key, [pod.key]);
      preemptor.preempt(v.pod, pod.pod, node).then(
        // Gone already (404 before our delete): no delete event may follow.
        () => { if (this.cache.podNode(v.key) === undefined) this.victimDone(v.key); },
        () => { this.evicting.delete(v.key); this.victimDone(v.key); },
      );
    }
    if (running) this.preempting.set(pod.key, running);
    else this.preempting.delete(pod.key);
  }

  /** A victim's eviction finished (deleted, terminating, failed or expired): preemptors waiting only for it leave their gate. */
  private victimDone(victimKey: string): void {
    const waiting = this.victimOf.get(victimKey);
    if (!waiting) return;
    this.victimOf.delete(victimKey);
    for (const pk of waiting) {
      const set = this.preempting.get(pk);
      if (!set || !set.delete(victimKey) || set.size > 0) continue;
      this.preempting.delete(pk);
      this.queue.regate(pk, PREEMPTION);
    }
  }

  /** A deleted pod stops waiting for its victims. */
  private preemptorGone(key: string): void {
    const set = this.preempting.get(key);
    if (!set) return;
    this.preempting.delete(key);
    for (const v of set) {
      const w = this.victimOf.get(v)?.filter((k) => k !== key);
      if (w && w.length > 0) this.victimOf.set(v, w); else this.victimOf.delete(v);
    }
  }

  // ---- helpers ----

  private event(e: ClusterEvent, oldObj: unknown, newObj: unknown): void {
    this.queue.onEvent(e, oldObj, newObj);
  }
  private runPreEnqueue(p: PodInfo): Status | undefined {
    const fw = this.profiles.get(p.pod.spec?.schedulerName ?? "default-scheduler");
    for (const pl of fw?.preEnqueue ?? []) {
      const st = pl.preEnqueue(p);
      if (st && !st.isSuccess()) {
        st.withPlugin(pl.name);
        // A preemptor waiting for its evictions is not "gated" in the API's sense: no status write.
        if (pl.name !== PREEMPTION) this.o.statusWriter?.markUnschedulable(p.pod, "SchedulingGated", "Scheduling is blocked due to non-empty scheduling gates", undefined);
        return st;
      }
    }
    return undefined;
  }
  private eventsOf(plugin: string): ReturnType<Framework["events"]["get"]> {
    for (const fw of this.profiles.values()) { const e = fw.events.get(plugin); if (e) return e; }
    return undefined;
  }
  private workloadSelectorsFor(p: PodInfo): LabelSelector[] {
    const out: LabelSelector[] = [];
    for (const w of this.workloads.values()) if (w.namespace === p.namespace && w.selector.matches(p.labels)) out.push(w.selector);
    return out;
  }
}

import { StateKey } from "./framework/status.ts";
const EVICTION_TTL_MS = 60_000;
const permitKey = new StateKey<Promise<Status | undefined>>("Permit");

/** upstream isPodUpdated: anything beyond status, resourceVersion, generation and managedFields. */
function specOrLabelsChanged(a: Pod, b: Pod): boolean {
  const strip = (p: Pod): string => {
    const { resourceVersion: _rv, generation: _g, managedFields: _mf, ...meta } = p.metadata ?? {};
    return JSON.stringify([meta, p.spec ?? null]);
  };
  return strip(a) !== strip(b);
}
