/**
 * Integration: a node agent with the docker runtime (a private dockerd in its own network
 * namespace, see test/support/dockerd.ts) against an in-process control plane — env from a
 * ConfigMap/Secret/downward API, a configMap volume bind-mounted and following updates, a memory
 * limit producing OOMKilled, exec postStart/preStop hooks. Skipped loudly without root/dockerd
 * (required with TUG_REQUIRE_DOCKER=1).
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient, type Client } from "../../client/client.ts";
import { loadKubeconfig } from "../../client/kubeconfig.ts";
import { createMemoryStore } from "../../store/memory.ts";
import { defaultDeps, startControlPlane, type ControlPlane } from "../../server/control-plane.ts";
import { dockerSkipReason } from "../../../test/support/dockerd.ts";
import { NodeAgent } from "../agent.ts";
import { IMAGES, runtimeOptions, sharedDockerd, stopSharedDockerd } from "../runtimes/docker/_harness.ts";
import { createDockerRuntime, type DockerRuntime } from "../runtimes/docker/mod.ts";
import type { PodObject } from "../types.ts";

const skip = dockerSkipReason("node agent with the docker runtime");
const NODE = "docker-node";
let cp: ControlPlane;
let client: Client;
let dir: string;
let rt: DockerRuntime;
let agent: NodeAgent;
const errors: string[] = [];

describe.skipIf(skip !== undefined)("pod configuration with the docker runtime", () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "tug-agent-docker-"));
    const d = await sharedDockerd();
    cp = await startControlPlane({
      dataDir: dir, listen: { host: "127.0.0.1", port: 0 }, kubeconfigOut: join(dir, "kubeconfig"), insecurePlaintext: true,
    }, { ...defaultDeps, openStore: async () => createMemoryStore() });
    client = createClient(loadKubeconfig(cp.kubeconfigPath));
    rt = await createDockerRuntime(runtimeOptions(d, { scope: `agent-${process.pid}` }));
    agent = new NodeAgent({
      client, nodeName: NODE, runtime: rt, heartbeatMs: 500, firstHeartbeatMs: 50,
      backoff: { initialMs: 200, maxMs: 1600 }, logRoot: join(dir, "logs"), podsDir: join(dir, "pods"),
      onError: (err, where) => errors.push(`${where}: ${err instanceof Error ? err.message : String(err)}`),
    });
    await agent.start();
  }, 120_000);

  afterAll(async () => {
    await agent?.stop();
    await rt?.close();
    client?.close();
    await cp?.stop();
    await stopSharedDockerd();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  const api = (kind: string): ReturnType<Client["resourceFor"]> => client.resourceFor("v1", kind).namespace("default");
  const getPod = async (name: string): Promise<PodObject> => (await api("Pod").get(name)) as PodObject;

  async function until<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 30_000): Promise<T> {
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
      await new Promise((r) => setTimeout(r, 150));
    }
  }

  function logOf(p: PodObject, container: string): string {
    const d = join(dir, "logs", `default_${p.metadata!.name}_${p.metadata!.uid}`, container);
    if (!existsSync(d)) return "";
    return readdirSync(d).sort().map((f) => readFileSync(join(d, f), "utf8")).join("");
  }

  const createPod = async (name: string, spec: Record<string, unknown>): Promise<void> => {
    await api("Pod").create({ apiVersion: "v1", kind: "Pod", metadata: { name, namespace: "default" }, spec: { nodeName: NODE, ...spec } } as PodObject);
  };

  it("env from a ConfigMap, a Secret and the downward API; a bind-mounted configMap volume follows updates; hooks run", async () => {
    await api("ConfigMap").create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cfg" }, data: { COLOR: "blue", "app.conf": "v1" } });
    await api("Secret").create({ apiVersion: "v1", kind: "Secret", metadata: { name: "sec" }, data: { PASSWORD: Buffer.from("hunter2").toString("base64") } });
    await createPod("env-pod", {
      terminationGracePeriodSeconds: 5,
      containers: [{
        name: "app", image: IMAGES.busybox, imagePullPolicy: "Never",
        command: ["sh", "-c", 'echo "COLOR=$COLOR PW=$PW NAME=$MY_NAME IP=$MY_IP"; while :; do echo "file=$(cat /etc/cfg/app.conf)"; sleep 0.2; done'],
        env: [
          { name: "COLOR", valueFrom: { configMapKeyRef: { name: "cfg", key: "COLOR" } } },
          { name: "PW", valueFrom: { secretKeyRef: { name: "sec", key: "PASSWORD" } } },
          { name: "MY_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
          { name: "MY_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
        ],
        volumeMounts: [{ name: "cfg", mountPath: "/etc/cfg" }, { name: "scratch", mountPath: "/scratch" }],
        lifecycle: { postStart: { exec: { command: ["sh", "-c", "echo started > /scratch/poststart"] } } },
        resources: { limits: { memory: "64Mi", cpu: "250m" } },
      }],
      volumes: [{ name: "cfg", configMap: { name: "cfg" } }, { name: "scratch", emptyDir: {} }],
    });
    const p = await until("env-pod Running", async () => {
      const p = await getPod("env-pod");
      return p.status?.phase === "Running" && logOf(p, "app").includes("file=v1") ? p : undefined;
    }, 60_000);
    expect(logOf(p, "app")).toContain(`COLOR=blue PW=hunter2 NAME=env-pod IP=${p.status?.podIP}`);
    expect(readFileSync(join(dir, "pods", p.metadata!.uid!, "volumes", "kubernetes.io~empty-dir", "scratch", "poststart"), "utf8")).toBe("started\n");
    await api("ConfigMap").patch("cfg", { data: { "app.conf": "v2" } }, "merge");
    await until("mounted file updated", async () => logOf(await getPod("env-pod"), "app").includes("file=v2"));
  }, 90_000);

  it("a memory limit produces OOMKilled", async () => {
    await createPod("oom", {
      restartPolicy: "Never",
      containers: [{ name: "hog", image: IMAGES.busybox, imagePullPolicy: "Never", command: ["sh", "-c", "head -c 67108864 /dev/zero | tail"], resources: { limits: { memory: "16Mi" } } }],
    });
    const p = await until("oom Failed", async () => {
      const p = await getPod("oom");
      return p.status?.phase === "Failed" ? p : undefined;
    }, 60_000);
    expect(p.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({ reason: "OOMKilled", exitCode: 137 });
  }, 90_000);
});
