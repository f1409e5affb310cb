/**
 * A WebSocket as a plain byte duplex: binary message payloads concatenated in order (message
 * boundaries carry no meaning), writes sent as one binary message each. This is the tunnel
 * kubectl 1.31+ uses for port-forward (`SPDY/3.1+portforward.k8s.io`): raw SPDY bytes, no
 * channel byte. A text message is a protocol violation: the socket is closed with 1003.
 */
import type { WebSocketConnection } from "./connection.ts";

export interface WebSocketByteDuplex {
  readonly readable: AsyncIterable<Uint8Array>;
  write(chunk: Uint8Array): Promise<void>;
  close(): void;
}

export function webSocketBytes(ws: WebSocketConnection): WebSocketByteDuplex {
  return {
    readable: (async function* () {
      for await (const msg of ws) {
        if (!msg.binary) {
          void ws.close(1003, "the tunnel carries binary messages only");
          return;
        }
        if (msg.data.byteLength > 0) yield msg.data;
      }
    })(),
    write: (chunk) => ws.send(chunk),
    close: () => void ws.close(1000),
  };
}
