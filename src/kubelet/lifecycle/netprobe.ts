/**
 * Network checks against a pod's IP, shared by probes (httpGet, tcpSocket) and lifecycle hooks
 * (httpGet). The process runtime's pod IPs are loopback addresses (127.x.y.z); Docker's are
 * addresses on the Docker bridge, which the agent reaches directly because it runs in the same
 * network namespace as dockerd (the host's, or the namespace a test creates for both).
 *
 * Failures reject with `Error`s worded like Go's HTTP client and dialer, which is what the
 * kubelet's `Unhealthy` events show (`Get "http://127.10.0.3:8080/healthz": dial tcp
 * 127.10.0.3:8080: connect: connection refused`, `HTTP probe failed with statuscode: 503`).
 */
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { connect } from "node:net";
import type { ContainerSpec, Probe } from "../types.ts";
import { grpcHealthCheck } from "./grpcprobe.ts";

type HTTPGetAction = NonNullable<Probe["httpGet"]>;
type TCPSocketAction = NonNullable<Probe["tcpSocket"]>;

/** Resolves a port (number, numeric string or a named container port); throws on unknown names. */
export function resolvePort(port: unknown, container: ContainerSpec | undefined): number {
  if (typeof port === "number") return port;
  if (typeof port === "string") {
    if (/^[0-9]+$/.test(port)) return Number(port);
    const p = container?.ports?.find((x) => x.name === port);
    if (p?.containerPort !== undefined) return p.containerPort;
    throw new Error(`couldn't find port: ${port} in ${container?.name ?? "container"}`);
  }
  throw new Error(`invalid port ${JSON.stringify(port)}`);
}

function hostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Go's dialer wording for common socket errors. */
function dialError(err: NodeJS.ErrnoException, addr: string): string {
  const what: Record<string, string> = {
    ECONNREFUSED: "connect: connection refused", EHOSTUNREACH: "connect: no route to host",
    ENETUNREACH: "connect: network is unreachable", ECONNRESET: "read: connection reset by peer",
    EADDRNOTAVAIL: "connect: cannot assign requested address",
  };
  return `dial tcp ${addr}: ${what[err.code ?? ""] ?? err.message}`;
}

export interface HttpGetResult {
  readonly status: number;
}

/**
 * Performs the GET (no redirects followed beyond reporting the status, headers from the action,
 * `User-Agent: kube-probe/1.32`); rejects on connection errors and timeouts.
 */
export function httpGet(action: HTTPGetAction, podIP: string | undefined, container: ContainerSpec | undefined, timeoutMs: number): Promise<HttpGetResult> {
  const host = action.host || podIP || "";
  const port = resolvePort(action.port, container);
  const scheme = (action.scheme ?? "HTTP").toLowerCase();
  let path = action.path ?? "/";
  if (!path.startsWith("/")) path = `/${path}`;
  const url = `${scheme}://${hostPort(host, port)}${path}`;
  return new Promise((resolve, reject) => {
    if (host === "") {
      reject(new Error(`Get "${url}": no pod IP to probe`));
      return;
    }
    const headers: Record<string, string> = { "User-Agent": "kube-probe/1.32", Accept: "*/*" };
    for (const h of action.httpHeaders ?? []) if (h.name) headers[h.name] = h.value ?? "";
    const opts = { host, port, path, method: "GET", headers, timeout: timeoutMs, ...(scheme === "https" ? { rejectUnauthorized: false } : {}) };
    const req = (scheme === "https" ? httpsRequest : httpRequest)(opts, (res) => {
      res.resume(); // the body is not needed; drain it
      res.on("end", () => resolve({ status: res.statusCode ?? 0 }));
      res.on("error", () => resolve({ status: res.statusCode ?? 0 }));
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`Get "${url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`));
    }, timeoutMs);
    timer.unref?.();
    req.on("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new Error(`Get "${url}": ${dialError(err, hostPort(host, port))}`));
    });
    req.on("close", () => clearTimeout(timer));
    req.end();
  });
}

/** Opens and closes a TCP connection; rejects with the dial error. */
export function tcpCheck(action: TCPSocketAction, podIP: string | undefined, container: ContainerSpec | undefined, timeoutMs: number): Promise<void> {
  const host = action.host || podIP || "";
  const port = resolvePort(action.port, container);
  const addr = hostPort(host, port);
  return new Promise((resolve, reject) => {
    if (host === "") {
      reject(new Error(`dial tcp ${addr}: no pod IP to probe`));
      return;
    }
    const sock = connect({ host, port });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`dial tcp ${addr}: i/o timeout`));
    }, timeoutMs);
    timer.unref?.();
    sock.once("connect", () => {
      clearTimeout(timer);
      sock.destroy();
      resolve();
    });
    sock.once("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new Error(dialError(err, addr)));
    });
  });
}

/**
 * The `NetworkProbe` for runtimes with a pod network (process, docker): httpGet succeeds on
 * 200–399, tcpSocket on connect, grpc when `grpc.health.v1.Health/Check` answers SERVING
 * (grpcprobe.ts). Failures reject with the message the `Unhealthy` event shows. A probe without
 * a handler succeeds.
 */
export async function podNetworkProbe(probe: Probe, podIP: string | undefined, container?: ContainerSpec): Promise<boolean> {
  const timeoutMs = Math.max(1, probe.timeoutSeconds ?? 1) * 1000;
  if (probe.httpGet !== undefined) {
    const r = await httpGet(probe.httpGet, podIP, container, timeoutMs);
    if (r.status >= 200 && r.status < 400) return true;
    throw new Error(`HTTP probe failed with statuscode: ${r.status}`);
  }
  if (probe.tcpSocket !== undefined) {
    await tcpCheck(probe.tcpSocket, podIP, container, timeoutMs);
    return true;
  }
  if (probe.grpc !== undefined) {
    const port = probe.grpc.port;
    if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535) {
      throw new Error(`invalid gRPC probe port ${JSON.stringify(port)}: must be 1-65535`);
    }
    if (podIP === undefined || podIP === "") throw new Error(`error: failed to connect service at ":${port}": no pod IP to probe`);
    await grpcHealthCheck({ host: podIP, port, service: probe.grpc.service ?? "", timeoutMs });
    return true;
  }
  return true;
}
