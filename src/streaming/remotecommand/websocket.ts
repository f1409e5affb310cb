/**
 * exec/attach over WebSocket: `v5.channel.k8s.io` (kubectl 1.30+) and `v4.channel.k8s.io`.
 * Every binary message is `[channel][payload]`: 0 stdin, 1 stdout, 2 stderr, 3 error (Status
 * JSON), 4 resize; v5 adds 255 = `[255, channel]`, the client's half-close of that channel (it
 * sends `[255, 0]` at stdin EOF). The session ends with the status on channel 3 and a close frame
 * 1000. The server sends no 255 messages: client-go logs unknown channels as errors.
 */
import { AsyncQueue } from "../_queue.ts";
import type { WebSocketConnection } from "../websocket/connection.ts";
import { createSession, emptyQueue, runSession } from "./_session.ts";
import { ResizeDecoder } from "./resize.ts";
import { encodeStatusJson } from "./status.ts";
import { Channel, StreamProtocolV5, type RemoteCommandOptions, type RemoteCommandSession, type TerminalSize } from "./types.ts";

/** WebSocket subprotocols served, in preference order. */
export const WEBSOCKET_PROTOCOLS: readonly string[] = ["v5.channel.k8s.io", "v4.channel.k8s.io"];

function framed(channel: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(payload.byteLength + 1);
  out[0] = channel;
  out.set(payload, 1);
  return out;
}

/** Serves one exec/attach session on an open WebSocket. Resolves when it is over. */
export async function serveRemoteCommandWebSocket(
  ws: WebSocketConnection,
  kind: "exec" | "attach",
  options: RemoteCommandOptions,
  onSession: (s: RemoteCommandSession) => Promise<void>,
): Promise<void> {
  const stdin = options.stdin ? new AsyncQueue<Uint8Array>(16) : emptyQueue<Uint8Array>();
  const resizes = options.tty ? new AsyncQueue<TerminalSize>(16) : emptyQueue<TerminalSize>();
  const session = createSession({
    kind,
    transport: "websocket",
    protocol: ws.protocol,
    options,
    stdin,
    resizes,
    clientGone: ws.signal,
    io: {
      writeStdout: (b) => ws.send(framed(Channel.Stdout, b)),
      writeStderr: (b) => ws.send(framed(Channel.Stderr, b)),
      closeStdout: () => Promise.resolve(),
      closeStderr: () => Promise.resolve(),
      writeStatus: (s) => ws.send(framed(Channel.Error, encodeStatusJson(s))),
      end: () => ws.close(1000),
    },
  });
  const reading = readLoop(ws, stdin, resizes);
  await runSession(session, onSession);
  // Input nobody read any more must not hold the read loop.
  stdin.cancel();
  resizes.cancel();
  await reading;
}

async function readLoop(ws: WebSocketConnection, stdin: AsyncQueue<Uint8Array>, resizes: AsyncQueue<TerminalSize>): Promise<void> {
  const v5 = ws.protocol === StreamProtocolV5;
  const decoder = new ResizeDecoder();
  for await (const msg of ws) {
    if (!msg.binary) {
      // All remote command protocols are binary.
      void ws.close(1003, "text messages are not supported");
      break;
    }
    const channel = msg.data[0];
    const payload = msg.data.subarray(1);
    if (channel === Channel.Stdin) {
      if (payload.byteLength > 0) {
        stdin.push(payload);
        await stdin.waitForSpace();
      }
    } else if (channel === Channel.Resize) {
      for (const size of decoder.push(payload)) resizes.push(size);
    } else if (channel === Channel.Close && v5) {
      if (payload[0] === Channel.Stdin) stdin.end();
      else if (payload[0] === Channel.Resize) resizes.end();
    }
    // Anything else (empty messages, output channels, unknown ids) is ignored.
  }
  stdin.end();
  resizes.end();
}
