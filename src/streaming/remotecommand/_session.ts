/**
 * The `RemoteCommandSession` both transports hand out. A transport supplies `SessionIo` (how
 * bytes, the status and the end reach the client) and feeds the stdin/resize queues.
 */
import { AsyncQueue, toBytes } from "../_queue.ts";
import { exitCodeStatus, internalErrorStatus, successStatus, type ExecStatus } from "./status.ts";
import type { OutputStream, RemoteCommandOptions, RemoteCommandResult, RemoteCommandSession, TerminalSize } from "./types.ts";

export interface SessionIo {
  writeStdout(chunk: Uint8Array): Promise<void>;
  writeStderr(chunk: Uint8Array): Promise<void>;
  closeStdout(): Promise<void>;
  closeStderr(): Promise<void>;
  /** Sends the status on the error stream (encoded per protocol version). */
  writeStatus(status: ExecStatus): Promise<void>;
  /** Ends the connection after everything above was sent. */
  end(): Promise<void>;
}

export interface SessionParts {
  readonly kind: "exec" | "attach";
  readonly transport: "websocket" | "spdy";
  readonly protocol: string;
  readonly options: RemoteCommandOptions;
  readonly stdin: AsyncIterable<Uint8Array>;
  readonly resizes: AsyncIterable<TerminalSize>;
  /** Aborted by the transport when the client went away. */
  readonly clientGone: AbortSignal;
  readonly io: SessionIo;
}

export function createSession(p: SessionParts): RemoteCommandSession {
  const abort = new AbortController();
  const onGone = (): void => abort.abort(new Error("client went away"));
  if (p.clientGone.aborted) onGone();
  else p.clientGone.addEventListener("abort", onGone, { once: true });
  let finished: Promise<void> | undefined;
  const live = (): boolean => finished === undefined && !abort.signal.aborted;
  const output = (requested: boolean, write: (b: Uint8Array) => Promise<void>, close: () => Promise<void>): OutputStream => {
    let closed = false;
    return {
      write: (chunk) => (requested && !closed && live() ? write(toBytes(chunk)) : Promise.resolve()),
      close: () => {
        if (!requested || closed || !live()) return Promise.resolve();
        closed = true;
        return close();
      },
    };
  };
  const stdout = output(p.options.stdout, (b) => p.io.writeStdout(b), () => p.io.closeStdout());
  const stderr = output(p.options.stderr, (b) => p.io.writeStderr(b), () => p.io.closeStderr());
  return {
    kind: p.kind,
    transport: p.transport,
    protocol: p.protocol,
    options: p.options,
    stdin: p.stdin,
    resizes: p.resizes,
    stdout,
    stderr,
    signal: abort.signal,
    finish(result: RemoteCommandResult): Promise<void> {
      if (typeof result === "number" && (!Number.isInteger(result) || result < 0 || result > 255)) {
        throw new RangeError(`exit code must be an integer in 0..255, got ${result}`);
      }
      if (finished !== undefined) return finished;
      const status = typeof result === "number"
        ? (result === 0 ? successStatus() : exitCodeStatus(result, p.options.command))
        : internalErrorStatus(p.kind, result);
      finished = (async () => {
        if (!abort.signal.aborted) {
          if (p.options.stdout) await p.io.closeStdout();
          if (p.options.stderr) await p.io.closeStderr();
          await p.io.writeStatus(status);
        }
        await p.io.end();
        abort.abort(new Error("session finished"));
      })();
      return finished;
    },
  };
}

/**
 * Runs the consumer: resolving without `finish` finishes with exit code 0; a rejection finishes
 * with the error (InternalError). Never rejects.
 */
export async function runSession(s: RemoteCommandSession, onSession: (s: RemoteCommandSession) => Promise<void>): Promise<void> {
  try {
    await onSession(s);
    await s.finish(0);
  } catch (err) {
    try {
      await s.finish(err instanceof Error ? err : new Error(String(err)));
    } catch {
      // finish threw (bad exit code passed by the consumer): end with an internal error instead
      await s.finish(new Error("invalid exit code"));
    }
  }
}

/** An ended queue, for streams that were not requested. */
export function emptyQueue<T>(): AsyncQueue<T> {
  const q = new AsyncQueue<T>();
  q.end();
  return q;
}
