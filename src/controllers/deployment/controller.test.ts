import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../api/object.ts";
import type { Deployment, ReplicaSet } from "../../api/generated/apps_v1.ts";
import { DEPLOYMENTS, PODS, REPLICASETS } from "../framework/resources.ts";
import { fakeKit, pod } from "../framework/testing.ts";
import { DeploymentController } from "./controller.ts";

function deployment(extra: { replicas?: number; image?: string; strategy?: unknown; paused?: boolean; selector?: unknown; generation?: number } = {}): KubeObject {
  return {
    apiVersion: "apps/v1", kind: "Deployment",
    metadata: { name: "web", namespace: "default", uid: "d-uid", resourceVersion: "10", generation: extra.generation ?? 1 },
    spec: {
      replicas: extra.replicas ?? 3,
      selector: extra.selector ?? { matchLabels: { app: "web" } },
      template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "nginx", image: extra.image ?? "nginx" }] } },
      strategy: extra.strategy ?? { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" } },
      revisionHistoryLimit: 10, progressDeadlineSeconds: 600,
      ...(extra.paused ? { paused: true } : {}),
    },
  };
}

function setup(d: KubeObject) {
  const kit = fakeKit();
  const c = new DeploymentController(kit.ctx, kit.queue);
  kit.informers.seed(DEPLOYMENTS, d);
  kit.writer.seed(DEPLOYMENTS, d);
  /** Copies what was written into the caches (as the informers would see it). */
  const observe = (): void => {
    kit.informers.replace(DEPLOYMENTS, kit.writer.all(DEPLOYMENTS));
    kit.informers.replace(REPLICASETS, kit.writer.all(REPLICASETS));
  };
  /** Changes the deployment as a user would (spec change -> new generation). */
  const edit = (f: (d: Deployment) => void): void => {
    const cur = kit.writer.stored<KubeObject>(DEPLOYMENTS, "default", "web")!;
    const next = structuredClone(cur) as Deployment;
    f(next);
    next.metadata = { ...next.metadata, generation: (next.metadata?.generation ?? 1) + 1 };
    kit.writer.seed(DEPLOYMENTS, next as KubeObject);
    observe();
  };
  const rss = (): ReplicaSet[] => kit.writer.all(REPLICASETS) as ReplicaSet[];
  return { ...kit, c, observe, edit, rss };
}

const rev = (rs: ReplicaSet | undefined): string | undefined => rs?.metadata?.annotations?.["deployment.kubernetes.io/revision"];

describe("Deployment controller sync", () => {
  it("creates <name>-<hash> with the hash label/selector, revision 1, replica annotations and the controller ref", async () => {
    const k = setup(deployment());
    await k.c.sync("default/web");
    const [rs] = k.rss();
    const hash = rs?.metadata?.labels?.["pod-template-hash"];
    expect(hash).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]+$/);
    expect(rs?.metadata?.name).toBe(`web-${hash}`);
    expect(rs?.spec?.replicas).toBe(3);
    expect(rs?.spec?.selector?.matchLabels).toEqual({ app: "web", "pod-template-hash": hash });
    expect(rs?.spec?.template?.metadata?.labels).toEqual({ app: "web", "pod-template-hash": hash });
    expect(rs?.metadata?.annotations).toEqual({
      "deployment.kubernetes.io/revision": "1", "deployment.kubernetes.io/desired-replicas": "3", "deployment.kubernetes.io/max-replicas": "4",
    });
    expect(rs?.metadata?.ownerReferences).toEqual([{ apiVersion: "apps/v1", kind: "Deployment", name: "web", uid: "d-uid", controller: true, blockOwnerDeletion: true }]);
    const d = k.writer.stored<Deployment & KubeObject>(DEPLOYMENTS, "default", "web");
    expect(d?.metadata?.annotations?.["deployment.kubernetes.io/revision"]).toBe("1");
    expect(d?.status?.conditions?.find((c) => c.type === "Progressing")).toMatchObject({ status: "True", reason: "NewReplicaSetCreated", message: `Created new replica set "web-${hash}"` });
    expect(k.recorder.events).toContain(`Normal ScalingReplicaSet Scaled up replica set web-${hash} from 0 to 3`);
  });

  it("writes the status fields rollout status reads", async () => {
    const k = setup(deployment());
    await k.c.sync("default/web");
    k.observe();
    await k.c.sync("default/web");
    const d = k.writer.stored<Deployment & KubeObject>(DEPLOYMENTS, "default", "web");
    expect(d?.status).toMatchObject({ observedGeneration: 1, replicas: 0, updatedReplicas: 0, readyReplicas: 0, availableReplicas: 0, unavailableReplicas: 3 });
    expect(d?.status?.conditions?.find((c) => c.type === "Available")).toMatchObject({ status: "False", reason: "MinimumReplicasUnavailable" });
  });

  it("set image: a new RS at revision 2 surges one pod while the old keeps 3 (nothing available)", async () => {
    const k = setup(deployment());
    await k.c.sync("default/web");
    k.observe();
    k.edit((d) => { d.spec!.template!.spec!.containers![0]!.image = "nginx:2"; });
    await k.c.sync("default/web");
    const all = k.rss().sort((a, b) => Number(rev(a)) - Number(rev(b)));
    expect(all.map((r) => [rev(r), r.spec?.replicas])).toEqual([["1", 3], ["2", 1]]);
    expect(k.writer.stored<KubeObject>(DEPLOYMENTS, "default", "web")?.metadata?.annotations?.["deployment.kubernetes.io/revision"]).toBe("2");
  });

  it("rolling update proceeds as pods become available, and completes", async () => {
    const k = setup(deployment());
    await k.c.sync("default/web");
    k.observe();
    k.edit((d) => { d.spec!.template!.spec!.containers![0]!.image = "nginx:2"; });
    const avail = (): void => {
      for (const r of k.rss()) k.writer.seed(REPLICASETS, { ...r, status: { replicas: r.spec?.replicas, readyReplicas: r.spec?.replicas, availableReplicas: r.spec?.replicas, observedGeneration: r.metadata?.generation } } as KubeObject);
      k.observe();
    };
    for (let i = 0; i < 12; i++) {
      await k.c.sync("default/web");
      avail();
    }
    const sizes = k.rss().map((r) => [rev(r), r.spec?.replicas]).sort();
    expect(sizes).toEqual([["1", 0], ["2", 3]]);
    const d = k.writer.stored<Deployment & KubeObject>(DEPLOYMENTS, "default", "web");
    expect(d?.status).toMatchObject({ replicas: 3, updatedReplicas: 3, availableReplicas: 3, unavailableReplicas: 0 });
    expect(d?.status?.conditions?.find((c) => c.type === "Progressing")?.reason).toBe("NewReplicaSetAvailable");
    // never more than replicas + maxSurge (4) pods asked for, never fewer than 3 available: checked through the RS updates
    for (const call of k.writer.writes("update", "replicasets")) expect(call.object).toBeDefined();
  });

  it("rollback (template back to revision 1) reuses the old RS, now revision 3 with history 1", async () => {
    const k = setup(deployment());
    await k.c.sync("default/web");
    k.observe();
    k.edit((d) => { d.spec!.template!.spec!.containers![0]!.image = "nginx:2"; });
    await k.c.sync("default/web");
    k.observe();
    k.edit((d) => { d.spec!.template!.spec!.containers![0]!.image = "nginx"; });
    await k.c.sync("default/web");
    const all = k.rss();
    expect(all).toHaveLength(2);
    const first = all.find((r) => r.spec?.template?.spec?.containers?.[0]?.image === "nginx");
    expect(rev(first)).toBe("3");
    expect(first?.metadata?.annotations?.["deployment.kubernetes.io/revision-history"]).toBe("1");
  });

  it("scaling with one active RS resizes it and refreshes its annotations", async () => {
    const k = setup(deployment());
    await k.c.sync("default/web");
    k.observe();
    k.edit((d) => { d.spec!.replicas = 5; });
    k.writer.reset();
    await k.c.sync("default/web");
    const [rs] = k.rss();
    expect(rs?.spec?.replicas).toBe(5);
    expect(rs?.metadata?.annotations?.["deployment.kubernetes.io/desired-replicas"]).toBe("5");
    expect(k.recorder.events.at(-1)).toMatch(/Scaled up replica set web-\w+ from 3 to 5/);
  });

  it("paused: no new RS for a changed template, the Progressing condition says DeploymentPaused", async () => {
    const k = setup(deployment());
    await k.c.sync("default/web");
    k.observe();
    k.edit((d) => { d.spec!.paused = true; d.spec!.template!.spec!.containers![0]!.image = "nginx:3"; });
    await k.c.sync("default/web");
    expect(k.rss()).toHaveLength(1);
    const d = k.writer.stored<Deployment & KubeObject>(DEPLOYMENTS, "default", "web");
    expect(d?.status?.conditions?.find((c) => c.type === "Progressing")).toMatchObject({ status: "Unknown", reason: "DeploymentPaused" });
    k.edit((x) => { x.spec!.paused = false; });
    await k.c.sync("default/web");
    expect(k.rss()).toHaveLength(2);
  });

  it("Recreate scales old RSs to 0 and waits for their pods before creating the new RS", async () => {
    const k = setup(deployment({ strategy: { type: "Recreate" } }));
    await k.c.sync("default/web");
    k.observe();
    const [first] = k.rss();
    k.informers.seed(PODS, pod("web-old-1", { labels: { app: "web" }, owner: first as KubeObject, phase: "Running" }));
    k.edit((d) => { d.spec!.template!.spec!.containers![0]!.image = "nginx:2"; });
    await k.c.sync("default/web");
    expect(k.rss().map((r) => r.spec?.replicas)).toEqual([0]);
    k.observe();
    await k.c.sync("default/web");
    expect(k.rss()).toHaveLength(1); // a pod of the old RS still runs
    k.informers.replace(PODS, []);
    k.writer.seed(REPLICASETS, { ...(first as KubeObject), spec: { ...first?.spec, replicas: 0 }, status: { replicas: 0 } });
    k.observe();
    await k.c.sync("default/web");
    expect(k.rss().map((r) => r.spec?.replicas).sort()).toEqual([0, 3]);
  });

  it("progressDeadlineSeconds: no progress past the deadline -> ProgressDeadlineExceeded", async () => {
    const k = setup(deployment());
    await k.c.sync("default/web");
    k.observe();
    await k.c.sync("default/web");
    k.observe();
    const r = await k.c.sync("default/web");
    expect(r).toEqual({ requeueAfterMs: 600_000 });
    k.setNow("2024-01-01T00:10:01Z");
    await k.c.sync("default/web");
    const d = k.writer.stored<Deployment & KubeObject>(DEPLOYMENTS, "default", "web");
    expect(d?.status?.conditions?.find((c) => c.type === "Progressing")).toMatchObject({ status: "False", reason: "ProgressDeadlineExceeded" });
  });

  it("a hash collision with a foreign RS bumps collisionCount and fails the sync", async () => {
    const k = setup(deployment());
    await k.c.sync("default/web");
    const [rs] = k.rss();
    // Replace the RS with a foreign one of the same name
    k.writer.seed(REPLICASETS, { ...(rs as KubeObject), metadata: { ...rs?.metadata, ownerReferences: [] }, spec: { ...rs?.spec, template: { metadata: { labels: { app: "other" } } } } });
    await expect(k.c.sync("default/web")).rejects.toThrow(/collisionCount is now 1/);
    expect(k.writer.stored<Deployment & KubeObject>(DEPLOYMENTS, "default", "web")?.status?.collisionCount).toBe(1);
  });

  it("an empty selector is reported with a SelectingAll event, nothing is created", async () => {
    const k = setup(deployment({ selector: {} }));
    await k.c.sync("default/web");
    expect(k.rss()).toEqual([]);
    expect(k.recorder.events).toEqual(["Warning SelectingAll This deployment is selecting all pods. A non-empty selector is required."]);
  });

  it("a deleting deployment only gets its status synced", async () => {
    const d = deployment();
    d.metadata = { ...d.metadata, deletionTimestamp: "2024-01-01T00:00:00Z" };
    const k = setup(d);
    await k.c.sync("default/web");
    expect(k.writer.summary()).toEqual(["updateStatus deployments default/web"]);
  });
});
