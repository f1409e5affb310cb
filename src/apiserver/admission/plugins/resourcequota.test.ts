import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../../api/object.ts";
import { attrs, failure, fakeHost, pod } from "../_fakehost.ts";
import { resourceQuota } from "./resourcequota.ts";

const quota = (name: string, hard: Record<string, string>, extra: Record<string, unknown> = {}): KubeObject =>
  ({ apiVersion: "v1", kind: "ResourceQuota", metadata: { name, namespace: "default", uid: `q-${name}` }, spec: { hard, ...extra } });

const sized = (name: string, cpu: string, memory: string, extra: Record<string, unknown> = {}) => pod(name, {
  containers: [{ name: "c", image: "x", resources: { requests: { cpu, memory }, limits: { cpu, memory } } }], ...extra,
});

const create = (obj: KubeObject, dryRun = false) => attrs({ operation: "CREATE", resource: "pods", kind: "Pod", namespace: "default", object: obj, dryRun });

describe("ResourceQuota", () => {
  it("counts pods, charges on admit and refuses past the limit with upstream's message", async () => {
    const host = fakeHost();
    host.put("", "resourcequotas", quota("q", { pods: "2" }));
    const p = resourceQuota(host);
    host.put("", "pods", pod("existing"));
    await p.validate(create(pod("a")));
    expect(host.statusWrites.at(-1)?.status).toEqual({ hard: { pods: "2" }, used: { pods: "2" } });
    // "a" is admitted but not stored yet: its pending charge still counts.
    const e = await failure(p.validate(create(pod("b"))));
    expect(e.code).toBe(403);
    expect(e.message).toBe('pods "b" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2');
  });
  it("deleted and terminal pods free their share (usage is recomputed)", async () => {
    const host = fakeHost();
    host.put("", "resourcequotas", quota("q", { pods: "1", "count/pods": "5" }));
    const p = resourceQuota(host);
    host.put("", "pods", { ...pod("done"), status: { phase: "Succeeded" } });
    await p.validate(create(pod("a")));
    host.put("", "pods", pod("a"));
    await failure(p.validate(create(pod("b"))));
    host.remove("", "pods", "default", "a");
    await p.validate(create(pod("b")));
    expect(host.statusWrites.at(-1)?.status).toEqual({ hard: { pods: "1", "count/pods": "5" }, used: { pods: "1", "count/pods": "2" } });
  });
  it("compute quotas: sums requests/limits, must-specify, exceeded lists only the exceeded names", async () => {
    const host = fakeHost();
    host.put("", "resourcequotas", quota("compute", { "requests.cpu": "1", "limits.memory": "1Gi" }));
    const p = resourceQuota(host);
    host.put("", "pods", sized("x", "600m", "512Mi"));
    let e = await failure(p.validate(create(sized("y", "500m", "256Mi"))));
    expect(e.message).toBe('pods "y" is forbidden: exceeded quota: compute, requested: requests.cpu=500m, used: requests.cpu=600m, limited: requests.cpu=1');
    e = await failure(p.validate(create(pod("bare"))));
    expect(e.message).toBe('pods "bare" is forbidden: failed quota: compute: must specify limits.memory for: c; requests.cpu for: c');
    await p.validate(create(sized("z", "400m", "512Mi")));
    expect(host.statusWrites.at(-1)?.status).toEqual({ hard: { "requests.cpu": "1", "limits.memory": "1Gi" }, used: { "limits.memory": "1Gi", "requests.cpu": "1" } });
  });
  it("dryRun is checked but charges nothing", async () => {
    const host = fakeHost();
    host.put("", "resourcequotas", quota("q", { pods: "1" }));
    const p = resourceQuota(host);
    await p.validate(create(pod("a"), true));
    await p.validate(create(pod("b"), true));
    expect(host.statusWrites).toHaveLength(0);
    expect((await p.usage(quota("q", { pods: "1" }))).get("pods")?.nanos).toBe(0n);
    host.put("", "pods", pod("c"));
    const e = await failure(p.validate(create(pod("d"), true)));
    expect(e.code).toBe(403);
  });
  it("object counts for other kinds, scopes for pods", async () => {
    const host = fakeHost();
    host.put("", "resourcequotas", quota("objs", { configmaps: "1", "count/secrets": "0", "services.nodeports": "1" }));
    host.put("", "resourcequotas", quota("besteffort", { pods: "0" }, { scopes: ["BestEffort"] }));
    const p = resourceQuota(host);
    const cm = (name: string): KubeObject => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: "default", uid: name } });
    await p.validate(attrs({ operation: "CREATE", resource: "configmaps", kind: "ConfigMap", namespace: "default", object: cm("one") }));
    let e = await failure(p.validate(attrs({ operation: "CREATE", resource: "configmaps", kind: "ConfigMap", namespace: "default", object: cm("two") })));
    expect(e.message).toBe('configmaps "two" is forbidden: exceeded quota: objs, requested: configmaps=1, used: configmaps=1, limited: configmaps=1');
    e = await failure(p.validate(attrs({ operation: "CREATE", resource: "secrets", kind: "Secret", namespace: "default", object: { apiVersion: "v1", kind: "Secret", metadata: { name: "s" } } })));
    expect(e.message).toContain("exceeded quota: objs, requested: count/secrets=1, used: count/secrets=0, limited: count/secrets=0");
    const svc = (type: string, ports: number): KubeObject => ({ apiVersion: "v1", kind: "Service", metadata: { name: "s", namespace: "default", uid: "s" }, spec: { type, ports: Array.from({ length: ports }, (_, i) => ({ port: 80 + i })) } });
    e = await failure(p.validate(attrs({ operation: "CREATE", resource: "services", kind: "Service", namespace: "default", object: svc("NodePort", 2) })));
    expect(e.message).toContain("requested: services.nodeports=2");
    e = await failure(p.validate(attrs({ operation: "UPDATE", resource: "services", kind: "Service", namespace: "default", object: svc("NodePort", 2), oldObject: svc("ClusterIP", 2) })));
    expect(e.message).toContain("requested: services.nodeports=2");
    // BestEffort scope: a pod without requests is refused; one with requests is not governed.
    e = await failure(p.validate(create(pod("be"))));
    expect(e.message).toContain("exceeded quota: besteffort");
    await p.validate(create(sized("burst", "100m", "64Mi")));
  });
  it("a created quota gets status.hard and its current usage at once", async () => {
    const host = fakeHost();
    host.put("", "pods", pod("a"));
    host.put("", "pods", { ...pod("b"), status: { phase: "Failed" } });
    const p = resourceQuota(host);
    const q = quota("new", { pods: "10", "count/pods": "10", cpu: "2" });
    await p.admit(attrs({ operation: "CREATE", resource: "resourcequotas", kind: "ResourceQuota", namespace: "default", object: q }));
    expect(q["status"]).toEqual({ hard: { pods: "10", "count/pods": "10", cpu: "2" }, used: { "count/pods": "2", cpu: "0", pods: "1" } });
  });
});
