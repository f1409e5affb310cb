import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../api/object.ts";
import { createClient } from "../client/client.ts";
import { loadKubeconfig } from "../client/kubeconfig.ts";
import type { WatchEvent } from "../client/watch.ts";
import { COMPONENTS } from "../server/components.ts";
import { defaultDeps, startControlPlane } from "../server/control-plane.ts";
import { createMemoryStore } from "../store/memory.ts";
import { eventPrefixes, ExpiryTracker, startEventTtl } from "./eventttl.ts";
import type { KindInfo } from "./ports.ts";

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 10));

describe("ExpiryTracker", () => {
  it("lists keys due in expiry order; a touch re-arms; seen keeps a known revision's expiry", () => {
    const t = new ExpiryTracker(100);
    t.touch("a", 1, 0);
    t.touch("b", 2, 10);
    t.touch("c", 3, 20);
    expect(t.due(99)).toEqual([]);
    expect(t.due(110)).toEqual([{ key: "a", modRevision: 1 }, { key: "b", modRevision: 2 }]);
    t.touch("a", 4, 50); // updated: expires at 150
    expect(t.due(125).map((d) => d.key)).toEqual(["b", "c"]);
    t.seen("b", 2, 60); // same revision re-listed: keeps 110
    t.seen("c", 5, 60); // newer revision: re-armed to 160
    expect(t.due(155).map((d) => d.key)).toEqual(["b", "a"]);
    expect(t.due(1000, 1)).toHaveLength(1);
  });

  it("forget with a revision only forgets that revision", () => {
    const t = new ExpiryTracker(10);
    t.touch("a", 1, 0);
    t.forget("a", 2);
    expect(t.size).toBe(1);
    t.forget("a", 1);
    expect(t.size).toBe(0);
    expect(() => new ExpiryTracker(0)).toThrow(/the event TTL must be positive/);
  });

  it("eventPrefixes picks core and events.k8s.io events only", () => {
    const info = (group: string, plural: string): KindInfo => ({ group, version: "v1", kind: "X", listKind: "XList", plural, singular: "x", namespaced: true, shortNames: [], categories: [], subresources: [] });
    expect(eventPrefixes([
      { info: info("", "events"), prefix: "/registry/events/" },
      { info: info("events.k8s.io", "events"), prefix: "/registry/events.k8s.io/events/" },
      { info: info("example.com", "events"), prefix: "/registry/example.com/events/" },
      { info: info("", "pods"), prefix: "/registry/pods/" },
    ])).toEqual(["/registry/events/", "/registry/events.k8s.io/events/"]);
  });
});

describe("startEventTtl over a store (fake clock)", () => {
  it("deletes events TTL after their last update, keeps updated ones and other keys", async () => {
    const store = createMemoryStore();
    let now = 1_000_000;
    await store.put("/registry/events/ns/old", enc("x")); // present at start: a full TTL from start
    const ttl = startEventTtl({ store, prefixes: ["/registry/events/"], ttlMs: 1000, now: () => now, sweepIntervalMs: 60_000 });
    await ttl.ready;
    await store.put("/registry/events/ns/a", enc("1"));
    await store.put("/registry/events/ns/b", enc("1"));
    await store.put("/registry/pods/ns/p", enc("pod"));
    await settle();
    expect(ttl.stats.tracked).toBe(3);
    now += 600;
    await store.put("/registry/events/ns/b", enc("2")); // b re-armed until +1600
    await settle();
    now += 500; // 1100 since start
    expect(await ttl.sweep()).toBe(2);
    const left = await store.range({ key: "/registry/", prefix: true });
    expect(left.kvs.map((k) => k.key)).toEqual(["/registry/events/ns/b", "/registry/pods/ns/p"]);
    now += 600;
    expect(await ttl.sweep()).toBe(1);
    expect(ttl.stats).toMatchObject({ expired: 3, tracked: 0 });
    ttl.stop();
  });

  it("an update racing the sweep wins (compare on modRevision)", async () => {
    const store = createMemoryStore();
    let now = 0;
    const ttl = startEventTtl({ store, prefixes: ["/registry/events/"], ttlMs: 100, now: () => now, sweepIntervalMs: 60_000 });
    await ttl.ready;
    await store.put("/registry/events/ns/a", enc("1"));
    await settle();
    now = 200;
    // written after the tracker saw revision 1 but before its watch delivers: the delete must not apply
    const origTxn = store.txn.bind(store);
    let raced = false;
    store.txn = async (t) => {
      if (!raced) { raced = true; await store.put("/registry/events/ns/a", enc("2")); }
      return origTxn(t);
    };
    expect(await ttl.sweep()).toBe(0);
    expect((await store.range({ key: "/registry/events/ns/a" })).kvs).toHaveLength(1);
    expect(ttl.stats.skipped).toBe(1);
    ttl.stop();
  });
});

describe("event TTL in the apiserver (--event-ttl)", () => {
  it("core/v1 and events.k8s.io/v1 Events disappear after the TTL with a DELETED watch event", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tug-ttl-"));
    const cp = await startControlPlane({
      dataDir: dir, listen: { host: "127.0.0.1", port: 0 }, kubeconfigOut: join(dir, "kubeconfig"), insecurePlaintext: true,
      disable: COMPONENTS.filter((c) => !c.required).map((c) => c.name), eventTtlMs: 300,
    }, { ...defaultDeps, openStore: async () => createMemoryStore() });
    const client = createClient(loadKubeconfig(cp.kubeconfigPath));
    try {
      const core = client.resourceFor("v1", "Event").namespace("default");
      const v1 = client.resourceFor("events.k8s.io/v1", "Event").namespace("default");
      const watch = await core.watch({ resourceVersion: (await core.list()).metadata.resourceVersion ?? "" });
      const seen: WatchEvent[] = [];
      const reading = (async () => { for await (const ev of watch) { seen.push(ev); if (ev.type === "DELETED") break; } })();
      const t0 = Date.now();
      await core.create({
        apiVersion: "v1", kind: "Event", metadata: { name: "e1", namespace: "default" },
        involvedObject: { kind: "Pod", name: "p", namespace: "default" }, reason: "R", message: "m", type: "Normal",
      } as KubeObject);
      await v1.create({
        apiVersion: "events.k8s.io/v1", kind: "Event", metadata: { name: "e2", namespace: "default" },
        eventTime: "2025-01-01T00:00:00.000000Z", reportingController: "c", reportingInstance: "i", action: "A", reason: "R", type: "Normal",
        regarding: { kind: "Pod", name: "p", namespace: "default" },
      } as KubeObject);
      await Promise.race([reading, new Promise((r) => setTimeout(r, 5000))]);
      watch.stop();
      expect(seen.map((e) => e.type)).toEqual(["ADDED", "DELETED"]);
      expect(seen[1]!.object.metadata?.name).toBe("e1");
      expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
      for (let i = 0; i < 50 && (await v1.list()).items.length > 0; i++) await new Promise((r) => setTimeout(r, 100));
      expect((await core.list()).items).toEqual([]);
      expect((await v1.list()).items).toEqual([]);
    } finally {
      client.close();
      await cp.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 20_000);
});
