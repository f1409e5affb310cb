/**
 * Prometheus metrics of the running scheduler, named as kube-scheduler names them. Implements the
 * core's `Metrics` port plus what only the runner sees (binding results, end-to-end scheduling
 * latency, bindings in flight). `render()` is the text exposition format (version 0.0.4).
 *
 * | metric | type | labels |
 * |---|---|---|
 * | scheduler_schedule_attempts_total | counter | result, profile |
 * | scheduler_scheduling_attempt_duration_seconds | histogram | result, profile |
 * | scheduler_framework_extension_point_duration_seconds | histogram | extension_point, profile |
 * | scheduler_pending_pods | gauge | queue (active, backoff, unschedulable, gated) |
 * | scheduler_pod_scheduling_sli_duration_seconds | histogram | (first seen in the queue → bound) |
 * | scheduler_preemption_attempts_total | counter | |
 * | scheduler_preemption_victims | histogram | |
 * | scheduler_binding_total | counter | result (bound, error) |
 * | scheduler_bindings_in_flight | gauge | |
 */
import type { Metrics, SchedulePhase } from "../ports.ts";

/** Upstream bucket layouts. */
function exponential(start: number, factor: number, count: number): number[] {
  const out: number[] = [];
  for (let i = 0, v = start; i < count; i++, v *= factor) out.push(Number(v.toPrecision(6)));
  return out;
}

const ATTEMPT_BUCKETS = exponential(0.001, 2, 15);
const PHASE_BUCKETS = exponential(0.0001, 2, 12);
const SLI_BUCKETS = exponential(0.01, 2, 20);
const VICTIM_BUCKETS = exponential(1, 2, 7);

/** One labelled histogram series. */
class Series {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(readonly buckets: readonly number[]) {
    this.counts = new Float64Array(buckets.length);
  }
  observe(v: number): void {
    this.sum += v;
    this.count++;
    const b = this.buckets;
    for (let i = 0; i < b.length; i++) if (v <= (b[i] ?? Infinity)) { this.counts[i] = (this.counts[i] ?? 0) + 1; break; }
  }
  /** Value at quantile q (0..1) by linear interpolation inside the bucket, as histogram_quantile does. */
  quantile(q: number): number {
    if (this.count === 0) return NaN;
    const rank = q * this.count;
    let cum = 0;
    for (let i = 0; i < this.buckets.length; i++) {
      const c = this.counts[i] ?? 0;
      if (cum + c >= rank && c > 0) {
        const lo = i === 0 ? 0 : this.buckets[i - 1] ?? 0;
        const hi = this.buckets[i] ?? lo;
        return lo + (hi - lo) * ((rank - cum) / c);
      }
      cum += c;
    }
    return this.buckets[this.buckets.length - 1] ?? NaN;
  }
}

/** Escaped label sets by their raw `k\0v\0…` form: observations repeat a handful of label sets. */
const labelTextMemo = new Map<string, string>();

function labelText(labels: Readonly<Record<string, string>>): string {
  let raw = "";
  for (const k in labels) raw += `${k}\0${labels[k] ?? ""}\0`;
  const hit = labelTextMemo.get(raw);
  if (hit !== undefined) return hit;
  const text = escapeLabels(labels);
  if (labelTextMemo.size < 10_000) labelTextMemo.set(raw, text);
  return text;
}

function escapeLabels(labels: Readonly<Record<string, string>>): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`);
  return parts.length ? `{${parts.join(",")}}` : "";
}

class Histogram {
  private readonly series = new Map<string, { labels: Record<string, string>; s: Series }>();
  constructor(readonly name: string, readonly help: string, private readonly buckets: readonly number[]) {}
  observe(labels: Record<string, string>, v: number): void {
    const k = labelText(labels);
    let e = this.series.get(k);
    if (!e) this.series.set(k, (e = { labels, s: new Series(this.buckets) }));
    e.s.observe(v);
  }
  get(labels: Record<string, string>): Series | undefined {
    return this.series.get(labelText(labels))?.s;
  }
  render(out: string[]): void {
    out.push(`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`);
    for (const { labels, s } of this.series.values()) {
      let cum = 0;
      for (let i = 0; i < s.buckets.length; i++) {
        cum += s.counts[i] ?? 0;
        out.push(`${this.name}_bucket${labelText({ ...labels, le: String(s.buckets[i]) })} ${cum}`);
      }
      out.push(`${this.name}_bucket${labelText({ ...labels, le: "+Inf" })} ${s.count}`);
      out.push(`${this.name}_sum${labelText(labels)} ${s.sum}`, `${this.name}_count${labelText(labels)} ${s.count}`);
    }
  }
}

class Counter {
  private readonly values = new Map<string, number>();
  constructor(readonly name: string, readonly help: string, readonly type: "counter" | "gauge" = "counter") {}
  add(labels: Record<string, string>, v = 1): void {
    const k = labelText(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + v);
  }
  set(labels: Record<string, string>, v: number): void {
    this.values.set(labelText(labels), v);
  }
  get(labels: Record<string, string> = {}): number {
    return this.values.get(labelText(labels)) ?? 0;
  }
  render(out: string[]): void {
    out.push(`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`);
    for (const [k, v] of this.values) out.push(`${this.name}${k} ${v}`);
  }
}

export class SchedulerMetrics implements Metrics {
  readonly attempts = new Counter("scheduler_schedule_attempts_total", "Number of attempts to schedule pods, by the result.");
  readonly attemptDuration = new Histogram("scheduler_scheduling_attempt_duration_seconds", "Scheduling attempt latency in seconds (scheduling algorithm + binding).", ATTEMPT_BUCKETS);
  readonly phaseDuration = new Histogram("scheduler_framework_extension_point_duration_seconds", "Latency for running all plugins of a specific extension point.", PHASE_BUCKETS);
  readonly pending = new Counter("scheduler_pending_pods", "Number of pending pods, by the queue type.", "gauge");
  readonly sli = new Histogram("scheduler_pod_scheduling_sli_duration_seconds", "E2e latency for a pod being scheduled, from the time the pod enters the scheduling queue until it is bound.", SLI_BUCKETS);
  readonly preemptionAttempts = new Counter("scheduler_preemption_attempts_total", "Total preemption attempts in the cluster till now.");
  readonly preemptionVictims = new Histogram("scheduler_preemption_victims", "Number of selected preemption victims.", VICTIM_BUCKETS);
  readonly bindings = new Counter("scheduler_binding_total", "Binding cycles by result.");
  readonly inFlight = new Counter("scheduler_bindings_in_flight", "Binding cycles in flight.", "gauge");

  scheduleAttempt(result: "scheduled" | "unschedulable" | "error", profile: string, seconds: number): void {
    this.attempts.add({ result, profile });
    this.attemptDuration.observe({ result, profile }, seconds);
  }
  phase(phase: SchedulePhase, profile: string, seconds: number): void {
    this.phaseDuration.observe({ extension_point: phase, profile }, seconds);
  }
  queueDepth(queue: "active" | "backoff" | "unschedulable" | "gated", n: number): void {
    this.pending.set({ queue }, n);
  }
  preemption(victims: number): void {
    this.preemptionAttempts.add({});
    this.preemptionVictims.observe({}, victims);
  }
  /** A binding cycle ended; `e2eSeconds` = first seen in the queue → bound (only when bound). */
  bindingDone(bound: boolean, e2eSeconds: number | undefined): void {
    this.bindings.add({ result: bound ? "bound" : "error" });
    if (bound && e2eSeconds !== undefined) this.sli.observe({}, e2eSeconds);
  }
  setInFlight(n: number): void {
    this.inFlight.set({}, n);
  }

  /** Prometheus text exposition. */
  render(): string {
    const out: string[] = [];
    for (const m of [this.attempts, this.attemptDuration, this.phaseDuration, this.pending, this.sli, this.preemptionAttempts, this.preemptionVictims, this.bindings, this.inFlight]) m.render(out);
    return `${out.join("\n")}\n`;
  }
}

export type { Series as HistogramSeries };
