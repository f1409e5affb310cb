/**
 * Streaming subresources (exec, attach, port-forward): the wire protocols kubectl speaks over the
 * transport's HTTP/1.1 upgrade hook. See docs/streaming.md.
 */
export { handleExecUpgrade, handlePortForwardUpgrade, isSpdyRequest } from "./upgrade.ts";
export type { StreamingOptions } from "./upgrade.ts";
export type {
  OutputStream,
  RemoteCommandOptions,
  RemoteCommandResult,
  RemoteCommandSession,
  TerminalSize,
} from "./remotecommand/types.ts";
export type { PortForwardData, PortForwardSession, PortForwardStream } from "./portforward/types.ts";
export { forEachPortForward } from "./portforward/session.ts";
