/**
 * exec/attach over SPDY/3.1 (kubectl <= 1.29, the fallback of newer ones, and
 * `KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false`). The client opens one stream per channel, named by
 * the `streamType` header: error, stdin, stdout, stderr (not with a tty), resize (tty, v3+). The
 * session starts once all expected streams arrived; the result goes on the error stream (v4/v5:
 * Status JSON; v1-v3: failure text), every stream gets a FIN and the session a GOAWAY.
 */
import type { SpdySession, SpdyStream } from "../spdy/session.ts";
import { createSession, emptyQueue, runSession } from "./_session.ts";
import { AsyncQueue } from "../_queue.ts";
import { ResizeDecoder } from "./resize.ts";
import { statusEncoderFor } from "./status.ts";
import type { RemoteCommandOptions, RemoteCommandSession, TerminalSize } from "./types.ts";

/** SPDY protocol versions served (X-Stream-Protocol-Version), client preference wins. */
export const SPDY_PROTOCOLS: readonly string[] = [
  "v5.channel.k8s.io",
  "v4.channel.k8s.io",
  "v3.channel.k8s.io",
  "v2.channel.k8s.io",
  "channel.k8s.io",
];

/** kubelet's DefaultStreamCreationTimeout. */
export const STREAM_CREATION_TIMEOUT_MS = 30_000;

type StreamType = "error" | "stdin" | "stdout" | "stderr" | "resize";

/** Which streams the client must open for these options under this protocol version. */
export function expectedStreams(options: RemoteCommandOptions, protocol: string): Set<StreamType> {
  const want = new Set<StreamType>(["error"]);
  if (options.stdin) want.add("stdin");
  if (options.stdout) want.add("stdout");
  if (options.stderr) want.add("stderr");
  const resizing = protocol !== "channel.k8s.io" && protocol !== "v2.channel.k8s.io";
  if (options.tty && resizing) want.add("resize");
  return want;
}

/**
 * Serves one exec/attach session on a SPDY session. Resolves when it is over. When the streams
 * do not all arrive within `streamCreationTimeoutMs`, the connection is closed without a session.
 */
export async function serveRemoteCommandSpdy(
  spdy: SpdySession,
  protocol: string,
  kind: "exec" | "attach",
  options: RemoteCommandOptions,
  onSession: (s: RemoteCommandSession) => Promise<void>,
  streamCreationTimeoutMs = STREAM_CREATION_TIMEOUT_MS,
): Promise<void> {
  const want = expectedStreams(options, protocol);
  const got = new Map<StreamType, SpdyStream>();
  const incoming = spdy[Symbol.asyncIterator]();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), streamCreationTimeoutMs)));
  try {
    // Bounded by the streams the client opens before the timeout.
    while ([...want].some((t) => !got.has(t))) {
      const r = await Promise.race([incoming.next(), timedOut]);
      if (r === "timeout" || r.done) {
        await spdy.close();
        return;
      }
      const type = r.value.header("streamtype");
      if (type !== undefined && want.has(type as StreamType) && !got.has(type as StreamType)) {
        got.set(type as StreamType, r.value);
      } else {
        drain(r.value); // unexpected or duplicate: replied to, otherwise ignored (as the kubelet does)
      }
    }
  } finally {
    clearTimeout(timer);
  }
  void (async () => {
    // Later streams are ignored; keep taking them so the session never stalls on them.
    for (;;) {
      const r = await incoming.next();
      if (r.done) break;
      drain(r.value);
    }
  })();

  const errorStream = got.get("error");
  const stdinStream = got.get("stdin");
  const stdoutStream = got.get("stdout");
  const stderrStream = got.get("stderr");
  const resizeStream = got.get("resize");
  if (errorStream !== undefined) drain(errorStream);
  const resizes = resizeStream !== undefined ? decodeResizes(resizeStream) : emptyQueue<TerminalSize>();
  const encode = statusEncoderFor(protocol);
  const session = createSession({
    kind,
    transport: "spdy",
    protocol,
    options,
    stdin: stdinStream?.readable ?? emptyQueue<Uint8Array>(),
    resizes,
    clientGone: spdy.signal,
    io: {
      writeStdout: (b) => stdoutStream?.write(b) ?? Promise.resolve(),
      writeStderr: (b) => stderrStream?.write(b) ?? Promise.resolve(),
      closeStdout: () => stdoutStream?.close() ?? Promise.resolve(),
      closeStderr: () => stderrStream?.close() ?? Promise.resolve(),
      writeStatus: async (s) => {
        const bytes = encode(s);
        if (errorStream === undefined) return;
        if (bytes !== undefined) await errorStream.write(bytes);
        await errorStream.close();
      },
      end: async () => {
        await stdinStream?.close();
        await resizeStream?.close();
        await spdy.close();
      },
    },
  });
  await runSession(session, onSession);
}

/** Consumes a stream's data so it never holds up the session. */
function drain(s: SpdyStream): void {
  void (async () => {
    for await (const _ of s.readable) {
      // discarded
    }
  })();
}

function decodeResizes(s: SpdyStream): AsyncQueue<TerminalSize> {
  const q = new AsyncQueue<TerminalSize>(16);
  const d = new ResizeDecoder();
  void (async () => {
    for await (const chunk of s.readable) for (const size of d.push(chunk)) q.push(size);
    q.end();
  })();
  return q;
}
