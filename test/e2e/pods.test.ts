/**
 * Acceptance (issue 5, pod configuration): real kubectl 1.32 against `tug server` plus a
 * `tug agent --runtime process` node — a pod with env from a ConfigMap and a configMap volume runs,
 * turns Ready through an httpGet readiness probe on its loopback pod IP, and `kubectl describe`
 * shows the Events the agent recorded.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { killAllUnder } from "../../src/kubelet/runtimes/process/_harness.ts";
import { Kubectl, REPO, runTug, startTug, tableRows, tempDir, type TugProcess, until as untilDone } from "./harness.ts";

let tug: TugProcess;
let agent: ChildProcess;
let agentOut = "";
let k: Kubectl;
let agentDir: string;
const NODE = "proc-1";

const until = <T,>(what: string, f: () => Promise<T | undefined | false>, ms = 30_000): Promise<T> => untilDone(what, f, ms, () => `agent: ${agentOut.slice(-3000)}`);

beforeAll(async () => {
  tug = await startTug({});
  k = new Kubectl("1.32", tug.kubeconfig);
  agentDir = tempDir("agent");
  agent = spawn(process.execPath, [
    join(REPO, "bin/tug.js"), "agent", "--kubeconfig", tug.kubeconfig, "--node-name", NODE, "--runtime", "process", "--data-dir", agentDir,
  ], { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
  agent.stdout?.on("data", (d: Buffer) => { agentOut += d.toString("utf8"); });
  agent.stderr?.on("data", (d: Buffer) => { agentOut += d.toString("utf8"); });
  await until("tug agent registered", async () => agentOut.includes("registered"), 30_000);
}, 60_000);

afterAll(async () => {
  await k?.run(["delete", "pod", "web", "--grace-period=1", "--wait=true", "--timeout=20s"]).catch(() => undefined);
  if (agent && agent.exitCode === null) {
    const exited = new Promise((r) => agent.once("exit", r));
    agent.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (agent.exitCode === null) agent.kill("SIGKILL");
  }
  // The agent leaves containers running by design: stop the ones this test's agent started.
  if (agentDir !== undefined) killAllUnder(join(agentDir, "process"));
  await tug?.stop();
  k?.cleanup();
}, 60_000);

const SERVER = [
  'const fs=require("fs"), path=process.env.TUGBOAT_ROOTFS+"/etc/web/index.html";',
  'console.log("greeting="+process.env.GREETING+" color="+process.env.APP_COLOR);',
  'setTimeout(()=>require("http").createServer((q,s)=>s.end(fs.readFileSync(path))).listen(8080, process.env.POD_IP), 1000);',
].join("");

const MANIFEST = JSON.stringify({
  apiVersion: "v1", kind: "List", items: [
    { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "web-config", namespace: "default" }, data: { GREETING: "hello", COLOR: "green", "index.html": "<h1>v1</h1>" } },
    {
      apiVersion: "v1", kind: "Pod", metadata: { name: "web", namespace: "default", labels: { app: "web" } },
      spec: {
        terminationGracePeriodSeconds: 2,
        containers: [{
          name: "app", image: "tugboat/node", args: ["-e", SERVER],
          ports: [{ name: "http", containerPort: 8080 }],
          env: [{ name: "GREETING", valueFrom: { configMapKeyRef: { name: "web-config", key: "GREETING" } } }],
          envFrom: [{ configMapRef: { name: "web-config" }, prefix: "APP_" }],
          readinessProbe: { httpGet: { path: "/", port: "http" }, periodSeconds: 1 },
          volumeMounts: [{ name: "site", mountPath: "/etc/web" }],
        }],
        volumes: [{ name: "site", configMap: { name: "web-config", items: [{ key: "index.html", path: "index.html" }] } }],
      },
    },
  ],
});

describe("tug agent --runtime process + kubectl 1.32: pod configuration", () => {
  it("the node reports the process runtime", async () => {
    const rows = tableRows(await k.ok(["get", "nodes", "-o", "wide"]));
    const row = rows.find((r) => r[0] === NODE);
    expect(row?.[1]).toBe("Ready");
    expect(row?.[row.length - 1]).toMatch(/^process:\/\//);
  });

  it("an unreachable Docker host is a clear start-up error naming the socket", async () => {
    const sock = `unix://${join(tempDir("nodocker"), "docker.sock")}`;
    const a = await runTug(["agent", "--kubeconfig", tug.kubeconfig, "--node-name", "d1", "--runtime", "docker", "--docker-host", sock]);
    expect(a.exit.code).toBe(1);
    expect(a.stderr.trim()).toMatch(new RegExp(`^tug: --runtime docker: cannot reach the Docker daemon at ${sock.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}`));
    const u = await runTug(["up", "--data-dir", tempDir("up-docker"), "--listen", "127.0.0.1:0", "--runtime", "docker", "--docker-host", sock]);
    expect(u.exit.code).toBe(1);
    expect(u.stderr).toContain(`cannot reach the Docker daemon at ${sock}`);
  }, 60_000);

  it("kubectl apply: env from a ConfigMap and a configMap volume; Running and Ready; describe shows the events", async () => {
    await k.ok(["apply", "-f", "-"], { input: MANIFEST });
    const row = await until("web Running 1/1", async () => {
      const r = tableRows(await k.ok(["get", "pod", "web"]))[1];
      return r !== undefined && r[1] === "1/1" && r[2] === "Running" ? r : undefined;
    });
    expect(row[0]).toBe("web");
    const ip = (await k.ok(["get", "pod", "web", "-o", "jsonpath={.status.podIP}"])).trim();
    expect(ip).toMatch(/^127\./);
    const res = await fetch(`http://${ip}:8080/`);
    expect(await res.text()).toBe("<h1>v1</h1>");

    // The container's output (CRI log under the agent's data dir).
    const uid = (await k.ok(["get", "pod", "web", "-o", "jsonpath={.metadata.uid}"])).trim();
    const logDir = join(agentDir, "logs", "pods", `default_web_${uid}`, "app");
    await until("log line", async () => existsSync(logDir) && readdirSync(logDir).some((f) => readFileSync(join(logDir, f), "utf8").includes("greeting=hello color=green")));

    // The mounted file follows the ConfigMap.
    await k.ok(["patch", "configmap", "web-config", "--type=merge", "-p", JSON.stringify({ data: { "index.html": "<h1>v2</h1>" } })]);
    await until("updated page", async () => (await (await fetch(`http://${ip}:8080/`)).text()) === "<h1>v2</h1>");

    const describe = await until("describe with events", async () => {
      const out = await k.ok(["describe", "pod", "web"]);
      return out.includes("Started container app") ? out : undefined;
    });
    if (process.env["TUG_E2E_VERBOSE"]) process.stdout.write(describe);
    expect(describe).toMatch(/Status:\s+Running/);
    expect(describe).toMatch(/GREETING:\s+<set to the key 'GREETING' of config map 'web-config'>/);
    expect(describe).toMatch(/site:\s*\n\s+Type:\s+ConfigMap/);
    expect(describe).toMatch(/Events:/);
    expect(describe).toMatch(/Normal\s+Scheduled\s+.*default-scheduler\s+Successfully assigned default\/web to proc-1/);
    expect(describe).toMatch(/Normal\s+Pull(ing|ed)\s+.*kubelet\s+/);
    expect(describe).toMatch(/Normal\s+Created\s+.*kubelet\s+Created container: app/);
    expect(describe).toMatch(/Normal\s+Started\s+.*kubelet\s+Started container app/);
  }, 90_000);

  it("a pod referencing a missing ConfigMap shows CreateContainerConfigError", async () => {
    await k.ok(["run", "broken", "--image=busybox", "--restart=Never", "--overrides", JSON.stringify({
      spec: { containers: [{ name: "broken", image: "busybox", command: ["sleep", "3600"], env: [{ name: "X", valueFrom: { configMapKeyRef: { name: "nope", key: "x" } } }] }] },
    })]);
    await until("CreateContainerConfigError", async () => {
      const r = tableRows(await k.ok(["get", "pod", "broken"]))[1];
      return r?.[2] === "CreateContainerConfigError";
    });
    const out = await k.ok(["describe", "pod", "broken"]);
    expect(out).toMatch(/Warning\s+Failed\s+.*kubelet\s+Error: configmap "nope" not found/);
    await k.ok(["delete", "pod", "broken", "--grace-period=1", "--wait=true", "--timeout=20s"]);
  }, 60_000);
});
