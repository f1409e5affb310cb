/**
 * The scheduler runner against a real in-process control plane (memory store, h2c, no other
 * components): binding through pods/binding, Scheduled / FailedScheduling events, the
 * PodScheduled=False condition, preemption, binding failure rollback, leader election.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Pod } from "../../api/generated/core_v1.ts";
import type { KubeObject } from "../../api/object.ts";
import { ApiError } from "../../api/errors.ts";
import { createClient, type Client } from "../../client/client.ts";
import { loadKubeconfig } from "../../client/kubeconfig.ts";
import { COMPONENTS } from "../../server/components.ts";
import { defaultDeps, startControlPlane, type ControlPlane } from "../../server/control-plane.ts";
import { createMemoryStore } from "../../store/memory.ts";
import { parseSchedulerConfig, SchedulerConfigError } from "../framework/config.ts";
import { clientPodApi, type PodApi } from "./api.ts";
import { createSchedulerRunner, type SchedulerRunner } from "./runner.ts";

let cp: ControlPlane;
let client: Client;
let dir: string;
const runners: SchedulerRunner[] = [];
const FAST = { leaseDurationSeconds: 2, renewDeadlineMs: 1500, retryPeriodMs: 200 };
const quiet = (): void => {};

async function until<T>(f: () => Promise<T | undefined | false> | T | undefined | false, ms = 10_000, what = "condition"): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const pods = () => client.resourceFor<Pod & KubeObject>("v1", "Pod").namespace("default");
const events = () => client.resourceFor("v1", "Event").namespace("default");

async function node(name: string, cpu: string, labels: Record<string, string> = {}, taints: unknown[] = []): Promise<void> {
  const nodes = client.resourceFor("v1", "Node");
  await nodes.create({
    apiVersion: "v1", kind: "Node", metadata: { name, labels: { "kubernetes.io/hostname": name, ...labels } },
    status: { capacity: { cpu, memory: "8Gi", pods: "110" }, allocatable: { cpu, memory: "8Gi", pods: "110" }, conditions: [{ type: "Ready", status: "True" }] },
  });
  // No node lifecycle controller here: drop the admission's not-ready taint ourselves.
  await nodes.patch(name, { spec: { taints } }, "merge");
}

/** n1 is full after the preemption test: later pods go to n2. */
const onN2 = { nodeSelector: { zone: "b" }, tolerations: [{ key: "dedicated", operator: "Exists" }] };

function podSpec(name: string, cpu: string, extra: Record<string, unknown> = {}): Pod & KubeObject {
  return { apiVersion: "v1", kind: "Pod", metadata: { name }, spec: { containers: [{ name: "c", image: "x", resources: { requests: { cpu } } }], ...extra } };
}

async function nodeOf(name: string, ms = 10_000): Promise<string> {
  return until(async () => (await pods().get(name)).spec?.nodeName || undefined, ms, `${name} bound`);
}

async function eventsOf(name: string): Promise<KubeObject[]> {
  return (await events().list({ fieldSelector: `involvedObject.name=${name}` })).items;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tug-sched-"));
  cp = await startControlPlane({
    dataDir: dir, listen: { host: "127.0.0.1", port: 0 }, kubeconfigOut: join(dir, "kubeconfig"), insecurePlaintext: true,
    disable: COMPONENTS.filter((c) => !c.required).map((c) => c.name),
  }, { ...defaultDeps, openStore: async () => createMemoryStore() });
  client = createClient(loadKubeconfig(cp.kubeconfigPath));
  await node("n1", "2", { zone: "a" });
  await node("n2", "2", { zone: "b" }, [{ key: "dedicated", value: "gpu", effect: "NoSchedule" }]);
  const r = await createSchedulerRunner({ client, leaderElect: false, log: quiet, preemptionGracePeriodSeconds: 0 });
  runners.push(r);
  r.start();
  await until(() => r.isActive(), 10_000, "scheduler synced");
}, 30_000);

afterAll(async () => {
  for (const r of runners) await r.stop();
  client?.close();
  await cp?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("scheduler runner", () => {
  it("binds a pod through pods/binding and records Scheduled", async () => {
    await pods().create(podSpec("web", "500m"));
    expect(await nodeOf("web")).toBe("n1"); // n2's taint is not tolerated
    const p = await pods().get("web");
    expect(p.status?.conditions?.find((c) => c.type === "PodScheduled")?.status).toBe("True");
    const ev = await until(async () => (await eventsOf("web")).find((e) => e["reason"] === "Scheduled"), 5000, "Scheduled event");
    expect(ev["message"]).toBe("Successfully assigned default/web to n1");
    expect(ev["type"]).toBe("Normal");
    expect(ev["source"]).toEqual({ component: "default-scheduler" });
    expect(runners[0]!.metricsText()).toMatch(/scheduler_schedule_attempts_total\{result="scheduled",profile="default-scheduler"\} [1-9]/);
  });

  it("honours tolerations and nodeSelector", async () => {
    await pods().create(podSpec("gpu", "100m", { nodeSelector: { zone: "b" }, tolerations: [{ key: "dedicated", operator: "Equal", value: "gpu", effect: "NoSchedule" }] }));
    expect(await nodeOf("gpu")).toBe("n2");
  });

  it("a pod asking for more cpu than any node has stays Pending with FailedScheduling and PodScheduled=False", async () => {
    await pods().create(podSpec("huge", "64"));
    const msg = "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {dedicated: gpu}. preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling.";
    const ev = await until(async () => (await eventsOf("huge")).find((e) => e["reason"] === "FailedScheduling"), 5000, "FailedScheduling event");
    expect(ev["message"]).toBe(msg);
    expect(ev["type"]).toBe("Warning");
    const cond = await until(async () => (await pods().get("huge")).status?.conditions?.find((c) => c.type === "PodScheduled"), 5000, "condition");
    expect(cond).toMatchObject({ status: "False", reason: "Unschedulable", message: msg });
    expect((await pods().get("huge")).spec?.nodeName ?? "").toBe("");
  });

  it("preempts a lower-priority pod (DisruptionTarget, delete) and binds the preemptor to the nominated node", async () => {
    await client.resourceFor("scheduling.k8s.io/v1", "PriorityClass").create({ apiVersion: "scheduling.k8s.io/v1", kind: "PriorityClass", metadata: { name: "high" }, value: 1000 });
    await pods().create(podSpec("low", "1"));
    expect(await nodeOf("low")).toBe("n1");
    await pods().create(podSpec("high", "1500m", { priorityClassName: "high" }));
    expect(await nodeOf("high", 15_000)).toBe("n1");
    await until(async () => { try { await pods().get("low"); return false; } catch (e) { return e instanceof ApiError && e.code === 404; } }, 5000, "victim deleted");
    const pre = await until(async () => (await eventsOf("low")).find((e) => e["reason"] === "Preempted"), 5000, "Preempted event");
    expect(String(pre["message"])).toMatch(/^Preempted by pod .+ on node n1$/);
  }, 30_000);
});

describe("binding failures", () => {
  it("a rejected binding rolls back and the pod is bound on a later attempt", async () => {
    const real = clientPodApi(client);
    let failures = 1;
    const api: PodApi = {
      ...real,
      bind: (ns, name, uid, n) => (name === "flaky" && failures-- > 0 ? Promise.reject(new ApiError(500, "InternalError", "injected")) : real.bind(ns, name, uid, n)),
    };
    // A second runner with its own profile name so only it schedules this pod.
    const config = parseSchedulerConfig({ apiVersion: "kubescheduler.config.k8s.io/v1", kind: "KubeSchedulerConfiguration", profiles: [{ schedulerName: "flaky-scheduler" }] });
    const r = await createSchedulerRunner({ client, config, leaderElect: false, log: quiet, podApi: api });
    runners.push(r);
    r.start();
    await until(() => r.isActive(), 10_000, "second scheduler synced");
    await pods().create(podSpec("flaky", "100m", { schedulerName: "flaky-scheduler", ...onN2 }));
    const ev = await until(async () => (await eventsOf("flaky")).find((e) => e["reason"] === "FailedScheduling"), 5000, "FailedScheduling");
    expect(ev["message"]).toBe("Binding rejected: injected");
    expect(await nodeOf("flaky", 15_000)).toBe("n2");
    expect(r.stats.bindFailed).toBe(1);
    expect(r.stats.bound).toBe(1);
  }, 30_000);

  it("a pod leaves backoff when its backoff ends, not at the next periodic flush (backoffTimer)", async () => {
    // Binding rejected once → the pod backs off 1 s. The periodic flush is a minute away, so only
    // the backoff timer can bring it back; with `backoffTimer: false` it is still waiting.
    const run = async (name: string, backoffTimer: boolean): Promise<{ r: SchedulerRunner; failedAt: number }> => {
      const real = clientPodApi(client);
      let failures = 1;
      const api: PodApi = {
        ...real,
        bind: (ns, pod, uid, n) => (pod === name && failures-- > 0 ? Promise.reject(new ApiError(500, "InternalError", "injected")) : real.bind(ns, pod, uid, n)),
      };
      const config = parseSchedulerConfig({ apiVersion: "kubescheduler.config.k8s.io/v1", kind: "KubeSchedulerConfiguration", profiles: [{ schedulerName: `${name}-scheduler` }] });
      const r = await createSchedulerRunner({ client, config, leaderElect: false, log: quiet, podApi: api, flushIntervalMs: 60_000, backoffTimer });
      runners.push(r);
      r.start();
      await until(() => r.isActive(), 10_000, `${name} scheduler synced`);
      await pods().create(podSpec(name, "100m", { schedulerName: `${name}-scheduler`, ...onN2 }));
      await until(() => r.stats.bindFailed === 1, 5000, `${name} binding rejected`);
      return { r, failedAt: Date.now() };
    };
    const timed = await run("backoff-timer", true);
    expect(await nodeOf("backoff-timer", 5000)).toBe("n2");
    const waited = Date.now() - timed.failedAt;
    expect(waited).toBeLessThan(4000); // 1 s backoff (+ scheduling and the poll in nodeOf)
    expect(timed.r.stats.bound).toBe(1);
    const untimed = await run("backoff-flush-only", false);
    await new Promise((res) => setTimeout(res, 2500));
    expect((await pods().get("backoff-flush-only")).spec?.nodeName ?? "").toBe("");
    expect(untimed.r.stats.bound).toBe(0);
    await untimed.r.stop();
  }, 30_000);

  it("rejects an invalid configuration naming the field", async () => {
    let err: unknown;
    try {
      const config = parseSchedulerConfig({ apiVersion: "kubescheduler.config.k8s.io/v1", kind: "KubeSchedulerConfiguration", profiles: [{ schedulerName: "x", plugins: { score: { enabled: [{ name: "NodeAffinity", weight: -1 }] } } }] });
      await createSchedulerRunner({ client, config, leaderElect: false, log: quiet });
    } catch (e) { err = e; }
    expect(err).toBeInstanceOf(SchedulerConfigError);
    expect(String((err as Error).message)).toContain("profiles[0].plugins.score.enabled[0].weight");
  });
});

describe("clientPodApi", () => {
  it("writes without decoding the answer and turns error answers into the server's ApiError", async () => {
    const api = clientPodApi(client);
    const code = async (p: Promise<void>): Promise<number | string> => { try { await p; return "ok"; } catch (e) { return e instanceof ApiError ? e.code : String(e); } };
    await pods().create(podSpec("podapi", "10m", { schedulerName: "nobody" }));
    const uid = (await pods().get("podapi")).metadata?.uid ?? "";
    expect(await code(api.patchStatus("default", "podapi", { status: { nominatedNodeName: "n2" } }))).toBe("ok");
    expect((await pods().get("podapi")).status?.nominatedNodeName).toBe("n2");
    expect(await code(api.patchStatus("default", "absent", { status: { nominatedNodeName: "n2" } }))).toBe(404);
    expect(await code(api.bind("default", "podapi", "wrong-uid", "n2"))).toBe(409); // another pod of the same name
    expect(await code(api.deletePod("default", "podapi", "wrong-uid", 0))).toBe(409);
    expect(await code(api.bind("default", "podapi", uid, "n2"))).toBe("ok");
    expect((await pods().get("podapi")).spec?.nodeName).toBe("n2");
    expect(await code(api.bind("default", "podapi", uid, "n1"))).toBe(409); // already bound
    expect(await code(api.deletePod("default", "podapi", uid, 0))).toBe("ok");
    expect(await code(api.deletePod("default", "podapi", uid, 0))).toBe(404);
  }, 30_000);
});

describe("leader election", () => {
  it("of two schedulers one leads on kube-system/kube-scheduler; the other takes over when it stops", async () => {
    const config = parseSchedulerConfig({ apiVersion: "kubescheduler.config.k8s.io/v1", kind: "KubeSchedulerConfiguration", profiles: [{ schedulerName: "le-scheduler" }] });
    const a = await createSchedulerRunner({ client, config, log: quiet, leaderElection: FAST });
    const b = await createSchedulerRunner({ client, config, log: quiet, leaderElection: FAST });
    runners.push(a, b);
    a.start();
    await until(() => a.isActive(), 10_000, "a leads");
    b.start();
    await new Promise((r) => setTimeout(r, 600));
    expect(b.isActive()).toBe(false);
    const lease = await client.resourceFor("coordination.k8s.io/v1", "Lease").namespace("kube-system").get("kube-scheduler");
    expect((lease["spec"] as { holderIdentity?: string }).holderIdentity).toBe(a.identity);
    await a.stop();
    await until(() => b.isActive(), 10_000, "b takes over");
    await pods().create(podSpec("le", "100m", { schedulerName: "le-scheduler", ...onN2 }));
    expect(await nodeOf("le")).toBe("n2");
  }, 30_000);
});
