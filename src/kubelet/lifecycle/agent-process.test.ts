/**
 * Integration: a node agent with the process runtime against an in-process control plane — env
 * from ConfigMaps/Secrets/downward API, configMap volumes following updates, missing references
 * (CreateContainerConfigError, FailedMount), OOMKilled, activeDeadlineSeconds, postStart/preStop
 * hooks, an httpGet readiness probe against the pod's loopback IP, gRPC readiness/liveness probes,
 * and the Events recorded.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeObject } from "../../api/object.ts";
import { createClient, type Client } from "../../client/client.ts";
import { loadKubeconfig } from "../../client/kubeconfig.ts";
import { createMemoryStore } from "../../store/memory.ts";
import { defaultDeps, startControlPlane, type ControlPlane } from "../../server/control-plane.ts";
import { NodeAgent } from "../agent.ts";
import { killAllUnder, makeImageRoot, randomPool } from "../runtimes/process/_harness.ts";
import { createProcessRuntime, type ProcessRuntime } from "../runtimes/process/mod.ts";
import type { PodObject } from "../types.ts";

let cp: ControlPlane;
let client: Client;
let dir: string;
let rt: ProcessRuntime;
let agent: NodeAgent;
const errors: string[] = [];
const NODE = "proc-node";

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tug-agent-proc-"));
  cp = await startControlPlane({
    dataDir: dir, listen: { host: "127.0.0.1", port: 0 }, kubeconfigOut: join(dir, "kubeconfig"), insecurePlaintext: true,
  }, { ...defaultDeps, openStore: async () => createMemoryStore() });
  client = createClient(loadKubeconfig(cp.kubeconfigPath));
  rt = await createProcessRuntime({ dataDir: join(dir, "state"), imageRoot: makeImageRoot(join(dir, "images")), podAddressPool: randomPool(), pollMs: 50 });
  agent = new NodeAgent({
    client, nodeName: NODE, runtime: rt, heartbeatMs: 500, firstHeartbeatMs: 50,
    backoff: { initialMs: 200, maxMs: 1600 }, logRoot: join(dir, "logs"), podsDir: join(dir, "pods"),
    onError: (err, where) => errors.push(`${where}: ${err instanceof Error ? err.message : String(err)}`),
  });
  await agent.start();
}, 30_000);

afterAll(async () => {
  await agent?.stop();
  await rt?.close();
  killAllUnder(join(dir, "state"));
  client?.close();
  await cp?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const api = (kind: string): ReturnType<Client["resourceFor"]> => client.resourceFor("v1", kind).namespace("default");

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}\nagent errors: ${errors.slice(-10).join("\n")}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const getPod = async (name: string): Promise<PodObject> => (await api("Pod").get(name)) as PodObject;
const cond = (p: PodObject, t: string): string | undefined => p.status?.conditions?.find((c) => c.type === t)?.status;

async function createPod(name: string, spec: Record<string, unknown>): Promise<PodObject> {
  return (await api("Pod").create({ apiVersion: "v1", kind: "Pod", metadata: { name, namespace: "default" }, spec: { nodeName: NODE, ...spec } } as PodObject)) as PodObject;
}

function logOf(p: PodObject, container: string): string {
  const d = join(dir, "logs", `default_${p.metadata!.name}_${p.metadata!.uid}`, container);
  if (!existsSync(d)) return "";
  return readdirSync(d).sort().map((f) => readFileSync(join(d, f), "utf8")).join("");
}

async function eventsOf(name: string): Promise<string[]> {
  const list = await client.resourceFor("v1", "Event").namespace("default").list();
  return list.items
    .filter((e) => (e["involvedObject"] as { name?: string } | undefined)?.name === name)
    .map((e) => `${String(e["type"])} ${String(e["reason"])} ${String(e["message"])}`);
}

describe("pod configuration with the process runtime", () => {
  it("env from a ConfigMap, a Secret and the downward API; a configMap volume that follows updates", async () => {
    await api("ConfigMap").create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cfg" }, data: { COLOR: "blue", "app.conf": "v1" } });
    await api("Secret").create({ apiVersion: "v1", kind: "Secret", metadata: { name: "sec" }, data: { PASSWORD: Buffer.from("hunter2").toString("base64") } });
    await createPod("env-pod", {
      containers: [{
        name: "app", image: "busybox",
        command: ["sh", "-c", 'echo "COLOR=$COLOR PW=$PW NAME=$MY_NAME IP=$MY_IP NODE=$MY_NODE PFX=$PFX_COLOR MEM=$MEM_MI X=$(GREETING)"; while :; do echo "file=$(cat "$TUGBOAT_ROOTFS/etc/cfg/app.conf")"; sleep 0.2; done'],
        env: [
          { name: "COLOR", valueFrom: { configMapKeyRef: { name: "cfg", key: "COLOR" } } },
          { name: "PW", valueFrom: { secretKeyRef: { name: "sec", key: "PASSWORD" } } },
          { name: "MY_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
          { name: "MY_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
          { name: "MY_NODE", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
          { name: "MEM_MI", valueFrom: { resourceFieldRef: { resource: "limits.memory", divisor: "1Mi" } } },
          { name: "GREETING", value: "hello-$(COLOR)" },
        ],
        envFrom: [{ configMapRef: { name: "cfg" }, prefix: "PFX_" }],
        volumeMounts: [{ name: "cfg", mountPath: "/etc/cfg" }],
        resources: { limits: { memory: "128Mi", cpu: "500m" } },
      }],
      volumes: [{ name: "cfg", configMap: { name: "cfg" } }],
    });
    const p = await until("env-pod Running", async () => {
      const p = await getPod("env-pod");
      return p.status?.phase === "Running" && logOf(p, "app").includes("file=v1") ? p : undefined;
    });
    const log = logOf(p, "app");
    expect(log).toContain(`COLOR=blue PW=hunter2 NAME=env-pod IP=${p.status?.podIP} NODE=${NODE} PFX=blue MEM=128 X=hello-blue`);
    expect(p.status?.podIP).toMatch(/^127\./);
    // The runtime got the limits.
    const cs = await rt.listContainers({ labelSelector: { "io.kubernetes.pod.uid": p.metadata!.uid! } });
    const st = await rt.containerStatus(cs[0]!.id);
    expect(st.resources).toMatchObject({ memoryBytesLimit: 128 * 2 ** 20, cpuMillisLimit: 500 });
    expect(st.mounts[0]).toMatchObject({ containerPath: "/etc/cfg", readonly: true });

    await api("ConfigMap").patch("cfg", { data: { "app.conf": "v2" } }, "merge");
    await until("mounted file updated", async () => logOf(await getPod("env-pod"), "app").includes("file=v2"));

    const evs = await eventsOf("env-pod");
    // The first pull of the image on this node registers it (the process runtime never downloads).
    expect(evs.some((e) => /^Normal Pulled (Successfully pulled image "busybox" in \S+ \(\S+ including waiting\)\. Image size: \d+ bytes\.|Container image "busybox" already present on machine)$/.test(e))).toBe(true);
    expect(evs).toEqual(expect.arrayContaining([
      "Normal Created Created container: app",
      "Normal Started Started container app",
    ]));
  }, 30_000);

  it("a missing ConfigMap: CreateContainerConfigError, then the pod starts once it exists; FailedMount for volumes", async () => {
    await createPod("missing-ref", {
      containers: [{ name: "app", image: "busybox", command: ["sleep", "3600"], env: [{ name: "X", valueFrom: { configMapKeyRef: { name: "later", key: "x" } } }] }],
    });
    const p = await until("CreateContainerConfigError", async () => {
      const p = await getPod("missing-ref");
      return p.status?.containerStatuses?.[0]?.state?.waiting?.reason === "CreateContainerConfigError" ? p : undefined;
    });
    expect(p.status?.containerStatuses?.[0]?.state?.waiting?.message).toBe('configmap "later" not found');
    await until("Failed event", async () => (await eventsOf("missing-ref")).includes('Warning Failed Error: configmap "later" not found'));
    await api("ConfigMap").create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "later" }, data: { x: "1" } });
    await until("missing-ref Running", async () => (await getPod("missing-ref")).status?.phase === "Running");

    await createPod("missing-vol", { containers: [{ name: "app", image: "busybox", command: ["sleep", "3600"] }], volumes: [{ name: "v", configMap: { name: "absent" } }] });
    await until("FailedMount event", async () => (await eventsOf("missing-vol")).includes('Warning FailedMount MountVolume.SetUp failed for volume "v" : configmap "absent" not found'));
    const mv = await getPod("missing-vol");
    expect(mv.status?.phase ?? "Pending").toBe("Pending");
    expect(mv.status?.containerStatuses?.[0]?.state?.waiting?.reason ?? "ContainerCreating").toBe("ContainerCreating");
  }, 30_000);

  it("an OOM-limited container reports OOMKilled", async () => {
    await createPod("oom", { restartPolicy: "Never", containers: [{ name: "hog", image: "tugboat/hog", resources: { limits: { memory: "64Mi" } } }] });
    const p = await until("OOMKilled", async () => {
      const p = await getPod("oom");
      return p.status?.phase === "Failed" ? p : undefined;
    }, 20_000);
    expect(p.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({ reason: "OOMKilled", exitCode: 137 });
  }, 30_000);

  it("activeDeadlineSeconds fails the pod with DeadlineExceeded", async () => {
    await createPod("deadline", { activeDeadlineSeconds: 1, containers: [{ name: "app", image: "busybox", command: ["sleep", "3600"] }] });
    const p = await until("DeadlineExceeded", async () => {
      const p = await getPod("deadline");
      return p.status?.phase === "Failed" ? p : undefined;
    });
    expect(p.status).toMatchObject({ reason: "DeadlineExceeded", message: "Pod was active on the node longer than the specified deadline" });
    expect(p.status?.containerStatuses?.[0]?.state?.terminated).toBeDefined();
    await until("DeadlineExceeded event", async () => (await eventsOf("deadline")).includes("Normal DeadlineExceeded Pod was active on the node longer than the specified deadline"));
  }, 30_000);

  it("postStart runs after start, preStop runs on delete; an httpGet readiness probe on the loopback pod IP flips Ready", async () => {
    const out = join(dir, "hostout");
    mkdirSync(out, { recursive: true });
    const server = 'setTimeout(()=>require("http").createServer((q,s)=>s.end("ok")).listen(8080, process.env.POD_IP), 1500)';
    await createPod("hooks", {
      terminationGracePeriodSeconds: 5,
      containers: [{
        name: "web", image: "tugboat/node", args: ["-e", server],
        ports: [{ name: "http", containerPort: 8080 }],
        readinessProbe: { httpGet: { path: "/", port: "http" }, periodSeconds: 1 },
        lifecycle: {
          postStart: { exec: { command: ["sh", "-c", 'echo started > "$TUGBOAT_ROOTFS/out/poststart"'] } },
          preStop: { exec: { command: ["sh", "-c", 'echo stopping > "$TUGBOAT_ROOTFS/out/prestop"'] } },
        },
        volumeMounts: [{ name: "out", mountPath: "/out" }],
      }],
      volumes: [{ name: "out", hostPath: { path: out, type: "Directory" } }],
    });
    const p = await until("hooks Ready", async () => {
      const p = await getPod("hooks");
      return cond(p, "Ready") === "True" ? p : undefined;
    });
    expect(readFileSync(join(out, "poststart"), "utf8")).toBe("started\n");
    const res = await fetch(`http://${p.status!.podIP}:8080/`);
    expect(await res.text()).toBe("ok");
    const evs = await eventsOf("hooks");
    expect(evs.some((e) => e.startsWith(`Warning Unhealthy Readiness probe failed: Get "http://${p.status!.podIP}:8080/": dial tcp`))).toBe(true);

    await api("Pod").delete("hooks");
    await until("hooks gone", async () => {
      try {
        await getPod("hooks");
        return false;
      } catch {
        return true;
      }
    });
    expect(readFileSync(join(out, "prestop"), "utf8")).toBe("stopping\n");
    expect(existsSync(join(dir, "pods", p.metadata!.uid!))).toBe(false);
    await until("Killing event", async () => (await eventsOf("hooks")).includes("Normal Killing Stopping container web"));
  }, 30_000);
});

describe("hook failures", () => {
  it("a failing postStart kills the container (FailedPostStartHook) and it restarts; a liveness failure restarts with Killing", async () => {
    await createPod("bad-hook", {
      terminationGracePeriodSeconds: 1,
      containers: [{ name: "app", image: "busybox", command: ["sleep", "3600"], lifecycle: { postStart: { exec: { command: ["sh", "-c", "exit 3"] } } } }],
    });
    await until("FailedPostStartHook + restart", async () => {
      const evs = await eventsOf("bad-hook");
      const p = await getPod("bad-hook");
      return evs.includes("Warning FailedPostStartHook PostStartHook failed") && evs.includes("Normal Killing FailedPostStartHook") &&
        (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1;
    });
    expect(errors.some((e) => e.includes('Exec lifecycle hook ([sh -c exit 3]) for Container "app" in Pod "bad-hook_default('))).toBe(true);

    await createPod("live", {
      terminationGracePeriodSeconds: 1,
      containers: [{ name: "app", image: "busybox", command: ["sleep", "3600"], livenessProbe: { tcpSocket: { port: 1 }, periodSeconds: 1, failureThreshold: 1 } }],
    });
    await until("liveness restart", async () => {
      const evs = await eventsOf("live");
      return evs.includes("Normal Killing Container app failed liveness probe, will be restarted") &&
        evs.some((e) => /^Warning Unhealthy Liveness probe failed: dial tcp 127\.[0-9.]+:1: connect: connection refused$/.test(e));
    });
  }, 30_000);
});

describe("gRPC probes", () => {
  /** A gRPC health server (node:http2, h2c) on the pod IP answering every Check with `status`. */
  const grpcServer = (status: number): string =>
    'const h=require("http2");h.createServer().on("stream",(s)=>{s.on("data",()=>{});s.on("end",()=>{' +
    's.respond({":status":200,"content-type":"application/grpc"},{waitForTrailers:true});' +
    's.on("wantTrailers",()=>s.sendTrailers({"grpc-status":"0"}));' +
    `s.end(Buffer.from([0,0,0,0,2,8,${status}]))})}).listen(9090,process.env.POD_IP)`;

  it("a SERVING gRPC readiness probe makes the pod Ready; a NOT_SERVING liveness probe restarts the container", async () => {
    await createPod("grpc-ok", {
      terminationGracePeriodSeconds: 1,
      containers: [{ name: "app", image: "tugboat/node", args: ["-e", grpcServer(1)], readinessProbe: { grpc: { port: 9090 }, periodSeconds: 1 } }],
    });
    await createPod("grpc-sick", {
      terminationGracePeriodSeconds: 1,
      containers: [{
        name: "app", image: "tugboat/node", args: ["-e", grpcServer(2)],
        livenessProbe: { grpc: { port: 9090, service: "app" }, initialDelaySeconds: 1, periodSeconds: 1, failureThreshold: 2 },
      }],
    });
    await until("grpc-ok Ready", async () => cond(await getPod("grpc-ok"), "Ready") === "True");
    await until("grpc liveness restart", async () => {
      const evs = await eventsOf("grpc-sick");
      const p = await getPod("grpc-sick");
      return evs.includes('Warning Unhealthy Liveness probe failed: service unhealthy (responded with "NOT_SERVING")') &&
        evs.includes("Normal Killing Container app failed liveness probe, will be restarted") &&
        (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1;
    }, 25_000);
    const ok = await getPod("grpc-ok");
    expect(ok.status?.containerStatuses?.[0]?.restartCount ?? 0).toBe(0);
  }, 30_000);
});

describe("stats Summary", () => {
  it("reports the node and the running pods with container CPU and memory from the process runtime", async () => {
    const s = await agent.summary();
    expect(s.node.nodeName).toBe(NODE);
    expect(s.node.cpu?.usageCoreNanoSeconds).toBeGreaterThan(0);
    expect(s.node.cpu?.usageNanoCores).toBeGreaterThanOrEqual(0);
    expect(s.node.memory?.workingSetBytes).toBeGreaterThan(0);
    const ok = await getPod("grpc-ok");
    const pod = s.pods.find((p) => p.podRef.name === "grpc-ok");
    expect(pod?.podRef).toEqual({ name: "grpc-ok", namespace: "default", uid: ok.metadata!.uid });
    const app = pod?.containers.find((c) => c.name === "app");
    expect(app?.cpu.usageCoreNanoSeconds).toBeGreaterThan(0); // node started a script: it used some CPU
    expect(typeof app?.cpu.usageNanoCores).toBe("number");
    expect(app?.memory.workingSetBytes).toBeGreaterThan(1024 * 1024);
    expect(app?.startTime).toMatch(/Z$/);
    expect(pod?.memory.workingSetBytes).toBe(pod?.containers.reduce((n, c) => n + c.memory.workingSetBytes, 0));
  });
});

describe("cleanup", () => {
  it("deleting the pods releases their object watches and volume directories", async () => {
    expect(agent.stats.objectWatches).toBeGreaterThan(0);
    for (const p of (await api("Pod").list()).items) await api("Pod").delete(p.metadata!.name!, { gracePeriodSeconds: 1 });
    await until("pods gone", async () => (await api("Pod").list()).items.length === 0, 20_000);
    await until("watches released", async () => agent.stats.objectWatches === 0);
    expect(readdirSync(join(dir, "pods"))).toEqual([]);
    expect(agent.stats.events.recorded).toBeGreaterThan(10);
  }, 30_000);
});

describe("node status", () => {
  it("says when limits cannot be applied", async () => {
    const st = await rt.status();
    await agent.heartbeatNow();
    const node = (await client.resourceFor("v1", "Node").get(NODE)) as KubeObject & { status?: { conditions?: Array<{ type?: string; message?: string }> } };
    const ready = node.status?.conditions?.find((c) => c.type === "Ready");
    if (st.limits.cpu && st.limits.memory) expect(ready?.message).toBe("kubelet is posting ready status");
    else expect(ready?.message).toBe(`kubelet is posting ready status. ${st.limits.message}`);
  });

  it("reports the runtime's images, largest first", async () => {
    await agent.heartbeatNow();
    const node = (await client.resourceFor("v1", "Node").get(NODE)) as KubeObject & { status?: { images?: Array<{ names?: string[]; sizeBytes?: number }> } };
    const images = node.status?.images ?? [];
    const names = images.flatMap((i) => i.names ?? []);
    expect(names).toEqual(expect.arrayContaining(["docker.io/library/busybox:latest", "docker.io/tugboat/node:latest", "docker.io/tugboat/hog:latest"]));
    const sizes = images.map((i) => i.sizeBytes ?? 0);
    expect(sizes.every((n) => n > 0)).toBe(true);
    expect(sizes).toEqual([...sizes].sort((a, b) => b - a));
  });
});
