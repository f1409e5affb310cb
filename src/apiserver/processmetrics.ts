/**
 * Process-level metrics for `/metrics` (the names Prometheus' Node.js client uses): CPU seconds,
 * resident memory, heap, event-loop delay and garbage-collection pauses. The apiserver runs every
 * request on one event loop, so these two say why request latency rises under load: a busy loop
 * (delay) or a stop-the-world collection (GC pause) adds to every request that is executing.
 *
 * One recorder per process, started by the first `processMetrics()` call; `render()` is cheap and
 * resets nothing (counters and histograms are cumulative, the delay quantiles are since start).
 */
import { constants, monitorEventLoopDelay, PerformanceObserver, type IntervalHistogram, type PerformanceEntry } from "node:perf_hooks";

/** Upper bounds (seconds) of the GC pause histogram. */
const GC_BUCKETS = [0.001, 0.01, 0.1, 0.5, 1, 2, 5];

const GC_KINDS: ReadonlyMap<number, string> = new Map([
  [constants.NODE_PERFORMANCE_GC_MINOR, "minor"],
  [constants.NODE_PERFORMANCE_GC_MAJOR, "major"],
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL, "incremental"],
  [constants.NODE_PERFORMANCE_GC_WEAKCB, "weakcb"],
]);

interface GcHistogram {
  readonly counts: number[];
  sum: number;
  count: number;
  max: number;
}

export interface ProcessMetrics {
  /** Prometheus text exposition lines, ending in a newline. */
  render(): string;
}

class Recorder implements ProcessMetrics {
  private readonly delay: IntervalHistogram;
  private readonly gc = new Map<string, GcHistogram>();
  private readonly startSeconds = Date.now() / 1000 - process.uptime();

  constructor() {
    this.delay = monitorEventLoopDelay({ resolution: 10 });
    this.delay.enable();
    const obs = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        const detail = (e as PerformanceEntry & { readonly detail?: { readonly kind?: number } }).detail;
        this.observeGc(GC_KINDS.get(detail?.kind ?? -1) ?? "other", e.duration / 1000);
      }
    });
    obs.observe({ entryTypes: ["gc"] });
    // Neither keeps the process alive: the histogram timer is unref'd by Node, the observer has no handle.
  }

  private observeGc(kind: string, seconds: number): void {
    let h = this.gc.get(kind);
    if (h === undefined) {
      h = { counts: GC_BUCKETS.map(() => 0), sum: 0, count: 0, max: 0 };
      this.gc.set(kind, h);
    }
    const i = GC_BUCKETS.findIndex((b) => seconds <= b);
    if (i >= 0) h.counts[i] = (h.counts[i] as number) + 1;
    h.sum += seconds;
    h.count++;
    if (seconds > h.max) h.max = seconds;
  }

  render(): string {
    const cpu = process.cpuUsage();
    const mem = process.memoryUsage();
    const out = [
      "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.",
      "# TYPE process_cpu_seconds_total counter",
      `process_cpu_seconds_total ${(cpu.user + cpu.system) / 1e6}`,
      "# HELP process_resident_memory_bytes Resident memory size in bytes.",
      "# TYPE process_resident_memory_bytes gauge",
      `process_resident_memory_bytes ${mem.rss}`,
      "# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.",
      "# TYPE process_start_time_seconds gauge",
      `process_start_time_seconds ${Math.round(this.startSeconds)}`,
      "# HELP nodejs_heap_size_used_bytes Process heap size used from Node.js in bytes.",
      "# TYPE nodejs_heap_size_used_bytes gauge",
      `nodejs_heap_size_used_bytes ${mem.heapUsed}`,
      "# HELP nodejs_heap_size_total_bytes Process heap size from Node.js in bytes.",
      "# TYPE nodejs_heap_size_total_bytes gauge",
      `nodejs_heap_size_total_bytes ${mem.heapTotal}`,
    ];
    const d = this.delay;
    out.push("# HELP nodejs_eventloop_lag_seconds Event loop delay since the process started (quantiles sampled every 10 ms).");
    out.push("# TYPE nodejs_eventloop_lag_seconds summary");
    for (const q of [0.5, 0.9, 0.99]) out.push(`nodejs_eventloop_lag_seconds{quantile="${q}"} ${d.count > 0 ? d.percentile(q * 100) / 1e9 : 0}`);
    out.push(`nodejs_eventloop_lag_max_seconds ${d.count > 0 ? d.max / 1e9 : 0}`);
    out.push("# HELP nodejs_gc_duration_seconds Garbage collection pause duration by kind of GC.");
    out.push("# TYPE nodejs_gc_duration_seconds histogram");
    for (const [kind, h] of this.gc) {
      let cum = 0;
      GC_BUCKETS.forEach((b, i) => {
        cum += h.counts[i] ?? 0;
        out.push(`nodejs_gc_duration_seconds_bucket{kind="${kind}",le="${b}"} ${cum}`);
      });
      out.push(`nodejs_gc_duration_seconds_bucket{kind="${kind}",le="+Inf"} ${h.count}`);
      out.push(`nodejs_gc_duration_seconds_sum{kind="${kind}"} ${h.sum}`);
      out.push(`nodejs_gc_duration_seconds_count{kind="${kind}"} ${h.count}`);
      out.push(`nodejs_gc_duration_max_seconds{kind="${kind}"} ${h.max}`);
    }
    return out.join("\n") + "\n";
  }
}

let recorder: Recorder | undefined;

/** The process's recorder (started on first call). */
export function processMetrics(): ProcessMetrics {
  recorder ??= new Recorder();
  return recorder;
}
