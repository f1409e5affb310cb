/**
 * Acceptance (issue 4, workload controllers): kubectl 1.32 against `tug server`, with hollow node
 * agents (`tug hollow`) so pods really run (simulated containers). `tug server` has no scheduler
 * yet, so pods that must run name their node (`spec.nodeName`); DaemonSet pods are checked for the
 * node affinity the scheduler will bind them by, and the DaemonSet's node add/remove is driven
 * with plain Node objects.
 *
 * Node lifecycle runs with `TUG_NODE_MONITOR_GRACE_PERIOD=15s` (hollow agents renew their Lease
 * every 10 s): a second `tug hollow` process with one node is killed (SIGKILL) at the start, and
 * the last test expects that node Unknown, tainted, and its pod evicted.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Kubectl, REPO, startTug, type TugProcess } from "./harness.ts";

let tug: TugProcess;
let k: Kubectl;
const hollows: ChildProcess[] = [];
let lost: ChildProcess | undefined;
const NS = "wl";
const n = (args: string[]): string[] => ["-n", NS, ...args];

interface Obj {
  metadata: { name: string; uid: string; creationTimestamp?: string; deletionTimestamp?: string; labels?: Record<string, string>; annotations?: Record<string, string>; ownerReferences?: Array<{ kind: string; name: string }> };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  [field: string]: unknown;
}

async function getJson<T = Obj>(args: string[]): Promise<T> {
  return JSON.parse(await k.ok([...args, "-o", "json"])) as T;
}
async function items(args: string[]): Promise<Obj[]> {
  return (await getJson<{ items: Obj[] }>(args)).items;
}

async function until<T>(what: string, f: () => Promise<T | undefined | false>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await f();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function startHollow(nodes: number, prefix: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [join(REPO, "bin/tug.js"), "hollow", "--kubeconfig", tug.kubeconfig, "--nodes", String(nodes), "--name-prefix", prefix], { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
  hollows.push(child);
  let out = "";
  let err = "";
  child.stdout?.on("data", (d: Buffer) => { out += d.toString("utf8"); });
  child.stderr?.on("data", (d: Buffer) => { err += d.toString("utf8"); });
  return new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`tug hollow did not register in time\nstdout: ${out}\nstderr: ${err}`)), 30_000);
    const check = setInterval(() => {
      if (/registered/.test(out)) {
        clearTimeout(timer);
        clearInterval(check);
        res(child);
      }
    }, 50);
    child.once("exit", (code) => {
      clearTimeout(timer);
      clearInterval(check);
      rej(new Error(`tug hollow exited ${String(code)}\nstderr: ${err}`));
    });
  });
}

const apply = (obj: unknown): Promise<string> => k.ok(["apply", "-f", "-"], { input: JSON.stringify(obj) });
const container = (command?: string): Record<string, unknown> => ({ name: "c", image: "busybox", ...(command ? { command: ["sh", "-c", command] } : {}) });
const conditions = (o: Obj): Array<{ type: string; status: string; reason?: string }> => (o.status?.["conditions"] ?? []) as Array<{ type: string; status: string; reason?: string }>;

beforeAll(async () => {
  tug = await startTug({ env: { TUG_NODE_MONITOR_GRACE_PERIOD: "15s" } });
  k = new Kubectl("1.32", tug.kubeconfig);
  await k.ok(["create", "namespace", NS]);
  await startHollow(2, "wl-");
  lost = await startHollow(1, "lost-");
  await until("3 ready nodes", async () => (await items(["get", "nodes"])).filter((x) => conditions(x).some((c) => c.type === "Ready" && c.status === "True")).length === 3);
  // A pod on the node about to die, tolerating unreachable for 1 s only.
  await apply({
    apiVersion: "v1", kind: "Pod", metadata: { name: "doomed", namespace: NS },
    spec: { nodeName: "lost-0", containers: [container()], tolerations: [{ key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 1 }] },
  });
  await until("doomed running", async () => (await getJson(n(["get", "pod", "doomed"]))).status?.["phase"] === "Running");
  lost.kill("SIGKILL");
});

afterAll(async () => {
  for (const h of hollows) if (h.exitCode === null && h.signalCode === null) h.kill("SIGTERM");
  await Promise.all(hollows.map((h) => (h.exitCode === null && h.signalCode === null ? new Promise((r) => h.once("exit", r)) : undefined)));
  await tug?.stop();
  k?.cleanup();
});

describe("kubectl 1.32 + workload controllers", () => {
  it("a Job runs to completion: Complete, succeeded, completionTime, pods labelled", async () => {
    await apply({
      apiVersion: "batch/v1", kind: "Job", metadata: { name: "ok", namespace: NS },
      spec: { completions: 2, parallelism: 2, template: { spec: { nodeName: "wl-0", restartPolicy: "Never", containers: [container("exit 0")] } } },
    });
    const job = await until("job complete", async () => {
      const j = await getJson(n(["get", "job", "ok"]));
      return conditions(j).some((c) => c.type === "Complete" && c.status === "True") ? j : undefined;
    });
    expect(job.status?.["succeeded"]).toBe(2);
    expect(job.status?.["failed"] ?? 0).toBe(0); // zero is omitted, as upstream
    expect(typeof job.status?.["completionTime"]).toBe("string");
    expect(conditions(job).find((c) => c.type === "SuccessCriteriaMet")).toMatchObject({ status: "True", reason: "CompletionsReached" });
    const pods = await items(n(["get", "pods", "-l", "batch.kubernetes.io/job-name=ok"]));
    expect(pods).toHaveLength(2);
    expect(pods.every((p) => p.metadata.labels?.["batch.kubernetes.io/controller-uid"] === job.metadata.uid)).toBe(true);
    expect(await k.ok(n(["wait", "--for=condition=complete", "job/ok", "--timeout=5s"]))).toMatch(/job.batch\/ok condition met/);
  });

  it("a Job whose pods fail stops at the backoff limit: Failed / BackoffLimitExceeded", async () => {
    await apply({
      apiVersion: "batch/v1", kind: "Job", metadata: { name: "bad", namespace: NS },
      spec: { backoffLimit: 1, parallelism: 2, completions: 2, template: { spec: { nodeName: "wl-1", restartPolicy: "Never", containers: [container("exit 3")] } } },
    });
    const job = await until("job failed", async () => {
      const j = await getJson(n(["get", "job", "bad"]));
      return conditions(j).some((c) => c.type === "Failed" && c.status === "True") ? j : undefined;
    });
    expect(conditions(job).find((c) => c.type === "Failed")).toMatchObject({ reason: "BackoffLimitExceeded" });
    expect(conditions(job).find((c) => c.type === "FailureTarget")).toMatchObject({ reason: "BackoffLimitExceeded" });
    expect(job.status?.["failed"]).toBe(2);
    const events = await k.ok(n(["get", "events", "--field-selector", "involvedObject.name=bad"]));
    expect(events).toMatch(/BackoffLimitExceeded/);
  });

  it("a CronJob fires on its schedule, records lastScheduleTime and its Job completes", async () => {
    await apply({
      apiVersion: "batch/v1", kind: "CronJob", metadata: { name: "tick", namespace: NS },
      spec: { schedule: "@every 2s", jobTemplate: { spec: { template: { spec: { nodeName: "wl-0", restartPolicy: "Never", containers: [container("exit 0")] } } } } },
    });
    const job = await until("a job of the cronjob", async () => (await items(n(["get", "jobs"]))).find((j) => j.metadata.ownerReferences?.some((o) => o.kind === "CronJob" && o.name === "tick")));
    expect(job.metadata.name).toMatch(/^tick-\d+$/);
    expect(job.metadata.annotations?.["batch.kubernetes.io/cronjob-scheduled-timestamp"]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const cj = await until("lastSuccessfulTime", async () => {
      const c = await getJson(n(["get", "cronjob", "tick"]));
      return c.status?.["lastSuccessfulTime"] ? c : undefined;
    });
    expect(typeof cj.status?.["lastScheduleTime"]).toBe("string");
    await k.ok(n(["patch", "cronjob", "tick", "-p", '{"spec":{"suspend":true}}']));
  });

  it("a StatefulSet starts in order, each pod after the previous is Running and Ready", async () => {
    await apply({ apiVersion: "v1", kind: "Service", metadata: { name: "web", namespace: NS }, spec: { clusterIP: "None", selector: { app: "web" }, ports: [{ name: "http", port: 80, targetPort: 8080 }] } });
    await apply({
      apiVersion: "apps/v1", kind: "StatefulSet", metadata: { name: "web", namespace: NS },
      spec: {
        replicas: 3, serviceName: "web", selector: { matchLabels: { app: "web" } },
        updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 2 } },
        template: { metadata: { labels: { app: "web" } }, spec: { nodeName: "wl-1", containers: [{ ...container(), image: "nginx:1" }] } },
        volumeClaimTemplates: [{ metadata: { name: "www" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } } }],
      },
    });
    const sts = await until("3 ready replicas", async () => {
      const s = await getJson(n(["get", "statefulset", "web"]));
      return s.status?.["readyReplicas"] === 3 ? s : undefined;
    }, 30_000);
    const pods = (await items(n(["get", "pods", "-l", "app=web"]))).sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
    expect(pods.map((p) => p.metadata.name)).toEqual(["web-0", "web-1", "web-2"]);
    for (let i = 1; i < 3; i++) {
      const prevReady = conditions(pods[i - 1]!).find((c) => c.type === "Ready") as { lastTransitionTime?: string } | undefined;
      expect(Date.parse(pods[i]!.metadata.creationTimestamp ?? "")).toBeGreaterThanOrEqual(Date.parse(prevReady?.lastTransitionTime ?? "") - 999);
    }
    expect(pods[1]?.metadata.labels).toMatchObject({ "statefulset.kubernetes.io/pod-name": "web-1", "apps.kubernetes.io/pod-index": "1" });
    expect(pods[1]?.spec).toMatchObject({ hostname: "web-1", subdomain: "web" });
    expect((await items(n(["get", "pvc"]))).map((c) => c.metadata.name).sort()).toEqual(["www-web-0", "www-web-1", "www-web-2"]);
    expect(sts.status).toMatchObject({ replicas: 3, currentReplicas: 3, updatedReplicas: 3, availableReplicas: 3, observedGeneration: 1 });
    expect(sts.status?.["currentRevision"]).toBe(sts.status?.["updateRevision"]);
    expect(await k.ok(n(["rollout", "status", "statefulset/web", "--timeout=10s"]))).toMatch(/partitioned roll out complete|roll out complete/);
  });

  it("a Service gets an EndpointSlice and Endpoints from the ready pods", async () => {
    const slice = await until("slice with 3 ready endpoints", async () => {
      const s = (await items(n(["get", "endpointslices", "-l", "kubernetes.io/service-name=web"])))[0];
      const eps = (s?.["endpoints"] ?? []) as Array<{ conditions: { ready: boolean } }>;
      return eps.length === 3 && eps.every((e) => e.conditions.ready) ? s : undefined;
    });
    expect(slice.metadata.labels?.["endpointslice.kubernetes.io/managed-by"]).toBe("endpointslice-controller.k8s.io");
    expect(slice.metadata.labels?.["service.kubernetes.io/headless"]).toBe("");
    expect(slice["ports"]).toEqual([{ name: "http", port: 8080, protocol: "TCP" }]);
    const eps = slice["endpoints"] as Array<{ hostname?: string; targetRef: { name: string }; nodeName: string }>;
    expect(eps.map((e) => [e.targetRef.name, e.hostname, e.nodeName]).sort()).toEqual([["web-0", "web-0", "wl-1"], ["web-1", "web-1", "wl-1"], ["web-2", "web-2", "wl-1"]]);
    const ep = await getJson(n(["get", "endpoints", "web"]));
    const subsets = (ep["subsets"] ?? []) as Array<{ addresses: Array<{ ip: string }>; ports: unknown[] }>;
    expect(subsets[0]?.addresses).toHaveLength(3);
    expect(ep.metadata.annotations?.["endpoints.kubernetes.io/last-change-trigger-time"]).toMatch(/Z$/);
  });

  it("a partitioned update touches only the ordinals >= partition", async () => {
    const before = await getJson(n(["get", "statefulset", "web"]));
    await k.ok(n(["set", "image", "statefulset/web", "c=nginx:2"]));
    const after = await until("web-2 at the new revision", async () => {
      const s = await getJson(n(["get", "statefulset", "web"]));
      if (s.status?.["updateRevision"] === before.status?.["updateRevision"]) return undefined;
      const p2 = await getJson(n(["get", "pod", "web-2"])).catch(() => undefined);
      return p2?.metadata.labels?.["controller-revision-hash"] === s.status?.["updateRevision"] && s.status?.["readyReplicas"] === 3 ? s : undefined;
    }, 30_000);
    const pods = Object.fromEntries((await items(n(["get", "pods", "-l", "app=web"]))).map((p) => [p.metadata.name, p]));
    const image = (p: Obj | undefined): string => ((p?.spec?.["containers"] as Array<{ image: string }>)[0]?.image ?? "");
    expect([image(pods["web-0"]), image(pods["web-1"]), image(pods["web-2"])]).toEqual(["nginx:1", "nginx:1", "nginx:2"]);
    expect(pods["web-0"]?.metadata.labels?.["controller-revision-hash"]).toBe(before.status?.["currentRevision"]);
    expect(after.status).toMatchObject({ currentReplicas: 2, updatedReplicas: 1, currentRevision: before.status?.["currentRevision"] });
    const revs = await items(n(["get", "controllerrevisions"]));
    expect(revs.filter((r) => r.metadata.ownerReferences?.some((o) => o.kind === "StatefulSet" && o.name === "web")).map((r) => r["revision"]).sort()).toEqual([1, 2]);
  });

  it("a DaemonSet covers every node and follows node add and remove", async () => {
    await apply({
      apiVersion: "apps/v1", kind: "DaemonSet", metadata: { name: "agent", namespace: NS },
      // Tolerating every taint (as node agents do) keeps lost-0 eligible whether or not it is tainted unreachable yet.
      spec: { selector: { matchLabels: { app: "agent" } }, template: { metadata: { labels: { app: "agent" } }, spec: { containers: [container()], tolerations: [{ operator: "Exists" }] } } },
    });
    const targets = async (): Promise<string[]> => (await items(n(["get", "pods", "-l", "app=agent"])))
      .filter((p) => !p.metadata.deletionTimestamp)
      .map((p) => ((p.spec?.["affinity"] as { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: Array<{ matchFields: Array<{ values: string[] }> }> } } })
        .nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]?.matchFields[0]?.values[0] ?? "")).sort();
    await until("a pod per node", async () => JSON.stringify(await targets()) === JSON.stringify(["lost-0", "wl-0", "wl-1"]));
    const ds = await getJson(n(["get", "daemonset", "agent"]));
    expect(ds.status).toMatchObject({ desiredNumberScheduled: 3, currentNumberScheduled: 3, numberMisscheduled: 0, observedGeneration: 1 });
    const pod = (await items(n(["get", "pods", "-l", "app=agent"])))[0]!;
    const tolerations = (pod.spec?.["tolerations"] as Array<{ key: string; effect: string }>).map((t) => `${t.key}:${t.effect}`);
    expect(tolerations).toEqual(expect.arrayContaining(["node.kubernetes.io/unreachable:NoExecute", "node.kubernetes.io/not-ready:NoExecute", "node.kubernetes.io/unschedulable:NoSchedule"]));
    await apply({ apiVersion: "v1", kind: "Node", metadata: { name: "extra", labels: { "kubernetes.io/hostname": "extra" } } });
    await until("a pod for the new node", async () => (await targets()).includes("extra"));
    await until("status follows", async () => (await getJson(n(["get", "daemonset", "agent"]))).status?.["desiredNumberScheduled"] === 4);
    await k.ok(["delete", "node", "extra"]);
    await until("the pod of the removed node goes", async () => !(await targets()).includes("extra"));
    await until("status follows", async () => (await getJson(n(["get", "daemonset", "agent"]))).status?.["desiredNumberScheduled"] === 3);
  });

  it("node lifecycle: the node whose Lease stopped becomes Unknown, is tainted, and its pod is evicted", async () => {
    const node = await until("lost-0 Unknown and tainted NoExecute", async () => {
      const x = await getJson(["get", "node", "lost-0"]);
      const taints = (x.spec?.["taints"] ?? []) as Array<{ key: string; effect: string }>;
      return conditions(x).some((c) => c.type === "Ready" && c.status === "Unknown") && taints.some((t) => t.key === "node.kubernetes.io/unreachable" && t.effect === "NoExecute") ? x : undefined;
    }, 45_000);
    expect(conditions(node).find((c) => c.type === "Ready")).toMatchObject({ reason: "NodeStatusUnknown" });
    const taints = ((node.spec?.["taints"] ?? []) as Array<{ key: string; effect: string }>).map((t) => `${t.key}:${t.effect}`).sort();
    expect(taints).toEqual(["node.kubernetes.io/unreachable:NoExecute", "node.kubernetes.io/unreachable:NoSchedule"]);
    await until("doomed evicted", async () => {
      const r = await k.run(n(["get", "pod", "doomed", "-o", "json"]));
      if (r.code !== 0) return true;
      return (JSON.parse(r.stdout) as Obj).metadata.deletionTimestamp !== undefined;
    }, 10_000);
    const ready = await items(["get", "nodes"]);
    expect(ready.filter((x) => x.metadata.name.startsWith("wl-")).every((x) => conditions(x).some((c) => c.type === "Ready" && c.status === "True"))).toBe(true);
  });
});
