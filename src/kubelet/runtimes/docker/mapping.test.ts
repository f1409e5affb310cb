import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseCriRecord, recordText } from "../../runtime/logs.ts";
import type { ContainerConfig, PodSandboxConfig } from "../../runtime/types.ts";
import { parseDockerHost } from "./client.ts";
import { containerInfoOf, containerLabels, containerMetadataOf, containerName, podMetadataOf, sandboxInfoOf, sandboxLabels, sandboxName, userAnnotations, userLabels } from "./labels.ts";
import { CriSink, FrameDemuxer, readResumePoint, sinceOf, splitTimestamp } from "./logpump.ts";
import { containerCreateBody, cpuQuota, cpuShares, criState, dockerMessage, dockerTimeMs, dockerUser, exitInfo, resourceFields, sandboxCreateBody, toRuntimeError } from "./mapping.ts";
import { parseDockerEvent } from "./runtime.ts";

const enc = new TextEncoder();
const LOG = { maxSize: "10m", maxFile: "1" };

const sandbox: PodSandboxConfig = {
  metadata: { name: "web", namespace: "prod", uid: "u-1", attempt: 2 },
  hostname: "web-0",
  logDirectory: "/var/log/pods/prod_web_u-1",
  labels: { "io.kubernetes.pod.name": "web", app: "x" },
  annotations: { note: "kept" },
  dnsConfig: { servers: ["10.0.0.10"], searches: ["prod.svc.cluster.local"], options: ["ndots:5"] },
  portMappings: [{ protocol: "TCP", containerPort: 80, hostPort: 8080 }, { protocol: "UDP", containerPort: 53 }],
};

const container: ContainerConfig = {
  metadata: { name: "app", attempt: 3 },
  image: { image: "busybox" },
  command: ["sh", "-c"],
  args: ["echo hi"],
  workingDir: "/work",
  envs: [{ key: "A", value: "1=2" }],
  mounts: [{ hostPath: "/h", containerPath: "/c", readonly: true }],
  labels: { "io.kubernetes.container.name": "other-value" },
  annotations: { "io.kubernetes.container.restartCount": "3" },
  resources: { cpuMillisRequest: 100, cpuMillisLimit: 1500, memoryBytesLimit: 64 * 1024 * 1024 },
  securityContext: { runAsUser: 1000, runAsGroup: 2000, readOnlyRootFilesystem: true },
};

describe("docker mapping: resources and security", () => {
  it("converts CPU the kubelet's way and memory without swap", () => {
    expect(cpuShares(undefined)).toBe(2);
    expect(cpuShares(0)).toBe(2);
    expect(cpuShares(1)).toBe(2);
    expect(cpuShares(250)).toBe(256);
    expect(cpuShares(1000)).toBe(1024);
    expect(cpuQuota(500)).toBe(50_000);
    expect(cpuQuota(1)).toBe(1000);
    expect(resourceFields(undefined)).toEqual({ CpuShares: 2 });
    expect(resourceFields({ cpuMillisLimit: 2000 })).toEqual({ CpuShares: 2048, CpuPeriod: 100_000, CpuQuota: 200_000 });
    expect(resourceFields({ memoryBytesLimit: 1024 })).toEqual({ CpuShares: 2, Memory: 1024, MemorySwap: 1024 });
  });

  it("builds the Docker user from runAsUser/runAsGroup", () => {
    expect(dockerUser(undefined, "")).toBeUndefined();
    expect(dockerUser({ runAsUser: 5 }, "")).toBe("5");
    expect(dockerUser({ runAsUser: 5, runAsGroup: 6 }, "app")).toBe("5:6");
    expect(dockerUser({ runAsGroup: 6 }, "app:staff")).toBe("app:6");
    expect(dockerUser({ runAsGroup: 6 }, "")).toBe("0:6");
  });

  it("creates app containers in the sandbox's namespaces with Init, limits and the security context", () => {
    const body = containerCreateBody("s".repeat(64), container, { image: "sha256:abc", imageUser: "", labels: { l: "v" }, log: LOG });
    expect(body).toMatchObject({
      Image: "sha256:abc",
      Entrypoint: ["sh", "-c"],
      Cmd: ["echo hi"],
      Env: ["A=1=2"],
      WorkingDir: "/work",
      User: "1000:2000",
      Labels: { l: "v" },
      Tty: false,
      OpenStdin: false,
      HostConfig: {
        Init: true,
        NetworkMode: `container:${"s".repeat(64)}`,
        IpcMode: `container:${"s".repeat(64)}`,
        Mounts: [{ Type: "bind", Source: "/h", Target: "/c", ReadOnly: true }],
        CpuShares: 102,
        CpuPeriod: 100_000,
        CpuQuota: 150_000,
        Memory: 64 * 1024 * 1024,
        MemorySwap: 64 * 1024 * 1024,
        ReadonlyRootfs: true,
        Privileged: false,
        RestartPolicy: { Name: "no" },
      },
    });
    expect(body.Hostname).toBeUndefined(); // Docker refuses a hostname with a container network mode
    const minimal = containerCreateBody("x", { metadata: { name: "a", attempt: 0 }, image: { image: "b" }, labels: {}, annotations: {} }, { image: "i", imageUser: "", labels: {}, log: LOG });
    expect(minimal.Entrypoint).toBeUndefined();
    expect(minimal.Cmd).toBeUndefined();
    expect(minimal.User).toBeUndefined();
    expect(minimal.HostConfig.Mounts).toBeUndefined();
  });

  it("creates the sandbox with hostname, DNS, ports, shareable IPC and Init", () => {
    const body = sandboxCreateBody(sandbox, { image: "pause", command: ["sleep", "9"], network: "bridge", labels: {}, hostname: "web-0", log: LOG });
    expect(body).toMatchObject({
      Image: "pause",
      Entrypoint: ["sleep", "9"],
      Cmd: [],
      Hostname: "web-0",
      ExposedPorts: { "80/tcp": {}, "53/udp": {} },
      HostConfig: {
        Init: true,
        NetworkMode: "bridge",
        IpcMode: "shareable",
        Dns: ["10.0.0.10"],
        DnsSearch: ["prod.svc.cluster.local"],
        DnsOptions: ["ndots:5"],
        PortBindings: { "80/tcp": [{ HostIp: "", HostPort: "8080" }] },
      },
    });
  });
});

describe("docker mapping: states, exits and errors", () => {
  it("maps Docker states to CRI states", () => {
    expect(criState({ Status: "created" })).toBe("CREATED");
    expect(criState({ Status: "created", Error: "exec failed" })).toBe("EXITED");
    expect(criState({ Status: "running" })).toBe("RUNNING");
    expect(criState({ Status: "paused" })).toBe("RUNNING");
    expect(criState({ Status: "exited" })).toBe("EXITED");
    expect(criState({ Status: "dead" })).toBe("EXITED");
    expect(criState({ Status: "removing" })).toBe("UNKNOWN");
    expect(criState(undefined)).toBe("UNKNOWN");
  });

  it("gives exit reasons: Completed, Error, OOMKilled 137, ContainerCannotRun 128", () => {
    expect(exitInfo({ Status: "exited", ExitCode: 0 })).toEqual({ exitCode: 0, reason: "Completed" });
    expect(exitInfo({ Status: "exited", ExitCode: 3 })).toEqual({ exitCode: 3, reason: "Error" });
    expect(exitInfo({ Status: "exited", ExitCode: 137, OOMKilled: true })).toEqual({ exitCode: 137, reason: "OOMKilled" });
    expect(exitInfo({ Status: "exited", ExitCode: 0, OOMKilled: true })).toEqual({ exitCode: 137, reason: "OOMKilled" });
    expect(exitInfo({ Status: "created", ExitCode: 127, Error: "exec: not found" })).toEqual({ exitCode: 128, reason: "ContainerCannotRun", message: "exec: not found" });
  });

  it("parses Docker times, treating Go's zero time as absent", () => {
    expect(dockerTimeMs("0001-01-01T00:00:00Z")).toBeUndefined();
    expect(dockerTimeMs("")).toBeUndefined();
    expect(dockerTimeMs("garbage")).toBeUndefined();
    expect(dockerTimeMs("2026-11-22T03:13:41.796194808Z")).toBeCloseTo(Date.parse("2026-11-22T03:13:41.796Z") + 0.194, 3);
    expect(dockerTimeMs("2026-11-22T03:13:41Z")).toBe(Date.parse("2026-11-22T03:13:41Z"));
  });

  it("turns Docker API errors into RuntimeErrors with Docker's message", () => {
    const apiErr = Object.assign(new Error("(HTTP code 404) no such container - No such container: abc "), { statusCode: 404, json: { message: "No such container: abc" } });
    expect(dockerMessage(apiErr)).toBe("No such container: abc");
    expect(dockerMessage(Object.assign(new Error("(HTTP code 500) server error - boom "), { statusCode: 500 }))).toBe("boom");
    const nf = toRuntimeError(apiErr, "inspect abc");
    expect([nf.code, nf.message]).toEqual(["NotFound", "inspect abc: No such container: abc"]);
    expect(toRuntimeError(Object.assign(new Error("x"), { statusCode: 409 }), "create", "AlreadyExists").code).toBe("AlreadyExists");
    expect(toRuntimeError(Object.assign(new Error("x"), { statusCode: 409 }), "start").code).toBe("FailedPrecondition");
    expect(toRuntimeError(Object.assign(new Error("x"), { statusCode: 400 }), "create").code).toBe("InvalidArgument");
    expect(toRuntimeError(Object.assign(new Error("connect ENOENT /x.sock"), { code: "ENOENT" }), "ping").code).toBe("Unavailable");
    expect(toRuntimeError(new Error("weird"), "x").code).toBe("Internal");
  });

  it("parses Docker hosts and rejects others with InvalidArgument", () => {
    expect(parseDockerHost("unix:///var/run/docker.sock")).toEqual({ socketPath: "/var/run/docker.sock" });
    expect(parseDockerHost("tcp://127.0.0.1:2375")).toEqual({ host: "127.0.0.1", port: 2375, protocol: "http" });
    for (const bad of ["unix://relative.sock", "http://x", "", "tcp://host"]) {
      expect(() => parseDockerHost(bad), bad).toThrow(/docker host/);
    }
  });
});

describe("docker labels", () => {
  it("round-trips sandbox identity, CRI labels and annotations exactly", () => {
    const labels = sandboxLabels("node-1", sandbox, { hostname: "web-0", logDirectory: sandbox.logDirectory! }, 1234.5);
    expect(labels["io.kubernetes.docker.type"]).toBe("podsandbox");
    expect(labels["io.tugboat.scope"]).toBe("node-1");
    expect(podMetadataOf(labels)).toEqual(sandbox.metadata);
    expect(userLabels(labels)).toEqual(sandbox.labels);
    expect(userAnnotations(labels)).toEqual(sandbox.annotations);
    expect(sandboxInfoOf(labels)).toEqual({ hostname: "web-0", logDirectory: sandbox.logDirectory });
    expect(sandboxName(sandbox.metadata)).toBe("k8s_POD_web_prod_u-1_2");
  });

  it("round-trips container identity even when CRI labels reuse the identity keys", () => {
    const info = { image: "busybox", logPath: "/l/app/3.log", mounts: container.mounts!, resources: container.resources!, tty: false };
    const labels = containerLabels("s", "f".repeat(64), sandbox.metadata, container, info, 1);
    expect(labels["io.kubernetes.container.name"]).toBe("app"); // the identity, not the CRI label's value
    expect(userLabels(labels)).toEqual({ "io.kubernetes.container.name": "other-value" });
    expect(userAnnotations(labels)).toEqual(container.annotations);
    expect(containerMetadataOf(labels)).toEqual({ name: "app", attempt: 3 });
    expect(containerInfoOf(labels)).toEqual(info);
    expect(containerName(sandbox.metadata, "app", 3, "f".repeat(64))).toBe(`k8s_app_web_prod_u-1_3_${"f".repeat(12)}`);
    // Garbage in the JSON labels reads as empty, not as a crash.
    expect(userLabels({ "io.tugboat.labels": "{not json" })).toEqual({});
    expect(containerInfoOf({})).toEqual({ image: "", mounts: [], tty: false });
  });
});

describe("docker log pump", () => {
  const frame = (type: number, text: string): Uint8Array => {
    const body = enc.encode(text);
    const out = new Uint8Array(8 + body.length);
    out[0] = type;
    new DataView(out.buffer).setUint32(4, body.length);
    out.set(body, 8);
    return out;
  };

  it("demultiplexes frames cut anywhere", () => {
    const all = new Uint8Array([...frame(1, "out\n"), ...frame(2, "err\n"), ...frame(1, "x".repeat(300))]);
    for (const cut of [1, 3, 8, 9, 13, 20, all.length - 1]) {
      const d = new FrameDemuxer();
      const frames = [...d.push(all.subarray(0, cut)), ...d.push(all.subarray(cut))];
      expect(frames.map((f) => [f.stream, new TextDecoder().decode(f.payload)]), `cut at ${cut}`).toEqual([["stdout", "out\n"], ["stderr", "err\n"], ["stdout", "x".repeat(300)]]);
      expect(d.pending).toBe(0);
    }
  });

  it("splits Docker's timestamp prefix", () => {
    const m = splitTimestamp(enc.encode("2026-11-22T03:13:41.796194808Z hello world\n"))!;
    expect(new TextDecoder().decode(m.content)).toBe("hello world\n");
    expect(m.timeMs).toBeCloseTo(Date.parse("2026-11-22T03:13:41.796Z") + 0.194, 3);
    expect(splitTimestamp(enc.encode("no timestamp here"))).toBeUndefined();
  });

  it("writes CRI records stamped with Docker's time and resumes without repeats", () => {
    const dir = mkdtempSync(join(tmpdir(), "tug-pump-"));
    try {
      const path = join(dir, "c/0.log");
      const msgs = [
        ["stdout", "2026-11-22T03:00:00.000000001Z a\n"],
        ["stderr", "2026-11-22T03:00:00.000000001Z b\n"],
        ["stdout", "2026-11-22T03:00:01.5Z c\n"],
        ["stdout", "2026-11-22T03:00:01.5Z d\n"],
        ["stdout", "2026-11-22T03:00:02Z e\n"],
      ] as const;
      const first = new CriSink(path, {});
      for (const [s, m] of msgs.slice(0, 3)) first.message(s, enc.encode(m));
      first.close();
      const resume = readResumePoint(path)!;
      expect(resume.time).toBe("2026-11-22T03:00:01.500000000Z");
      expect(resume.skip).toBe(1);
      expect(Number(sinceOf(resume))).toBeLessThan(resume.timeMs / 1000);
      // Docker replays from `since`: everything again (some earlier, the same second, then new).
      const second = new CriSink(path, {}, resume);
      for (const [s, m] of msgs) second.message(s, enc.encode(m));
      second.close();
      const recs = readFileSync(path, "utf8").trim().split("\n").map((l) => parseCriRecord(enc.encode(l)));
      expect(recs.map((r) => `${r.stream}:${recordText(r)}`)).toEqual(["stdout:a", "stderr:b", "stdout:c", "stdout:d", "stdout:e"]);
      expect(recs[0]!.time).toBe("2026-11-22T03:00:00.000000000Z");
      expect(readResumePoint(join(dir, "absent.log"))).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("docker events", () => {
  it("maps container create/start/die/destroy and ignores the rest", () => {
    const ev = (action: string, extra: object = {}): string =>
      JSON.stringify({ Type: "container", Action: action, id: "c1", timeNano: 1_700_000_000_123_000_000, Actor: { Attributes: { "io.kubernetes.sandbox.id": "s1", "io.kubernetes.pod.uid": "u1" } }, ...extra });
    expect(parseDockerEvent(ev("create"))).toEqual({ type: "CREATED", containerId: "c1", podSandboxId: "s1", podUid: "u1", createdAt: 1_700_000_000_123 });
    expect(parseDockerEvent(ev("start"))?.type).toBe("STARTED");
    expect(parseDockerEvent(ev("die"))?.type).toBe("STOPPED");
    expect(parseDockerEvent(ev("destroy"))?.type).toBe("DELETED");
    expect(parseDockerEvent(ev("exec_create: sh"))).toBeUndefined();
    expect(parseDockerEvent(ev("create", { Type: "image" }))).toBeUndefined();
    expect(parseDockerEvent("{garbage")).toBeUndefined();
    expect(parseDockerEvent("null")).toBeUndefined();
  });
});
