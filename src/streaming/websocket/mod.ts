/** Server-side WebSocket (RFC 6455) over the transport's upgraded connections. */
export { CloseCode, closePayload, encodeFrame, isValidCloseCode, Opcode, unmask, WsReader } from "./frame.ts";
export type { EncodeOptions, OpcodeValue, WsEvent, WsReaderOptions } from "./frame.ts";
export { acceptKey, headerTokens, isWebSocketRequest, negotiateWebSocket, offeredSubprotocols } from "./handshake.ts";
export type { WebSocketNegotiation } from "./handshake.ts";
export { WebSocketConnection } from "./connection.ts";
export type { CloseInfo, WebSocketMessage, WebSocketOptions } from "./connection.ts";
export { upgradeWebSocket } from "./upgrade.ts";
export type { UpgradeWebSocketOptions } from "./upgrade.ts";
export { webSocketBytes } from "./bytes.ts";
export type { WebSocketByteDuplex } from "./bytes.ts";
