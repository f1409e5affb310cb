/**
 * Apiserver metrics in Prometheus text exposition format (pure registry, rendered on demand):
 * request counts and latency histograms by verb and resource, registered watchers, long-running
 * requests and watch events sent.
 */

const BUCKETS = [0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60];

function labelStr(labels: Record<string, string>): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, "\\\"").replace(/\n/g, "\\n")}"`);
  return parts.length ? `{${parts.join(",")}}` : "";
}

interface Histogram {
  readonly labels: Record<string, string>;
  /** Observations per bucket, NOT cumulative (rendered cumulatively); above the last: none. */
  readonly counts: number[];
  sum: number;
  count: number;
}

/** Index of the first bucket whose upper bound holds `seconds`, or BUCKETS.length. */
function bucketOf(seconds: number): number {
  let i = 0;
  while (i < BUCKETS.length && seconds > (BUCKETS[i] as number)) i++;
  return i;
}

function observe(m: Map<string, Histogram>, key: string, verb: string, resource: string, seconds: number): void {
  let h = m.get(key);
  if (h === undefined) {
    h = { labels: { verb, resource }, counts: BUCKETS.map(() => 0), sum: 0, count: 0 };
    m.set(key, h);
  }
  const b = bucketOf(seconds);
  if (b < BUCKETS.length) h.counts[b] = (h.counts[b] as number) + 1;
  h.sum += seconds;
  h.count++;
}

function renderHistograms(out: string[], name: string, help: string, m: ReadonlyMap<string, Histogram>): void {
  out.push(`# HELP ${name} ${help}`);
  out.push(`# TYPE ${name} histogram`);
  for (const h of m.values()) {
    let cumulative = 0;
    BUCKETS.forEach((b, i) => {
      cumulative += h.counts[i] ?? 0;
      out.push(`${name}_bucket${labelStr({ ...h.labels, le: String(b) })} ${cumulative}`);
    });
    out.push(`${name}_bucket${labelStr({ ...h.labels, le: "+Inf" })} ${h.count}`);
    out.push(`${name}_sum${labelStr(h.labels)} ${h.sum}`);
    out.push(`${name}_count${labelStr(h.labels)} ${h.count}`);
  }
}

export class ApiMetrics {
  private readonly requests = new Map<string, { labels: Record<string, string>; value: number }>();
  private readonly durations = new Map<string, Histogram>();
  /** The SLI histogram: the same latency without the time spent queued by flow control. */
  private readonly sliDurations = new Map<string, Histogram>();
  private readonly watchers = new Map<string, { labels: Record<string, string>; value: number }>();
  private readonly watchEvents = new Map<string, { labels: Record<string, string>; value: number }>();
  private longRunning = 0;

  /**
   * Counts one request and, except for watches (long-running), its latency: `seconds` from arrival
   * to response, and for the SLI histogram the same minus `queuedSeconds` spent waiting for a
   * flow-control seat (upstream's apiserver_request_sli_duration_seconds, which the API call latency
   * SLO is measured on). Per call: a few map lookups by a flat key; label objects are built only for
   * a new series.
   */
  observeRequest(verb: string, resource: string, code: number, seconds: number, queuedSeconds = 0): void {
    const rk = `${verb}\u0000${resource}\u0000${code}`;
    let r = this.requests.get(rk);
    if (r === undefined) {
      r = { labels: { verb, resource, code: String(code) }, value: 0 };
      this.requests.set(rk, r);
    }
    r.value++;
    if (verb === "WATCH" || verb === "watch") return; // long-running: not part of the latency histogram
    const hk = `${verb}\u0000${resource}`;
    observe(this.durations, hk, verb, resource, seconds);
    observe(this.sliDurations, hk, verb, resource, Math.max(0, seconds - queuedSeconds));
  }

  /** +1 when a watch starts, -1 when it ends. */
  watcher(group: string, kind: string, delta: number): void {
    const l = { group, kind };
    const k = JSON.stringify(l);
    const w = this.watchers.get(k) ?? { labels: l, value: 0 };
    w.value += delta;
    this.watchers.set(k, w);
    this.longRunning += delta;
  }

  /** Called once per event per watcher (hot with many watchers): one lookup by a flat key. */
  watchEventSent(group: string, kind: string): void {
    const k = `${group}\u0000${kind}`;
    let w = this.watchEvents.get(k);
    if (w === undefined) {
      w = { labels: { group, kind }, value: 0 };
      this.watchEvents.set(k, w);
    }
    w.value++;
  }

  render(): string {
    const out: string[] = [];
    out.push("# HELP apiserver_request_total Counter of apiserver requests broken out for each verb, resource and HTTP response code.");
    out.push("# TYPE apiserver_request_total counter");
    for (const r of this.requests.values()) out.push(`apiserver_request_total${labelStr(r.labels)} ${r.value}`);
    renderHistograms(out, "apiserver_request_duration_seconds", "Response latency distribution in seconds for each verb and resource.", this.durations);
    renderHistograms(out, "apiserver_request_sli_duration_seconds",
      "Response latency distribution in seconds for each verb and resource, without the time spent queued by API Priority and Fairness (the SLI).", this.sliDurations);
    out.push("# HELP apiserver_registered_watchers Number of currently registered watchers for a given resource.");
    out.push("# TYPE apiserver_registered_watchers gauge");
    for (const w of this.watchers.values()) out.push(`apiserver_registered_watchers${labelStr(w.labels)} ${w.value}`);
    out.push("# HELP apiserver_longrunning_requests Gauge of all active long-running apiserver requests.");
    out.push("# TYPE apiserver_longrunning_requests gauge");
    out.push(`apiserver_longrunning_requests{verb="WATCH"} ${this.longRunning}`);
    out.push("# HELP apiserver_watch_events_total Number of events sent in watch clients.");
    out.push("# TYPE apiserver_watch_events_total counter");
    for (const w of this.watchEvents.values()) out.push(`apiserver_watch_events_total${labelStr(w.labels)} ${w.value}`);
    return out.join("\n") + "\n";
  }
}
