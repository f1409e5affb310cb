/**
 * Small helpers around `StreamIO` / `StreamSession` shared by runtimes, the kubelet and tests:
 * collecting sinks, stdin from a list of chunks, and `execSync` (the CRI ExecSync used by exec probes).
 */
import type { Clock } from "./clock.ts";
import { systemClock } from "./clock.ts";
import { RuntimeError } from "./errors.ts";
import type { ByteSink, RuntimeService } from "./types.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A sink that keeps everything written to it. */
export interface CollectingSink extends ByteSink {
  readonly chunks: Uint8Array[];
  /** Everything so far as UTF-8 text. */
  text(): string;
  /** Total bytes so far. */
  readonly length: number;
}

/** A sink collecting up to `limit` bytes (default 16 MiB); more is dropped and `truncated` set. */
export function collectingSink(limit = 16 * 1024 * 1024): CollectingSink & { truncated: boolean } {
  const chunks: Uint8Array[] = [];
  let length = 0;
  const sink = {
    chunks,
    truncated: false,
    get length(): number {
      return length;
    },
    write(chunk: Uint8Array): void {
      if (length + chunk.length > limit) {
        sink.truncated = true;
        chunk = chunk.subarray(0, Math.max(0, limit - length));
      }
      if (chunk.length === 0) return;
      chunks.push(chunk.slice());
      length += chunk.length;
    },
    text(): string {
      const all = new Uint8Array(length);
      let o = 0;
      for (const c of chunks) {
        all.set(c, o);
        o += c.length;
      }
      return dec.decode(all);
    },
  };
  return sink;
}

/** Stdin that yields the given chunks (strings as UTF-8) and then EOF. */
export async function* stdinOf(...chunks: (string | Uint8Array)[]): AsyncGenerator<Uint8Array> {
  for (const c of chunks) yield typeof c === "string" ? enc.encode(c) : c;
}

export interface ExecSyncResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

/**
 * Runs `cmd` in the container without a terminal and collects its output (CRI ExecSync).
 * `timeoutMs` (> 0) bounds the run on `clock`: past it the session is closed and the call rejects
 * `RuntimeError("DeadlineExceeded")`. Rejects like `RuntimeService.exec` otherwise.
 */
export async function execSync(
  runtime: RuntimeService,
  containerId: string,
  cmd: readonly string[],
  opts: { timeoutMs?: number; stdin?: AsyncIterable<Uint8Array>; clock?: Clock; maxOutputBytes?: number } = {},
): Promise<ExecSyncResult> {
  const stdout = collectingSink(opts.maxOutputBytes);
  const stderr = collectingSink(opts.maxOutputBytes);
  const session = await runtime.exec(containerId, cmd, {
    tty: false,
    stdout,
    stderr,
    ...(opts.stdin !== undefined ? { stdin: opts.stdin } : {}),
  });
  const timeoutMs = opts.timeoutMs;
  if (timeoutMs === undefined) {
    const st = await session.exit;
    return { stdout: stdout.text(), stderr: stderr.text(), exitCode: st.exitCode };
  }
  if (!(timeoutMs > 0)) throw new RuntimeError("InvalidArgument", `timeoutMs must be > 0, got ${timeoutMs}`);
  const clock = opts.clock ?? systemClock;
  let handle: ReturnType<Clock["setTimeout"]> | undefined;
  const timedOut = new Promise<"timeout">((resolve) => {
    handle = clock.setTimeout(() => resolve("timeout"), timeoutMs);
  });
  try {
    const r = await Promise.race([session.exit, timedOut]);
    if (r === "timeout") {
      session.close();
      throw new RuntimeError("DeadlineExceeded", `command ${JSON.stringify(cmd)} timed out after ${timeoutMs} ms`);
    }
    return { stdout: stdout.text(), stderr: stderr.text(), exitCode: r.exitCode };
  } finally {
    if (handle !== undefined) clock.clearTimeout(handle);
  }
}
