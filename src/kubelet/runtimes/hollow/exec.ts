/**
 * `exec` in hollow containers: the hollow shell's builtins run against a StreamIO, so `kubectl exec`
 * (and exec probes) can be tested against hollow pods. Commands: `sh -c SCRIPT` and the builtins
 * of shell.ts run directly (`echo hi`, `cat`, `env`, …). An unknown program exits 127 with
 * `<name>: command not found` on stderr; sleeps run on the runtime's timer queue (fake time in tests).
 */
import type { TimerQueue } from "../../runtime/timers.ts";
import type { ByteSink, ExitStatus, StreamIO, StreamSession } from "../../runtime/types.ts";
import { echoText, exitStatus, parseScript, shellScriptOf, sleepMs, type Statement } from "./shell.ts";

const enc = new TextEncoder();

export interface ExecContext {
  readonly hostname: string;
  readonly env: readonly { key: string; value: string }[];
  readonly workingDir: string;
  readonly timers: TimerQueue;
}

/** Thrown inside the interpreter to end the session with a status. */
class Exit {
  constructor(readonly code: number) {}
}

/** Starts `cmd`; the returned session's `exit` resolves when it is done or `abort` was called. */
export function startExec(cmd: readonly string[], ctx: ExecContext, io: StreamIO): StreamSession & { abort(code: number, message: string): void } {
  let aborted: ((st: ExitStatus) => void) | undefined;
  const abortP = new Promise<ExitStatus>((resolve) => {
    aborted = resolve;
  });
  let closed = false;
  const stdout: ByteSink | undefined = io.stdout;
  const stderr: ByteSink | undefined = io.tty ? io.stdout : io.stderr;
  const write = async (sink: ByteSink | undefined, text: string): Promise<void> => {
    if (sink === undefined || closed || text === "") return;
    const data = enc.encode(io.tty ? text.replaceAll("\n", "\r\n") : text);
    await sink.write(data);
  };
  const sleep = (ms: number): Promise<void> =>
    new Promise<void>((resolve) => {
      if (ms === Infinity) return; // until aborted
      ctx.timers.schedule(ms, resolve);
    });

  const runStatement = async (st: Statement, last: number): Promise<number> => {
    const [name, ...args] = st.argv as [string, ...string[]];
    const out = st.toStderr ? stderr : stdout;
    switch (name) {
      case "echo":
        await write(out, echoText(args));
        return 0;
      case "exit": {
        const code = exitStatus(args[0], last);
        if (code === undefined) {
          await write(stderr, `sh: exit: Illegal number: ${args[0]}\n`);
          throw new Exit(2);
        }
        throw new Exit(code);
      }
      case "true":
      case ":":
      case "trap":
        return 0;
      case "false":
        return 1;
      case "sleep": {
        const ms = sleepMs(args[0]);
        if (ms === undefined) {
          await write(stderr, `sleep: invalid number '${args[0] ?? ""}'\n`);
          return 1;
        }
        await sleep(ms);
        return 0;
      }
      case "cat": {
        if (args.length > 0) {
          await write(stderr, `cat: ${args[0]}: No such file or directory\n`);
          return 1;
        }
        if (io.stdin === undefined) return 0;
        for await (const chunk of io.stdin) {
          if (closed) break;
          if (out !== undefined) await out.write(chunk);
        }
        return 0;
      }
      case "hostname":
        await write(out, `${ctx.hostname}\n`);
        return 0;
      case "pwd":
        await write(out, `${ctx.workingDir}\n`);
        return 0;
      case "env":
        await write(out, ctx.env.map((e) => `${e.key}=${e.value}\n`).join(""));
        return 0;
      case "printenv": {
        if (args.length === 0) {
          await write(out, ctx.env.map((e) => `${e.key}=${e.value}\n`).join(""));
          return 0;
        }
        let status = 0;
        for (const a of args) {
          const e = ctx.env.findLast((x) => x.key === a);
          if (e === undefined) status = 1;
          else await write(out, `${e.value}\n`);
        }
        return status;
      }
      default:
        await write(stderr, `${name}: command not found\n`);
        return 127;
    }
  };

  const run = async (): Promise<ExitStatus> => {
    const script = shellScriptOf(cmd);
    let stmts: Statement[];
    if (script !== undefined) {
      try {
        stmts = parseScript(script);
      } catch (err) {
        await write(stderr, `sh: ${err instanceof Error ? err.message : String(err)}\n`);
        return { exitCode: 2 };
      }
    } else {
      stmts = [{ argv: cmd, toStderr: false, connector: ";" }];
    }
    let status = 0;
    try {
      for (const st of stmts) {
        if ((st.connector === "&&" && status !== 0) || (st.connector === "||" && status === 0)) continue;
        status = await runStatement(st, status);
        if (closed) break;
      }
    } catch (e) {
      if (e instanceof Exit) return { exitCode: e.code };
      throw e;
    }
    return { exitCode: status };
  };

  const exit = Promise.race([run(), abortP]).finally(() => {
    closed = true;
  });
  return {
    exit,
    resize(): void {
      // Hollow processes draw nothing; a resize has no effect.
    },
    close(): void {
      if (closed) return;
      closed = true;
      aborted?.({ exitCode: 137, message: "session closed by the client" });
    },
    abort(code: number, message: string): void {
      if (closed) return;
      closed = true;
      aborted?.({ exitCode: code, message });
    },
  };
}
