/**
 * On-disk state of the process runtime, so a restarted agent finds every sandbox and container
 * again. Layout under `dataDir`:
 *
 *   ipam.json                                   { next: <offset> } (the address cursor)
 *   images.json                                 [StoredImage]
 *   sandboxes/<sid>/sandbox.json                SandboxRecord
 *   sandboxes/<sid>/containers/<cid>/container.json   ContainerRecord
 *   sandboxes/<sid>/containers/<cid>/{out,err,in}     FIFOs of the container's stdio
 *   sandboxes/<sid>/containers/<cid>/{shim.pid,pid,exit}  written by the shim
 *   sandboxes/<sid>/containers/<cid>/rootfs/    the container's own directory (its working dir lives here)
 *
 * Records are written whole (temp file + rename), so a crash leaves the old or the new version.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ContainerConfig, ContainerExitReason, ContainerState, PodSandboxConfig, PodSandboxState } from "../../runtime/types.ts";
import type { ImageDefinition, StoredImage } from "./images.ts";
import type { ContainerLimits } from "./limits.ts";
import type { ProcIdentity } from "./proc.ts";

export interface SandboxRecord {
  readonly id: string;
  readonly config: PodSandboxConfig;
  readonly createdAt: number;
  state: PodSandboxState;
  /** The pod's loopback address while READY. */
  ip?: string;
}

export interface ContainerRecord {
  readonly id: string;
  readonly sandboxId: string;
  readonly config: ContainerConfig;
  readonly imageRef: string;
  /** The image definition at creation (the image may be re-pulled or removed later). */
  readonly image: ImageDefinition;
  readonly createdAt: number;
  readonly limits: ContainerLimits;
  state: ContainerState;
  startedAt?: number;
  finishedAt?: number;
  exitCode?: number;
  reason?: ContainerExitReason;
  message?: string;
  /** The shim (process-group leader) while it may run. */
  shim?: ProcIdentity;
  /** The cgroup directory (cgroup-v2 mode). */
  cgroup?: string;
}

export function writeJsonAtomic(path: string, value: unknown): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(value));
  renameSync(tmp, path);
}

export function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, "utf8"));
}

export class StateDir {
  constructor(readonly root: string) {
    mkdirSync(join(root, "sandboxes"), { recursive: true });
  }

  sandboxDir(sid: string): string {
    return join(this.root, "sandboxes", sid);
  }

  containerDir(sid: string, cid: string): string {
    return join(this.root, "sandboxes", sid, "containers", cid);
  }

  saveSandbox(s: SandboxRecord): void {
    mkdirSync(join(this.sandboxDir(s.id), "containers"), { recursive: true });
    writeJsonAtomic(join(this.sandboxDir(s.id), "sandbox.json"), s);
  }

  saveContainer(c: ContainerRecord): void {
    const dir = this.containerDir(c.sandboxId, c.id);
    mkdirSync(dir, { recursive: true });
    writeJsonAtomic(join(dir, "container.json"), c);
  }

  saveImages(images: readonly StoredImage[]): void {
    writeJsonAtomic(join(this.root, "images.json"), images);
  }

  loadImages(): StoredImage[] {
    try {
      const v = readJson(join(this.root, "images.json"));
      return Array.isArray(v) ? (v as StoredImage[]) : [];
    } catch {
      return [];
    }
  }

  saveIpCursor(next: number): void {
    writeJsonAtomic(join(this.root, "ipam.json"), { next });
  }

  loadIpCursor(): number {
    try {
      const v = readJson(join(this.root, "ipam.json")) as { next?: unknown };
      return typeof v.next === "number" ? v.next : 0;
    } catch {
      return 0;
    }
  }

  /**
   * Every sandbox with its containers. Unreadable records are reported in `broken` (their
   * directories), so the caller can clean them up instead of leaving orphans.
   */
  load(): { sandboxes: SandboxRecord[]; containers: ContainerRecord[]; broken: string[] } {
    const sandboxes: SandboxRecord[] = [];
    const containers: ContainerRecord[] = [];
    const broken: string[] = [];
    for (const sid of readdirSync(join(this.root, "sandboxes"))) {
      const sdir = this.sandboxDir(sid);
      let s: SandboxRecord;
      try {
        s = readJson(join(sdir, "sandbox.json")) as SandboxRecord;
        if (s.id !== sid || typeof s.config !== "object") throw new Error("mismatched record");
      } catch {
        broken.push(sdir);
        continue;
      }
      sandboxes.push(s);
      let cids: string[] = [];
      try {
        cids = readdirSync(join(sdir, "containers"));
      } catch {
        // no containers yet
      }
      for (const cid of cids) {
        const cdir = this.containerDir(sid, cid);
        try {
          const c = readJson(join(cdir, "container.json")) as ContainerRecord;
          if (c.id !== cid || c.sandboxId !== sid) throw new Error("mismatched record");
          containers.push(c);
        } catch {
          broken.push(cdir);
        }
      }
    }
    return { sandboxes, containers, broken };
  }
}

// ---------------------------------------------------------------------------------------------
// Pod addresses

/** A pool of loopback addresses (a CIDR inside 127.0.0.0/8). */
export interface AddressPool {
  readonly base: number;
  readonly size: number;
  readonly cidr: string;
}

function ipToInt(ip: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!;
}

export function intToIp(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** Parses a pod address pool; throws Error naming the problem (must be IPv4 inside 127.0.0.0/8, /8 to /30). */
export function parseAddressPool(cidr: string): AddressPool {
  const [ip, bitsText] = cidr.split("/");
  const bits = Number(bitsText);
  const n = ip === undefined ? undefined : ipToInt(ip);
  if (n === undefined || !Number.isInteger(bits) || bitsText === undefined) throw new Error(`pod address pool "${cidr}" must be an IPv4 CIDR like 127.10.0.0/16`);
  if (bits < 8 || bits > 30) throw new Error(`pod address pool "${cidr}" must have a prefix length between 8 and 30`);
  if (n >>> 24 !== 127) throw new Error(`pod address pool "${cidr}" must be inside 127.0.0.0/8 (loopback only)`);
  const size = 2 ** (32 - bits);
  const base = Math.floor(n / size) * size;
  return { base, size, cidr };
}

/**
 * Picks the next free address after `cursor` (round robin, so a released address is not handed out
 * again at once). Skips the pool's first two and last address (network, 127.x.y.1 often used by
 * the host, broadcast). Returns undefined when the pool is full.
 */
export function allocateAddress(pool: AddressPool, inUse: ReadonlySet<string>, cursor: number): { ip: string; next: number } | undefined {
  const usable = pool.size - 3;
  for (let i = 0; i < usable; i++) {
    const off = 2 + ((cursor + i) % usable);
    const ip = intToIp(pool.base + off);
    if (!inUse.has(ip)) return { ip, next: (cursor + i + 1) % usable };
  }
  return undefined;
}
