/**
 * The broadcaster and `clientEventSink` against a real in-process control plane (memory store,
 * h2c, no controllers): create then count patches, the re-create of an Event that is gone, the
 * events.k8s.io/v1 path with series, and recording against an unreachable apiserver.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeObject } from "../../api/object.ts";
import { COMPONENTS } from "../../server/components.ts";
import { defaultDeps, startControlPlane, type ControlPlane } from "../../server/control-plane.ts";
import { createMemoryStore } from "../../store/memory.ts";
import { createClient, type Client } from "../client.ts";
import { loadKubeconfig } from "../kubeconfig.ts";
import { EventBroadcaster } from "./broadcaster.ts";
import { clientEventSink, patchToEventsV1, toEventsV1 } from "./sink.ts";
import type { ObjectReference } from "./types.ts";

let cp: ControlPlane;
let client: Client;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tug-events-"));
  cp = await startControlPlane({
    dataDir: dir, listen: { host: "127.0.0.1", port: 0 }, kubeconfigOut: join(dir, "kubeconfig"), insecurePlaintext: true,
    disable: COMPONENTS.filter((c) => !c.required).map((c) => c.name),
  }, { ...defaultDeps, openStore: async () => createMemoryStore() });
  client = createClient(loadKubeconfig(cp.kubeconfigPath));
}, 30_000);

afterAll(async () => {
  client?.close();
  await cp?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const pod = (name: string): ObjectReference => ({ apiVersion: "v1", kind: "Pod", namespace: "default", name, uid: `uid-${name}` });
const coreEvents = () => client.resourceFor("v1", "Event").namespace("default");
const v1Events = () => client.resourceFor("events.k8s.io/v1", "Event").namespace("default");

async function coreEventsOf(name: string): Promise<KubeObject[]> {
  return (await coreEvents().list({ fieldSelector: `involvedObject.name=${name}` })).items;
}

describe("EventBroadcaster over the client (core/v1)", () => {
  it("creates an Event, then patches its count; a deleted Event is re-created with the full count", async () => {
    const b = new EventBroadcaster({ sink: clientEventSink(client) });
    const rec = b.newRecorder({ component: "kubelet", host: "n1" });
    rec.event({ ...pod("web"), fieldPath: "spec.containers{c}" }, "Warning", "BackOff", "Back-off restarting failed container c");
    await b.flush();
    rec.event({ ...pod("web"), fieldPath: "spec.containers{c}" }, "Warning", "BackOff", "Back-off restarting failed container c");
    await b.flush();
    let evs = await coreEventsOf("web");
    expect(evs).toHaveLength(1);
    expect(evs[0]).toMatchObject({
      reason: "BackOff", type: "Warning", count: 2, source: { component: "kubelet", host: "n1" },
      involvedObject: { kind: "Pod", name: "web", fieldPath: "spec.containers{c}" },
    });
    expect(b.stats).toMatchObject({ recorded: 2, created: 1, patched: 1, failed: 0, dropped: 0 });

    await coreEvents().delete(evs[0]!.metadata!.name!); // e.g. expired by the event TTL
    rec.event({ ...pod("web"), fieldPath: "spec.containers{c}" }, "Warning", "BackOff", "Back-off restarting failed container c");
    await b.flush();
    evs = await coreEventsOf("web");
    expect(evs).toHaveLength(1);
    expect(evs[0]).toMatchObject({ count: 3 });
    expect(b.stats).toMatchObject({ created: 2, patched: 1, failed: 0 });
    b.close();
  });

  it("a burst of similar events: at most 25 writes reach the apiserver, combined after 10", async () => {
    const b = new EventBroadcaster({ sink: clientEventSink(client) });
    const rec = b.newRecorder({ component: "replicaset-controller" });
    const rs: ObjectReference = { apiVersion: "apps/v1", kind: "ReplicaSet", namespace: "default", name: "burst-rs", uid: "rs-1" };
    for (let i = 0; i < 100; i++) rec.event(rs, "Normal", "SuccessfulCreate", `Created pod: burst-rs-${i}`);
    await b.flush();
    const evs = await coreEventsOf("burst-rs");
    expect(evs).toHaveLength(10); // 9 single + 1 combined
    const combined = evs.find((e) => String(e["message"]).startsWith("(combined from similar events): "));
    expect(combined?.["count"]).toBeGreaterThanOrEqual(2);
    expect(b.stats.spamFiltered).toBe(75);
    expect(b.stats.created + b.stats.patched + b.stats.coalesced).toBe(25);
    b.close();
  });

  it("series style over core/v1: one Event with series.count", async () => {
    const b = new EventBroadcaster({ sink: clientEventSink(client), tickIntervalMs: 0 });
    const rec = b.newRecorder({ component: "default-scheduler", instance: "s1", style: "series" });
    for (let i = 0; i < 5; i++) rec.event(pod("big"), "Warning", "FailedScheduling", `0/${i} nodes are available`, { action: "Scheduling" });
    await b.flush();
    const evs = await coreEventsOf("big");
    expect(evs).toHaveLength(1);
    expect(evs[0]).toMatchObject({ reason: "FailedScheduling", action: "Scheduling", reportingComponent: "default-scheduler", series: { count: 5 }, message: "0/4 nodes are available" });
    b.close();
  });
});

describe("EventBroadcaster over the client (events.k8s.io/v1)", () => {
  it("maps core fields to events.k8s.io names", () => {
    const e = toEventsV1({ apiVersion: "v1", kind: "Event", metadata: { name: "a", namespace: "ns" }, involvedObject: { kind: "Pod", name: "p" }, reason: "R", message: "m", type: "Normal", source: { component: "c" }, firstTimestamp: "2025-01-01T00:00:00Z", count: 1, reportingComponent: "c", reportingInstance: "i" });
    expect(e).toMatchObject({ apiVersion: "events.k8s.io/v1", regarding: { kind: "Pod", name: "p" }, note: "m", action: "R", reportingController: "c", eventTime: "2025-01-01T00:00:00.000000Z", deprecatedSource: { component: "c" }, deprecatedCount: 1 });
    expect(patchToEventsV1({ message: "m", count: 2, series: { count: 2 } })).toEqual({ note: "m", deprecatedCount: 2, series: { count: 2 } });
  });

  it("creates then patches the series of an events.k8s.io/v1 Event", async () => {
    const b = new EventBroadcaster({ sink: clientEventSink(client, "events.k8s.io/v1"), tickIntervalMs: 0 });
    const rec = b.newRecorder({ component: "default-scheduler", instance: "s1", style: "series" });
    rec.event(pod("v1pod"), "Normal", "Scheduled", "Successfully assigned default/v1pod to n1", { action: "Binding" });
    await b.flush();
    const created = (await v1Events().list()).items.filter((e) => (e["regarding"] as ObjectReference | undefined)?.name === "v1pod");
    expect(created).toHaveLength(1);
    expect(created[0]).toMatchObject({ reportingController: "default-scheduler", reportingInstance: "s1", action: "Binding", note: "Successfully assigned default/v1pod to n1" });
    rec.event(pod("v1pod"), "Normal", "Scheduled", "Successfully assigned default/v1pod to n1", { action: "Binding" });
    rec.event(pod("v1pod"), "Normal", "Scheduled", "Successfully assigned default/v1pod to n1", { action: "Binding" });
    await b.flush();
    const after = await v1Events().get(created[0]!.metadata!.name!);
    expect(after["series"]).toMatchObject({ count: 3 });
    expect(b.stats).toMatchObject({ failed: 0 });
    b.close();
  });
});

describe("EventBroadcaster against an unreachable apiserver", () => {
  it("recording never waits; writes are retried a bounded number of times, then given up", async () => {
    const dead = createClient({ ...loadKubeconfig(cp.kubeconfigPath), server: "http://127.0.0.1:1" }, { timeoutMs: 500 });
    const b = new EventBroadcaster({ sink: clientEventSink(dead), queue: { maxAttempts: 2, maxQueued: 5, concurrency: 1, backoff: { initialMs: 10, maxMs: 10 } } });
    const rec = b.newRecorder({ component: "x" });
    const t0 = performance.now();
    for (let i = 0; i < 1000; i++) rec.event(pod(`p${i}`), "Normal", "R", "m");
    expect(performance.now() - t0).toBeLessThan(500);
    await b.flush();
    expect(b.stats.created).toBe(0);
    expect(b.stats.failed + b.stats.dropped).toBe(1000);
    expect(b.stats.failed).toBe(6);
    b.close();
    dead.close();
  });
});
