/**
 * Acceptance (issue 5, remaining runtime items) with real kubectl 1.32 against `tug server` plus a
 * `tug agent --runtime process` node: a Deployment of busybox `httpd` reached through
 * `kubectl port-forward`; a failing liveness probe restarts the container; a failing readiness
 * probe takes the pod out of its Service's Endpoints; an interactive `kubectl exec -it` shell
 * driven through a pty (script(1)); an unknown image and a missing command show upstream's reasons
 * while other pods keep running; a restarted agent adopts the running containers.
 * (Logs, exec exit codes, cp, attach and port-forward variants: streaming.test.ts; ConfigMap
 * env/volume and CreateContainerConfigError: pods.test.ts.) Every process is stopped by PID.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import * as http from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { killAllUnder } from "../../src/kubelet/runtimes/process/_harness.ts";
import { Kubectl, REPO, sleep, startTug, tempDir, until as untilDone, type BackgroundKubectl, type TugProcess } from "./harness.ts";

const NODE = "acc-1";
const PORT = 20_000 + Math.floor(Math.random() * 20_000);
let tug: TugProcess;
let k: Kubectl;
let work = "";
let agentDir = "";
let agent: ChildProcess | undefined;
let agentOut = "";
const background: BackgroundKubectl[] = [];

/** `until` with the agent's recent output on timeout. */
const until = <T,>(what: string, f: () => Promise<T | undefined | false>, ms = 30_000): Promise<T> => untilDone(what, f, ms, () => `agent: ${agentOut.slice(-3000)}`);

function startAgent(): ChildProcess {
  agentOut = "";
  const child = spawn(process.execPath, [
    join(REPO, "bin/tug.js"), "agent", "--kubeconfig", tug.kubeconfig, "--node-name", NODE, "--runtime", "process", "--data-dir", agentDir,
  ], { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout?.on("data", (d: Buffer) => { agentOut += d.toString("utf8"); });
  child.stderr?.on("data", (d: Buffer) => { agentOut += d.toString("utf8"); });
  return child;
}

async function stopAgent(): Promise<void> {
  const a = agent;
  if (a === undefined || a.exitCode !== null || a.signalCode !== null) return;
  const exited = new Promise((r) => a.once("exit", r));
  a.kill("SIGTERM");
  await Promise.race([exited, sleep(8000)]);
  if (a.exitCode === null && a.signalCode === null) a.kill("SIGKILL");
}

function httpGet(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path: "/index.html", timeout: 5000 }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve(body));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
  });
}

const jsonpath = async (what: string, path: string): Promise<string> => (await k.ok(["get", ...what.split(" "), "-o", `jsonpath=${path}`])).trim();

beforeAll(async () => {
  work = tempDir("runtime-acc");
  agentDir = join(work, "agent");
  mkdirSync(join(work, "site"), { recursive: true });
  writeFileSync(join(work, "site", "index.html"), "<h1>served by busybox httpd</h1>\n");
  writeFileSync(join(work, "ready"), "");
  tug = await startTug({});
  k = new Kubectl("1.32", tug.kubeconfig);
  agent = startAgent();
  await until("tug agent registered", async () => agentOut.includes("registered"));
  const sleeper = (name: string, extra: Record<string, unknown>, labels: Record<string, string> = {}): unknown => ({
    apiVersion: "v1", kind: "Pod", metadata: { name, namespace: "default", labels: { suite: "acc", ...labels } },
    spec: { terminationGracePeriodSeconds: 1, containers: [{ name: "main", image: "busybox", imagePullPolicy: "Never", command: ["sh", "-c", "sleep 3600"], ...extra }] },
  });
  const docs: unknown[] = [
    {
      apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", namespace: "default" },
      spec: {
        replicas: 1, selector: { matchLabels: { app: "web" } },
        template: {
          metadata: { labels: { app: "web", suite: "acc" } },
          spec: {
            terminationGracePeriodSeconds: 1,
            containers: [{
              name: "httpd", image: "busybox", imagePullPolicy: "Never",
              command: ["sh", "-c", `exec busybox httpd -f -p "$POD_IP:${PORT}" -h ${join(work, "site")}`],
              ports: [{ containerPort: PORT }],
              readinessProbe: { tcpSocket: { port: PORT }, periodSeconds: 1 },
            }],
          },
        },
      },
    },
    sleeper("gate", { readinessProbe: { exec: { command: ["test", "-f", join(work, "ready")] }, periodSeconds: 1, failureThreshold: 1 } }, { app: "gate" }),
    { apiVersion: "v1", kind: "Service", metadata: { name: "gate", namespace: "default" }, spec: { selector: { app: "gate" }, ports: [{ port: 80, targetPort: 80 }] } },
    sleeper("live", {
      command: ["sh", "-c", `touch ${join(work, "alive")}; sleep 3600`],
      livenessProbe: { exec: { command: ["test", "-f", join(work, "alive")] }, initialDelaySeconds: 1, periodSeconds: 1, failureThreshold: 1 },
    }),
  ];
  await k.ok(["apply", "-f", "-"], { input: docs.map((d) => JSON.stringify(d)).join("\n") });
  await until("pods running", async () => {
    const out = await jsonpath("pods -l suite=acc", "{range .items[*]}{.metadata.name}={.status.phase} {end}");
    return out.split(" ").filter((s) => s.endsWith("=Running")).length === 3 ? out : undefined;
  }, 45_000);
}, 120_000);

afterAll(async () => {
  for (const b of background) await b.stop().catch(() => undefined);
  await k?.run(["delete", "deployment,pods,services", "-l", "suite=acc", "--grace-period=1", "--wait=true", "--timeout=20s"], { timeoutMs: 25_000 }).catch(() => undefined);
  await k?.run(["delete", "pods", "--all", "--grace-period=1", "--wait=true", "--timeout=20s"], { timeoutMs: 25_000 }).catch(() => undefined);
  await stopAgent();
  // Containers outlive their agent by design: stop the ones this test's agent started (by recorded PID).
  if (agentDir !== "") killAllUnder(join(agentDir, "process"));
  await tug?.stop();
  k?.cleanup();
}, 90_000);

describe("tug agent --runtime process + kubectl 1.32: runtime acceptance", () => {
  it("a Deployment of busybox httpd serves a page through kubectl port-forward", async () => {
    await until("deployment available", async () => (await jsonpath("deployment web", "{.status.availableReplicas}")) === "1");
    const pf = k.background(["port-forward", "deployment/web", "--address", "127.0.0.1", `:${PORT}`]);
    background.push(pf);
    const out = await pf.waitFor(/Forwarding from 127\.0\.0\.1:(\d+)/, 15_000);
    const local = Number(/Forwarding from 127\.0\.0\.1:(\d+)/.exec(out)?.[1]);
    expect(await httpGet(local)).toBe("<h1>served by busybox httpd</h1>\n");
    expect(await httpGet(local)).toBe("<h1>served by busybox httpd</h1>\n");
    await pf.stop();
  }, 45_000);

  it("a failing liveness probe restarts the container and bumps restartCount", async () => {
    expect(await jsonpath("pod live", "{.status.containerStatuses[0].restartCount}")).toBe("0");
    rmSync(join(work, "alive"));
    await until("live restarted", async () => Number(await jsonpath("pod live", "{.status.containerStatuses[0].restartCount}")) >= 1, 30_000);
    await until("live running again", async () => (await jsonpath("pod live", "{.status.containerStatuses[0].state.running.startedAt}")) !== "");
    const events = await k.ok(["get", "events", "--field-selector", "involvedObject.name=live", "-o", "jsonpath={range .items[*]}{.reason}: {.message}{\"\\n\"}{end}"]);
    expect(events).toMatch(/Unhealthy: Liveness probe failed/);
  }, 45_000);

  it("a failing readiness probe removes the pod from the Service's Endpoints, and it returns when ready", async () => {
    const ip = await jsonpath("pod gate", "{.status.podIP}");
    expect(ip).toMatch(/^127\./);
    await until("gate in endpoints", async () => (await jsonpath("endpoints gate", "{.subsets[0].addresses[*].ip}")) === ip);
    rmSync(join(work, "ready"));
    await until("gate not ready", async () => (await jsonpath("pod gate", "{.status.conditions[?(@.type==\"Ready\")].status}")) === "False");
    await until("gate out of endpoints", async () => (await jsonpath("endpoints gate", "{.subsets[0].addresses[*].ip}")) === ""
      && (await jsonpath("endpoints gate", "{.subsets[0].notReadyAddresses[*].ip}")) === ip);
    const slice = await jsonpath("endpointslices -l kubernetes.io/service-name=gate", "{.items[0].endpoints[0].conditions.ready}");
    expect(slice).toBe("false");
    writeFileSync(join(work, "ready"), "");
    await until("gate back in endpoints", async () => (await jsonpath("endpoints gate", "{.subsets[0].addresses[*].ip}")) === ip);
  }, 60_000);

  it("kubectl exec -it runs an interactive shell through a pty", async () => {
    const inner = `${k.bin} --kubeconfig ${tug.kubeconfig} --cache-dir ${join(k.home, "cache")} exec -it pod/gate -- sh`;
    const child = spawn("script", ["-qec", inner, "/dev/null"], {
      env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: k.home, TERM: "xterm" }, stdio: ["pipe", "pipe", "pipe"],
    });
    let out = "";
    child.stdout?.on("data", (b: Buffer) => (out += b.toString()));
    const closed = new Promise<number | null>((resolve) => child.once("close", resolve));
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    try {
      // Wait for the remote shell's prompt (ends in "# " or "$ "), then type.
      await until("a prompt", async () => /[#$] $/.test(out), 10_000);
      child.stdin?.write("echo answer=$((6*7)); exit 7\r");
      const code = await closed;
      expect(out).toContain("answer=42");
      expect(code).toBe(7);
    } finally {
      clearTimeout(timer);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
  }, 30_000);

  it("an unknown image and a missing command show upstream's reasons; other pods keep running", async () => {
    const bad = [
      { apiVersion: "v1", kind: "Pod", metadata: { name: "badimage", labels: { suite: "acc" } }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: "c", image: "registry.invalid/nope:1" }] } },
      { apiVersion: "v1", kind: "Pod", metadata: { name: "nocmd", labels: { suite: "acc" } }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: "c", image: "busybox", imagePullPolicy: "Never", command: ["no-such-binary-xyz"] }] } },
    ];
    await k.ok(["apply", "-f", "-"], { input: bad.map((d) => JSON.stringify(d)).join("\n") });
    const waiting = await until("badimage pull error", async () => {
      const r = await jsonpath("pod badimage", "{.status.containerStatuses[0].state.waiting.reason}");
      return r === "ErrImagePull" || r === "ImagePullBackOff" ? r : undefined;
    });
    expect(["ErrImagePull", "ImagePullBackOff"]).toContain(waiting);
    const events = await until("Failed pull event", async () => {
      const e = await k.ok(["get", "events", "--field-selector", "involvedObject.name=badimage", "-o", "jsonpath={range .items[*]}{.reason}: {.message}{\"\\n\"}{end}"]);
      return e.includes("Failed to pull image \"registry.invalid/nope:1\"") ? e : undefined;
    });
    expect(events).toMatch(/Failed: Error: (ErrImagePull|ImagePullBackOff)/);

    const msg = await until("nocmd reports the missing executable", async () => {
      const s = await k.ok(["get", "pod", "nocmd", "-o", "jsonpath={.status.containerStatuses[0]}"]);
      return s.includes("executable file not found in $PATH") ? s : undefined;
    });
    expect(msg).toContain('exec: \\"no-such-binary-xyz\\": executable file not found in $PATH');
    expect(msg).toMatch(/ContainerCannotRun|RunContainerError|StartError|CrashLoopBackOff/);

    // The rest of the node is unaffected.
    const others = await jsonpath("pods -l suite=acc", "{range .items[*]}{.metadata.name}={.status.phase} {end}");
    expect(others).toMatch(/web-\S+=Running/);
    expect(others).toContain("gate=Running");
    expect(others).toContain("live=Running");
    await k.ok(["delete", "pod", "badimage", "nocmd", "--grace-period=1", "--wait=true", "--timeout=20s"], { timeoutMs: 25_000 });
  }, 60_000);

  it("a restarted agent adopts the running containers (same IDs, restartCount unchanged)", async () => {
    const snapshot = async (): Promise<string> =>
      jsonpath("pods -l suite=acc", "{range .items[*]}{.metadata.name} {.status.containerStatuses[0].containerID} {.status.containerStatuses[0].restartCount}{\"\\n\"}{end}");
    const before = await snapshot();
    expect(before.split("\n")).toHaveLength(3);
    expect(before).toMatch(/process:\/\//);
    await stopAgent();
    agent = startAgent();
    await until("agent registered again", async () => agentOut.includes("registered"));
    // Let the new agent run several sync rounds before comparing.
    await sleep(4000);
    await until("all Ready again", async () => {
      const r = await jsonpath("pods -l suite=acc", "{range .items[*]}{.status.conditions[?(@.type==\"Ready\")].status} {end}");
      return r.trim().split(" ").every((s) => s === "True");
    });
    expect(await snapshot()).toBe(before);
  }, 60_000);
});
