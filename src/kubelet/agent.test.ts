/**
 * Integration: node agents with the hollow runtime against an in-process control plane
 * (apiserver + memory store, h2c): registration, lease, pods through their lifecycle, crash
 * loops, graceful deletion, agent restart.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Client } from "../client/client.ts";
import { createClient } from "../client/client.ts";
import { loadKubeconfig } from "../client/kubeconfig.ts";
import { createMemoryStore } from "../store/memory.ts";
import { defaultDeps, startControlPlane, type ControlPlane } from "../server/control-plane.ts";
import { NodeAgent } from "./agent.ts";
import { formatLogRecord } from "./runtime/logs.ts";
import { collectingSink } from "./runtime/streams.ts";
import { HollowHost, HollowRuntime } from "./runtimes/hollow/mod.ts";
import { LABEL_POD_UID, type LeaseObject, type NodeObject, type PodObject } from "./types.ts";

let cp: ControlPlane;
let client: Client;
let dir: string;
const agents: NodeAgent[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tug-agent-"));
  cp = await startControlPlane({
    dataDir: dir, listen: { host: "127.0.0.1", port: 0 }, kubeconfigOut: join(dir, "kubeconfig"), insecurePlaintext: true,
  }, { ...defaultDeps, openStore: async () => createMemoryStore() });
  client = createClient(loadKubeconfig(cp.kubeconfigPath));
});

afterAll(async () => {
  for (const a of agents) await a.stop();
  client?.close();
  await cp?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const errors: string[] = [];
async function startAgent(nodeName: string, host: HollowHost, extra: Partial<ConstructorParameters<typeof NodeAgent>[0]> = {}): Promise<NodeAgent> {
  const agent = new NodeAgent({
    client, nodeName, runtime: new HollowRuntime(host), heartbeatMs: 500, firstHeartbeatMs: 50,
    backoff: { initialMs: 200, maxMs: 1600 }, imagePullBackoff: { initialMs: 200, maxMs: 1600 },
    onError: (err, where) => errors.push(`${nodeName} ${where}: ${err instanceof Error ? err.message : String(err)}`),
    ...extra,
  });
  agents.push(agent);
  await agent.start();
  return agent;
}

const pods = (): ReturnType<Client["resourceFor"]> => client.resourceFor("v1", "Pod").namespace("default");

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 8000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}\nagent errors: ${errors.join("\n")}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function podSpec(name: string, nodeName: string, spec: Record<string, unknown>): PodObject {
  return { apiVersion: "v1", kind: "Pod", metadata: { name, namespace: "default" }, spec: { nodeName, ...spec } } as PodObject;
}

const cond = (p: PodObject, t: string): string | undefined => p.status?.conditions?.find((c) => c.type === t)?.status;

describe("node agent (hollow runtime, in-process control plane)", () => {
  const host = new HollowHost({ nodeName: "node-a" });
  let agent: NodeAgent;

  beforeAll(async () => {
    agent = await startAgent("node-a", host, { nodeIP: "127.1.0.1", capacity: { cpu: "8", pods: "50" } });
  });

  it("registers the node with capacity, labels, addresses, nodeInfo and Ready, and a lease", async () => {
    const node = (await client.resourceFor("v1", "Node").get("node-a")) as NodeObject;
    expect(node.metadata?.labels?.["kubernetes.io/hostname"]).toBe("node-a");
    expect(node.metadata?.labels?.["kubernetes.io/os"]).toBe("linux");
    expect(node.status?.capacity).toMatchObject({ cpu: "8", pods: "50", memory: "8Gi" });
    expect(node.status?.allocatable).toMatchObject({ cpu: "8", pods: "50" });
    expect(node.status?.addresses).toEqual([{ type: "InternalIP", address: "127.1.0.1" }, { type: "Hostname", address: "node-a" }]);
    expect(node.status?.nodeInfo?.kubeletVersion).toBe("v1.32.0-tugboat");
    expect(node.status?.nodeInfo?.containerRuntimeVersion).toMatch(/^hollow:\/\//);
    const ready = node.status?.conditions?.find((c) => c.type === "Ready");
    expect(ready).toMatchObject({ status: "True", reason: "KubeletReady" });
    expect(node.status?.conditions?.map((c) => c.type)).toEqual(["MemoryPressure", "DiskPressure", "PIDPressure", "Ready"]);
    const lease = (await client.resourceFor("coordination.k8s.io/v1", "Lease").namespace("kube-node-lease").get("node-a")) as LeaseObject;
    expect(lease.spec).toMatchObject({ holderIdentity: "node-a", leaseDurationSeconds: 40 });
    expect(lease.metadata?.ownerReferences?.[0]).toMatchObject({ kind: "Node", name: "node-a", uid: node.metadata?.uid });
    const t0 = lease.spec?.renewTime;
    await until("lease renewal", async () => {
      const l = (await client.resourceFor("coordination.k8s.io/v1", "Lease").namespace("kube-node-lease").get("node-a")) as LeaseObject;
      return l.spec?.renewTime !== t0;
    });
  });

  it("runs a pod: Pending -> Running with Ready=True and full statuses", async () => {
    await pods().create(podSpec("web", "node-a", { containers: [{ name: "main", image: "hollow/sleep" }, { name: "side", image: "busybox", command: ["sleep", "infinity"] }] }));
    const p = await until("web Ready", async () => {
      const p = (await pods().get("web")) as PodObject;
      return cond(p, "Ready") === "True" ? p : undefined;
    });
    expect(p.status?.phase).toBe("Running");
    for (const t of ["PodScheduled", "PodReadyToStartContainers", "Initialized", "ContainersReady", "Ready"]) {
      expect(cond(p, t), t).toBe("True");
      expect(p.status?.conditions?.find((c) => c.type === t)?.lastTransitionTime).toMatch(/Z$/);
    }
    expect(p.status?.hostIP).toBe("127.1.0.1");
    expect(p.status?.hostIPs).toEqual([{ ip: "127.1.0.1" }]);
    expect(p.status?.podIP).toMatch(/^10\.88\./);
    expect(p.status?.podIPs?.[0]?.ip).toBe(p.status?.podIP);
    expect(p.status?.startTime).toBeDefined();
    expect(p.status?.qosClass).toBe("BestEffort");
    const cs = p.status?.containerStatuses ?? [];
    expect(cs.map((c) => c.name)).toEqual(["main", "side"]);
    expect(cs[0]).toMatchObject({ ready: true, started: true, restartCount: 0, image: "hollow/sleep" });
    expect(cs[0]?.containerID).toMatch(/^hollow:\/\//);
    expect(cs[0]?.imageID).toMatch(/^sha256:/);
    expect(cs[0]?.state?.running?.startedAt).toBeDefined();
  });

  it("crash-loops an exiting container with restartPolicy Always (CrashLoopBackOff, growing restartCount)", async () => {
    await pods().create(podSpec("crash", "node-a", { containers: [{ name: "c", image: "hollow/exit:1" }] }));
    const p = await until("CrashLoopBackOff with restarts >= 2", async () => {
      const p = (await pods().get("crash")) as PodObject;
      const c = p.status?.containerStatuses?.[0];
      return c?.state?.waiting?.reason === "CrashLoopBackOff" && (c.restartCount ?? 0) >= 2 ? p : undefined;
    });
    const c = p.status!.containerStatuses![0]!;
    expect(c.state?.waiting?.message).toMatch(/^back-off \d+s restarting failed container=c pod=crash_default\(/);
    expect(c.lastState?.terminated).toMatchObject({ exitCode: 1, reason: "Error" });
    expect(p.status?.phase).toBe("Running");
    expect(cond(p, "Ready")).toBe("False");
    const r1 = c.restartCount ?? 0;
    await until("restartCount grows", async () => (((await pods().get("crash")) as PodObject).status?.containerStatuses?.[0]?.restartCount ?? 0) > r1);
  });

  it("runs a Never pod whose container exits 0 to Succeeded", async () => {
    await pods().create(podSpec("job", "node-a", { restartPolicy: "Never", containers: [{ name: "c", image: "hollow/exit:0" }] }));
    const p = await until("Succeeded", async () => {
      const p = (await pods().get("job")) as PodObject;
      return p.status?.phase === "Succeeded" ? p : undefined;
    });
    expect(p.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({ exitCode: 0, reason: "Completed" });
    expect(p.status?.conditions?.find((c) => c.type === "Ready")).toMatchObject({ status: "False", reason: "PodCompleted" });
  });

  it("runs a Never pod whose container fails to Failed, and init containers in order", async () => {
    await pods().create(podSpec("fail", "node-a", { restartPolicy: "Never", containers: [{ name: "c", image: "hollow/exit:3" }] }));
    await until("Failed", async () => ((await pods().get("fail")) as PodObject).status?.phase === "Failed");
    await pods().create(podSpec("init", "node-a", {
      initContainers: [{ name: "i1", image: "hollow/exit:0" }, { name: "i2", image: "hollow/run:100" }],
      containers: [{ name: "c", image: "hollow/sleep" }],
    }));
    const p = await until("init pod Ready", async () => {
      const p = (await pods().get("init")) as PodObject;
      return cond(p, "Ready") === "True" ? p : undefined;
    });
    expect(p.status?.initContainerStatuses?.map((c) => [c.name, c.state?.terminated?.reason, c.ready])).toEqual([["i1", "Completed", true], ["i2", "Completed", true]]);
    expect(cond(p, "Initialized")).toBe("True");
  });

  it("reports ErrImagePull / ImagePullBackOff", async () => {
    await pods().create(podSpec("badimg", "node-a", { containers: [{ name: "c", image: "hollow/fail-pull" }] }));
    const reasons = new Set<string>();
    await until("ImagePullBackOff seen", async () => {
      const p = (await pods().get("badimg")) as PodObject;
      const r = p.status?.containerStatuses?.[0]?.state?.waiting?.reason;
      if (r) reasons.add(r);
      return reasons.has("ImagePullBackOff") && p.status?.phase === "Pending";
    });
  });

  it("imagePullPolicy Never: ErrImageNeverPull on registry-backed runtimes (nothing pulled); local runtimes still resolve", async () => {
    // A hollow runtime that declares registry pulls, as docker does.
    const regHost = new HollowHost({ nodeName: "node-reg" });
    const registry = Object.assign(new HollowRuntime(regHost), { pullsFromRegistry: true });
    await startAgent("node-reg", regHost, { runtime: registry });
    await pods().create(podSpec("neverpull", "node-reg", { containers: [{ name: "c", image: "busybox:never-pulled", imagePullPolicy: "Never", command: ["sleep", "infinity"] }] }));
    await pods().create(podSpec("neverlocal", "node-a", { containers: [{ name: "c", image: "busybox:never-pulled", imagePullPolicy: "Never", command: ["sleep", "infinity"] }] }));
    const waiting = await until("ErrImageNeverPull", async () => {
      const p = (await pods().get("neverpull")) as PodObject;
      const w = p.status?.containerStatuses?.[0]?.state?.waiting;
      return w?.reason === "ErrImageNeverPull" ? w : undefined;
    });
    expect(waiting.message).toBe('Container image "busybox:never-pulled" is not present with pull policy of Never');
    expect(((await pods().get("neverpull")) as PodObject).status?.phase).toBe("Pending");
    expect(await registry.imageStatus({ image: "busybox:never-pulled" })).toBeUndefined();
    await until("local runtime runs it", async () => ((await pods().get("neverlocal")) as PodObject).status?.phase === "Running");
  });

  it("gates readiness on exec readiness probes and restarts on liveness failure", async () => {
    await pods().create(podSpec("probed", "node-a", {
      containers: [{
        name: "c", image: "hollow/sleep",
        readinessProbe: { exec: { command: ["false"] }, periodSeconds: 1, failureThreshold: 1 },
        livenessProbe: { exec: { command: ["false"] }, periodSeconds: 1, failureThreshold: 2 },
      }],
    }));
    const p = await until("liveness restart", async () => {
      const p = (await pods().get("probed")) as PodObject;
      return (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1 ? p : undefined;
    }, 10_000);
    expect(cond(p, "Ready")).toBe("False");
    expect(p.status?.containerStatuses?.[0]?.ready).toBe(false);
    await pods().create(podSpec("probed-ok", "node-a", {
      containers: [{ name: "c", image: "hollow/sleep", readinessProbe: { exec: { command: ["true"] }, periodSeconds: 1 }, startupProbe: { tcpSocket: { port: 80 }, periodSeconds: 1 } }],
    }));
    await until("probed-ok Ready", async () => cond((await pods().get("probed-ok")) as PodObject, "Ready") === "True");
  });

  it("deletes gracefully: containers stopped, then the pod is gone", async () => {
    await pods().create(podSpec("bye", "node-a", { terminationGracePeriodSeconds: 5, containers: [{ name: "c", image: "hollow/slow-stop:300" }] }));
    const p = await until("bye Running", async () => {
      const p = (await pods().get("bye")) as PodObject;
      return p.status?.phase === "Running" ? p : undefined;
    });
    const uid = p.metadata!.uid!;
    await pods().delete("bye");
    const mid = (await pods().get("bye")) as PodObject;
    expect(mid.metadata?.deletionTimestamp).toBeDefined();
    await until("bye gone", async () => {
      try {
        await pods().get("bye");
        return false;
      } catch (err) {
        return (err as { code?: number }).code === 404;
      }
    });
    const rt = new HollowRuntime(host);
    expect(await rt.listPodSandboxes({ labelSelector: { [LABEL_POD_UID]: uid } })).toEqual([]);
  });

  it("never touches pods bound to other nodes", async () => {
    await pods().create(podSpec("elsewhere", "node-zzz", { containers: [{ name: "c", image: "hollow/sleep" }] }));
    await new Promise((r) => setTimeout(r, 300));
    const p = (await pods().get("elsewhere")) as PodObject;
    expect(p.status?.containerStatuses).toBeUndefined();
    expect(p.status?.phase).toBe("Pending");
  });

  it("keeps containers across an agent restart (no duplicates)", async () => {
    const before = await new HollowRuntime(host).listContainers({ state: "RUNNING" });
    const web = (await pods().get("web")) as PodObject;
    await agent.stop();
    await agent.runtime.close();
    agent = await startAgent("node-a", host, { nodeIP: "127.1.0.1" });
    await new Promise((r) => setTimeout(r, 500));
    await agent.idle();
    const webUid = web.metadata!.uid!;
    const after = await new HollowRuntime(host).listContainers({ labelSelector: { [LABEL_POD_UID]: webUid } });
    expect(after.map((c) => c.id).sort()).toEqual(before.filter((c) => c.labels[LABEL_POD_UID] === webUid).map((c) => c.id).sort());
    const p = (await pods().get("web")) as PodObject;
    expect(p.status?.containerStatuses?.map((c) => c.restartCount)).toEqual([0, 0]);
    expect(cond(p, "Ready")).toBe("True");
  });
});

describe("streaming seam (logs, exec) over the hollow runtime", () => {
  it("finds the container of a pod for logs and exec, with kubelet errors", async () => {
    const host = new HollowHost({ nodeName: "node-b", logs: "output" });
    const agent = await startAgent("node-b", host, { logRoot: join(dir, "pods") });
    await pods().create(podSpec("talk", "node-b", { containers: [{ name: "c", image: "busybox", command: ["sh", "-c", "echo hello; echo world; sleep infinity"] }] }));
    await until("talk Running", async () => ((await pods().get("talk")) as PodObject).status?.phase === "Running");
    const s = agent.streaming;
    const text = await until("log lines", async () => {
      let out = "";
      for await (const r of await s.logs("default", "talk", undefined)) out += new TextDecoder().decode(formatLogRecord(r));
      return out.includes("world") ? out : undefined;
    });
    expect(text).toBe("hello\nworld\n");
    const sink = collectingSink();
    const sess = await s.exec("default", "talk", "c", ["hostname"], { tty: false, stdout: sink });
    expect((await sess.exit).exitCode).toBe(0);
    expect(sink.text().trim()).toBe("talk");
    await expect(s.exec("default", "talk", "nope", ["true"], { tty: false })).rejects.toThrow("container nope is not valid for pod talk");
    await expect(s.logs("default", "ghost", undefined)).rejects.toThrow('pod "ghost" cannot be found');
    await expect(s.logs("default", "talk", "c", { previous: true })).rejects.toThrow('previous terminated container "c" in pod "talk" not found');
  });
});
