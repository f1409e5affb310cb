/**
 * The container runtime conformance suite. Every runtime runs it from its own test file:
 *
 *   runRuntimeConformance("hollow", async (opts) => {
 *     const clock = new FakeClock();
 *     const host = new HollowHost({ clock, logs: "output", logRotation: opts.logRotation });
 *     return { runtime: new HollowRuntime(host), recipes, wait: …, reopen: …, logRoot, cleanup };
 *   }, HOLLOW_CAPABILITIES);
 *
 * Runtimes differ in how a behaviour is expressed (an image rule, a busybox command, a local
 * executable), so the harness supplies `recipes`; the suite only asks for behaviours. Time is the
 * harness's too: `wait(ms)` lets `ms` of runtime time pass (a real sleep, or a fake clock advance),
 * so the same cases run instantly on hollow and for real on docker.
 *
 * What a runtime cannot do is declared in `RuntimeCapabilities`. For an operation (exec, attach,
 * port-forward, events) the suite then checks that the runtime says so (`Unimplemented`, or no
 * `events` method); for a behaviour it cannot produce (OOM kills) it checks the recipe is absent,
 * in a case named "declared unsupported". Nothing is skipped.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isRuntimeError, type RuntimeErrorCode } from "./errors.ts";
import type { ContainerStats } from "./types.ts";
import { type CriLogRecord, type LogRotation, parseCriRecord, readCriLog, recordText } from "./logs.ts";
import { collectingSink, execSync, stdinOf } from "./streams.ts";
import type { ContainerConfig, ContainerEvent, ContainerStatus, PodSandboxConfig, RuntimeCapabilities, RuntimeService } from "./types.ts";

export type { RuntimeCapabilities } from "./types.ts";

/** How to get a behaviour out of this runtime: an image plus optional command/args. */
export interface Recipe {
  readonly image: string;
  readonly command?: readonly string[];
  readonly args?: readonly string[];
}

export interface RuntimeRecipes {
  /** Runs until stopped and exits promptly on SIGTERM. */
  readonly sleeper: Recipe;
  /** Exits with `code` (0-255) right after starting. */
  exitWith(code: number): Recipe;
  /** Prints each line to its stream (texts are plain words, no quotes), then exits 0. */
  printer(lines: readonly { stream: "stdout" | "stderr"; text: string }[]): Recipe;
  /** Prints `line 0` … `line <count-1>` to stdout, then exits 0. */
  lines(count: number): Recipe;
  /** Prints a line (any text) to stdout every `intervalMs` until stopped. */
  ticker(intervalMs: number): Recipe;
  /** Ignores SIGTERM; only SIGKILL ends it. */
  readonly ignoresTerm: Recipe;
  /** Is OOM-killed soon after starting. Required when `caps.oomKill`. */
  readonly oom?: Recipe;
  /** Listens on TCP `port` and echoes what it reads. Required when `caps.portForward`. */
  echoServer?(port: number): Recipe;
  /** An image that is not present and cannot be pulled. */
  readonly missingImage: string;
  /**
   * Burns CPU until stopped (the stats case). Default: `sh -c "while :; do :; done"` on the
   * sleeper's image (a busybox shell).
   */
  readonly busy?: Recipe;
}

export interface HarnessOptions {
  /** Rotation the runtime must apply to container logs (the suite uses small sizes). */
  readonly logRotation: Required<LogRotation>;
}

export interface RuntimeHarness {
  readonly runtime: RuntimeService;
  readonly recipes: RuntimeRecipes;
  /** Lets `ms` of the runtime's time pass (and I/O run). */
  wait(ms: number): Promise<void>;
  /** Closes `runtime` and returns a new client over the same runtime state (an agent restart). */
  reopen(): Promise<RuntimeService>;
  /** Releases everything the factory made (containers, daemons, directories). */
  cleanup(): Promise<void>;
}

export type RuntimeFactory = (opts: HarnessOptions) => Promise<RuntimeHarness>;

const LOG_ROTATION = { maxBytes: 2048, maxFiles: 3 } as const;

/** Awaits `p` while letting runtime time pass in `stepMs` steps; fails after `maxMs` of runtime time. */
async function within<T>(h: RuntimeHarness, p: Promise<T>, what: string, maxMs = 10_000, stepMs = 50): Promise<T> {
  let settled = false;
  const guarded = p.finally(() => {
    settled = true;
  });
  guarded.catch(() => {});
  for (let waited = 0; !settled; waited += stepMs) {
    if (waited > maxMs) throw new Error(`timed out after ${maxMs} ms of runtime time waiting for ${what}`);
    await Promise.race([guarded.then(() => undefined, () => undefined), h.wait(stepMs)]);
  }
  return guarded;
}

/** Waits (runtime time, bounded) until `cond` holds. */
async function until(h: RuntimeHarness, cond: () => Promise<boolean> | boolean, what: string, maxMs = 10_000, stepMs = 50): Promise<void> {
  for (let waited = 0; ; waited += stepMs) {
    if (await cond()) return;
    if (waited > maxMs) throw new Error(`timed out after ${maxMs} ms of runtime time waiting for ${what}`);
    await h.wait(stepMs);
  }
}

async function expectCode(p: Promise<unknown>, code: RuntimeErrorCode): Promise<Error> {
  try {
    await p;
  } catch (err) {
    if (!isRuntimeError(err)) throw new Error(`expected RuntimeError ${code}, got ${String(err)}`, { cause: err });
    expect(err.code, err.message).toBe(code);
    expect(err.message.length).toBeGreaterThan(0);
    return err;
  }
  throw new Error(`expected RuntimeError ${code}, but the call succeeded`);
}

let uidSeq = 0;

export function runRuntimeConformance(name: string, factory: RuntimeFactory, caps: RuntimeCapabilities): void {
  describe(`runtime conformance: ${name}`, () => {
    let h: RuntimeHarness;
    let rt: RuntimeService;
    let logRoot: string;

    beforeEach(async () => {
      logRoot = mkdtempSync(join(tmpdir(), `tug-rt-${name}-`));
      h = await factory({ logRotation: LOG_ROTATION });
      rt = h.runtime;
    });
    afterEach(async () => {
      await h.cleanup();
      rmSync(logRoot, { recursive: true, force: true });
    });

    const sandboxConfig = (podName = "web", attempt = 0, extra: Partial<PodSandboxConfig> = {}): PodSandboxConfig => {
      const uid = `uid-${process.pid}-${++uidSeq}`;
      return {
        metadata: { name: podName, namespace: "default", uid, attempt },
        hostname: podName,
        logDirectory: join(logRoot, `default_${podName}_${uid}`),
        labels: { "io.kubernetes.pod.name": podName, "io.kubernetes.pod.namespace": "default", "io.kubernetes.pod.uid": uid },
        annotations: { note: "conformance" },
        ...extra,
      };
    };

    const containerConfig = (cname: string, recipe: { image: string; command?: readonly string[]; args?: readonly string[] }, attempt = 0, extra: Partial<ContainerConfig> = {}): ContainerConfig => ({
      metadata: { name: cname, attempt },
      image: { image: recipe.image },
      ...(recipe.command !== undefined ? { command: recipe.command } : {}),
      ...(recipe.args !== undefined ? { args: recipe.args } : {}),
      labels: { "io.kubernetes.container.name": cname },
      annotations: { "io.kubernetes.container.restartCount": String(attempt) },
      logPath: `${cname}/${attempt}.log`,
      ...extra,
    });

    /** A READY sandbox and its config. */
    const pod = async (podName = "web"): Promise<{ id: string; config: PodSandboxConfig }> => {
      const config = sandboxConfig(podName);
      const id = await within(h, rt.runPodSandbox(config), "runPodSandbox");
      return { id, config };
    };

    /** Pulls, creates and (by default) starts a container; returns its id. */
    const container = async (p: { id: string; config: PodSandboxConfig }, cname: string, recipe: { image: string; command?: readonly string[]; args?: readonly string[] }, opts: { start?: boolean; attempt?: number } = {}): Promise<string> => {
      await within(h, rt.pullImage({ image: recipe.image }), `pull ${recipe.image}`);
      const id = await within(h, rt.createContainer(p.id, containerConfig(cname, recipe, opts.attempt ?? 0), p.config), "createContainer");
      if (opts.start !== false) await within(h, rt.startContainer(id), "startContainer");
      return id;
    };

    const exited = async (id: string, maxMs = 10_000): Promise<ContainerStatus> => {
      let st: ContainerStatus | undefined;
      await until(h, async () => (st = await rt.containerStatus(id)).state === "EXITED", `container ${id} to exit`, maxMs);
      return st!;
    };

    // --- version / status --------------------------------------------------------------------

    it("reports its version and ready conditions", async () => {
      const v = await rt.version();
      expect(v.runtimeApiVersion).toBe("v1");
      expect(v.runtimeName).not.toBe("");
      expect(v.runtimeVersion).not.toBe("");
      const s = await rt.status();
      const byType = Object.fromEntries(s.conditions.map((c) => [c.type, c.status]));
      expect(byType).toEqual({ RuntimeReady: true, NetworkReady: true });
    });

    // --- sandboxes ---------------------------------------------------------------------------

    it("runs, lists, stops and removes a pod sandbox", async () => {
      const { id, config } = await pod();
      const st = await rt.podSandboxStatus(id);
      expect(st.state).toBe("READY");
      expect(st.metadata).toEqual(config.metadata);
      expect(st.labels).toEqual(config.labels);
      expect(st.annotations).toEqual(config.annotations);
      expect(st.network?.ip).toMatch(/^\d+\.\d+\.\d+\.\d+$|:/);
      expect(st.createdAt).toBeGreaterThan(0);
      expect((await rt.listPodSandboxes()).map((s) => s.id)).toContain(id);
      expect((await rt.listPodSandboxes({ labelSelector: { "io.kubernetes.pod.uid": config.metadata.uid } })).map((s) => s.id)).toEqual([id]);
      expect(await rt.listPodSandboxes({ labelSelector: { "io.kubernetes.pod.uid": "nope" } })).toEqual([]);
      expect((await rt.listPodSandboxes({ id })).length).toBe(1);

      await within(h, rt.stopPodSandbox(id), "stopPodSandbox");
      const stopped = await rt.podSandboxStatus(id);
      expect(stopped.state).toBe("NOTREADY");
      expect(stopped.network).toBeUndefined();
      expect((await rt.listPodSandboxes({ state: "NOTREADY" })).map((s) => s.id)).toContain(id);
      expect((await rt.listPodSandboxes({ state: "READY" })).map((s) => s.id)).not.toContain(id);
      await within(h, rt.stopPodSandbox(id), "second stopPodSandbox"); // idempotent

      await within(h, rt.removePodSandbox(id), "removePodSandbox");
      await expectCode(rt.podSandboxStatus(id), "NotFound");
      expect((await rt.listPodSandboxes()).map((s) => s.id)).not.toContain(id);
      await within(h, rt.removePodSandbox(id), "second removePodSandbox"); // idempotent
    });

    it("gives two sandboxes different IPs", async () => {
      const a = await pod("a");
      const b = await pod("b");
      expect((await rt.podSandboxStatus(a.id)).network?.ip).not.toBe((await rt.podSandboxStatus(b.id)).network?.ip);
    });

    it("rejects a duplicate sandbox with AlreadyExists, accepts the next attempt", async () => {
      const config = sandboxConfig("dup");
      await within(h, rt.runPodSandbox(config), "runPodSandbox");
      await expectCode(rt.runPodSandbox(config), "AlreadyExists");
      const next = await within(h, rt.runPodSandbox({ ...config, metadata: { ...config.metadata, attempt: 1 } }), "attempt 1");
      expect(typeof next).toBe("string");
    });

    it("rejects bad sandbox configs with InvalidArgument", async () => {
      const ok = sandboxConfig("bad");
      await expectCode(rt.runPodSandbox({ ...ok, metadata: { ...ok.metadata, name: "" } }), "InvalidArgument");
      await expectCode(rt.runPodSandbox({ ...ok, metadata: { ...ok.metadata, uid: "" } }), "InvalidArgument");
      await expectCode(rt.runPodSandbox({ ...ok, metadata: { ...ok.metadata, attempt: -1 } }), "InvalidArgument");
      await expectCode(rt.runPodSandbox({ ...ok, logDirectory: "relative/dir" }), "InvalidArgument");
      await expectCode(rt.runPodSandbox({ ...ok, portMappings: [{ protocol: "TCP", containerPort: 70000 }] }), "InvalidArgument");
    });

    // --- unknown ids -------------------------------------------------------------------------

    it("answers unknown ids with NotFound (and removal/stop of sandboxes idempotently)", async () => {
      const p = await pod();
      await expectCode(rt.podSandboxStatus("no-such-sandbox"), "NotFound");
      await expectCode(rt.containerStatus("no-such-container"), "NotFound");
      await expectCode(rt.startContainer("no-such-container"), "NotFound");
      await expectCode(rt.stopContainer("no-such-container", 1), "NotFound");
      await expectCode(rt.createContainer("no-such-sandbox", containerConfig("c", h.recipes.sleeper), p.config), "NotFound");
      if (caps.exec) await expectCode(rt.exec("no-such-container", ["true"], { tty: false }), "NotFound");
      if (caps.attach) await expectCode(rt.attach("no-such-container", { tty: false }), "NotFound");
      await rt.removeContainer("no-such-container");
      await rt.stopPodSandbox("no-such-sandbox");
      await rt.removePodSandbox("no-such-sandbox");
      expect(await rt.listContainers({ podSandboxId: "no-such-sandbox" })).toEqual([]);
      expect(await rt.listContainers({ id: "no-such-container" })).toEqual([]);
    });

    // --- images ------------------------------------------------------------------------------

    it("pulls, describes, lists and removes images", async () => {
      const img = h.recipes.sleeper.image;
      const ref = await within(h, rt.pullImage({ image: img }), "pull");
      expect(ref).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(await within(h, rt.pullImage({ image: img }), "pull again")).toBe(ref); // idempotent
      const st = await rt.imageStatus({ image: img });
      expect(st?.id).toBe(ref);
      expect(st?.size).toBeGreaterThan(0);
      expect(st?.repoTags.length).toBeGreaterThan(0);
      expect((await rt.imageStatus({ image: ref }))?.id).toBe(ref);
      expect((await rt.listImages()).map((i) => i.id)).toContain(ref);
      await rt.removeImage({ image: img });
      expect(await rt.imageStatus({ image: img })).toBeUndefined();
      await rt.removeImage({ image: img }); // idempotent
    });

    it("fails pulls of missing images with ErrImagePull and creates with ImageNotFound", async () => {
      const p = await pod();
      const err = await expectCode(within(h, rt.pullImage({ image: h.recipes.missingImage }), "failing pull"), "ErrImagePull");
      expect(err.message).toMatch(/\S/);
      expect(await rt.imageStatus({ image: h.recipes.missingImage })).toBeUndefined();
      await expectCode(rt.createContainer(p.id, containerConfig("c", { image: h.recipes.missingImage }), p.config), "ImageNotFound");
    });

    it("rejects malformed image references with InvalidArgument", async () => {
      await expectCode(rt.pullImage({ image: "Not A Valid/Image" }), "InvalidArgument");
      await expectCode(rt.imageStatus({ image: "UPPER/case" }), "InvalidArgument");
      await expectCode(rt.pullImage({ image: "" }), "InvalidArgument");
    });

    it("refuses to remove an image in use (FailedPrecondition), allows it after the container is removed", async () => {
      const p = await pod();
      const id = await container(p, "c", h.recipes.sleeper, { start: false });
      await expectCode(rt.removeImage({ image: h.recipes.sleeper.image }), "FailedPrecondition");
      await rt.removeContainer(id);
      await rt.removeImage({ image: h.recipes.sleeper.image });
      expect(await rt.imageStatus({ image: h.recipes.sleeper.image })).toBeUndefined();
    });

    // --- containers --------------------------------------------------------------------------

    it("creates, starts, stops and removes a container", async () => {
      const p = await pod();
      const id = await container(p, "app", h.recipes.sleeper, { start: false });
      let st = await rt.containerStatus(id);
      expect(st.state).toBe("CREATED");
      expect(st.podSandboxId).toBe(p.id);
      expect(st.metadata).toEqual({ name: "app", attempt: 0 });
      expect(st.imageRef).toMatch(/^sha256:/);
      expect(st.image.image).toBe(h.recipes.sleeper.image);
      expect(st.labels).toEqual({ "io.kubernetes.container.name": "app" });
      expect(st.annotations).toEqual({ "io.kubernetes.container.restartCount": "0" });
      expect(st.logPath).toBe(join(p.config.logDirectory!, "app/0.log"));
      expect(st.startedAt).toBeUndefined();

      await within(h, rt.startContainer(id), "start");
      st = await rt.containerStatus(id);
      expect(st.state).toBe("RUNNING");
      expect(st.startedAt).toBeGreaterThanOrEqual(st.createdAt);
      await expectCode(rt.startContainer(id), "FailedPrecondition");

      await within(h, rt.stopContainer(id, 10), "stop");
      st = await rt.containerStatus(id);
      expect(st.state).toBe("EXITED");
      expect(st.finishedAt).toBeGreaterThanOrEqual(st.startedAt!);
      expect(typeof st.exitCode).toBe("number");
      expect(["Completed", "Error"]).toContain(st.reason);
      await within(h, rt.stopContainer(id, 10), "stop of an exited container"); // no-op
      expect((await rt.containerStatus(id)).finishedAt).toBe(st.finishedAt);

      await rt.removeContainer(id);
      await expectCode(rt.containerStatus(id), "NotFound");
      await rt.removeContainer(id); // idempotent
    });

    it("leaves a CREATED container alone on stop", async () => {
      const p = await pod();
      const id = await container(p, "app", h.recipes.sleeper, { start: false });
      await within(h, rt.stopContainer(id, 1), "stop");
      expect((await rt.containerStatus(id)).state).toBe("CREATED");
    });

    it("rejects a duplicate (name, attempt) in a sandbox with AlreadyExists; the next attempt is fine", async () => {
      const p = await pod();
      await container(p, "app", h.recipes.sleeper, { start: false });
      await expectCode(rt.createContainer(p.id, containerConfig("app", h.recipes.sleeper), p.config), "AlreadyExists");
      const next = await within(h, rt.createContainer(p.id, containerConfig("app", h.recipes.sleeper, 1), p.config), "attempt 1");
      expect((await rt.containerStatus(next)).metadata.attempt).toBe(1);
      // Same name in another sandbox is fine.
      const q = await pod("other");
      await container(q, "app", h.recipes.sleeper, { start: false });
    });

    it("rejects bad container configs with InvalidArgument", async () => {
      const p = await pod();
      await within(h, rt.pullImage({ image: h.recipes.sleeper.image }), "pull");
      const good = containerConfig("app", h.recipes.sleeper);
      await expectCode(rt.createContainer(p.id, { ...good, metadata: { name: "Bad_Name", attempt: 0 } }, p.config), "InvalidArgument");
      await expectCode(rt.createContainer(p.id, { ...good, metadata: { name: "app", attempt: -2 } }, p.config), "InvalidArgument");
      await expectCode(rt.createContainer(p.id, { ...good, logPath: "../escape.log" }, p.config), "InvalidArgument");
      await expectCode(rt.createContainer(p.id, { ...good, image: { image: "" } }, p.config), "InvalidArgument");
      await expectCode(rt.createContainer(p.id, { ...good, resources: { memoryBytesLimit: -1 } }, p.config), "InvalidArgument");
      await expectCode(rt.stopContainer("whatever", -1), "InvalidArgument");
    });

    it("refuses to create containers in a NOTREADY sandbox (FailedPrecondition)", async () => {
      const p = await pod();
      await within(h, rt.pullImage({ image: h.recipes.sleeper.image }), "pull");
      await within(h, rt.stopPodSandbox(p.id), "stopPodSandbox");
      await expectCode(rt.createContainer(p.id, containerConfig("app", h.recipes.sleeper), p.config), "FailedPrecondition");
    });

    it("lists and filters containers by sandbox, state and labels", async () => {
      const p = await pod("p");
      const q = await pod("q");
      const a = await container(p, "a", h.recipes.sleeper);
      const b = await container(p, "b", h.recipes.sleeper, { start: false });
      const c = await container(q, "c", h.recipes.sleeper);
      const ids = async (f?: Parameters<RuntimeService["listContainers"]>[0]): Promise<string[]> => (await rt.listContainers(f)).map((x) => x.id).sort();
      expect(await ids()).toEqual([a, b, c].sort());
      expect(await ids({ podSandboxId: p.id })).toEqual([a, b].sort());
      expect(await ids({ state: "RUNNING" })).toEqual([a, c].sort());
      expect(await ids({ state: "CREATED" })).toEqual([b]);
      expect(await ids({ podSandboxId: p.id, state: "RUNNING" })).toEqual([a]);
      expect(await ids({ labelSelector: { "io.kubernetes.container.name": "c" } })).toEqual([c]);
      expect(await ids({ id: b })).toEqual([b]);
      const listed = (await rt.listContainers({ id: a }))[0]!;
      expect(listed.podSandboxId).toBe(p.id);
      expect(listed.metadata.name).toBe("a");
      expect(listed.state).toBe("RUNNING");
    });

    // --- exit codes, reasons, stop -----------------------------------------------------------

    it("reports exit code 0 as Completed and non-zero as Error", async () => {
      const p = await pod();
      const ok = await exited(await container(p, "ok", h.recipes.exitWith(0)));
      expect(ok.exitCode).toBe(0);
      expect(ok.reason).toBe("Completed");
      expect(ok.finishedAt).toBeGreaterThanOrEqual(ok.startedAt!);
      const bad = await exited(await container(p, "bad", h.recipes.exitWith(3)));
      expect(bad.exitCode).toBe(3);
      expect(bad.reason).toBe("Error");
    });

    if (caps.oomKill) {
      it("reports an OOM kill as OOMKilled with 137", async () => {
        expect(h.recipes.oom, "caps.oomKill needs recipes.oom").toBeDefined();
        const p = await pod();
        const st = await exited(await container(p, "hog", h.recipes.oom!));
        expect(st.exitCode).toBe(137);
        expect(st.reason).toBe("OOMKilled");
      });
    } else {
      it(`cannot produce OOM kills (declared unsupported by ${name})`, () => {
        expect(h.recipes.oom).toBeUndefined();
      });
    }

    it("stops gracefully: SIGTERM ends a well-behaved container before the timeout", async () => {
      const p = await pod();
      const id = await container(p, "app", h.recipes.sleeper);
      await h.wait(100);
      await within(h, rt.stopContainer(id, 30), "stop");
      const st = await rt.containerStatus(id);
      expect(st.state).toBe("EXITED");
      expect(st.finishedAt! - st.startedAt!).toBeLessThan(10_000);
    });

    it("stops forcibly: SIGKILL (137) after the timeout when SIGTERM is ignored", async () => {
      const p = await pod();
      const id = await container(p, "stubborn", h.recipes.ignoresTerm);
      await h.wait(200);
      let done = false;
      const stopping = rt.stopContainer(id, 1).finally(() => {
        done = true;
      });
      await h.wait(500);
      expect(done).toBe(false); // still within the grace period
      expect((await rt.containerStatus(id)).state).toBe("RUNNING");
      await within(h, stopping, "stop after the timeout", 5000);
      const st = await rt.containerStatus(id);
      expect(st.exitCode).toBe(137);
      expect(st.reason).toBe("Error");
      expect(st.finishedAt! - st.startedAt!).toBeGreaterThanOrEqual(1100);
    });

    it("kills at once with timeout 0", async () => {
      const p = await pod();
      const id = await container(p, "stubborn", h.recipes.ignoresTerm);
      await within(h, rt.stopContainer(id, 0), "stop", 2000);
      expect((await rt.containerStatus(id)).exitCode).toBe(137);
    });

    // --- logs --------------------------------------------------------------------------------

    const logRecords = (path: string): CriLogRecord[] =>
      readFileSync(path, "utf8")
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => parseCriRecord(new TextEncoder().encode(l)));

    it("writes container output as CRI log lines to sandbox logDirectory + logPath", async () => {
      const p = await pod();
      const id = await container(p, "printer", h.recipes.printer([
        { stream: "stdout", text: "hello" },
        { stream: "stderr", text: "oops" },
        { stream: "stdout", text: "bye" },
      ]));
      const st = await exited(id);
      const raw = readFileSync(st.logPath!, "utf8");
      for (const line of raw.split("\n").filter((l) => l !== "")) {
        expect(line).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2}) (stdout|stderr) [FP] /);
      }
      const recs = logRecords(st.logPath!).filter((r) => !r.partial);
      const out = recs.filter((r) => r.stream === "stdout").map(recordText);
      const err = recs.filter((r) => r.stream === "stderr").map(recordText);
      expect(out.filter((t) => t === "hello" || t === "bye")).toEqual(["hello", "bye"]);
      expect(err).toContain("oops");
      // The shared reader: tail and stream selection.
      const tail: string[] = [];
      for await (const r of readCriLog(st.logPath!, { tail: 1, stream: "stdout" })) tail.push(recordText(r));
      expect(tail.length).toBeLessThanOrEqual(1);
      const stderrOnly: string[] = [];
      for await (const r of readCriLog(st.logPath!, { stream: "stderr" })) stderrOnly.push(recordText(r));
      expect(stderrOnly).toContain("oops");
    });

    it("supports tail and since on a running container's log", async () => {
      const p = await pod();
      const id = await container(p, "ticker", h.recipes.ticker(100));
      const path = (await rt.containerStatus(id)).logPath!;
      await until(h, () => {
        try {
          return logRecords(path).length >= 5;
        } catch {
          return false;
        }
      }, "5 log lines");
      const all = logRecords(path);
      const tail2: CriLogRecord[] = [];
      for await (const r of readCriLog(path, { tail: 2 })) tail2.push(r);
      expect(tail2.length).toBe(2);
      const since = all[2]!.timeMs;
      const after: CriLogRecord[] = [];
      for await (const r of readCriLog(path, { sinceMs: since })) after.push(r);
      expect(after.length).toBeGreaterThanOrEqual(all.length - 2);
      expect(after.every((r) => r.timeMs >= since)).toBe(true);
      await within(h, rt.stopContainer(id, 5), "stop");
    });

    it("follows a log until the container exits", async () => {
      const p = await pod();
      const id = await container(p, "ticker", h.recipes.ticker(100));
      const path = (await rt.containerStatus(id)).logPath!;
      const got: CriLogRecord[] = [];
      const follower = (async () => {
        for await (const r of readCriLog(path, {
          follow: true,
          pollMs: 5,
          isDone: async () => (await rt.containerStatus(id)).state === "EXITED",
        })) {
          got.push(r);
        }
      })();
      await until(h, () => got.length >= 3, "3 followed records");
      await within(h, rt.stopContainer(id, 5), "stop");
      await within(h, follower, "the follower to end after the exit");
      expect(got.every((r) => r.stream === "stdout")).toBe(true);
      const onDisk = logRecords(path);
      expect(got.length).toBe(onDisk.length);
    });

    it("rotates logs by size, keeping at most maxFiles files", async () => {
      const p = await pod();
      const id = await container(p, "chatty", h.recipes.lines(300));
      const st = await exited(id);
      const path = st.logPath!;
      const dir = dirname(path);
      const base = path.slice(dir.length + 1);
      const files = readdirSync(dir).filter((f) => f === base || f.startsWith(`${base}.`));
      expect(files.length).toBeGreaterThan(1);
      expect(files.length).toBeLessThanOrEqual(LOG_ROTATION.maxFiles);
      for (const f of files) expect(statSync(join(dir, f)).size).toBeLessThanOrEqual(LOG_ROTATION.maxBytes);
      const current = logRecords(path).map(recordText);
      expect(current[current.length - 1]).toBe("line 299");
      const rotated = logRecords(`${path}.1`).map(recordText);
      expect(rotated.length).toBeGreaterThan(0);
      // The newest rotated file ends right where the live one starts.
      const lastRotated = Number(rotated[rotated.length - 1]!.split(" ")[1]);
      const firstCurrent = Number(current[0]!.split(" ")[1]);
      expect(firstCurrent).toBe(lastRotated + 1);
    });

    // --- sandbox teardown --------------------------------------------------------------------

    it("stopPodSandbox kills running containers; removePodSandbox removes them", async () => {
      const p = await pod();
      const a = await container(p, "a", h.recipes.ignoresTerm);
      const b = await container(p, "b", h.recipes.sleeper, { start: false });
      const other = await pod("other");
      const c = await container(other, "c", h.recipes.sleeper);
      await within(h, rt.stopPodSandbox(p.id), "stopPodSandbox", 5000);
      expect((await rt.containerStatus(a)).state).toBe("EXITED");
      expect((await rt.listContainers({ podSandboxId: p.id })).length).toBe(2);
      await within(h, rt.removePodSandbox(p.id), "removePodSandbox");
      await expectCode(rt.containerStatus(a), "NotFound");
      await expectCode(rt.containerStatus(b), "NotFound");
      expect(await rt.listContainers({ podSandboxId: p.id })).toEqual([]);
      expect((await rt.containerStatus(c)).state).toBe("RUNNING");
    });

    // --- restart -----------------------------------------------------------------------------

    // --- stats -------------------------------------------------------------------------------

    it("reports usage: CPU grows while a busy container runs, memory is in use, stopped containers report zeros", async () => {
      const p = await pod();
      const busyRecipe = h.recipes.busy ?? { image: h.recipes.sleeper.image, command: ["sh", "-c", "while :; do :; done"] };
      const busy = await container(p, "busy", busyRecipe);
      const idle = await container(p, "idle", h.recipes.sleeper);
      try {
        await h.wait(100);
        const a = await rt.containerStats(busy);
        expect(a).toMatchObject({ id: busy, podSandboxId: p.id, metadata: { name: "busy", attempt: 0 } });
        expect(a.labels["io.kubernetes.container.name"]).toBe("busy");
        let b: ContainerStats = a;
        await until(h, async () => {
          b = await rt.containerStats(busy);
          return b.cpu.usageCoreNanoSeconds > a.cpu.usageCoreNanoSeconds && b.cpu.timestamp > a.cpu.timestamp;
        }, "the busy container's CPU usage to grow", 5000, 100);
        expect(b.cpu.usageCoreNanoSeconds).toBeGreaterThan(0);
        expect(b.memory.workingSetBytes).toBeGreaterThan(0);
        expect(b.memory.rssBytes).toBeGreaterThan(0);
        expect(b.memory.usageBytes).toBeGreaterThanOrEqual(b.memory.workingSetBytes);
        expect(b.memory.timestamp).toBeGreaterThan(0);

        const all = (await rt.listContainerStats()).map((s) => s.id);
        expect(all).toEqual(expect.arrayContaining([busy, idle]));
        expect((await rt.listContainerStats({ podSandboxId: p.id })).map((s) => s.id).sort()).toEqual([busy, idle].sort());
        expect((await rt.listContainerStats({ id: idle })).map((s) => s.id)).toEqual([idle]);
        expect((await rt.listContainerStats({ labelSelector: { "io.kubernetes.container.name": "idle" } })).map((s) => s.id)).toContain(idle);
        expect((await rt.listContainerStats({ labelSelector: { "io.kubernetes.container.name": "idle" } })).map((s) => s.id)).not.toContain(busy);
      } finally {
        await within(h, rt.stopContainer(busy, 0), "stop the busy container");
      }
      await exited(busy);
      const stopped = await rt.containerStats(busy);
      expect(stopped.cpu.usageCoreNanoSeconds).toBe(0);
      expect(stopped.memory.workingSetBytes).toBe(0);
      expect((await rt.listContainerStats({ podSandboxId: p.id })).map((s) => s.id)).toEqual([idle]);
      await expectCode(rt.containerStats("no-such-container"), "NotFound");
    });

    it("rebuilds its state after the client restarts", async () => {
      const p = await pod();
      const running = await container(p, "running", h.recipes.sleeper);
      const done = await container(p, "done", h.recipes.exitWith(4));
      await exited(done);
      const before = {
        sandboxes: (await rt.listPodSandboxes()).map((s) => s.id).sort(),
        containers: (await rt.listContainers()).map((c) => `${c.id}:${c.state}`).sort(),
      };
      const old = rt;
      rt = await h.reopen();
      await expectCode(old.listContainers(), "Unavailable");
      expect((await rt.listPodSandboxes()).map((s) => s.id).sort()).toEqual(before.sandboxes);
      expect((await rt.listContainers()).map((c) => `${c.id}:${c.state}`).sort()).toEqual(before.containers);
      const st = await rt.containerStatus(done);
      expect(st.exitCode).toBe(4);
      expect(st.labels).toEqual({ "io.kubernetes.container.name": "done" });
      expect(st.annotations).toEqual({ "io.kubernetes.container.restartCount": "0" });
      expect((await rt.podSandboxStatus(p.id)).metadata).toEqual(p.config.metadata);
      await within(h, rt.stopContainer(running, 5), "stop via the new client");
      expect((await rt.containerStatus(running)).state).toBe("EXITED");
      await within(h, rt.removePodSandbox(p.id), "remove via the new client");
      expect(await rt.listContainers({ podSandboxId: p.id })).toEqual([]);
    });

    // --- events ------------------------------------------------------------------------------

    if (caps.events) {
      it("pushes CREATED, STARTED, STOPPED and DELETED events", async () => {
        const p = await pod();
        const events: ContainerEvent[] = [];
        const iter = rt.events!()[Symbol.asyncIterator]();
        const pump = (async () => {
          for (let i = 0; i < 4; i++) {
            const r = await iter.next();
            if (r.done) return;
            events.push(r.value);
          }
          await iter.return?.();
        })();
        const id = await container(p, "app", h.recipes.exitWith(0));
        await exited(id);
        await rt.removeContainer(id);
        await within(h, pump, "4 events");
        const mine = events.filter((e) => e.containerId === id);
        expect(mine.map((e) => e.type)).toEqual(["CREATED", "STARTED", "STOPPED", "DELETED"]);
        expect(mine.every((e) => e.podSandboxId === p.id && e.podUid === p.config.metadata.uid)).toBe(true);
      });
    } else {
      it(`has no event stream (declared unsupported by ${name}: the kubelet relists)`, () => {
        expect(rt.events).toBeUndefined();
      });
    }

    // --- exec --------------------------------------------------------------------------------

    if (caps.exec) {
      it("execs a command: output streams and exit code", async () => {
        const p = await pod();
        const id = await container(p, "app", h.recipes.sleeper);
        const stdout = collectingSink();
        const stderr = collectingSink();
        const s = await rt.exec(id, ["sh", "-c", "echo out; echo err >&2; exit 3"], { tty: false, stdout, stderr });
        const st = await within(h, s.exit, "exec exit");
        expect(st.exitCode).toBe(3);
        expect(stdout.text()).toBe("out\n");
        expect(stderr.text()).toBe("err\n");
        const r = await within(h, execSync(rt, id, ["echo", "hi"]), "execSync");
        expect(r).toEqual({ stdout: "hi\n", stderr: "", exitCode: 0 });
      });

      it("refuses exec in a container that is not running (FailedPrecondition) and an empty command (InvalidArgument)", async () => {
        const p = await pod();
        const created = await container(p, "created", h.recipes.sleeper, { start: false });
        await expectCode(rt.exec(created, ["true"], { tty: false }), "FailedPrecondition");
        const done = await container(p, "done", h.recipes.exitWith(0));
        await exited(done);
        await expectCode(rt.exec(done, ["true"], { tty: false }), "FailedPrecondition");
        const running = await container(p, "running", h.recipes.sleeper);
        await expectCode(rt.exec(running, [], { tty: false }), "InvalidArgument");
      });

      if (caps.execStdin) {
        it("feeds stdin to an exec'd process (cat)", async () => {
          const p = await pod();
          const id = await container(p, "app", h.recipes.sleeper);
          const stdout = collectingSink();
          const s = await rt.exec(id, ["cat"], { tty: false, stdout, stdin: stdinOf("abc", "def\n") });
          expect((await within(h, s.exit, "cat exit")).exitCode).toBe(0);
          expect(stdout.text()).toBe("abcdef\n");
        });
      } else {
        it(`exec without stdin only (declared by ${name})`, () => {
          expect(caps.execStdin).toBe(false);
        });
      }

      if (caps.execTty) {
        it("merges stderr into stdout with a tty", async () => {
          const p = await pod();
          const id = await container(p, "app", h.recipes.sleeper);
          const stdout = collectingSink();
          const stderr = collectingSink();
          const s = await rt.exec(id, ["sh", "-c", "echo err >&2"], { tty: true, stdout, stderr });
          expect((await within(h, s.exit, "exit")).exitCode).toBe(0);
          expect(stdout.text()).toMatch(/^err\r?\n$/);
          expect(stderr.text()).toBe("");
          s.resize({ width: 80, height: 24 }); // harmless after exit
        });
      } else {
        it(`exec without a tty only (declared by ${name})`, () => {
          expect(caps.execTty).toBe(false);
        });
      }
    } else {
      it(`rejects exec with Unimplemented (declared unsupported by ${name})`, async () => {
        const p = await pod();
        const id = await container(p, "app", h.recipes.sleeper);
        await expectCode(rt.exec(id, ["true"], { tty: false }), "Unimplemented");
      });
    }

    // --- attach / port-forward ---------------------------------------------------------------

    if (caps.attach) {
      it("attaches to a running container's output and sees its exit", async () => {
        const p = await pod();
        const id = await container(p, "ticker", h.recipes.ticker(100));
        const stdout = collectingSink();
        const s = await rt.attach(id, { tty: false, stdout });
        await until(h, () => stdout.length > 0, "attached output");
        await within(h, rt.stopContainer(id, 5), "stop");
        const st = await within(h, s.exit, "attach exit");
        expect(st.exitCode).toBe((await rt.containerStatus(id)).exitCode);
        await expectCode(rt.attach(id, { tty: false }), "FailedPrecondition");
      });
    } else {
      it(`rejects attach with Unimplemented (declared unsupported by ${name})`, async () => {
        const p = await pod();
        const id = await container(p, "app", h.recipes.sleeper);
        await expectCode(rt.attach(id, { tty: false }), "Unimplemented");
      });
    }

    if (caps.portForward) {
      it("forwards a port into the sandbox", async () => {
        const p = await pod();
        await container(p, "echo", h.recipes.echoServer!(8080));
        await h.wait(500);
        const d = await within(h, rt.portForward(p.id, 8080), "portForward");
        await d.write(new TextEncoder().encode("ping\n"));
        const it = d.readable[Symbol.asyncIterator]();
        const first = await within(h, it.next(), "echo");
        expect(new TextDecoder().decode(first.value)).toContain("ping");
        d.close();
      });
    } else {
      it(`rejects port-forward with Unimplemented (declared unsupported by ${name})`, async () => {
        const p = await pod();
        await expectCode(rt.portForward(p.id, 8080), "Unimplemented");
        await expectCode(rt.portForward("no-such-sandbox", 8080), "NotFound");
      });
    }
  });
}
