/**
 * The narrow slice of dockerode 5 the docker runtime uses, typed here (dockerode ships no types and
 * we do not depend on @types/dockerode), and `connectDocker(host)` which builds a client for a
 * `unix:///path.sock` (or `tcp://host:port`) Docker host and checks it answers.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import type { Duplex, Readable } from "node:stream";
import { RuntimeError } from "../../runtime/errors.ts";
import type { DockerCreateBody, DockerState } from "./mapping.ts";
import { dockerMessage } from "./mapping.ts";

export interface DockerContainerSummary {
  readonly Id: string;
  readonly Names?: string[];
  readonly Image?: string;
  readonly ImageID?: string;
  readonly Created?: number;
  readonly State?: string;
  readonly Labels?: Record<string, string>;
}

export interface DockerContainerInspect {
  readonly Id: string;
  readonly Name?: string;
  readonly Created?: string;
  /** The program the container runs (its resolved entrypoint), as written. */
  readonly Path?: string;
  /** The image id (`sha256:…`). */
  readonly Image?: string;
  readonly State?: DockerState;
  readonly Config?: { readonly Labels?: Record<string, string> | null; readonly Tty?: boolean; readonly OpenStdin?: boolean; readonly Env?: string[] | null; readonly WorkingDir?: string };
  /** The resource settings Docker applied (bytes, shares, µs). */
  readonly HostConfig?: { readonly Memory?: number; readonly MemorySwap?: number; readonly CpuShares?: number; readonly CpuQuota?: number; readonly CpuPeriod?: number };
  readonly NetworkSettings?: {
    readonly IPAddress?: string;
    readonly Networks?: Record<string, { readonly IPAddress?: string }> | null;
  };
}

export interface DockerImageInspect {
  readonly Id: string;
  readonly RepoTags?: string[] | null;
  readonly RepoDigests?: string[] | null;
  readonly Size?: number;
  readonly Config?: { readonly User?: string; readonly Env?: string[] | null } | null;
}

export interface DockerImageSummary {
  readonly Id: string;
  readonly RepoTags?: string[] | null;
  readonly RepoDigests?: string[] | null;
  readonly Size?: number;
}

export interface DockerExecInspect {
  readonly Running?: boolean;
  readonly ExitCode?: number | null;
  readonly Pid?: number;
}

export interface DockerExec {
  readonly id: string;
  start(opts: { hijack: true; stdin: boolean; Tty: boolean; Detach?: false }): Promise<Duplex>;
  inspect(): Promise<DockerExecInspect>;
  resize(opts: { h: number; w: number }): Promise<unknown>;
}

export interface DockerContainer {
  readonly id: string;
  inspect(): Promise<DockerContainerInspect>;
  start(): Promise<unknown>;
  stop(opts: { t: number }): Promise<unknown>;
  kill(opts?: { signal?: string }): Promise<unknown>;
  remove(opts: { force?: boolean; v?: boolean }): Promise<unknown>;
  wait(opts?: { condition?: "not-running" | "next-exit" | "removed" }): Promise<{ StatusCode: number }>;
  logs(opts: { follow: true; stdout: boolean; stderr: boolean; timestamps: boolean; since?: number | string }): Promise<Readable>;
  attach(opts: { stream: true; stdin: boolean; stdout: boolean; stderr: boolean; hijack: true }): Promise<Duplex>;
  resize(opts: { h: number; w: number }): Promise<unknown>;
  /** `HEAD /containers/{id}/archive?path=`: resolves when the path exists in the container's filesystem (404 otherwise). */
  infoArchive(opts: { path: string }): Promise<Readable>;
  exec(opts: { Cmd: string[]; AttachStdin: boolean; AttachStdout: boolean; AttachStderr: boolean; Tty: boolean }): Promise<DockerExec>;
}

export interface DockerImage {
  inspect(): Promise<DockerImageInspect>;
  remove(opts?: { force?: boolean; noprune?: boolean }): Promise<unknown>;
  tag(opts: { repo: string; tag: string }): Promise<unknown>;
}

export interface DockerClient {
  readonly modem: {
    followProgress(stream: Readable, onFinished: (err: Error | null, output: unknown[]) => void): void;
  };
  ping(): Promise<unknown>;
  version(): Promise<{ Version?: string; ApiVersion?: string }>;
  listContainers(opts: { all: boolean; filters?: string }): Promise<DockerContainerSummary[]>;
  createContainer(body: DockerCreateBody & { name: string }): Promise<{ id: string }>;
  getContainer(id: string): DockerContainer;
  getImage(name: string): DockerImage;
  listImages(opts?: { all?: boolean }): Promise<DockerImageSummary[]>;
  pull(ref: string, opts: { authconfig?: Record<string, string> }): Promise<Readable>;
  importImage(src: Readable, opts: { repo: string; tag: string; changes?: string[] }): Promise<Readable>;
  getEvents(opts: { since?: number | string; filters?: string }): Promise<Readable>;
}

type DockerodeCtor = new (opts: { socketPath: string } | { host: string; port: number; protocol: "http" }) => DockerClient;

/**
 * dockerode is CommonJS without type declarations; we load it through `createRequire` and give it
 * the narrow `DockerClient` shape above (the cast is the one untyped seam to the library). In the
 * bundled agent (bin/_agent.js) a one-file build of it, `dockerode.cjs`, sits beside this code and
 * is preferred: ~40 fewer modules to resolve and compile (~4 MB of RSS in the agent).
 */
function loadDockerode(): DockerodeCtor {
  const require = createRequire(import.meta.url);
  deferUnusedDockerodeParts(require);
  const bundled = new URL("./dockerode.cjs", import.meta.url);
  return require(existsSync(bundled) ? fileURLToPath(bundled) : "dockerode") as DockerodeCtor;
}

/**
 * dockerode 5 loads, at require time, a BuildKit session module (@grpc/grpc-js, @grpc/proto-loader,
 * protobufjs), docker-modem an SSH transport (ssh2), and dockerode's build-context helper tar-fs
 * (tar-stream, bl, …) and @balena/dockerignore: ~11 MB of RSS in the node agent, for features it
 * never uses (image builds; `ssh://` hosts). They are pre-registered in the require cache as
 * stand-ins that load the real module on first use (a call, or a property read such as
 * `tar.pack`). Best effort: when the layout differs (another dockerode), nothing is deferred.
 */
function deferUnusedDockerodeParts(require: NodeJS.Require): void {
  const defer = (path: string): void => {
    if (require.cache[path] !== undefined) return;
    let real: unknown;
    const load = (): object => {
      if (real === undefined) {
        delete require.cache[path];
        real = require(path) as unknown;
      }
      // the modules deferred here export a function or an object (checked by their use below)
      return real as object;
    };
    // A function target so the stand-in is callable and constructible like a function export.
    const standIn = new Proxy(function standIn(): void {}, {
      apply: (_t, self, args) => Reflect.apply(load() as (...a: unknown[]) => unknown, self, args),
      construct: (_t, args) => Reflect.construct(load() as new (...a: unknown[]) => object, args),
      get: (_t, key) => Reflect.get(load(), key),
      has: (_t, key) => Reflect.has(load(), key),
    });
    // A minimal module record: require() only reads `exports` (and `loaded`) of a cached entry.
    require.cache[path] = { id: path, filename: path, loaded: true, exports: standIn, children: [], paths: [] } as unknown as NodeJS.Module;
  };
  try {
    const dockerode = require.resolve("dockerode");
    const fromDockerode = createRequire(dockerode);
    defer(fromDockerode.resolve("./session"));
    defer(fromDockerode.resolve("tar-fs"));
    defer(fromDockerode.resolve("@balena/dockerignore"));
    const modem = fromDockerode.resolve("docker-modem");
    defer(createRequire(modem).resolve("./ssh"));
  } catch {
    // a different layout: load everything as dockerode does
  }
}

/** Parses `unix:///path.sock` or `tcp://host:port` (plain HTTP; TLS hosts are not supported). */
export function parseDockerHost(host: string): { socketPath: string } | { host: string; port: number; protocol: "http" } {
  if (host.startsWith("unix://")) {
    const socketPath = host.slice("unix://".length);
    if (!socketPath.startsWith("/")) throw new RuntimeError("InvalidArgument", `docker host "${host}" must be unix:///absolute/path.sock`);
    return { socketPath };
  }
  const m = /^tcp:\/\/([^:/]+|\[[0-9a-fA-F:]+\]):(\d+)\/?$/.exec(host);
  if (m) return { host: m[1]!.replace(/^\[|\]$/g, ""), port: Number(m[2]), protocol: "http" };
  throw new RuntimeError("InvalidArgument", `docker host "${host}" must be unix:///path.sock or tcp://host:port`);
}

/** Builds a client and pings the daemon: `Unavailable` naming the host when it does not answer within `timeoutMs`. */
export async function connectDocker(host: string, timeoutMs = 5000): Promise<DockerClient> {
  const Dockerode = loadDockerode();
  const client = new Dockerode(parseDockerHost(host));
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      client.ping(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } catch (err) {
    throw new RuntimeError("Unavailable", `cannot reach the Docker daemon at ${host}: ${dockerMessage(err)}`, { cause: err });
  } finally {
    clearTimeout(timer);
  }
  return client;
}
