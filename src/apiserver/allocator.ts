/**
 * Service cluster-IP and node-port allocation, kept in the store so it survives restarts and
 * cannot hand out duplicates under concurrency: every allocated IP/port is a key
 * (`/registry/ranges/serviceips/<ip>`, `/registry/ranges/servicenodeports/<port>`) created in the
 * same transaction as the service write, guarded by "key absent". A lost race fails the
 * transaction and the caller retries with fresh picks.
 */
import { randomInt } from "node:crypto";
import type { KubeObject } from "../api/object.ts";
import type { Compare, Store, TxnOp } from "../store/types.ts";
import type { FieldError } from "./registry/strategy.ts";

export const IP_PREFIX = "/registry/ranges/serviceips/";
export const PORT_PREFIX = "/registry/ranges/servicenodeports/";

export interface Cidr {
  readonly base: number; // network address as uint32
  readonly bits: number;
  readonly text: string;
}

export function parseCidr(s: string): Cidr {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(s);
  if (!m) throw new Error(`invalid IPv4 CIDR ${JSON.stringify(s)}`);
  const octets = m.slice(1, 5).map(Number);
  const bits = Number(m[5]);
  if (octets.some((o) => o > 255) || bits < 8 || bits > 30) throw new Error(`invalid IPv4 CIDR ${JSON.stringify(s)}`);
  const ip = octets.reduce((a, o) => a * 256 + o, 0);
  const size = 2 ** (32 - bits);
  return { base: ip - (ip % size), bits, text: s };
}

export function ipToInt(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  const o = m.slice(1, 5).map(Number);
  if (o.some((x) => x > 255)) return undefined;
  return o.reduce((a, x) => a * 256 + x, 0);
}

export function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join(".");
}

export interface Claims {
  readonly compare: Compare[];
  readonly ops: TxnOp[];
  readonly errors: FieldError[];
}

const enc = new TextEncoder();

interface PortLike { nodePort?: number; port?: number }

function ipsOf(svc: KubeObject | undefined): string[] {
  const spec = (svc?.["spec"] ?? {}) as { clusterIP?: string; clusterIPs?: string[] };
  const ips = spec.clusterIPs?.length ? spec.clusterIPs : spec.clusterIP ? [spec.clusterIP] : [];
  return ips.filter((ip) => ip !== "None" && ip !== "");
}

function nodePortsOf(svc: KubeObject | undefined): number[] {
  const ports = ((svc?.["spec"] as { ports?: PortLike[] } | undefined)?.ports) ?? [];
  return ports.map((p) => p.nodePort ?? 0).filter((p) => p > 0);
}

export class ServiceAllocator {
  readonly cidr: Cidr;
  private readonly size: number;

  constructor(private readonly store: Store, cidr = "10.96.0.0/12", readonly portRange: readonly [number, number] = [30000, 32767]) {
    this.cidr = parseCidr(cidr);
    this.size = 2 ** (32 - this.cidr.bits);
  }

  /** The first usable IP: reserved for the `kubernetes` service. */
  firstIp(): string {
    return intToIp(this.cidr.base + 1);
  }

  private inRange(ip: number): boolean {
    return ip > this.cidr.base && ip < this.cidr.base + this.size - 1;
  }

  private async taken(key: string): Promise<boolean> {
    return (await this.store.range({ key, countOnly: true })).count > 0;
  }

  /**
   * Fills `svc.spec.clusterIP(s)` and node ports (mutating `svc`) and returns the guarded claims
   * for the write, releasing what `old` held and `svc` no longer does. `owner` is the service key.
   */
  async allocate(svc: KubeObject, old: KubeObject | undefined, owner: string): Promise<Claims> {
    const claims: Claims = { compare: [], ops: [], errors: [] };
    const spec = (svc["spec"] ??= {}) as Record<string, unknown>;
    const type = (spec["type"] as string | undefined) ?? "ClusterIP";
    const oldIps = new Set(ipsOf(old));
    if (type !== "ExternalName") {
      let ip = (spec["clusterIP"] as string | undefined) ?? ((spec["clusterIPs"] as string[] | undefined)?.[0]);
      if (ip === undefined || ip === "") {
        ip = old ? ipsOf(old)[0] : undefined;
        if (ip === undefined) ip = await this.pickIp();
        if (ip === undefined) {
          claims.errors.push({ type: "FieldValueInvalid", field: "spec.clusterIPs", message: `Internal error: failed to allocate a serviceIP: range is full` });
          return claims;
        }
      } else if (ip !== "None") {
        const n = ipToInt(ip);
        if (n === undefined) {
          claims.errors.push({ type: "FieldValueInvalid", field: "spec.clusterIPs", message: `Invalid value: ["${ip}"]: must be a valid IP address` });
        } else if (!this.inRange(n) && !oldIps.has(ip)) {
          claims.errors.push({
            type: "FieldValueInvalid", field: "spec.clusterIPs",
            message: `Invalid value: ["${ip}"]: failed to allocate IP ${ip}: the provided IP (${ip}) is not in the valid range. The range of valid IPs is ${this.cidr.text}`,
          });
        } else if (!oldIps.has(ip) && (await this.taken(IP_PREFIX + ip))) {
          claims.errors.push({ type: "FieldValueInvalid", field: "spec.clusterIPs", message: `Invalid value: ["${ip}"]: failed to allocate IP ${ip}: provided IP is already allocated` });
        }
      }
      spec["clusterIP"] = ip;
      spec["clusterIPs"] = [ip];
      if (ip !== "None" && !oldIps.has(ip)) {
        claims.compare.push({ key: IP_PREFIX + ip, target: "createRevision", op: "=", value: 0 });
        claims.ops.push({ type: "put", key: IP_PREFIX + ip, value: enc.encode(owner) });
      }
    }
    for (const ip of oldIps) if (ip !== spec["clusterIP"]) claims.ops.push({ type: "delete", key: IP_PREFIX + ip });

    const oldPorts = new Set(nodePortsOf(old));
    const wantsNodePorts = type === "NodePort" || type === "LoadBalancer";
    const ports = (spec["ports"] as PortLike[] | undefined) ?? [];
    const used = new Set<number>();
    for (const [i, p] of ports.entries()) {
      if (!wantsNodePorts) {
        delete p.nodePort;
        continue;
      }
      if (p.nodePort === undefined || p.nodePort === 0) {
        const reuse = [...oldPorts].find((x) => !used.has(x));
        const pick = reuse ?? (await this.pickPort(used));
        if (pick === undefined) {
          claims.errors.push({ type: "FieldValueInvalid", field: `spec.ports[${i}].nodePort`, message: "Internal error: failed to allocate a nodePort: range is full" });
          continue;
        }
        p.nodePort = pick;
      } else if (!oldPorts.has(p.nodePort)) {
        const [lo, hi] = this.portRange;
        if (p.nodePort < lo || p.nodePort > hi) {
          claims.errors.push({ type: "FieldValueInvalid", field: `spec.ports[${i}].nodePort`, message: `Invalid value: ${p.nodePort}: provided port is not in the valid range. The range of valid ports is ${lo}-${hi}` });
          continue;
        }
        if (used.has(p.nodePort) || (await this.taken(PORT_PREFIX + p.nodePort))) {
          claims.errors.push({ type: "FieldValueInvalid", field: `spec.ports[${i}].nodePort`, message: `Invalid value: ${p.nodePort}: provided port is already allocated` });
          continue;
        }
      }
      used.add(p.nodePort);
      if (!oldPorts.has(p.nodePort)) {
        claims.compare.push({ key: PORT_PREFIX + p.nodePort, target: "createRevision", op: "=", value: 0 });
        claims.ops.push({ type: "put", key: PORT_PREFIX + p.nodePort, value: enc.encode(owner) });
      }
    }
    for (const p of oldPorts) if (!used.has(p)) claims.ops.push({ type: "delete", key: PORT_PREFIX + p });
    return claims;
  }

  /** Ops releasing everything `svc` holds (for deletes). */
  release(svc: KubeObject): TxnOp[] {
    return [
      ...ipsOf(svc).map((ip): TxnOp => ({ type: "delete", key: IP_PREFIX + ip })),
      ...nodePortsOf(svc).map((p): TxnOp => ({ type: "delete", key: PORT_PREFIX + p })),
    ];
  }

  private async pickIp(): Promise<string | undefined> {
    // Random probing; the range is large, so a few tries almost always suffice. Offsets 0 (network),
    // 1 (the kubernetes service) and the broadcast address are never handed out.
    const usable = this.size - 3;
    for (let i = 0; i < 64; i++) {
      const ip = intToIp(this.cidr.base + 2 + randomInt(usable));
      if (!(await this.taken(IP_PREFIX + ip))) return ip;
    }
    return this.scan(IP_PREFIX, usable, (n) => intToIp(this.cidr.base + 2 + n));
  }

  private async pickPort(used: ReadonlySet<number>): Promise<number | undefined> {
    const [lo, hi] = this.portRange;
    const n = hi - lo + 1;
    for (let i = 0; i < 64; i++) {
      const p = lo + randomInt(n);
      if (!used.has(p) && !(await this.taken(PORT_PREFIX + p))) return p;
    }
    const s = await this.scan(PORT_PREFIX, n, (k) => String(lo + k), used);
    return s === undefined ? undefined : Number(s);
  }

  /** Linear scan against the set of allocated keys (one range read), for nearly full ranges. */
  private async scan(prefix: string, count: number, name: (n: number) => string, skip?: ReadonlySet<number>): Promise<string | undefined> {
    const r = await this.store.range({ key: prefix, prefix: true });
    const have = new Set(r.kvs.map((kv) => kv.key.slice(prefix.length)));
    for (let n = 0; n < count; n++) {
      const s = name(n);
      if (!have.has(s) && !(skip?.has(Number(s)))) return s;
    }
    return undefined;
  }
}
