import { describe, expect, it } from "vitest";
import { ApiError } from "../../api/errors.ts";
import type { KubeObject } from "../../api/object.ts";
import { DEPLOYMENT, deploymentConfig, stored } from "./_fixtures.ts";
import { fromFieldsV1, pathString } from "./fieldpath.ts";
import type { ManagedFieldsEntry } from "./managed.ts";
import {
  apply, BEFORE_FIRST_APPLY, conflictError, isConflicts, LAST_APPLIED_ANNOTATION, resetFieldsFor, updateManagedFields,
} from "./manager.ts";
import type { ApplyOptions, ApplyResult, ApplySuccess, Conflict } from "./manager.ts";

const T = (n: number): string => `2024-05-01T10:${String(n).padStart(2, "0")}:00Z`;

function ok(r: ApplyResult): ApplySuccess {
  if (isConflicts(r)) throw new Error(`unexpected conflicts: ${r.conflicts.map((c) => `${c.manager} ${c.field}`).join(", ")}`);
  return r;
}

function conflicts(r: ApplyResult): Conflict[] {
  if (!isConflicts(r)) throw new Error("expected conflicts");
  return r.conflicts;
}

const opts = (manager: string, time: number, more: Partial<ApplyOptions> = {}): ApplyOptions =>
  ({ manager, apiVersion: "apps/v1", force: false, time: T(time), ...more });

/** Paths an entry owns, readable. */
function owned(entries: readonly ManagedFieldsEntry[] | undefined, manager: string, operation = "Apply"): string[] {
  const e = (entries ?? []).find((x) => x.manager === manager && x.operation === operation);
  return e ? fromFieldsV1(e.fieldsV1).paths().map(pathString) : [];
}

function managers(obj: KubeObject): string[] {
  return ((obj.metadata?.managedFields ?? []) as ManagedFieldsEntry[]).map((e) => `${e.manager}/${e.operation}${e.subresource ? `/${e.subresource}` : ""}`);
}

function mf(obj: KubeObject): ManagedFieldsEntry[] {
  return (obj.metadata?.managedFields ?? []) as ManagedFieldsEntry[];
}

/** kubectl apply --server-side of `cfg` over `live`, then what the registry would store. */
function ssa(live: KubeObject | undefined, cfg: KubeObject, o: ApplyOptions, rv = "2"): KubeObject {
  return stored(ok(apply(DEPLOYMENT, live, cfg, o)).object, rv);
}

/** A non-apply write of `mutate(live)` by `manager`. */
function update(live: KubeObject, manager: string, time: number, mutate: (o: KubeObject) => void, more: { subresource?: string; ignore?: string[][] } = {}): KubeObject {
  const next = structuredClone(live);
  mutate(next);
  const entries = updateManagedFields(DEPLOYMENT, live, next, { manager, apiVersion: "apps/v1", time: T(time), ...more });
  next.metadata = { ...next.metadata, managedFields: entries };
  return next;
}

const spec = (o: KubeObject): Record<string, unknown> => o.spec as Record<string, unknown>;

const KUBECTL_APPLIED_FIELDS =
  '{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:replicas":{},"f:selector":{},"f:template":{' +
  '"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:containers":{"k:{\\"name\\":\\"nginx\\"}":{".":{},' +
  '"f:args":{},"f:env":{"k:{\\"name\\":\\"MODE\\"}":{".":{},"f:name":{},"f:value":{}}},"f:image":{},' +
  '"f:name":{},"f:ports":{"k:{\\"containerPort\\":80,\\"protocol\\":\\"TCP\\"}":{".":{},"f:containerPort":{}}}}}}}}}';

describe("apply", () => {
  it("creates when absent, with one Apply entry in upstream's exact form", () => {
    const r = ok(apply(DEPLOYMENT, undefined, deploymentConfig(), opts("kubectl", 1)));
    expect(r.unchanged).toBe(false);
    expect(r.object.spec).toEqual(deploymentConfig().spec);
    expect(r.object.metadata?.name).toBe("nginx");
    expect(r.managedFields).toHaveLength(1);
    const [e] = r.managedFields;
    expect(Object.keys(e!)).toEqual(["manager", "operation", "apiVersion", "time", "fieldsType", "fieldsV1"]);
    expect(e).toMatchObject({ manager: "kubectl", operation: "Apply", apiVersion: "apps/v1", time: T(1), fieldsType: "FieldsV1" });
    expect(JSON.stringify(e!.fieldsV1)).toBe(KUBECTL_APPLIED_FIELDS);
    expect(r.object.metadata?.managedFields).toEqual(r.managedFields);
  });

  it("re-applying the same configuration changes nothing, not even the time", () => {
    const live = ssa(undefined, deploymentConfig(), opts("kubectl", 1));
    const r = ok(apply(DEPLOYMENT, live, deploymentConfig(), opts("kubectl", 9)));
    expect(r.unchanged).toBe(true);
    expect(r.managedFields).toEqual(mf(live));
    expect(r.object).toEqual(live);
  });

  it("a changed value updates the object and the entry's time", () => {
    const live = ssa(undefined, deploymentConfig(), opts("kubectl", 1));
    const r = ok(apply(DEPLOYMENT, live, deploymentConfig({ replicas: 5, image: "nginx:1.26" }), opts("kubectl", 2)));
    expect(r.unchanged).toBe(false);
    expect(spec(r.object).replicas).toBe(5);
    expect(r.managedFields[0]!.time).toBe(T(2));
    // Defaults the registry added stay: nobody applied them, so nothing prunes them.
    expect(spec(r.object).revisionHistoryLimit).toBe(10);
  });

  it("removes what the manager stopped applying", () => {
    const first = deploymentConfig({ labels: { app: "nginx", team: "web" }, env: [{ name: "MODE", value: "prod" }, { name: "DEBUG", value: "1" }], extraContainer: true });
    const live = ssa(undefined, first, opts("kubectl", 1));
    const r = ok(apply(DEPLOYMENT, live, deploymentConfig(), opts("kubectl", 2)));
    expect(r.object.metadata?.labels).toEqual({ app: "nginx" });
    const containers = (spec(r.object).template as { spec: { containers: Array<{ name: string; env?: unknown[] }> } }).spec.containers;
    expect(containers.map((c) => c.name)).toEqual(["nginx"]);
    expect(containers[0]!.env).toEqual([{ name: "MODE", value: "prod" }]);
    expect(JSON.stringify(r.managedFields[0]!.fieldsV1)).toBe(KUBECTL_APPLIED_FIELDS);
  });

  it("keeps a dropped field another manager also applied, leaving it to that manager", () => {
    const withTeam = deploymentConfig({ labels: { app: "nginx", team: "web" } });
    let live = ssa(undefined, withTeam, opts("kubectl", 1));
    const labeller: KubeObject = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "nginx", namespace: "default", labels: { team: "web" } } };
    live = ssa(live, labeller, opts("labeller", 2), "3");
    const r = ok(apply(DEPLOYMENT, live, deploymentConfig(), opts("kubectl", 3)));
    expect(r.object.metadata?.labels).toEqual({ app: "nginx", team: "web" });
    expect(owned(r.managedFields, "labeller")).toEqual([".metadata.labels.team"]);
    expect(owned(r.managedFields, "kubectl")).not.toContain(".metadata.labels.team");
  });

  it("reports a conflict on a field another applier owns, and force moves it", () => {
    const live = ssa(undefined, deploymentConfig({ replicas: 3 }), opts("kubectl", 1));
    const scaler: KubeObject = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "nginx", namespace: "default" }, spec: { replicas: 5 } };
    const c = conflicts(apply(DEPLOYMENT, live, scaler, opts("scaler", 2)));
    expect(c).toEqual([{
      manager: "kubectl", operation: "Apply", apiVersion: "apps/v1", field: ".spec.replicas",
      path: ["f:spec", "f:replicas"], message: 'conflict with "kubectl"',
    }]);

    const forced = ok(apply(DEPLOYMENT, live, scaler, opts("scaler", 2, { force: true })));
    expect(spec(forced.object).replicas).toBe(5);
    expect(owned(forced.managedFields, "scaler")).toEqual([".spec.replicas"]);
    expect(owned(forced.managedFields, "kubectl")).not.toContain(".spec.replicas");
    expect(managers(forced.object)).toEqual(["kubectl/Apply", "scaler/Apply"]);

    // kubectl re-applying its old value now conflicts with the scaler; leaving replicas out does not.
    const after = stored(forced.object, "3");
    expect(conflicts(apply(DEPLOYMENT, after, deploymentConfig({ replicas: 3 }), opts("kubectl", 3))).map((x) => `${x.manager} ${x.field}`)).toEqual(["scaler .spec.replicas"]);
    const noReplicas = deploymentConfig();
    delete spec(noReplicas).replicas;
    const r = ok(apply(DEPLOYMENT, after, noReplicas, opts("kubectl", 3)));
    expect(spec(r.object).replicas).toBe(5);
  });

  it("conflicts with an Update manager name its apiVersion", () => {
    let live = ssa(undefined, deploymentConfig({ replicas: 3 }), opts("kubectl", 1));
    live = update(live, "kubectl-edit", 2, (o) => { spec(o).replicas = 7; });
    expect(owned(mf(live), "kubectl-edit", "Update")).toEqual([".spec.replicas"]);
    expect(owned(mf(live), "kubectl")).not.toContain(".spec.replicas");
    const c = conflicts(apply(DEPLOYMENT, live, deploymentConfig({ replicas: 3, image: "nginx:2" }), opts("kubectl", 3)));
    expect(c.map((x) => [x.field, x.message])).toEqual([[".spec.replicas", 'conflict with "kubectl-edit" using apps/v1']]);
  });

  it("lets two appliers share a field with the same value", () => {
    const live = ssa(undefined, deploymentConfig({ replicas: 3 }), opts("kubectl", 1));
    const other: KubeObject = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "nginx", namespace: "default" }, spec: { replicas: 3 } };
    const r = ok(apply(DEPLOYMENT, live, other, opts("gitops", 2)));
    expect(r.unchanged).toBe(true);
    expect(owned(r.managedFields, "gitops")).toEqual([".spec.replicas"]);
    expect(owned(r.managedFields, "kubectl")).toContain(".spec.replicas");
    // Upstream stamps no time on an entry whose apply changed nothing.
    expect(r.managedFields.find((e) => e.manager === "gitops")?.time).toBeUndefined();
  });

  it("hands an untracked object's fields to before-first-apply", () => {
    const live = stored(deploymentConfig());
    const r = ok(apply(DEPLOYMENT, live, deploymentConfig(), opts("kubectl", 1)));
    expect(managers(r.object)).toEqual(["kubectl/Apply", `${BEFORE_FIRST_APPLY}/Update`]);
    expect(owned(r.managedFields, BEFORE_FIRST_APPLY, "Update")).toContain(".spec.revisionHistoryLimit");
    const c = conflicts(apply(DEPLOYMENT, live, deploymentConfig({ replicas: 9 }), opts("other", 1)));
    expect(c.map((x) => x.message)).toEqual([`conflict with "${BEFORE_FIRST_APPLY}" using apps/v1`]);
  });

  it("keeps Apply entries per subresource and ignores reset fields", () => {
    const cfg = { ...deploymentConfig(), status: { replicas: 99 } };
    const ignore = resetFieldsFor({ hasStatusSubresource: true });
    expect(ignore).toEqual([["status"]]);
    const r = ok(apply(DEPLOYMENT, undefined, cfg, opts("kubectl", 1, { ignore })));
    expect(r.object.status).toBeUndefined();
    expect(JSON.stringify(r.managedFields[0]!.fieldsV1)).toBe(KUBECTL_APPLIED_FIELDS);

    const live = stored(r.object);
    const statusCfg = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "nginx", namespace: "default" }, spec: { replicas: 1 }, status: { replicas: 3 } };
    const s = ok(apply(DEPLOYMENT, live, statusCfg, opts("kubectl", 2, { subresource: "status", ignore: resetFieldsFor({ subresource: "status", hasStatusSubresource: true }) })));
    expect(managers(s.object)).toEqual(["kubectl/Apply", "kubectl/Apply/status"]);
    expect(owned(s.managedFields.filter((e) => e.subresource === "status"), "kubectl")).toEqual([".status.replicas"]);
    expect(spec(s.object).replicas).toBe(3);
  });

  it("the 409 carries upstream's texts", () => {
    const one = conflictError([{ manager: "kubectl-client-side-apply", operation: "Update", apiVersion: "apps/v1", field: ".spec.replicas", path: [], message: 'conflict with "kubectl-client-side-apply" using apps/v1' }]);
    expect(one.code).toBe(409);
    expect(one.status.reason).toBe("Conflict");
    expect(one.status.message).toBe('Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas');
    expect(one.status.details?.causes).toEqual([{ reason: "FieldManagerConflict", message: 'conflict with "kubectl-client-side-apply" using apps/v1', field: ".spec.replicas" }]);

    const many = conflictError([
      { manager: "b", operation: "Apply", apiVersion: "apps/v1", field: ".spec.replicas", path: [], message: 'conflict with "b"' },
      { manager: "a", operation: "Update", apiVersion: "apps/v1", field: ".spec.paused", path: [], message: 'conflict with "a" using apps/v1' },
      { manager: "b", operation: "Apply", apiVersion: "apps/v1", field: ".spec.minReadySeconds", path: [], message: 'conflict with "b"' },
    ]);
    expect(many.status.message).toBe('Apply failed with 3 conflicts: conflicts with "a" using apps/v1:\n- .spec.paused\nconflicts with "b":\n- .spec.replicas\n- .spec.minReadySeconds');
    expect(many.status.details?.causes).toHaveLength(3);
  });

  it("lists every conflicting field, managers in identifier order", () => {
    let live = ssa(undefined, deploymentConfig({ replicas: 3 }), opts("kubectl", 1));
    live = update(live, "editor", 2, (o) => { spec(o).paused = true; });
    const cfg: KubeObject = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "nginx", namespace: "default" }, spec: { replicas: 1, paused: false } };
    const c = conflicts(apply(DEPLOYMENT, live, cfg, opts("other", 3)));
    expect(c.map((x) => `${x.manager} ${x.field}`)).toEqual(["editor .spec.paused", "kubectl .spec.replicas"]);
  });

  describe("client-side apply upgrade (manager kubectl)", () => {
    function csaCreated(): KubeObject {
      const cfg = deploymentConfig({ replicas: 3 });
      const withAnnotation = structuredClone(cfg);
      withAnnotation.metadata = { ...withAnnotation.metadata, annotations: { [LAST_APPLIED_ANNOTATION]: JSON.stringify(cfg) } };
      const created = stored(withAnnotation);
      const entries = updateManagedFields(DEPLOYMENT, undefined, created, { manager: "kubectl-client-side-apply", apiVersion: "apps/v1", time: T(1) });
      created.metadata = { ...created.metadata, managedFields: entries };
      return created;
    }

    it("takes over fields whose live value still matches last-applied, and rewrites the annotation", () => {
      const live = csaCreated();
      const r = ok(apply(DEPLOYMENT, live, deploymentConfig({ replicas: 4 }), opts("kubectl", 2)));
      expect(spec(r.object).replicas).toBe(4);
      expect(owned(r.managedFields, "kubectl")).toContain(".spec.replicas");
      expect(owned(r.managedFields, "kubectl-client-side-apply", "Update")).not.toContain(".spec.replicas");
      const annotation = JSON.parse(String(r.object.metadata?.annotations?.[LAST_APPLIED_ANNOTATION])) as KubeObject;
      expect(spec(annotation).replicas).toBe(4);
      // Go's encoding: keys sorted.
      expect(String(r.object.metadata?.annotations?.[LAST_APPLIED_ANNOTATION]).startsWith('{"apiVersion":"apps/v1","kind":"Deployment","metadata":')).toBe(true);
    });

    it("still conflicts when someone else changed the field since", () => {
      const live = update(csaCreated(), "kubectl-scale", 2, (o) => { spec(o).replicas = 6; });
      const c = conflicts(apply(DEPLOYMENT, live, deploymentConfig({ replicas: 4 }), opts("kubectl", 3)));
      expect(c.map((x) => `${x.manager} ${x.field}`)).toEqual(["kubectl-scale .spec.replicas"]);
    });

    it("is off for other managers and when disabled", () => {
      const live = csaCreated();
      expect(conflicts(apply(DEPLOYMENT, live, deploymentConfig({ replicas: 4 }), opts("kubectl", 2, { lastApplied: false }))).map((x) => x.field)).toEqual([".spec.replicas"]);
      expect(conflicts(apply(DEPLOYMENT, live, deploymentConfig({ replicas: 4 }), opts("argocd", 2))).map((x) => x.field)).toEqual([".spec.replicas"]);
    });
  });

  describe("bad input", () => {
    const cases: Array<[string, KubeObject, Partial<ApplyOptions>, number, string | RegExp]> = [
      ["managedFields in the body", { ...deploymentConfig(), metadata: { name: "nginx", managedFields: [] } }, {}, 400, "metadata.managedFields must be nil"],
      ["another kind", { ...deploymentConfig(), apiVersion: "v1", kind: "Pod" }, { kind: "Deployment" }, 400, "invalid object type: /v1, Kind=Pod"],
      ["another version", { ...deploymentConfig(), apiVersion: "apps/v1beta1" }, {}, 400, "Incorrect version specified in apply patch. Specified patch version: apps/v1beta1, expected: apps/v1"],
      ["duplicate containers", deploymentConfig({ extraContainer: true }), {}, 400,
        'failed to create typed patch object (default/nginx; apps/v1, Kind=Deployment): .spec.template.spec.containers: duplicate entries for key [name="nginx"]'],
      ["a container without a name", { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "x" }, spec: { template: { spec: { containers: [{ image: "a" }] } } } }, {}, 400, /omits all key fields \["name"\]/],
      ["a wrong shape", { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "x" }, spec: { replicas: { a: 1 } } }, {}, 400, /^failed to create typed patch object \(\/x; apps\/v1, Kind=Deployment\): \.spec\.replicas: expected scalar, got map$/],
    ];
    it.each(cases)("%s", (_name, body, more, code, message) => {
      if (_name === "duplicate containers") {
        const tpl = (spec(body).template as { spec: { containers: Array<{ name: string }> } }).spec;
        tpl.containers[1]!.name = "nginx";
      }
      let err: unknown;
      try {
        apply(DEPLOYMENT, undefined, body, opts("kubectl", 1, more));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ApiError);
      expect((err as ApiError).code).toBe(code);
      if (typeof message === "string") expect((err as ApiError).message).toBe(message);
      else expect((err as ApiError).message).toMatch(message);
    });

    it("stored managedFields that cannot be decoded are a 500", () => {
      const live = stored(deploymentConfig());
      live.metadata = { ...live.metadata, managedFields: [{ manager: "x", operation: "Patch", apiVersion: "apps/v1", fieldsType: "FieldsV1", fieldsV1: {} }] };
      expect(() => apply(DEPLOYMENT, live, deploymentConfig(), opts("kubectl", 1))).toThrow("failed to decode managed fields: operation must be `Apply` or `Update`");
    });

    it("an empty manager is recorded as unknown", () => {
      const r = ok(apply(DEPLOYMENT, undefined, deploymentConfig(), opts("", 1)));
      expect(r.managedFields[0]!.manager).toBe("unknown");
    });
  });
});

const CSA_CREATE_FIELDS =
  '{"f:metadata":{"f:annotations":{".":{},"f:kubectl.kubernetes.io/last-applied-configuration":{}},' +
  '"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:progressDeadlineSeconds":{},"f:replicas":{},' +
  '"f:revisionHistoryLimit":{},"f:selector":{},"f:strategy":{"f:rollingUpdate":{".":{},"f:maxSurge":{},' +
  '"f:maxUnavailable":{}},"f:type":{}},"f:template":{"f:metadata":{"f:labels":{".":{},"f:app":{}}},' +
  '"f:spec":{"f:containers":{"k:{\\"name\\":\\"nginx\\"}":{".":{},"f:args":{},"f:env":{".":{},' +
  '"k:{\\"name\\":\\"MODE\\"}":{".":{},"f:name":{},"f:value":{}}},"f:image":{},"f:imagePullPolicy":{},' +
  '"f:name":{},"f:ports":{".":{},"k:{\\"containerPort\\":80,\\"protocol\\":\\"TCP\\"}":{".":{},' +
  '"f:containerPort":{},"f:protocol":{}}},"f:resources":{},"f:terminationMessagePath":{},' +
  '"f:terminationMessagePolicy":{}}},"f:dnsPolicy":{},"f:restartPolicy":{},"f:schedulerName":{},' +
  '"f:securityContext":{},"f:terminationGracePeriodSeconds":{}}}}}';

describe("updateManagedFields", () => {
  it("a create records the creator's Update entry in upstream's form", () => {
    const cfg = deploymentConfig();
    cfg.metadata = { ...cfg.metadata, annotations: { [LAST_APPLIED_ANNOTATION]: "{}" } };
    const entries = updateManagedFields(DEPLOYMENT, undefined, stored(cfg), { manager: "kubectl-client-side-apply", operation: "Update", apiVersion: "apps/v1", time: new Date(T(1)) });
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ manager: "kubectl-client-side-apply", operation: "Update", apiVersion: "apps/v1", time: T(1), fieldsType: "FieldsV1" });
    expect(JSON.stringify(entries[0]!.fieldsV1)).toBe(CSA_CREATE_FIELDS);
  });

  it("an Update by another manager steals the fields it changes", () => {
    let live = ssa(undefined, deploymentConfig({ replicas: 3 }), opts("kubectl", 1));
    live = update(live, "hpa", 2, (o) => { spec(o).replicas = 8; o.metadata!.resourceVersion = "9"; });
    expect(owned(mf(live), "hpa", "Update")).toEqual([".spec.replicas"]);
    expect(owned(mf(live), "kubectl")).not.toContain(".spec.replicas");
    expect(managers(live)).toEqual(["kubectl/Apply", "hpa/Update"]);
    // A second write by the same manager accumulates and re-stamps.
    live = update(live, "hpa", 3, (o) => { spec(o).minReadySeconds = 5; });
    expect(owned(mf(live), "hpa", "Update")).toEqual([".spec.minReadySeconds", ".spec.replicas"]);
    expect(mf(live).find((e) => e.manager === "hpa")?.time).toBe(T(3));
    // A write that changes only server-managed metadata leaves entries alone.
    const same = update(live, "hpa", 4, (o) => { o.metadata!.resourceVersion = "10"; o.metadata!.generation = 2; });
    expect(mf(same)).toEqual(mf(live));
  });

  it("removing a field drops it from every owner and empty entries go", () => {
    let live = ssa(undefined, { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "n", labels: { a: "1" } } }, opts("labeller", 1));
    live = update(live, "cleaner", 2, (o) => { delete o.metadata!.labels; });
    expect(mf(live)).toEqual([]);
  });

  it("an untracked existing object stays untracked; [] resets", () => {
    const live = stored(deploymentConfig());
    const next = structuredClone(live);
    spec(next).replicas = 2;
    expect(updateManagedFields(DEPLOYMENT, live, next, { manager: "m", apiVersion: "apps/v1", time: T(1) })).toEqual([]);

    const tracked = ssa(undefined, deploymentConfig(), opts("kubectl", 1));
    const reset = structuredClone(tracked);
    reset.metadata!.managedFields = [];
    expect(updateManagedFields(DEPLOYMENT, tracked, reset, { manager: "m", apiVersion: "apps/v1", time: T(2) })).toEqual([]);
    reset.metadata!.managedFields = [{}];
    expect(updateManagedFields(DEPLOYMENT, tracked, reset, { manager: "m", apiVersion: "apps/v1", time: T(2) })).toEqual([]);
  });

  it("uses managedFields the request supplies, and ignores invalid ones", () => {
    const tracked = ssa(undefined, deploymentConfig(), opts("kubectl", 1));
    const edited = structuredClone(tracked);
    edited.metadata!.managedFields = [{ manager: "someone", operation: "Update", apiVersion: "apps/v1", time: T(0), fieldsType: "FieldsV1", fieldsV1: { "f:spec": { "f:paused": {} } } }];
    expect(updateManagedFields(DEPLOYMENT, tracked, edited, { manager: "m", apiVersion: "apps/v1", time: T(2) }).map((e) => e.manager)).toEqual(["someone"]);
    edited.metadata!.managedFields = [{ manager: "bad", operation: "Nope" }];
    expect(updateManagedFields(DEPLOYMENT, tracked, edited, { manager: "m", apiVersion: "apps/v1", time: T(2) })).toEqual(mf(tracked));
  });

  it("subresource writes get their own entry and ignore the request's managedFields", () => {
    const live = ssa(undefined, deploymentConfig(), opts("kubectl", 1));
    const next = update(live, "kube-controller-manager", 2, (o) => {
      o.status = { replicas: 3, readyReplicas: 3 };
      spec(o).replicas = 100; // reset by the status strategy; not owned here
      o.metadata!.managedFields = [];
    }, { subresource: "status", ignore: resetFieldsFor({ subresource: "status", hasStatusSubresource: true }) as string[][] });
    expect(managers(next)).toEqual(["kubectl/Apply", "kube-controller-manager/Update/status"]);
    expect(owned(mf(next).filter((e) => e.subresource === "status"), "kube-controller-manager", "Update")).toEqual([".status.readyReplicas", ".status.replicas"]);
    expect(owned(mf(next), "kubectl")).toContain(".spec.replicas");
  });

  it("caps Update managers at 10, folding the oldest into ancient-changes", () => {
    let live = ssa(undefined, deploymentConfig(), opts("kubectl", 0));
    for (let i = 0; i < 11; i++) {
      live = update(live, `m${i}`, i + 1, (o) => { o.metadata!.labels = { ...o.metadata!.labels, [`l${i}`]: "x" }; });
    }
    const entries = mf(live);
    const updaters = entries.filter((e) => e.operation === "Update");
    expect(updaters).toHaveLength(10);
    expect(entries.filter((e) => e.operation === "Apply")).toHaveLength(1);
    expect(updaters.map((e) => e.manager)).toEqual(["ancient-changes", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "m9", "m10"]);
    expect(owned(entries, "ancient-changes", "Update")).toEqual([".metadata.labels.l0", ".metadata.labels.l1"]);
    expect(updaters[0]!.time).toBe(T(2));
  });

  it("orders entries: Apply first, then by time, then by name", () => {
    let live = ssa(undefined, deploymentConfig(), opts("kubectl", 5));
    live = update(live, "zeta", 1, (o) => { spec(o).paused = true; });
    live = update(live, "alpha", 1, (o) => { spec(o).minReadySeconds = 1; });
    live = update(live, "beta", 0, (o) => { spec(o).progressDeadlineSeconds = 1; });
    expect(managers(live)).toEqual(["kubectl/Apply", "beta/Update", "alpha/Update", "zeta/Update"]);
  });
});
