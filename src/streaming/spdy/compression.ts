/**
 * SPDY/3 header-block compression: one zlib stream per direction, primed with the SPDY/3
 * dictionary, each header block ended by a SYNC flush so the peer can decode it on its own while
 * the compression context carries over to the next block (§2.6.10.1).
 *
 * Built on node:zlib streams (`dictionary` option). Calls are serialized internally: blocks are
 * (de)compressed in call order, which must be the order they appear on the wire.
 */
import * as zlib from "node:zlib";
import { concatBytes } from "../_queue.ts";
import { SPDY3_DICTIONARY } from "./dictionary.ts";
import { SpdyProtocolError } from "./frame.ts";

type ZStream = zlib.Deflate | zlib.Inflate;

class Serial {
  #tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.#tail.then(fn, fn);
    this.#tail = p.catch(() => undefined);
    return p;
  }
}

/** Feeds `input` and sync-flushes; resolves with the output produced, at most `limit` bytes. */
function pump(z: ZStream, input: Uint8Array, limit: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const out: Uint8Array[] = [];
    let n = 0;
    let failed = false;
    const onData = (chunk: Buffer): void => {
      n += chunk.byteLength;
      if (n > limit && !failed) {
        failed = true;
        cleanup();
        reject(new SpdyProtocolError(`decompressed SPDY header block exceeds ${limit} bytes`));
        return;
      }
      out.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    };
    const onError = (err: Error): void => {
      if (failed) return;
      failed = true;
      cleanup();
      reject(new SpdyProtocolError(`SPDY header block: ${err.message}`));
    };
    const cleanup = (): void => {
      z.off("data", onData);
      z.off("error", onError);
    };
    z.on("data", onData);
    z.on("error", onError);
    z.write(input);
    z.flush(zlib.constants.Z_SYNC_FLUSH, () => {
      if (failed) return;
      cleanup();
      resolve(concatBytes(out));
    });
  });
}

/** The sending side's compression context. */
export class HeaderCompressor {
  readonly #z = zlib.createDeflate({ dictionary: SPDY3_DICTIONARY, level: zlib.constants.Z_BEST_COMPRESSION });
  readonly #serial = new Serial();

  constructor() {
    this.#z.on("error", () => undefined); // surfaced per call by pump()
  }

  /** Compresses one uncompressed header block (see headers.ts). */
  compress(block: Uint8Array): Promise<Uint8Array> {
    return this.#serial.run(() => pump(this.#z, block, Number.MAX_SAFE_INTEGER));
  }

  close(): void {
    this.#z.close();
  }
}

/** The receiving side's decompression context. Once a block fails, every later call fails. */
export class HeaderDecompressor {
  readonly #z = zlib.createInflate({ dictionary: SPDY3_DICTIONARY });
  readonly #serial = new Serial();
  #broken: Error | undefined;

  /** @param maxBlockBytes largest decompressed block accepted (zip-bomb guard). */
  constructor(private readonly maxBlockBytes = 256 * 1024) {
    this.#z.on("error", () => undefined); // surfaced per call by pump()
  }

  /** Decompresses one compressed header block. Rejects with `SpdyProtocolError`. */
  decompress(compressed: Uint8Array): Promise<Uint8Array> {
    return this.#serial.run(async () => {
      if (this.#broken !== undefined) throw this.#broken;
      try {
        return await pump(this.#z, compressed, this.maxBlockBytes);
      } catch (err) {
        this.#broken = err instanceof Error ? err : new SpdyProtocolError(String(err));
        throw this.#broken;
      }
    });
  }

  close(): void {
    this.#z.close();
  }
}
