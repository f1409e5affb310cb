/**
 * The scheduler's event recorder: core/v1 Events (`Scheduled`, `FailedScheduling`, `Preempted`)
 * written through a narrow sink, with the controllers' `EventCorrelator` deciding create vs. count
 * patch. Unlike the controllers' sequential recorder this one writes creates concurrently (the
 * scheduler emits one `Scheduled` event per bound pod, thousands per second in a burst) and
 * coalesces count patches: a pod retried every few seconds gets one Event whose `count` is patched
 * at most once per `patchIntervalMs` (the count is exact: every occurrence is correlated, only the
 * writes are spaced). Upstream kube-scheduler likewise spaces isomorphic events (event series).
 *
 * Never throws and never blocks the caller; failures and drops are counted in `stats`.
 */
import type { Pod } from "../../api/generated/core_v1.ts";
import type { KubeObject } from "../../api/object.ts";
import { EventCorrelator, referenceOf } from "../../controllers/framework/events.ts";
import type { EventRecorder } from "../ports.ts";
import { Limiter, LimiterFullError } from "./_limiter.ts";

/** Where events go (`clientEventSink` in api.ts writes them to the apiserver). */
export interface EventSink {
  create(event: KubeObject): Promise<unknown>;
  /** JSON merge patch of an existing Event. */
  patch(namespace: string, name: string, patch: Record<string, unknown>): Promise<unknown>;
}

export interface SchedulerEventRecorderOptions {
  /** source.component / reportingComponent (default "default-scheduler"). */
  readonly component?: string;
  /** reportingInstance (e.g. the leader election identity). */
  readonly instance?: string;
  /** Concurrent writes (default 32). */
  readonly concurrency?: number;
  /** Writes waiting beyond the running ones before new events are dropped (default 20,000). */
  readonly maxQueued?: number;
  /** Minimum time between two count patches of one Event (default 10 s). */
  readonly patchIntervalMs?: number;
  readonly now?: () => number;
}

export interface EventStats {
  created: number;
  patched: number;
  /** Occurrences folded into a later count patch instead of a write of their own. */
  coalesced: number;
  dropped: number;
  failed: number;
}

interface PendingPatch {
  namespace: string;
  name: string;
  patch: Record<string, unknown>;
  dueAt: number;
}

export class SchedulerEventRecorder implements EventRecorder {
  readonly stats: EventStats = { created: 0, patched: 0, coalesced: 0, dropped: 0, failed: 0 };
  private readonly correlator: EventCorrelator;
  private readonly limiter: Limiter;
  private readonly now: () => number;
  private readonly interval: number;
  /** Event name → the newest patch not yet written. */
  private readonly patches = new Map<string, PendingPatch>();
  /** Event name → when its last write (create or patch) was issued. */
  private readonly lastWrite = new Map<string, number>();
  /** Event names whose create has not finished (their patches wait). */
  private readonly creating = new Set<string>();

  constructor(private readonly sink: EventSink, private readonly opts: SchedulerEventRecorderOptions = {}) {
    this.correlator = new EventCorrelator({ component: opts.component ?? "default-scheduler" });
    this.limiter = new Limiter(opts.concurrency ?? 32, opts.maxQueued ?? 20_000);
    this.now = opts.now ?? Date.now;
    this.interval = opts.patchIntervalMs ?? 10_000;
  }

  event(regarding: Pod, type: "Normal" | "Warning", reason: string, action: string, message: string, related?: Pod): void {
    const now = this.now();
    // Informer objects from a LIST may lack kind/apiVersion; kubectl describe selects by kind.
    const md = regarding.metadata ?? {};
    const obj: KubeObject = {
      apiVersion: "v1", kind: "Pod",
      metadata: { ...(md.name !== undefined ? { name: md.name } : {}), ...(md.namespace !== undefined ? { namespace: md.namespace } : {}), ...(md.uid !== undefined ? { uid: md.uid } : {}) },
    };
    const c = this.correlator.correlate(obj, type, reason, message, now);
    if (c.action === "create") {
      const name = c.event.metadata?.name ?? "";
      const ev: KubeObject = {
        ...c.event, action, reportingInstance: this.opts.instance ?? "",
        ...(related ? { related: relatedRef(related) } : {}),
      };
      this.creating.add(name);
      this.lastWrite.set(name, now);
      this.patches.delete(name);
      this.write(() => this.sink.create(ev), "created", () => this.creating.delete(name));
      this.trim();
      return;
    }
    const prev = this.patches.get(c.name);
    if (prev) this.stats.coalesced++;
    this.patches.set(c.name, { namespace: c.namespace, name: c.name, patch: c.patch, dueAt: (this.lastWrite.get(c.name) ?? 0) + this.interval });
    this.tick();
  }

  /** Writes the count patches that are due (the runner calls this about once a second). */
  tick(): void {
    const now = this.now();
    for (const [name, p] of this.patches) {
      if (p.dueAt > now || this.creating.has(name)) continue;
      this.patches.delete(name);
      this.lastWrite.set(name, now);
      this.write(() => this.sink.patch(p.namespace, p.name, p.patch), "patched");
    }
  }

  /** Writes every pending patch now and resolves when all writes finished (tests, shutdown). */
  async flush(): Promise<void> {
    await this.limiter.idle();
    for (const p of this.patches.values()) p.dueAt = 0;
    this.creating.clear();
    this.tick();
    await this.limiter.idle();
  }

  private write(fn: () => Promise<unknown>, counter: "created" | "patched", done?: () => void): void {
    this.limiter.run(fn).then(
      () => { this.stats[counter]++; },
      (e: unknown) => { if (e instanceof LimiterFullError) this.stats.dropped++; else this.stats.failed++; },
    ).finally(() => done?.());
  }

  private trim(): void {
    // The correlator forgets keys beyond 4096; forget write times of long-gone events likewise.
    if (this.lastWrite.size <= 8192) return;
    const cut = this.now() - 10 * 60_000;
    for (const [k, t] of this.lastWrite) if (t < cut && !this.patches.has(k)) this.lastWrite.delete(k);
  }
}

function relatedRef(p: Pod): Record<string, unknown> {
  const r = referenceOf(p as KubeObject);
  return { ...r, kind: r.kind ?? "Pod", apiVersion: r.apiVersion ?? "v1" };
}
