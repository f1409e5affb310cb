/**
 * Port-forward over a SPDY session (plain SPDY, or SPDY inside the WebSocket tunnel): for each
 * local connection the client opens an error stream, then a data stream, both carrying
 * `streamType`, `port` and `requestID`. Complete pairs become `PortForwardStream`s; a request
 * whose second stream does not arrive within `streamCreationTimeoutMs` gets an error message.
 */
import { AsyncQueue } from "../_queue.ts";
import type { SpdySession, SpdyStream } from "../spdy/session.ts";
import { parsePort, requestIdOf, StreamPairer } from "./pairs.ts";
import type { PortForwardSession, PortForwardStream } from "./types.ts";

export interface PortForwardOptions {
  /** Default 30 s (kubelet's stream creation timeout). */
  readonly streamCreationTimeoutMs?: number;
}

/**
 * Wraps a SPDY session whose streams were validated with `validateStreamHeaders` (pass it as the
 * session's `accept`).
 */
export function portForwardSession(
  spdy: SpdySession,
  transport: "websocket" | "spdy",
  protocol: string,
  opts: PortForwardOptions = {},
): PortForwardSession {
  const out = new AsyncQueue<PortForwardStream>(1_000_000);
  const pairer = new StreamPairer<SpdyStream>();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const timeoutMs = opts.streamCreationTimeoutMs ?? 30_000;
  void (async () => {
    for await (const stream of spdy) {
      const type = stream.header("streamtype") === "data" ? "data" : "error";
      if (type === "error") drain(stream); // the client only reads it
      const requestId = requestIdOf(stream.headers, stream.id);
      const r = pairer.add(requestId, type, stream);
      if (r.kind === "created") {
        const t = setTimeout(() => {
          timers.delete(t);
          const e = pairer.expire(requestId);
          if (e.expired && e.errorStream !== undefined) {
            void writeAndClose(e.errorStream, `(request=${requestId}) timed out waiting for streams`);
          }
        }, timeoutMs);
        timers.add(t);
      } else if (r.kind === "duplicate") {
        if (r.errorStream !== undefined) void r.errorStream.write(new TextEncoder().encode(r.message));
        void stream.reset();
      } else if (r.kind === "complete") {
        out.push(pairStream(r.error, r.data, requestId));
      }
    }
    for (const t of timers) clearTimeout(t);
    out.end();
  })();
  return {
    transport,
    protocol,
    signal: spdy.signal,
    close: () => spdy.close(),
    [Symbol.asyncIterator]: () => out[Symbol.asyncIterator](),
  };
}

function pairStream(error: SpdyStream, data: SpdyStream, requestId: string): PortForwardStream {
  const abort = new AbortController();
  const gone = (): void => abort.abort(new Error("port-forward stream reset or session ended"));
  data.signal.addEventListener("abort", gone, { once: true });
  error.signal.addEventListener("abort", gone, { once: true });
  return {
    port: parsePort(data.header("port") ?? "") ?? 0,
    requestId,
    data: {
      readable: data.readable,
      write: (chunk) => data.write(chunk),
      close: () => data.close(),
    },
    reportError: (message) => writeAndClose(error, message),
    end: async () => {
      await data.close();
      await error.close();
    },
    signal: abort.signal,
  };
}

async function writeAndClose(s: SpdyStream, message: string): Promise<void> {
  await s.write(new TextEncoder().encode(message));
  await s.close();
}

function drain(s: SpdyStream): void {
  void (async () => {
    for await (const _ of s.readable) {
      // the client writes nothing here; whatever comes is discarded
    }
  })();
}

/**
 * Runs `handler` for every forwarded connection, concurrently. When it resolves the connection
 * ends (FIN on both streams); when it rejects, its message goes to the error stream first.
 * Resolves when the session is over and every handler settled.
 */
export async function forEachPortForward(
  session: PortForwardSession,
  handler: (s: PortForwardStream) => Promise<void>,
): Promise<void> {
  const running = new Set<Promise<void>>();
  for await (const s of session) {
    const p = (async () => {
      try {
        await handler(s);
      } catch (err) {
        await s.reportError(err instanceof Error ? err.message : String(err));
      }
      await s.end();
    })();
    running.add(p);
    void p.finally(() => running.delete(p));
  }
  await Promise.all(running);
}
