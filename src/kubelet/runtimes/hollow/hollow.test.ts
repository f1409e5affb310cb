import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FakeClock } from "../../runtime/clock.ts";
import { isRuntimeError, RuntimeError } from "../../runtime/errors.ts";
import { collectingSink, execSync, stdinOf } from "../../runtime/streams.ts";
import { TimerQueue } from "../../runtime/timers.ts";
import type { ContainerConfig, PodSandboxConfig } from "../../runtime/types.ts";
import { HollowHost, type HollowHostOptions } from "./host.ts";
import { HollowRuntime } from "./runtime.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

let seq = 0;
function sandbox(name = "p", logDirectory?: string): PodSandboxConfig {
  const uid = `u${++seq}`;
  return {
    metadata: { name, namespace: "ns", uid, attempt: 0 },
    labels: { "io.kubernetes.pod.uid": uid },
    annotations: {},
    ...(logDirectory !== undefined ? { logDirectory } : {}),
  };
}
function ctr(name: string, image: string, extra: Partial<ContainerConfig> = {}): ContainerConfig {
  return { metadata: { name, attempt: 0 }, image: { image }, labels: {}, annotations: {}, ...extra };
}

function setup(opts: HollowHostOptions = {}) {
  const clock = new FakeClock();
  const timers = new TimerQueue(clock);
  const rt = new HollowRuntime(new HollowHost({ timers, ...opts }));
  return { clock, timers, rt };
}

/** Sandbox + pulled image + created (and started) container. */
async function run(rt: HollowRuntime, image: string, extra: Partial<ContainerConfig> = {}, start = true) {
  const sc = sandbox();
  const sid = await rt.runPodSandbox(sc);
  await rt.pullImage({ image });
  const id = await rt.createContainer(sid, ctr("c", image, extra), sc);
  if (start) await rt.startContainer(id);
  return { sid, sc, id };
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (isRuntimeError(e)) return e.code;
    throw e;
  }
  return "ok";
}

const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

describe("hollow: timing with a fake clock", () => {
  it("applies start latency and seeded jitter deterministically", async () => {
    const startedAt = async (seed: number): Promise<number[]> => {
      const { clock, rt } = setup({ seed, startLatencyMs: 100, startJitterMs: 50 });
      const t0 = clock.now();
      const out: number[] = [];
      for (let i = 0; i < 5; i++) {
        const { id } = await run(rt, "hollow/sleep", {}, false);
        let done = false;
        const p = rt.startContainer(id).then(() => (done = true));
        await flush();
        expect(done).toBe(false);
        expect((await rt.containerStatus(id)).state).toBe("CREATED");
        clock.advance(150);
        await p;
        out.push((await rt.containerStatus(id)).startedAt! - t0 - i * 150);
      }
      return out;
    };
    const a = await startedAt(7);
    expect(a.every((ms) => ms >= 100 && ms < 150)).toBe(true);
    expect(await startedAt(7)).toEqual(a);
    expect(await startedAt(8)).not.toEqual(a);
  });

  it("delays sandboxes and pulls by the configured latency", async () => {
    const { clock, rt } = setup({ sandboxLatencyMs: 300, pullLatencyMs: 1000 });
    const t0 = clock.now();
    const sid = rt.runPodSandbox(sandbox());
    clock.advance(300);
    expect(typeof (await sid)).toBe("string");
    const pull = rt.pullImage({ image: "nginx" });
    clock.advance(999);
    await flush();
    expect(await rt.imageStatus({ image: "nginx" })).toBeUndefined();
    clock.advance(1);
    expect(await pull).toMatch(/^sha256:/);
    expect(clock.now() - t0).toBe(1300);
    // A present image pulls without delay.
    expect(await rt.pullImage({ image: "nginx" })).toMatch(/^sha256:/);
  });

  it("produces a crash loop: each attempt exits 1 after its run time", async () => {
    const { clock, rt } = setup();
    const sc = sandbox();
    const sid = await rt.runPodSandbox(sc);
    await rt.pullImage({ image: "hollow/crash:100" });
    const exits: { attempt: number; code: number | undefined; reason: string | undefined; ran: number }[] = [];
    for (let attempt = 0; attempt < 5; attempt++) {
      const id = await rt.createContainer(sid, { ...ctr("c", "hollow/crash:100"), metadata: { name: "c", attempt } }, sc);
      await rt.startContainer(id);
      clock.advance(99);
      expect((await rt.containerStatus(id)).state).toBe("RUNNING");
      clock.advance(1);
      const st = await rt.containerStatus(id);
      exits.push({ attempt, code: st.exitCode, reason: st.reason, ran: st.finishedAt! - st.startedAt! });
      clock.advance(1000); // the kubelet's back-off
    }
    expect(exits).toEqual([0, 1, 2, 3, 4].map((attempt) => ({ attempt, code: 1, reason: "Error", ran: 100 })));
    expect((await rt.listContainers({ podSandboxId: sid, state: "EXITED" })).length).toBe(5);
  });

  it("OOM-kills with 137 / OOMKilled", async () => {
    const { clock, rt } = setup();
    const { id } = await run(rt, "hollow/oom:250");
    clock.advance(250);
    expect(await rt.containerStatus(id)).toMatchObject({ state: "EXITED", exitCode: 137, reason: "OOMKilled" });
  });

  it("completes Job-style containers and honours slow stops", async () => {
    const { clock, rt } = setup();
    const job = await run(rt, "hollow/run:5000");
    clock.advance(5000);
    expect(await rt.containerStatus(job.id)).toMatchObject({ exitCode: 0, reason: "Completed" });

    const slow = await run(rt, "hollow/slow-stop:700");
    const stopped = rt.stopContainer(slow.id, 5);
    clock.advance(700);
    await stopped;
    const st = await rt.containerStatus(slow.id);
    expect(st).toMatchObject({ exitCode: 0, reason: "Completed" });
    expect(st.finishedAt! - clock.now()).toBe(0);

    const killed = await run(rt, "hollow/slow-stop:700");
    const p = rt.stopContainer(killed.id, 0.2);
    clock.advance(200);
    await p;
    expect(await rt.containerStatus(killed.id)).toMatchObject({ exitCode: 137, reason: "Error" });
    clock.advance(1000); // the cancelled SIGTERM exit must not fire again
    expect((await rt.containerStatus(killed.id)).exitCode).toBe(137);
  });

  it("reports a start failure as ContainerCannotRun (128) and rejects the start", async () => {
    const { rt } = setup();
    const { id } = await run(rt, "hollow/cannot-run", {}, false);
    const err = await rt.startContainer(id).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RuntimeError);
    expect((err as RuntimeError).code).toBe("FailedPrecondition");
    expect(await rt.containerStatus(id)).toMatchObject({ state: "EXITED", exitCode: 128, reason: "ContainerCannotRun", message: expect.stringMatching(/could not be started/) });
  });

  it("rejects a pending start when the container or sandbox goes away", async () => {
    const { clock, rt } = setup({ startLatencyMs: 100 });
    const a = await run(rt, "hollow/sleep", {}, false);
    const pa = rt.startContainer(a.id);
    expect(await code(rt.startContainer(a.id))).toBe("FailedPrecondition"); // already starting
    await rt.removeContainer(a.id);
    expect(await code(pa)).toBe("NotFound");
    const b = await run(rt, "hollow/sleep", {}, false);
    const pb = rt.startContainer(b.id);
    await rt.stopPodSandbox(b.sid);
    expect(await code(pb)).toBe("FailedPrecondition");
    clock.advance(1000);
    expect((await rt.containerStatus(b.id)).state).toBe("CREATED");
  });
});

describe("hollow: on the real clock", () => {
  it("runs on the process-wide timer queue by default", async () => {
    const rt = new HollowRuntime();
    const { id } = await run(rt, "hollow/run:20");
    const t0 = Date.now();
    for (let i = 0; i < 200 && (await rt.containerStatus(id)).state !== "EXITED"; i++) await new Promise((r) => setTimeout(r, 5));
    const st = await rt.containerStatus(id);
    expect(st).toMatchObject({ state: "EXITED", exitCode: 0 });
    expect(st.finishedAt! - st.startedAt!).toBeGreaterThanOrEqual(19);
    expect(Date.now() - t0).toBeLessThan(1000);
    await rt.close();
  });
});

describe("hollow: scale", () => {
  it("serves thousands of containers on many nodes with one timer, and idle ones with none", async () => {
    const clock = new FakeClock();
    const timers = new TimerQueue(clock);
    const nodes = Array.from({ length: 100 }, (_, i) => new HollowRuntime(new HollowHost({ timers, nodeName: `n${i}`, seed: i })));
    const images = ["hollow/sleep", "hollow/crash:2000", "hollow/run:3000"];
    const ids: { rt: HollowRuntime; id: string; image: string }[] = [];
    for (const rt of nodes) {
      for (const image of images) await rt.pullImage({ image });
      for (let p = 0; p < 10; p++) {
        const sc = sandbox(`pod${p}`);
        const sid = await rt.runPodSandbox(sc);
        for (let c = 0; c < 3; c++) {
          const image = images[c]!;
          const id = await rt.createContainer(sid, ctr(`c${c}`, image), sc);
          await rt.startContainer(id);
          ids.push({ rt, id, image });
        }
      }
    }
    expect(ids.length).toBe(3000);
    expect(clock.pendingTimers()).toBe(1);
    expect(timers.size).toBe(2000); // the 1000 sleepers hold no timer
    clock.advance(2000);
    expect(timers.size).toBe(1000);
    clock.advance(1000);
    expect(timers.size).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
    const states = { RUNNING: 0, EXITED: 0 } as Record<string, number>;
    for (const x of ids) states[(await x.rt.containerStatus(x.id)).state] = (states[(await x.rt.containerStatus(x.id)).state] ?? 0) + 1;
    expect(states).toEqual({ RUNNING: 1000, EXITED: 2000 });
  });
});

describe("hollow: logs, exec and the rest", () => {
  it("writes lifecycle and program lines when logs are on, nothing when off", async () => {
    const logDir = mkdtempSync(join(tmpdir(), "tug-hollow-"));
    dirs.push(logDir);
    for (const logs of ["lifecycle", "off"] as const) {
      const { rt } = setup({ logs });
      const sc = sandbox("p", join(logDir, logs));
      const sid = await rt.runPodSandbox(sc);
      await rt.pullImage({ image: "busybox" });
      const id = await rt.createContainer(sid, ctr("c", "busybox", { command: ["sh", "-c", "echo hi; exit 2"], logPath: "c/0.log" }), sc);
      await rt.startContainer(id);
      const path = (await rt.containerStatus(id)).logPath!;
      if (logs === "off") {
        expect(() => readFileSync(path)).toThrow(/ENOENT/);
        continue;
      }
      const lines = readFileSync(path, "utf8").trim().split("\n");
      expect(lines.length).toBe(3);
      expect(lines[0]).toMatch(/ stdout F hollow: started c \(image busybox/);
      expect(lines[1]).toMatch(/ stdout F hi$/);
      expect(lines[2]).toMatch(/ stdout F hollow: exited with code 2 \(Error\)$/);
    }
  });

  it("runs exec builtins with the container's env, hostname and working dir", async () => {
    const { rt } = setup();
    const sc = { ...sandbox("web"), hostname: "web-0" };
    const sid = await rt.runPodSandbox(sc);
    await rt.pullImage({ image: "hollow/sleep" });
    const id = await rt.createContainer(sid, ctr("c", "hollow/sleep", { envs: [{ key: "A", value: "1" }, { key: "B", value: "two" }], workingDir: "/srv" }), sc);
    await rt.startContainer(id);
    expect(await execSync(rt, id, ["hostname"])).toEqual({ stdout: "web-0\n", stderr: "", exitCode: 0 });
    expect(await execSync(rt, id, ["env"])).toMatchObject({ stdout: "A=1\nB=two\n" });
    expect(await execSync(rt, id, ["printenv", "B"])).toMatchObject({ stdout: "two\n", exitCode: 0 });
    expect(await execSync(rt, id, ["printenv", "NOPE"])).toMatchObject({ stdout: "", exitCode: 1 });
    expect(await execSync(rt, id, ["sh", "-c", "pwd && false || echo fallback"])).toMatchObject({ stdout: "/srv\nfallback\n", exitCode: 0 });
    expect(await execSync(rt, id, ["nosuch", "arg"])).toEqual({ stdout: "", stderr: "nosuch: command not found\n", exitCode: 127 });
    expect(await execSync(rt, id, ["sh", "-c", "echo 'x"])).toMatchObject({ exitCode: 2, stderr: expect.stringMatching(/unterminated/) });
    expect(await execSync(rt, id, ["cat", "/etc/passwd"])).toMatchObject({ exitCode: 1 });
    expect(await execSync(rt, id, ["cat"], { stdin: stdinOf("in") })).toMatchObject({ stdout: "in", exitCode: 0 });
  });

  it("runs exec sleeps on the fake clock, times out execSync, and ends execs when the container dies", async () => {
    const { clock, rt } = setup();
    const { id } = await run(rt, "hollow/sleep");
    const out = collectingSink();
    const s = await rt.exec(id, ["sh", "-c", "sleep 2; echo woke"], { tty: false, stdout: out });
    clock.advance(1999);
    await flush();
    expect(out.text()).toBe("");
    clock.advance(1);
    expect(await s.exit).toEqual({ exitCode: 0 });
    expect(out.text()).toBe("woke\n");

    const slow = execSync(rt, id, ["sleep", "10"], { timeoutMs: 500, clock });
    await flush();
    clock.advance(500);
    expect(await code(slow)).toBe("DeadlineExceeded");

    const long = await rt.exec(id, ["sleep", "infinity"], { tty: false });
    await rt.stopContainer(id, 0);
    expect(await long.exit).toMatchObject({ exitCode: 137 });

    const { id: id2 } = await run(rt, "hollow/sleep");
    const closed = await rt.exec(id2, ["sleep", "infinity"], { tty: false });
    closed.close();
    expect(await closed.exit).toMatchObject({ exitCode: 137, message: expect.stringMatching(/closed/) });
  });

  it("attaches to output and detaches on close", async () => {
    const { clock, rt } = setup();
    const { id } = await run(rt, "hollow/ticker:100");
    const out = collectingSink();
    const s = await rt.attach(id, { tty: true, stdout: out, stdin: stdinOf("ignored") });
    clock.advance(300);
    await flush();
    expect(out.text()).toBe("tick\r\n".repeat(3));
    s.close();
    expect(await s.exit).toMatchObject({ exitCode: 0, message: "detached" });
    clock.advance(300);
    await flush();
    expect(out.text()).toBe("tick\r\n".repeat(3));
  });

  it("reports NetworkReady=false when told, and runs out of pod IPs with a clear error", async () => {
    const { rt } = setup({ podCidr: "10.1.2.0/30" });
    rt.setNetworkReady(false);
    expect((await rt.status()).conditions.find((c) => c.type === "NetworkReady")).toMatchObject({ status: false, reason: "NetworkPluginNotReady" });
    const a = await rt.runPodSandbox(sandbox("a"));
    await rt.runPodSandbox(sandbox("b"));
    expect((await rt.podSandboxStatus(a)).network?.ip).toBe("10.1.2.1");
    const err = await rt.runPodSandbox(sandbox("c")).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "Unavailable", message: expect.stringMatching(/no pod IP left in 10.1.2.0\/30/) });
    await rt.stopPodSandbox(a); // releases its IP
    expect(typeof (await rt.runPodSandbox(sandbox("c")))).toBe("string");
  });

  it("starts with preloaded images (no pull needed), even unpullable ones", async () => {
    const { rt } = setup({ preloadedImages: ["registry.k8s.io/pause:3.9", "hollow/fail-pull"] });
    expect((await rt.listImages()).map((i) => i.repoTags[0]).sort()).toEqual(["docker.io/hollow/fail-pull:latest", "registry.k8s.io/pause:3.9"]);
    const sc = sandbox();
    const sid = await rt.runPodSandbox(sc);
    const id = await rt.createContainer(sid, ctr("c", "hollow/fail-pull"), sc);
    await rt.startContainer(id);
    expect((await rt.containerStatus(id)).state).toBe("RUNNING");
  });

  it("rejects bad host options with InvalidArgument", () => {
    expect(() => new HollowHost({ podCidr: "10.0.0.0" })).toThrow(/podCidr/);
    expect(() => new HollowHost({ podCidr: "10.0.0.0/31" })).toThrow(/podCidr/);
    expect(() => new HollowHost({ startLatencyMs: -1 })).toThrow(/startLatencyMs/);
    expect(() => new HollowHost({ pullLatencyMs: Number.NaN })).toThrow(/pullLatencyMs/);
    expect(() => new HollowHost({ preloadedImages: ["Bad Image"] })).toThrow(/invalid image reference/);
  });

  it("refuses everything once closed (Unavailable) and ends event streams", async () => {
    const { rt } = setup();
    const it = rt.events()[Symbol.asyncIterator]();
    const next = it.next();
    await rt.close();
    expect((await next).done).toBe(true);
    expect(await code(rt.version())).toBe("Unavailable");
    expect(await code(rt.listPodSandboxes())).toBe("Unavailable");
    expect((await rt.events()[Symbol.asyncIterator]().next()).done).toBe(true);
  });
});
