/** port-forward: SPDY streams paired per forwarded connection, plain or tunnelled in WebSocket. */
export { PortForwardProtocolV1, WebSocketSpdyTunnelPrefix } from "./types.ts";
export type { PortForwardData, PortForwardSession, PortForwardStream } from "./types.ts";
export { parsePort, requestIdOf, StreamPairer, validateStreamHeaders } from "./pairs.ts";
export type { PairOutcome } from "./pairs.ts";
export { forEachPortForward, portForwardSession } from "./session.ts";
export type { PortForwardOptions } from "./session.ts";
