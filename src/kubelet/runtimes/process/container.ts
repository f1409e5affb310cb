/**
 * A container as the process runtime holds it in memory: its record plus the live plumbing —
 * readers on the stdout/stderr FIFOs feeding the CRI log writer and attached clients, the write
 * end of its stdin FIFO, exec sessions to end with it, and the promise of its exit.
 */
import type { ChildProcess } from "node:child_process";
import { closeSync, constants, existsSync, openSync } from "node:fs";
import { Socket } from "node:net";
import { CriLogWriter, type LogRotation, type LogStream } from "../../runtime/logs.ts";
import type { ContainerCgroup } from "./limits.ts";
import type { ContainerRecord } from "./state.ts";
import { fifoPaths } from "./shim.ts";

/** An attached client (or anything else following the output). */
export interface OutputListener {
  output(stream: LogStream, chunk: Uint8Array): void;
  exited(exitCode: number): void;
}

/** Something to end when the container ends (exec sessions). */
export interface Killable {
  kill(): void;
}

export class LiveContainer {
  record: ContainerRecord;
  readonly dir: string;
  readonly listeners = new Set<OutputListener>();
  readonly execs = new Set<Killable>();
  /** Set while startContainer runs (a second start is refused). */
  starting = false;
  /** Our child (when this client spawned the shim) and how it ended. */
  child: ChildProcess | undefined;
  childExit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  /** Found running at recovery: liveness is polled. */
  adopted = false;
  /** We sent SIGKILL (stop timeout, sandbox stop, removal). */
  killed = false;
  /** The RSS watchdog killed it for exceeding its memory limit. */
  oomByWatchdog = false;
  cgroup: ContainerCgroup | undefined;
  /** The pod's address and working dir / env used by exec (set at start or recovery). */
  cwd = "/";
  env: Record<string, string> = {};
  finalizing: Promise<void> | undefined;
  readonly exited: Promise<void>;
  #resolveExited!: () => void;
  #log: CriLogWriter | undefined;
  #readers: Socket[] = [];
  #readersEnded: Promise<void> = Promise.resolve();
  #stdin: Socket | undefined;

  constructor(record: ContainerRecord, dir: string) {
    this.record = record;
    this.dir = dir;
    this.exited = new Promise((r) => {
      this.#resolveExited = r;
    });
  }

  markExited(): void {
    this.#resolveExited();
  }

  /**
   * Opens the log writer (when `logPath`) and readers on the output FIFOs. `fresh`: the FIFOs were
   * just made and no writer has opened them yet (called before the spawn, so output of a program
   * that exits at once is not lost). Otherwise (a recovered container) writers may exist or be gone
   * already: a throwaway writer open/close makes the kernel report the hang-up once the last writer
   * is gone (a FIFO reader only sees EPOLLHUP for writers that opened after it).
   */
  openIo(logPath: string | undefined, rotation: LogRotation | undefined, fresh: boolean): void {
    if (logPath !== undefined) this.#log = new CriLogWriter(logPath, rotation ?? {});
    const f = fifoPaths(this.dir);
    const ends: Promise<void>[] = [];
    for (const stream of ["stdout", "stderr"] as const) {
      const path = stream === "stdout" ? f.out : f.err;
      if (!existsSync(path)) continue;
      const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
      if (!fresh) closeQuietly(openSync(path, constants.O_WRONLY | constants.O_NONBLOCK));
      const sock = new Socket({ fd, readable: true, writable: false });
      this.#readers.push(sock);
      sock.on("data", (chunk: Buffer) => this.#output(stream, chunk));
      ends.push(
        new Promise<void>((resolve) => {
          sock.once("end", resolve);
          sock.once("close", () => resolve());
          sock.once("error", () => resolve());
        }),
      );
    }
    this.#readersEnded = Promise.all(ends).then(() => undefined);
    if (!fresh && this.record.config.stdin === true && existsSync(f.in)) {
      try {
        this.setStdin(openSync(f.in, constants.O_WRONLY | constants.O_NONBLOCK));
      } catch {
        // no reader left (the program closed its stdin)
      }
    }
  }

  /** Takes our non-blocking write end of the stdin FIFO. */
  setStdin(fd: number): void {
    const w = new Socket({ fd, readable: false, writable: true });
    w.on("error", () => {});
    this.#stdin = w;
  }

  #output(stream: LogStream, chunk: Buffer): void {
    try {
      this.#log?.write(stream, chunk);
    } catch {
      // A full or vanished log directory must not take the agent down; output still reaches attach.
    }
    for (const l of this.listeners) l.output(stream, chunk);
  }

  /** Writes to the container's stdin; false when it has none (or it was closed). */
  async writeStdin(chunk: Uint8Array): Promise<boolean> {
    const w = this.#stdin;
    if (w === undefined || w.destroyed) return false;
    if (!w.write(chunk)) {
      await new Promise<void>((resolve) => {
        w.once("drain", resolve);
        w.once("close", resolve);
      });
    }
    return true;
  }

  get hasStdin(): boolean {
    return this.#stdin !== undefined && !this.#stdin.destroyed;
  }

  /** Closes our end of stdin (the program sees EOF once no other writer is left). */
  closeStdin(): void {
    this.#stdin?.end();
    this.#stdin = undefined;
  }

  /** Waits for the output FIFOs to reach EOF (all writers gone), at most `ms`. */
  async drain(ms: number): Promise<void> {
    let t: NodeJS.Timeout | undefined;
    await Promise.race([this.#readersEnded, new Promise<void>((r) => (t = setTimeout(r, ms)))]);
    if (t !== undefined) clearTimeout(t);
  }

  /** Stops reading and closes the log (flushing unterminated lines). Idempotent. */
  closeIo(): void {
    for (const r of this.#readers) r.destroy();
    this.#readers = [];
    this.#stdin?.destroy();
    this.#stdin = undefined;
    try {
      this.#log?.close();
    } catch {
      // ignore: the file may be gone
    }
    this.#log = undefined;
  }
}

/** Closes a raw fd, ignoring errors. */
export function closeQuietly(fd: number | undefined): void {
  if (fd === undefined) return;
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}
