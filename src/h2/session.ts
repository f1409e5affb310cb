/**
 * H2Session: a role-neutral HTTP/2 connection core (RFC 9113) on a byte Duplex. No EventEmitter or
 * Duplex per stream; frames produced in one tick go out in one socket write; incoming frames are
 * parsed in place. See docs/h2.md for the contract and limits.
 */
import type { Duplex } from "node:stream";
import {
  DEFAULT_MAX_FRAME_SIZE, DEFAULT_WINDOW, ErrorCode, FRAME_HEADER_SIZE, Flags, FrameType, MAX_WINDOW, PREFACE,
  SettingId, frame, goawayFrame, readU31, readU32, rstFrame, settingsPayload, windowUpdateFrame, writeFrameHeader,
} from "./frames.ts";
import { HeaderListTooLarge, HpackDecoder, HpackEncoder, HpackError } from "./hpack.ts";

/** Flat header list: [name0, value0, name1, value1, …]; names lower-case; pseudo-headers first. */
export type HeaderList = string[];

/** Per-stream callbacks (see the contract in docs/h2.md). */
export interface StreamEvents {
  onHeaders(stream: H2Stream, headers: HeaderList, endStream: boolean): void;
  onData(stream: H2Stream, chunk: Uint8Array, endStream: boolean): void;
  onReset(stream: H2Stream, code: number, err: Error | undefined): void;
  onClose?(stream: H2Stream): void;
  onDrain?(stream: H2Stream): void;
  /** Our END_STREAM was queued while the peer's side is still open (a response sent before the request ended). */
  onLocalEnd?(stream: H2Stream): void;
}

export interface H2Stream {
  readonly id: number;
  readonly session: H2Session;
  user: unknown;
  sendHeaders(headers: HeaderList, endStream: boolean): void;
  write(chunk: Uint8Array, endStream: boolean): boolean;
  end(): void;
  reset(code?: number): void;
  setManualFlow(on: boolean): void;
  consumed(n: number): void;
  readonly localEnded: boolean;
  readonly remoteEnded: boolean;
  readonly closed: boolean;
}

export interface RemoteSettings {
  maxConcurrentStreams: number;
  initialWindowSize: number;
  maxFrameSize: number;
  headerTableSize: number;
}

export interface SessionOptions {
  readonly role: "client" | "server";
  readonly streamWindow?: number;
  readonly connectionWindow?: number;
  readonly maxConcurrentStreams?: number;
  readonly maxHeaderListSize?: number;
  readonly initialData?: Uint8Array;
  onStream?(stream: H2Stream, headers: HeaderList, endStream: boolean): StreamEvents;
  onGoaway?(lastStreamId: number, code: number): void;
  onRemoteSettings?(s: Readonly<RemoteSettings>): void;
  onClose?(err: Error | undefined): void;
}

/** Errors raised by the session API (closing session, exhausted ids) or a connection error. */
export class H2SessionError extends Error {
  readonly code: number;
  constructor(message: string, code: number) {
    super(message);
    this.name = "H2SessionError";
    this.code = code;
  }
}

/** A connection error we detected: GOAWAY with `code`. */
class ConnError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

const HIGH_WATER = 64 * 1024;
const EMPTY = new Uint8Array(0);
/** Control frames (SETTINGS/PING/RST/empty) per rolling second before ENHANCE_YOUR_CALM. */
const FLOOD_LIMIT = 10000;
/** Socket backlog beyond which we stop producing DATA. */
const SOCKET_HIGH_WATER = 1024 * 1024;

class Stream implements H2Stream {
  id = 0;
  user: unknown = undefined;
  localEnded = false;
  remoteEnded = false;
  closed = false;
  sendWindow: number;
  recvWindow: number;
  recvUnacked = 0;
  manual = false;
  queue: Uint8Array[] = [];
  queued = 0;
  endQueued = false;
  needDrain = false;
  pendingHeaders: HeaderList | undefined = undefined;
  pendingHeadersEnd = false;
  inDataList = false;
  headersSeen = false;
  constructor(readonly session: H2Session, public events: StreamEvents, sendWindow: number, recvWindow: number) {
    this.sendWindow = sendWindow;
    this.recvWindow = recvWindow;
  }
  sendHeaders(headers: HeaderList, endStream: boolean): void {
    if (this.localEnded || this.endQueued) throw new H2SessionError("stream already ended", ErrorCode.STREAM_CLOSED);
    if (this.closed) return;
    // Ordering: trailers after queued DATA.
    if (this.queued > 0 || this.queue.length > 0) {
      this.pendingHeaders = headers;
      this.pendingHeadersEnd = endStream;
      if (endStream) this.endQueued = true;
      return;
    }
    this.session._sendHeaders(this, headers, endStream);
  }
  write(chunk: Uint8Array, endStream: boolean): boolean {
    if (this.localEnded || this.endQueued) throw new H2SessionError("stream already ended", ErrorCode.STREAM_CLOSED);
    if (this.closed) return false;
    if (chunk.length > 0) {
      this.queue.push(chunk);
      this.queued += chunk.length;
    }
    if (endStream) this.endQueued = true;
    this.session._scheduleData(this);
    if (this.queued > HIGH_WATER) {
      this.needDrain = true;
      return false;
    }
    return true;
  }
  end(): void {
    if (this.localEnded || this.endQueued || this.closed) return;
    this.endQueued = true;
    this.session._scheduleData(this);
  }
  reset(code: number = ErrorCode.CANCEL): void {
    if (this.closed) return;
    this.session._resetLocal(this, code);
  }
  setManualFlow(on: boolean): void {
    this.manual = on;
  }
  consumed(n: number): void {
    this.session._consumed(this, n);
  }
}

/** The connection. */
export class H2Session {
  private readonly socket: Duplex;
  private readonly opts: SessionOptions;
  private readonly isClient: boolean;
  private readonly streams = new Map<number, Stream>();
  private nextId: number;
  private lastPeerId = 0;
  private out: Uint8Array[] = [];
  private outBytes = 0;
  private flushScheduled = false;
  private carry: Buffer | undefined;
  private prefaceLeft: number;
  private gotSettings = false;
  private readonly encoder = new HpackEncoder();
  private readonly decoder: HpackDecoder;
  private connSendWindow = DEFAULT_WINDOW;
  private connRecvUnacked = 0;
  private readonly connRecvWindow: number;
  private readonly streamRecvWindow: number;
  private peer: RemoteSettings = { maxConcurrentStreams: Infinity, initialWindowSize: DEFAULT_WINDOW, maxFrameSize: DEFAULT_MAX_FRAME_SIZE, headerTableSize: 4096 };
  private readonly localMaxConcurrent: number;
  private readonly maxHeaderListSize: number;
  private readonly dataList: Stream[] = [];
  private readonly waiting: Stream[] = [];
  private activeLocal = 0;
  private activePeer = 0;
  private headerBlock: { streamId: number; flags: number; parts: Uint8Array[]; size: number } | undefined;
  private goingAway = false;
  private dead = false;
  private _goawayReceived = false;
  private goawayLast = MAX_WINDOW;
  private graceTimer: NodeJS.Timeout | undefined;
  private pings: Array<{ data: Buffer; start: bigint; resolve: (ms: number) => void; reject: (e: Error) => void }> = [];
  private floodCount = 0;
  private floodWindowStart = 0;
  private resetCount = 0;
  private pumping = false;
  private pumpAgain = false;

  constructor(socket: Duplex, opts: SessionOptions) {
    this.socket = socket;
    this.opts = opts;
    this.isClient = opts.role === "client";
    this.nextId = this.isClient ? 1 : 2;
    this.prefaceLeft = this.isClient ? 0 : PREFACE.length;
    this.connRecvWindow = opts.connectionWindow ?? 64 * 1024 * 1024;
    this.streamRecvWindow = opts.streamWindow ?? 256 * 1024;
    this.localMaxConcurrent = opts.maxConcurrentStreams ?? (this.isClient ? Infinity : 1000);
    this.maxHeaderListSize = opts.maxHeaderListSize ?? 1024 * 1024;
    this.decoder = new HpackDecoder(4096);
    if (this.isClient) this.queue(PREFACE);
    const settings: Array<[number, number]> = [
      [SettingId.INITIAL_WINDOW_SIZE, this.streamRecvWindow],
      [SettingId.MAX_HEADER_LIST_SIZE, this.maxHeaderListSize],
    ];
    if (this.isClient) settings.push([SettingId.ENABLE_PUSH, 0]);
    if (Number.isFinite(this.localMaxConcurrent)) settings.push([SettingId.MAX_CONCURRENT_STREAMS, this.localMaxConcurrent]);
    this.queue(frame(FrameType.SETTINGS, 0, 0, settingsPayload(settings)));
    if (this.connRecvWindow > DEFAULT_WINDOW) this.queue(windowUpdateFrame(0, this.connRecvWindow - DEFAULT_WINDOW));
    socket.on("data", (chunk: Buffer) => this.onSocketData(chunk));
    socket.on("error", (err: Error) => this.teardown(err));
    socket.on("close", () => this.teardown(this.dead ? undefined : new H2SessionError("socket closed", ErrorCode.INTERNAL_ERROR)));
    socket.on("end", () => this.teardown(this.goingAway || this._goawayReceived ? undefined : new H2SessionError("peer ended the connection", ErrorCode.INTERNAL_ERROR)));
    socket.on("drain", () => this.pumpData());
    if (opts.initialData !== undefined && opts.initialData.length > 0) {
      const init = Buffer.from(opts.initialData);
      process.nextTick(() => this.onSocketData(init));
    }
  }

  get openStreams(): number {
    return this.streams.size + this.waiting.length;
  }
  get closed(): boolean {
    return this.goingAway || this.dead || this._goawayReceived;
  }
  get goawayReceived(): boolean {
    return this._goawayReceived;
  }
  ref(): void {
    (this.socket as Partial<{ ref(): void }>).ref?.();
  }
  unref(): void {
    (this.socket as Partial<{ unref(): void }>).unref?.();
  }

  /** Client: opens a stream. */
  request(headers: HeaderList, endStream: boolean, events: StreamEvents): H2Stream {
    if (!this.isClient) throw new H2SessionError("request() is for clients", ErrorCode.PROTOCOL_ERROR);
    if (this.closed) throw new H2SessionError("session is closing", ErrorCode.REFUSED_STREAM);
    if (this.nextId > MAX_WINDOW) throw new H2SessionError("stream ids exhausted", ErrorCode.REFUSED_STREAM);
    const s = new Stream(this, events, this.peer.initialWindowSize, this.streamRecvWindow);
    if (this.activeLocal >= this.peer.maxConcurrentStreams) {
      s.pendingHeaders = headers;
      s.pendingHeadersEnd = endStream;
      if (endStream) s.endQueued = true;
      this.waiting.push(s);
      return s;
    }
    this.openLocal(s, headers, endStream);
    return s;
  }

  private openLocal(s: Stream, headers: HeaderList, endStream: boolean): void {
    s.id = this.nextId;
    this.nextId += 2;
    this.streams.set(s.id, s);
    this.activeLocal++;
    // endQueued stays as it is: a body written (and ended) while the stream waited for a slot must
    // still end with END_STREAM (a headers-only request is localEnded by _sendHeaders anyway).
    this._sendHeaders(s, headers, endStream);
    if (s.queued > 0 || s.endQueued) this._scheduleData(s);
  }

  close(code: number = ErrorCode.NO_ERROR, graceMs = 1000): void {
    if (this.dead || this.goingAway) return;
    this.goingAway = true;
    for (const s of this.waiting.splice(0)) this.failStream(s, ErrorCode.REFUSED_STREAM, new H2SessionError("session closing", ErrorCode.REFUSED_STREAM));
    this.queue(goawayFrame(this.lastPeerId, code));
    if (this.streams.size === 0) this.finish(undefined);
    else {
      this.graceTimer = setTimeout(() => this.destroy(undefined, code), graceMs);
      this.graceTimer.unref?.();
    }
  }

  destroy(err?: Error, code?: number): void {
    if (this.dead) return;
    const c = code ?? (err === undefined ? ErrorCode.NO_ERROR : ErrorCode.INTERNAL_ERROR);
    this.queue(goawayFrame(this.lastPeerId, c));
    this.flush();
    this.teardown(err, c);
  }

  ping(): Promise<number> {
    return new Promise((resolve, reject) => {
      if (this.dead) return reject(new H2SessionError("session closed", ErrorCode.INTERNAL_ERROR));
      const data = Buffer.allocUnsafe(8);
      data.writeUInt32BE(this.pings.length, 0);
      data.writeUInt32BE((Math.random() * 0xffffffff) >>> 0, 4);
      this.pings.push({ data, start: process.hrtime.bigint(), resolve, reject });
      this.queue(frame(FrameType.PING, 0, 0, data));
    });
  }

  // ---- output ----

  private queue(b: Uint8Array): void {
    this.out.push(b);
    this.outBytes += b.length;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      process.nextTick(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.out.length === 0 || this.socket.destroyed) {
      this.out = [];
      this.outBytes = 0;
      return;
    }
    const data = this.out.length === 1 ? (this.out[0] ?? EMPTY) : Buffer.concat(this.out, this.outBytes);
    this.out = [];
    this.outBytes = 0;
    // A write the socket took without a backlog is followed by no 'drain': resume DATA that
    // stopped at the backlog limit (pumpOnce) here, or it would wait for an unrelated event.
    if (this.socket.write(data) && this.dataList.length > 0) this.pumpData();
  }

  /** @internal */
  _sendHeaders(s: Stream, headers: HeaderList, endStream: boolean): void {
    if (s.closed) return;
    const block = this.encoder.encode(headers);
    const max = this.peer.maxFrameSize;
    let flags = endStream ? Flags.END_STREAM : 0;
    if (block.length <= max) {
      const b = Buffer.allocUnsafe(FRAME_HEADER_SIZE + block.length);
      writeFrameHeader(b, 0, block.length, FrameType.HEADERS, flags | Flags.END_HEADERS, s.id);
      b.set(block, FRAME_HEADER_SIZE);
      this.queue(b);
    } else {
      let off = 0;
      let type: number = FrameType.HEADERS;
      while (off < block.length) {
        const n = Math.min(max, block.length - off);
        const last = off + n >= block.length;
        this.queue(frame(type, flags | (last ? Flags.END_HEADERS : 0), s.id, block.subarray(off, off + n)));
        off += n;
        type = FrameType.CONTINUATION;
        flags = 0;
      }
    }
    if (endStream) this.localEnd(s);
  }

  private localEnd(s: Stream): void {
    s.localEnded = true;
    if (!s.remoteEnded) s.events.onLocalEnd?.(s);
    this.maybeClose(s);
  }

  /** @internal */
  _scheduleData(s: Stream): void {
    if (s.id === 0) return;
    if (!s.inDataList) {
      s.inDataList = true;
      this.dataList.push(s);
    }
    this.pumpData();
  }

  private pumpData(): void {
    if (this.dead) return;
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        this.pumpOnce();
      } while (this.pumpAgain && !this.dead);
    } finally {
      this.pumping = false;
    }
  }

  private pumpOnce(): void {
    let i = 0;
    while (i < this.dataList.length) {
      if (this.socket.writableLength + this.outBytes > SOCKET_HIGH_WATER) break;
      const s = this.dataList[i];
      if (s === undefined) break;
      this.sendStreamData(s);
      if (s.closed || (s.queued === 0 && !s.endQueued) || s.localEnded) {
        s.inDataList = false;
        this.dataList.splice(i, 1);
      } else i++;
    }
  }

  private sendStreamData(s: Stream): void {
    const max = this.peer.maxFrameSize;
    while (s.queued > 0) {
      const can = Math.min(s.sendWindow, this.connSendWindow, max, s.queued);
      if (can <= 0) return;
      const head = s.queue[0] ?? EMPTY;
      const n = Math.min(can, head.length);
      const chunk = head.subarray(0, n);
      if (n === head.length) s.queue.shift();
      else s.queue[0] = head.subarray(n);
      s.queued -= n;
      s.sendWindow -= n;
      this.connSendWindow -= n;
      const last = s.queued === 0 && s.endQueued && s.pendingHeaders === undefined;
      const h = Buffer.allocUnsafe(FRAME_HEADER_SIZE);
      writeFrameHeader(h, 0, n, FrameType.DATA, last ? Flags.END_STREAM : 0, s.id);
      this.queue(h);
      this.queue(chunk);
      if (last) {
        this.localEnd(s);
        return;
      }
      if (s.needDrain && s.queued <= HIGH_WATER / 2) {
        s.needDrain = false;
        s.events.onDrain?.(s);
      }
      if (this.socket.writableLength + this.outBytes > SOCKET_HIGH_WATER) return;
    }
    if (s.queued === 0 && s.needDrain) {
      s.needDrain = false;
      s.events.onDrain?.(s);
    }
    if (s.queued === 0 && s.pendingHeaders !== undefined) {
      const h = s.pendingHeaders;
      s.pendingHeaders = undefined;
      s.endQueued = false;
      this._sendHeaders(s, h, s.pendingHeadersEnd);
      return;
    }
    if (s.queued === 0 && s.endQueued && !s.localEnded) {
      this.queue(frame(FrameType.DATA, Flags.END_STREAM, s.id));
      this.localEnd(s);
    }
  }

  /** @internal */
  _resetLocal(s: Stream, code: number): void {
    if (s.id !== 0) this.queue(rstFrame(s.id, code));
    else {
      const w = this.waiting.indexOf(s);
      if (w >= 0) this.waiting.splice(w, 1);
    }
    this.removeStream(s);
  }

  /** @internal */
  _consumed(s: Stream, n: number): void {
    if (s.closed || n <= 0) return;
    s.recvUnacked += n;
    if (s.recvUnacked >= this.streamRecvWindow / 2 && !s.remoteEnded) {
      this.queue(windowUpdateFrame(s.id, s.recvUnacked));
      s.recvWindow += s.recvUnacked;
      s.recvUnacked = 0;
    }
  }

  private maybeClose(s: Stream): void {
    if (s.closed || !s.localEnded || !s.remoteEnded) return;
    this.removeStream(s);
    s.events.onClose?.(s);
  }

  private removeStream(s: Stream): void {
    if (s.closed) return;
    s.closed = true;
    s.queue = [];
    s.queued = 0;
    if (s.id !== 0 && this.streams.delete(s.id)) {
      if ((s.id & 1) === (this.isClient ? 1 : 0)) {
        this.activeLocal--;
        this.startWaiting();
      } else this.activePeer--;
    }
    if (this.goingAway && this.streams.size === 0) this.finish(undefined);
  }

  private startWaiting(): void {
    while (this.waiting.length > 0 && this.activeLocal < this.peer.maxConcurrentStreams && !this.closed) {
      const s = this.waiting.shift();
      if (s === undefined) break;
      const h = s.pendingHeaders ?? [];
      s.pendingHeaders = undefined;
      this.openLocal(s, h, s.pendingHeadersEnd);
    }
  }

  private failStream(s: Stream, code: number, err: Error | undefined): void {
    if (s.closed) return;
    this.removeStream(s);
    s.events.onReset(s, code, err);
  }

  private finish(err: Error | undefined): void {
    this.flush();
    if (!this.socket.destroyed) this.socket.end();
    this.teardown(err);
  }

  private teardown(err: Error | undefined, code?: number): void {
    if (this.dead) return;
    this.dead = true;
    if (this.graceTimer !== undefined) clearTimeout(this.graceTimer);
    const c = code ?? (err instanceof H2SessionError ? err.code : err === undefined ? ErrorCode.NO_ERROR : ErrorCode.INTERNAL_ERROR);
    const sErr = err ?? new H2SessionError("session closed", c);
    for (const s of this.waiting.splice(0)) this.failStream(s, c === ErrorCode.NO_ERROR ? ErrorCode.REFUSED_STREAM : c, sErr);
    for (const s of [...this.streams.values()]) this.failStream(s, c === ErrorCode.NO_ERROR ? ErrorCode.INTERNAL_ERROR : c, sErr);
    for (const p of this.pings.splice(0)) p.reject(sErr);
    if (err !== undefined || this.socket.writableLength === 0) this.socket.destroy();
    else this.socket.end();
    this.opts.onClose?.(err);
  }

  private connError(code: number, message: string): void {
    if (this.dead) return;
    this.queue(goawayFrame(this.lastPeerId, code, message));
    this.flush();
    const err = new H2SessionError(message, code);
    const sock = this.socket;
    this.teardownKeepSocket(err, code);
    sock.end();
  }

  private teardownKeepSocket(err: Error, code: number): void {
    // Like teardown, but half-close so the GOAWAY reaches the peer.
    this.dead = true;
    if (this.graceTimer !== undefined) clearTimeout(this.graceTimer);
    for (const s of this.waiting.splice(0)) this.failStream(s, code, err);
    for (const s of [...this.streams.values()]) this.failStream(s, code, err);
    for (const p of this.pings.splice(0)) p.reject(err);
    const t = setTimeout(() => this.socket.destroy(), 1000);
    t.unref?.();
    this.opts.onClose?.(err);
  }

  // ---- input ----

  private onSocketData(chunk: Buffer): void {
    if (this.dead) return;
    try {
      this.parse(chunk);
    } catch (e) {
      if (e instanceof ConnError) this.connError(e.code, e.message);
      else if (e instanceof HpackError) this.connError(ErrorCode.COMPRESSION_ERROR, e.message);
      else this.destroy(e instanceof Error ? e : new Error(String(e)));
    }
  }

  private parse(chunk: Buffer): void {
    let buf = chunk;
    if (this.carry !== undefined) {
      buf = Buffer.concat([this.carry, chunk]);
      this.carry = undefined;
    }
    let p = 0;
    if (this.prefaceLeft > 0) {
      const off = PREFACE.length - this.prefaceLeft;
      const n = Math.min(this.prefaceLeft, buf.length);
      for (let i = 0; i < n; i++) if (buf[i] !== PREFACE[off + i]) throw new ConnError(ErrorCode.PROTOCOL_ERROR, "bad connection preface");
      this.prefaceLeft -= n;
      p = n;
    }
    const maxFrame = DEFAULT_MAX_FRAME_SIZE;
    while (buf.length - p >= FRAME_HEADER_SIZE && !this.dead) {
      const len = ((buf[p] ?? 0) << 16) | ((buf[p + 1] ?? 0) << 8) | (buf[p + 2] ?? 0);
      if (len > maxFrame) throw new ConnError(ErrorCode.FRAME_SIZE_ERROR, `frame of ${len} bytes exceeds ${maxFrame}`);
      if (buf.length - p < FRAME_HEADER_SIZE + len) break;
      const type = buf[p + 3] ?? 0;
      const flags = buf[p + 4] ?? 0;
      const id = readU31(buf, p + 5);
      const payload = buf.subarray(p + FRAME_HEADER_SIZE, p + FRAME_HEADER_SIZE + len);
      p += FRAME_HEADER_SIZE + len;
      this.onFrame(type, flags, id, payload);
    }
    if (p < buf.length && !this.dead) this.carry = Buffer.from(buf.subarray(p));
  }

  private flood(): void {
    const now = Date.now();
    if (now - this.floodWindowStart > 1000) {
      this.floodWindowStart = now;
      this.floodCount = 0;
    }
    if (++this.floodCount > FLOOD_LIMIT) throw new ConnError(ErrorCode.ENHANCE_YOUR_CALM, "control frame flood");
  }

  private onFrame(type: number, flags: number, id: number, payload: Buffer): void {
    if (!this.gotSettings && type !== FrameType.SETTINGS) throw new ConnError(ErrorCode.PROTOCOL_ERROR, "first frame is not SETTINGS");
    if (this.headerBlock !== undefined && (type !== FrameType.CONTINUATION || id !== this.headerBlock.streamId)) {
      throw new ConnError(ErrorCode.PROTOCOL_ERROR, "expected CONTINUATION");
    }
    switch (type) {
      case FrameType.DATA: return this.onData(flags, id, payload);
      case FrameType.HEADERS: return this.onHeadersFrame(flags, id, payload);
      case FrameType.PRIORITY:
        if (id === 0) throw new ConnError(ErrorCode.PROTOCOL_ERROR, "PRIORITY on stream 0");
        if (payload.length !== 5) throw new ConnError(ErrorCode.FRAME_SIZE_ERROR, "PRIORITY length");
        return;
      case FrameType.RST_STREAM: return this.onRst(id, payload);
      case FrameType.SETTINGS: return this.onSettings(flags, id, payload);
      case FrameType.PUSH_PROMISE:
        throw new ConnError(ErrorCode.PROTOCOL_ERROR, "PUSH_PROMISE not enabled");
      case FrameType.PING: return this.onPing(flags, id, payload);
      case FrameType.GOAWAY: return this.onGoaway(id, payload);
      case FrameType.WINDOW_UPDATE: return this.onWindowUpdate(id, payload);
      case FrameType.CONTINUATION: return this.onContinuation(flags, id, payload);
      default: return; // unknown frame types are ignored
    }
  }

  private stripPadding(flags: number, payload: Buffer): Buffer {
    if ((flags & Flags.PADDED) === 0) return payload;
    if (payload.length < 1) throw new ConnError(ErrorCode.FRAME_SIZE_ERROR, "padded frame too short");
    const pad = payload[0] ?? 0;
    if (pad >= payload.length) throw new ConnError(ErrorCode.PROTOCOL_ERROR, "padding exceeds payload");
    return payload.subarray(1, payload.length - pad);
  }

  private isIdle(id: number): boolean {
    const ours = (id & 1) === (this.isClient ? 1 : 0);
    return ours ? id >= this.nextId : id > this.lastPeerId;
  }

  private onData(flags: number, id: number, payload: Buffer): void {
    if (id === 0) throw new ConnError(ErrorCode.PROTOCOL_ERROR, "DATA on stream 0");
    const total = payload.length;
    // connection-level accounting first (even for closed streams)
    this.connRecvUnacked += total;
    if (this.connRecvUnacked > this.connRecvWindow) throw new ConnError(ErrorCode.FLOW_CONTROL_ERROR, "DATA beyond the connection window");
    const data = this.stripPadding(flags, payload);
    const s = this.streams.get(id);
    if (s === undefined || s.remoteEnded) {
      this.connConsumed(total);
      if (this.isIdle(id)) throw new ConnError(ErrorCode.PROTOCOL_ERROR, "DATA on an idle stream");
      if (s !== undefined) throw new ConnError(ErrorCode.STREAM_CLOSED, "DATA after END_STREAM");
      this.queue(rstFrame(id, ErrorCode.STREAM_CLOSED));
      return;
    }
    if (!s.headersSeen) throw new ConnError(ErrorCode.PROTOCOL_ERROR, "DATA before HEADERS");
    s.recvWindow -= total;
    if (s.recvWindow < 0) {
      this.connConsumed(total);
      this.queue(rstFrame(id, ErrorCode.FLOW_CONTROL_ERROR));
      this.failStream(s, ErrorCode.FLOW_CONTROL_ERROR, new H2SessionError("DATA beyond the stream window", ErrorCode.FLOW_CONTROL_ERROR));
      return;
    }
    const end = (flags & Flags.END_STREAM) !== 0;
    if (total === 0 && !end) this.flood();
    this.connConsumed(total);
    if (end) s.remoteEnded = true;
    if (total - data.length > 0 || !s.manual) this._consumed(s, s.manual ? total - data.length : total);
    s.events.onData(s, data, end);
    if (end) this.maybeClose(s);
  }

  private connConsumed(n: number): void {
    if (this.connRecvUnacked >= this.connRecvWindow / 2) {
      this.queue(windowUpdateFrame(0, this.connRecvUnacked));
      this.connRecvUnacked = 0;
    }
    void n;
  }

  private onHeadersFrame(flags: number, id: number, payload: Buffer): void {
    if (id === 0) throw new ConnError(ErrorCode.PROTOCOL_ERROR, "HEADERS on stream 0");
    let block = this.stripPadding(flags, payload);
    if (flags & Flags.PRIORITY) {
      if (block.length < 5) throw new ConnError(ErrorCode.FRAME_SIZE_ERROR, "HEADERS priority too short");
      if (readU31(block, 0) === id) throw new ConnError(ErrorCode.PROTOCOL_ERROR, "stream depends on itself");
      block = block.subarray(5);
    }
    if (flags & Flags.END_HEADERS) return this.onHeaderBlock(id, flags, block);
    this.headerBlock = { streamId: id, flags, parts: [Buffer.from(block)], size: block.length };
  }

  private onContinuation(flags: number, id: number, payload: Buffer): void {
    const hb = this.headerBlock;
    if (hb === undefined || hb.streamId !== id) throw new ConnError(ErrorCode.PROTOCOL_ERROR, "unexpected CONTINUATION");
    hb.parts.push(Buffer.from(payload));
    hb.size += payload.length;
    if (payload.length === 0) this.flood();
    if (hb.size > this.maxHeaderListSize * 2 + 65536) throw new ConnError(ErrorCode.ENHANCE_YOUR_CALM, "header block too large");
    if (flags & Flags.END_HEADERS) {
      this.headerBlock = undefined;
      this.onHeaderBlock(id, hb.flags, Buffer.concat(hb.parts, hb.size));
    }
  }

  private onHeaderBlock(id: number, flags: number, block: Uint8Array): void {
    const end = (flags & Flags.END_STREAM) !== 0;
    let headers: HeaderList;
    let tooLarge = false;
    try {
      headers = this.decoder.decode(block, this.maxHeaderListSize);
    } catch (e) {
      if (!(e instanceof HeaderListTooLarge)) throw e;
      headers = [];
      tooLarge = true;
    }
    let s = this.streams.get(id);
    if (s === undefined) {
      const peerInitiated = (id & 1) === (this.isClient ? 0 : 1);
      if (!peerInitiated) {
        if (this.isClient && (id & 1) === 0) throw new ConnError(ErrorCode.PROTOCOL_ERROR, "even stream id from server");
        if (id >= this.nextId) throw new ConnError(ErrorCode.PROTOCOL_ERROR, "HEADERS on an idle stream");
        throw new ConnError(ErrorCode.STREAM_CLOSED, "HEADERS on a closed stream");
      }
      if (id <= this.lastPeerId) throw new ConnError(ErrorCode.STREAM_CLOSED, "HEADERS on a closed stream");
      if (this.isClient) throw new ConnError(ErrorCode.PROTOCOL_ERROR, "server-initiated stream");
      this.lastPeerId = id;
      if (this.goingAway) return;
      if (tooLarge || this.activePeer >= this.localMaxConcurrent) {
        this.queue(rstFrame(id, ErrorCode.REFUSED_STREAM));
        this.countReset();
        return;
      }
      const ns = new Stream(this, NULL_EVENTS, this.peer.initialWindowSize, this.streamRecvWindow);
      ns.id = id;
      ns.headersSeen = true;
      if (end) ns.remoteEnded = true;
      this.streams.set(id, ns);
      this.activePeer++;
      const handler = this.opts.onStream;
      if (handler === undefined) {
        this._resetLocal(ns, ErrorCode.REFUSED_STREAM);
        return;
      }
      ns.events = handler(ns, headers, end);
      if (end) this.maybeClose(ns);
      return;
    }
    if (s.remoteEnded) throw new ConnError(ErrorCode.STREAM_CLOSED, "HEADERS after END_STREAM");
    if (tooLarge) {
      this.queue(rstFrame(id, ErrorCode.PROTOCOL_ERROR));
      this.failStream(s, ErrorCode.PROTOCOL_ERROR, new H2SessionError("header list too large", ErrorCode.PROTOCOL_ERROR));
      return;
    }
    if (s.headersSeen && !end) throw new ConnError(ErrorCode.PROTOCOL_ERROR, "trailers without END_STREAM");
    const informational = !s.headersSeen && headers[0] === ":status" && (headers[1] ?? "").startsWith("1");
    if (!informational) s.headersSeen = true;
    if (end) s.remoteEnded = true;
    s.events.onHeaders(s, headers, end);
    if (end) this.maybeClose(s);
    s = undefined;
  }

  private countReset(): void {
    this.resetCount++;
    this.flood();
  }

  private onRst(id: number, payload: Buffer): void {
    if (id === 0) throw new ConnError(ErrorCode.PROTOCOL_ERROR, "RST_STREAM on stream 0");
    if (payload.length !== 4) throw new ConnError(ErrorCode.FRAME_SIZE_ERROR, "RST_STREAM length");
    if (this.isIdle(id)) throw new ConnError(ErrorCode.PROTOCOL_ERROR, "RST_STREAM on an idle stream");
    this.countReset();
    const s = this.streams.get(id);
    if (s === undefined) return;
    const code = readU32(payload, 0);
    this.failStream(s, code, undefined);
  }

  private onSettings(flags: number, id: number, payload: Buffer): void {
    if (id !== 0) throw new ConnError(ErrorCode.PROTOCOL_ERROR, "SETTINGS on a stream");
    if (flags & Flags.ACK) {
      if (payload.length !== 0) throw new ConnError(ErrorCode.FRAME_SIZE_ERROR, "SETTINGS ack with payload");
      return;
    }
    if (payload.length % 6 !== 0) throw new ConnError(ErrorCode.FRAME_SIZE_ERROR, "SETTINGS length");
    if (this.gotSettings) this.flood();
    this.gotSettings = true;
    for (let i = 0; i < payload.length; i += 6) {
      const key = ((payload[i] ?? 0) << 8) | (payload[i + 1] ?? 0);
      const v = readU32(payload, i + 2);
      switch (key) {
        case SettingId.HEADER_TABLE_SIZE:
          this.peer.headerTableSize = v;
          this.encoder.setPeerLimit(v);
          break;
        case SettingId.ENABLE_PUSH:
          if (v > 1) throw new ConnError(ErrorCode.PROTOCOL_ERROR, "ENABLE_PUSH must be 0 or 1");
          if (this.isClient && v !== 0) throw new ConnError(ErrorCode.PROTOCOL_ERROR, "server sent ENABLE_PUSH");
          break;
        case SettingId.MAX_CONCURRENT_STREAMS:
          this.peer.maxConcurrentStreams = v;
          break;
        case SettingId.INITIAL_WINDOW_SIZE: {
          if (v > MAX_WINDOW) throw new ConnError(ErrorCode.FLOW_CONTROL_ERROR, "INITIAL_WINDOW_SIZE too large");
          const delta = v - this.peer.initialWindowSize;
          this.peer.initialWindowSize = v;
          for (const s of this.streams.values()) {
            s.sendWindow += delta;
            if (s.sendWindow > MAX_WINDOW) throw new ConnError(ErrorCode.FLOW_CONTROL_ERROR, "window overflow");
          }
          for (const s of this.waiting) s.sendWindow += delta;
          break;
        }
        case SettingId.MAX_FRAME_SIZE:
          if (v < DEFAULT_MAX_FRAME_SIZE || v > 16777215) throw new ConnError(ErrorCode.PROTOCOL_ERROR, "bad MAX_FRAME_SIZE");
          this.peer.maxFrameSize = v;
          break;
        default:
          break;
      }
    }
    this.queue(frame(FrameType.SETTINGS, Flags.ACK, 0));
    this.opts.onRemoteSettings?.({ ...this.peer });
    this.startWaiting();
    this.pumpData();
  }

  private onPing(flags: number, id: number, payload: Buffer): void {
    if (id !== 0) throw new ConnError(ErrorCode.PROTOCOL_ERROR, "PING on a stream");
    if (payload.length !== 8) throw new ConnError(ErrorCode.FRAME_SIZE_ERROR, "PING length");
    if (flags & Flags.ACK) {
      const i = this.pings.findIndex((p) => p.data.equals(payload));
      if (i >= 0) {
        const [p] = this.pings.splice(i, 1);
        if (p !== undefined) p.resolve(Number(process.hrtime.bigint() - p.start) / 1e6);
      }
      return;
    }
    this.flood();
    this.queue(frame(FrameType.PING, Flags.ACK, 0, payload));
  }

  private onGoaway(id: number, payload: Buffer): void {
    if (id !== 0) throw new ConnError(ErrorCode.PROTOCOL_ERROR, "GOAWAY on a stream");
    if (payload.length < 8) throw new ConnError(ErrorCode.FRAME_SIZE_ERROR, "GOAWAY length");
    const last = readU31(payload, 0);
    const code = readU32(payload, 4);
    this._goawayReceived = true;
    this.goawayLast = Math.min(this.goawayLast, last);
    const refusedErr = new H2SessionError("refused by GOAWAY", ErrorCode.REFUSED_STREAM);
    for (const s of this.waiting.splice(0)) this.failStream(s, ErrorCode.REFUSED_STREAM, refusedErr);
    for (const s of [...this.streams.values()]) {
      const ours = (s.id & 1) === (this.isClient ? 1 : 0);
      if (ours && s.id > this.goawayLast) this.failStream(s, ErrorCode.REFUSED_STREAM, refusedErr);
    }
    this.opts.onGoaway?.(last, code);
    if (code !== ErrorCode.NO_ERROR) {
      this.teardown(new H2SessionError(`peer sent GOAWAY code ${code}`, code), code);
      return;
    }
    if (this.streams.size === 0) this.finish(undefined);
    else this.goingAway = true;
  }

  private onWindowUpdate(id: number, payload: Buffer): void {
    if (payload.length !== 4) throw new ConnError(ErrorCode.FRAME_SIZE_ERROR, "WINDOW_UPDATE length");
    const inc = readU31(payload, 0);
    if (id === 0) {
      if (inc === 0) throw new ConnError(ErrorCode.PROTOCOL_ERROR, "WINDOW_UPDATE of 0");
      this.connSendWindow += inc;
      if (this.connSendWindow > MAX_WINDOW) throw new ConnError(ErrorCode.FLOW_CONTROL_ERROR, "connection window overflow");
      this.pumpData();
      return;
    }
    const s = this.streams.get(id);
    if (s === undefined) {
      if (this.isIdle(id)) throw new ConnError(ErrorCode.PROTOCOL_ERROR, "WINDOW_UPDATE on an idle stream");
      return;
    }
    if (inc === 0) {
      this.queue(rstFrame(id, ErrorCode.PROTOCOL_ERROR));
      this.failStream(s, ErrorCode.PROTOCOL_ERROR, new H2SessionError("WINDOW_UPDATE of 0", ErrorCode.PROTOCOL_ERROR));
      return;
    }
    s.sendWindow += inc;
    if (s.sendWindow > MAX_WINDOW) {
      this.queue(rstFrame(id, ErrorCode.FLOW_CONTROL_ERROR));
      this.failStream(s, ErrorCode.FLOW_CONTROL_ERROR, new H2SessionError("stream window overflow", ErrorCode.FLOW_CONTROL_ERROR));
      return;
    }
    if (s.queued > 0 || s.endQueued) this._scheduleData(s);
  }
}

const NULL_EVENTS: StreamEvents = {
  onHeaders(): void {},
  onData(): void {},
  onReset(): void {},
};
