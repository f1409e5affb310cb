/** Turning an `HttpRequest` into a `WebSocketConnection` through the transport's upgrade hook. */
import type { HttpRequest, HttpResponse } from "../../transport/types.ts";
import { WebSocketConnection, type WebSocketOptions } from "./connection.ts";
import { negotiateWebSocket } from "./handshake.ts";

export interface UpgradeWebSocketOptions extends WebSocketOptions {
  /** Status for a request whose offered subprotocols are all unsupported. Default 400. */
  readonly protocolRefusalStatus?: number;
}

/**
 * Answers a WebSocket upgrade request: a 101 whose upgrade callback builds the connection and
 * hands it to `onOpen`, or a plain-text refusal (400 malformed, 426 wrong version, and
 * `protocolRefusalStatus` when no offered subprotocol is in `supported`). `onOpen` errors are the
 * caller's: a rejected promise closes the connection with 1011.
 */
export function upgradeWebSocket(
  req: HttpRequest,
  supported: readonly string[],
  onOpen: (ws: WebSocketConnection) => void | Promise<void>,
  opts: UpgradeWebSocketOptions = {},
): HttpResponse {
  const n = negotiateWebSocket(req.method, req.headers, supported);
  if (!n.ok) {
    const status = n.kind === "version" ? 426 : n.kind === "protocol" ? (opts.protocolRefusalStatus ?? 400) : 400;
    return {
      status,
      headers: { ...n.headers, "content-type": "text/plain; charset=utf-8", "x-content-type-options": "nosniff" },
      body: n.message + "\n",
    };
  }
  return {
    status: 101,
    headers: n.headers,
    upgrade: (conn) => {
      const ws = new WebSocketConnection(conn, n.protocol, opts);
      Promise.resolve()
        .then(() => onOpen(ws))
        .catch(() => ws.close(1011, "internal error"));
    },
  };
}
