/**
 * A server-side WebSocket over a taken-over connection: the thin runner around `WsReader`.
 *
 * - Messages arrive through the async iterator (one consumer); the read loop stops pulling from
 *   the socket while `highWaterMark` messages wait (TCP backpressure).
 * - Pings are answered with a pong carrying the same payload.
 * - A protocol error (see frame.ts) is answered with a close frame carrying its code; the
 *   connection is then dropped. Nothing the peer sends can throw out of this class.
 * - `close(code)` sends a close frame, waits up to `closeTimeoutMs` for the peer's close frame,
 *   then ends the connection. A peer-initiated close is echoed with the same code.
 * - After the close handshake started, `send` resolves without sending.
 */
import type { UpgradedConnection } from "../../transport/types.ts";
import { AsyncQueue, toBytes } from "../_queue.ts";
import { CloseCode, closePayload, encodeFrame, Opcode, WsReader, type WsEvent } from "./frame.ts";

export interface WebSocketMessage {
  /** False for text messages (valid UTF-8, checked). */
  readonly binary: boolean;
  readonly data: Uint8Array;
}

export interface CloseInfo {
  /** The code of the close frame received or sent; 1006 when the connection dropped without one. */
  readonly code: number;
  readonly reason: string;
  /** Who started the close: the peer's close frame, us (`close()` or a protocol error), or a drop. */
  readonly by: "peer" | "local" | "error" | "drop";
}

export interface WebSocketOptions {
  /** Default 16 MiB. */
  readonly maxMessageBytes?: number;
  /** How long `close()` waits for the peer's close frame. Default 2000 ms. */
  readonly closeTimeoutMs?: number;
  /** Messages buffered before reading pauses. Default 16. */
  readonly highWaterMark?: number;
}

export class WebSocketConnection implements AsyncIterable<WebSocketMessage> {
  readonly #conn: UpgradedConnection;
  readonly #reader: WsReader;
  readonly #messages: AsyncQueue<WebSocketMessage>;
  readonly #closeTimeoutMs: number;
  readonly #abort = new AbortController();
  #closeSent = false;
  #closeReceived = false;
  #closedInfo: CloseInfo | undefined;
  #resolveClosed!: (info: CloseInfo) => void;
  #peerClose: (() => void) | undefined;

  /** Settles once the connection is gone, with how it ended. Never rejects. */
  readonly closed: Promise<CloseInfo>;

  /**
   * Starts reading at once (the `head` bytes first).
   * @param protocol the negotiated subprotocol, for the consumer's information.
   */
  constructor(conn: UpgradedConnection, readonly protocol: string, opts: WebSocketOptions = {}) {
    this.#conn = conn;
    this.#reader = new WsReader({ requireMask: true, maxMessageBytes: opts.maxMessageBytes ?? 16 * 1024 * 1024 });
    this.#messages = new AsyncQueue(opts.highWaterMark ?? 16);
    this.#closeTimeoutMs = opts.closeTimeoutMs ?? 2000;
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    void this.#readLoop();
  }

  /** Aborted when the connection is gone (closed either way, or dropped). */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** True once a close frame was sent or the connection is gone. */
  get closing(): boolean {
    return this.#closeSent || this.#closedInfo !== undefined;
  }

  [Symbol.asyncIterator](): AsyncIterator<WebSocketMessage> {
    return this.#messages[Symbol.asyncIterator]();
  }

  /** Sends one message: binary for bytes, text for a string. Resolves once the socket took it. */
  send(data: Uint8Array | string): Promise<void> {
    if (this.closing) return Promise.resolve();
    const opcode = typeof data === "string" ? Opcode.Text : Opcode.Binary;
    return this.#write(encodeFrame(opcode, toBytes(data)));
  }

  /** Sends a ping (at most 125 bytes of payload). */
  ping(data: Uint8Array = new Uint8Array(0)): Promise<void> {
    if (this.closing) return Promise.resolve();
    return this.#write(encodeFrame(Opcode.Ping, data));
  }

  /**
   * Starts (or completes) the closing handshake and ends the connection. Resolves when the
   * connection is gone. Idempotent.
   */
  async close(code: number = CloseCode.Normal, reason = ""): Promise<void> {
    if (!this.#closeSent && this.#closedInfo === undefined) {
      this.#closeSent = true;
      await this.#write(encodeFrame(Opcode.Close, closePayload(code, reason)));
      if (!this.#closeReceived) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.#closeTimeoutMs);
          this.#peerClose = () => {
            clearTimeout(timer);
            resolve();
          };
          this.#abort.signal.addEventListener("abort", () => this.#peerClose?.(), { once: true });
        });
      }
      this.#finish({ code, reason, by: "local" });
    }
    await this.closed;
  }

  async #write(bytes: Uint8Array): Promise<void> {
    try {
      await this.#conn.write(bytes);
    } catch {
      // The socket is gone; the read loop reports the drop.
    }
  }

  #finish(info: CloseInfo): void {
    if (this.#closedInfo !== undefined) return;
    this.#closedInfo = info;
    this.#messages.end();
    this.#conn.close();
    this.#abort.abort(new Error(`websocket closed (${info.code})`));
    this.#resolveClosed(info);
  }

  /**
   * Reads until the peer ends the connection. After the close handshake the rest is drained and
   * discarded rather than abandoned: leaving the loop early would destroy the socket and could
   * drop our own close frame still in flight.
   */
  async #readLoop(): Promise<void> {
    let active = true;
    try {
      if (this.#conn.head.byteLength > 0) active = await this.#handle(this.#reader.push(this.#conn.head));
      for await (const chunk of this.#conn.readable) {
        if (!active || this.#closedInfo !== undefined) continue;
        active = await this.#handle(this.#reader.push(chunk));
        await this.#messages.waitForSpace();
      }
    } catch {
      // read error: treated as a drop below
    }
    this.#finish({ code: CloseCode.Abnormal, reason: "connection dropped", by: "drop" });
    this.#peerClose?.();
  }

  /** Applies events; false once the connection is finished (stop reading). */
  async #handle(events: readonly WsEvent[]): Promise<boolean> {
    for (const ev of events) {
      switch (ev.type) {
        case "message":
          if (!this.#closeSent) this.#messages.push({ binary: ev.binary, data: ev.data });
          break;
        case "ping":
          if (!this.closing) await this.#write(encodeFrame(Opcode.Pong, ev.data));
          break;
        case "pong":
          break;
        case "close": {
          this.#closeReceived = true;
          if (this.#closeSent) {
            this.#peerClose?.();
            return false;
          }
          this.#closeSent = true;
          const code = ev.code ?? CloseCode.Normal;
          await this.#write(encodeFrame(Opcode.Close, ev.code === undefined ? new Uint8Array(0) : closePayload(code)));
          this.#finish({ code: ev.code ?? CloseCode.NoStatus, reason: ev.reason, by: "peer" });
          return false;
        }
        case "error":
          if (!this.#closeSent) {
            this.#closeSent = true;
            await this.#write(encodeFrame(Opcode.Close, closePayload(ev.code, ev.reason)));
          }
          this.#finish({ code: ev.code, reason: ev.reason, by: "error" });
          return false;
      }
    }
    return true;
  }
}
