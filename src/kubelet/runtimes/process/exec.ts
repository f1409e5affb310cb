/**
 * exec in a process-runtime container: a new process group with the container's working directory,
 * environment (pod IP included) and cgroup. With a terminal it runs under `script` (util-linux),
 * which allocates a pty: output is the terminal's (stderr merged, `\r\n` line ends, input echoed) and
 * `resize` sets the pty size with `stty -F` (the kernel then sends SIGWINCH).
 */
import { execFile, spawn } from "node:child_process";
import { readlinkSync } from "node:fs";
import type { Readable } from "node:stream";
import type { ByteSink, ExitStatus, StreamIO, StreamSession, TerminalSize } from "../../runtime/types.ts";
import { childrenOf, killGroup } from "./proc.ts";

/** Quotes one word for /bin/sh. */
export function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

export interface ExecTarget {
  readonly cwd: string;
  readonly env: Record<string, string>;
  /** argv with argv[0] resolved to an executable path. */
  readonly argv: readonly string[];
  /** `script` binary for tty sessions. */
  readonly script?: string;
  /** Called with the pid right after the spawn (cgroup placement). */
  readonly onSpawn?: (pid: number) => void;
}

const signalNumber = (sig: NodeJS.Signals): number => {
  const table: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGABRT: 6, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15 };
  return table[sig] ?? 1;
};

/** 128+n for a signal, the code otherwise (what a shell reports). */
export function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return signal !== null ? 128 + signalNumber(signal) : 255;
}

async function pump(from: Readable, to: ByteSink | undefined): Promise<void> {
  for await (const chunk of from) {
    if (to === undefined) continue;
    try {
      await to.write(chunk as Buffer);
    } catch {
      to = undefined; // the client went away; keep draining so the process is not blocked
    }
  }
}

/** A session whose process never started (command not found): prints `message`, exits `code`. */
export function failedSession(io: StreamIO, code: number, message: string): StreamSession {
  const sink = io.tty ? io.stdout : io.stderr;
  const exit = (async (): Promise<ExitStatus> => {
    try {
      await sink?.write(new TextEncoder().encode(`${message}${io.tty ? "\r\n" : "\n"}`));
    } catch {
      // ignore a gone client
    }
    return { exitCode: code, message };
  })();
  return { exit, resize: () => {}, close: () => {} };
}

/** Starts the process; resolves once it runs. */
export async function startExec(target: ExecTarget, io: StreamIO): Promise<StreamSession & { kill(): void }> {
  const [file, ...args] = target.argv;
  const tty = io.tty && target.script !== undefined;
  const env = tty ? { TERM: "xterm", ...target.env } : target.env;
  const child = tty
    ? spawn(target.script!, ["-qefc", target.argv.map(shellQuote).join(" "), "/dev/null"], { cwd: target.cwd, env, detached: true, stdio: "pipe" })
    : spawn(file!, args, { cwd: target.cwd, env, detached: true, stdio: "pipe" });
  await new Promise<void>((resolve, reject) => {
    child.once("spawn", resolve);
    child.once("error", reject);
  });
  const pid = child.pid!;
  target.onSpawn?.(pid);
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("close", (code, signal) => resolve({ code, signal }));
  });
  const outDone = pump(child.stdout!, io.stdout);
  const errDone = pump(child.stderr!, io.tty ? io.stdout : io.stderr);
  child.stdin!.on("error", () => {});
  if (io.stdin === undefined) {
    child.stdin!.end();
  } else {
    const stdin = io.stdin;
    void (async () => {
      for await (const chunk of stdin) {
        if (child.stdin!.destroyed) break;
        if (!child.stdin!.write(chunk)) await new Promise<void>((r) => child.stdin!.once("drain", r));
      }
      child.stdin!.end();
    })().catch(() => child.stdin!.destroy());
  }
  let ended = false;
  let abortMessage: string | undefined;
  const exit = (async (): Promise<ExitStatus> => {
    const r = await closed;
    ended = true;
    await Promise.all([outDone, errDone]);
    const exitCode = exitCodeOf(r.code, r.signal);
    return abortMessage !== undefined ? { exitCode, message: abortMessage } : { exitCode };
  })();
  const kill = (message = "container exited"): void => {
    if (ended) return;
    abortMessage ??= message;
    killGroup(pid, "SIGKILL");
  };
  return {
    exit,
    kill: () => kill(),
    close: () => kill("session closed by the client"),
    resize: (size: TerminalSize) => {
      if (!tty || ended) return;
      void resizePty(pid, size);
    },
  };
}

/** Sets the size of the pty `script` (pid) created for its child, trying briefly while it starts. */
async function resizePty(scriptPid: number, size: TerminalSize): Promise<void> {
  const w = Math.max(1, Math.min(10_000, Math.floor(size.width)));
  const h = Math.max(1, Math.min(10_000, Math.floor(size.height)));
  for (let attempt = 0; attempt < 10; attempt++) {
    for (const c of childrenOf(scriptPid)) {
      let tty: string;
      try {
        tty = readlinkSync(`/proc/${c}/fd/0`);
      } catch {
        continue;
      }
      if (!tty.startsWith("/dev/pts/")) continue;
      await new Promise<void>((resolve) => execFile("stty", ["-F", tty, "rows", String(h), "cols", String(w)], () => resolve()));
      return;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}
