/**
 * End-to-end harness: starts real `tug server` processes (Node via bin/tug.js, or Deno) on loopback
 * with temp data dirs and OS-picked ports, and runs the real, versioned kubectl binaries against
 * them. Every process is tracked by PID and stopped by the caller (afterAll).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";
import { afterAll } from "vitest";
import { parse as parseYaml } from "yaml";
import { COMPONENTS } from "../../src/server/components.ts";

export const REPO = resolve(dirname(new URL(import.meta.url).pathname), "../..");
export const DENO_BIN = join(REPO, "node_modules/@deno/linux-x64-glibc/deno");

const createdDirs: string[] = [];
// Temp dirs go after the importing test file's own afterAll hooks (which stop the servers), unless
// TUG_E2E_KEEP=1 (to inspect data dirs and reports). Registered at import, i.e. during collection.
afterAll(() => {
  if (process.env["TUG_E2E_KEEP"] === "1") return;
  for (const d of createdDirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A fresh directory under the OS temp dir, removed after the test file (see above). */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `tug-e2e-${prefix}-`));
  createdDirs.push(dir);
  return dir;
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface TugProcess {
  readonly pid: number;
  readonly dataDir: string;
  readonly kubeconfig: string;
  /** `https://127.0.0.1:PORT` read back from the written kubeconfig. */
  readonly url: string;
  readonly port: number;
  /** PEM CA from the kubeconfig. */
  readonly caPem: string;
  /** Admin client certificate and key PEM from the kubeconfig. */
  readonly certPem: string;
  readonly keyPem: string;
  readonly child: ChildProcess;
  readonly exited: Promise<Exit>;
  stdout(): string;
  stderr(): string;
  /** Sends `signal` (default SIGTERM) and waits for exit (SIGKILL after `timeoutMs`). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<Exit>;
}

export interface StartOptions {
  readonly dataDir?: string;
  readonly runtime?: "node" | "deno";
  /** Extra CLI flags (e.g. `--transport uws`). */
  readonly args?: readonly string[];
  /** How long to wait for the kubeconfig (default 30 s; Deno's first run compiles). */
  readonly timeoutMs?: number;
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Run only the required components (the API): no controller, scheduler or agent changes objects
   * underneath, so tests of the API's own behaviour see exactly what they wrote.
   */
  readonly apiOnly?: boolean;
  /**
   * A command the server runs under, e.g. `["nsenter", "--net=/var/run/netns/NAME"]` to serve on a
   * network namespace's own loopback. It must exec the server (nsenter does), so the PID stays the server's.
   */
  readonly prefix?: readonly string[];
}

/** `[file, argv]` of `file argv…` run under `prefix` (none: unchanged). */
export function withPrefix(prefix: readonly string[] | undefined, file: string, argv: readonly string[]): [string, string[]] {
  const [head, ...rest] = prefix ?? [];
  return head === undefined ? [file, [...argv]] : [head, [...rest, file, ...argv]];
}

/** `--disable` flags for every component that can be disabled. */
export function apiOnlyArgs(): string[] {
  return COMPONENTS.filter((c) => !c.required).flatMap((c) => ["--disable", c.name]);
}

/** The argv that runs `tug server` on the given runtime (Deno: the task from deno.json). */
export function tugCommand(runtime: "node" | "deno", args: readonly string[]): { file: string; argv: string[] } {
  if (runtime === "node") return { file: process.execPath, argv: [join(REPO, "bin/tug.js"), "server", ...args] };
  const deno: unknown = JSON.parse(readFileSync(join(REPO, "deno.json"), "utf8"));
  const task = typeof deno === "object" && deno !== null && "tasks" in deno && typeof deno.tasks === "object" &&
      deno.tasks !== null && "server" in deno.tasks && typeof deno.tasks.server === "string"
    ? deno.tasks.server
    : undefined;
  if (task === undefined) throw new Error("deno.json has no tasks.server");
  const words = task.split(/\s+/).filter((w) => w !== "");
  if (words[0] !== "deno") throw new Error(`deno.json tasks.server must start with "deno": ${task}`);
  return { file: DENO_BIN, argv: [...words.slice(1), ...args] };
}

function waitExit(child: ChildProcess): Promise<Exit> {
  return new Promise((res) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      res({ code: child.exitCode, signal: child.signalCode });
      return;
    }
    child.once("exit", (code, signal) => res({ code, signal }));
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `f` every 250 ms until it returns something other than undefined/false, for at most `ms`;
 * a throw counts as "not yet" (the last one is reported). The timeout error names `what` and
 * appends `context()` (e.g. the tail of a process's output).
 */
export async function until<T>(what: string, f: () => Promise<T | undefined | false> | T | undefined | false, ms = 30_000, context?: () => string): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (let i = 0; i < 10_000; i++) {
    try {
      const v = await f();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) break;
    await sleep(250);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}${context ? `\n${context()}` : ""}`);
}

function b64decode(v: unknown): string {
  return typeof v === "string" ? Buffer.from(v, "base64").toString("utf8") : "";
}

interface KubeconfigView {
  server: string;
  ca: string;
  cert: string;
  key: string;
}

export function readKubeconfig(path: string): KubeconfigView {
  const doc: unknown = parseYaml(readFileSync(path, "utf8"));
  const get = (o: unknown, ...keys: (string | number)[]): unknown => {
    let cur = o;
    for (const k of keys) {
      if (typeof cur !== "object" || cur === null) return undefined;
      cur = (cur as Record<string | number, unknown>)[k]; // walking parsed YAML of unknown shape
    }
    return cur;
  };
  const server = get(doc, "clusters", 0, "cluster", "server");
  if (typeof server !== "string") throw new Error(`kubeconfig ${path} has no server`);
  return {
    server,
    ca: b64decode(get(doc, "clusters", 0, "cluster", "certificate-authority-data")),
    cert: b64decode(get(doc, "users", 0, "user", "client-certificate-data")),
    key: b64decode(get(doc, "users", 0, "user", "client-key-data")),
  };
}

/**
 * Starts `tug server --data-dir D --listen 127.0.0.1:0 --kubeconfig-out D/kubeconfig` and resolves
 * once the kubeconfig exists and the process printed its `export KUBECONFIG=` line. Rejects (after
 * killing the process) if it exits first or the timeout passes.
 */
export async function startTug(opts: StartOptions = {}): Promise<TugProcess> {
  const dataDir = opts.dataDir ?? tempDir("data");
  const kubeconfig = join(dataDir, "kubeconfig");
  rmSync(kubeconfig, { force: true });
  const { file, argv } = tugCommand(opts.runtime ?? "node", [
    "--data-dir", dataDir, "--listen", "127.0.0.1:0", "--kubeconfig-out", kubeconfig,
    ...(opts.apiOnly === true ? apiOnlyArgs() : []), ...(opts.args ?? []),
  ]);
  const [cmd, cmdArgs] = withPrefix(opts.prefix, file, argv);
  const child = spawn(cmd, cmdArgs, {
    cwd: REPO,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1", ...(opts.env ?? {}) },
  });
  let out = "";
  let err = "";
  child.stdout?.on("data", (d: Buffer) => { out += d.toString("utf8"); });
  child.stderr?.on("data", (d: Buffer) => { err += d.toString("utf8"); });
  const exited = waitExit(child);
  let done = false;
  void exited.then(() => { done = true; });
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  while (!(existsSync(kubeconfig) && out.includes("export KUBECONFIG="))) {
    if (done) throw new Error(`tug server exited before serving: ${JSON.stringify(await exited)}\nstderr: ${err}\nstdout: ${out}`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      await exited;
      throw new Error(`tug server did not write ${kubeconfig} in time\nstderr: ${err}\nstdout: ${out}`);
    }
    await sleep(50);
  }
  const kc = readKubeconfig(kubeconfig);
  const pid = child.pid;
  if (pid === undefined) throw new Error("no pid");
  return {
    pid,
    dataDir,
    kubeconfig,
    url: kc.server,
    port: Number(new URL(kc.server).port),
    caPem: kc.ca,
    certPem: kc.cert,
    keyPem: kc.key,
    child,
    exited,
    stdout: () => out,
    stderr: () => err,
    async stop(signal: NodeJS.Signals = "SIGTERM", timeoutMs = 15_000): Promise<Exit> {
      if (!done) {
        process.kill(pid, signal);
        const timer = setTimeout(() => { if (!done) process.kill(pid, "SIGKILL"); }, timeoutMs);
        const e = await exited;
        clearTimeout(timer);
        return e;
      }
      return exited;
    },
  };
}

/** Runs `tug <args>` to completion (for start-up failure tests). */
export async function runTug(args: readonly string[], timeoutMs = 30_000): Promise<{ exit: Exit; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [join(REPO, "bin/tug.js"), ...args], {
    cwd: REPO,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d: Buffer) => { stdout += d.toString("utf8"); });
  child.stderr?.on("data", (d: Buffer) => { stderr += d.toString("utf8"); });
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const exit = await waitExit(child);
  clearTimeout(timer);
  return { exit, stdout, stderr };
}

// ---------------------------------------------------------------- kubectl

export type KubectlVersion = "1.30" | "1.32" | "1.33";

function which(cmd: string): string | undefined {
  for (const dir of (process.env["PATH"] ?? "").split(delimiter)) {
    const p = join(dir, cmd);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** Directory holding kubectl.1.NN (beside the resolved `kubectl` dispatcher). */
export function kubectlDir(): string {
  const k = which("kubectl");
  if (k === undefined) throw new Error("kubectl is not on PATH");
  return dirname(realpathSync(k));
}

export function kubectlBinary(version: KubectlVersion): string {
  const p = join(kubectlDir(), `kubectl.${version}`);
  if (!existsSync(p)) {
    throw new Error(`${p} missing; have: ${readdirSync(kubectlDir()).filter((f) => f.startsWith("kubectl.")).join(" ")}`);
  }
  return p;
}

export interface KubectlResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** One kubectl version bound to one server, with its own HOME and discovery cache. */
export class Kubectl {
  readonly bin: string;
  readonly home: string;

  /** `opts.prefix`: a command every kubectl runs under (e.g. `nsenter --net=…`), exec'ing it. */
  constructor(readonly version: KubectlVersion, readonly kubeconfig: string, readonly opts: { readonly prefix?: readonly string[] } = {}) {
    this.bin = kubectlBinary(version);
    this.home = tempDir(`kubectl-${version}`);
  }

  private argv(args: readonly string[]): string[] {
    return ["--kubeconfig", this.kubeconfig, "--cache-dir", join(this.home, "cache"), ...args];
  }

  private env(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: this.home, NO_COLOR: "1" };
    delete env["KUBECONFIG"];
    return env;
  }

  /** Runs kubectl to completion (killed after `timeoutMs`, default 20 s). */
  run(args: readonly string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<KubectlResult> {
    return new Promise((res, rej) => {
      const child = spawn(...withPrefix(this.opts.prefix, this.bin, this.argv(args)), { env: this.env(), stdio: ["pipe", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d: Buffer) => { stdout += d.toString("utf8"); });
      child.stderr.on("data", (d: Buffer) => { stderr += d.toString("utf8"); });
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        rej(new Error(`kubectl ${args.join(" ")} timed out\nstdout: ${stdout}\nstderr: ${stderr}`));
      }, opts.timeoutMs ?? 20_000);
      child.on("error", rej);
      child.on("close", (code) => {
        clearTimeout(timer);
        res({ code, stdout, stderr });
      });
      // kubectl may exit without reading stdin (e.g. `apply -f dir`): EPIPE is not a failure.
      child.stdin.on("error", () => {});
      child.stdin.end(opts.input ?? "");
    });
  }

  /** Runs kubectl and requires exit 0; returns stdout. */
  async ok(args: readonly string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<string> {
    const r = await this.run(args, opts);
    if (r.code !== 0) {
      throw new Error(`kubectl ${this.version} ${args.join(" ")} exited ${String(r.code)}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    }
    return r.stdout;
  }

  /** Runs kubectl expecting a failure; returns stderr. */
  async fails(args: readonly string[], opts: { input?: string } = {}): Promise<string> {
    const r = await this.run(args, opts);
    if (r.code === 0) throw new Error(`kubectl ${args.join(" ")} succeeded unexpectedly: ${r.stdout}`);
    return r.stderr.trim();
  }

  /** Starts a long-running kubectl (e.g. `get -w`); read its output while it runs, then stop it. */
  background(args: readonly string[]): BackgroundKubectl {
    const child = spawn(...withPrefix(this.opts.prefix, this.bin, this.argv(args)), { env: this.env(), stdio: ["ignore", "pipe", "pipe"] });
    return new BackgroundKubectl(child);
  }

  cleanup(): void {
    rmSync(this.home, { recursive: true, force: true });
  }
}

export class BackgroundKubectl {
  private out = "";
  private err = "";
  private readonly exited: Promise<Exit>;

  constructor(private readonly child: ChildProcess) {
    child.stdout?.on("data", (d: Buffer) => { this.out += d.toString("utf8"); });
    child.stderr?.on("data", (d: Buffer) => { this.err += d.toString("utf8"); });
    this.exited = waitExit(child);
  }

  stdout(): string {
    return this.out;
  }

  /** Resolves with stdout once it matches `re` (rejects after `timeoutMs`). */
  async waitFor(re: RegExp, timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (!re.test(this.out)) {
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for ${String(re)}\nstdout: ${this.out}\nstderr: ${this.err}`);
      }
      await sleep(50);
    }
    return this.out;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGTERM");
    await this.exited;
  }
}

/** Column cells of a kubectl table row (split on runs of 2+ spaces... or 3 spaces as kubectl pads). */
export function tableRows(output: string): string[][] {
  return output.split("\n").filter((l) => l.trim() !== "").map((l) => l.trim().split(/\s{2,}/));
}
