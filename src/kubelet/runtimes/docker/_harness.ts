/**
 * The conformance harness for the docker runtime: one private dockerd per test file (started on
 * first use, stopped by `stopSharedDockerd`), busybox images made with `docker import`, recipes as
 * busybox commands.
 */
import type { RuntimeFactory, RuntimeRecipes } from "../../runtime/conformance.ts";
import type { ContainerConfig, RuntimeService } from "../../runtime/types.ts";
import { type Dockerd, startDockerd } from "../../../../test/support/dockerd.ts";
import { createDockerRuntime, type DockerRuntime, type DockerRuntimeOptions } from "./runtime.ts";

/** Names of the test images (all made from busybox-static by `docker import`). */
export const IMAGES = {
  /** Kept so a test removing `busybox` can get it back by tagging. */
  keep: "tug-test/keep:busybox",
  busybox: "tug-test/busybox:latest",
  /** Same busybox; containers of this image get a 16 MiB memory limit from the harness (see `oomLimited`). */
  oom: "tug-test/oom:latest",
  /** Sandbox image: busybox sleeping (a separate import, so its id differs from the app image's). */
  pause: "tug-test/pause:latest",
} as const;

export const OOM_LIMIT_BYTES = 16 * 1024 * 1024;

export const DOCKER_RECIPES: RuntimeRecipes = {
  sleeper: { image: IMAGES.busybox, command: ["sleep", "3600"] },
  exitWith: (code) => ({ image: IMAGES.busybox, command: ["sh", "-c", `exit ${code}`] }),
  printer: (lines) => ({
    image: IMAGES.busybox,
    command: ["sh", "-c", lines.map((l) => `echo ${l.text}${l.stream === "stderr" ? " >&2" : ""}`).join("; ")],
  }),
  lines: (count) => ({ image: IMAGES.busybox, command: ["sh", "-c", `i=0; while [ $i -lt ${count} ]; do echo "line $i"; i=$((i+1)); done`] }),
  ticker: (ms) => ({ image: IMAGES.busybox, command: ["sh", "-c", `i=0; while true; do echo "tick $i"; i=$((i+1)); sleep ${(ms / 1000).toFixed(3)}; done`] }),
  ignoresTerm: { image: IMAGES.busybox, command: ["sh", "-c", "trap '' TERM; sleep 3600"] },
  // 64 MiB in one line: tail keeps it all. Bounded even if the limit were missing.
  oom: { image: IMAGES.oom, command: ["sh", "-c", "head -c 67108864 /dev/zero | tail"] },
  echoServer: (port) => ({ image: IMAGES.busybox, command: ["nc", "-ll", "-p", String(port), "-e", "cat"] }),
  // A registry on loopback inside the daemon's namespace where nothing listens: Docker's pull fails at once.
  missingImage: "127.0.0.1:5/tug-test/missing:latest",
};

/** Adds the 16 MiB memory limit to containers of `IMAGES.oom` (recipes carry no resources). */
export function oomLimited(rt: DockerRuntime): RuntimeService {
  return new Proxy(rt, {
    get(target, key) {
      if (key === "createContainer") {
        return (sandboxId: string, config: ContainerConfig, sandboxConfig: Parameters<RuntimeService["createContainer"]>[2]) =>
          target.createContainer(
            sandboxId,
            config.image.image === IMAGES.oom ? { ...config, resources: { ...config.resources, memoryBytesLimit: OOM_LIMIT_BYTES } } : config,
            sandboxConfig,
          );
      }
      const v: unknown = Reflect.get(target, key, target);
      // Methods use private fields, so they must run on the real instance.
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

let shared: Promise<Dockerd> | undefined;

/** The file's dockerd with the test images imported (started once). */
export function sharedDockerd(): Promise<Dockerd> {
  shared ??= (async () => {
    const d = await startDockerd();
    try {
      await d.importBusybox(IMAGES.keep);
      await d.importBusybox(IMAGES.pause, { cmd: ["sleep", "2147483647"] });
      await ensureTags(d);
    } catch (err) {
      await d.stop();
      throw err;
    }
    return d;
  })();
  return shared;
}

export async function stopSharedDockerd(): Promise<void> {
  if (shared === undefined) return;
  const d = await shared.catch(() => undefined);
  shared = undefined;
  await d?.stop();
}

/** Re-tags the app images from the kept one (a test may have removed them). */
async function ensureTags(d: Dockerd): Promise<void> {
  for (const name of [IMAGES.busybox, IMAGES.oom]) {
    const present = await d.docker.getImage(name).inspect().then(() => true, () => false);
    if (!present) {
      const [repo, tag] = name.split(":") as [string, string];
      await d.docker.getImage(IMAGES.keep).tag({ repo, tag });
    }
  }
}

export function runtimeOptions(d: Dockerd, extra: Partial<DockerRuntimeOptions> = {}): DockerRuntimeOptions {
  return { host: d.host, scope: "test", pauseImage: IMAGES.pause, ...extra };
}

export const dockerFactory: RuntimeFactory = async (opts) => {
  const d = await sharedDockerd();
  await ensureTags(d);
  const options = runtimeOptions(d, { logRotation: opts.logRotation });
  let rt = await createDockerRuntime(options);
  let client = oomLimited(rt);
  return {
    get runtime() {
      return client;
    },
    recipes: DOCKER_RECIPES,
    wait: (ms) => new Promise((r) => setTimeout(r, ms)),
    async reopen() {
      await rt.close();
      rt = await createDockerRuntime(options);
      client = oomLimited(rt);
      return client;
    },
    async cleanup() {
      await rt.close();
      await d.removeAllContainers();
    },
  };
};
