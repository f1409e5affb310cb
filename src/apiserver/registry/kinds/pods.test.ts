import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../../api/object.ts";
import { strategyFor } from "./mod.ts";

const s = strategyFor("", "pods");
const text = (errs: { field: string; message: string }[]): string[] => errs.map((e) => `${e.field}: ${e.message}`);
const NOW = new Date("2026-01-01T12:00:00Z");

function pod(spec: Record<string, unknown> = {}, extra: Partial<KubeObject> = {}): KubeObject {
  return {
    apiVersion: "v1", kind: "Pod",
    metadata: { name: "web", namespace: "default", uid: "u1", creationTimestamp: "2026-01-01T11:55:00Z" },
    spec: { containers: [{ name: "web", image: "nginx" }], ...spec },
    ...extra,
  };
}
function created(p: KubeObject): KubeObject {
  s.applyDefaults(p);
  s.prepareForCreate(p);
  return p;
}

describe("pod defaults", () => {
  it("fills pod and container defaults", () => {
    const p = created(pod({ containers: [
      { name: "a", image: "nginx", ports: [{ containerPort: 80 }], resources: { limits: { cpu: "1", memory: "1Gi" } } },
      { name: "b", image: "nginx:1.27" },
      { name: "c", image: "repo/img@sha256:abc" },
    ] }));
    const spec = p.spec as Record<string, unknown>;
    expect(spec).toMatchObject({
      restartPolicy: "Always", dnsPolicy: "ClusterFirst", schedulerName: "default-scheduler",
      terminationGracePeriodSeconds: 30, securityContext: {}, enableServiceLinks: true,
      priority: 0, preemptionPolicy: "PreemptLowerPriority",
    });
    const cs = spec.containers as Record<string, unknown>[];
    expect(cs[0]).toMatchObject({
      terminationMessagePath: "/dev/termination-log", terminationMessagePolicy: "File", imagePullPolicy: "Always",
      ports: [{ containerPort: 80, protocol: "TCP" }],
      resources: { limits: { cpu: "1", memory: "1Gi" }, requests: { cpu: "1", memory: "1Gi" } },
    });
    expect(cs[1]?.imagePullPolicy).toBe("IfNotPresent");
    expect(cs[2]?.imagePullPolicy).toBe("IfNotPresent");
    expect(p.status).toEqual({ phase: "Pending", qosClass: "Burstable" });
    expect(p.metadata?.generation).toBe(1);
  });
  it("Guaranteed, BestEffort and Burstable QoS", () => {
    const g = created(pod({ containers: [{ name: "a", image: "x", resources: { limits: { cpu: "1", memory: "1Gi" } } }] }));
    expect((g.status as { qosClass: string }).qosClass).toBe("Guaranteed");
    expect((created(pod()).status as { qosClass: string }).qosClass).toBe("BestEffort");
    const p = created(pod({ containers: [{ name: "a", image: "x", resources: { requests: { cpu: "100m" } } }] }));
    expect((p.status as { qosClass: string }).qosClass).toBe("Burstable");
  });
  it("drops client-sent status on create", () => {
    const p = created(pod({}, { status: { phase: "Running", podIP: "1.2.3.4" } }));
    expect(p.status).toEqual({ phase: "Pending", qosClass: "BestEffort" });
  });
});

describe("pod validation", () => {
  const cases: [string, Record<string, unknown>, string[]][] = [
    ["containers required", { containers: [] }, ["spec.containers: Required value"]],
    ["image required", { containers: [{ name: "a" }] }, ["spec.containers[0].image: Required value"]],
    ["duplicate names", { containers: [{ name: "a", image: "x" }, { name: "a", image: "y" }] }, ['spec.containers[1].name: Duplicate value: "a"']],
    ["bad container name", { containers: [{ name: "Web", image: "x" }] }, [`spec.containers[0].name: Invalid value: "Web": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`]],
    ["restartPolicy enum", { restartPolicy: "Sometimes" }, ['spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"']],
    ["dnsPolicy enum", { dnsPolicy: "X" }, ['spec.dnsPolicy: Unsupported value: "X": supported values: "ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"']],
    ["port range", { containers: [{ name: "a", image: "x", ports: [{ containerPort: 70000 }] }] }, ["spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive"]],
    ["protocol enum", { containers: [{ name: "a", image: "x", ports: [{ containerPort: 80, protocol: "ICMP" }] }] }, ['spec.containers[0].ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"']],
    ["requests <= limits", { containers: [{ name: "a", image: "x", resources: { requests: { cpu: "2" }, limits: { cpu: "1000m" } } }] }, ['spec.containers[0].resources.requests[cpu]: Invalid value: "2": must be less than or equal to cpu limit of 1']],
    ["bad quantity", { containers: [{ name: "a", image: "x", resources: { limits: { cpu: "abc" } } }] }, [`spec.containers[0].resources.limits[cpu]: Invalid value: "abc": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`]],
    ["mount of unknown volume", { containers: [{ name: "a", image: "x", volumeMounts: [{ name: "data", mountPath: "/d" }] }] }, ['spec.containers[0].volumeMounts[0].name: Not found: "data"']],
    ["duplicate volumes", { volumes: [{ name: "v", emptyDir: {} }, { name: "v", emptyDir: {} }] }, ['spec.volumes[1].name: Duplicate value: "v"']],
    ["volume with two sources", { volumes: [{ name: "v", emptyDir: {}, hostPath: { path: "/x" } }] }, ["spec.volumes[0].emptyDir: Forbidden: may not specify more than 1 volume type"]],
  ];
  it.each(cases)("%s", (_n, spec, want) => {
    const p = pod(spec);
    s.applyDefaults(p);
    if (spec.volumes) for (const v of spec.volumes as Record<string, unknown>[]) if (v.hostPath) delete (v.hostPath as Record<string, unknown>).type;
    expect(text(s.validateCreate(p))).toEqual(want);
  });
  it("a bad name uses the subdomain message", () => {
    const p = created(pod());
    p.metadata = { ...p.metadata, name: "Web_1" };
    expect(text(s.validateCreate(p))[0]).toMatch(/^metadata\.name: Invalid value: "Web_1": a lowercase RFC 1123 subdomain/);
  });
});

describe("pod update", () => {
  it("allows image changes and rejects others", () => {
    const old = created(pod());
    const ok = structuredClone(old);
    ((ok.spec as { containers: { image: string }[] }).containers[0] as { image: string }).image = "nginx:2";
    s.prepareForUpdate(ok, old);
    expect(s.validateUpdate(ok, old)).toEqual([]);
    expect(ok.metadata?.generation).toBe(2);
    const bad = structuredClone(old);
    (bad.spec as Record<string, unknown>).restartPolicy = "Never";
    const errs = text(s.validateUpdate(bad, old));
    expect(errs).toHaveLength(1);
    expect(errs[0]).toMatch(/^spec: Forbidden: pod updates may not change fields other than `spec\.containers\[\*\]\.image`,`spec\.initContainers\[\*\]\.image`,`spec\.activeDeadlineSeconds`,`spec\.tolerations` \(only additions to existing tolerations\),`spec\.terminationGracePeriodSeconds` \(allow it to be set to 1 if it was previously negative\)\n/);
  });
  it("keeps status on main update; status update keeps spec", () => {
    const old = created(pod());
    old.status = { phase: "Running" };
    const upd = structuredClone(old);
    upd.status = { phase: "Failed" };
    s.prepareForUpdate(upd, old);
    expect(upd.status).toEqual({ phase: "Running" });
    const st = structuredClone(old);
    st.status = { phase: "Succeeded" };
    (st.spec as Record<string, unknown>).nodeName = "evil";
    st.metadata = { ...st.metadata, labels: { a: "b" } };
    s.prepareForStatusUpdate(st, old);
    expect(st.status).toEqual({ phase: "Succeeded" });
    expect((st.spec as Record<string, unknown>).nodeName).toBeUndefined();
    expect(st.metadata?.labels).toEqual({ a: "b" });
  });
  it("a status update validates metadata, not the spec it carries back from the old pod", () => {
    const old = created(pod());
    const st = structuredClone(old);
    st.status = { phase: "Running" };
    s.prepareForStatusUpdate(st, old);
    expect(s.validateStatusUpdate?.(st, old)).toEqual([]);
    // metadata rules still apply
    const badMeta = structuredClone(st);
    badMeta.metadata = { ...badMeta.metadata, labels: { "bad key!": "x" } };
    expect(text(s.validateStatusUpdate?.(badMeta, old) ?? []).join("\n")).toMatch(/metadata\.labels/);
    // the whole-object rules still guard main-resource updates
    const badSpec = structuredClone(old);
    (badSpec.spec as Record<string, unknown>).restartPolicy = "Never";
    expect(s.validateUpdate(badSpec, old)).toHaveLength(1);
  });
});

describe("pod fields and table", () => {
  it("fields()", () => {
    const p = created(pod({ nodeName: "n1", serviceAccountName: "sa" }));
    expect(s.fields(p)).toEqual({
      "metadata.name": "web", "metadata.namespace": "default", "spec.nodeName": "n1", "spec.restartPolicy": "Always",
      "spec.schedulerName": "default-scheduler", "spec.serviceAccountName": "sa", "spec.hostNetwork": "false",
      "status.phase": "Pending", "status.podIP": "", "status.nominatedNodeName": "",
    });
  });
  it("columns", () => {
    expect(s.table.columns.map((c) => [c.name, c.priority])).toEqual([
      ["Name", 0], ["Ready", 0], ["Status", 0], ["Restarts", 0], ["Age", 0], ["IP", 1], ["Node", 1], ["Nominated Node", 1], ["Readiness Gates", 1],
    ]);
    expect(s.table.columns[0]?.format).toBe("name");
  });
  const running = { phase: "Running", podIP: "10.0.0.5", containerStatuses: [{ name: "web", ready: true, restartCount: 0, state: { running: {} } }] };
  const rows: [string, Record<string, unknown>, Record<string, unknown>, unknown[]][] = [
    ["pending", {}, { phase: "Pending" }, ["web", "0/1", "Pending", "0", "5m", "<none>", "<none>", "<none>", "<none>"]],
    ["running", { nodeName: "n1" }, running, ["web", "1/1", "Running", "0", "5m", "10.0.0.5", "n1", "<none>", "<none>"]],
    ["creating", {}, { phase: "Pending", containerStatuses: [{ name: "web", ready: false, restartCount: 0, state: { waiting: { reason: "ContainerCreating" } } }] }, ["web", "0/1", "ContainerCreating", "0"]],
    ["crashloop", {}, { phase: "Running", containerStatuses: [{ name: "web", ready: false, restartCount: 3, lastState: { terminated: { finishedAt: "2026-01-01T11:58:00Z" } }, state: { waiting: { reason: "CrashLoopBackOff" } } }] }, ["web", "0/1", "CrashLoopBackOff", "3 (2m ago)"]],
    ["completed", {}, { phase: "Succeeded", containerStatuses: [{ name: "web", ready: false, restartCount: 0, state: { terminated: { reason: "Completed", exitCode: 0 } } }] }, ["web", "0/1", "Completed", "0"]],
    ["exit code", {}, { phase: "Failed", containerStatuses: [{ name: "web", ready: false, restartCount: 0, state: { terminated: { exitCode: 2 } } }] }, ["web", "0/1", "ExitCode:2", "0"]],
    ["init", { initContainers: [{ name: "i", image: "x" }] }, { phase: "Pending", initContainerStatuses: [{ name: "i", restartCount: 0, state: { running: {} } }] }, ["web", "0/1", "Init:0/1", "0"]],
    ["init failing", { initContainers: [{ name: "i", image: "x" }] }, { phase: "Pending", initContainerStatuses: [{ name: "i", restartCount: 1, state: { terminated: { exitCode: 1, reason: "Error" } } }] }, ["web", "0/1", "Init:Error", "1"]],
  ];
  it.each(rows)("row: %s", (_n, spec, status, want) => {
    const p = pod(spec, { status });
    const row = s.table.row(p, NOW);
    expect(row.slice(0, want.length)).toEqual(want);
  });
  it("terminating and readiness gates", () => {
    const p = pod({ readinessGates: [{ conditionType: "x" }] }, { status: { ...running, conditions: [{ type: "x", status: "True" }] } });
    p.metadata = { ...p.metadata, deletionTimestamp: "2026-01-01T12:00:00Z" };
    const row = s.table.row(p, NOW);
    expect(row[2]).toBe("Terminating");
    expect(row[8]).toBe("1/1");
  });
});
