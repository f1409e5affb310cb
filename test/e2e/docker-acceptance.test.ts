/**
 * Acceptance (issue 5) on Docker: real kubectl 1.32 against `tug server` plus a
 * `tug agent --runtime docker` node whose pods are Docker containers of a private dockerd
 * (test/support/dockerd.ts). Network rule: dockerd, the server, the agent, kubectl and every client
 * that reaches a pod run inside the network namespace the dockerd helper created
 * (`nsenter --net=/var/run/netns/NAME`), so the apiserver listens on that namespace's own 127.0.0.1
 * and container traffic never leaves it.
 *
 * Covered, each its own case: a busybox httpd Deployment through `kubectl port-forward`;
 * `logs -f`; `exec -it` through a pty (script(1)); `exec` exit codes; `cp` both ways; a failing
 * liveness probe; OOMKilled/137; a ConfigMap change in the mounted file; an agent restart adopting
 * the running containers (checked through the Docker API too); bad input (ErrImageNeverPull,
 * ErrImagePull, a missing command, a missing ConfigMap for a volume and for env) while the other
 * pods keep serving.
 *
 * Skips with a banner when Docker/root is missing; with TUG_REQUIRE_DOCKER=1 (CI) it fails instead.
 * Every process is stopped by PID; the dockerd helper removes containers, the daemon and the netns.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dockerSkipReason, startDockerd, type Dockerd } from "../support/dockerd.ts";
import { Kubectl, REPO, sleep, startTug, tempDir, until as untilDone, type BackgroundKubectl, type TugProcess } from "./harness.ts";

const SKIP = dockerSkipReason("docker acceptance (test/e2e/docker-acceptance.test.ts)");

const NODE = "dock-1";
const IMAGE = "tug-test/busybox:1";
/** The agent's default sandbox image; imported from busybox (no registry is reachable). */
const PAUSE = "registry.k8s.io/pause:3.9";
const SITE_V1 = "<h1>served by busybox httpd on docker</h1>\n";
const SITE_V2 = "<h1>version two</h1>\n";

let d: Dockerd | undefined;
let ns: string[] = [];
let tug: TugProcess | undefined;
let k: Kubectl;
let work = "";
let agentDir = "";
let agent: ChildProcess | undefined;
let agentOut = "";
const background: BackgroundKubectl[] = [];

/** `until` with the agent's recent output on timeout. */
const until = <T,>(what: string, f: () => Promise<T | undefined | false>, ms = 30_000): Promise<T> => untilDone(what, f, ms, () => `agent: ${agentOut.slice(-3000)}`);

function startAgent(): ChildProcess {
  if (d === undefined || tug === undefined) throw new Error("dockerd and server first");
  agentOut = "";
  // nsenter execs node: the child's PID is the agent's.
  const child = spawn("nsenter", [
    ...ns.slice(1), process.execPath, join(REPO, "bin/tug.js"), "agent", "--kubeconfig", tug.kubeconfig, "--node-name", NODE,
    "--runtime", "docker", "--docker-host", d.host, "--data-dir", agentDir,
  ], { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout?.on("data", (b: Buffer) => { agentOut += b.toString("utf8"); });
  child.stderr?.on("data", (b: Buffer) => { agentOut += b.toString("utf8"); });
  return child;
}

async function stopAgent(): Promise<void> {
  const a = agent;
  if (a === undefined || a.exitCode !== null || a.signalCode !== null) return;
  const exited = new Promise((r) => a.once("exit", r));
  a.kill("SIGTERM");
  await Promise.race([exited, sleep(8000)]);
  if (a.exitCode === null && a.signalCode === null) {
    a.kill("SIGKILL");
    await Promise.race([exited, sleep(2000)]);
  }
}

/** Runs a program inside the namespace to completion (killed after `timeoutMs`). */
function inNetns(argv: readonly string[], timeoutMs = 10_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn("nsenter", [...ns.slice(1), ...argv], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (b: Buffer) => (stdout += b.toString()));
    child.stderr?.on("data", (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** An HTTP GET made from inside the namespace (a short node process; curl may not be installed). */
async function httpGet(url: string): Promise<string> {
  const script = "fetch(process.argv[1],{signal:AbortSignal.timeout(5000)}).then(async(r)=>{process.stdout.write(await r.text());process.exit(r.ok?0:2)},(e)=>{console.error(String(e));process.exit(1)})";
  const r = await inNetns([process.execPath, "-e", script, url]);
  if (r.code !== 0) throw new Error(`GET ${url} failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

const jsonpath = async (what: string, path: string): Promise<string> => (await k.ok(["get", ...what.split(" "), "-o", `jsonpath=${path}`])).trim();

const eventsOf = (pod: string): Promise<string> =>
  k.ok(["get", "events", "--field-selector", `involvedObject.name=${pod}`, "-o", "jsonpath={range .items[*]}{.reason}: {.message}{\"\\n\"}{end}"]);

/** Containers of this node's scope in Docker: id -> `pod/container state`. */
async function dockerView(): Promise<Map<string, string>> {
  if (d === undefined) throw new Error("no dockerd");
  const all = await d.docker.listContainers({ all: true, filters: JSON.stringify({ label: [`io.tugboat.scope=${NODE}`] }) });
  return new Map(all.map((c) => [c.Id, `${c.Labels?.["io.kubernetes.pod.name"] ?? "?"}/${c.Labels?.["io.kubernetes.container.name"] ?? "POD"} ${c.State ?? "?"}`]));
}

/** Runs a command in a container through the Docker API directly (no agent involved); resolves when it ends. */
async function dockerExec(id: string, cmd: string[]): Promise<void> {
  if (d === undefined) throw new Error("no dockerd");
  const ex = await d.docker.getContainer(id).exec({ Cmd: cmd, AttachStdin: false, AttachStdout: true, AttachStderr: true, Tty: false });
  const stream = await ex.start({ hijack: true, stdin: false, Tty: false });
  stream.resume();
  await Promise.race([new Promise((r) => stream.once("end", r)), sleep(5000)]);
  stream.destroy();
  expect((await ex.inspect()).ExitCode).toBe(0);
}

function pod(name: string, container: Record<string, unknown>, spec: Record<string, unknown> = {}): unknown {
  return {
    apiVersion: "v1", kind: "Pod", metadata: { name, namespace: "default", labels: { suite: "dock" } },
    spec: { terminationGracePeriodSeconds: 1, ...spec, containers: [{ name: "main", image: IMAGE, imagePullPolicy: "Never", ...container }] },
  };
}

describe.skipIf(SKIP !== undefined)("tug agent --runtime docker + kubectl 1.32: runtime acceptance", () => {
  beforeAll(async () => {
    work = tempDir("docker-acc");
    agentDir = join(work, "agent");
    const dockerd = await startDockerd();
    d = dockerd;
    ns = ["nsenter", `--net=/var/run/netns/${dockerd.netns}`];
    await dockerd.importBusybox(IMAGE);
    await dockerd.importBusybox(PAUSE, { cmd: ["sleep", "2147483647"] });
    tug = await startTug({ prefix: ns });
    k = new Kubectl("1.32", tug.kubeconfig, { prefix: ns });
    agent = startAgent();
    await until("tug agent registered", async () => agentOut.includes("registered"));
    const docs: unknown[] = [
      { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "site", namespace: "default" }, data: { "index.html": SITE_V1 } },
      {
        apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", namespace: "default" },
        spec: {
          replicas: 1, selector: { matchLabels: { app: "web" } },
          template: {
            metadata: { labels: { app: "web", suite: "dock" } },
            spec: {
              terminationGracePeriodSeconds: 1,
              volumes: [{ name: "site", configMap: { name: "site" } }],
              containers: [{
                name: "httpd", image: IMAGE, imagePullPolicy: "IfNotPresent",
                command: ["httpd", "-f", "-p", "8080", "-h", "/www"],
                ports: [{ containerPort: 8080 }],
                volumeMounts: [{ name: "site", mountPath: "/www" }],
                readinessProbe: { httpGet: { path: "/index.html", port: 8080 }, periodSeconds: 1 },
              }],
            },
          },
        },
      },
      pod("shell", { command: ["sh", "-c", "exec sleep 3600"] }),
      pod("feed", { command: ["sh", "-c", "echo started; touch /tmp/feed; exec tail -f /tmp/feed"] }),
      pod("live", {
        command: ["sh", "-c", "touch /tmp/alive; exec sleep 3600"],
        livenessProbe: { exec: { command: ["test", "-f", "/tmp/alive"] }, initialDelaySeconds: 1, periodSeconds: 1, failureThreshold: 1 },
      }),
    ];
    await k.ok(["apply", "-f", "-"], { input: docs.map((x) => JSON.stringify(x)).join("\n") });
    await until("pods running", async () => {
      const out = await jsonpath("pods -l suite=dock", "{range .items[*]}{.metadata.name}={.status.phase} {end}");
      return out.split(" ").filter((s) => s.endsWith("=Running")).length === 4 ? out : undefined;
    }, 60_000);
  }, 120_000);

  afterAll(async () => {
    for (const b of background) await b.stop().catch(() => undefined);
    await stopAgent();
    await tug?.stop();
    k?.cleanup();
    // Containers outlive their agent by design: the helper removes them, stops dockerd by PID and deletes the netns.
    await d?.stop();
  }, 60_000);

  it("a Deployment of busybox httpd serves a page through kubectl port-forward on 127.0.0.1", async () => {
    await until("deployment available", async () => (await jsonpath("deployment web", "{.status.availableReplicas}")) === "1");
    const cid = await jsonpath("pods -l app=web", "{.items[0].status.containerStatuses[0].containerID}");
    expect(cid).toMatch(/^docker:\/\/[0-9a-f]{64}$/);
    const ip = await jsonpath("pods -l app=web", "{.items[0].status.podIP}");
    expect(ip).toMatch(/^10\.\d+\.0\.\d+$/);
    const pf = k.background(["port-forward", "deployment/web", "--address", "127.0.0.1", ":8080"]);
    background.push(pf);
    const out = await pf.waitFor(/Forwarding from 127\.0\.0\.1:(\d+)/, 15_000);
    const local = Number(/Forwarding from 127\.0\.0\.1:(\d+)/.exec(out)?.[1]);
    expect(await httpGet(`http://127.0.0.1:${local}/index.html`)).toBe(SITE_V1);
    expect(await httpGet(`http://127.0.0.1:${local}/index.html`)).toBe(SITE_V1);
    await pf.stop();
  }, 45_000);

  it("kubectl logs -f follows output as it is written", async () => {
    const f = k.background(["logs", "-f", "feed"]);
    background.push(f);
    await f.waitFor(/^started\n/, 10_000);
    for (const word of ["first-line", "second-line"]) {
      await k.ok(["exec", "feed", "--", "sh", "-c", `echo ${word} >> /tmp/feed`]);
      await f.waitFor(new RegExp(`${word}\\n`), 10_000);
    }
    expect(f.stdout()).toBe("started\nfirst-line\nsecond-line\n");
    await f.stop();
  }, 40_000);

  it("kubectl exec -it runs an interactive shell through a pty", async () => {
    const inner = [...ns, k.bin, "--kubeconfig", tug?.kubeconfig ?? "", "--cache-dir", join(k.home, "cache"), "exec", "-it", "pod/shell", "--", "sh"].join(" ");
    const child = spawn("script", ["-qec", inner, "/dev/null"], {
      env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: k.home, TERM: "xterm" }, stdio: ["pipe", "pipe", "pipe"],
    });
    let out = "";
    child.stdout?.on("data", (b: Buffer) => (out += b.toString()));
    const closed = new Promise<number | null>((resolve) => child.once("close", resolve));
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    try {
      // busybox's line editor may ask for the cursor position (ESC[6n) after the prompt; it does not wait for an answer.
      await until("a prompt", async () => /[#$] (\x1b\[6n)?$/.test(out), 15_000).catch((e: unknown) => {
        throw new Error(`${String(e)}\npty output: ${JSON.stringify(out)}`);
      });
      child.stdin?.write("echo answer=$((6*7)) tty=$(tty); exit 7\r");
      const code = await closed;
      expect(out).toContain("answer=42");
      expect(out).toMatch(/tty=\/dev\/pts\/\d+/);
      expect(code).toBe(7);
    } finally {
      clearTimeout(timer);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
  }, 30_000);

  it("kubectl exec returns the command's exit code", async () => {
    const r = await k.run(["exec", "shell", "--", "sh", "-c", "echo out; echo err >&2; exit 3"]);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe("out\n");
    expect(r.stderr).toContain("err\n");
    expect(r.stderr).toContain("command terminated with exit code 3");
    expect((await k.run(["exec", "shell", "--", "true"])).code).toBe(0);
    const missing = await k.run(["exec", "shell", "--", "no-such-program"]);
    expect(missing.code).not.toBe(0);
    expect(missing.stdout + missing.stderr).toMatch(/no-such-program.*(not found|no such file)/i);
  }, 30_000);

  it("kubectl cp copies a file into the container and back", async () => {
    const up = join(work, "up.txt");
    writeFileSync(up, "uploaded through tar over exec\n");
    await k.ok(["cp", up, "shell:/tmp/up.txt"]);
    expect(await k.ok(["exec", "shell", "--", "cat", "/tmp/up.txt"])).toBe("uploaded through tar over exec\n");
    await k.ok(["exec", "shell", "--", "sh", "-c", "seq 1 500 > /tmp/down.txt"]);
    const down = join(work, "down.txt");
    await k.ok(["cp", "shell:/tmp/down.txt", down]);
    expect(readFileSync(down, "utf8")).toBe(Array.from({ length: 500 }, (_, i) => `${i + 1}\n`).join(""));
  }, 30_000);

  it("a ConfigMap change appears in the mounted file (and in what httpd serves)", async () => {
    const web = await jsonpath("pods -l app=web", "{.items[0].metadata.name}");
    const ip = await jsonpath(`pod ${web}`, "{.status.podIP}");
    expect(await k.ok(["exec", web, "--", "cat", "/www/index.html"])).toBe(SITE_V1);
    expect(await httpGet(`http://${ip}:8080/index.html`)).toBe(SITE_V1);
    await k.ok(["patch", "configmap", "site", "--type=merge", "-p", JSON.stringify({ data: { "index.html": SITE_V2 } })]);
    await until("updated file", async () => (await k.ok(["exec", web, "--", "cat", "/www/index.html"])) === SITE_V2);
    expect(await httpGet(`http://${ip}:8080/index.html`)).toBe(SITE_V2);
  }, 40_000);

  it("a failing liveness probe restarts the container and bumps restartCount", async () => {
    expect(await jsonpath("pod live", "{.status.containerStatuses[0].restartCount}")).toBe("0");
    const first = await jsonpath("pod live", "{.status.containerStatuses[0].containerID}");
    await k.ok(["exec", "live", "--", "rm", "/tmp/alive"]);
    await until("live restarted", async () => Number(await jsonpath("pod live", "{.status.containerStatuses[0].restartCount}")) >= 1, 30_000);
    await until("live running again", async () => (await jsonpath("pod live", "{.status.containerStatuses[0].state.running.startedAt}")) !== "");
    expect(await jsonpath("pod live", "{.status.containerStatuses[0].lastState.terminated.containerID}")).toBe(first);
    expect(await jsonpath("pod live", "{.status.containerStatuses[0].containerID}")).not.toBe(first);
    const events = await eventsOf("live");
    expect(events).toMatch(/Unhealthy: Liveness probe failed/);
    expect(events).toMatch(/Killing: Container main failed liveness probe, will be restarted/);
  }, 45_000);

  it("a container exceeding its memory limit is OOMKilled with exit code 137", async () => {
    await k.ok(["apply", "-f", "-"], {
      input: JSON.stringify(pod("hog", {
        // tail keeps the one 64 MiB line in memory; bounded even if the limit were missing.
        command: ["sh", "-c", "head -c 67108864 /dev/zero | tail"],
        resources: { limits: { memory: "16Mi" }, requests: { memory: "16Mi" } },
      }, { restartPolicy: "Never" })),
    });
    const term = await until("hog terminated", async () => {
      const t = await jsonpath("pod hog", "{.status.containerStatuses[0].state.terminated.reason}/{.status.containerStatuses[0].state.terminated.exitCode}");
      return t !== "/" ? t : undefined;
    });
    expect(term).toBe("OOMKilled/137");
    expect(await jsonpath("pod hog", "{.status.phase}")).toBe("Failed");
    const cid = (await jsonpath("pod hog", "{.status.containerStatuses[0].containerID}")).replace("docker://", "");
    const inspect = await d?.docker.getContainer(cid).inspect();
    expect(inspect?.HostConfig?.Memory).toBe(16 * 1024 * 1024);
  }, 40_000);

  it("a restarted agent adopts the running containers (same IDs, nothing duplicated)", async () => {
    const snapshot = async (): Promise<string> =>
      jsonpath("pods -l suite=dock", "{range .items[*]}{.metadata.name} {.status.phase} {.status.containerStatuses[0].containerID} {.status.containerStatuses[0].restartCount}{\"\\n\"}{end}");
    const before = await snapshot();
    const dockerBefore = await dockerView();
    expect(before.split("\n").length).toBeGreaterThanOrEqual(4);
    expect([...dockerBefore.values()].filter((v) => v.endsWith(" running")).length).toBeGreaterThanOrEqual(8);
    const feedId = (await jsonpath("pod feed", "{.status.containerStatuses[0].containerID}")).replace("docker://", "");
    await stopAgent();
    // Containers keep running without their agent, and keep printing: a line written now must reach the log once.
    expect(await dockerView()).toEqual(dockerBefore);
    await dockerExec(feedId, ["sh", "-c", "echo while-agent-down >> /tmp/feed"]);
    await sleep(1500); // busybox tail -f polls once a second
    agent = startAgent();
    await until("agent registered again", async () => agentOut.includes("registered"));
    // Let the new agent run several sync rounds before comparing.
    await sleep(3000);
    await until("all running pods Ready again", async () => {
      const r = await jsonpath("pods -l suite=dock", "{range .items[*]}{.status.phase}={.status.conditions[?(@.type==\"Ready\")].status} {end}");
      return r.trim().split(" ").every((s) => s === "Running=True" || s.startsWith("Failed=")) ? r : undefined;
    });
    expect(await snapshot()).toBe(before);
    expect(await dockerView()).toEqual(dockerBefore);
    // And it still serves streams for the adopted containers; their logs continue without loss or repeats.
    expect(await k.ok(["exec", "shell", "--", "echo", "adopted"])).toBe("adopted\n");
    await k.ok(["exec", "feed", "--", "sh", "-c", "echo after-restart >> /tmp/feed"]);
    const log = await until("feed log after restart", async () => {
      const l = await k.ok(["logs", "feed"]);
      return l.includes("after-restart\n") ? l : undefined;
    });
    expect(log.endsWith("while-agent-down\nafter-restart\n")).toBe(true);
    expect(log.split("\n").filter((x) => x === "started")).toHaveLength(1);
  }, 60_000);

  it("bad input shows upstream's reasons with useful messages, and the other pods keep serving", async () => {
    const bad = [
      pod("neverpull", { image: "tug-test/absent:1", imagePullPolicy: "Never" }),
      // A registry on the namespace's loopback where nothing listens: Docker's pull fails at once.
      pod("badimage", { image: "127.0.0.1:5/tug-test/missing:1", imagePullPolicy: "IfNotPresent" }),
      pod("nocmd", { command: ["no-such-binary-xyz"] }),
      pod("novolume", { command: ["sleep", "3600"], volumeMounts: [{ name: "cfg", mountPath: "/cfg" }] }, { volumes: [{ name: "cfg", configMap: { name: "nope" } }] }),
      pod("noenv", { command: ["sleep", "3600"], env: [{ name: "X", valueFrom: { configMapKeyRef: { name: "nope", key: "x" } } }] }),
    ];
    await k.ok(["apply", "-f", "-"], { input: bad.map((x) => JSON.stringify(x)).join("\n") });
    const waiting = (name: string): Promise<string> => jsonpath(`pod ${name}`, "{.status.containerStatuses[0].state.waiting.reason}|{.status.containerStatuses[0].state.waiting.message}");

    const never = await until("ErrImageNeverPull", async () => { const w = await waiting("neverpull"); return w.startsWith("ErrImageNeverPull|") ? w : undefined; });
    expect(never).toBe('ErrImageNeverPull|Container image "tug-test/absent:1" is not present with pull policy of Never');
    await until("ErrImageNeverPull event", async () => (await eventsOf("neverpull")).includes('ErrImageNeverPull: Container image "tug-test/absent:1" is not present with pull policy of Never'));

    const pull = await until("ErrImagePull", async () => { const w = await waiting("badimage"); return /^(ErrImagePull|ImagePullBackOff)\|/.test(w) ? w : undefined; });
    expect(pull).toMatch(/^(ErrImagePull\|.*127\.0\.0\.1:5.*connection refused|ImagePullBackOff\|Back-off pulling image "127\.0\.0\.1:5\/tug-test\/missing:1")/);
    const pullEvents = await until("Failed pull event", async () => { const e = await eventsOf("badimage"); return e.includes('Failed to pull image "127.0.0.1:5/tug-test/missing:1"') ? e : undefined; });
    expect(pullEvents).toMatch(/Failed: Failed to pull image "127\.0\.0\.1:5\/tug-test\/missing:1": .*connection refused/);
    expect(pullEvents).toMatch(/Failed: Error: ErrImagePull/);

    // As on a Docker-backed kubelet: the start fails (RunContainerError, then CrashLoopBackOff) and the
    // exited attempt is ContainerCannotRun / 128 with Docker's message.
    const nocmd = await until("nocmd reports the missing executable", async () => {
      const s = await jsonpath("pod nocmd", "{.status.containerStatuses[0].state.waiting.reason}|{.status.containerStatuses[0].lastState.terminated.reason}|{.status.containerStatuses[0].lastState.terminated.exitCode}|{.status.containerStatuses[0].lastState.terminated.message}");
      return s.includes("executable file not found in $PATH") ? s : undefined;
    });
    expect(nocmd).toMatch(/^(RunContainerError|CrashLoopBackOff)\|ContainerCannotRun\|128\|.*exec: "no-such-binary-xyz": executable file not found in \$PATH/);
    expect(await eventsOf("nocmd")).toMatch(/Failed: Error: .*exec: "no-such-binary-xyz": executable file not found in \$PATH/);

    const vol = await until("FailedMount event", async () => { const e = await eventsOf("novolume"); return e.includes("FailedMount") ? e : undefined; });
    expect(vol).toContain('FailedMount: MountVolume.SetUp failed for volume "cfg" : configmap "nope" not found');
    expect(await jsonpath("pod novolume", "{.status.phase}")).toBe("Pending");
    expect(await waiting("novolume")).toBe("ContainerCreating|");

    const env = await until("CreateContainerConfigError", async () => { const w = await waiting("noenv"); return w.startsWith("CreateContainerConfigError|") ? w : undefined; });
    expect(env).toBe('CreateContainerConfigError|configmap "nope" not found');

    // The rest of the node is unaffected: pods keep running and serving.
    const others = await jsonpath("pods -l suite=dock", "{range .items[*]}{.metadata.name}={.status.phase} {end}");
    for (const p of ["shell", "feed", "live"]) expect(others).toContain(`${p}=Running`);
    expect(others).toMatch(/web-\S+=Running/);
    const web = await jsonpath("pods -l app=web", "{.items[0].metadata.name}");
    const page = await jsonpath("configmap site", "{.data.index\\.html}");
    expect((await httpGet(`http://${await jsonpath(`pod ${web}`, "{.status.podIP}")}:8080/index.html`)).trim()).toBe(page);
    expect(await k.ok(["exec", "shell", "--", "echo", "still here"])).toBe("still here\n");
    await k.ok(["delete", "pod", "neverpull", "badimage", "nocmd", "novolume", "noenv", "--grace-period=1", "--wait=true", "--timeout=20s"], { timeoutMs: 25_000 });
  }, 60_000);
});
