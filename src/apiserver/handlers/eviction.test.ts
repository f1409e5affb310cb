import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { KubeObject } from "../../api/object.ts";
import { createMemoryStore } from "../../store/memory.ts";
import type { Store } from "../../store/types.ts";
import { bodyJson, fakeRequest } from "../_testing.ts";
import { createApiServer, type ApiServer } from "../server.ts";
import { canIgnoreBudget, disruptionAllowedCondition, evictionDeleteOptions, matchingBudgets, takeDisruption } from "./eviction.ts";

const tokens = new Map([["t0k", { user: "admin", groups: ["system:masters"] }]]);
let store: Store;
let api: ApiServer;

async function call(method: string, url: string, body?: unknown) {
  const res = await api.handler(fakeRequest(method, url, { headers: { authorization: "Bearer t0k" }, ...(body !== undefined ? { body: body as object } : {}) }));
  return { status: res.status, json: await bodyJson(res) };
}

const PODS = "/api/v1/namespaces/default/pods";
const PDBS = "/apis/policy/v1/namespaces/default/poddisruptionbudgets";
const eviction = (name: string, deleteOptions?: unknown) => ({ apiVersion: "policy/v1", kind: "Eviction", metadata: { name, namespace: "default" }, ...(deleteOptions ? { deleteOptions } : {}) });

/** A bound, Running pod (ready unless told otherwise). */
async function runningPod(name: string, opts: { ready?: boolean; phase?: string; labels?: Record<string, string> } = {}) {
  const created = await call("POST", PODS, { apiVersion: "v1", kind: "Pod", metadata: { name, labels: opts.labels ?? { app: "web" } }, spec: { nodeName: "n1", containers: [{ name: "c", image: "nginx" }] } });
  expect(created.status).toBe(201);
  const status = { phase: opts.phase ?? "Running", conditions: [{ type: "Ready", status: opts.ready === false ? "False" : "True" }] };
  const r = await call("PUT", `${PODS}/${name}/status`, { ...created.json, status });
  expect(r.status).toBe(200);
  return r.json as KubeObject;
}

async function budget(name: string, status: Record<string, unknown>, selector: unknown = { matchLabels: { app: "web" } }) {
  const created = await call("POST", PDBS, { apiVersion: "policy/v1", kind: "PodDisruptionBudget", metadata: { name }, spec: { minAvailable: 1, selector } });
  expect(created.status).toBe(201);
  const r = await call("PUT", `${PDBS}/${name}/status`, { ...created.json, status: { observedGeneration: 1, currentHealthy: 2, desiredHealthy: 1, expectedPods: 2, ...status } });
  expect(r.status).toBe(200);
}

beforeEach(async () => {
  store = createMemoryStore();
  api = createApiServer({ store, tokens, compactIntervalMs: 0 });
  await api.start();
});
afterEach(async () => {
  await api.stop();
  await store.close();
});

describe("pods/eviction", () => {
  it("a pod no budget covers is deleted (graceful for a bound pod) with the DisruptionTarget condition; 201 Success", async () => {
    await runningPod("a");
    const r = await call("POST", `${PODS}/a/eviction`, eviction("a"));
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ kind: "Status", status: "Success" });
    const pod = (await call("GET", `${PODS}/a`)).json;
    expect(pod.metadata.deletionTimestamp).toBeDefined();
    expect(pod.metadata.deletionGracePeriodSeconds).toBe(30);
    expect(pod.status.conditions).toContainEqual(expect.objectContaining({ type: "DisruptionTarget", status: "True", reason: "EvictionByEvictionAPI", message: "Eviction API: evicting" }));
  });

  it("deleteOptions pass through: gracePeriodSeconds 0 removes the pod at once", async () => {
    await runningPod("a");
    expect((await call("POST", `${PODS}/a/eviction`, eviction("a", { gracePeriodSeconds: 0 }))).status).toBe(201);
    expect((await call("GET", `${PODS}/a`)).status).toBe(404);
  });

  it("an exhausted budget answers 429 with the DisruptionBudget cause and leaves pod and budget alone", async () => {
    await runningPod("a");
    await budget("web", { disruptionsAllowed: 0, currentHealthy: 2, desiredHealthy: 2 });
    const r = await call("POST", `${PODS}/a/eviction`, eviction("a"));
    expect(r.status).toBe(429);
    expect(r.json).toMatchObject({
      kind: "Status", code: 429, reason: "TooManyRequests", message: "Cannot evict pod as it would violate the pod's disruption budget.",
      details: { causes: [{ reason: "DisruptionBudget", message: "The disruption budget web needs 2 healthy pods and has 2 currently" }] },
    });
    expect((await call("GET", `${PODS}/a`)).json.metadata.deletionTimestamp).toBeUndefined();
  });

  it("a budget allowing a disruption is decremented, records the pod, and the pod is deleted", async () => {
    await runningPod("a");
    await runningPod("b");
    await budget("web", { disruptionsAllowed: 1 });
    expect((await call("POST", `${PODS}/a/eviction`, eviction("a"))).status).toBe(201);
    const pdb = (await call("GET", `${PDBS}/web`)).json;
    expect(pdb.status.disruptionsAllowed).toBe(0);
    expect(Object.keys(pdb.status.disruptedPods)).toEqual(["a"]);
    expect(pdb.status.conditions).toContainEqual(expect.objectContaining({ type: "DisruptionAllowed", status: "False", reason: "InsufficientPods" }));
    expect((await call("GET", `${PODS}/a`)).json.metadata.deletionTimestamp).toBeDefined();
    // The next one is refused.
    expect((await call("POST", `${PODS}/b/eviction`, eviction("b"))).status).toBe(429);
  });

  it("a budget whose status lags its spec answers 429 'still being processed'", async () => {
    await runningPod("a");
    await budget("web", { disruptionsAllowed: 5, observedGeneration: 0 });
    const r = await call("POST", `${PODS}/a/eviction`, eviction("a"));
    expect(r.status).toBe(429);
    expect(r.json.details.causes[0].message).toBe("The disruption budget web is still being processed by the server.");
    expect(r.json.details.retryAfterSeconds).toBe(10);
  });

  it("terminal pods and unready pods under a healthy budget go without taking a disruption", async () => {
    await runningPod("done", { phase: "Failed" });
    await runningPod("sick", { ready: false });
    await budget("web", { disruptionsAllowed: 0, currentHealthy: 2, desiredHealthy: 2 });
    expect((await call("POST", `${PODS}/done/eviction`, eviction("done"))).status).toBe(201);
    expect((await call("GET", `${PODS}/done`)).status).toBe(404);
    expect((await call("POST", `${PODS}/sick/eviction`, eviction("sick"))).status).toBe(201);
    expect((await call("GET", `${PDBS}/web`)).json.status.disruptionsAllowed).toBe(0);
  });

  it("dry run changes nothing", async () => {
    await runningPod("a");
    await budget("web", { disruptionsAllowed: 1 });
    expect((await call("POST", `${PODS}/a/eviction?dryRun=All`, eviction("a"))).status).toBe(201);
    expect((await call("GET", `${PDBS}/web`)).json.status.disruptionsAllowed).toBe(1);
    expect((await call("GET", `${PODS}/a`)).json.metadata.deletionTimestamp).toBeUndefined();
  });

  it("bad requests: two budgets 500, name mismatch 400, missing pod 404, stale uid precondition 409, bad options 400, GET 405", async () => {
    await runningPod("a");
    await budget("one", { disruptionsAllowed: 1 });
    await budget("two", { disruptionsAllowed: 1 }, {});
    const two = await call("POST", `${PODS}/a/eviction`, eviction("a"));
    expect(two.status).toBe(500);
    expect(two.json.message).toBe("This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.");
    const mism = await call("POST", `${PODS}/a/eviction`, eviction("b"));
    expect(mism.status).toBe(400);
    expect(mism.json.message).toBe("name in URL does not match name in Eviction object");
    const missing = await call("POST", `${PODS}/zz/eviction`, eviction("zz"));
    expect(missing.status).toBe(404);
    expect(missing.json.message).toBe('pods "zz" not found');
    const pre = await call("POST", `${PODS}/a/eviction`, eviction("a", { preconditions: { uid: "nope" } }));
    expect(pre.status).toBe(409);
    expect(pre.json.message).toContain("Precondition failed: UID in precondition: nope");
    expect((await call("POST", `${PODS}/a/eviction`, eviction("a", { gracePeriodSeconds: "x" }))).status).toBe(400);
    expect((await call("POST", `${PODS}/a/eviction`, { apiVersion: "v1", kind: "Pod", metadata: { name: "a" } })).status).toBe(400);
    expect((await call("GET", `${PODS}/a/eviction`)).status).toBe(405);
  });
});

describe("eviction decisions (pure)", () => {
  const pod = (labels: Record<string, string>, ready = true, phase = "Running"): KubeObject => ({
    metadata: { name: "p", labels }, status: { phase, conditions: [{ type: "Ready", status: ready ? "True" : "False" }] },
  });
  const pdb = (status: Record<string, unknown>, extra: Record<string, unknown> = {}): KubeObject => ({
    metadata: { name: "b", generation: 2 }, spec: { selector: { matchLabels: { app: "web" } }, ...extra }, status: { observedGeneration: 2, ...status },
  });

  it("canIgnoreBudget: finished, pending, deleting", () => {
    expect(canIgnoreBudget(pod({}, true, "Succeeded"))).toBe(true);
    expect(canIgnoreBudget(pod({}, true, "Pending"))).toBe(true);
    expect(canIgnoreBudget({ ...pod({}), metadata: { deletionTimestamp: "x" } })).toBe(true);
    expect(canIgnoreBudget(pod({}))).toBe(false);
  });

  it("matchingBudgets: {} matches all, no selector nothing, invalid selector nothing", () => {
    const b = (selector: unknown): KubeObject => ({ metadata: { name: JSON.stringify(selector) }, spec: selector === undefined ? {} : { selector } });
    const got = matchingBudgets(pod({ app: "web" }), [b({}), b(undefined), b({ matchLabels: { app: "web" } }), b({ matchLabels: { app: "db" } }), b({ matchExpressions: [{ key: "app", operator: "Gt", values: ["1"] }] })]);
    expect(got.map((x) => x.metadata?.name)).toEqual(["{}", '{"matchLabels":{"app":"web"}}']);
  });

  it("takeDisruption: decrement keeps other disrupted pods; AlwaysAllow lets unready pods go; negative budget 403", () => {
    const now = new Date("2024-01-01T00:00:00Z");
    const t = takeDisruption(pdb({ disruptionsAllowed: 2, disruptedPods: { q: "2023-12-31T23:59:00Z" } }), pod({ app: "web" }), now);
    expect(t).toEqual({ kind: "take", status: expect.objectContaining({ disruptionsAllowed: 1, disruptedPods: { q: "2023-12-31T23:59:00Z", p: "2024-01-01T00:00:00Z" } }) });
    expect(takeDisruption(pdb({ disruptionsAllowed: 0 }, { unhealthyPodEvictionPolicy: "AlwaysAllow" }), pod({}, false), now)).toEqual({ kind: "unhealthy" });
    expect(() => takeDisruption(pdb({ disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 1 }), pod({}, false), now)).toThrow("would violate");
    expect(() => takeDisruption(pdb({ disruptionsAllowed: -1 }), pod({}), now)).toThrow('poddisruptionbudgets.policy "b" is forbidden: pdb disruptions allowed is negative');
  });

  it("disruptionAllowedCondition keeps lastTransitionTime while the status stays", () => {
    const c1 = disruptionAllowedCondition(undefined, 1, 3, "t1");
    expect(c1).toEqual([{ type: "DisruptionAllowed", status: "True", reason: "SufficientPods", message: "", lastTransitionTime: "t1", observedGeneration: 3 }]);
    expect(disruptionAllowedCondition(c1, 2, 3, "t2")[0]?.lastTransitionTime).toBe("t1");
    expect(disruptionAllowedCondition(c1, 0, 3, "t3")[0]).toMatchObject({ status: "False", reason: "InsufficientPods", lastTransitionTime: "t3" });
  });

  it.each([
    ["not an object", 5, "deleteOptions must be an object"],
    ["grace not an integer", { gracePeriodSeconds: 1.5 }, "gracePeriodSeconds must be an integer"],
    ["bad policy", { propagationPolicy: "Later" }, 'Unsupported value: "Later"'],
    ["bad dryRun", { dryRun: ["Some"] }, 'unsupported dry run value "Some"'],
    ["bad preconditions", { preconditions: [1] }, "preconditions must be an object"],
  ])("evictionDeleteOptions rejects %s", (_n, raw, msg) => {
    expect(() => evictionDeleteOptions(raw, false)).toThrow(msg);
  });

  it("evictionDeleteOptions carries the fields through", () => {
    expect(evictionDeleteOptions({ gracePeriodSeconds: 5, propagationPolicy: "Foreground", preconditions: { uid: "u", resourceVersion: "7" }, dryRun: ["All"] }, false)).toEqual({
      dryRun: true, gracePeriodSeconds: 5, propagationPolicy: "Foreground", preconditions: { uid: "u", resourceVersion: "7" },
    });
    expect(evictionDeleteOptions(undefined, true)).toEqual({ dryRun: true });
  });
});
