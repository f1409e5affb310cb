/**
 * A private Docker daemon for tests.
 *
 *   const reason = dockerdUnavailableReason();        // undefined when dockerd can run here
 *   const d = await startDockerd();                   // its own netns, dirs, socket, pidfile
 *   await d.importBusybox("tug-test/busybox:latest"); // `docker import` of busybox-static
 *   … createDockerRuntime({ host: d.host }) …
 *   await d.stop();                                   // containers removed, daemon stopped by PID, all cleaned
 *
 * Network rule (shared/ARCHITECTURE.md): the daemon runs inside a network namespace this helper
 * creates (`ip netns add`, entered with `nsenter --net=/var/run/netns/NAME`, not `ip netns exec`,
 * which remounts /sys and breaks dockerd's cgroup detection). Its default bridge lives in that
 * namespace on a private /24, with iptables, masquerading and the userland proxy off, so container
 * traffic cannot leave it.
 *
 * Speed (docs/docker-runtime.md, "Daemon settings and startup speed"): the daemon's whole root
 * (data-root with overlay2 layers, containerd's metadata and libnetwork's store, exec-root) goes on
 * tmpfs (/dev/shm) when it has room, else under /tmp: container creation writes and fsyncs several
 * small files per container (config, bolt databases), which tmpfs makes free. A throwaway test
 * daemon loses nothing by it. `TUG_DOCKERD_TMP=/dir` picks the base directory instead.
 *
 * Skips: `dockerdUnavailableReason()` names what is missing (not root, no dockerd, no static
 * busybox, no ip/nsenter). Tests print it loudly and skip; with `TUG_REQUIRE_DOCKER=1` (CI) they
 * fail instead, so a missing install step cannot pass unnoticed.
 */
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statfsSync, symlinkSync, writeFileSync } from "node:fs";
import type { Readable } from "node:stream";
import { connectDocker, type DockerClient } from "../../src/kubelet/runtimes/docker/client.ts";

export interface Dockerd {
  /** `unix:///…/docker.sock` */
  readonly host: string;
  readonly socketPath: string;
  /** Directory holding data-root, exec-root, socket, pidfile and log. */
  readonly root: string;
  /** Network namespace name (`/var/run/netns/<netns>`). */
  readonly netns: string;
  readonly pid: number;
  readonly logFile: string;
  readonly docker: DockerClient;
  /**
   * Imports busybox-static (+ applet symlinks, /etc/passwd, /tmp) as `repoTag`, like
   * `docker import -c 'CMD …'`; returns the image id.
   */
  importBusybox(repoTag: string, opts?: { cmd?: readonly string[]; entrypoint?: readonly string[] }): Promise<string>;
  /** Force-removes every container (fast; used between tests). */
  removeAllContainers(): Promise<void>;
  /** Removes all containers, stops the daemon by PID, unmounts, deletes the directories and the netns. Idempotent. */
  stop(): Promise<void>;
}

const APPLETS = [
  "sh", "ash", "echo", "sleep", "cat", "env", "printenv", "nc", "tail", "head", "ls", "kill", "true", "false", "id", "ps", "printf", "tr", "wc",
  "mkdir", "rm", "touch", "test", "[", "hostname", "pwd", "httpd", "wget", "grep", "sed", "awk", "dd", "yes", "seq", "tee", "cp", "mv", "tar", "stat", "date", "ip",
];

function which(bin: string): string | undefined {
  for (const dir of (process.env["PATH"] ?? "").split(":").concat(["/usr/sbin", "/sbin", "/usr/bin", "/bin"])) {
    if (dir !== "" && existsSync(`${dir}/${bin}`)) return `${dir}/${bin}`;
  }
  return undefined;
}

/** Why a private dockerd cannot run here, or `undefined` when it can. */
export function dockerdUnavailableReason(): string | undefined {
  if (process.platform !== "linux") return `dockerd tests need Linux (this is ${process.platform})`;
  if (typeof process.getuid === "function" && process.getuid() !== 0) return "dockerd tests need root (network namespaces, dockerd)";
  if (which("dockerd") === undefined) return "dockerd is not installed (apt-get install docker.io)";
  if (which("ip") === undefined) return "ip is not installed (apt-get install iproute2)";
  if (which("nsenter") === undefined) return "nsenter is not installed (util-linux)";
  const bb = busyboxPath();
  if (bb === undefined) return "a static busybox is not installed (apt-get install busybox-static)";
  return undefined;
}

function busyboxPath(): string | undefined {
  for (const p of ["/bin/busybox", "/usr/bin/busybox"]) {
    if (!existsSync(p)) continue;
    const head = readFileSync(p).subarray(0, 4096);
    // A dynamically linked ELF names its interpreter (ld-linux); busybox-static does not.
    if (!Buffer.from(head).toString("latin1").includes("ld-linux")) return p;
  }
  return undefined;
}

/** Fails loudly in CI (`TUG_REQUIRE_DOCKER=1`), else prints a banner; returns the reason to skip or undefined. */
export function dockerSkipReason(what: string): string | undefined {
  const reason = dockerdUnavailableReason();
  if (reason === undefined) return undefined;
  if (process.env["TUG_REQUIRE_DOCKER"] === "1") throw new Error(`${what}: TUG_REQUIRE_DOCKER=1 but ${reason}`);
  const line = "!".repeat(78);
  console.warn(`\n${line}\n!! SKIPPED ${what}: ${reason}\n${line}\n`);
  return reason;
}

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 15_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status ?? r.signal}): ${r.stderr || r.error?.message || ""}`);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

let seq = 0;

const TMPFS_MAGIC = 0x01021994;

/**
 * Base directory of a test daemon's root: `TUG_DOCKERD_TMP`, else /dev/shm when it is a tmpfs with
 * at least 1 GiB free (containers in CI often get a 64 MiB /dev/shm), else /tmp.
 */
export function dockerdRootBase(): string {
  const env = process.env["TUG_DOCKERD_TMP"];
  if (env !== undefined && env !== "") return env;
  try {
    const st = statfsSync("/dev/shm");
    if (st.type === TMPFS_MAGIC && st.bavail * st.bsize >= 1024 ** 3) return "/dev/shm";
  } catch {
    // no /dev/shm
  }
  return "/tmp";
}

/** Starts a private dockerd in a fresh network namespace; resolves once its API answers. */
export async function startDockerd(opts: { startTimeoutMs?: number; subnet?: number } = {}): Promise<Dockerd> {
  const reason = dockerdUnavailableReason();
  if (reason !== undefined) throw new Error(`cannot start dockerd: ${reason}`);
  const root = mkdtempSync(`${dockerdRootBase()}/tugd-`);
  const netns = `tugd-${process.pid}-${++seq}`;
  const socketPath = `${root}/docker.sock`;
  const logFile = `${root}/dockerd.log`;
  const subnet = opts.subnet ?? 200 + ((process.pid + seq) % 50);
  run("ip", ["netns", "add", netns]);
  let pid = 0;
  let stopped = false;
  const cleanupSync = (): void => {
    if (pid > 0 && alive(pid)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    spawnSync("ip", ["netns", "del", netns]);
  };
  const onExit = (): void => cleanupSync();
  try {
    run("nsenter", [`--net=/var/run/netns/${netns}`, "ip", "link", "set", "lo", "up"]);
    const logFd = openSync(logFile, "a");
    const child = spawn(
      "nsenter",
      [
        `--net=/var/run/netns/${netns}`,
        "dockerd",
        "--data-root", `${root}/data`,
        "--exec-root", `${root}/exec`,
        "-H", `unix://${socketPath}`,
        "--pidfile", `${root}/docker.pid`,
        "--bip", `10.${subnet}.0.1/24`,
        "--iptables=false",
        "--ip-masq=false",
        "--ip-forward=false",
        "--userland-proxy=false",
        "--log-level=warn",
        "--shutdown-timeout=2",
      ],
      { stdio: ["ignore", logFd, logFd] },
    );
    closeSync(logFd);
    // nsenter execs dockerd (no --fork), so this is the daemon's PID.
    pid = child.pid ?? 0;
    process.once("exit", onExit);
    const deadline = Date.now() + (opts.startTimeoutMs ?? 30_000);
    let docker: DockerClient | undefined;
    while (docker === undefined) {
      if (!alive(pid) || child.exitCode !== null) throw new Error(`dockerd exited during startup; log:\n${tail(logFile)}`);
      if (Date.now() > deadline) throw new Error(`dockerd did not answer within ${opts.startTimeoutMs ?? 30_000} ms; log:\n${tail(logFile)}`);
      if (existsSync(socketPath)) docker = await connectDocker(`unix://${socketPath}`, 1000).catch(() => undefined);
      if (docker === undefined) await sleep(100);
    }
    const client = docker;
    const removeAllContainers = async (): Promise<void> => {
      const all = await client.listContainers({ all: true });
      await Promise.all(all.map((c) => client.getContainer(c.Id).remove({ force: true, v: true }).catch(() => {})));
    };
    let tarPath: string | undefined;
    return {
      host: `unix://${socketPath}`,
      socketPath,
      root,
      netns,
      pid,
      logFile,
      docker: client,
      async importBusybox(repoTag, o = {}) {
        tarPath ??= buildBusyboxTar(root);
        const colon = repoTag.lastIndexOf(":");
        const [repo, tag] = colon > repoTag.lastIndexOf("/") ? [repoTag.slice(0, colon), repoTag.slice(colon + 1)] : [repoTag, "latest"];
        const changes = ["ENV PATH=/bin"];
        if (o.entrypoint !== undefined) changes.push(`ENTRYPOINT ${JSON.stringify(o.entrypoint)}`);
        changes.push(`CMD ${JSON.stringify(o.cmd ?? ["sh"])}`);
        const { createReadStream } = await import("node:fs");
        const out = await client.importImage(createReadStream(tarPath), { repo, tag, changes });
        const text = await readAll(out);
        if (text.includes('"error"')) throw new Error(`docker import ${repoTag} failed: ${text}`);
        return (await client.getImage(repoTag).inspect()).Id;
      },
      removeAllContainers,
      async stop() {
        if (stopped) return;
        stopped = true;
        await removeAllContainers().catch(() => {});
        if (alive(pid)) {
          process.kill(pid, "SIGTERM");
          for (let i = 0; i < 150 && alive(pid); i++) await sleep(100);
          if (alive(pid)) process.kill(pid, "SIGKILL");
          for (let i = 0; i < 50 && alive(pid); i++) await sleep(100);
        }
        process.off("exit", onExit);
        // Overlay or netns mounts a killed daemon may leave behind, deepest first.
        const mounts = readFileSync("/proc/self/mounts", "utf8")
          .split("\n")
          .map((l) => l.split(" ")[1] ?? "")
          .filter((m) => m.startsWith(`${root}/`))
          .sort((a, b) => b.length - a.length);
        for (const m of mounts) spawnSync("umount", ["-l", m]);
        spawnSync("ip", ["netns", "del", netns]);
        rmSync(root, { recursive: true, force: true });
      },
    };
  } catch (err) {
    cleanupSync();
    process.off("exit", onExit);
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
}

function tail(path: string, lines = 30): string {
  try {
    return readFileSync(path, "utf8").split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

async function readAll(s: Readable): Promise<string> {
  let out = "";
  for await (const c of s) out += (c as Buffer).toString();
  return out;
}

/** A tarball of a busybox root filesystem (static busybox, applet symlinks, passwd, /tmp). */
export function buildBusyboxTar(dir: string): string {
  const bb = busyboxPath();
  if (bb === undefined) throw new Error("a static busybox is not installed (apt-get install busybox-static)");
  const rootfs = `${dir}/rootfs`;
  mkdirSync(`${rootfs}/bin`, { recursive: true });
  mkdirSync(`${rootfs}/etc`, { recursive: true });
  mkdirSync(`${rootfs}/tmp`, { recursive: true });
  chmodSync(`${rootfs}/tmp`, 0o1777);
  copyFileSync(bb, `${rootfs}/bin/busybox`);
  chmodSync(`${rootfs}/bin/busybox`, 0o755);
  for (const a of APPLETS) symlinkSync("busybox", `${rootfs}/bin/${a}`);
  writeFileSync(`${rootfs}/etc/passwd`, "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n");
  writeFileSync(`${rootfs}/etc/group`, "root:x:0:\nnogroup:x:65534:\n");
  const tarPath = `${dir}/busybox-rootfs.tar`;
  run("tar", ["-C", rootfs, "-cf", tarPath, "."]);
  rmSync(rootfs, { recursive: true, force: true });
  return tarPath;
}
