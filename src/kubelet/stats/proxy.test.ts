/**
 * `GET /api/v1/nodes/NAME/proxy/stats/summary` end to end: in-process control plane (its
 * kubelet client certificate) -> the agents' streaming endpoint (HTTPS, client certs) -> the
 * node's Summary. Two hollow nodes share one endpoint, so the apiserver names the node.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient, type Client } from "../../client/client.ts";
import { loadKubeconfig } from "../../client/kubeconfig.ts";
import { createMemoryStore } from "../../store/memory.ts";
import { defaultDeps, startControlPlane, type ControlPlane } from "../../server/control-plane.ts";
import { NodeAgent } from "../agent.ts";
import { HollowHost, HollowRuntime } from "../runtimes/hollow/mod.ts";
import { pkiDirNextTo } from "../streaming/agent.ts";
import { kubeletCredentialsFromPkiDir, startStreamingServer, type StreamingServer } from "../streaming/server.ts";
import type { PodObject } from "../types.ts";
import type { Summary } from "./summary.ts";

let cp: ControlPlane;
let client: Client;
let dir: string;
let server: StreamingServer;
const agents: NodeAgent[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tug-stats-proxy-"));
  cp = await startControlPlane({
    dataDir: dir, listen: { host: "127.0.0.1", port: 0 }, kubeconfigOut: join(dir, "kubeconfig"), insecurePlaintext: true,
  }, { ...defaultDeps, openStore: async () => createMemoryStore() });
  client = createClient(loadKubeconfig(cp.kubeconfigPath));
  const pki = pkiDirNextTo(cp.kubeconfigPath);
  if (pki === undefined) throw new Error("the control plane wrote no pki directory next to its kubeconfig");
  server = await startStreamingServer({ credentials: await kubeletCredentialsFromPkiDir(pki) });
  for (const name of ["stats-a", "stats-b"]) {
    const agent = new NodeAgent({
      client, nodeName: name, runtime: new HollowRuntime(new HollowHost({ nodeName: name })), heartbeatMs: 1000, firstHeartbeatMs: 50,
      kubeletEndpoint: server.endpoint,
    });
    await agent.start();
    server.register(agent.streaming);
    agents.push(agent);
  }
}, 30_000);

afterAll(async () => {
  for (const a of agents) await a.stop();
  await server?.close();
  client?.close();
  await cp?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const get = (path: string): Promise<{ status: number; body: string }> =>
  client.rest.request({ method: "GET", path, accept: "application/json" }).then((r) => ({ status: r.status, body: new TextDecoder().decode(r.body) }));

describe("nodes/proxy/stats/summary through the apiserver", () => {
  it("returns the named node's Summary with its pods", async () => {
    await client.resourceFor("v1", "Pod").namespace("default").create({
      apiVersion: "v1", kind: "Pod", metadata: { name: "sleepy", namespace: "default" },
      spec: { nodeName: "stats-b", containers: [{ name: "main", image: "hollow/sleep" }] },
    } as PodObject);
    const deadline = Date.now() + 10_000;
    let s: Summary | undefined;
    while (Date.now() < deadline) {
      const r = await get("/api/v1/nodes/stats-b/proxy/stats/summary");
      expect(r.status).toBe(200);
      s = JSON.parse(r.body) as Summary;
      if (s.pods.some((p) => p.podRef.name === "sleepy" && p.containers.length === 1)) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    expect(s?.node.nodeName).toBe("stats-b");
    const pod = s?.pods.find((p) => p.podRef.name === "sleepy");
    expect(pod?.podRef.namespace).toBe("default");
    expect(pod?.containers[0]).toMatchObject({ name: "main" });
    expect(pod?.containers[0]?.memory.workingSetBytes).toBeGreaterThan(0);
    expect(typeof pod?.containers[0]?.cpu.usageNanoCores).toBe("number");

    const a = JSON.parse((await get("/api/v1/nodes/stats-a/proxy/stats/summary")).body) as Summary;
    expect(a.node.nodeName).toBe("stats-a");
    expect(a.pods.some((p) => p.podRef.name === "sleepy")).toBe(false);
  }, 20_000);

  it("refuses other paths, unknown nodes and other methods", async () => {
    const other = await get("/api/v1/nodes/stats-a/proxy/metrics");
    expect(other.status).toBe(404);
    expect(other.body).toContain('the node agent does not serve \\"/metrics\\" through nodes/proxy');
    expect((await get("/api/v1/nodes/nope/proxy/stats/summary")).status).toBe(404);
    const post = await client.rest.request({ method: "POST", path: "/api/v1/nodes/stats-a/proxy/stats/summary", body: "{}", contentType: "application/json" });
    expect(post.status).toBe(405);
  });
});
