/**
 * The APF runner: classifies each request, splits the server's concurrency limit among the
 * priority levels by their shares, and runs one `QueueSet` per level. It owns the clock and the
 * queue-wait timers; everything it decides comes from the pure parts (classify.ts, queueset.ts).
 *
 *   const ticket = await flow.admit(digest, () => req.signal);   // may throw TooManyRequestsError
 *   try { resp = await serve(); } finally { ticket.done(); }
 *   // add ticket.headers (X-Kubernetes-PF-*) to resp
 *
 * "Executing" means: between admission and `done()` (the handler's promise). Node runs one
 * request at a time, so the seats bound how many handlers interleave on the event loop; whoever
 * is over a level's share waits in that level's queues instead of adding to everyone's latency.
 */
import { ApiError } from "../../api/errors.ts";
import { Classifier } from "./classify.ts";
import { DEFAULT_FLOW_SCHEMAS, DEFAULT_PRIORITY_LEVELS } from "./bootstrap.ts";
import { FlowControlMetrics, type RejectReason } from "./metrics.ts";
import { QueueSet, type Entry } from "./queueset.ts";
import { flowHash } from "./shuffle.ts";
import type { Classification, FlowSchema, PriorityLevel, RequestDigest } from "./types.ts";

/** Upstream's message for 429s from flow control and max-in-flight. */
export const TOO_MANY_REQUESTS_MESSAGE = "Too many requests, please try again later.";

export const HEADER_FLOW_SCHEMA_UID = "x-kubernetes-pf-flowschema-uid";
export const HEADER_PRIORITY_LEVEL_UID = "x-kubernetes-pf-prioritylevel-uid";

/** A 429 that carries the response headers to send with its Status (Retry-After, X-Kubernetes-PF-*). */
export class TooManyRequestsError extends ApiError {
  constructor(readonly headers: Readonly<Record<string, string>>, retryAfterSeconds: number) {
    super(429, "TooManyRequests", TOO_MANY_REQUESTS_MESSAGE, { retryAfterSeconds });
    this.name = "TooManyRequestsError";
  }
}

/** An admitted request: call `done()` once its handler finished (idempotent). */
export interface Ticket {
  /** Headers to add to the response (empty when not classified). */
  readonly headers: Readonly<Record<string, string>>;
  readonly classification?: Classification;
  done(): void;
}

/** What the handler calls for every request it gates (APF or the plain max-in-flight limiter). */
export interface RequestGate {
  /**
   * Admits a request, possibly after waiting; throws/rejects with `TooManyRequestsError`. `signal`
   * (the client going away) may be given as a function: it is called only for a request that has
   * to wait, so requests admitted at once never make their transport build an AbortSignal.
   */
  admit(d: RequestDigest, signal?: AbortSignal | (() => AbortSignal)): Ticket | Promise<Ticket>;
  /** Prometheus text for `/metrics`. */
  renderMetrics(): string;
}

export interface FlowControlOptions {
  /** Total seats split among the Limited levels (upstream: max-requests-inflight + max-mutating-requests-inflight). */
  readonly serverConcurrencyLimit: number;
  readonly schemas?: readonly FlowSchema[];
  readonly levels?: readonly PriorityLevel[];
  /** Longest a request waits in a queue before it is rejected (default 15 s). */
  readonly queueWaitMs?: number;
  /** Retry-After of rejections (default 1 s). */
  readonly retryAfterSeconds?: number;
  readonly now?: () => number;
}

/**
 * Seats per Limited level: ceil(total × shares / sum of shares), at least 1 (upstream's nominal
 * concurrency limit). Exempt levels are absent. Throws `RangeError` for a total below 1.
 */
export function nominalLimits(total: number, levels: readonly PriorityLevel[]): Map<string, number> {
  if (!Number.isFinite(total) || total < 1) throw new RangeError(`server concurrency limit must be at least 1, got ${total}`);
  const limited = levels.filter((l) => l.type === "Limited");
  const sum = limited.reduce((a, l) => a + l.nominalConcurrencyShares, 0);
  const out = new Map<string, number>();
  for (const l of limited) out.set(l.name, Math.max(1, Math.ceil(sum > 0 ? (total * l.nominalConcurrencyShares) / sum : total / limited.length)));
  return out;
}

interface Waiter {
  readonly c: Classification;
  readonly headers: Readonly<Record<string, string>>;
  resolve?: (t: Ticket) => void;
  reject?: (e: unknown) => void;
  timer?: ReturnType<typeof setTimeout>;
  unlisten?: () => void;
}

interface LevelState {
  readonly level: PriorityLevel;
  /** Absent for Exempt levels. */
  readonly qs?: QueueSet<Waiter>;
}

const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

export class FlowController implements RequestGate {
  readonly metrics = new FlowControlMetrics();
  private readonly classifier: Classifier;
  private readonly levels = new Map<string, LevelState>();
  private readonly headerCache = new Map<string, Readonly<Record<string, string>>>();
  private readonly waitMs: number;
  private readonly retryAfter: number;
  private readonly now: () => number;

  /** Throws `Error`/`RangeError` for an inconsistent configuration. */
  constructor(opts: FlowControlOptions) {
    const levels = opts.levels ?? DEFAULT_PRIORITY_LEVELS;
    this.classifier = new Classifier(opts.schemas ?? DEFAULT_FLOW_SCHEMAS, levels);
    const limits = nominalLimits(opts.serverConcurrencyLimit, levels);
    for (const level of levels) {
      const seats = limits.get(level.name);
      if (level.type === "Exempt" || seats === undefined) {
        this.levels.set(level.name, { level });
        continue;
      }
      const q = level.queuing;
      this.levels.set(level.name, {
        level,
        qs: new QueueSet<Waiter>({ concurrencyLimit: seats, queues: q?.queues ?? 0, handSize: q?.handSize ?? 1, queueLengthLimit: q?.queueLengthLimit ?? 1 }),
      });
      this.metrics.setNominalLimit(level.name, seats);
    }
    this.waitMs = opts.queueWaitMs ?? 15_000;
    this.retryAfter = opts.retryAfterSeconds ?? 1;
    this.now = opts.now ?? (() => performance.now());
  }

  /** Seats of a level (undefined for exempt or unknown levels). */
  limitOf(level: string): number | undefined {
    return this.levels.get(level)?.qs?.concurrencyLimit;
  }

  classify(d: RequestDigest): Classification {
    return this.classifier.classify(d);
  }

  renderMetrics(): string {
    return this.metrics.render();
  }

  private headersOf(c: Classification): Readonly<Record<string, string>> {
    const k = c.schema.name;
    let h = this.headerCache.get(k);
    if (h === undefined) {
      h = Object.freeze({ [HEADER_FLOW_SCHEMA_UID]: c.schema.uid, [HEADER_PRIORITY_LEVEL_UID]: c.level.uid });
      this.headerCache.set(k, h);
    }
    return h;
  }

  private rejection(w: Waiter, reason: RejectReason): TooManyRequestsError {
    this.metrics.reject(w.c.level.name, w.c.schema.name, reason);
    return new TooManyRequestsError({ ...w.headers, "retry-after": String(this.retryAfter) }, this.retryAfter);
  }

  private ticket(w: Waiter, st: LevelState, entry: Entry<Waiter> | undefined): Ticket {
    const level = w.c.level.name;
    const schema = w.c.schema.name;
    this.metrics.addExecuting(level, schema, 1);
    let finished = false;
    return {
      headers: w.headers,
      classification: w.c,
      done: () => {
        if (finished) return;
        finished = true;
        this.metrics.addExecuting(level, schema, -1);
        if (entry !== undefined && st.qs !== undefined) this.started(st, st.qs.finish(entry));
      },
    };
  }

  /** Hands seats to requests the queue set dispatched. */
  private started(st: LevelState, entries: readonly Entry<Waiter>[]): void {
    const now = this.now();
    for (const e of entries) {
      const w = e.value;
      if (w.timer !== undefined) clearTimeout(w.timer);
      w.unlisten?.();
      this.metrics.addInqueue(w.c.level.name, w.c.schema.name, -1);
      this.metrics.observeWait(w.c.level.name, w.c.schema.name, true, (now - e.enqueuedAt) / 1000);
      w.resolve?.(this.ticket(w, st, e));
    }
  }

  admit(d: RequestDigest, lazySignal?: AbortSignal | (() => AbortSignal)): Ticket | Promise<Ticket> {
    const c = this.classifier.classify(d);
    const st = this.levels.get(c.level.name) as LevelState;
    const w: Waiter = { c, headers: this.headersOf(c) };
    if (st.qs === undefined) return this.ticket(w, st, undefined);
    const qs = st.qs;
    const r = qs.offer(w, flowHash(c.flowKey), this.now());
    if (r.outcome === "execute") return this.ticket(w, st, r.entry);
    if (r.outcome === "rejected") throw this.rejection(w, r.reason);
    const entry = r.entry;
    this.metrics.addInqueue(c.level.name, c.schema.name, 1);
    return new Promise<Ticket>((resolve, reject) => {
      w.resolve = resolve;
      w.reject = reject;
      const drop = (reason: RejectReason): void => {
        if (!qs.remove(entry)) return;
        if (w.timer !== undefined) clearTimeout(w.timer);
        w.unlisten?.();
        this.metrics.addInqueue(c.level.name, c.schema.name, -1);
        this.metrics.observeWait(c.level.name, c.schema.name, false, (this.now() - entry.enqueuedAt) / 1000);
        reject(this.rejection(w, reason));
      };
      w.timer = setTimeout(() => drop("time-out"), this.waitMs);
      const signal = typeof lazySignal === "function" ? lazySignal() : lazySignal;
      if (signal !== undefined) {
        if (signal.aborted) {
          drop("cancelled");
          return;
        }
        const onAbort = (): void => drop("cancelled");
        signal.addEventListener("abort", onAbort, { once: true });
        w.unlisten = () => signal.removeEventListener("abort", onAbort);
      }
    });
  }
}

/**
 * The plain limiter used when APF is disabled (upstream's max-in-flight filter): separate limits
 * for read-only and mutating requests, no queuing (429 at once), `system:masters` exempt. A limit
 * of 0 means unlimited.
 */
export class MaxInFlightGate implements RequestGate {
  private readonly inflight = { readonly: 0, mutating: 0 };
  private rejected = { readonly: 0, mutating: 0 };

  constructor(private readonly limits: { readonly readonly: number; readonly mutating: number }, private readonly retryAfterSeconds = 1) {}

  admit(d: RequestDigest): Ticket {
    if (d.user.groups.includes("system:masters")) return { headers: NO_HEADERS, done: () => undefined };
    const kind = d.verb === "get" || d.verb === "list" || d.verb === "watch" || (!d.isResourceRequest && (d.verb === "get" || d.verb === "head")) ? "readonly" : "mutating";
    const limit = this.limits[kind];
    if (limit > 0 && this.inflight[kind] >= limit) {
      this.rejected[kind]++;
      throw new TooManyRequestsError({ "retry-after": String(this.retryAfterSeconds) }, this.retryAfterSeconds);
    }
    this.inflight[kind]++;
    let finished = false;
    return {
      headers: NO_HEADERS,
      done: () => {
        if (finished) return;
        finished = true;
        this.inflight[kind]--;
      },
    };
  }

  renderMetrics(): string {
    return [
      "# HELP apiserver_current_inflight_requests Maximal number of currently used inflight request limit of this apiserver per request kind in last second.",
      "# TYPE apiserver_current_inflight_requests gauge",
      `apiserver_current_inflight_requests{request_kind="readOnly"} ${this.inflight.readonly}`,
      `apiserver_current_inflight_requests{request_kind="mutating"} ${this.inflight.mutating}`,
      "# HELP apiserver_dropped_requests_total Number of requests dropped with 'Try again later' response.",
      "# TYPE apiserver_dropped_requests_total counter",
      `apiserver_dropped_requests_total{request_kind="readOnly"} ${this.rejected.readonly}`,
      `apiserver_dropped_requests_total{request_kind="mutating"} ${this.rejected.mutating}`,
    ].join("\n") + "\n";
  }
}

/** Pod streams (log, exec, attach, port-forward) are long-running and bypass admission entirely, as upstream. */
export function isLongRunningStream(d: RequestDigest): boolean {
  return d.isResourceRequest && d.apiGroup === "" && d.resource === "pods" &&
    (d.subresource === "log" || d.subresource === "exec" || d.subresource === "attach" || d.subresource === "portforward" || d.subresource === "proxy");
}

export interface GateOptions {
  /** Upstream --max-requests-inflight (default 400; 0 = unlimited). */
  readonly maxRequestsInflight?: number;
  /** Upstream --max-mutating-requests-inflight (default 200; 0 = unlimited). */
  readonly maxMutatingRequestsInflight?: number;
  /** Upstream --enable-priority-and-fairness (default true). */
  readonly enablePriorityAndFairness?: boolean;
  readonly queueWaitMs?: number;
}

/**
 * The gate a server runs with these flags: APF over max-requests-inflight +
 * max-mutating-requests-inflight seats; the max-in-flight limiter when APF is off; none when both
 * limits are 0. Throws `RangeError` for negative or non-integer limits.
 */
export function createRequestGate(o: GateOptions = {}): RequestGate | undefined {
  const ro = o.maxRequestsInflight ?? 400;
  const mu = o.maxMutatingRequestsInflight ?? 200;
  for (const [name, v] of [["max-requests-inflight", ro], ["max-mutating-requests-inflight", mu]] as const) {
    if (!Number.isInteger(v) || v < 0) throw new RangeError(`${name} must be a non-negative integer, got ${v}`);
  }
  if (o.enablePriorityAndFairness === false) return ro === 0 && mu === 0 ? undefined : new MaxInFlightGate({ readonly: ro, mutating: mu });
  if (ro + mu === 0) return undefined;
  return new FlowController({ serverConcurrencyLimit: ro + mu, ...(o.queueWaitMs !== undefined ? { queueWaitMs: o.queueWaitMs } : {}) });
}
