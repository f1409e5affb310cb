/**
 * A minimal SPDY/3.1 client for tests: opens streams like client-go does and decodes what the
 * server sends (header blocks decompressed in wire order). Not used outside tests.
 */
import type { AsyncQueue } from "../_queue.ts";
import { HeaderCompressor, HeaderDecompressor } from "./compression.ts";
import { encodeFrame, SpdyFrameParser, type SpdyFrame } from "./frame.ts";
import { decodeHeaderBlock, encodeHeaderBlock, type SpdyHeaders } from "./headers.ts";

export type ReceivedFrame = SpdyFrame & { readonly headers?: SpdyHeaders };

export interface TestIo {
  write(chunk: Uint8Array): void;
  readonly readable: AsyncQueue<Uint8Array>;
}

export class SpdyTestClient {
  readonly #c = new HeaderCompressor();
  readonly #d = new HeaderDecompressor();
  readonly #parser = new SpdyFrameParser();
  readonly #pending: ReceivedFrame[] = [];
  #nextId = 1;
  #ended = false;

  constructor(private readonly io: TestIo) {}

  /** Sends a SYN_STREAM; returns its id. */
  async open(headers: Readonly<Record<string, string>>, fin = false): Promise<number> {
    const id = this.#nextId;
    this.#nextId += 2;
    const headerBlock = await this.#c.compress(encodeHeaderBlock(headers));
    this.io.write(encodeFrame({ type: "syn_stream", streamId: id, associatedStreamId: 0, priority: 0, slot: 0, fin, unidirectional: false, headerBlock }));
    return id;
  }

  /** Sends a SYN_STREAM with an explicit id (for misbehaviour tests). */
  async openWithId(id: number, headers: Readonly<Record<string, string>>): Promise<void> {
    const headerBlock = await this.#c.compress(encodeHeaderBlock(headers));
    this.io.write(encodeFrame({ type: "syn_stream", streamId: id, associatedStreamId: 0, priority: 0, slot: 0, fin: false, unidirectional: false, headerBlock }));
  }

  send(frame: SpdyFrame): void {
    this.io.write(encodeFrame(frame));
  }

  data(streamId: number, data: Uint8Array | string, fin = false): void {
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    this.send({ type: "data", streamId, fin, data: bytes });
  }

  /** The next frame from the server, or undefined when the connection ended. */
  async next(timeoutMs = 3000): Promise<ReceivedFrame | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (this.#pending.length === 0) {
      if (this.#ended) return undefined;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("timed out waiting for a SPDY frame");
      let timer: ReturnType<typeof setTimeout> | undefined;
      const r = await Promise.race([
        this.io.readable.next(),
        new Promise<"timeout">((res) => (timer = setTimeout(() => res("timeout"), left))),
      ]);
      clearTimeout(timer);
      if (r === "timeout") throw new Error("timed out waiting for a SPDY frame");
      if (r.done) {
        this.#ended = true;
        break;
      }
      for (const f of this.#parser.push(r.value)) {
        if (f.type === "syn_reply" || f.type === "syn_stream" || f.type === "headers") {
          this.#pending.push({ ...f, headers: decodeHeaderBlock(await this.#d.decompress(f.headerBlock)) });
        } else {
          this.#pending.push(f);
        }
      }
    }
    return this.#pending.shift();
  }

  /** Frames until `stop` matches (inclusive) or the connection ends. */
  async until(stop: (f: ReceivedFrame) => boolean, max = 1000): Promise<ReceivedFrame[]> {
    const out: ReceivedFrame[] = [];
    for (let i = 0; i < max; i++) {
      const f = await this.next();
      if (f === undefined) break;
      out.push(f);
      if (stop(f)) break;
    }
    return out;
  }

  /** Concatenated DATA payloads per stream from `frames`. */
  static dataOf(frames: readonly ReceivedFrame[], streamId: number): string {
    const parts: Uint8Array[] = [];
    for (const f of frames) if (f.type === "data" && f.streamId === streamId) parts.push(f.data);
    return Buffer.concat(parts).toString("utf8");
  }

  close(): void {
    this.#c.close();
    this.#d.close();
  }
}
