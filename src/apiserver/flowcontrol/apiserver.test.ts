/**
 * APF in the apiserver handler: a flood of pod creates from ordinary users saturates the server
 * while a node renews its Lease; the renewals keep a small latency because the flood waits in
 * global-default's queues, not on the event loop. In-process (memory store, no sockets).
 */
import { describe, it, expect, afterEach } from "vitest";
import { createMemoryStore } from "../../store/memory.ts";
import type { Store } from "../../store/types.ts";
import type { TokenEntry } from "../../auth/authenticate.ts";
import { createApiServer, type ApiServer } from "../server.ts";
import { bodyJson, fakeRequest } from "../_testing.ts";
import type { GateOptions } from "./controller.ts";
import { HEADER_FLOW_SCHEMA_UID, HEADER_PRIORITY_LEVEL_UID } from "./controller.ts";
import { DEFAULT_FLOW_SCHEMAS } from "./bootstrap.ts";

const FLOODERS = 8;
const PER_FLOODER = 40;

/**
 * The memory store answers within microtasks, so a flood would never yield to the event loop;
 * a real store (WAL fsync, etcd) answers from I/O. Each txn/range here resolves one macrotask
 * later, so requests interleave on the event loop as they do in a real server.
 */
function withIoLatency(s: Store): Store {
  const later = <T>(p: Promise<T>): Promise<T> => p.then((v) => new Promise<T>((r) => setImmediate(() => r(v))));
  return {
    range: (o) => later(s.range(o)),
    txn: (t) => later(s.txn(t)),
    put: (k, v) => s.put(k, v),
    delete: (sel) => s.delete(sel),
    watch: (o, h) => s.watch(o, h),
    compact: (r) => s.compact(r),
    currentRevision: () => s.currentRevision(),
    compactedRevision: () => s.compactedRevision(),
    close: () => s.close(),
  };
}
const tokens = new Map<string, TokenEntry>([
  ["admin", { user: "admin", groups: ["system:masters"] }],
  ["node", { user: "system:node:n1", groups: ["system:nodes"] }],
  ...Array.from({ length: FLOODERS }, (_, i) => [`user${i}`, { user: `user-${i}`, groups: [] }] as [string, TokenEntry]),
]);

let store: Store | undefined;
let api: ApiServer | undefined;
afterEach(async () => {
  await api?.stop();
  await store?.close();
});

async function start(flowControl: GateOptions | false): Promise<ApiServer> {
  store = createMemoryStore();
  api = createApiServer({ store: withIoLatency(store), tokens, compactIntervalMs: 0, flowControl });
  await api.start();
  return api;
}

const call = (a: ApiServer, token: string, method: string, url: string, body?: object) =>
  a.handler(fakeRequest(method, url, {
    headers: { authorization: `Bearer ${token}`, ...(method === "PATCH" ? { "content-type": "application/merge-patch+json" } : {}) },
    ...(body ? { body } : {}),
  }));

const pod = (name: string) => ({
  apiVersion: "v1", kind: "Pod", metadata: { name, namespace: "default" },
  spec: { containers: [{ name: "c", image: "pause" }] },
});

const pct = (xs: number[], q: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(q * xs.length) - 1)] ?? NaN;

/** Floods `perUser` creates per flooder (all at once) and renews the node's lease `renewals` times meanwhile. */
async function floodWithLeases(a: ApiServer, perUser: number, renewals: number) {
  const lease = { apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name: "n1", namespace: "kube-node-lease" }, spec: { holderIdentity: "n1", leaseDurationSeconds: 40 } };
  expect((await call(a, "node", "POST", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", lease)).status).toBe(201);
  const t0 = performance.now();
  const statuses = new Map<number, number>();
  const flood = Promise.all(Array.from({ length: FLOODERS * perUser }, async (_, i) => {
    const r = await call(a, `user${i % FLOODERS}`, "POST", "/api/v1/namespaces/default/pods", pod(`p-${i}`));
    statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    return r;
  }));
  const leaseLat: number[] = [];
  let leaseHeaders: Readonly<Record<string, string>> = {};
  for (let i = 0; i < renewals; i++) {
    await new Promise((r) => setImmediate(r));
    const s = performance.now();
    const r = await call(a, "node", "PATCH", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1", { spec: { renewTime: new Date().toISOString() } });
    leaseLat.push(performance.now() - s);
    expect(r.status).toBe(200);
    leaseHeaders = r.headers ?? {};
  }
  const leasesDone = performance.now() - t0;
  await flood;
  const floodMs = performance.now() - t0;
  return { leaseP99: pct(leaseLat, 0.99), leasesDone, floodMs, statuses, leaseHeaders };
}

describe("flow control in the apiserver", () => {
  it("keeps lease renewals fast while ordinary users flood pod creates", async () => {
    // 20 seats: global-default 2, node-high 4 (a tiny server, so the test stays small).
    const a = await start({ maxRequestsInflight: 20, maxMutatingRequestsInflight: 0, queueWaitMs: 60_000 });
    const r = await floodWithLeases(a, PER_FLOODER, 20);
    // every create went through (queued, none rejected: 8 flows × hand of 6 queues × 50)
    expect(Object.fromEntries(r.statuses)).toEqual({ 201: FLOODERS * PER_FLOODER });
    expect(r.leaseHeaders[HEADER_FLOW_SCHEMA_UID]).toBe(DEFAULT_FLOW_SCHEMAS.find((s) => s.name === "system-node-high")?.uid);
    expect(r.leaseHeaders[HEADER_PRIORITY_LEVEL_UID]).toBeDefined();
    // all 20 renewals finished while the flood was still being worked off, each fast
    expect(r.leasesDone).toBeLessThan(r.floodMs * 0.6);
    expect(r.leaseP99).toBeLessThan(Math.max(25, r.floodMs * 0.1));
    const metrics = await (await call(a, "admin", "GET", "/metrics")).body;
    expect(String(metrics)).toContain(`apiserver_flowcontrol_dispatched_requests_total{priority_level="global-default",flow_schema="global-default"} ${FLOODERS * PER_FLOODER}`);
    if (process.env["APF_TEST_VERBOSE"]) {
      console.log("with flow control", { leaseP99: r.leaseP99, leasesDone: r.leasesDone, floodMs: r.floodMs });
      await api?.stop();
      await store?.close();
      const b = await floodWithLeases(await start(false), PER_FLOODER, 20);
      console.log("without flow control", { leaseP99: b.leaseP99, leasesDone: b.leasesDone, floodMs: b.floodMs });
    }
  }, 30_000);

  it("answers 429 with Retry-After and a Status once the queues are full", async () => {
    // 1 seat per level; one flow has 6 queues × 50 = 300 places
    const a = await start({ maxRequestsInflight: 1, maxMutatingRequestsInflight: 0, queueWaitMs: 60_000 });
    const all = await Promise.all(Array.from({ length: 400 }, (_, i) => call(a, "user0", "POST", "/api/v1/namespaces/default/pods", pod(`q-${i}`))));
    const rejected = all.filter((r) => r.status === 429);
    expect(rejected.length).toBe(400 - 301);
    const r = rejected[0]!;
    expect(r.headers?.["retry-after"]).toBe("1");
    expect(r.headers?.[HEADER_FLOW_SCHEMA_UID]).toBeDefined();
    expect(await bodyJson(r)).toMatchObject({ kind: "Status", code: 429, reason: "TooManyRequests", message: "Too many requests, please try again later.", details: { retryAfterSeconds: 1 } });
  }, 30_000);

  it("admin (system:masters) is exempt and flow control can be turned off", async () => {
    const a = await start(false);
    const r = await call(a, "admin", "GET", "/api/v1/namespaces");
    expect(r.status).toBe(200);
    expect(r.headers?.[HEADER_FLOW_SCHEMA_UID]).toBeUndefined();
  });
});
