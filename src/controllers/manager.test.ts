/**
 * The controller-manager against a real in-process control plane (memory store, h2c): leader
 * election between two managers, and a Deployment turned into a ReplicaSet and pods.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeObject } from "../api/object.ts";
import { createMemoryStore } from "../store/memory.ts";
import { defaultDeps, startControlPlane, type ControlPlane } from "../server/control-plane.ts";
import { createClient, type Client } from "../client/client.ts";
import { loadKubeconfig } from "../client/kubeconfig.ts";
import { ControllerManager, selectControllers, startControllerManager } from "./manager.ts";

let cp: ControlPlane;
let client: Client;
let dir: string;
const managers: ControllerManager[] = [];

const FAST = { leaseDurationSeconds: 2, renewDeadlineMs: 1500, retryPeriodMs: 200 };

async function until<T>(f: () => Promise<T | undefined> | T | undefined, ms = 10_000, what = "condition"): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tug-cm-"));
  cp = await startControlPlane({
    dataDir: dir, listen: { host: "127.0.0.1", port: 0 }, kubeconfigOut: join(dir, "kubeconfig"), insecurePlaintext: true,
    disable: ["controller-manager"],
  }, { ...defaultDeps, openStore: async () => createMemoryStore() });
  client = createClient(loadKubeconfig(cp.kubeconfigPath));
});

afterAll(async () => {
  for (const m of managers) await m.stop();
  client?.close();
  await cp?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const ALL = ["deployment", "replicaset", "garbagecollector", "namespace", "serviceaccount", "statefulset", "daemonset", "job", "cronjob", "ttl-after-finished",
  "nodelifecycle", "endpointslice", "endpoints", "podgc", "disruption"];

describe("selectControllers", () => {
  it.each([
    [[], ALL],
    [["*"], ALL],
    [["*,-namespace"], ALL.filter((n) => n !== "namespace")],
    [["replicaset", "deployment"], ["deployment", "replicaset"]],
  ])("%j -> %j", (spec, want) => {
    expect(selectControllers(spec)).toEqual(want);
  });
  it("rejects unknown names", () => {
    expect(() => selectControllers(["statefulsets"])).toThrow('unknown controller "statefulsets" in --controllers');
  });
});

describe("controller-manager against an apiserver", () => {
  it("two managers: exactly one leads; the other takes over when it stops", async () => {
    const logs: string[] = [];
    const opts = { client, leaderElection: FAST, log: (m: string) => logs.push(m), controllers: ["serviceaccount"] };
    const a = startControllerManager(opts);
    const b = startControllerManager(opts);
    managers.push(a, b);
    await until(() => a.isActive() || b.isActive(), 10_000, "a leader");
    for (let i = 0; i < 15; i++) {
      expect(Number(a.isActive()) + Number(b.isActive())).toBe(1);
      await new Promise((r) => setTimeout(r, 100));
    }
    const [leader, follower] = a.isActive() ? [a, b] : [b, a];
    const lease = await client.resourceFor("coordination.k8s.io/v1", "Lease").namespace("kube-system").get("kube-controller-manager");
    expect((lease["spec"] as { holderIdentity: string }).holderIdentity).toBe(leader.elector?.config.identity);
    await leader.stop();
    await until(() => follower.isActive(), 10_000, "takeover");
    expect(leader.isActive()).toBe(false);
    await follower.stop();
  });

  it("a Deployment becomes a ReplicaSet and 3 pods; the default ServiceAccount appears in a new namespace", async () => {
    const cm = startControllerManager({ client, leaderElect: false, log: () => {} });
    managers.push(cm);
    await client.resourceFor("v1", "Namespace").create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "cm1" } });
    const d: KubeObject = {
      apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", namespace: "cm1" },
      spec: { replicas: 3, selector: { matchLabels: { app: "web" } }, template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "nginx", image: "nginx" }] } } },
    };
    await client.resourceFor("apps/v1", "Deployment").create(d);
    const pods = client.resourceFor("v1", "Pod").namespace("cm1");
    const list = await until(async () => {
      const l = await pods.list();
      return l.items.length === 3 ? l : undefined;
    }, 15_000, "3 pods");
    for (const p of list.items) {
      expect(p.metadata?.name).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]+-[a-z0-9]{5}$/);
      expect(p.metadata?.ownerReferences?.[0]).toMatchObject({ kind: "ReplicaSet", controller: true, blockOwnerDeletion: true });
    }
    await until(async () => (await client.resourceFor("v1", "ServiceAccount").namespace("cm1").list()).items.some((s) => s.metadata?.name === "default") || undefined, 10_000, "default SA");
    const status = await until(async () => {
      const got = await client.resourceFor("apps/v1", "Deployment").namespace("cm1").get("web");
      const s = got["status"] as { replicas?: number; unavailableReplicas?: number } | undefined;
      return s?.replicas === 3 ? s : undefined;
    }, 10_000, "deployment status");
    expect(status.unavailableReplicas).toBe(3);
    await client.resourceFor("apps/v1", "Deployment").namespace("cm1").delete("web");
    await until(async () => ((await pods.list()).items.length === 0 ? true : undefined), 15_000, "pods collected");
    expect(cm.metricsText()).toMatch(/tug_controller_syncs_total\{controller="deployment"\} [1-9]/);
  });
});
