/**
 * Acceptance (issue 5, streaming part): real kubectl (1.32 WebSocket, 1.30 plain-SPDY
 * port-forward, 1.29 SPDY exec) -> `tug server` -> node agent streaming endpoint -> runtime.
 * One `tug agent --runtime process` (busybox pods are host shells) and one `tug agent --runtime
 * hollow` (its built-in shell). Every process is stopped by PID; every wait is bounded.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import * as http from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kubectlDir, REPO, startTug, tempDir, type TugProcess, until as untilDone } from "./harness.ts";

type Version = "1.29" | "1.30" | "1.32";

let tug: TugProcess;
let work = "";
const agents: { name: string; child: ChildProcess; out: () => string; dataDir: string }[] = [];
const background = new Set<ChildProcess>();

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const until = <T,>(what: string, f: () => Promise<T | undefined | false> | T | undefined | false, ms = 30_000): Promise<T> => untilDone(what, f, ms, () => agents.map((a) => `${a.name}: ${a.out()}`).join("\n"));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function spawnKubectl(v: Version, args: readonly string[], env: Record<string, string> = {}): ChildProcess {
  const home = join(work, `home-${v}`);
  mkdirSync(home, { recursive: true });
  return spawn(join(kubectlDir(), `kubectl.${v}`), ["--kubeconfig", tug.kubeconfig, ...args], {
    env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: home, ...env }, stdio: ["pipe", "pipe", "pipe"],
  });
}

/** Runs kubectl to completion (killed after `timeoutMs`). */
function kubectl(v: Version, args: readonly string[], opts: { input?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<Run> {
  const child = spawnKubectl(v, args, opts.env);
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (b: Buffer) => (stdout += b.toString()));
  child.stderr?.on("data", (b: Buffer) => (stderr += b.toString()));
  if (opts.input !== undefined) child.stdin?.end(opts.input);
  else child.stdin?.end();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 30_000);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function ok(v: Version, args: readonly string[], opts: { input?: string; env?: Record<string, string> } = {}): Promise<string> {
  const r = await kubectl(v, args, opts);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** A long-running kubectl (logs -f, attach, port-forward) with its output so far. */
function startBackground(v: Version, args: readonly string[], env: Record<string, string> = {}): { child: ChildProcess; out: () => string; stop: () => Promise<void> } {
  const child = spawnKubectl(v, args, env);
  background.add(child);
  let out = "";
  child.stdout?.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr?.on("data", (b: Buffer) => (out += b.toString()));
  const closed = new Promise<void>((r) => child.once("close", () => r()));
  return {
    child, out: () => out,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await Promise.race([closed, sleep(5000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      background.delete(child);
    },
  };
}

function startAgent(name: string, runtime: "process" | "hollow"): void {
  const dataDir = join(work, `agent-${name}`);
  const child = spawn(process.execPath, [join(REPO, "bin/tug.js"), "agent", "--kubeconfig", tug.kubeconfig, "--node-name", name, "--runtime", runtime, "--data-dir", dataDir], {
    cwd: REPO, stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (out += d.toString()));
  agents.push({ name, child, out: () => out, dataDir });
}

function httpGet(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path: "/", timeout: 5000 }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve(body));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
  });
}

const TICKER = "i=0; while true; do echo line $i; i=$((i+1)); sleep 0.2; done";
const WEB = "require('http').createServer((q,s)=>s.end('hello from '+process.env.POD_IP+'\\n')).listen(8080, process.env.POD_IP)";

const pods = [
  { name: "ticker", node: "p1", containers: [{ name: "main", image: "busybox", command: ["sh", "-c", TICKER] }, { name: "side", image: "busybox", command: ["sh", "-c", "echo side says hi; sleep 3600"] }] },
  { name: "crash", node: "p1", containers: [{ name: "main", image: "busybox", command: ["sh", "-c", "echo run $(date +%s%N); sleep 0.5; exit 1"] }] },
  { name: "web", node: "p1", containers: [{ name: "main", image: "tugboat/node", args: ["-e", WEB] }] },
  { name: "hol", node: "h1", containers: [{ name: "main", image: "busybox", command: ["sh", "-c", "echo hello from hollow; echo second; sleep infinity"] }] },
];

beforeAll(async () => {
  work = tempDir("streaming");
  tug = await startTug({ args: ["--disable", "controller-manager"] });
  startAgent("p1", "process");
  startAgent("h1", "hollow");
  await until("agents registered", () => agents.every((a) => a.out().includes("registered")));
  for (const a of agents) expect(a.out()).toMatch(/streaming https:\/\/127\.0\.0\.1:\d+/);
  const docs = pods.map((p) => ({
    apiVersion: "v1", kind: "Pod", metadata: { name: p.name, namespace: "default" },
    spec: { nodeName: p.node, terminationGracePeriodSeconds: 1, containers: p.containers.map((c) => ({ ...c, imagePullPolicy: "Never" })) },
  }));
  await ok("1.32", ["apply", "-f", "-"], { input: docs.map((d) => JSON.stringify(d)).join("\n") });
  await until("pods running", async () => {
    const out = await ok("1.32", ["get", "pods", "-o", "jsonpath={range .items[*]}{.metadata.name}={.status.phase} {end}"]);
    return ["ticker", "web", "hol"].every((n) => out.includes(`${n}=Running`));
  }, 40_000);
}, 90_000);

afterAll(async () => {
  for (const c of background) if (c.exitCode === null) c.kill("SIGKILL");
  if (tug !== undefined) await kubectl("1.32", ["delete", "pods", "--all", "--wait=true", "--timeout=20s"], { timeoutMs: 25_000 });
  for (const a of agents) {
    if (a.child.exitCode !== null) continue;
    const exited = new Promise((r) => a.child.once("exit", r));
    a.child.kill("SIGTERM");
    await Promise.race([exited, sleep(5000)]);
    if (a.child.exitCode === null) a.child.kill("SIGKILL");
  }
  // Containers outlive their agent by design: kill what is left of ours, by the PIDs it recorded.
  const sandboxes = join(work, "agent-p1", "process", "sandboxes");
  if (existsSync(sandboxes)) {
    for (const sb of readdirSync(sandboxes)) {
      const cdir = join(sandboxes, sb, "containers");
      if (!existsSync(cdir)) continue;
      for (const c of readdirSync(cdir)) {
        const pidFile = join(cdir, c, "shim.pid");
        if (!existsSync(pidFile)) continue;
        const pid = Number(readFileSync(pidFile, "utf8").trim());
        try {
          if (pid > 1) process.kill(-pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
    }
  }
  await tug?.stop();
}, 60_000);

describe("kubectl logs (process runtime)", () => {
  it("prints the log, honours --tail, --timestamps, -c, --limit-bytes, --since, --since-time and --all-containers", async () => {
    await until("a few lines", async () => (await ok("1.32", ["logs", "ticker", "-c", "main"])).includes("line 3"));
    const all = await ok("1.32", ["logs", "ticker", "-c", "main"]);
    expect(all.startsWith("line 0\nline 1\n")).toBe(true);
    const tail = (await ok("1.32", ["logs", "ticker", "-c", "main", "--tail=2"])).split("\n").filter((l) => l !== "");
    expect(tail).toHaveLength(2);
    expect(tail[0]).toMatch(/^line \d+$/);
    const ts = (await ok("1.32", ["logs", "ticker", "-c", "main", "--tail=1", "--timestamps"])).trim();
    expect(ts).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z line \d+$/);
    expect(await ok("1.32", ["logs", "ticker", "-c", "side"])).toBe("side says hi\n");
    expect(await ok("1.32", ["logs", "ticker", "-c", "main", "--limit-bytes=9"])).toBe("line 0\nli");
    expect(await ok("1.32", ["logs", "ticker", "-c", "main", "--since=1h"])).toContain("line 0\n");
    const recent = await ok("1.32", ["logs", "ticker", "-c", "main", "--since=1s"]);
    expect(recent).not.toContain("line 0\n");
    expect(await ok("1.32", ["logs", "ticker", "-c", "side", "--since-time=2000-01-01T00:00:00Z"])).toBe("side says hi\n");
    expect(await ok("1.32", ["logs", "ticker", "-c", "side", "--since-time=2100-01-01T00:00:00Z"])).toBe("");
    const both = await ok("1.32", ["logs", "ticker", "--all-containers", "--tail=1", "--prefix"]);
    expect(both).toMatch(/\[pod\/ticker\/main\] line \d+\n/);
    expect(both).toContain("[pod/ticker/side] side says hi\n");
  }, 60_000);

  it("-f streams new lines as they are written", async () => {
    const f = startBackground("1.32", ["logs", "-f", "ticker", "-c", "main", "--tail=1"]);
    try {
      const first = await until("the first line", () => /line (\d+)/.exec(f.out())?.[1]);
      await until("newer lines", () => {
        const nums = [...f.out().matchAll(/line (\d+)/g)].map((m) => Number(m[1]));
        return nums.length >= 3 && Math.max(...nums) >= Number(first) + 2;
      }, 15_000);
    } finally {
      await f.stop();
    }
  }, 30_000);

  it("--previous shows the last terminated instance after a restart", async () => {
    await until("a restart", async () => Number(await ok("1.32", ["get", "pod", "crash", "-o", "jsonpath={.status.containerStatuses[0].restartCount}"])) >= 1, 30_000);
    const prev = await ok("1.32", ["logs", "crash", "--previous"]);
    expect(prev).toMatch(/^run \d+\n$/);
    const r = await kubectl("1.32", ["logs", "ticker", "-c", "main", "--previous"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('previous terminated container "main" in pod "ticker" not found');
  }, 45_000);

  it("reports bad requests like a real cluster", async () => {
    const a = await kubectl("1.32", ["logs", "ticker", "-c", "nope"]);
    expect(a.stderr).toContain("container nope is not valid for pod ticker");
    const b = await kubectl("1.32", ["logs", "nosuchpod"]);
    expect(b.stderr).toContain('pods "nosuchpod" not found');
    await ok("1.32", ["apply", "-f", "-"], { input: JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name: "unscheduled" }, spec: { schedulerName: "nobody", containers: [{ name: "c", image: "busybox" }] } }) });
    const c = await kubectl("1.32", ["exec", "unscheduled", "--", "true"]);
    expect(c.code).not.toBe(0);
    expect(c.stderr).toContain("pod unscheduled does not have a host assigned");
    await ok("1.32", ["delete", "pod", "unscheduled", "--wait=false"]);
  }, 30_000);
});

describe("kubectl exec / attach / cp (process runtime)", () => {
  for (const [v, env, label] of [["1.32", {}, "WebSocket"], ["1.29", {}, "SPDY"], ["1.32", { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: "false" }, "SPDY forced"]] as const) {
    it(`exec over ${label} (kubectl ${v}): output, stdin, stderr and exit codes`, async () => {
      expect(await ok(v, ["exec", "ticker", "-c", "main", "--", "echo", "hi"], { env })).toBe("hi\n");
      expect(await ok(v, ["exec", "-i", "ticker", "-c", "main", "--", "cat"], { input: "from stdin\n", env })).toBe("from stdin\n");
      const r = await kubectl(v, ["exec", "ticker", "-c", "main", "--", "sh", "-c", "echo oops >&2; exit 3"], { env });
      expect(r.code).toBe(3);
      expect(r.stderr).toContain("oops");
      expect(r.stderr).toContain("command terminated with exit code 3");
      const nf = await kubectl(v, ["exec", "ticker", "-c", "main", "--", "no-such-binary-xyz"], { env });
      expect(nf.code).toBe(127);
    }, 40_000);
  }

  it("exec -it gets a terminal of the client's size (tty + resize, through script(1))", async () => {
    const kubectl132 = join(kubectlDir(), "kubectl.1.32");
    // script(1) gives kubectl a pty; stty sets its size, which kubectl sends as the first resize.
    const inner = `stty rows 33 cols 101; ${kubectl132} --kubeconfig ${tug.kubeconfig} exec -it ticker -c main -- sh -c 'sleep 1; stty size; tty'`;
    const child = spawn("script", ["-qec", inner, "/dev/null"], { env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: join(work, "home-1.32"), TERM: "xterm" }, stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    child.stdout?.on("data", (b: Buffer) => (out += b.toString()));
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
      child.once("close", (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    expect(code).toBe(0);
    expect(out).toContain("33 101\r\n");
    expect(out).toMatch(/\/dev\/pts\/\d+/);
  }, 30_000);

  it("attach streams the container's output", async () => {
    const a = startBackground("1.32", ["attach", "ticker", "-c", "main"]);
    try {
      await until("attached output", () => (a.out().match(/line \d+/g) ?? []).length >= 2, 15_000);
    } finally {
      await a.stop();
    }
    const b = startBackground("1.29", ["attach", "ticker", "-c", "main"]);
    try {
      await until("attached output over SPDY", () => (b.out().match(/line \d+/g) ?? []).length >= 2, 15_000);
    } finally {
      await b.stop();
    }
  }, 40_000);

  it("cp copies a file into the container and back (tar over exec)", async () => {
    const inside = join(work, "inside");
    mkdirSync(inside, { recursive: true });
    const up = join(work, "up.txt");
    writeFileSync(up, "payload for the pod\n");
    await ok("1.32", ["cp", up, `ticker:${inside}/up.txt`, "-c", "main"]);
    expect(readFileSync(join(inside, "up.txt"), "utf8")).toBe("payload for the pod\n");
    writeFileSync(join(inside, "down.txt"), "payload from the pod\n");
    const down = join(work, "down.txt");
    await ok("1.32", ["cp", `ticker:${inside}/down.txt`, down, "-c", "main"]);
    expect(readFileSync(down, "utf8")).toBe("payload from the pod\n");
  }, 40_000);
});

describe("kubectl port-forward (process runtime)", () => {
  for (const [v, env, label] of [["1.32", {}, "SPDY in WebSocket"], ["1.30", {}, "plain SPDY"], ["1.32", { KUBECTL_PORT_FORWARD_WEBSOCKETS: "false" }, "SPDY forced"]] as const) {
    it(`reaches the pod's port over ${label} (kubectl ${v})`, async () => {
      const pf = startBackground(v, ["port-forward", "pod/web", "--address", "127.0.0.1", ":8080"], env);
      try {
        const port = Number(await until("forwarding", () => /Forwarding from 127\.0\.0\.1:(\d+)/.exec(pf.out())?.[1], 15_000));
        expect(await httpGet(port)).toMatch(/^hello from 127\.\d+\.\d+\.\d+\n$/);
        expect(await httpGet(port)).toMatch(/^hello from /);
      } finally {
        await pf.stop();
      }
    }, 30_000);
  }
});

describe("hollow runtime", () => {
  it("kubectl logs and exec work on hollow pods (built-in shell)", async () => {
    await until("hollow output", async () => (await ok("1.32", ["logs", "hol"])) === "hello from hollow\nsecond\n", 15_000);
    expect(await ok("1.32", ["logs", "hol", "--tail=1"])).toBe("second\n");
    expect(await ok("1.32", ["exec", "hol", "--", "echo", "hi"])).toBe("hi\n");
    expect(await ok("1.29", ["exec", "hol", "--", "echo", "hi"])).toBe("hi\n");
    const r = await kubectl("1.32", ["exec", "hol", "--", "sh", "-c", "exit 5"]);
    expect(r.code).toBe(5);
  }, 30_000);
});
