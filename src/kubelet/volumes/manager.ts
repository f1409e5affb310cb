/**
 * The volume manager: prepares a pod's volumes under the agent's data dir and turns a container's
 * `volumeMounts` into runtime mounts (host path -> container path).
 *
 *   <root>/<pod uid>/volumes/kubernetes.io~empty-dir/<name>/
 *   <root>/<pod uid>/volumes/kubernetes.io~configmap/<name>/      (atomic ..data layout)
 *   <root>/<pod uid>/volumes/kubernetes.io~secret/<name>/
 *   <root>/<pod uid>/volumes/kubernetes.io~downward-api/<name>/
 *   <root>/<pod uid>/volumes/kubernetes.io~projected/<name>/
 *
 * `setup` is idempotent and runs on every sync: projected contents are rewritten only when they
 * changed, so a ConfigMap update reaches mounted files on the next sync of the pods using it.
 * emptyDir `medium: Memory` lives in `/dev/shm` when it is a writable tmpfs directory (best
 * effort; otherwise on disk); `sizeLimit` is not enforced. hostPath volumes are the host path
 * itself after the `type` check. Volumes of other types (PVCs, CSI, …) fail to mount.
 */
import { existsSync, mkdirSync, readdirSync, readlinkSync, realpathSync, rmSync, statSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import type { Mount } from "../runtime/types.ts";
import type { ContainerSpec, PodObject } from "../types.ts";
import { expand, lookupIn } from "../env/expand.ts";
import { writeAtomic } from "./atomic-writer.ts";
import { checkHostPathType } from "./hostpath.ts";
import { unsignedServiceAccountToken, volumePayload, type PayloadContext } from "./payload.ts";

export interface VolumeManagerOptions {
  /** Root of per-pod directories (the agent uses `<data dir>/pods`). Absolute. */
  readonly root: string;
  /** Where Memory-medium emptyDirs go (default `/dev/shm` when writable; `""` disables). */
  readonly shmRoot?: string;
  readonly now?: () => number;
}

/** One volume that could not be set up (`FailedMount`). */
export interface VolumeFailure {
  readonly volume: string;
  readonly message: string;
}

export interface SetupResult {
  /** Volume name -> host path of the ready volumes. */
  readonly paths: ReadonlyMap<string, string>;
  readonly failures: readonly VolumeFailure[];
}

const PLUGIN: Record<string, string> = {
  emptyDir: "kubernetes.io~empty-dir", configMap: "kubernetes.io~configmap", secret: "kubernetes.io~secret",
  downwardAPI: "kubernetes.io~downward-api", projected: "kubernetes.io~projected",
};

type Volume = NonNullable<NonNullable<PodObject["spec"]>["volumes"]>[number];

function shmUsable(root: string): boolean {
  try {
    return root !== "" && statSync(root).isDirectory();
  } catch {
    return false;
  }
}

export class VolumeManager {
  readonly root: string;
  readonly #shm: string;
  readonly #now: () => number;
  readonly #tokens = new Map<string, { token: string; refreshAt: number }>();
  readonly #paths = new Map<string, Map<string, string>>();

  constructor(o: VolumeManagerOptions) {
    if (!o.root.startsWith("/")) throw new TypeError(`volume root ${JSON.stringify(o.root)} must be absolute`);
    this.root = o.root;
    const shm = o.shmRoot ?? "/dev/shm";
    this.#shm = shmUsable(shm) ? shm : "";
    this.#now = o.now ?? Date.now;
  }

  podDir(uid: string): string {
    return join(this.root, uid);
  }

  /**
   * Prepares (or refreshes) every volume of the pod. Volumes that fail are listed with upstream's
   * `MountVolume.SetUp failed …` detail (the caller records `FailedMount` and retries).
   */
  setup(pod: PodObject, ctx: Omit<PayloadContext, "pod" | "token">): SetupResult {
    const uid = pod.metadata?.uid ?? "";
    if (uid === "" || uid.includes("/") || uid.startsWith(".")) throw new Error(`invalid pod uid ${JSON.stringify(uid)}`);
    const paths = new Map<string, string>();
    const failures: VolumeFailure[] = [];
    const pctx: PayloadContext = { ...ctx, pod, token: (aud, exp) => this.#token(pod, aud, exp) };
    for (const v of pod.spec?.volumes ?? []) {
      const name = v.name ?? "";
      try {
        paths.set(name, this.#setupOne(pod, uid, v, pctx));
      } catch (err) {
        failures.push({ volume: name, message: `MountVolume.SetUp failed for volume ${JSON.stringify(name)} : ${(err as Error).message}` });
      }
    }
    this.#paths.set(uid, paths);
    return { paths, failures };
  }

  #setupOne(pod: PodObject, uid: string, v: Volume, ctx: PayloadContext): string {
    const name = v.name ?? "";
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name)) throw new Error(`invalid volume name ${JSON.stringify(name)}`);
    if (v.hostPath !== undefined) {
      const p = v.hostPath.path ?? "";
      checkHostPathType(p, v.hostPath.type);
      return p;
    }
    if (v.emptyDir !== undefined) {
      const dir = join(this.podDir(uid), "volumes", PLUGIN["emptyDir"]!, name);
      if (v.emptyDir.medium === "Memory" && this.#shm !== "") {
        // The volume dir is a link to a directory on tmpfs (removed with the pod).
        const target = join(this.#shm, `tugboat-${uid}-${name}`);
        mkdirSync(target, { recursive: true, mode: 0o777 });
        mkdirSync(join(dir, ".."), { recursive: true });
        if (!existsSync(dir)) symlinkSync(target, dir);
        return target;
      }
      if (v.emptyDir.medium !== undefined && v.emptyDir.medium !== "" && v.emptyDir.medium !== "Memory") {
        throw new Error(`unsupported emptyDir medium ${JSON.stringify(v.emptyDir.medium)}`);
      }
      mkdirSync(dir, { recursive: true, mode: 0o777 });
      return dir;
    }
    const kind = v.configMap !== undefined ? "configMap" : v.secret !== undefined ? "secret" : v.downwardAPI !== undefined ? "downwardAPI" : v.projected !== undefined ? "projected" : undefined;
    if (kind === undefined) {
      const type = Object.keys(v).find((k) => k !== "name") ?? "unknown";
      throw new Error(`volume type ${JSON.stringify(type)} is not supported by this node agent`);
    }
    const payload = volumePayload(ctx, v)!;
    const dir = join(this.podDir(uid), "volumes", PLUGIN[kind]!, name);
    writeAtomic(dir, payload, new Date(this.#now()));
    void pod;
    return dir;
  }

  #token(pod: PodObject, audience: string, expirationSeconds: number): string {
    const key = `${pod.metadata?.uid ?? ""}/${audience}/${expirationSeconds}`;
    const now = this.#now();
    const cached = this.#tokens.get(key);
    if (cached !== undefined && now < cached.refreshAt) return cached.token;
    const token = unsignedServiceAccountToken(pod, audience, expirationSeconds, now);
    // Refreshed at 80% of its lifetime, as the kubelet's token manager does.
    this.#tokens.set(key, { token, refreshAt: now + Math.max(600, expirationSeconds) * 800 });
    return token;
  }

  /**
   * Runtime mounts of `container` (volumes must have been set up). `vars` expands `subPathExpr`.
   * Throws `Error` for a mount of an unknown or not-ready volume, or a bad subPath.
   */
  mounts(pod: PodObject, container: ContainerSpec, vars: ReadonlyMap<string, string>): Mount[] {
    const uid = pod.metadata?.uid ?? "";
    const paths = this.#paths.get(uid) ?? new Map<string, string>();
    const vols = new Map((pod.spec?.volumes ?? []).map((v) => [v.name ?? "", v]));
    const out: Mount[] = [];
    for (const m of container.volumeMounts ?? []) {
      const name = m.name ?? "";
      const host = paths.get(name);
      if (host === undefined) throw new Error(`cannot find volume ${JSON.stringify(name)} to mount into container ${JSON.stringify(container.name ?? "")}`);
      let sub = m.subPath ?? "";
      if (m.subPathExpr) sub = expand(m.subPathExpr, lookupIn(vars));
      let hostPath = host;
      if (sub !== "") {
        if (sub.startsWith("/") || sub.split("/").includes("..")) {
          throw new Error(`failed to prepare subPath for volumeMount ${JSON.stringify(name)} of container ${JSON.stringify(container.name ?? "")}: subPath ${JSON.stringify(sub)} must be a relative path without '..'`);
        }
        hostPath = join(host, sub);
        // As upstream: a missing subPath is created as a directory.
        if (!existsSync(hostPath)) mkdirSync(hostPath, { recursive: true, mode: 0o755 });
        // A symlink inside the volume must not lead the mount out of it (bind mounts follow links).
        const root = realpathSync(host), real = realpathSync(hostPath);
        if (real !== root && !real.startsWith(`${root}/`)) {
          throw new Error(`failed to prepare subPath for volumeMount ${JSON.stringify(name)} of container ${JSON.stringify(container.name ?? "")}: subPath ${JSON.stringify(sub)} resolves outside the volume`);
        }
      }
      const v = vols.get(name);
      // configMap, secret, downwardAPI and projected volumes are always read-only.
      const ro = m.readOnly === true || (v !== undefined && (v.configMap ?? v.secret ?? v.downwardAPI ?? v.projected) !== undefined);
      out.push({ containerPath: m.mountPath ?? "", hostPath, ...(ro ? { readonly: true } : {}) });
    }
    return out;
  }

  /** Removes everything of the pod (its directory, tmpfs emptyDirs, cached tokens). */
  teardown(uid: string): void {
    if (uid === "" || uid.includes("/") || uid.startsWith(".")) return;
    const emptyDirs = join(this.podDir(uid), "volumes", PLUGIN["emptyDir"]!);
    try {
      for (const n of readdirSync(emptyDirs)) {
        try {
          const target = readlinkSync(join(emptyDirs, n));
          if (this.#shm !== "" && target.startsWith(`${this.#shm}/tugboat-${uid}-`)) rmSync(target, { recursive: true, force: true });
        } catch {
          // not a link: an on-disk emptyDir, removed below
        }
      }
    } catch {
      // no emptyDirs
    }
    rmSync(this.podDir(uid), { recursive: true, force: true });
    this.#paths.delete(uid);
    for (const k of [...this.#tokens.keys()]) if (k.startsWith(`${uid}/`)) this.#tokens.delete(k);
  }

  /** Tears down pod directories whose uid is not in `keep` (pods deleted while the agent was down). */
  cleanupOrphans(keep: ReadonlySet<string>): number {
    let n = 0;
    let names: string[];
    try {
      names = readdirSync(this.root);
    } catch {
      return 0;
    }
    for (const uid of names) {
      if (keep.has(uid)) continue;
      this.teardown(uid);
      n++;
    }
    return n;
  }
}
