import { describe, expect, it } from "vitest";
import { RuntimeError } from "./errors.ts";
import type { ContainerConfig, PodSandboxConfig } from "./types.ts";
import { exitReason, matchesContainerFilter, matchesLabels, validateContainerConfig, validateSandboxConfig, validateStopTimeout } from "./validate.ts";

const sb: PodSandboxConfig = { metadata: { name: "p", namespace: "ns", uid: "u", attempt: 0 }, logDirectory: "/var/log/pods/x", labels: {}, annotations: {} };
const ct: ContainerConfig = { metadata: { name: "app", attempt: 0 }, image: { image: "busybox" }, labels: {}, annotations: {} };

function invalid(fn: () => void, why: RegExp): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(RuntimeError);
  expect((err as RuntimeError).code).toBe("InvalidArgument");
  expect((err as RuntimeError).message).toMatch(why);
}

describe("config validation", () => {
  it("accepts good configs", () => {
    validateSandboxConfig(sb);
    validateContainerConfig({ ...ct, logPath: "app/0.log", envs: [{ key: "A", value: "" }], mounts: [{ containerPath: "/data", hostPath: "/tmp/x" }] }, sb);
    validateStopTimeout(0);
  });
  it("names what is wrong in a sandbox config", () => {
    invalid(() => validateSandboxConfig({ ...sb, metadata: { ...sb.metadata, namespace: "" } }), /namespace/);
    invalid(() => validateSandboxConfig({ ...sb, metadata: { ...sb.metadata, attempt: 1.5 } }), /attempt/);
    invalid(() => validateSandboxConfig({ ...sb, labels: { "": "x" } }), /labels/);
    invalid(() => validateSandboxConfig({ ...sb, portMappings: [{ protocol: "TCP", containerPort: 80, hostPort: -1 }] }), /hostPort/);
    invalid(() => validateSandboxConfig({ ...sb, resources: { cpuMillisLimit: -5 } }), /cpuMillisLimit/);
    invalid(() => validateSandboxConfig(null as unknown as PodSandboxConfig), /metadata/);
  });
  it("names what is wrong in a container config", () => {
    invalid(() => validateContainerConfig({ ...ct, metadata: { name: "x".repeat(64), attempt: 0 } }, sb), /DNS label/);
    invalid(() => validateContainerConfig({ ...ct, envs: [{ key: "A=B", value: "" }] }, sb), /env name/);
    invalid(() => validateContainerConfig({ ...ct, mounts: [{ containerPath: "rel", hostPath: "/x" }] }, sb), /containerPath/);
    invalid(() => validateContainerConfig({ ...ct, logPath: "/abs.log" }, sb), /relative/);
    invalid(() => validateContainerConfig({ ...ct, logPath: "a.log" }, { ...sb, logDirectory: undefined as unknown as string }), /logDirectory/);
    invalid(() => validateContainerConfig({ ...ct, resources: { memoryBytesRequest: 2, memoryBytesLimit: 1 } }, sb), /memoryBytesRequest/);
    invalid(() => validateContainerConfig({ ...ct, resources: { cpuMillisRequest: 2, cpuMillisLimit: 1 } }, sb), /cpuMillisRequest/);
    invalid(() => validateContainerConfig({ ...ct, command: [1 as unknown as string] }, sb), /command/);
    invalid(() => validateStopTimeout(Number.POSITIVE_INFINITY), /timeoutSeconds/);
  });
});

describe("filters and reasons", () => {
  it("matches labels with AND semantics", () => {
    expect(matchesLabels({ a: "1", b: "2" }, { a: "1" })).toBe(true);
    expect(matchesLabels({ a: "1" }, { a: "1", b: "2" })).toBe(false);
    expect(matchesLabels({}, undefined)).toBe(true);
    const c = { id: "c1", podSandboxId: "s1", metadata: { name: "a", attempt: 0 }, image: { image: "x" }, imageRef: "sha256:x", state: "RUNNING" as const, createdAt: 1, labels: { k: "v" }, annotations: {} };
    expect(matchesContainerFilter(c, { podSandboxId: "s1", state: "RUNNING", labelSelector: { k: "v" } })).toBe(true);
    expect(matchesContainerFilter(c, { state: "EXITED" })).toBe(false);
  });
  it("derives exit reasons", () => {
    expect(exitReason(0)).toBe("Completed");
    expect(exitReason(2)).toBe("Error");
    expect(exitReason(137, true)).toBe("OOMKilled");
  });
});
