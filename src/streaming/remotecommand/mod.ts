/** exec/attach: the channel protocols (WebSocket v5/v4, SPDY v5..v1) behind one session interface. */
export {
  Channel,
  StreamProtocolV1,
  StreamProtocolV2,
  StreamProtocolV3,
  StreamProtocolV4,
  StreamProtocolV5,
} from "./types.ts";
export type { OutputStream, RemoteCommandOptions, RemoteCommandResult, RemoteCommandSession, TerminalSize } from "./types.ts";
export { encodeStatusJson, encodeStatusText, exitCodeStatus, internalErrorStatus, statusEncoderFor, successStatus } from "./status.ts";
export type { ExecStatus, ExecStatusCause } from "./status.ts";
export { parseRemoteCommandOptions } from "./options.ts";
export { ResizeDecoder } from "./resize.ts";
export { serveRemoteCommandWebSocket, WEBSOCKET_PROTOCOLS } from "./websocket.ts";
export { expectedStreams, serveRemoteCommandSpdy, SPDY_PROTOCOLS, STREAM_CREATION_TIMEOUT_MS } from "./spdy.ts";
