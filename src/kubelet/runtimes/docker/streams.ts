/**
 * exec, attach and port-forward on Docker.
 *
 * - exec: `POST /containers/{id}/exec` + a hijacked `POST /exec/{id}/start` connection carrying
 *   stdin one way and the multiplexed (or, with a tty, raw) output the other; EOF of the client's
 *   stdin half-closes the connection, which Docker turns into EOF on the process's stdin. The exit
 *   code comes from `GET /exec/{id}/json` once the stream ended. Docker cannot kill an exec'd
 *   process, so `close()` kills it by its host PID (works when the daemon runs on this host, as a
 *   node agent's does).
 * - attach: a hijacked `POST /containers/{id}/attach?stream=1`; the exit code from
 *   `POST /containers/{id}/wait`.
 * - port-forward: a helper process entering the sandbox container's network namespace
 *   (`nsenter --net=/proc/<pid>/ns/net`) and connecting to 127.0.0.1:<port> there, bridging its
 *   stdio to the socket — the same thing the kubelet's dockershim did with nsenter + socat. The
 *   traffic never leaves the pod's network namespace. Needs root and a daemon on this host.
 */
import { spawn } from "node:child_process";
import type { Duplex } from "node:stream";
import { RuntimeError } from "../../runtime/errors.ts";
import type { ByteDuplex, ByteSink, ExitStatus, StreamIO, StreamSession, TerminalSize } from "../../runtime/types.ts";
import type { DockerContainer, DockerExec } from "./client.ts";
import { FrameDemuxer } from "./logpump.ts";

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Copies the hijacked connection's output to the sinks (in order, honouring sink backpressure); resolves at the end of the stream. */
function pumpOutput(sock: Duplex, tty: boolean, stdout: ByteSink | undefined, stderr: ByteSink | undefined): Promise<void> {
  const demux = new FrameDemuxer();
  let chain: Promise<void> = Promise.resolve();
  const deliver = async (sink: ByteSink | undefined, data: Uint8Array): Promise<void> => {
    if (sink === undefined || data.length === 0) return;
    await sink.write(data);
  };
  return new Promise<void>((resolve) => {
    let ended = false;
    const end = (): void => {
      if (ended) return;
      ended = true;
      chain.then(resolve, resolve);
    };
    sock.on("data", (chunk: Buffer) => {
      const bytes = new Uint8Array(chunk);
      sock.pause();
      chain = chain
        .then(async () => {
          if (tty) await deliver(stdout, bytes);
          else for (const f of demux.push(bytes)) await deliver(f.stream === "stderr" ? stderr : stdout, f.payload);
        })
        .catch(() => {
          // A sink that fails (client gone) ends delivery; the process keeps its exit code.
        })
        .finally(() => sock.resume());
    });
    sock.on("end", end);
    sock.on("close", end);
    sock.on("error", end);
  });
}

/** Feeds `stdin` into the connection and half-closes it at EOF. */
async function pumpStdin(sock: Duplex, stdin: AsyncIterable<Uint8Array>, isClosed: () => boolean): Promise<void> {
  try {
    for await (const chunk of stdin) {
      if (isClosed() || sock.destroyed) return;
      if (!sock.write(chunk)) await new Promise<void>((r) => sock.once("drain", r));
    }
    if (!sock.destroyed) sock.end();
  } catch {
    if (!sock.destroyed) sock.end();
  }
}

/** Runs `cmd` in `container` (RUNNING: checked by the caller). */
export async function startExec(container: DockerContainer, cmd: readonly string[], io: StreamIO): Promise<StreamSession> {
  const hasStdin = io.stdin !== undefined;
  const ex: DockerExec = await container.exec({ Cmd: [...cmd], AttachStdin: hasStdin, AttachStdout: true, AttachStderr: !io.tty, Tty: io.tty });
  const sock = await ex.start({ hijack: true, stdin: hasStdin, Tty: io.tty });
  let closed = false;
  let settle!: (s: ExitStatus) => void;
  const exit = new Promise<ExitStatus>((r) => {
    settle = r;
  });
  const output = pumpOutput(sock, io.tty, io.stdout, io.tty ? io.stdout : io.stderr);
  if (io.stdin !== undefined) void pumpStdin(sock, io.stdin, () => closed);
  void output.then(async () => {
    // The stream ends as the process exits; Docker records the exit code a moment later.
    for (let i = 0; i < 100; i++) {
      const st = await ex.inspect().catch(() => undefined);
      if (st === undefined) break;
      if (st.Running !== true && typeof st.ExitCode === "number") return settle({ exitCode: st.ExitCode });
      await sleep(i < 10 ? 5 : 20);
    }
    settle({ exitCode: 137, message: closed ? "session closed by the client" : "exit code of the exec'd process unknown" });
  });
  return {
    exit,
    resize(size: TerminalSize): void {
      if (io.tty && !closed) void ex.resize({ h: size.height, w: size.width }).catch(() => {});
    },
    close(): void {
      if (closed) return;
      closed = true;
      void (async () => {
        // Docker starts the process just after the hijack: wait (bounded) until it has a PID or an exit.
        for (let i = 0; i < 50; i++) {
          const st = await ex.inspect();
          if (st.Running === true && typeof st.Pid === "number" && st.Pid > 0) {
            process.kill(st.Pid, "SIGKILL");
            return;
          }
          if (typeof st.ExitCode === "number") return;
          await sleep(20);
        }
      })()
        .catch(() => {})
        .finally(() => {
          sock.destroy();
          settle({ exitCode: 137, message: "session closed by the client" });
        });
    },
  };
}

/** Attaches to `container`'s main process (RUNNING: checked by the caller). */
export async function startAttach(container: DockerContainer, io: StreamIO, opts: { containerTty: boolean; containerStdin: boolean }): Promise<StreamSession> {
  const useStdin = io.stdin !== undefined && opts.containerStdin;
  const sock = await container.attach({ stream: true, stdin: useStdin, stdout: true, stderr: true, hijack: true });
  let closed = false;
  const tty = opts.containerTty;
  const output = pumpOutput(sock, tty, io.stdout, tty ? io.stdout : io.stderr);
  if (useStdin) void pumpStdin(sock, io.stdin!, () => closed);
  else if (io.stdin !== undefined) void (async () => {
    for await (const _ of io.stdin!) if (closed) break; // drained: the container reads no stdin
  })().catch(() => {});
  let settle!: (s: ExitStatus) => void;
  const exit = new Promise<ExitStatus>((r) => {
    settle = r;
  });
  void container
    .wait({ condition: "not-running" })
    .then(async (w) => {
      await Promise.race([output, sleep(2000)]);
      settle({ exitCode: w.StatusCode });
    })
    .catch((err: unknown) => settle({ exitCode: 137, message: `wait failed: ${String(err)}` }));
  return {
    exit,
    resize(size: TerminalSize): void {
      if (tty && !closed) void container.resize({ h: size.height, w: size.width }).catch(() => {});
    },
    close(): void {
      if (closed) return;
      closed = true;
      sock.destroy();
      settle({ exitCode: 0, message: "detached by the client" });
    },
  };
}

/**
 * The helper run inside the pod's network namespace: connects to 127.0.0.1:<port>, writes one
 * status byte (0 = connected; 1 + message = failed), then bridges stdin/stdout to the socket with
 * half-close in both directions.
 */
const HELPER = `
const net = require("node:net");
const s = net.connect({ host: "127.0.0.1", port: Number(process.argv[1]), allowHalfOpen: true });
let connected = false;
s.on("connect", () => {
  connected = true;
  process.stdout.write(Buffer.from([0]));
  process.stdin.pipe(s);
  s.pipe(process.stdout);
});
s.on("error", (e) => {
  if (!connected) process.stdout.write(Buffer.concat([Buffer.from([1]), Buffer.from(String(e.message))]));
  process.exitCode = 1;
  s.destroy();
});
s.on("close", () => process.stdout.end());
`;

/** A byte stream to 127.0.0.1:`port` inside the network namespace of process `pid`. */
export async function portForwardNsenter(pid: number, port: number, opts: { nsenter?: string; node?: string } = {}): Promise<ByteDuplex> {
  const child = spawn(opts.nsenter ?? "nsenter", [`--net=/proc/${pid}/ns/net`, "--", opts.node ?? process.execPath, "-e", HELPER, String(port)], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => {
    if (stderr.length < 4096) stderr += c.toString();
  });
  const out = child.stdout;
  // The first byte says whether the connection inside the namespace was made.
  const first = await new Promise<Buffer>((resolve, reject) => {
    const onData = (c: Buffer): void => {
      out.off("end", onEnd);
      out.off("data", onData);
      out.pause();
      resolve(c);
    };
    const onEnd = (): void => {
      out.off("data", onData);
      reject(new RuntimeError("Unavailable", `port-forward helper exited: ${stderr.trim() || "no output"}`));
    };
    out.on("data", onData);
    out.once("end", onEnd);
    child.once("error", (err) => reject(new RuntimeError("Unavailable", `cannot start the port-forward helper (nsenter): ${err.message}`)));
  });
  if (first[0] !== 0) {
    child.kill("SIGKILL");
    throw new RuntimeError("Unavailable", `nothing accepts connections on port ${port} in the pod: ${first.subarray(1).toString()}`);
  }
  const rest = first.subarray(1);
  const readable: AsyncIterable<Uint8Array> = {
    async *[Symbol.asyncIterator]() {
      if (rest.length > 0) yield new Uint8Array(rest);
      for await (const c of out) yield new Uint8Array(c as Buffer);
    },
  };
  return {
    readable,
    async write(chunk: Uint8Array): Promise<void> {
      if (child.stdin.destroyed || child.stdin.writableEnded) throw new RuntimeError("Unavailable", "port-forward stream is closed");
      if (!child.stdin.write(chunk)) await new Promise<void>((r) => child.stdin.once("drain", r));
    },
    async end(): Promise<void> {
      if (!child.stdin.writableEnded) child.stdin.end();
    },
    close(): void {
      child.stdin.destroy();
      out.destroy();
      child.kill("SIGKILL");
    },
  };
}
