/** Admission through the whole apiserver: createApiServer over a memory store, driven by requests. */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createMemoryStore } from "../../store/memory.ts";
import type { Store } from "../../store/types.ts";
import { createApiServer, type ApiServer } from "../server.ts";
import { bodyJson, fakeRequest } from "../_testing.ts";

const TOKEN = { authorization: "Bearer t0k" };
const tokens = new Map([["t0k", { user: "admin", groups: ["system:masters"] }]]);

let store: Store;
let api: ApiServer;

async function call(method: string, url: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await api.handler(fakeRequest(method, url, { headers: { ...TOKEN, ...headers }, ...(body !== undefined ? { body: body as object } : {}) }));
  return { status: res.status, json: await bodyJson(res) };
}

const podBody = (name: string, spec: Record<string, unknown> = {}) => ({
  apiVersion: "v1", kind: "Pod", metadata: { name }, spec: { containers: [{ name: "c", image: "nginx" }], ...spec },
});
const PODS = "/api/v1/namespaces/default/pods";
const DEFAULT_TOLERATIONS = [
  { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
  { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
];

beforeEach(async () => {
  store = createMemoryStore();
  api = createApiServer({ store, tokens, compactIntervalMs: 0 });
  await api.start();
});
afterEach(async () => {
  await api.stop();
  await store.close();
});

describe("admission in the apiserver", () => {
  it("pods get the default tolerations, service account and priority; updates keep them", async () => {
    const r = await call("POST", PODS, podBody("web"));
    expect(r.status).toBe(201);
    expect(r.json.spec.tolerations).toEqual(DEFAULT_TOLERATIONS);
    expect(r.json.spec).toMatchObject({ serviceAccountName: "default", serviceAccount: "default", priority: 0, preemptionPolicy: "PreemptLowerPriority" });
    // managedFields do not attribute admission's additions to the client.
    expect(JSON.stringify(r.json.metadata.managedFields ?? [])).not.toContain("tolerations");
    // A PUT that drops the tolerations gets them back (pod updates may not remove them).
    const put = structuredClone(r.json);
    delete put.spec.tolerations;
    put.spec.activeDeadlineSeconds = 100;
    const u = await call("PUT", `${PODS}/web`, put);
    expect(u.status).toBe(200);
    expect(u.json.spec.tolerations).toEqual(DEFAULT_TOLERATIONS);
    // Server-side apply and patches take the same path.
    const a = await call("PATCH", `${PODS}/applied?fieldManager=me`, podBody("applied"), { "content-type": "application/apply-patch+yaml" });
    expect(a.status).toBe(201);
    expect(a.json.spec.tolerations).toEqual(DEFAULT_TOLERATIONS);
    const p = await call("PATCH", `${PODS}/applied`, { metadata: { labels: { x: "y" } } }, { "content-type": "application/strategic-merge-patch+json" });
    expect(p.status).toBe(200);
    expect(p.json.spec.tolerations).toEqual(DEFAULT_TOLERATIONS);
  });

  it("nodes are created with the not-ready:NoSchedule taint", async () => {
    const r = await call("POST", "/api/v1/nodes", { apiVersion: "v1", kind: "Node", metadata: { name: "n1" } });
    expect(r.status).toBe(201);
    expect(r.json.spec.taints).toEqual([{ key: "node.kubernetes.io/not-ready", effect: "NoSchedule" }]);
  });

  it("priority classes: system classes bootstrapped, names resolved, unknown names refused", async () => {
    const sys = await call("GET", "/apis/scheduling.k8s.io/v1/priorityclasses/system-node-critical");
    expect(sys.json).toMatchObject({ value: 2000001000, preemptionPolicy: "PreemptLowerPriority" });
    expect(sys.json.globalDefault).toBeUndefined();
    expect((await call("GET", "/apis/scheduling.k8s.io/v1/priorityclasses/system-cluster-critical")).json.value).toBe(2000000000);
    const pc = await call("POST", "/apis/scheduling.k8s.io/v1/priorityclasses", {
      apiVersion: "scheduling.k8s.io/v1", kind: "PriorityClass", metadata: { name: "batch" }, value: 500, preemptionPolicy: "Never", globalDefault: true,
    });
    expect(pc.status).toBe(201);
    const second = await call("POST", "/apis/scheduling.k8s.io/v1/priorityclasses", {
      apiVersion: "scheduling.k8s.io/v1", kind: "PriorityClass", metadata: { name: "other" }, value: 5, globalDefault: true,
    });
    expect(second.status).toBe(403);
    expect(second.json.message).toBe('priorityclasses.scheduling.k8s.io "other" is forbidden: PriorityClass batch is already marked as default. Only one default can exist');
    const crit = await call("POST", "/api/v1/namespaces/kube-system/pods", podBody("dns", { priorityClassName: "system-cluster-critical" }));
    expect(crit.json.spec).toMatchObject({ priority: 2000000000, priorityClassName: "system-cluster-critical" });
    const dflt = await call("POST", PODS, podBody("plain"));
    expect(dflt.json.spec).toMatchObject({ priorityClassName: "batch", priority: 500, preemptionPolicy: "Never" });
    const bad = await call("POST", PODS, podBody("bad", { priorityClassName: "gold" }));
    expect(bad.status).toBe(403);
    expect(bad.json).toMatchObject({ kind: "Status", reason: "Forbidden", code: 403, message: 'pods "bad" is forbidden: no PriorityClass with name gold was found', details: { name: "bad", kind: "pods" } });
    expect((await call("GET", `${PODS}/bad`)).status).toBe(404);
  });

  it("limit ranges default container resources (and bound them)", async () => {
    await call("POST", "/api/v1/namespaces/default/limitranges", {
      apiVersion: "v1", kind: "LimitRange", metadata: { name: "lr" },
      spec: { limits: [{ type: "Container", default: { cpu: "500m" }, defaultRequest: { cpu: "100m" }, max: { cpu: "1" } }] },
    });
    const r = await call("POST", PODS, podBody("a"));
    expect(r.status).toBe(201);
    expect(r.json.spec.containers[0].resources).toEqual({ limits: { cpu: "500m" }, requests: { cpu: "100m" } });
    expect(r.json.metadata.annotations["kubernetes.io/limit-ranger"]).toBe("LimitRanger plugin set: cpu request for container c; cpu limit for container c");
    const big = await call("POST", PODS, podBody("b", { containers: [{ name: "c", image: "x", resources: { limits: { cpu: "2" } } }] }));
    expect(big.status).toBe(403);
    expect(big.json.message).toBe('pods "b" is forbidden: maximum cpu usage per Container is 1, but limit is 2');
  });

  it("a default limit below an explicit request is a 422 from validation (mutating admission runs first)", async () => {
    await call("POST", "/api/v1/namespaces/default/limitranges", {
      apiVersion: "v1", kind: "LimitRange", metadata: { name: "lr" }, spec: { limits: [{ type: "Container", default: { cpu: "100m" } }] },
    });
    const r = await call("POST", PODS, podBody("a", { containers: [{ name: "c", image: "x", resources: { requests: { cpu: "1" } } }] }));
    expect(r.status).toBe(422);
  });

  it("resource quota: status set on create, exceeded is 403, dryRun changes no usage", async () => {
    const q = await call("POST", "/api/v1/namespaces/default/resourcequotas", {
      apiVersion: "v1", kind: "ResourceQuota", metadata: { name: "q" }, spec: { hard: { pods: "2", "count/configmaps": "5" } },
    });
    expect(q.status).toBe(201);
    expect(q.json.status).toEqual({ hard: { pods: "2", "count/configmaps": "5" }, used: { "count/configmaps": "0", pods: "0" } });
    expect((await call("POST", PODS, podBody("a"))).status).toBe(201);
    const dry = await call("POST", `${PODS}?dryRun=All`, podBody("dry"));
    expect(dry.status).toBe(201);
    const used = async () => (await call("GET", "/api/v1/namespaces/default/resourcequotas/q")).json.status.used;
    expect(await used()).toEqual({ "count/configmaps": "0", pods: "1" });
    expect((await call("POST", PODS, podBody("b"))).status).toBe(201);
    expect(await used()).toEqual({ "count/configmaps": "0", pods: "2" });
    const over = await call("POST", PODS, podBody("c"));
    expect(over.status).toBe(403);
    expect(over.json.message).toBe('pods "c" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2');
    const overDry = await call("POST", `${PODS}?dryRun=All`, podBody("c"));
    expect(overDry.status).toBe(403);
    // Deleting a pod frees its share for the next create.
    expect((await call("DELETE", `${PODS}/a`)).status).toBe(200);
    expect((await call("POST", PODS, podBody("c"))).status).toBe(201);
    expect(await used()).toEqual({ "count/configmaps": "0", pods: "2" });
  });

  it("concurrent creates cannot overrun a quota", async () => {
    await call("POST", "/api/v1/namespaces/default/resourcequotas", {
      apiVersion: "v1", kind: "ResourceQuota", metadata: { name: "q" }, spec: { hard: { pods: "3" } },
    });
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => call("POST", PODS, podBody(`p${i}`))));
    expect(results.filter((r) => r.status === 201)).toHaveLength(3);
    expect(results.filter((r) => r.status === 403)).toHaveLength(5);
  });

  it("namespace lifecycle: missing 404, terminating 403, immortal namespaces kept", async () => {
    const missing = await call("POST", "/api/v1/namespaces/nope/pods", podBody("a"));
    expect(missing.status).toBe(404);
    expect(missing.json.message).toBe('namespaces "nope" not found');
    await call("POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "tmp", finalizers: ["x/y"] } });
    await call("DELETE", "/api/v1/namespaces/tmp");
    const term = await call("POST", "/api/v1/namespaces/tmp/configmaps", { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" } });
    expect(term.status).toBe(403);
    expect(term.json.message).toBe('configmaps "c" is forbidden: unable to create new content in namespace tmp because it is being terminated');
    expect(term.json.details.causes).toEqual([{ reason: "NamespaceTerminating", message: "namespace tmp is being terminated", field: "metadata.namespace" }]);
    const kept = await call("DELETE", "/api/v1/namespaces/kube-system");
    expect(kept.status).toBe(403);
    expect(kept.json.message).toBe('namespaces "kube-system" is forbidden: this namespace may not be deleted');
    // deletecollection goes through the same check per namespace.
    const all = await call("DELETE", "/api/v1/namespaces?fieldSelector=metadata.name%3Dkube-public");
    expect(all.status).toBe(403);
    expect(all.json.message).toBe('namespaces "kube-public" is forbidden: this namespace may not be deleted');
    expect((await call("GET", "/api/v1/namespaces/kube-public")).status).toBe(200);
  });

  it("admission: false turns the chain off", async () => {
    const s2 = createMemoryStore();
    const plain = createApiServer({ store: s2, tokens, compactIntervalMs: 0, admission: false });
    await plain.start();
    try {
      const r = await plain.handler(fakeRequest("POST", PODS, { headers: TOKEN, body: podBody("x") }));
      expect((await bodyJson(r)).spec.tolerations).toBeUndefined();
      const missing = await plain.handler(fakeRequest("POST", "/api/v1/namespaces/nope/configmaps", { headers: TOKEN, body: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" } } }));
      expect(missing.status).toBe(404);
    } finally {
      await plain.stop();
      await s2.close();
    }
  });
});
