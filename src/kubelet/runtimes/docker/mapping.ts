/**
 * Pure translations between the runtime port and Docker Engine API 1.41 shapes: CRI configs to
 * `POST /containers/create` bodies, `GET /containers/{id}/json` states to CRI states and exit
 * reasons, and Docker API errors to `RuntimeError`s. No I/O here (runtime.ts does the calls).
 */
import { RuntimeError, type RuntimeErrorCode } from "../../runtime/errors.ts";
import type { ContainerConfig, ContainerExitReason, ContainerResources, ContainerState, PodSandboxConfig } from "../../runtime/types.ts";

/** The subset of Docker's container create body we send. */
export interface DockerCreateBody {
  Image: string;
  Entrypoint?: string[];
  Cmd?: string[];
  Env?: string[];
  WorkingDir?: string;
  User?: string;
  Hostname?: string;
  Labels: Record<string, string>;
  OpenStdin?: boolean;
  StdinOnce?: boolean;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  Tty?: boolean;
  ExposedPorts?: Record<string, Record<string, never>>;
  HostConfig: DockerHostConfig;
}

export interface DockerHostConfig {
  Init: boolean;
  NetworkMode?: string;
  IpcMode?: string;
  Mounts?: { Type: "bind"; Source: string; Target: string; ReadOnly: boolean }[];
  CpuShares?: number;
  CpuPeriod?: number;
  CpuQuota?: number;
  Memory?: number;
  MemorySwap?: number;
  ReadonlyRootfs?: boolean;
  Privileged: boolean;
  CgroupParent?: string;
  Dns?: string[];
  DnsSearch?: string[];
  DnsOptions?: string[];
  PortBindings?: Record<string, { HostIp: string; HostPort: string }[]>;
  LogConfig?: { Type: string; Config: Record<string, string> };
  RestartPolicy: { Name: "no" };
}

/** The kubelet's CPU conversions: 1 CPU = 1024 shares (at least 2); quota over a 100 ms period (at least 1 ms). */
export const CPU_PERIOD_US = 100_000;
export const MIN_CPU_SHARES = 2;
export const MIN_CPU_QUOTA_US = 1000;

export function cpuShares(millis: number | undefined): number {
  if (millis === undefined || millis <= 0) return MIN_CPU_SHARES;
  return Math.max(MIN_CPU_SHARES, Math.floor((millis * 1024) / 1000));
}

export function cpuQuota(millisLimit: number): number {
  return Math.max(MIN_CPU_QUOTA_US, Math.floor((millisLimit * CPU_PERIOD_US) / 1000));
}

/**
 * Resources as Docker fields: CpuShares from the request (the limit when no request, 2 when
 * neither, as the kubelet does), CpuPeriod/CpuQuota from the limit, Memory (and MemorySwap equal
 * to it: no swap) from the memory limit. Docker refuses NanoCpus together with a quota, so the
 * quota form is used.
 */
export function resourceFields(r: ContainerResources | undefined): Pick<DockerHostConfig, "CpuShares" | "CpuPeriod" | "CpuQuota" | "Memory" | "MemorySwap"> {
  const out: Pick<DockerHostConfig, "CpuShares" | "CpuPeriod" | "CpuQuota" | "Memory" | "MemorySwap"> = {
    CpuShares: cpuShares(r?.cpuMillisRequest ?? r?.cpuMillisLimit),
  };
  if (r?.cpuMillisLimit !== undefined && r.cpuMillisLimit > 0) {
    out.CpuPeriod = CPU_PERIOD_US;
    out.CpuQuota = cpuQuota(r.cpuMillisLimit);
  }
  if (r?.memoryBytesLimit !== undefined && r.memoryBytesLimit > 0) {
    out.Memory = Math.floor(r.memoryBytesLimit);
    out.MemorySwap = out.Memory;
  }
  return out;
}

/**
 * Docker `User` for a security context: `uid[:gid]`. A group without a user keeps the image's user
 * (`imageUser`, else root) with that group.
 */
export function dockerUser(sc: ContainerConfig["securityContext"], imageUser: string): string | undefined {
  if (sc?.runAsUser === undefined && sc?.runAsGroup === undefined) return undefined;
  const user = sc.runAsUser !== undefined ? String(sc.runAsUser) : (imageUser.split(":")[0] || "0");
  return sc.runAsGroup !== undefined ? `${user}:${sc.runAsGroup}` : user;
}

export interface LogOptions {
  /** Docker's own json-file log per container (kept only to resume CRI logs after an agent restart). */
  readonly maxSize: string;
  readonly maxFile: string;
}

/** The create body of a pod's sandbox container. */
export function sandboxCreateBody(
  c: PodSandboxConfig,
  opts: { image: string; command?: readonly string[]; network: string; labels: Record<string, string>; hostname: string; log: LogOptions },
): DockerCreateBody {
  const exposed: Record<string, Record<string, never>> = {};
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const p of c.portMappings ?? []) {
    const key = `${p.containerPort}/${p.protocol.toLowerCase()}`;
    exposed[key] = {};
    if (p.hostPort !== undefined && p.hostPort > 0) (bindings[key] ??= []).push({ HostIp: p.hostIp ?? "", HostPort: String(p.hostPort) });
  }
  const dns = c.dnsConfig;
  return {
    Image: opts.image,
    ...(opts.command !== undefined ? { Entrypoint: [...opts.command], Cmd: [] } : {}),
    Hostname: opts.hostname,
    Labels: opts.labels,
    ...(Object.keys(exposed).length > 0 ? { ExposedPorts: exposed } : {}),
    HostConfig: {
      Init: true,
      NetworkMode: opts.network,
      IpcMode: "shareable",
      Privileged: false,
      ...(c.cgroupParent !== undefined ? { CgroupParent: c.cgroupParent } : {}),
      ...(dns !== undefined ? { Dns: [...dns.servers], DnsSearch: [...dns.searches], DnsOptions: [...dns.options] } : {}),
      ...(Object.keys(bindings).length > 0 ? { PortBindings: bindings } : {}),
      LogConfig: { Type: "json-file", Config: { "max-size": opts.log.maxSize, "max-file": opts.log.maxFile } },
      RestartPolicy: { Name: "no" },
    },
  };
}

/**
 * The create body of an app container: joins the sandbox's network and IPC namespaces
 * (`container:<sandbox id>`), so the containers of a pod share localhost. Kubernetes `command`
 * replaces the image's ENTRYPOINT (and drops its CMD, as Docker does when an entrypoint is given);
 * `args` replace CMD.
 */
export function containerCreateBody(
  sandboxId: string,
  c: ContainerConfig,
  opts: { image: string; imageUser: string; labels: Record<string, string>; log: LogOptions; cgroupParent?: string },
): DockerCreateBody {
  const sc = c.securityContext;
  const user = dockerUser(sc, opts.imageUser);
  return {
    Image: opts.image,
    ...(c.command !== undefined ? { Entrypoint: [...c.command] } : {}),
    ...(c.args !== undefined ? { Cmd: [...c.args] } : {}),
    ...(c.envs !== undefined ? { Env: c.envs.map((e) => `${e.key}=${e.value}`) } : {}),
    ...(c.workingDir !== undefined && c.workingDir !== "" ? { WorkingDir: c.workingDir } : {}),
    ...(user !== undefined ? { User: user } : {}),
    Labels: opts.labels,
    OpenStdin: c.stdin === true,
    StdinOnce: c.stdinOnce === true,
    AttachStdin: c.stdin === true,
    AttachStdout: true,
    AttachStderr: true,
    Tty: c.tty === true,
    HostConfig: {
      Init: true,
      NetworkMode: `container:${sandboxId}`,
      IpcMode: `container:${sandboxId}`,
      ...(c.mounts !== undefined && c.mounts.length > 0
        ? { Mounts: c.mounts.map((m) => ({ Type: "bind" as const, Source: m.hostPath, Target: m.containerPath, ReadOnly: m.readonly === true })) }
        : {}),
      ...resourceFields(c.resources),
      ...(sc?.readOnlyRootFilesystem === true ? { ReadonlyRootfs: true } : {}),
      Privileged: sc?.privileged === true,
      ...(opts.cgroupParent !== undefined ? { CgroupParent: opts.cgroupParent } : {}),
      LogConfig: { Type: "json-file", Config: { "max-size": opts.log.maxSize, "max-file": opts.log.maxFile } },
      RestartPolicy: { Name: "no" },
    },
  };
}

// ---------------------------------------------------------------------------------------------
// States

/** `State` of `GET /containers/{id}/json` (the fields we read). */
export interface DockerState {
  readonly Status?: string;
  readonly Running?: boolean;
  readonly OOMKilled?: boolean;
  readonly Dead?: boolean;
  readonly Pid?: number;
  readonly ExitCode?: number;
  readonly Error?: string;
  readonly StartedAt?: string;
  readonly FinishedAt?: string;
}

/** Epoch ms of a Docker time; `undefined` for Go's zero time or garbage. */
export function dockerTimeMs(s: string | undefined): number | undefined {
  if (s === undefined || s === "" || s.startsWith("0001-01-01")) return undefined;
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(s);
  if (!m) return undefined;
  const base = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(base)) return undefined;
  const frac = m[2] ?? "";
  return base + (frac === "" ? 0 : Number(frac.padEnd(9, "0").slice(0, 6)) / 1000);
}

/** CRI state of a Docker container state. A start that failed leaves Docker at `created` with an error: that is EXITED. */
export function criState(s: DockerState | undefined): ContainerState {
  switch (s?.Status) {
    case "created":
      return s.Error !== undefined && s.Error !== "" ? "EXITED" : "CREATED";
    case "running":
    case "paused":
    case "restarting":
      return "RUNNING";
    case "exited":
    case "dead":
      return "EXITED";
    default:
      return "UNKNOWN";
  }
}

/** `created` / `running` / … in a list summary (no error detail there). */
export function criStateOfSummary(status: string | undefined): ContainerState {
  return criState(status === undefined ? undefined : { Status: status });
}

export interface ExitInfo {
  readonly exitCode: number;
  readonly reason: ContainerExitReason;
  readonly message?: string;
}

/**
 * Exit code and reason of an EXITED container: OOMKilled (137) when the kernel's OOM killer ended
 * it, ContainerCannotRun (128) when the start failed (Docker's error as the message), else
 * Completed (0) / Error.
 */
export function exitInfo(s: DockerState): ExitInfo {
  if (s.Status === "created" && s.Error !== undefined && s.Error !== "") {
    return { exitCode: 128, reason: "ContainerCannotRun", message: s.Error };
  }
  if (s.OOMKilled === true) return { exitCode: 137, reason: "OOMKilled" };
  const code = s.ExitCode ?? 0;
  return { exitCode: code, reason: code === 0 ? "Completed" : "Error", ...(s.Error ? { message: s.Error } : {}) };
}

// ---------------------------------------------------------------------------------------------
// Errors

/** What dockerode rejects with: an Error with `statusCode` (HTTP) and `json.message`, or a socket error with `code`. */
export interface DockerApiErrorShape {
  readonly statusCode?: number;
  readonly code?: string;
  readonly json?: unknown;
  readonly message?: string;
}

/** Docker's own message of an API error (the `message` of its JSON body), else the error text. */
export function dockerMessage(err: unknown): string {
  if (err !== null && typeof err === "object") {
    const e = err as DockerApiErrorShape;
    const j = e.json;
    if (j !== null && typeof j === "object" && "message" in j && typeof (j as { message: unknown }).message === "string") {
      return (j as { message: string }).message;
    }
    if (typeof e.message === "string") {
      // dockerode: "(HTTP code 404) no such container - <docker message> "
      const m = /^\(HTTP code \d+\) [^-]*- (.*)$/s.exec(e.message.trim());
      return m ? m[1]!.trim() : e.message;
    }
  }
  return String(err);
}

export function statusCodeOf(err: unknown): number | undefined {
  if (err !== null && typeof err === "object" && typeof (err as DockerApiErrorShape).statusCode === "number") return (err as DockerApiErrorShape).statusCode;
  return undefined;
}

const UNREACHABLE = new Set(["ECONNREFUSED", "ENOENT", "EACCES", "ECONNRESET", "EPIPE", "ETIMEDOUT"]);

/**
 * A Docker API failure as a `RuntimeError`: 404 NotFound, 409 (conflict: name taken, in use,
 * not running) the given `conflict` code, 400 InvalidArgument, socket errors Unavailable, else
 * Internal. `what` prefixes the message; Docker's text follows.
 */
export function toRuntimeError(err: unknown, what: string, conflict: RuntimeErrorCode = "FailedPrecondition"): RuntimeError {
  if (err instanceof RuntimeError) return err;
  const msg = `${what}: ${dockerMessage(err)}`;
  const status = statusCodeOf(err);
  const sysCode = err !== null && typeof err === "object" ? (err as DockerApiErrorShape).code : undefined;
  let code: RuntimeErrorCode = "Internal";
  if (status === 404) code = "NotFound";
  else if (status === 409) code = conflict;
  else if (status === 400) code = "InvalidArgument";
  else if (sysCode !== undefined && UNREACHABLE.has(sysCode)) code = "Unavailable";
  return new RuntimeError(code, msg, { cause: err });
}
