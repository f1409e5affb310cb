/**
 * A SPDY/3.1 session, server role (the peer opens the streams, as kubectl does for exec and
 * port-forward), over any byte duplex: a raw upgraded connection (plain SPDY) or the bytes of
 * WebSocket binary messages (kubectl 1.31+ port-forward tunnel).
 *
 * - Streams arrive through the async iterator after `accept` allowed them and a SYN_REPLY (empty
 *   header block) was queued, so the reply always precedes our data on that stream.
 * - Header blocks are (de)compressed with one zlib context per direction; all frames we send pass
 *   through one ordered write chain, so compressed blocks reach the wire in compression order.
 * - Flow control (§2.6.8, 3.1 session window): we announce nothing and grant credit back with
 *   WINDOW_UPDATE (stream and session) as the consumer takes data. Sending honours the peer's
 *   windows only with `sendFlowControl: true`: Kubernetes' spdystream peers never send
 *   WINDOW_UPDATE, so a sender that waited for credit would stall after 64 KiB.
 * - Peer PINGs (odd ids: client-initiated) are echoed. A framing or compression error ends the
 *   session with GOAWAY(PROTOCOL_ERROR); stream-level mistakes get RST_STREAM. Nothing the peer
 *   sends throws out of this class.
 */
import { AsyncQueue } from "../_queue.ts";
import { HeaderCompressor, HeaderDecompressor } from "./compression.ts";
import { encodeFrame, GoAwayStatus, RstStatus, SettingsId, SpdyFrameParser, SpdyProtocolError, type SpdyFrame } from "./frame.ts";
import { decodeHeaderBlock, encodeHeaderBlock, headerValue, type SpdyHeaders } from "./headers.ts";

/** What a session runs over. `close()` ends the connection after what was written. */
export interface ByteDuplex {
  readonly readable: AsyncIterable<Uint8Array>;
  write(chunk: Uint8Array): Promise<void>;
  close(): void;
}

export interface SpdySessionOptions {
  /** Bytes that arrived before the takeover (parsed first). */
  readonly head?: Uint8Array;
  /**
   * Decides on a new stream before it is replied to: undefined accepts, a string refuses it
   * (RST_STREAM REFUSED_STREAM; the string is for logs).
   */
  readonly accept?: (headers: SpdyHeaders, streamId: number) => string | undefined;
  /** Wait for the peer's window before sending DATA. Default false (see the module comment). */
  readonly sendFlowControl?: boolean;
  /** Largest DATA payload we send. Default 32 KiB. */
  readonly maxDataFrameBytes?: number;
  /** Chunks buffered per stream before the session stops reading. Default 64. */
  readonly streamHighWaterMark?: number;
  /** Largest decompressed header block accepted. Default 256 KiB. */
  readonly maxHeaderBlockBytes?: number;
  /** Called with the reason whenever a stream is refused/reset or the session fails (logging). */
  readonly onError?: (message: string) => void;
}

/** SPDY's default window (§2.6.8). */
export const DEFAULT_WINDOW = 64 * 1024;

/** One stream of a session. */
export class SpdyStream {
  /** Data from the peer; ends at its FIN, a reset or the session's end. */
  readonly readable: AsyncQueue<Uint8Array>;
  #localClosed = false;
  #remoteClosed = false;
  readonly #abort = new AbortController();
  /** Our credit to send (peer's receive window for this stream). */
  sendWindow: number;
  /** Bytes consumed but not yet granted back. */
  unacked = 0;

  constructor(
    private readonly session: SpdySession,
    readonly id: number,
    readonly headers: SpdyHeaders,
    sendWindow: number,
    highWaterMark: number,
  ) {
    this.sendWindow = sendWindow;
    this.readable = new AsyncQueue<Uint8Array>(highWaterMark, (chunk) => session.consumed(this, chunk.byteLength));
  }

  /** First value of a (lower-case) header. */
  header(name: string): string | undefined {
    return headerValue(this.headers, name);
  }

  /** Aborted when the stream was reset (by either side) or the session ended. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  get localClosed(): boolean {
    return this.#localClosed;
  }

  get remoteClosed(): boolean {
    return this.#remoteClosed;
  }

  /** Sends bytes in DATA frames; resolves once written. After close/reset it resolves doing nothing. */
  write(chunk: Uint8Array): Promise<void> {
    if (this.#localClosed || chunk.byteLength === 0) return Promise.resolve();
    return this.session.sendData(this, chunk);
  }

  /** Half-closes our side (empty DATA frame with FIN). Idempotent. */
  close(): Promise<void> {
    if (this.#localClosed) return Promise.resolve();
    this.#localClosed = true;
    const p = this.session.sendFrame({ type: "data", streamId: this.id, fin: true, data: new Uint8Array(0) });
    this.session.maybeForget(this);
    return p;
  }

  /** Aborts both directions (RST_STREAM). Idempotent. */
  reset(status: number = RstStatus.Cancel): Promise<void> {
    if (this.#abort.signal.aborted) return Promise.resolve();
    const p = this.session.sendFrame({ type: "rst_stream", streamId: this.id, status });
    this.terminate(`stream reset locally (status ${status})`);
    return p;
  }

  /** @internal our side is closed without a FIN (unidirectional streams). */
  markLocalClosed(): void {
    this.#localClosed = true;
  }

  /** @internal peer FIN */
  remoteEnd(): void {
    if (this.#remoteClosed) return;
    this.#remoteClosed = true;
    this.readable.end();
    this.session.maybeForget(this);
  }

  /** @internal reset or session end: both sides done. */
  terminate(reason: string): void {
    this.#localClosed = true;
    this.#remoteClosed = true;
    this.readable.end();
    if (!this.#abort.signal.aborted) this.#abort.abort(new Error(reason));
    this.session.maybeForget(this);
  }
}

interface WindowWaiter {
  readonly stream: SpdyStream;
  readonly wake: () => void;
}

export class SpdySession implements AsyncIterable<SpdyStream> {
  readonly #io: ByteDuplex;
  readonly #opts: SpdySessionOptions;
  readonly #parser: SpdyFrameParser;
  readonly #compressor = new HeaderCompressor();
  readonly #decompressor: HeaderDecompressor;
  readonly #streams = new Map<number, SpdyStream>();
  readonly #incoming = new AsyncQueue<SpdyStream>(1_000_000);
  readonly #abort = new AbortController();
  #writeTail: Promise<void> = Promise.resolve();
  #lastStreamId = 0;
  #goAwaySent = false;
  #ended = false;
  #peerInitialWindow = DEFAULT_WINDOW;
  #sessionSendWindow = DEFAULT_WINDOW;
  #sessionUnacked = 0;
  #windowWaiters: WindowWaiter[] = [];
  #resolveClosed!: () => void;

  /** Resolves once the connection is gone and every stream ended. */
  readonly closed: Promise<void>;

  constructor(io: ByteDuplex, opts: SpdySessionOptions = {}) {
    this.#io = io;
    this.#opts = opts;
    this.#parser = new SpdyFrameParser();
    this.#decompressor = new HeaderDecompressor(opts.maxHeaderBlockBytes);
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    void this.#readLoop();
  }

  /** Aborted when the session ends. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  [Symbol.asyncIterator](): AsyncIterator<SpdyStream> {
    return this.#incoming[Symbol.asyncIterator]();
  }

  /** Sends GOAWAY (once): the peer should open no more streams; the stream iteration ends. */
  goAway(status: number = GoAwayStatus.Ok): Promise<void> {
    if (this.#goAwaySent) return this.#writeTail;
    return this.#sendGoAway(status);
  }

  #sendGoAway(status: number): Promise<void> {
    this.#goAwaySent = true;
    this.#incoming.end(); // no stream will be accepted any more
    return this.sendFrame({ type: "goaway", lastGoodStreamId: this.#lastStreamId, status });
  }

  /**
   * Ends the session: unread stream data is dropped, GOAWAY is sent, then the connection is closed
   * once everything queued was written. Reading continues until the peer closes its side.
   * Idempotent.
   */
  async close(): Promise<void> {
    if (this.#ended) return;
    // Unread data no longer matters; dropping it keeps the read loop draining until the peer closes.
    for (const st of this.#streams.values()) st.readable.cancel();
    await this.goAway();
    await this.#writeTail;
    this.#io.close();
  }

  // ---- sending --------------------------------------------------------------------------------

  /** @internal Queues a frame (header blocks are compressed in queue order). */
  sendFrame(frame: SpdyFrame): Promise<void> {
    return this.#enqueue(() => encodeFrame(frame));
  }

  #enqueue(build: () => Uint8Array | Promise<Uint8Array>): Promise<void> {
    const step = this.#writeTail.then(async () => {
      if (this.#ended) return;
      const bytes = await build();
      try {
        await this.#io.write(bytes);
      } catch {
        // connection gone: the read loop ends the session
      }
    });
    this.#writeTail = step.catch(() => undefined);
    return this.#writeTail;
  }

  #sendHeaders(kind: "syn_reply", streamId: number, headers: Readonly<Record<string, string>>): Promise<void> {
    const block = encodeHeaderBlock(headers);
    return this.#enqueue(async () =>
      encodeFrame({ type: kind, streamId, fin: false, headerBlock: await this.#compressor.compress(block) })
    );
  }

  /** @internal */
  async sendData(stream: SpdyStream, chunk: Uint8Array): Promise<void> {
    const max = this.#opts.maxDataFrameBytes ?? 32 * 1024;
    let off = 0;
    // Bounded: every iteration sends at least one byte or returns.
    while (off < chunk.byteLength) {
      let n = Math.min(max, chunk.byteLength - off);
      if (this.#opts.sendFlowControl === true) {
        await this.#waitForWindow(stream);
        if (stream.localClosed || this.#ended) return;
        n = Math.min(n, stream.sendWindow, this.#sessionSendWindow);
      }
      if (stream.localClosed || this.#ended) return;
      stream.sendWindow -= n;
      this.#sessionSendWindow -= n;
      const data = chunk.subarray(off, off + n);
      off += n;
      await this.sendFrame({ type: "data", streamId: stream.id, fin: false, data });
    }
  }

  #waitForWindow(stream: SpdyStream): Promise<void> {
    if ((stream.sendWindow > 0 && this.#sessionSendWindow > 0) || stream.signal.aborted || this.#ended) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = (): void => {
        this.#windowWaiters = this.#windowWaiters.filter((w) => w.wake !== wake);
        resolve();
      };
      this.#windowWaiters.push({ stream, wake });
      stream.signal.addEventListener("abort", wake, { once: true });
    });
  }

  #wakeWindowWaiters(): void {
    for (const w of [...this.#windowWaiters]) {
      if ((w.stream.sendWindow > 0 && this.#sessionSendWindow > 0) || w.stream.signal.aborted) w.wake();
    }
  }

  /** @internal The consumer took `n` bytes of `stream`: grant the credit back. */
  consumed(stream: SpdyStream, n: number): void {
    if (this.#ended || n === 0) return;
    stream.unacked += n;
    this.#sessionUnacked += n;
    if (stream.unacked >= DEFAULT_WINDOW / 2 && !stream.remoteClosed) {
      void this.sendFrame({ type: "window_update", streamId: stream.id, delta: stream.unacked });
      stream.unacked = 0;
    }
    if (this.#sessionUnacked >= DEFAULT_WINDOW / 2) {
      void this.sendFrame({ type: "window_update", streamId: 0, delta: this.#sessionUnacked });
      this.#sessionUnacked = 0;
    }
  }

  /** @internal Drops a stream from the table once both sides are done. */
  maybeForget(stream: SpdyStream): void {
    if (stream.localClosed && stream.remoteClosed) this.#streams.delete(stream.id);
  }

  // ---- receiving ------------------------------------------------------------------------------

  async #readLoop(): Promise<void> {
    let failed = false;
    const feed = async (chunk: Uint8Array): Promise<void> => {
      if (failed) return;
      try {
        for (const f of this.#parser.push(chunk)) {
          await this.#onFrame(f);
          if (this.#ended) return;
        }
      } catch (err) {
        failed = true;
        const msg = err instanceof Error ? err.message : String(err);
        this.#opts.onError?.(`SPDY session protocol error: ${msg}`);
        await this.#sendGoAway(GoAwayStatus.ProtocolError); // even after an earlier GOAWAY(OK)
        await this.#writeTail;
        this.#io.close();
        this.#end("protocol error");
      }
    };
    try {
      if (this.#opts.head !== undefined && this.#opts.head.byteLength > 0) await feed(this.#opts.head);
      // After an error the rest is drained, not abandoned: leaving the loop would destroy the
      // socket and could cut our GOAWAY short.
      for await (const chunk of this.#io.readable) await feed(chunk);
    } catch {
      // read error: the connection is gone
    }
    this.#io.close();
    this.#end("connection closed");
  }

  #end(reason: string): void {
    if (this.#ended) return;
    this.#ended = true;
    for (const s of [...this.#streams.values()]) s.terminate(reason);
    this.#streams.clear();
    this.#incoming.end();
    for (const w of [...this.#windowWaiters]) w.wake();
    this.#compressor.close();
    this.#decompressor.close();
    this.#abort.abort(new Error(reason));
    this.#resolveClosed();
  }

  #rst(streamId: number, status: number, why: string): Promise<void> {
    this.#opts.onError?.(`SPDY stream ${streamId}: ${why}`);
    return this.sendFrame({ type: "rst_stream", streamId, status });
  }

  async #onFrame(f: SpdyFrame): Promise<void> {
    switch (f.type) {
      case "syn_stream":
        return this.#onSynStream(f);
      case "syn_reply":
        // We open no streams. Decompress anyway to keep the context in step.
        await this.#decompressor.decompress(f.headerBlock);
        await this.#rst(f.streamId, RstStatus.InvalidStream, "SYN_REPLY for a stream we did not open");
        return;
      case "headers": {
        await this.#decompressor.decompress(f.headerBlock);
        const s = this.#streams.get(f.streamId);
        if (s === undefined) {
          await this.#rst(f.streamId, RstStatus.InvalidStream, "HEADERS for an unknown stream");
          return;
        }
        if (f.fin) s.remoteEnd();
        return;
      }
      case "data":
        return this.#onData(f.streamId, f.fin, f.data);
      case "rst_stream":
        this.#streams.get(f.streamId)?.terminate(`stream reset by peer (status ${f.status})`);
        return;
      case "settings":
        for (const e of f.entries) {
          if (e.id === SettingsId.InitialWindowSize && e.value <= 0x7fffffff) {
            const delta = e.value - this.#peerInitialWindow;
            this.#peerInitialWindow = e.value;
            for (const s of this.#streams.values()) s.sendWindow += delta;
          }
        }
        this.#wakeWindowWaiters();
        return;
      case "ping":
        // Server-initiated pings carry even ids; an odd id is the peer's: echo it.
        if (f.id % 2 === 1) await this.sendFrame({ type: "ping", id: f.id });
        return;
      case "goaway":
        return;
      case "window_update":
        if (f.delta === 0) return;
        if (f.streamId === 0) this.#sessionSendWindow += f.delta;
        else {
          const s = this.#streams.get(f.streamId);
          if (s !== undefined) s.sendWindow += f.delta;
        }
        this.#wakeWindowWaiters();
        return;
      case "unknown":
        return;
    }
  }

  async #onSynStream(f: Extract<SpdyFrame, { type: "syn_stream" }>): Promise<void> {
    // Always decompress, even for a stream we refuse: the context must stay in step.
    const raw = await this.#decompressor.decompress(f.headerBlock);
    if (f.streamId % 2 === 0 || f.streamId <= this.#lastStreamId) {
      if (this.#streams.has(f.streamId)) {
        await this.#rst(f.streamId, RstStatus.StreamInUse, "SYN_STREAM for a stream in use");
      } else {
        await this.#rst(f.streamId, RstStatus.ProtocolError, `stream id ${f.streamId} is not a new odd id`);
      }
      return;
    }
    this.#lastStreamId = f.streamId;
    let headers: SpdyHeaders;
    try {
      headers = decodeHeaderBlock(raw);
    } catch (err) {
      await this.#rst(f.streamId, RstStatus.ProtocolError, err instanceof Error ? err.message : String(err));
      return;
    }
    if (this.#goAwaySent) {
      await this.#rst(f.streamId, RstStatus.RefusedStream, "session is going away");
      return;
    }
    const refusal = this.#opts.accept?.(headers, f.streamId);
    if (refusal !== undefined) {
      await this.#rst(f.streamId, RstStatus.RefusedStream, refusal);
      return;
    }
    const s = new SpdyStream(this, f.streamId, headers, this.#peerInitialWindow, this.#opts.streamHighWaterMark ?? 64);
    this.#streams.set(f.streamId, s);
    void this.#sendHeaders("syn_reply", f.streamId, {});
    // A unidirectional stream is never written by us: our side is closed from the start.
    if (f.unidirectional) s.markLocalClosed();
    if (f.fin) s.remoteEnd();
    this.#incoming.push(s);
  }

  async #onData(streamId: number, fin: boolean, data: Uint8Array): Promise<void> {
    const s = this.#streams.get(streamId);
    if (s === undefined) {
      await this.#rst(streamId, streamId <= this.#lastStreamId ? RstStatus.StreamAlreadyClosed : RstStatus.InvalidStream, "DATA for an unknown or closed stream");
      return;
    }
    if (s.remoteClosed) {
      await this.#rst(streamId, RstStatus.StreamAlreadyClosed, "DATA after FIN");
      return;
    }
    if (data.byteLength > 0) {
      s.readable.push(data);
      if (fin) s.remoteEnd();
      else await s.readable.waitForSpace();
    } else if (fin) {
      s.remoteEnd();
    }
  }
}

export { SpdyProtocolError };
