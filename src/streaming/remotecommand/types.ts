/**
 * The runtime-neutral face of `kubectl exec` / `kubectl attach`: whatever transport and protocol
 * version the client negotiated, a runtime sees one `RemoteCommandSession`.
 */

/** Protocol names (apimachinery/pkg/util/remotecommand). */
export const StreamProtocolV1 = "channel.k8s.io";
export const StreamProtocolV2 = "v2.channel.k8s.io";
export const StreamProtocolV3 = "v3.channel.k8s.io";
export const StreamProtocolV4 = "v4.channel.k8s.io";
export const StreamProtocolV5 = "v5.channel.k8s.io";

/** Channel ids of the WebSocket framing (first byte of each binary message). */
export const Channel = { Stdin: 0, Stdout: 1, Stderr: 2, Error: 3, Resize: 4, Close: 255 } as const;

/** What the client asked for (query parameters of the exec/attach request). */
export interface RemoteCommandOptions {
  /** Empty for attach. */
  readonly command: readonly string[];
  /** "" when the client named none (the caller picks the pod's default container). */
  readonly container: string;
  readonly stdin: boolean;
  readonly stdout: boolean;
  /** Always false with `tty` (a terminal merges stderr into stdout). */
  readonly stderr: boolean;
  readonly tty: boolean;
}

export interface TerminalSize {
  readonly width: number;
  readonly height: number;
}

/** An output stream towards the client. */
export interface OutputStream {
  /**
   * Sends bytes (strings as UTF-8). Resolves once the transport accepted them (backpressure).
   * When the stream was not requested, or the session is over, the bytes are dropped.
   */
  write(chunk: Uint8Array | string): Promise<void>;
  /** Ends this stream early (SPDY: FIN). `finish` closes it anyway. Idempotent. */
  close(): Promise<void>;
}

/**
 * How the command ended: an exit code (0 = success; 1-255 = NonZeroExitCode, which kubectl turns
 * into its own exit code) or an error (reported as InternalError: the command could not run).
 */
export type RemoteCommandResult = number | Error;

export interface RemoteCommandSession {
  readonly kind: "exec" | "attach";
  readonly transport: "websocket" | "spdy";
  /** The negotiated protocol, e.g. `v5.channel.k8s.io`. */
  readonly protocol: string;
  readonly options: RemoteCommandOptions;
  /** Client stdin; ends at the client's EOF (or at once when stdin was not requested). */
  readonly stdin: AsyncIterable<Uint8Array>;
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  /** Terminal size changes (tty only; otherwise ends at once). */
  readonly resizes: AsyncIterable<TerminalSize>;
  /** Aborted when the client went away or the session finished. */
  readonly signal: AbortSignal;
  /**
   * Reports the result on the error stream, ends every stream and closes the connection.
   * Only the first call counts. Throws RangeError for an exit code outside 0..255.
   */
  finish(result: RemoteCommandResult): Promise<void>;
}
