import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isRuntimeError, type RuntimeErrorCode } from "../../runtime/errors.ts";
import { collectingSink, stdinOf } from "../../runtime/streams.ts";
import type { ContainerConfig, ContainerStatus, PodSandboxConfig } from "../../runtime/types.ts";
import { killAllUnder, makeImageRoot, randomPool } from "./_harness.ts";
import { detectLimits } from "./limits.ts";
import { identify } from "./proc.ts";
import { createProcessRuntime, type ProcessRuntime, type ProcessRuntimeOptions } from "./runtime.ts";
import { SHIM_MARKER } from "./shim.ts";

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => Promise<boolean> | boolean, what: string, maxMs = 5000): Promise<void> {
  for (let waited = 0; ; waited += 25) {
    if (await cond()) return;
    if (waited > maxMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

async function expectCode(p: Promise<unknown>, code: RuntimeErrorCode, message?: RegExp): Promise<void> {
  try {
    await p;
  } catch (err) {
    if (!isRuntimeError(err)) throw err;
    expect(err.code, err.message).toBe(code);
    if (message) expect(err.message).toMatch(message);
    return;
  }
  throw new Error(`expected ${code}`);
}

let tmp: string;
let rt: ProcessRuntime;
let opts: ProcessRuntimeOptions;
let seq = 0;

beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), "tug-proc-t-"));
});
afterEach(async () => {
  await rt?.close();
  killAllUnder(join(tmp, "state"));
  rmSync(tmp, { recursive: true, force: true });
});

async function open(extra: Partial<ProcessRuntimeOptions> = {}): Promise<ProcessRuntime> {
  opts = { dataDir: join(tmp, "state"), imageRoot: makeImageRoot(join(tmp, "images")), podAddressPool: randomPool(), ...extra };
  rt = await createProcessRuntime(opts);
  return rt;
}

function sandboxConfig(name = "web"): PodSandboxConfig {
  const uid = `uid-${++seq}`;
  return { metadata: { name, namespace: "default", uid, attempt: 0 }, hostname: name, logDirectory: join(tmp, "logs", `default_${name}_${uid}`), labels: { "io.kubernetes.pod.uid": uid }, annotations: {} };
}

async function run(sid: string, sb: PodSandboxConfig, name: string, c: Partial<ContainerConfig> & { image: { image: string } }, start = true): Promise<string> {
  await rt.pullImage(c.image);
  const id = await rt.createContainer(sid, { metadata: { name, attempt: 0 }, labels: {}, annotations: {}, logPath: `${name}/0.log`, ...c }, sb);
  if (start) await rt.startContainer(id);
  return id;
}

async function exited(id: string): Promise<ContainerStatus> {
  let st!: ContainerStatus;
  await until(async () => (st = await rt.containerStatus(id)).state === "EXITED", `${id} to exit`);
  return st;
}

const logText = (path: string): string[] =>
  readFileSync(path, "utf8").split("\n").filter((l) => l !== "").map((l) => l.split(" ").slice(3).join(" "));

describe("process runtime: pods on loopback addresses", () => {
  it("lets two pods listen on the same port, each on its own address (POD_IP)", async () => {
    await open();
    const server = { image: { image: "tugboat/node" }, args: ["-e", `require("net").createServer((s)=>s.end(process.env.POD_IP+"\\n")).listen(18080, process.env.POD_IP)`] };
    const pods = [];
    for (const name of ["a", "b"]) {
      const sb = sandboxConfig(name);
      const sid = await rt.runPodSandbox(sb);
      await run(sid, sb, "srv", server);
      pods.push({ sid, ip: (await rt.podSandboxStatus(sid)).network!.ip });
    }
    expect(pods[0]!.ip).not.toBe(pods[1]!.ip);
    for (const p of pods) {
      expect(p.ip).toMatch(/^127\./);
      let reply = "";
      await until(async () => {
        try {
          const d = await rt.portForward(p.sid, 18080);
          for await (const chunk of d.readable) reply += Buffer.from(chunk).toString();
          return true;
        } catch (err) {
          if (isRuntimeError(err, "Unavailable")) return false;
          throw err;
        }
      }, `server of ${p.ip}`);
      expect(reply).toBe(`${p.ip}\n`);
      // Plain TCP to the pod address reaches the same server.
      const direct = await new Promise<string>((resolve, reject) => {
        let got = "";
        const s = connect({ host: p.ip, port: 18080 });
        s.on("data", (b) => (got += b.toString()));
        s.on("end", () => resolve(got));
        s.on("error", reject);
      });
      expect(direct).toBe(`${p.ip}\n`);
    }
    await expectCode(rt.portForward(pods[0]!.sid, 18081), "Unavailable", /18081/);
    await rt.stopPodSandbox(pods[0]!.sid);
    await expectCode(rt.portForward(pods[0]!.sid, 18080), "FailedPrecondition");
  });

  it("keeps a pod's address across a restart and never hands it out twice", async () => {
    await open();
    const a = await rt.runPodSandbox(sandboxConfig("a"));
    const ipA = (await rt.podSandboxStatus(a)).network!.ip;
    await rt.close();
    rt = await createProcessRuntime(opts);
    expect((await rt.podSandboxStatus(a)).network!.ip).toBe(ipA);
    const b = await rt.runPodSandbox(sandboxConfig("b"));
    expect((await rt.podSandboxStatus(b)).network!.ip).not.toBe(ipA);
  });

  it("refuses a pod address pool outside 127.0.0.0/8", async () => {
    await expect(open({ podAddressPool: "10.0.0.0/16" })).rejects.toThrow(/127\.0\.0\.0\/8/);
    await expect(open({ podAddressPool: "127.0.0.0/31" })).rejects.toThrow(/prefix length/);
    await expect(open({ podAddressPool: "nope" })).rejects.toThrow(/IPv4 CIDR/);
  });
});

describe("process runtime: images", () => {
  it("refuses host paths unless enabled, and registry images always", async () => {
    await open();
    await expectCode(rt.pullImage({ image: "/bin/echo" }), "ErrImagePull", /allowHostPathImages/);
    await expectCode(rt.pullImage({ image: "nginx:1.25" }), "ErrImagePull", /never pulls from a registry/);
    await expectCode(rt.pullImage({ image: "registry.example.com/team/app:v1" }), "ErrImagePull", /not a built-in image/);
    const sb = sandboxConfig();
    const sid = await rt.runPodSandbox(sb);
    await expectCode(rt.createContainer(sid, { metadata: { name: "c", attempt: 0 }, image: { image: "/bin/echo" }, labels: {}, annotations: {} }, sb), "ImageNotFound");
  });

  it("runs an allowed host path image", async () => {
    await open({ allowHostPathImages: true });
    const sb = sandboxConfig();
    const sid = await rt.runPodSandbox(sb);
    const st = await exited(await run(sid, sb, "echo", { image: { image: "/bin/echo" }, args: ["hello", "host"] }));
    expect(st.exitCode).toBe(0);
    expect(logText(st.logPath!)).toEqual(["hello host"]);
  });

  it("runs images from the image root (executable file or image.json) and reports broken ones", async () => {
    await open();
    const exe = join(tmp, "images", "docker.io", "library", "hello", "1.0");
    mkdirSync(join(exe, ".."), { recursive: true });
    writeFileSync(exe, '#!/bin/sh\necho "hi from $POD_IP in $PWD"\n');
    chmodSync(exe, 0o755);
    const dir = join(tmp, "images", "docker.io", "team", "app", "v2");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "run.sh"), '#!/bin/sh\necho "app $GREETING $*"\n');
    chmodSync(join(dir, "run.sh"), 0o755);
    writeFileSync(join(dir, "image.json"), JSON.stringify({ entrypoint: ["./run.sh"], cmd: ["default-arg"], env: { GREETING: "hey" }, workingDir: "/srv" }));
    const broken = join(tmp, "images", "docker.io", "team", "broken", "latest");
    mkdirSync(broken, { recursive: true });
    writeFileSync(join(broken, "image.json"), "{ nope");

    const sb = sandboxConfig();
    const sid = await rt.runPodSandbox(sb);
    const ip = (await rt.podSandboxStatus(sid)).network!.ip;
    const hello = await exited(await run(sid, sb, "hello", { image: { image: "hello:1.0" } }));
    expect(logText(hello.logPath!)[0]).toMatch(new RegExp(`^hi from ${ip.replaceAll(".", "\\.")} in ${tmp}/state/sandboxes/${sid}/containers/[0-9a-f]+/rootfs$`));
    const app = await exited(await run(sid, sb, "app", { image: { image: "team/app:v2" } }));
    expect(logText(app.logPath!)).toEqual(["app hey default-arg"]);
    const app2 = await exited(await run(sid, sb, "app2", { image: { image: "team/app:v2" }, args: ["x", "y"] }));
    expect(logText(app2.logPath!)).toEqual(["app hey x y"]);
    await expectCode(rt.pullImage({ image: "team/broken" }), "ErrImagePull", /not valid JSON/);
  });

  it("fails a start with ContainerCannotRun when the command does not exist", async () => {
    await open();
    const sb = sandboxConfig();
    const sid = await rt.runPodSandbox(sb);
    const id = await run(sid, sb, "bad", { image: { image: "busybox" }, command: ["no-such-command-xyz"] }, false);
    await expectCode(rt.startContainer(id), "FailedPrecondition", /executable file not found/);
    const st = await rt.containerStatus(id);
    expect(st).toMatchObject({ state: "EXITED", reason: "ContainerCannotRun", exitCode: 128 });
    expect(st.message).toMatch(/no-such-command-xyz/);
  });
});

describe("process runtime: containers", () => {
  it("gives a container its own working dir, env and pod IP", async () => {
    await open();
    const sb = sandboxConfig("envpod");
    const sid = await rt.runPodSandbox(sb);
    const ip = (await rt.podSandboxStatus(sid)).network!.ip;
    const st = await exited(
      await run(sid, sb, "env", {
        image: { image: "busybox" },
        command: ["sh", "-c", 'echo "$PWD|$FOO|$POD_IP|$HOSTNAME|$SECRET_ENV"'],
        workingDir: "/app",
        envs: [{ key: "FOO", value: "bar baz" }],
      }),
    );
    const [pwd, foo, podIp, host, leaked] = logText(st.logPath!)[0]!.split("|");
    expect(pwd).toMatch(/\/rootfs\/app$/);
    expect(pwd!.startsWith(join(tmp, "state", "sandboxes", sid))).toBe(true);
    expect([foo, podIp, host, leaked]).toEqual(["bar baz", ip, "envpod", ""]);
  });

  it("attaches stdin (stdinOnce: EOF ends cat)", async () => {
    await open();
    const sb = sandboxConfig();
    const sid = await rt.runPodSandbox(sb);
    const id = await run(sid, sb, "cat", { image: { image: "busybox" }, command: ["cat"], stdin: true, stdinOnce: true });
    const out = collectingSink();
    const s = await rt.attach(id, { tty: false, stdout: out, stdin: stdinOf("hello\n", "world\n") });
    expect((await s.exit).exitCode).toBe(0);
    expect(out.text()).toBe("hello\nworld\n");
    const st = await exited(id);
    expect(logText(st.logPath!)).toEqual(["hello", "world"]);
  });

  it("execs with a terminal that can be resized, and reports unknown commands", async () => {
    await open();
    if (!rt.capabilities.execTty) return; // declared: no `script` on this host
    const sb = sandboxConfig();
    const sid = await rt.runPodSandbox(sb);
    const id = await run(sid, sb, "app", { image: { image: "busybox" }, command: ["sleep", "30"] });
    const out = collectingSink();
    const s = await rt.exec(id, ["sh", "-c", "sleep 0.3; stty size"], { tty: true, stdout: out });
    s.resize({ width: 100, height: 30 });
    expect((await s.exit).exitCode).toBe(0);
    expect(out.text().trim()).toBe("30 100");
    const err = collectingSink();
    const bad = await rt.exec(id, ["no-such-command-xyz"], { tty: false, stderr: err });
    expect((await bad.exit).exitCode).toBe(127);
    expect(err.text()).toMatch(/executable file not found/);
    // An exec'd process dies with its container.
    const long = await rt.exec(id, ["sleep", "30"], { tty: false });
    await rt.stopContainer(id, 0);
    expect((await long.exit).exitCode).toBe(137);
  });
});

describe("process runtime: limits", () => {
  it("detects the mode and says so in status()", async () => {
    await open();
    const st = await rt.status();
    expect(st.limits.mode).toBe(detectLimits().mode);
    expect(st.conditions.find((c) => c.type === "RuntimeReady")?.message).toBe(st.limits.message);
    if (st.limits.mode !== "cgroup-v2") expect(st.limits.message).toMatch(/cpu limits cannot be applied/);
  });

  it("falls back to rlimit without cgroup v2 controllers, and honours mode none", () => {
    const fake = join(tmp, "cg2");
    mkdirSync(fake);
    writeFileSync(join(fake, "cgroup.subtree_control"), "");
    const mountinfo = `30 23 0:26 / ${fake} rw,nosuid - cgroup2 cgroup2 rw\n`;
    const l = detectLimits({ mountinfo });
    expect(l).toMatchObject({ mode: "rlimit", cpu: false, memory: true, oomKill: true });
    expect(l.message).toMatch(/does not offer the cpu and memory controllers/);
    expect(detectLimits({ mountinfo: "" }).message).toMatch(/no cgroup v2 filesystem/);
    expect(detectLimits({ mode: "none" })).toMatchObject({ mode: "none", memory: false, oomKill: false });
    expect(detectLimits({ cgroupRoot: join(tmp, "not-a-cgroup") }).message).toMatch(/not a cgroup v2 directory/);
  });

  it("writes cgroup v2 limits, places the shim in the cgroup and reports OOM kills from memory.events", async () => {
    // A directory shaped like a delegated cgroup v2 subtree (the kernel is not involved).
    const cg = join(tmp, "cgroot");
    mkdirSync(cg);
    writeFileSync(join(cg, "cgroup.controllers"), "cpu io memory pids\n");
    writeFileSync(join(cg, "cgroup.subtree_control"), "cpu memory\n");
    await open({ limits: { cgroupRoot: cg } });
    expect(rt.limits).toMatchObject({ mode: "cgroup-v2", cpu: true, memory: true, cgroupRoot: cg });
    const sb = sandboxConfig();
    const sid = await rt.runPodSandbox(sb);
    const id = await run(sid, sb, "limited", {
      image: { image: "busybox" },
      command: ["sleep", "30"],
      resources: { memoryBytesLimit: 100 * 1024 * 1024, cpuMillisLimit: 500, cpuMillisRequest: 250 },
    });
    const dir = join(cg, id);
    expect(readFileSync(join(dir, "memory.max"), "utf8")).toBe(String(100 * 1024 * 1024));
    expect(readFileSync(join(dir, "cpu.max"), "utf8")).toBe("50000 100000");
    expect(Number(readFileSync(join(dir, "cpu.weight"), "utf8"))).toBeGreaterThan(1);
    await until(() => {
      try {
        const shimPid = readFileSync(join(tmp, "state", "sandboxes", sid, "containers", id, "shim.pid"), "utf8").trim();
        return shimPid !== "" && readFileSync(join(dir, "cgroup.procs"), "utf8").trim() === shimPid;
      } catch {
        return false; // not written yet
      }
    }, "the shim to join its cgroup");
    writeFileSync(join(dir, "memory.events"), "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n");
    await rt.stopContainer(id, 0);
    expect(await rt.containerStatus(id)).toMatchObject({ state: "EXITED", exitCode: 137, reason: "OOMKilled" });
  });

  it("OOM-kills a container over its memory limit (real enforcement on this host)", async () => {
    await open();
    const sb = sandboxConfig();
    const sid = await rt.runPodSandbox(sb);
    const st = await exited(await run(sid, sb, "hog", { image: { image: "tugboat/node" }, args: ["-e", "const a=[];setInterval(()=>a.push(Buffer.alloc(2<<20,1)),20)"], resources: { memoryBytesLimit: 80 * 1024 * 1024 } }));
    expect(st).toMatchObject({ exitCode: 137, reason: "OOMKilled" });
    expect(st.finishedAt! - st.startedAt!).toBeLessThan(5000);
  });
});

describe("process runtime: agent restarts", () => {
  it("adopts containers of a killed agent, records exits that happened meanwhile, kills orphans", async () => {
    const dataDir = join(tmp, "state");
    const logDirectory = join(tmp, "logs", "survivor");
    opts = { dataDir, podAddressPool: randomPool() };
    const agent = spawn(process.execPath, ["--import", "tsx", join(import.meta.dirname, "_agent_fixture.ts"), JSON.stringify({ ...opts, logDirectory })], { stdio: ["ignore", "pipe", "inherit"] });
    const ids = await new Promise<{ sid: string; ticker: string; short: string }>((resolve, reject) => {
      let buf = "";
      agent.stdout!.on("data", (b) => {
        buf += b.toString();
        if (buf.includes("\n")) resolve(JSON.parse(buf.split("\n")[0]!));
      });
      agent.once("exit", (code) => reject(new Error(`agent exited early (${code})`)));
    });
    agent.kill("SIGKILL");
    await new Promise((r) => agent.once("exit", r));
    // An orphan: a shim under the data dir that no record owns.
    const orphan = spawn("/bin/sh", ["-c", "sleep 30", SHIM_MARKER, join(dataDir, "sandboxes", "gone", "containers", "gone")], { detached: true, stdio: "ignore" });
    await new Promise((r) => orphan.once("spawn", r));
    await sleep(600); // "short" exits (7) while no agent runs

    rt = await createProcessRuntime(opts);
    await until(() => identify(orphan.pid!) === undefined, "the orphan to be killed");
    const list = await rt.listContainers();
    expect(list.map((c) => c.id).sort()).toEqual([ids.ticker, ids.short].sort());
    expect(await rt.listPodSandboxes()).toHaveLength(1);
    const short = await exited(ids.short);
    expect(short).toMatchObject({ exitCode: 7, reason: "Error" });
    expect((await rt.containerStatus(ids.ticker)).state).toBe("RUNNING");
    const path = (await rt.containerStatus(ids.ticker)).logPath!;
    const before = logText(path).length;
    await until(() => logText(path).length > before + 3, "the adopted ticker's log to grow");
    const ticks = logText(path).map((l) => Number(l.split(" ")[1]));
    // Nothing duplicated and no gap across the restart. The agent is SIGKILLed right after the ticker
    // starts: a chunk it had read from the FIFO but not yet written is gone with it (the agent, not
    // the shim, writes the CRI log; docs/process-runtime.md), so the log may start at tick 1 or 2.
    expect(ticks[0]).toBeLessThanOrEqual(2);
    expect(ticks).toEqual(ticks.map((_, i) => (ticks[0] ?? 0) + i));
    await rt.stopContainer(ids.ticker, 2);
    const st = await rt.containerStatus(ids.ticker);
    expect(st.state).toBe("EXITED");
    expect(st.exitCode).toBe(143);
    await rt.removePodSandbox(ids.sid);
    expect(await rt.listContainers()).toEqual([]);
  });
});
