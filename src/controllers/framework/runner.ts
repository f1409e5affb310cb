/**
 * Runs one controller: its work queue (deduplicating, rate-limited requeue on error) and N async
 * workers pulling keys and calling `sync`. Owns no cluster state; counts what happened.
 */
import { WorkQueue } from "../../client/workqueue.ts";
import type { Controller, ControllerContext, ControllerFactory, Queue } from "./controller.ts";

export interface ControllerMetrics {
  /** Keys synced successfully. */
  syncs: number;
  /** Syncs that threw (and were requeued with backoff). */
  errors: number;
  /** Keys re-added on purpose (`requeueAfterMs`). */
  requeues: number;
  /** Keys dropped after `maxRetries` failures. */
  dropped: number;
  /** Total time spent in sync, ms. */
  syncMs: number;
}

export interface RunnerOptions {
  readonly workers?: number;
  /** Failures of one key before it is dropped (until its next event); default 15 as upstream's deployment controller. */
  readonly maxRetries?: number;
}

export class ControllerRunner {
  readonly queue = new WorkQueue<string>();
  readonly controller: Controller;
  readonly metrics: ControllerMetrics = { syncs: 0, errors: 0, requeues: 0, dropped: 0, syncMs: 0 };
  private workers: Promise<void>[] = [];

  constructor(readonly name: string, factory: ControllerFactory, private readonly ctx: ControllerContext, private readonly opts: RunnerOptions = {}) {
    const q: Queue = {
      add: (k) => this.queue.add(k),
      addAfter: (k, ms) => this.queue.addAfter(k, ms),
    };
    this.controller = factory(ctx, q);
  }

  /** Starts the workers (call after the informers synced). */
  start(): void {
    const n = Math.max(1, this.opts.workers ?? 1);
    for (let i = 0; i < n; i++) this.workers.push(this.work());
  }

  private async work(): Promise<void> {
    const maxRetries = this.opts.maxRetries ?? 15;
    for (let key; (key = await this.queue.get()) !== undefined;) {
      const t0 = performance.now();
      try {
        const r = await this.controller.sync(key);
        this.metrics.syncs++;
        this.queue.forget(key);
        if (r && r.requeueAfterMs !== undefined) {
          this.metrics.requeues++;
          this.queue.addAfter(key, Math.max(0, r.requeueAfterMs));
        }
      } catch (e) {
        this.metrics.errors++;
        if (this.queue.numRequeues(key) < maxRetries) this.queue.addRateLimited(key);
        else {
          this.metrics.dropped++;
          this.queue.forget(key);
        }
        this.ctx.log(`${this.name}: error syncing "${key}": ${e instanceof Error ? e.message : String(e)}`);
      } finally {
        this.metrics.syncMs += performance.now() - t0;
        this.queue.done(key);
      }
    }
  }

  /** Stops taking keys and waits for running syncs to finish. */
  async stop(): Promise<void> {
    this.queue.shutDown();
    await Promise.all(this.workers);
  }
}

/** Prometheus text for a set of runners. */
export function metricsText(runners: readonly ControllerRunner[]): string {
  const lines: string[] = [];
  const metric = (name: string, help: string, get: (r: ControllerRunner) => number): void => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
    for (const r of runners) lines.push(`${name}{controller="${r.name}"} ${get(r)}`);
  };
  metric("tug_controller_syncs_total", "Keys synced successfully.", (r) => r.metrics.syncs);
  metric("tug_controller_sync_errors_total", "Syncs that failed and were requeued.", (r) => r.metrics.errors);
  metric("tug_controller_requeues_total", "Keys requeued after a delay on purpose.", (r) => r.metrics.requeues);
  metric("tug_controller_dropped_total", "Keys dropped after too many failures.", (r) => r.metrics.dropped);
  metric("tug_controller_sync_seconds_total", "Time spent syncing.", (r) => r.metrics.syncMs / 1000);
  lines.push("# HELP tug_workqueue_depth Keys waiting.", "# TYPE tug_workqueue_depth gauge");
  for (const r of runners) lines.push(`tug_workqueue_depth{controller="${r.name}"} ${r.queue.length}`);
  return lines.join("\n") + "\n";
}
