/**
 * A single-consumer async queue with a high-water mark: producers `push` and may `await
 * waitForSpace()` (backpressure), the consumer iterates. `end()` finishes the iteration after the
 * buffered items; `end(err)` makes the pending/next `next()` reject with `err` after them.
 *
 * Used for every inbound byte stream of this folder (WebSocket messages, SPDY stream data, stdin,
 * resize events, port-forward streams), so the read loops own no buffering logic of their own.
 */
export class AsyncQueue<T> implements AsyncIterable<T> {
  readonly #items: T[] = [];
  #waiter: ((r: IteratorResult<T>) => void) | undefined;
  #waiterReject: ((err: unknown) => void) | undefined;
  #spaceWaiters: (() => void)[] = [];
  #ended = false;
  #error: unknown = undefined;
  #iterated = false;

  /**
   * @param highWaterMark `waitForSpace()` blocks while this many items are buffered.
   * @param onConsume called with each item the consumer takes (flow-control accounting).
   */
  constructor(
    readonly highWaterMark = 16,
    private readonly onConsume?: (item: T) => void,
  ) {}

  get size(): number {
    return this.#items.length;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Adds an item; returns false (and drops it) once the queue has ended. */
  push(item: T): boolean {
    if (this.#ended) return false;
    const w = this.#waiter;
    if (w !== undefined) {
      this.#waiter = undefined;
      this.#waiterReject = undefined;
      this.onConsume?.(item);
      w({ value: item, done: false });
    } else {
      this.#items.push(item);
    }
    return true;
  }

  /** No more items. With `error`, the consumer sees it after the buffered items. Idempotent. */
  end(error?: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error;
    this.#wakeSpace();
    if (this.#waiter !== undefined && this.#items.length === 0) this.#settleEnd();
  }

  /** Resolves once fewer than `highWaterMark` items are buffered, or the queue ended. */
  waitForSpace(): Promise<void> {
    if (this.#items.length < this.highWaterMark || this.#ended) return Promise.resolve();
    return new Promise((resolve) => this.#spaceWaiters.push(resolve));
  }

  /** Drops the buffered items and ends the queue (the consumer went away). */
  cancel(): void {
    this.#items.length = 0;
    this.end();
  }

  #wakeSpace(): void {
    const ws = this.#spaceWaiters;
    this.#spaceWaiters = [];
    for (const w of ws) w();
  }

  #settleEnd(): void {
    const resolve = this.#waiter;
    const reject = this.#waiterReject;
    this.#waiter = undefined;
    this.#waiterReject = undefined;
    if (this.#error !== undefined) {
      const err = this.#error;
      this.#error = undefined;
      reject?.(err);
    } else {
      resolve?.({ value: undefined, done: true });
    }
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#items.length > 0) {
      const item = this.#items.shift() as T; // non-empty: checked above
      if (this.#items.length < this.highWaterMark) this.#wakeSpace();
      this.onConsume?.(item);
      return Promise.resolve({ value: item, done: false });
    }
    if (this.#ended) {
      if (this.#error !== undefined) {
        const err = this.#error;
        this.#error = undefined;
        return Promise.reject(err);
      }
      return Promise.resolve({ value: undefined, done: true });
    }
    this.#wakeSpace();
    return new Promise((resolve, reject) => {
      this.#waiter = resolve;
      this.#waiterReject = reject;
    });
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    if (this.#iterated) throw new Error("AsyncQueue supports a single consumer");
    this.#iterated = true;
    return {
      next: () => this.next(),
      return: (): Promise<IteratorResult<T>> => {
        this.cancel();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}

/** Concatenates byte arrays. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1 && parts[0] !== undefined) return parts[0];
  let n = 0;
  for (const p of parts) n += p.byteLength;
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.byteLength;
  }
  return out;
}

/**
 * Bytes received in arbitrary chunks, consumed by exact lengths (frame parsers). Copies only what
 * a `take` returns.
 */
export class ByteBuffer {
  #chunks: Uint8Array[] = [];
  #length = 0;

  get length(): number {
    return this.#length;
  }

  append(chunk: Uint8Array): void {
    if (chunk.byteLength === 0) return;
    this.#chunks.push(chunk);
    this.#length += chunk.byteLength;
  }

  /** The byte at `i` (0 <= i < length). */
  at(i: number): number {
    for (const c of this.#chunks) {
      if (i < c.byteLength) return c[i] ?? 0;
      i -= c.byteLength;
    }
    throw new RangeError("ByteBuffer.at out of range");
  }

  /** Removes and returns the first `n` bytes (n <= length). */
  take(n: number): Uint8Array {
    if (n > this.#length) throw new RangeError("ByteBuffer.take out of range");
    const first = this.#chunks[0];
    if (first !== undefined && first.byteLength >= n) {
      const out = first.subarray(0, n);
      if (first.byteLength === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
      this.#length -= n;
      return out;
    }
    const out = new Uint8Array(n);
    let off = 0;
    while (off < n) {
      const c = this.#chunks[0];
      if (c === undefined) break;
      const k = Math.min(c.byteLength, n - off);
      out.set(c.subarray(0, k), off);
      off += k;
      if (k === c.byteLength) this.#chunks.shift();
      else this.#chunks[0] = c.subarray(k);
    }
    this.#length -= n;
    return out;
  }

  clear(): void {
    this.#chunks = [];
    this.#length = 0;
  }
}

/** Text to UTF-8 bytes; bytes pass through. */
export function toBytes(data: Uint8Array | string): Uint8Array {
  return typeof data === "string" ? new TextEncoder().encode(data) : data;
}
