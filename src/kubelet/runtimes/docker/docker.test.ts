/**
 * The docker runtime against a real, private dockerd (test/support/dockerd.ts), one per file:
 * the shared conformance suite, then what only Docker shows (shared localhost in a pod, a real
 * OOM kill, Docker's pull error, adoption after an agent restart, config mapping).
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { runRuntimeConformance } from "../../runtime/conformance.ts";
import { isRuntimeError } from "../../runtime/errors.ts";
import { parseCriRecord, recordText } from "../../runtime/logs.ts";
import { collectingSink, execSync, stdinOf } from "../../runtime/streams.ts";
import type { ContainerConfig, PodSandboxConfig } from "../../runtime/types.ts";
import { type Dockerd, dockerSkipReason } from "../../../../test/support/dockerd.ts";
import { DOCKER_RECIPES, dockerFactory, IMAGES, runtimeOptions, sharedDockerd, stopSharedDockerd } from "./_harness.ts";
import { createDockerRuntime, DOCKER_CAPABILITIES, type DockerRuntime } from "./runtime.ts";

const skip = dockerSkipReason("docker runtime tests");

async function rejection(p: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error("expected a rejection");
}

let seq = 0;

function sandboxConfig(logRoot: string, name = "pod"): PodSandboxConfig {
  const uid = `d-${process.pid}-${++seq}`;
  return {
    metadata: { name, namespace: "default", uid, attempt: 0 },
    logDirectory: join(logRoot, `default_${name}_${uid}`),
    labels: { "io.kubernetes.pod.uid": uid },
    annotations: {},
  };
}

function containerConfig(name: string, command: readonly string[], extra: Partial<ContainerConfig> = {}): ContainerConfig {
  return { metadata: { name, attempt: 0 }, image: { image: IMAGES.busybox }, command, labels: {}, annotations: {}, logPath: `${name}/0.log`, ...extra };
}

const lines = (path: string): string[] =>
  readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => recordText(parseCriRecord(new TextEncoder().encode(l))));

async function until(cond: () => Promise<boolean> | boolean, what: string, maxMs = 10_000): Promise<void> {
  const end = Date.now() + maxMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

if (skip === undefined) {
  afterAll(stopSharedDockerd);

  runRuntimeConformance("docker", dockerFactory, DOCKER_CAPABILITIES);

  describe("docker runtime on a real dockerd", () => {
    let d: Dockerd;
    let rt: DockerRuntime;
    let logRoot: string;

    beforeAll(async () => {
      d = await sharedDockerd();
    });
    afterEach(async () => {
      await rt?.close();
      await d.removeAllContainers();
      if (logRoot !== undefined) rmSync(logRoot, { recursive: true, force: true });
    });

    const setup = async (): Promise<void> => {
      logRoot = mkdtempSync(join(tmpdir(), "tug-docker-"));
      await d.docker.getImage(IMAGES.busybox).inspect().catch(() => d.docker.getImage(IMAGES.keep).tag({ repo: "tug-test/busybox", tag: "latest" }));
      rt = await createDockerRuntime(runtimeOptions(d));
    };

    /** Creates and starts a container; returns its id. */
    const run = async (sandboxId: string, sc: PodSandboxConfig, c: ContainerConfig): Promise<string> => {
      const id = await rt.createContainer(sandboxId, c, sc);
      await rt.startContainer(id);
      return id;
    };

    it("fails to start on an unreachable host with Unavailable naming the socket", async () => {
      const err = await rejection(createDockerRuntime({ host: "unix:///tmp/tug-no-such-docker.sock", connectTimeoutMs: 500 }));
      expect(isRuntimeError(err, "Unavailable")).toBe(true);
      expect(err.message).toContain("unix:///tmp/tug-no-such-docker.sock");
      const bad = await rejection(createDockerRuntime({ host: "http://example" }));
      expect(isRuntimeError(bad, "InvalidArgument")).toBe(true);
    });

    it("lets the containers of a pod talk over localhost", async () => {
      await setup();
      const sc = sandboxConfig(logRoot);
      const sb = await rt.runPodSandbox(sc);
      await run(sb, sc, containerConfig("server", ["nc", "-ll", "-p", "9000", "-e", "echo", "from-the-server"]));
      const client = await run(sb, sc, containerConfig("client", ["sleep", "3600"]));
      let out = "";
      await until(async () => {
        out = (await execSync(rt, client, ["nc", "127.0.0.1", "9000"], { timeoutMs: 3000 }).catch(() => ({ stdout: "" }))).stdout;
        return out.includes("from-the-server");
      }, "the server to answer on localhost");
      // Another pod does not share that localhost.
      const other = sandboxConfig(logRoot, "other");
      const osb = await rt.runPodSandbox(other);
      const stranger = await run(osb, other, containerConfig("stranger", ["sleep", "3600"]));
      const r = await execSync(rt, stranger, ["nc", "127.0.0.1", "9000"], { timeoutMs: 3000 });
      expect(r.stdout).not.toContain("from-the-server");
    });

    it("reports a container over its 16 MiB memory limit as OOMKilled with 137, and applies CPU limits", async () => {
      await setup();
      const sc = sandboxConfig(logRoot);
      const sb = await rt.runPodSandbox(sc);
      const hog = await run(sb, sc, containerConfig("hog", ["sh", "-c", "head -c 67108864 /dev/zero | tail"], {
        resources: { memoryBytesLimit: 16 * 1024 * 1024, cpuMillisRequest: 250, cpuMillisLimit: 500 },
      }));
      const hc = (await d.docker.getContainer(hog).inspect()) as unknown as { HostConfig: Record<string, unknown> };
      expect(hc.HostConfig).toMatchObject({ Memory: 16 * 1024 * 1024, CpuShares: 256, CpuPeriod: 100_000, CpuQuota: 50_000, Init: true, Privileged: false });
      await until(async () => (await rt.containerStatus(hog)).state === "EXITED", "the OOM kill");
      const st = await rt.containerStatus(hog);
      expect(st.exitCode).toBe(137);
      expect(st.reason).toBe("OOMKilled");
      expect(st.resources).toEqual({ memoryBytesLimit: 16 * 1024 * 1024, cpuMillisRequest: 250, cpuMillisLimit: 500 });
    });

    it("fails a pull of an absent image with ErrImagePull carrying Docker's message", async () => {
      await setup();
      const err = await rejection(rt.pullImage({ image: DOCKER_RECIPES.missingImage }));
      expect(isRuntimeError(err, "ErrImagePull")).toBe(true);
      // Docker's own words (the registry is a loopback port inside the daemon's namespace where nothing listens).
      expect(err.message).toMatch(/^failed to pull image "127\.0\.0\.1:5\/tug-test\/missing:latest": .*127\.0\.0\.1:5.*connection refused/);
      console.info(`[docker] ErrImagePull message: ${err.message}`);
    });

    it("adopts running containers after an agent restart: same ids, no duplicates, logs continue without repeats", async () => {
      await setup();
      const sc = sandboxConfig(logRoot);
      const sb = await rt.runPodSandbox(sc);
      const ticker = await run(sb, sc, containerConfig("ticker", ["sh", "-c", "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.05; done"]));
      const logPath = (await rt.containerStatus(ticker)).logPath!;
      await until(() => lines(logPath).length >= 5, "5 ticks");
      await rt.close();
      await new Promise((r) => setTimeout(r, 300)); // the agent is down: ticks go only to Docker's log
      rt = await createDockerRuntime(runtimeOptions(d));
      expect((await rt.listPodSandboxes()).map((s) => s.id)).toEqual([sb]);
      expect((await rt.listContainers()).map((c) => `${c.id}:${c.state}`)).toEqual([`${ticker}:RUNNING`]);
      expect(isRuntimeError(await rejection(rt.runPodSandbox(sc)), "AlreadyExists")).toBe(true);
      expect(isRuntimeError(await rejection(rt.createContainer(sb, containerConfig("ticker", ["true"]), sc)), "AlreadyExists")).toBe(true);
      const before = lines(logPath).length;
      await until(() => lines(logPath).length >= before + 5, "ticks after the restart");
      await rt.stopContainer(ticker, 1);
      const ticks = lines(logPath).map((l) => Number(l.split(" ")[1]));
      // Every tick exactly once, in order, including those printed while the agent was down.
      expect(ticks).toEqual(ticks.map((_, i) => i));
      expect((await d.docker.listContainers({ all: true })).length).toBe(2);
    });

    it("maps command, args, env, workingDir, mounts and the security context", async () => {
      await setup();
      const host = mkdtempSync(join(tmpdir(), "tug-mount-"));
      chmodSync(host, 0o755); // readable by the container's user 65534
      try {
        writeFileSync(join(host, "in.txt"), "from-host\n");
        const sc = sandboxConfig(logRoot);
        const sb = await rt.runPodSandbox(sc);
        const id = await run(sb, sc, containerConfig("app", ["sh", "-c"], {
          args: ['echo "$GREETING $(pwd) $(id -u):$(id -g)"; cat /data/in.txt; touch /rootfs-write 2>/dev/null || echo read-only; sleep 3600'],
          envs: [{ key: "GREETING", value: "hello world" }],
          workingDir: "/tmp",
          mounts: [{ hostPath: host, containerPath: "/data", readonly: true }],
          securityContext: { runAsUser: 65534, runAsGroup: 65534, readOnlyRootFilesystem: true },
        }));
        const st = await rt.containerStatus(id);
        expect(st.mounts).toEqual([{ hostPath: host, containerPath: "/data", readonly: true }]);
        await until(() => lines(st.logPath!).length >= 3, "the output");
        expect(lines(st.logPath!)).toEqual(["hello world /tmp 65534:65534", "from-host", "read-only"]);
        const hostname = await execSync(rt, id, ["hostname"]);
        expect(hostname.stdout.trim()).toBe(sc.metadata.name);
        const bad = await rejection(rt.createContainer(sb, containerConfig("bad", ["true"], { mounts: [{ hostPath: "/no/such/dir", containerPath: "/x" }] }), sc));
        expect(isRuntimeError(bad, "InvalidArgument")).toBe(true);
        expect(bad.message).toMatch(/no\/such\/dir/);
      } finally {
        rmSync(host, { recursive: true, force: true });
      }
    });

    it("exec: exit codes, tty resize, and close() kills the process", async () => {
      await setup();
      const sc = sandboxConfig(logRoot);
      const sb = await rt.runPodSandbox(sc);
      const id = await run(sb, sc, containerConfig("app", ["sleep", "3600"]));
      expect((await execSync(rt, id, ["sh", "-c", "exit 7"])).exitCode).toBe(7);
      // Docker's answer to an unknown program: 126 and the OCI runtime's message on the output.
      const missing = await execSync(rt, id, ["no-such-program"]);
      expect(missing.exitCode).toBe(126);
      expect(missing.stdout + missing.stderr).toMatch(/no-such-program.*not found/);
      const out: Uint8Array[] = [];
      const s = await rt.exec(id, ["sh", "-c", "sleep 0.3; stty size"], { tty: true, stdout: { write: (c) => void out.push(c) } });
      s.resize({ width: 100, height: 40 });
      expect((await s.exit).exitCode).toBe(0);
      expect(Buffer.concat(out).toString()).toContain("40 100");
      const long = await rt.exec(id, ["sleep", "300"], { tty: false });
      long.close();
      expect((await long.exit).exitCode).toBe(137);
      const ps = await execSync(rt, id, ["ps"]);
      expect(ps.stdout).not.toContain("sleep 300");
    });

    it("reports a program that does not exist as ContainerCannotRun (128) with Docker's message", async () => {
      await setup();
      const sc = sandboxConfig(logRoot);
      const sb = await rt.runPodSandbox(sc);
      const id = await rt.createContainer(sb, containerConfig("ghost", ["no-such-program", "arg"]), sc);
      expect((await rt.containerStatus(id)).state).toBe("CREATED");
      const err = await rejection(rt.startContainer(id));
      expect(isRuntimeError(err, "FailedPrecondition")).toBe(true);
      expect(err.message).toMatch(/no-such-program.*not found/);
      const st = await rt.containerStatus(id);
      expect([st.state, st.exitCode, st.reason]).toEqual(["EXITED", 128, "ContainerCannotRun"]);
      expect(st.message).toMatch(/executable file not found/);
      expect((await rt.listContainers({ id }))[0]?.state).toBe("EXITED");
      // Programs that exist (absolute, or found on PATH) keep docker-init.
      const ok = await rt.createContainer(sb, containerConfig("ok", ["/bin/sleep", "1"]), sc);
      expect(((await d.docker.getContainer(ok).inspect()) as unknown as { HostConfig: { Init: boolean } }).HostConfig.Init).toBe(true);
    });

    it("label-selector lists stay exact when CRI labels disagree with the pod identity (Docker-side pre-filter)", async () => {
      await setup();
      const sc = sandboxConfig(logRoot);
      const uid = sc.metadata.uid;
      // A sandbox and container whose CRI uid label names another pod than their metadata does.
      const odd: PodSandboxConfig = { ...sandboxConfig(logRoot, "odd"), labels: { "io.kubernetes.pod.uid": uid } };
      const [a, b] = [await rt.runPodSandbox(sc), await rt.runPodSandbox(odd)];
      const ca = await rt.createContainer(a, { ...containerConfig("c", ["sleep", "30"]), labels: { "io.kubernetes.pod.uid": uid } }, sc);
      const cb = await rt.createContainer(b, { ...containerConfig("c", ["sleep", "30"]), labels: { "io.kubernetes.pod.uid": uid } }, odd);
      const cc = await rt.createContainer(b, { ...containerConfig("d", ["sleep", "30"]), labels: { "io.kubernetes.pod.uid": odd.metadata.uid } }, odd);
      const sel = { "io.kubernetes.pod.uid": uid };
      expect((await rt.listPodSandboxes({ labelSelector: sel })).map((s) => s.id).sort()).toEqual([a, b].sort());
      expect((await rt.listContainers({ labelSelector: sel })).map((c) => c.id).sort()).toEqual([ca, cb].sort());
      expect((await rt.listContainers({ labelSelector: { "io.kubernetes.pod.uid": odd.metadata.uid } })).map((c) => c.id)).toEqual([cc]);
      expect((await rt.listContainers({ labelSelector: { ...sel, "io.kubernetes.container.name": "d" } })).map((c) => c.id)).toEqual([]);
      expect((await rt.listContainers({ id: cb, labelSelector: sel })).map((c) => c.id)).toEqual([cb]);
      // Concurrent identical lists share calls and all see every container created before they were made.
      const many = await Promise.all(Array.from({ length: 8 }, () => rt.listContainers({ labelSelector: sel })));
      for (const l of many) expect(l.map((c) => c.id).sort()).toEqual([ca, cb].sort());
      // The same program in the same image is found again without a probe: it keeps docker-init.
      const again = await rt.createContainer(a, containerConfig("e", ["sleep", "30"]), sc);
      expect(((await d.docker.getContainer(again).inspect()) as unknown as { HostConfig: { Init: boolean } }).HostConfig.Init).toBe(true);
    });

    it("attach feeds stdin to a stdin container; a tty container's output reaches its CRI log", async () => {
      await setup();
      const sc = sandboxConfig(logRoot);
      const sb = await rt.runPodSandbox(sc);
      const cat = await run(sb, sc, containerConfig("cat", ["cat"], { stdin: true, stdinOnce: true }));
      const out = collectingSink();
      const s = await rt.attach(cat, { tty: false, stdout: out, stdin: stdinOf("through ", "attach\n") });
      expect((await s.exit).exitCode).toBe(0); // stdinOnce: EOF of the attached stdin ends cat
      expect(out.text()).toBe("through attach\n");
      expect(lines((await rt.containerStatus(cat)).logPath!)).toEqual(["through attach"]);

      const tty = await run(sb, sc, containerConfig("tty", ["sh", "-c", "echo tty-line; sleep 3600"], { tty: true }));
      const path = (await rt.containerStatus(tty)).logPath!;
      await until(() => {
        try {
          return lines(path).length >= 1;
        } catch {
          return false;
        }
      }, "the tty output in the log");
      expect(lines(path)[0]).toMatch(/^tty-line\r?$/);
    });

    it("port-forward answers Unavailable when nothing listens", async () => {
      await setup();
      const sc = sandboxConfig(logRoot);
      const sb = await rt.runPodSandbox(sc);
      const err = await rejection(rt.portForward(sb, 9999));
      expect(isRuntimeError(err, "Unavailable")).toBe(true);
      expect(err.message).toMatch(/9999/);
    });
  });
} else {
  describe.skip(`docker runtime (skipped: ${skip})`, () => {
    it("needs a dockerd", () => {});
  });
}
