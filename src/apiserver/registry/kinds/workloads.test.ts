import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../../api/object.ts";
import { strategyFor } from "./mod.ts";

const text = (errs: { field: string; message: string }[]): string[] => errs.map((e) => `${e.field}: ${e.message}`);
const NOW = new Date("2026-01-03T00:00:00Z");
const template = (labels: Record<string, string> | undefined = { app: "web" }, restartPolicy?: string): Record<string, unknown> => ({
  metadata: labels ? { labels } : {},
  spec: { containers: [{ name: "web", image: "nginx:1.27" }], ...(restartPolicy ? { restartPolicy } : {}) },
});
function obj(apiVersion: string, kind: string, spec: Record<string, unknown>, extra: Partial<KubeObject> = {}): KubeObject {
  return { apiVersion, kind, metadata: { name: "web", namespace: "default", uid: "u1", creationTimestamp: "2026-01-01T21:00:00Z" }, spec, ...extra };
}
function ready(s: ReturnType<typeof strategyFor>, o: KubeObject): KubeObject {
  s.applyDefaults(o);
  s.prepareForCreate(o);
  return o;
}

describe("deployments", () => {
  const s = strategyFor("apps", "deployments");
  const dep = (spec: Record<string, unknown> = {}): KubeObject =>
    obj("apps/v1", "Deployment", { selector: { matchLabels: { app: "web" } }, template: template(), ...spec });
  it("defaults", () => {
    const d = ready(s, dep());
    expect(d.spec).toMatchObject({
      replicas: 1, revisionHistoryLimit: 10, progressDeadlineSeconds: 600,
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "25%", maxSurge: "25%" } },
      template: { spec: { restartPolicy: "Always", dnsPolicy: "ClusterFirst", containers: [{ imagePullPolicy: "IfNotPresent" }] } },
    });
    expect(d.metadata?.generation).toBe(1);
    expect(d.status).toBeUndefined();
    expect(s.validateCreate(d)).toEqual([]);
  });
  const cases: [string, Record<string, unknown>, string[]][] = [
    ["selector required", { selector: undefined }, ["spec.selector: Required value"]],
    ["selector mismatch", { template: template({ app: "x" }) }, ['spec.template.metadata.labels: Invalid value: map[string]string{"app":"x"}: `selector` does not match template `labels`']],
    ["negative replicas", { replicas: -1 }, ["spec.replicas: Invalid value: -1: must be greater than or equal to 0"]],
    ["restartPolicy Always only", { template: template({ app: "web" }, "Never") }, ['spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"']],
    ["both zero", { strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 0 } } }, ["spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0"]],
    ["recreate with rollingUpdate", { strategy: { type: "Recreate", rollingUpdate: {} } }, ["spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"]],
    ["bad percent", { strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "abc", maxSurge: 1 } } }, ["spec.strategy.rollingUpdate.maxUnavailable: Invalid value: \"abc\": a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"]],
    ["progress deadline", { minReadySeconds: 10, progressDeadlineSeconds: 5 }, ["spec.progressDeadlineSeconds: Invalid value: 5: must be greater than minReadySeconds"]],
  ];
  it.each(cases)("%s", (_n, spec, want) => {
    const d = dep(spec);
    s.applyDefaults(d);
    expect(text(s.validateCreate(d))).toEqual(want);
  });
  it("selector immutable, generation bump, scale", () => {
    const old = ready(s, dep());
    const upd = structuredClone(old);
    (upd.spec as Record<string, unknown>).selector = { matchLabels: { app: "web", v: "2" } };
    ((upd.spec as Record<string, Record<string, Record<string, unknown>>>).template ?? {}).metadata = { labels: { app: "web", v: "2" } };
    s.prepareForUpdate(upd, old);
    expect(upd.metadata?.generation).toBe(2);
    expect(text(s.validateUpdate(upd, old))[0]).toMatch(/^spec\.selector: Invalid value: .*: field is immutable$/);
    const same = structuredClone(old);
    same.metadata = { ...same.metadata, labels: { x: "y" } };
    s.prepareForUpdate(same, old);
    expect(same.metadata?.generation).toBe(1);
    expect(s.scale?.selector(old)).toBe("app=web");
    s.scale?.setSpecReplicas(old, 3);
    expect(s.scale?.specReplicas(old)).toBe(3);
  });
  it("table row", () => {
    const d = ready(s, dep({ replicas: 3 }));
    d.status = { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 };
    expect(s.table.columns.map((c) => c.name)).toEqual(["Name", "Ready", "Up-to-date", "Available", "Age", "Containers", "Images", "Selector"]);
    expect(s.table.row(d, NOW)).toEqual(["web", "2/3", 3, 2, "27h", "web", "nginx:1.27", "app=web"]);
  });
});

describe("replicasets / statefulsets / daemonsets", () => {
  it("replicaset defaults, fields, row", () => {
    const s = strategyFor("apps", "replicasets");
    const rs = ready(s, obj("apps/v1", "ReplicaSet", { selector: { matchLabels: { app: "web" } }, template: template() }));
    expect((rs.spec as Record<string, unknown>).replicas).toBe(1);
    rs.status = { replicas: 1, readyReplicas: 1 };
    expect(s.fields(rs)).toEqual({ "metadata.name": "web", "metadata.namespace": "default", "status.replicas": "1" });
    expect(s.table.row(rs, NOW)).toEqual(["web", 1, 1, 1, "27h", "web", "nginx:1.27", "app=web"]);
  });
  it("statefulset defaults and update rule", () => {
    const s = strategyFor("apps", "statefulsets");
    const ss = ready(s, obj("apps/v1", "StatefulSet", {
      serviceName: "web", selector: { matchLabels: { app: "web" } }, template: template(),
      volumeClaimTemplates: [{ metadata: { name: "data" }, spec: { accessModes: ["ReadWriteOnce"] } }],
    }));
    expect(ss.spec).toMatchObject({
      replicas: 1, podManagementPolicy: "OrderedReady", revisionHistoryLimit: 10,
      updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 0 } },
      persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
      volumeClaimTemplates: [{ spec: { volumeMode: "Filesystem" }, status: { phase: "Pending" } }],
    });
    expect(s.validateCreate(ss)).toEqual([]);
    const upd = structuredClone(ss);
    (upd.spec as Record<string, unknown>).serviceName = "other";
    expect(text(s.validateUpdate(upd, ss))).toEqual(["spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"]);
    const bad = obj("apps/v1", "StatefulSet", { selector: { matchLabels: { app: "web" } }, template: template(), podManagementPolicy: "Random" });
    s.applyDefaults(bad);
    expect(text(s.validateCreate(bad))).toEqual(['spec.podManagementPolicy: Unsupported value: "Random": supported values: "OrderedReady", "Parallel"']);
    ss.status = { readyReplicas: 1 };
    expect(s.table.row(ss, NOW)).toEqual(["web", "1/1", "27h", "web", "nginx:1.27"]);
  });
  it("daemonset defaults and strategy rules", () => {
    const s = strategyFor("apps", "daemonsets");
    const ds = ready(s, obj("apps/v1", "DaemonSet", { selector: { matchLabels: { app: "web" } }, template: template() }));
    expect(ds.spec).toMatchObject({ revisionHistoryLimit: 10, updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } } });
    expect(s.validateCreate(ds)).toEqual([]);
    const bad = structuredClone(ds);
    (bad.spec as Record<string, unknown>).updateStrategy = { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 0 } };
    expect(text(s.validateCreate(bad))).toEqual(["spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when maxSurge is 0"]);
    expect(s.table.row(ds, NOW)).toEqual(["web", 0, 0, 0, 0, 0, "<none>", "27h", "web", "nginx:1.27", "app=web"]);
  });
});

describe("jobs and cronjobs", () => {
  const js = strategyFor("batch", "jobs");
  it("defaults and the generated selector", () => {
    const j = ready(js, obj("batch/v1", "Job", { template: template({ app: "web" }, "Never") }));
    expect(j.spec).toMatchObject({
      completions: 1, parallelism: 1, backoffLimit: 6, completionMode: "NonIndexed", suspend: false,
      selector: { matchLabels: { "batch.kubernetes.io/controller-uid": "u1" } },
      template: { metadata: { labels: { app: "web", "job-name": "web", "batch.kubernetes.io/job-name": "web", "controller-uid": "u1", "batch.kubernetes.io/controller-uid": "u1" } } },
    });
    expect(j.metadata?.labels).toEqual({ app: "web" });
    expect(js.validateCreate(j)).toEqual([]);
  });
  it("rejects restartPolicy Always (the default) and negatives", () => {
    const j = ready(js, obj("batch/v1", "Job", { template: template(), parallelism: -1 }));
    expect(text(js.validateCreate(j))).toEqual([
      "spec.parallelism: Invalid value: -1: must be greater than or equal to 0",
      'spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"',
    ]);
  });
  it("fields, immutable template, row", () => {
    const j = ready(js, obj("batch/v1", "Job", { template: template({ app: "web" }, "Never") }));
    j.status = { succeeded: 1, startTime: "2026-01-02T00:00:00Z", completionTime: "2026-01-02T00:00:45Z", conditions: [{ type: "Complete", status: "True" }] };
    expect(js.fields(j)["status.successful"]).toBe("1");
    expect(js.table.row(j, NOW).slice(0, 5)).toEqual(["web", "Complete", "1/1", "45s", "27h"]);
    const upd = structuredClone(j);
    (((upd.spec as Record<string, unknown>).template as Record<string, Record<string, unknown>>).spec ?? {}).activeDeadlineSeconds = 5;
    expect(text(js.validateUpdate(upd, j))[0]).toMatch(/^spec\.template: Invalid value: .*: field is immutable$/);
  });
  const cs = strategyFor("batch", "cronjobs");
  const cj = (schedule: string): KubeObject => obj("batch/v1", "CronJob", { schedule, jobTemplate: { spec: { template: template({ app: "c" }, "OnFailure") } } });
  it("cronjob defaults and schedule validation", () => {
    const c = ready(cs, cj("*/5 * * * *"));
    expect(c.spec).toMatchObject({ concurrencyPolicy: "Allow", suspend: false, successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 1 });
    expect(cs.validateCreate(c)).toEqual([]);
    const bad = ready(cs, cj("bad"));
    expect(text(cs.validateCreate(bad))).toEqual(['spec.schedule: Invalid value: "bad": expected exactly 5 fields, found 1: [bad]']);
    const tz = ready(cs, cj("TZ=UTC 0 * * * *"));
    expect(text(cs.validateCreate(tz))).toEqual(['spec.schedule: Invalid value: "TZ=UTC 0 * * * *": cannot use TZ or CRON_TZ in schedule, use timeZone field instead']);
    expect(cs.table.row(c, NOW)).toEqual(["web", "*/5 * * * *", "<none>", "False", 0, "<none>", "27h", "web", "nginx:1.27", "<none>"]);
  });
});
