/**
 * Input checks and filter matching shared by every runtime, so each rejects the same bad input with
 * the same `InvalidArgument` wording and filters the same way.
 */
import { isAbsolute } from "node:path";
import { RuntimeError } from "./errors.ts";
import type {
  Container,
  ContainerConfig,
  ContainerFilter,
  PodSandbox,
  PodSandboxConfig,
  PodSandboxFilter,
} from "./types.ts";

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

const invalid = (msg: string): RuntimeError => new RuntimeError("InvalidArgument", msg);

function checkAttempt(what: string, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw invalid(`${what}.attempt must be a non-negative integer, got ${n}`);
}

function checkNonNegative(field: string, v: number | undefined): void {
  if (v !== undefined && !(Number.isFinite(v) && v >= 0)) throw invalid(`${field} must be a non-negative number, got ${v}`);
}

function checkStringMap(field: string, m: unknown): void {
  if (m === null || typeof m !== "object") throw invalid(`${field} must be an object of strings`);
  for (const [k, v] of Object.entries(m)) {
    if (k === "" || typeof v !== "string") throw invalid(`${field}["${k}"] must be a non-empty key with a string value`);
  }
}

/** Throws `InvalidArgument` for a sandbox config the runtime cannot run. */
export function validateSandboxConfig(c: PodSandboxConfig): void {
  if (c === null || typeof c !== "object" || c.metadata === null || typeof c.metadata !== "object") {
    throw invalid("pod sandbox config must have metadata");
  }
  const m = c.metadata;
  if (typeof m.name !== "string" || m.name === "") throw invalid("metadata.name must be non-empty");
  if (typeof m.namespace !== "string" || m.namespace === "") throw invalid("metadata.namespace must be non-empty");
  if (typeof m.uid !== "string" || m.uid === "") throw invalid("metadata.uid must be non-empty");
  checkAttempt("metadata", m.attempt);
  if (c.logDirectory !== undefined && !isAbsolute(c.logDirectory)) {
    throw invalid(`logDirectory must be an absolute path, got "${c.logDirectory}"`);
  }
  checkStringMap("labels", c.labels);
  checkStringMap("annotations", c.annotations);
  for (const p of c.portMappings ?? []) {
    if (!Number.isInteger(p.containerPort) || p.containerPort < 1 || p.containerPort > 65535) {
      throw invalid(`portMappings: containerPort must be 1-65535, got ${p.containerPort}`);
    }
    if (p.hostPort !== undefined && (!Number.isInteger(p.hostPort) || p.hostPort < 0 || p.hostPort > 65535)) {
      throw invalid(`portMappings: hostPort must be 0-65535, got ${p.hostPort}`);
    }
  }
  const r = c.resources;
  checkNonNegative("resources.cpuMillisLimit", r?.cpuMillisLimit);
  checkNonNegative("resources.memoryBytesLimit", r?.memoryBytesLimit);
  checkNonNegative("resources.cpuMillisRequest", r?.cpuMillisRequest);
  checkNonNegative("resources.memoryBytesRequest", r?.memoryBytesRequest);
}

/** Throws `InvalidArgument` for a container config the runtime cannot create in `sandbox`. */
export function validateContainerConfig(c: ContainerConfig, sandbox: PodSandboxConfig): void {
  if (c === null || typeof c !== "object" || c.metadata === null || typeof c.metadata !== "object") {
    throw invalid("container config must have metadata");
  }
  const name = c.metadata.name;
  if (typeof name !== "string" || !DNS_LABEL.test(name) || name.length > 63) {
    throw invalid(`metadata.name "${String(name)}" must be a DNS label (lower-case alphanumerics and '-', at most 63)`);
  }
  checkAttempt("metadata", c.metadata.attempt);
  if (c.image === null || typeof c.image !== "object" || typeof c.image.image !== "string" || c.image.image === "") {
    throw invalid("image.image must be non-empty");
  }
  if (c.command !== undefined && !c.command.every((s) => typeof s === "string")) throw invalid("command must be strings");
  if (c.args !== undefined && !c.args.every((s) => typeof s === "string")) throw invalid("args must be strings");
  for (const e of c.envs ?? []) {
    if (typeof e.key !== "string" || e.key === "" || e.key.includes("=")) throw invalid(`env name "${e.key}" must be non-empty without '='`);
  }
  for (const mnt of c.mounts ?? []) {
    if (!isAbsolute(mnt.containerPath)) throw invalid(`mount containerPath "${mnt.containerPath}" must be absolute`);
  }
  if (c.logPath !== undefined) {
    if (sandbox.logDirectory === undefined) throw invalid("logPath needs the sandbox to have a logDirectory");
    if (c.logPath === "" || isAbsolute(c.logPath) || c.logPath.split(/[\\/]/).includes("..")) {
      throw invalid(`logPath "${c.logPath}" must be a relative path without ".."`);
    }
  }
  checkStringMap("labels", c.labels);
  checkStringMap("annotations", c.annotations);
  const r = c.resources;
  checkNonNegative("resources.cpuMillisRequest", r?.cpuMillisRequest);
  checkNonNegative("resources.cpuMillisLimit", r?.cpuMillisLimit);
  checkNonNegative("resources.memoryBytesRequest", r?.memoryBytesRequest);
  checkNonNegative("resources.memoryBytesLimit", r?.memoryBytesLimit);
  if (r?.memoryBytesLimit !== undefined && r.memoryBytesRequest !== undefined && r.memoryBytesRequest > r.memoryBytesLimit) {
    throw invalid("resources.memoryBytesRequest must not exceed memoryBytesLimit");
  }
  if (r?.cpuMillisLimit !== undefined && r.cpuMillisRequest !== undefined && r.cpuMillisRequest > r.cpuMillisLimit) {
    throw invalid("resources.cpuMillisRequest must not exceed cpuMillisLimit");
  }
}

/** `stopContainer` timeout check: a non-negative finite number of seconds. */
export function validateStopTimeout(timeoutSeconds: number): void {
  if (!(Number.isFinite(timeoutSeconds) && timeoutSeconds >= 0)) {
    throw invalid(`timeoutSeconds must be a non-negative number, got ${timeoutSeconds}`);
  }
}

/** True when every selector pair is in `labels`. */
export function matchesLabels(labels: Readonly<Record<string, string>>, selector: Readonly<Record<string, string>> | undefined): boolean {
  if (selector === undefined) return true;
  for (const k in selector) if (labels[k] !== selector[k]) return false;
  return true;
}

export function matchesSandboxFilter(s: PodSandbox, f: PodSandboxFilter | undefined): boolean {
  if (f === undefined) return true;
  return (f.id === undefined || s.id === f.id) && (f.state === undefined || s.state === f.state) && matchesLabels(s.labels, f.labelSelector);
}

export function matchesContainerFilter(c: Container, f: ContainerFilter | undefined): boolean {
  if (f === undefined) return true;
  return (
    (f.id === undefined || c.id === f.id) &&
    (f.podSandboxId === undefined || c.podSandboxId === f.podSandboxId) &&
    (f.state === undefined || c.state === f.state) &&
    matchesLabels(c.labels, f.labelSelector)
  );
}

/** Exit reason from an exit code, as the kubelet words it (OOM kills are reported by the runtime). */
export function exitReason(exitCode: number, oomKilled = false): "Completed" | "Error" | "OOMKilled" {
  if (oomKilled) return "OOMKilled";
  return exitCode === 0 ? "Completed" : "Error";
}
