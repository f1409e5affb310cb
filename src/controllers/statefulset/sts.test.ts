import { describe, expect, it } from "vitest";
import type { StatefulSet } from "../../api/generated/apps_v1.ts";
import type { KubeObject } from "../../api/object.ts";
import { CONTROLLERREVISIONS, PODS, PVCS, STATEFULSETS } from "../framework/resources.ts";
import { fakeKit, pod } from "../framework/testing.ts";
import type { ControllerRevisionLike } from "../framework/history.ts";
import { StatefulSetController } from "./controller.ts";
import { claimsFor, ordinalOf, planStatefulSet, podForOrdinal, statefulSetStatus, type Revisions } from "./sts.ts";

const T = Date.parse("2024-01-01T00:00:00Z");

function sts(spec: Record<string, unknown> = {}, status: Record<string, unknown> = {}): StatefulSet {
  return {
    apiVersion: "apps/v1", kind: "StatefulSet",
    metadata: { name: "web", namespace: "default", uid: "uid-web", resourceVersion: "4", generation: 2 },
    spec: {
      replicas: 3, serviceName: "nginx", podManagementPolicy: "OrderedReady", revisionHistoryLimit: 10,
      selector: { matchLabels: { app: "web" } },
      updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 0 } },
      template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "c", image: "nginx:1" }] } },
      ...spec,
    },
    status,
  } as StatefulSet;
}

const REV: Revisions = { current: "web-old", update: "web-new", templates: new Map() };

function sp(ord: number, o: { rev?: string; healthy?: boolean; phase?: string; deleting?: boolean } = {}): KubeObject {
  const healthy = o.healthy ?? true;
  const p = pod(`web-${ord}`, { labels: { app: "web", "controller-revision-hash": o.rev ?? "web-new" }, owner: sts() as KubeObject, ownerKind: "StatefulSet", phase: o.phase ?? (healthy ? "Running" : "Pending"), ready: healthy, ...(o.deleting ? { deleting: true } : {}) });
  return p;
}

const names = (xs: readonly KubeObject[]): string[] => xs.map((x) => x.metadata?.name ?? "");

describe("statefulset pure core", () => {
  it.each([["web-0", 0], ["web-12", 12], ["web-", undefined], ["web-01", undefined], ["webx-1", undefined], ["web-a", undefined]])("ordinalOf(%s)", (n, want) => {
    expect(ordinalOf("web", n)).toBe(want);
  });

  it.each([
    { name: "OrderedReady creates web-0 first", spec: {}, pods: [], create: [0], del: [] as string[] },
    { name: "waits for web-0 to be Running and Ready", spec: {}, pods: [sp(0, { healthy: false })], create: [], del: [] },
    { name: "creates web-1 once web-0 is ready", spec: {}, pods: [sp(0)], create: [1], del: [] },
    { name: "Parallel creates all at once", spec: { podManagementPolicy: "Parallel" }, pods: [], create: [0, 1, 2], del: [] },
    { name: "recreates a failed pod", spec: {}, pods: [sp(0, { phase: "Failed", healthy: false }), sp(1), sp(2)], create: [], del: ["web-0"] },
    { name: "scale down: highest ordinal first, one at a time", spec: { replicas: 1 }, pods: [sp(0), sp(1), sp(2)], create: [], del: ["web-2"] },
    { name: "scale down waits for a terminating pod", spec: { replicas: 1 }, pods: [sp(0), sp(1), sp(2, { deleting: true })], create: [], del: [] },
    { name: "scale down waits while another pod is unhealthy", spec: { replicas: 1 }, pods: [sp(0, { healthy: false }), sp(1), sp(2)], create: [], del: [] },
    { name: "Parallel scale down deletes all condemned", spec: { replicas: 1, podManagementPolicy: "Parallel" }, pods: [sp(0), sp(1), sp(2)], create: [], del: ["web-2", "web-1"] },
    { name: "rolling update: highest outdated ordinal first", spec: {}, pods: [sp(0, { rev: "web-old" }), sp(1, { rev: "web-old" }), sp(2, { rev: "web-old" })], create: [], del: ["web-2"] },
    { name: "rolling update waits for the updated pod to be ready", spec: {}, pods: [sp(0, { rev: "web-old" }), sp(1, { rev: "web-old" }), sp(2, { healthy: false })], create: [], del: [] },
    { name: "partition 2: only ordinals >= 2", spec: { updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 2 } } }, pods: [sp(0, { rev: "web-old" }), sp(1, { rev: "web-old" }), sp(2)], create: [], del: [] },
    { name: "maxUnavailable 2 updates two at a time", spec: { updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 2 } } }, pods: [sp(0, { rev: "web-old" }), sp(1, { rev: "web-old" }), sp(2, { rev: "web-old" })], create: [], del: ["web-2", "web-1"] },
    { name: "OnDelete leaves outdated pods", spec: { updateStrategy: { type: "OnDelete" } }, pods: [sp(0, { rev: "web-old" }), sp(1, { rev: "web-old" }), sp(2, { rev: "web-old" })], create: [], del: [] },
  ])("$name", ({ spec, pods, create, del }) => {
    const step = planStatefulSet(sts(spec), pods, REV, T);
    expect(step.create.map((c) => c.ordinal)).toEqual(create);
    expect(names(step.delete)).toEqual(del);
  });

  it("below the partition, re-created pods keep the current revision", () => {
    const s = sts({ updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 2 } } });
    const step = planStatefulSet(s, [sp(1, { rev: "web-old" }), sp(2)], REV, T);
    expect(step.create).toEqual([{ ordinal: 0, revision: "web-old" }]);
  });

  it("pods have stable identity, claims and labels", () => {
    const s = sts({ volumeClaimTemplates: [{ metadata: { name: "www" }, spec: { accessModes: ["ReadWriteOnce"] } }] });
    const p = podForOrdinal(s, undefined, 1, "web-abc");
    expect(p.metadata?.name).toBe("web-1");
    expect(p.metadata?.labels).toEqual({ app: "web", "statefulset.kubernetes.io/pod-name": "web-1", "apps.kubernetes.io/pod-index": "1", "controller-revision-hash": "web-abc" });
    expect(p.spec?.hostname).toBe("web-1");
    expect(p.spec?.subdomain).toBe("nginx");
    expect(p.spec?.volumes).toEqual([{ name: "www", persistentVolumeClaim: { claimName: "www-web-1" } }]);
    const [c] = claimsFor(s, 1);
    expect(c?.metadata).toMatchObject({ name: "www-web-1", labels: { app: "web" } });
    expect(c?.metadata?.ownerReferences).toBeUndefined();
    const del = claimsFor(sts({ volumeClaimTemplates: [{ metadata: { name: "www" } }], persistentVolumeClaimRetentionPolicy: { whenDeleted: "Delete", whenScaled: "Retain" } }), 0);
    expect(del[0]?.metadata?.ownerReferences).toEqual([{ apiVersion: "apps/v1", kind: "StatefulSet", name: "web", uid: "uid-web" }]);
  });

  it("status counts and completes the rollout when every pod is updated and ready", () => {
    const st = statefulSetStatus(sts(), [sp(0, { rev: "web-old" }), sp(1), sp(2, { healthy: false })], REV, T, undefined);
    expect(st).toMatchObject({ observedGeneration: 2, replicas: 3, readyReplicas: 2, availableReplicas: 2, currentReplicas: 1, updatedReplicas: 2, currentRevision: "web-old", updateRevision: "web-new", collisionCount: 0 });
    const done = statefulSetStatus(sts(), [sp(0), sp(1), sp(2)], REV, T, undefined);
    expect(done).toMatchObject({ currentRevision: "web-new", currentReplicas: 3, updatedReplicas: 3 });
  });
});

describe("statefulset controller sync", () => {
  function setup(s: StatefulSet, objs: Array<[typeof PODS, KubeObject]> = []) {
    const kit = fakeKit();
    const c = new StatefulSetController(kit.ctx, kit.queue);
    kit.informers.seed(STATEFULSETS, s as KubeObject);
    kit.writer.seed(STATEFULSETS, s as KubeObject);
    for (const [r, o] of objs) { kit.informers.seed(r, o); kit.writer.seed(r, o); }
    return { ...kit, c };
  }

  it("first sync: a ControllerRevision, the claim, pod web-0, events and status", async () => {
    const k = setup(sts({ volumeClaimTemplates: [{ metadata: { name: "www" }, spec: {} }] }));
    await k.c.sync("default/web");
    const summary = k.writer.summary();
    expect(summary[0]).toMatch(/^create controllerrevisions default\/web-[a-z0-9]+$/);
    expect(summary.slice(1)).toEqual(["create persistentvolumeclaims default/www-web-0", "create pods default/web-0", "updateStatus statefulsets default/web"]);
    const rev = k.writer.writes("create", "controllerrevisions")[0]?.object as ControllerRevisionLike;
    expect(rev.revision).toBe(1);
    expect(rev.metadata?.ownerReferences?.[0]).toMatchObject({ kind: "StatefulSet", controller: true });
    const podObj = k.writer.stored(PODS, "default", "web-0");
    expect(podObj?.metadata?.labels?.["controller-revision-hash"]).toBe(rev.metadata?.name);
    expect(k.recorder.events).toEqual([
      "Normal SuccessfulCreate create Claim www-web-0 Pod web-0 in StatefulSet web success",
      "Normal SuccessfulCreate create Pod web-0 in StatefulSet web successful",
    ]);
    const st = (k.writer.stored(STATEFULSETS, "default", "web") as StatefulSet | undefined)?.status;
    expect(st).toMatchObject({ replicas: 0, updateRevision: rev.metadata?.name, currentRevision: rev.metadata?.name });
  });

  it("a template change creates revision 2 and deletes the highest outdated pod", async () => {
    const k0 = setup(sts());
    await k0.c.sync("default/web");
    const rev1 = k0.writer.writes("create", "controllerrevisions")[0]!.object as ControllerRevisionLike;
    const pods = [0, 1, 2].map((i) => sp(i, { rev: rev1.metadata?.name ?? "" }));
    const s2 = sts({ template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "c", image: "nginx:2" }] } } }, { currentRevision: rev1.metadata?.name });
    const k = setup(s2, [...pods.map((p) => [PODS, p] as [typeof PODS, KubeObject]), [CONTROLLERREVISIONS, { ...rev1, metadata: { ...rev1.metadata, uid: "r1" } }]]);
    await k.c.sync("default/web");
    const rev2 = k.writer.writes("create", "controllerrevisions")[0]?.object as ControllerRevisionLike;
    expect(rev2.revision).toBe(2);
    expect(k.writer.summary().slice(1)).toEqual(["delete pods default/web-2", "updateStatus statefulsets default/web"]);
    const st = (k.writer.stored(STATEFULSETS, "default", "web") as StatefulSet | undefined)?.status;
    expect(st).toMatchObject({ currentRevision: rev1.metadata?.name, updateRevision: rev2.metadata?.name, currentReplicas: 3, updatedReplicas: 0 });
  });

  it("scale down with whenScaled: Delete hands the claim to the pod before deleting it", async () => {
    const s = sts({ replicas: 1, volumeClaimTemplates: [{ metadata: { name: "www" } }], persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Delete" } });
    const claim: KubeObject = { apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: { name: "www-web-1", namespace: "default", uid: "c1", resourceVersion: "1" } };
    const k = setup(s, [[PODS, sp(0)], [PODS, sp(1)], [PVCS, claim]]);
    await k.c.sync("default/web");
    const w = k.writer.summary();
    expect(w.indexOf("patch persistentvolumeclaims default/www-web-1")).toBeLessThan(w.indexOf("delete pods default/web-1"));
    expect(k.writer.stored(PVCS, "default", "www-web-1")?.metadata?.ownerReferences).toEqual([{ apiVersion: "v1", kind: "Pod", name: "web-1", uid: "uid-pod-web-1" }]);
  });

  it("pod events enqueue the owning set", () => {
    const k = setup(sts());
    k.informers.add(PODS, sp(0));
    expect(k.queue.keys).toEqual(["default/web"]);
  });
});
