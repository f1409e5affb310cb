/**
 * Service environment variables (the Docker-links style set the kubelet injects): for each
 * service `<NAME>_SERVICE_HOST`, `<NAME>_SERVICE_PORT`, `<NAME>_SERVICE_PORT_<PORTNAME>`,
 * `<NAME>_PORT`, `<NAME>_PORT_<port>_<PROTO>{,_PROTO,_PORT,_ADDR}`. Which services: those of the
 * pod's namespace when `enableServiceLinks` (default true), and always the `kubernetes` service of
 * `default`. Pure.
 */
import type { KubeObject } from "../../api/object.ts";

interface ServicePort { name?: string; port?: number; protocol?: string }

function specOf(s: KubeObject): { clusterIP: string; ports: ServicePort[] } {
  const spec = (s["spec"] ?? {}) as { clusterIP?: unknown; ports?: unknown };
  const ports = Array.isArray(spec.ports) ? (spec.ports as ServicePort[]) : []; // service ports as served by the API
  return { clusterIP: typeof spec.clusterIP === "string" ? spec.clusterIP : "", ports };
}

/** `my-svc` -> `MY_SVC`. */
export function envVarName(s: string): string {
  return s.toUpperCase().replace(/-/g, "_");
}

function hostPort(ip: string, port: number): string {
  return ip.includes(":") ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** Variables of one service (none when it has no cluster IP or no ports). */
export function serviceEnv(service: KubeObject): Array<[string, string]> {
  const { clusterIP, ports } = specOf(service);
  if (clusterIP === "" || clusterIP === "None" || ports.length === 0) return [];
  const prefix = envVarName(service.metadata?.name ?? "");
  const out: Array<[string, string]> = [[`${prefix}_SERVICE_HOST`, clusterIP], [`${prefix}_SERVICE_PORT`, String(ports[0]!.port ?? 0)]];
  for (const p of ports) if (p.name) out.push([`${prefix}_SERVICE_PORT_${envVarName(p.name)}`, String(p.port ?? 0)]);
  ports.forEach((p, i) => {
    const proto = (p.protocol || "TCP");
    const url = `${proto.toLowerCase()}://${hostPort(clusterIP, p.port ?? 0)}`;
    if (i === 0) out.push([`${prefix}_PORT`, url]);
    const pp = `${prefix}_PORT_${p.port ?? 0}_${proto.toUpperCase()}`;
    out.push([pp, url], [`${pp}_PROTO`, proto.toLowerCase()], [`${pp}_PORT`, String(p.port ?? 0)], [`${pp}_ADDR`, clusterIP]);
  });
  return out;
}

/**
 * The service variables for a pod in `namespace`: `inNamespace` are that namespace's services,
 * `defaultServices` those of `default` (only `kubernetes` is taken from there unless the pod lives
 * in `default`).
 */
export function serviceEnvMap(namespace: string, enableServiceLinks: boolean, inNamespace: readonly KubeObject[], defaultServices: readonly KubeObject[]): Map<string, string> {
  const chosen = new Map<string, KubeObject>();
  const master = defaultServices.find((s) => s.metadata?.name === "kubernetes");
  if (master !== undefined) chosen.set("kubernetes", master);
  if (enableServiceLinks) {
    for (const s of inNamespace) {
      chosen.set(s.metadata?.name ?? "", s);
    }
  }
  const out = new Map<string, string>();
  for (const name of [...chosen.keys()].sort()) for (const [k, v] of serviceEnv(chosen.get(name)!)) out.set(k, v);
  return out;
}
