import { describe, it, expect } from "vitest";
import {
  createRequestGate, FlowController, HEADER_FLOW_SCHEMA_UID, HEADER_PRIORITY_LEVEL_UID, isLongRunningStream, MaxInFlightGate,
  nominalLimits, TooManyRequestsError, type Ticket,
} from "./controller.ts";
import { DEFAULT_FLOW_SCHEMAS, DEFAULT_PRIORITY_LEVELS } from "./bootstrap.ts";
import type { RequestDigest } from "./types.ts";

const authn = (name: string, ...groups: string[]) => ({ name, groups: [...groups, "system:authenticated"] });
const res = (user: RequestDigest["user"], verb: string, group: string, resource: string, namespace = "", subresource = ""): RequestDigest =>
  ({ user, verb, isResourceRequest: true, apiGroup: group, resource, subresource, namespace, path: "" });

const alice = (i = 0) => res(authn(`alice-${i}`), "create", "", "pods", "default");
const lease = (n: string) => res(authn(`system:node:${n}`, "system:nodes"), "update", "coordination.k8s.io", "leases", "kube-node-lease");
const admin = res(authn("admin", "system:masters"), "create", "", "pods", "default");

/** Admits synchronously or fails the test. */
function now(t: Ticket | Promise<Ticket>): Ticket {
  if (t instanceof Promise) throw new Error("expected immediate admission");
  return t;
}

/** Admission either throws at once (no queuing) or rejects later (after waiting). */
async function rejection(admit: () => Ticket | Promise<Ticket>): Promise<TooManyRequestsError> {
  try {
    await admit();
  } catch (e) {
    if (e instanceof TooManyRequestsError) return e;
    throw e;
  }
  throw new Error("expected a 429");
}

describe("nominalLimits", () => {
  it("splits upstream's 600 seats by shares", () => {
    expect(Object.fromEntries(nominalLimits(600, DEFAULT_PRIORITY_LEVELS))).toEqual({
      "node-high": 98, "system": 74, "leader-election": 25, "workload-high": 98, "workload-low": 245, "global-default": 49, "catch-all": 13,
    });
  });
  it("gives every level at least one seat and rejects a bad total", () => {
    expect(Math.min(...nominalLimits(1, DEFAULT_PRIORITY_LEVELS).values())).toBe(1);
    expect(() => nominalLimits(0, DEFAULT_PRIORITY_LEVELS)).toThrow("server concurrency limit must be at least 1, got 0");
  });
});

describe("FlowController", () => {
  // 10 seats: global-default 1, node-high 2, catch-all 1.
  const make = (queueWaitMs = 5_000) => new FlowController({ serverConcurrencyLimit: 10, queueWaitMs });

  it("labels admitted requests with the schema and level UIDs", () => {
    const fc = make();
    const t = now(fc.admit(lease("n1")));
    const fs = DEFAULT_FLOW_SCHEMAS.find((s) => s.name === "system-node-high");
    const pl = DEFAULT_PRIORITY_LEVELS.find((l) => l.name === "node-high");
    expect(t.headers).toEqual({ [HEADER_FLOW_SCHEMA_UID]: fs?.uid, [HEADER_PRIORITY_LEVEL_UID]: pl?.uid });
    expect(fc.metrics.gauge("executing", "node-high", "system-node-high")).toBe(1);
    t.done();
    t.done();
    expect(fc.metrics.gauge("executing", "node-high", "system-node-high")).toBe(0);
  });

  it("a lease goes first while a low level is saturated and queued", async () => {
    const fc = make();
    expect(fc.limitOf("global-default")).toBe(1);
    const running = now(fc.admit(alice(0)));
    const queued = [1, 2, 3].map((i) => fc.admit(alice(i)));
    for (const q of queued) expect(q).toBeInstanceOf(Promise);
    expect(fc.metrics.gauge("inqueue", "global-default", "global-default")).toBe(3);
    // the node's lease renewal does not wait behind them
    const l = now(fc.admit(lease("n1")));
    l.done();
    running.done();
    const next = await Promise.race(queued);
    expect(next.classification?.schema.name).toBe("global-default");
    expect(fc.metrics.gauge("inqueue", "global-default", "global-default")).toBe(2);
    next.done();
  });

  it("exempt requests never wait", () => {
    const fc = make();
    now(fc.admit(alice(0)));
    for (let i = 0; i < 40; i++) void Promise.resolve(fc.admit(alice(i))).catch(() => undefined);
    for (let i = 0; i < 100; i++) now(fc.admit(admin));
    expect(fc.metrics.gauge("executing", "exempt", "exempt")).toBe(100);
  });

  it("a request that waits too long is a 429 with Retry-After and the PF headers", async () => {
    const fc = make(30);
    now(fc.admit(alice(0)));
    const e = await rejection(() => fc.admit(alice(1)));
    expect(e.code).toBe(429);
    expect(e.status.reason).toBe("TooManyRequests");
    expect(e.status.message).toBe("Too many requests, please try again later.");
    expect(e.status.details?.retryAfterSeconds).toBe(1);
    expect(e.headers["retry-after"]).toBe("1");
    expect(e.headers[HEADER_FLOW_SCHEMA_UID]).toBe(DEFAULT_FLOW_SCHEMAS.find((s) => s.name === "global-default")?.uid);
    expect(fc.metrics.rejectedCount("global-default", "global-default", "time-out")).toBe(1);
    expect(fc.metrics.gauge("inqueue", "global-default", "global-default")).toBe(0);
    expect(fc.renderMetrics()).toContain('apiserver_flowcontrol_request_wait_duration_seconds_count{priority_level="global-default",flow_schema="global-default",execute="false"} 1');
  });

  it("a full queue is a 429 at once", async () => {
    const fc = make();
    now(fc.admit(alice(0)));
    // one flow (same user) has a hand of 6 queues of 50 each: 300 wait, the next is rejected
    const waiting: Array<Promise<Ticket>> = [];
    for (let i = 0; i < 300; i++) {
      const p = fc.admit(alice(1));
      if (!(p instanceof Promise)) throw new Error("expected to queue");
      waiting.push(p);
      p.catch(() => undefined);
    }
    const e = await rejection(() => fc.admit(alice(1)));
    expect(e.code).toBe(429);
    expect(fc.metrics.rejectedCount("global-default", "global-default", "queue-full")).toBe(1);
    // another user still gets a queue
    const other = fc.admit(alice(2));
    expect(other).toBeInstanceOf(Promise);
    (other as Promise<Ticket>).catch(() => undefined);
  });

  it("catch-all rejects instead of queuing", async () => {
    const fc = new FlowController({ serverConcurrencyLimit: 10, schemas: DEFAULT_FLOW_SCHEMAS.filter((s) => s.name !== "global-default") });
    now(fc.admit(alice(0)));
    const e = await rejection(() => fc.admit(alice(1)));
    expect(fc.metrics.rejectedCount("catch-all", "catch-all", "concurrency-limit")).toBe(1);
    expect(e.headers[HEADER_PRIORITY_LEVEL_UID]).toBe(DEFAULT_PRIORITY_LEVELS.find((l) => l.name === "catch-all")?.uid);
  });

  it("a client that goes away leaves the queue", async () => {
    const fc = make();
    now(fc.admit(alice(0)));
    const ac = new AbortController();
    const p = fc.admit(alice(1), ac.signal);
    ac.abort();
    const e = await rejection(() => p);
    expect(e.code).toBe(429);
    expect(fc.metrics.rejectedCount("global-default", "global-default", "cancelled")).toBe(1);
    expect(fc.metrics.gauge("inqueue", "global-default", "global-default")).toBe(0);
  });

  it("a signal given as a function is asked for only by a request that waits", async () => {
    const fc = make();
    let asked = 0;
    const ac = new AbortController();
    const lazy = (): AbortSignal => {
      asked++;
      return ac.signal;
    };
    now(fc.admit(alice(0), lazy));
    expect(asked).toBe(0);
    const p = fc.admit(alice(1), lazy);
    expect(asked).toBe(1);
    ac.abort();
    expect((await rejection(() => p)).code).toBe(429);
    expect(fc.metrics.rejectedCount("global-default", "global-default", "cancelled")).toBe(1);
  });
});

describe("MaxInFlightGate and createRequestGate", () => {
  it("limits read-only and mutating requests separately, exempting system:masters", () => {
    const g = new MaxInFlightGate({ readonly: 1, mutating: 1 });
    const t = g.admit(alice(0));
    expect(() => g.admit(alice(1))).toThrow(TooManyRequestsError);
    const r = g.admit(res(authn("bob"), "list", "", "pods"));
    g.admit(admin);
    t.done();
    g.admit(alice(2));
    r.done();
    expect(g.renderMetrics()).toContain('apiserver_dropped_requests_total{request_kind="mutating"} 1');
  });

  it("picks the gate from the flags", () => {
    expect(createRequestGate()).toBeInstanceOf(FlowController);
    expect((createRequestGate() as FlowController).limitOf("node-high")).toBe(98);
    expect(createRequestGate({ enablePriorityAndFairness: false })).toBeInstanceOf(MaxInFlightGate);
    expect(createRequestGate({ maxRequestsInflight: 0, maxMutatingRequestsInflight: 0 })).toBeUndefined();
    expect(() => createRequestGate({ maxRequestsInflight: -1 })).toThrow("max-requests-inflight must be a non-negative integer, got -1");
  });

  it("lets pod streams bypass admission", () => {
    expect(isLongRunningStream(res(authn("a"), "create", "", "pods", "ns", "exec"))).toBe(true);
    expect(isLongRunningStream(res(authn("a"), "get", "", "pods", "ns", "log"))).toBe(true);
    expect(isLongRunningStream(res(authn("a"), "watch", "", "pods", "ns"))).toBe(false);
  });
});
