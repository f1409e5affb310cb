/** SPDY/3.1: framer, header blocks, header compression and a server-role session. */
export { SPDY3_DICTIONARY } from "./dictionary.ts";
export {
  encodeFrame,
  FLAG_FIN,
  FLAG_SETTINGS_CLEAR,
  FLAG_UNIDIRECTIONAL,
  FrameType,
  GoAwayStatus,
  RstStatus,
  SettingsId,
  SPDY_VERSION,
  SpdyFrameParser,
  SpdyProtocolError,
} from "./frame.ts";
export type { SettingsEntry, SpdyFrame, SpdyFrameParserOptions } from "./frame.ts";
export { decodeHeaderBlock, encodeHeaderBlock, headerValue } from "./headers.ts";
export type { SpdyHeaders } from "./headers.ts";
export { HeaderCompressor, HeaderDecompressor } from "./compression.ts";
export { DEFAULT_WINDOW, SpdySession, SpdyStream } from "./session.ts";
export type { ByteDuplex, SpdySessionOptions } from "./session.ts";
