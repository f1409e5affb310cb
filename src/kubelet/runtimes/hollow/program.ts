/**
 * What a hollow container does, decided once per (image, command, args) and shared by every
 * container with the same inputs: a `Program` of steps (print, sleep, exit, loop) plus how it
 * reacts to SIGTERM, and whether pulling or starting fails. Pure: no clock, no I/O.
 *
 * Resolution order (first that applies):
 * 1. User rules (`HollowRule`), first match on image and/or command line.
 * 2. An explicit `command` (plus `args`) that the hollow shell understands: `sh -c "…"`, or a
 *    builtin such as `sleep 5`, `echo hi`, `true`, `false`.
 * 3. Built-in images `hollow/<kind>[:param]` (any registry), see `HOLLOW_IMAGE_KINDS`.
 * 4. For other images, `args` alone the way an image's CMD would run them (busybox-style).
 * 5. Anything else runs until stopped, like a server (nginx, pause, …), and exits 0 on SIGTERM.
 */
import { parseImageReference } from "../../runtime/image.ts";
import {
  echoText,
  exitStatus,
  ignoresTerm,
  parseScript,
  SHELL_BUILTINS,
  shellScriptOf,
  sleepMs,
  type Statement,
} from "./shell.ts";

export type Step =
  | { readonly op: "out"; readonly stream: "stdout" | "stderr"; readonly text: string }
  | { readonly op: "sleep"; readonly ms: number }
  | { readonly op: "exit"; readonly code: number; readonly oomKilled?: boolean }
  /** Jump back to step 0 (programs with `loop` always contain a positive sleep). */
  | { readonly op: "loop" };

export interface Program {
  readonly steps: readonly Step[];
  /** SIGTERM is ignored (only SIGKILL at the stop timeout ends it: 137). */
  readonly ignoreTerm: boolean;
  /** Time from SIGTERM to exit. */
  readonly termDelayMs: number;
  /** Exit code when SIGTERM ends it (0 for servers, 143 = 128+SIGTERM for commands run by the shell). */
  readonly termExitCode: number;
  /** Start fails with this message (`ContainerCannotRun`). */
  readonly cannotRun?: string;
  /** Overrides the runtime's start latency. */
  readonly startLatencyMs?: number;
  /** Where the program came from, for messages and tests. */
  readonly source: string;
}

/** A user rule: behaviour for containers whose image and/or command line match. */
export interface HollowRule {
  /**
   * Glob (`*` = any run of characters) on the normalized image (`docker.io/library/nginx:1.25`)
   * or on the image as written in the pod spec. Absent: any image.
   */
  readonly image?: string;
  /** Glob on the command line (`command` + `args` joined by single spaces). Absent: any. */
  readonly command?: string;
  readonly behavior: HollowBehavior;
}

export interface HollowBehavior {
  /** Lines printed to stdout at start. */
  readonly output?: readonly string[];
  /** How long it runs before exiting on its own; absent or Infinity: until stopped. */
  readonly runMs?: number;
  /** Exit code when it ends on its own (default 0). */
  readonly exitCode?: number;
  /** Ends as OOMKilled with 137 after `runMs`. */
  readonly oomKilled?: boolean;
  /** `pullImage` fails with this message (true: a default "not found" message). Only image-matching rules apply to pulls. */
  readonly failPull?: string | true;
  /** `startContainer` fails with this message (`ContainerCannotRun`). */
  readonly cannotRun?: string | true;
  readonly ignoreSigterm?: boolean;
  /** Time from SIGTERM to exit (default 0). */
  readonly stopDelayMs?: number;
  /** Exit code on SIGTERM (default 0). */
  readonly stopExitCode?: number;
  /** Overrides the runtime's start latency. */
  readonly startLatencyMs?: number;
}

/** Built-in `hollow/<kind>` images; the tag is the parameter. */
export const HOLLOW_IMAGE_KINDS: Readonly<Record<string, string>> = {
  sleep: "runs until stopped (also the default for every non-hollow image)",
  "exit:N": "exits with code N right after starting (default 0)",
  "run:MS": "runs MS milliseconds, then exits 0 (Job-style; default 1000)",
  "crash:MS": "runs MS milliseconds, prints to stderr, exits 1 (default 1000)",
  "oom:MS": "runs MS milliseconds, then is OOMKilled with 137 (default 1000)",
  "ticker:MS": "prints `tick` every MS milliseconds until stopped (default 1000)",
  "lines:N": "prints `line 0` … `line N-1` (N <= 100000), then exits 0",
  "ignore-term": "ignores SIGTERM: only the SIGKILL at the stop timeout ends it (137)",
  "slow-stop:MS": "exits 0 MS milliseconds after SIGTERM (default 1000)",
  "cannot-run": "start fails: EXITED, reason ContainerCannotRun, exit code 128",
  "fail-pull": "pullImage fails with ErrImagePull",
};

const FOREVER: Program = { steps: [{ op: "sleep", ms: Infinity }], ignoreTerm: false, termDelayMs: 0, termExitCode: 0, source: "default" };

/** The outcome of resolving an image for a pull: ok, or the failure message. */
export type PullVerdict = { readonly ok: true } | { readonly ok: false; readonly message: string };

function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`);
}

const globCache = new Map<string, RegExp>();
function globMatch(glob: string, s: string): boolean {
  let re = globCache.get(glob);
  if (re === undefined) {
    if (globCache.size > 1000) globCache.clear();
    re = globToRegExp(glob);
    globCache.set(glob, re);
  }
  return re.test(s);
}

function ruleMatchesImage(r: HollowRule, image: string, normalized: string): boolean {
  return r.image === undefined || globMatch(r.image, normalized) || globMatch(r.image, image);
}

/** Kind and parameter of a `hollow/<kind>[:tag]` image, or undefined for other images. */
function hollowKind(image: string): { kind: string; param: string | undefined } | undefined {
  let ref;
  try {
    ref = parseImageReference(image);
  } catch {
    return undefined;
  }
  if (!ref.path.startsWith("hollow/")) return undefined;
  const kind = ref.path.slice("hollow/".length);
  return { kind, param: ref.tag === "latest" ? undefined : ref.tag };
}

function intParam(p: string | undefined, dflt: number, max: number): number | undefined {
  if (p === undefined) return dflt;
  if (!/^\d+$/.test(p)) return undefined;
  const n = Number(p);
  return n <= max ? n : undefined;
}

const MAX_MS = 365 * 24 * 3600 * 1000;

/** Program of a built-in hollow image; a string is the reason the image is invalid. */
function hollowImageProgram(kind: string, param: string | undefined): Program | string {
  const base = { ignoreTerm: false, termDelayMs: 0, termExitCode: 0, source: `hollow/${kind}${param !== undefined ? `:${param}` : ""}` };
  const ms = (dflt: number): number | string => intParam(param, dflt, MAX_MS) ?? `tag "${param}" must be milliseconds (0-${MAX_MS})`;
  switch (kind) {
    case "sleep":
    case "fail-pull":
      return { ...base, steps: FOREVER.steps };
    case "exit": {
      const code = intParam(param, 0, 255);
      return code === undefined ? `tag "${param}" must be an exit code 0-255` : { ...base, steps: [{ op: "exit", code }] };
    }
    case "run": {
      const t = ms(1000);
      return typeof t === "string" ? t : { ...base, steps: [{ op: "sleep", ms: t }, { op: "exit", code: 0 }] };
    }
    case "crash": {
      const t = ms(1000);
      return typeof t === "string"
        ? t
        : { ...base, steps: [{ op: "sleep", ms: t }, { op: "out", stream: "stderr", text: "hollow: crashing" }, { op: "exit", code: 1 }] };
    }
    case "oom": {
      const t = ms(1000);
      return typeof t === "string" ? t : { ...base, steps: [{ op: "sleep", ms: t }, { op: "exit", code: 137, oomKilled: true }] };
    }
    case "ticker": {
      const t = ms(1000);
      if (typeof t === "string") return t;
      if (t === 0) return `tag "${param}" must be > 0 ms`;
      return { ...base, steps: [{ op: "out", stream: "stdout", text: "tick" }, { op: "sleep", ms: t }, { op: "loop" }] };
    }
    case "lines": {
      const n = intParam(param, 10, 100_000);
      if (n === undefined) return `tag "${param}" must be a line count 0-100000`;
      const steps: Step[] = [];
      for (let i = 0; i < n; i++) steps.push({ op: "out", stream: "stdout", text: `line ${i}` });
      steps.push({ op: "exit", code: 0 });
      return { ...base, steps };
    }
    case "ignore-term":
      return { ...base, steps: FOREVER.steps, ignoreTerm: true };
    case "slow-stop": {
      const t = ms(1000);
      return typeof t === "string" ? t : { ...base, steps: FOREVER.steps, termDelayMs: t };
    }
    case "cannot-run":
      return { ...base, steps: FOREVER.steps, cannotRun: `hollow/cannot-run: the container's process could not be started` };
    default:
      return `unknown hollow image kind "${kind}" (known: ${Object.keys(HOLLOW_IMAGE_KINDS).map((k) => k.split(":")[0]).join(", ")})`;
  }
}

function behaviorProgram(b: HollowBehavior, source: string): Program {
  const steps: Step[] = (b.output ?? []).map((text) => ({ op: "out", stream: "stdout", text }));
  const run = b.runMs ?? Infinity;
  if (b.oomKilled) steps.push({ op: "sleep", ms: run }, { op: "exit", code: 137, oomKilled: true });
  else steps.push({ op: "sleep", ms: run }, { op: "exit", code: b.exitCode ?? 0 });
  return {
    steps: run === 0 ? steps.filter((s) => s.op !== "sleep") : steps,
    ignoreTerm: b.ignoreSigterm ?? false,
    termDelayMs: b.stopDelayMs ?? 0,
    termExitCode: b.stopExitCode ?? 0,
    ...(b.cannotRun !== undefined ? { cannotRun: b.cannotRun === true ? `${source}: the container's process could not be started` : b.cannotRun } : {}),
    ...(b.startLatencyMs !== undefined ? { startLatencyMs: b.startLatencyMs } : {}),
    source,
  };
}

/**
 * Compiles shell statements into a container program. The shell's statuses are static (no
 * variables), so `&&` / `||` are resolved here. Returns undefined when the first command is not
 * something the hollow shell knows (the container is then treated as an opaque server).
 */
export function compileStatements(stmts: readonly Statement[], source: string, isShell: boolean): Program | undefined {
  if (stmts.length === 0) return undefined;
  if (!isShell && !SHELL_BUILTINS.includes(stmts[0]!.argv[0]!)) return undefined;
  const steps: Step[] = [];
  let status = 0;
  let ignoreTerm = false;
  for (const st of stmts) {
    if ((st.connector === "&&" && status !== 0) || (st.connector === "||" && status === 0)) continue;
    const [cmd, ...args] = st.argv as [string, ...string[]];
    const stream = st.toStderr ? "stderr" : "stdout";
    switch (cmd) {
      case "echo": {
        const text = echoText(args);
        for (const line of text.replace(/\n$/, "").split("\n")) steps.push({ op: "out", stream, text: line });
        status = 0;
        break;
      }
      case "exit": {
        const code = exitStatus(args[0], status);
        if (code === undefined) {
          steps.push({ op: "out", stream: "stderr", text: `sh: exit: Illegal number: ${args[0]}` });
          steps.push({ op: "exit", code: 2 });
        } else {
          steps.push({ op: "exit", code });
        }
        return { steps, ignoreTerm, termDelayMs: 0, termExitCode: 143, source };
      }
      case "sleep": {
        const ms = sleepMs(args[0]);
        if (ms === undefined) {
          steps.push({ op: "out", stream: "stderr", text: `sleep: invalid number '${args[0] ?? ""}'` });
          status = 1;
        } else {
          steps.push({ op: "sleep", ms });
          status = 0;
          if (ms === Infinity) return { steps, ignoreTerm, termDelayMs: 0, termExitCode: 143, source };
        }
        break;
      }
      case "trap":
        if (ignoresTerm(st.argv)) ignoreTerm = true;
        status = 0;
        break;
      case "true":
      case ":":
      case "cat":
      case "hostname":
      case "env":
      case "printenv":
      case "pwd":
        status = 0;
        break;
      case "false":
        status = 1;
        break;
      default:
        steps.push({ op: "out", stream: "stderr", text: `sh: ${cmd}: not found` });
        status = 127;
    }
  }
  steps.push({ op: "exit", code: status });
  return { steps, ignoreTerm, termDelayMs: 0, termExitCode: 143, source };
}

/** The program of an explicit command line, or undefined if the hollow shell does not know it. */
function commandProgram(argv: readonly string[]): Program | undefined {
  if (argv.length === 0) return undefined;
  const script = shellScriptOf(argv);
  if (script !== undefined) {
    try {
      return compileStatements(parseScript(script), `sh -c ${JSON.stringify(script)}`, true);
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      return { steps: [{ op: "out", stream: "stderr", text: `sh: ${msg}` }, { op: "exit", code: 2 }], ignoreTerm: false, termDelayMs: 0, termExitCode: 143, source: "sh -c (bad script)" };
    }
  }
  return compileStatements([{ argv, toStderr: false, connector: ";" }], argv.join(" "), false);
}

export interface ProgramInput {
  readonly image: string;
  /** `image` normalized (docker.io/library/…). */
  readonly normalizedImage: string;
  readonly command?: readonly string[];
  readonly args?: readonly string[];
}

/**
 * Resolves programs for containers, caching by input so thousands of identical containers share
 * one Program. The rules are fixed for the resolver's life.
 */
export class ProgramResolver {
  readonly #rules: readonly HollowRule[];
  readonly #cache = new Map<string, Program>();
  readonly #ruleProgram = new WeakMap<HollowRule, Program>();

  constructor(rules: readonly HollowRule[] = []) {
    this.#rules = rules;
  }

  /** Whether `image` can be pulled, by the user rules and the built-in hollow images. */
  pullVerdict(image: string, normalized: string): PullVerdict {
    for (const r of this.#rules) {
      if (r.command !== undefined || !ruleMatchesImage(r, image, normalized)) continue;
      const f = r.behavior.failPull;
      if (f !== undefined) return { ok: false, message: f === true ? `${normalized}: not found` : f };
      break;
    }
    const hk = hollowKind(normalized);
    if (hk === undefined) return { ok: true };
    if (hk.kind === "fail-pull") return { ok: false, message: `failed to pull and unpack image "${normalized}": not found (hollow/fail-pull never pulls)` };
    const p = hollowImageProgram(hk.kind, hk.param);
    return typeof p === "string" ? { ok: false, message: `failed to pull image "${normalized}": ${p}` } : { ok: true };
  }

  /** The program for a container (see the module comment for the order). */
  resolve(input: ProgramInput): Program {
    const cmdLine = [...(input.command ?? []), ...(input.args ?? [])].join(" ");
    const key = `${input.normalizedImage}\u0000${input.command?.join("\u0001") ?? "\u0002"}\u0000${input.args?.join("\u0001") ?? "\u0002"}`;
    const hit = this.#cache.get(key);
    if (hit !== undefined) return hit;
    const p = this.#compute(input, cmdLine);
    if (this.#cache.size >= 10_000) this.#cache.clear();
    this.#cache.set(key, p);
    return p;
  }

  #compute(input: ProgramInput, cmdLine: string): Program {
    for (const r of this.#rules) {
      if (!ruleMatchesImage(r, input.image, input.normalizedImage)) continue;
      if (r.command !== undefined && !globMatch(r.command, cmdLine)) continue;
      let p = this.#ruleProgram.get(r);
      if (p === undefined) {
        p = behaviorProgram(r.behavior, `rule ${r.image ?? "*"} ${r.command ?? "*"}`);
        this.#ruleProgram.set(r, p);
      }
      return p;
    }
    if (input.command !== undefined && input.command.length > 0) {
      const p = commandProgram([...input.command, ...(input.args ?? [])]);
      if (p !== undefined) return p;
    }
    const hk = hollowKind(input.normalizedImage);
    if (hk !== undefined) {
      const p = hollowImageProgram(hk.kind, hk.param);
      // An invalid hollow image cannot be pulled, so it never gets here unless preloaded: run it as a server.
      return typeof p === "string" ? FOREVER : p;
    }
    if (input.args !== undefined && input.args.length > 0) {
      const p = commandProgram(input.args);
      if (p !== undefined) return p;
    }
    return FOREVER;
  }
}
