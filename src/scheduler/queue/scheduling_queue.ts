/**
 * The scheduling queue (kube-scheduler's PriorityQueue): activeQ ordered by the profile's
 * QueueSort (priority, then arrival), backoffQ ordered by backoff expiry (1 s doubling to 10 s per
 * attempt by default), and the unschedulable pool, which cluster events drain through the
 * rejecting plugins' queueing hints and a periodic flush drains after 5 min. Pods whose PreEnqueue
 * fails (scheduling gates) wait in the pool marked gated until an update lets them in.
 *
 * Pure: no timers. The runner calls `flush()` about once a second and `pop()` when it can
 * schedule; time comes from the injected clock.
 */
import type { Clock } from "../clock.ts";
import type { ClusterEvent, ClusterEventWithHint } from "../framework/events.ts";
import type { QueuedPodInfo } from "../framework/interface.ts";
import type { Status } from "../framework/status.ts";
import type { PodInfo } from "../types.ts";
import { KeyedHeap } from "./_heap.ts";

export interface QueueOptions {
  readonly clock: Clock;
  readonly less: (a: QueuedPodInfo, b: QueuedPodInfo) => boolean;
  /** PreEnqueue plugins of the pod's profile; a Status (with plugin set) keeps it gated. */
  readonly preEnqueue: (pod: PodInfo) => Status | undefined;
  /** Registered events of a plugin (for queueing hints). */
  readonly eventsOf: (plugin: string) => readonly ClusterEventWithHint[] | undefined;
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
  readonly maxInUnschedulableMs?: number;
  /** Called after a pod's nomination was added, moved or removed (the scheduler's kernel overlay follows it). */
  readonly onNominationChange?: (key: string) => void;
}

export interface QueueStats { active: number; backoff: number; unschedulable: number; gated: number }

const keyOf = (q: QueuedPodInfo): string => q.info.key;
/** Nomination changes kept for `nominationChanges` readers (halved when full). */
const NOMINATION_LOG = 4096;

export class SchedulingQueue {
  private readonly active: KeyedHeap<QueuedPodInfo>;
  private readonly backoff: KeyedHeap<QueuedPodInfo>;
  private readonly unschedulable = new Map<string, QueuedPodInfo>();
  private readonly inFlight = new Map<string, QueuedPodInfo>();
  private readonly nominatedByNode = new Map<string, PodInfo[]>();
  /** Nodes whose nominated list changed, oldest first; `nomLog[0]` is change number `nomLogStart`. */
  private readonly nomLog: string[] = [];
  private nomLogStart = 0;
  private readonly nominatedNodeOf = new Map<string, string>();
  private seq = 0;
  private cycle = 0;
  private moveRequestCycle = -1;
  private readonly initial: number;
  private readonly max: number;
  private readonly maxUnsched: number;

  constructor(private readonly o: QueueOptions) {
    this.initial = o.initialBackoffMs ?? 1000;
    this.max = o.maxBackoffMs ?? 10_000;
    this.maxUnsched = o.maxInUnschedulableMs ?? 5 * 60_000;
    this.active = new KeyedHeap(keyOf, o.less);
    this.backoff = new KeyedHeap(keyOf, (a, b) => this.backoffExpiry(a) < this.backoffExpiry(b));
  }

  /** The scheduling cycle counter (incremented by every pop). */
  get schedulingCycle(): number { return this.cycle; }

  /** A new unscheduled pod (informer add). */
  add(info: PodInfo): void {
    const now = this.o.clock.now();
    const q: QueuedPodInfo = { info, timestamp: now, seq: this.seq++, attempts: 0, initialAttemptTimestamp: undefined, unschedulablePlugins: new Set(), gatedBy: undefined };
    this.toActiveOrGated(q);
    this.nominateFromStatus(info);
  }

  /**
   * An unscheduled pod changed. Gated pods re-run PreEnqueue; pods in the unschedulable pool move
   * to backoff/active when `specChanged` (status-only updates leave them where they are).
   */
  update(info: PodInfo, specChanged = true): void {
    const nominated = info.pod.status?.nominatedNodeName;
    if (nominated && this.nominatedNodeOf.get(info.key) !== nominated) this.addNominated(info, nominated);
    const k = info.key;
    const inFlight = this.inFlight.get(k);
    if (inFlight) { inFlight.info = info; return; }
    const a = this.active.get(k);
    if (a) { this.active.push({ ...a, info }); return; }
    const b = this.backoff.get(k);
    if (b) { this.backoff.push({ ...b, info }); return; }
    const u = this.unschedulable.get(k);
    if (u && !specChanged) { u.info = info; return; }
    if (u) {
      this.unschedulable.delete(k);
      const q = { ...u, info, unschedulablePlugins: new Set<string>() };
      if (u.gatedBy !== undefined) { q.gatedBy = undefined; this.toActiveOrGated(q); return; }
      if (this.isBackingOff(q)) this.backoff.push(q); else this.toActiveOrGated(q);
      return;
    }
    this.add(info);
  }

  delete(key: string): void {
    this.active.remove(key);
    this.backoff.remove(key);
    this.unschedulable.delete(key);
    this.inFlight.delete(key);
    this.deleteNominated(key);
  }

  /** The next pod to schedule, or undefined when activeQ is empty. */
  pop(): QueuedPodInfo | undefined {
    const q = this.active.pop();
    if (!q) return undefined;
    q.attempts++;
    q.initialAttemptTimestamp ??= this.o.clock.now();
    this.cycle++;
    this.inFlight.set(q.info.key, q);
    return q;
  }

  /** The pod's cycle ended successfully (or it was bound/deleted). */
  done(key: string): void { this.inFlight.delete(key); }

  /**
   * A pod failed scheduling in `podCycle`. With rejecting plugins it waits in the unschedulable
   * pool — unless an event arrived during its cycle, then (like errors) it backs off.
   */
  addUnschedulable(q: QueuedPodInfo, podCycle: number): void {
    this.inFlight.delete(q.info.key);
    if (this.active.has(q.info.key) || this.backoff.has(q.info.key) || this.unschedulable.has(q.info.key)) return;
    q.timestamp = this.o.clock.now();
    if (q.unschedulablePlugins.size === 0 || this.moveRequestCycle >= podCycle) this.backoff.push(q);
    else this.unschedulable.set(q.info.key, q);
  }

  /**
   * A cluster event: pods in the unschedulable pool whose rejecting plugins' hints say the event
   * may help move to backoffQ (still backing off) or activeQ. Returns how many moved.
   */
  onEvent(event: ClusterEvent, oldObj: unknown, newObj: unknown): number {
    this.moveRequestCycle = this.cycle;
    let moved = 0;
    for (const [k, q] of this.unschedulable) {
      if (q.gatedBy !== undefined) continue;
      if (!this.worthRequeue(q, event, oldObj, newObj)) continue;
      this.unschedulable.delete(k);
      if (this.isBackingOff(q)) this.backoff.push(q); else this.toActiveOrGated(q);
      moved++;
    }
    return moved;
  }

  /**
   * Re-runs PreEnqueue for a pod that `plugin` gated, because that plugin's gate may have opened
   * (e.g. DefaultPreemption after the pod's evictions finished): it moves to backoffQ while still
   * backing off, else to activeQ (or stays gated). Returns true when it left the gate.
   */
  regate(key: string, plugin: string): boolean {
    const q = this.unschedulable.get(key);
    if (!q || q.gatedBy !== plugin) return false;
    this.unschedulable.delete(key);
    if (this.isBackingOff(q)) { q.gatedBy = undefined; this.backoff.push(q); return true; }
    this.toActiveOrGated(q);
    return !this.unschedulable.has(key);
  }

  /** Moves finished backoffs to activeQ and pods stuck longer than the limit out of the pool. */
  flush(): void {
    const now = this.o.clock.now();
    this.flushBackoffCompleted();
    for (const [k, q] of this.unschedulable) {
      if (q.gatedBy !== undefined || now - q.timestamp <= this.maxUnsched) continue;
      this.unschedulable.delete(k);
      if (this.isBackingOff(q)) this.backoff.push(q); else this.toActiveOrGated(q);
    }
  }

  /**
   * Moves the pods whose backoff has ended to activeQ (or the gated pool) — upstream's
   * flushBackoffQCompleted, also the first step of `flush()`. O(moved · log n). Returns how many moved.
   */
  flushBackoffCompleted(): number {
    const now = this.o.clock.now();
    let moved = 0;
    for (;;) {
      const top = this.backoff.peek();
      if (!top || this.backoffExpiry(top) > now) break;
      this.backoff.pop();
      this.toActiveOrGated(top);
      moved++;
    }
    return moved;
  }

  /** When the earliest backoff in backoffQ ends (clock ms), or undefined when backoffQ is empty. O(1). */
  nextBackoffExpiry(): number | undefined {
    const top = this.backoff.peek();
    return top ? this.backoffExpiry(top) : undefined;
  }

  stats(): QueueStats {
    let gated = 0;
    for (const q of this.unschedulable.values()) if (q.gatedBy !== undefined) gated++;
    return { active: this.active.size, backoff: this.backoff.size, unschedulable: this.unschedulable.size - gated, gated };
  }

  /** Where a pod currently is (for tests and scripts). */
  where(key: string): "active" | "backoff" | "unschedulable" | "gated" | "inFlight" | undefined {
    if (this.active.has(key)) return "active";
    if (this.backoff.has(key)) return "backoff";
    const u = this.unschedulable.get(key);
    if (u) return u.gatedBy !== undefined ? "gated" : "unschedulable";
    return this.inFlight.has(key) ? "inFlight" : undefined;
  }

  /** Backoff duration after `attempts` attempts: initial × 2^(attempts−1), capped at max. */
  backoffDuration(attempts: number): number {
    let d = this.initial;
    for (let i = 1; i < attempts; i++) {
      if (d > this.max - d) return this.max;
      d += d;
    }
    return Math.min(d, this.max);
  }

  // ---- nominator ----

  addNominated(info: PodInfo, nodeName: string): void {
    this.deleteNominated(info.key);
    if (nodeName === "") return;
    // A new array on every change (never edited in place): holders can tell a node's list changed by its identity.
    const list = [...(this.nominatedByNode.get(nodeName) ?? []), info].sort((a, b) => b.priority - a.priority);
    this.nominatedByNode.set(nodeName, list);
    this.logNomination(nodeName);
    this.nominatedNodeOf.set(info.key, nodeName);
    this.o.onNominationChange?.(info.key);
  }
  deleteNominated(key: string): void {
    const node = this.nominatedNodeOf.get(key);
    if (node === undefined) return;
    this.nominatedNodeOf.delete(key);
    const list = (this.nominatedByNode.get(node) ?? []).filter((p) => p.key !== key);
    if (list.length === 0) this.nominatedByNode.delete(node); else this.nominatedByNode.set(node, list);
    this.logNomination(node);
    this.o.onNominationChange?.(key);
  }
  nominatedPodsForNode(nodeName: string): readonly PodInfo[] { return this.nominatedByNode.get(nodeName) ?? []; }
  nominatedNode(key: string): string | undefined { return this.nominatedNodeOf.get(key); }
  /** The pod's nomination: its node and the PodInfo recorded with it; undefined when not nominated. */
  nomination(key: string): { node: string; info: PodInfo } | undefined {
    const node = this.nominatedNodeOf.get(key);
    if (node === undefined) return undefined;
    const info = this.nominatedByNode.get(node)?.find((p) => p.key === key);
    return info ? { node, info } : undefined;
  }
  /** Nodes that currently have nominated pods. */
  nominatedNodes(): IterableIterator<string> { return this.nominatedByNode.keys(); }
  /**
   * The nodes whose nominated list changed since change number `since` (repeats possible), and
   * the number to ask from next time; `nodes` is undefined when `since` is older than the log
   * keeps (read `nominations()` whole instead).
   */
  nominationChanges(since: number): { readonly next: number; readonly nodes: readonly string[] | undefined } {
    const next = this.nomLogStart + this.nomLog.length;
    if (since < this.nomLogStart || since > next) return { next, nodes: undefined };
    return { next, nodes: this.nomLog.slice(since - this.nomLogStart) };
  }
  private logNomination(node: string): void {
    this.nomLog.push(node);
    if (this.nomLog.length > NOMINATION_LOG) {
      const drop = this.nomLog.length - NOMINATION_LOG / 2;
      this.nomLog.splice(0, drop);
      this.nomLogStart += drop;
    }
  }
  /** Every node with nominated pods and its list (a list is replaced, never edited, when it changes). */
  nominations(): IterableIterator<[string, readonly PodInfo[]]> { return this.nominatedByNode.entries(); }

  private nominateFromStatus(info: PodInfo): void {
    const n = info.pod.status?.nominatedNodeName;
    if (n) this.addNominated(info, n);
  }

  private backoffExpiry(q: QueuedPodInfo): number {
    return q.timestamp + this.backoffDuration(q.attempts);
  }
  private isBackingOff(q: QueuedPodInfo): boolean {
    return q.attempts > 0 && this.backoffExpiry(q) > this.o.clock.now();
  }

  private toActiveOrGated(q: QueuedPodInfo): void {
    const st = this.o.preEnqueue(q.info);
    if (st) {
      q.gatedBy = st.plugin || "PreEnqueue";
      // A pod that already failed keeps its failure time: its backoff runs while it is gated.
      if (q.attempts === 0) q.timestamp = this.o.clock.now();
      this.unschedulable.set(q.info.key, q);
      return;
    }
    q.gatedBy = undefined;
    q.timestamp = this.o.clock.now();
    this.active.push(q);
  }

  private worthRequeue(q: QueuedPodInfo, event: ClusterEvent, oldObj: unknown, newObj: unknown): boolean {
    if (event.resource === "WildCard") return true;
    if (q.unschedulablePlugins.size === 0) return true;
    for (const plugin of q.unschedulablePlugins) {
      for (const reg of this.o.eventsOf(plugin) ?? []) {
        if (reg.resource !== event.resource || (reg.actionType & event.actionType) === 0) continue;
        if (!reg.hint || reg.hint(q.info, oldObj, newObj) === "Queue") return true;
      }
    }
    return false;
  }
}
