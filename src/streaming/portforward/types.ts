/** The runtime-neutral face of `kubectl port-forward`. */

/** Protocol name (apimachinery/pkg/util/portforward): SPDY subprotocol, also inside the WebSocket tunnel. */
export const PortForwardProtocolV1 = "portforward.k8s.io";
/** WebSocket subprotocol prefix of the SPDY tunnel (kubectl 1.31+): `SPDY/3.1+portforward.k8s.io`. */
export const WebSocketSpdyTunnelPrefix = "SPDY/3.1+";

/** The connection to the target port, as the client sees it. */
export interface PortForwardData {
  /** Bytes from the client; ends when the client's local connection closed (FIN). */
  readonly readable: AsyncIterable<Uint8Array>;
  /** Bytes to the client. Resolves once accepted; dropped after `close`/`end` or a reset. */
  write(chunk: Uint8Array): Promise<void>;
  /** Half-close towards the client (the target closed its side). Idempotent. */
  close(): Promise<void>;
}

/** One forwarded connection (one local connection on the client side). */
export interface PortForwardStream {
  readonly port: number;
  readonly requestId: string;
  readonly data: PortForwardData;
  /**
   * Sends `message` on the error stream and closes it; kubectl prints
   * `an error occurred forwarding <local> -> <port>: <message>`. The kubelet words it
   * `error forwarding port <port> to pod <name>, uid <uid>: <cause>`.
   */
  reportError(message: string): Promise<void>;
  /** Ends the forwarded connection: FIN on the data and error streams. Idempotent. */
  end(): Promise<void>;
  /** Aborted when the client reset the streams or the session ended. */
  readonly signal: AbortSignal;
}

/**
 * A port-forward session: one per `kubectl port-forward` connection, yielding a stream per
 * forwarded local connection. Handle each concurrently (see `forEachPortForward`).
 */
export interface PortForwardSession extends AsyncIterable<PortForwardStream> {
  readonly transport: "websocket" | "spdy";
  readonly protocol: string;
  /** Aborted when the session ended. */
  readonly signal: AbortSignal;
  /** Ends the session (GOAWAY, connection closed). */
  close(): Promise<void>;
}
