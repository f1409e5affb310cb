/**
 * APF metrics with upstream's names and labels, rendered in Prometheus text format and appended to
 * the apiserver's `/metrics` (see `ApiMetrics.addCollector`). Pure counters; the controller calls
 * the mutators.
 */

const WAIT_BUCKETS = [0, 0.005, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30];

function esc(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, "\\\"").replace(/\n/g, "\\n");
}

function labels(l: Record<string, string>): string {
  const parts = Object.entries(l).map(([k, v]) => `${k}="${esc(v)}"`);
  return parts.length ? `{${parts.join(",")}}` : "";
}

interface Series {
  readonly labels: Record<string, string>;
  value: number;
}

interface Hist {
  readonly labels: Record<string, string>;
  /** Per bucket, not cumulative. */
  readonly counts: number[];
  sum: number;
  count: number;
}

export type RejectReason = "queue-full" | "concurrency-limit" | "time-out" | "cancelled";

export class FlowControlMetrics {
  private readonly inqueue = new Map<string, Series>();
  private readonly executing = new Map<string, Series>();
  private readonly dispatched = new Map<string, Series>();
  private readonly rejected = new Map<string, Series>();
  private readonly waits = new Map<string, Hist>();
  private readonly limits = new Map<string, number>();

  /** The series of (level, schema[, reason]); its labels object is built on first use only (per-request path). */
  private series(m: Map<string, Series>, level: string, schema: string, reason?: RejectReason): Series {
    const k = reason === undefined ? `${level}\u0000${schema}` : `${level}\u0000${schema}\u0000${reason}`;
    let s = m.get(k);
    if (s === undefined) {
      const labels: Record<string, string> = { priority_level: level, flow_schema: schema };
      if (reason !== undefined) labels["reason"] = reason;
      s = { labels, value: 0 };
      m.set(k, s);
    }
    return s;
  }

  setNominalLimit(level: string, seats: number): void {
    this.limits.set(level, seats);
  }

  addInqueue(level: string, schema: string, delta: number): void {
    this.series(this.inqueue, level, schema).value += delta;
  }

  addExecuting(level: string, schema: string, delta: number): void {
    this.series(this.executing, level, schema).value += delta;
    if (delta > 0) this.series(this.dispatched, level, schema).value += delta;
  }

  reject(level: string, schema: string, reason: RejectReason): void {
    this.series(this.rejected, level, schema, reason).value++;
  }

  /** Time spent waiting in a queue; `executed` false for requests that were rejected after waiting. */
  observeWait(level: string, schema: string, executed: boolean, seconds: number): void {
    const execute = executed ? "true" : "false";
    const k = `${level}\u0000${schema}\u0000${execute}`;
    let h = this.waits.get(k);
    if (h === undefined) {
      h = { labels: { priority_level: level, flow_schema: schema, execute }, counts: WAIT_BUCKETS.map(() => 0), sum: 0, count: 0 };
      this.waits.set(k, h);
    }
    let i = 0;
    while (i < WAIT_BUCKETS.length && seconds > (WAIT_BUCKETS[i] as number)) i++;
    if (i < WAIT_BUCKETS.length) h.counts[i] = (h.counts[i] as number) + 1;
    h.sum += seconds;
    h.count++;
  }

  /** Current gauge values (tests). */
  gauge(which: "inqueue" | "executing", level: string, schema: string): number {
    return (which === "inqueue" ? this.inqueue : this.executing).get(`${level}\u0000${schema}`)?.value ?? 0;
  }

  rejectedCount(level: string, schema: string, reason: RejectReason): number {
    return this.rejected.get(`${level}\u0000${schema}\u0000${reason}`)?.value ?? 0;
  }

  render(): string {
    const out: string[] = [];
    const gauge = (name: string, help: string, type: string, m: Map<string, Series>): void => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const s of m.values()) out.push(`${name}${labels(s.labels)} ${s.value}`);
    };
    out.push("# HELP apiserver_flowcontrol_nominal_limit_seats Nominal number of execution seats configured for each priority level", "# TYPE apiserver_flowcontrol_nominal_limit_seats gauge");
    for (const [level, seats] of this.limits) out.push(`apiserver_flowcontrol_nominal_limit_seats${labels({ priority_level: level })} ${seats}`);
    gauge("apiserver_flowcontrol_current_inqueue_requests", "Number of requests currently pending in queues of the API Priority and Fairness subsystem", "gauge", this.inqueue);
    gauge("apiserver_flowcontrol_current_executing_requests", "Number of requests in initial (for a WATCH) or any (for a non-WATCH) execution stage in the API Priority and Fairness subsystem", "gauge", this.executing);
    gauge("apiserver_flowcontrol_dispatched_requests_total", "Number of requests executed by API Priority and Fairness subsystem", "counter", this.dispatched);
    gauge("apiserver_flowcontrol_rejected_requests_total", "Number of requests rejected by API Priority and Fairness subsystem", "counter", this.rejected);
    const name = "apiserver_flowcontrol_request_wait_duration_seconds";
    out.push(`# HELP ${name} Length of time a request spent waiting in its queue`, `# TYPE ${name} histogram`);
    for (const h of this.waits.values()) {
      let cum = 0;
      WAIT_BUCKETS.forEach((b, i) => {
        cum += h.counts[i] ?? 0;
        out.push(`${name}_bucket${labels({ ...h.labels, le: String(b) })} ${cum}`);
      });
      out.push(`${name}_bucket${labels({ ...h.labels, le: "+Inf" })} ${h.count}`);
      out.push(`${name}_sum${labels(h.labels)} ${h.sum}`);
      out.push(`${name}_count${labels(h.labels)} ${h.count}`);
    }
    return out.join("\n") + "\n";
  }
}
