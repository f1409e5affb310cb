/**
 * Fan-out of runtime events to subscribers as async iterables, with a bounded buffer each.
 * Publishing with no subscribers costs one length check (the hollow runtime publishes on every
 * transition of every container). A subscriber whose buffer overflows gets
 * `RuntimeError("Unavailable")` from its iterator and is dropped: it must relist and resubscribe,
 * which is how the kubelet's evented PLEG recovers as well.
 */
import { RuntimeError } from "./errors.ts";

interface Subscriber<T> {
  buf: T[];
  /** Index of the next undelivered event in `buf`. */
  head: number;
  wake: (() => void) | undefined;
  failed: RuntimeError | undefined;
  done: boolean;
}

export class EventBroadcaster<T> {
  readonly #subs = new Set<Subscriber<T>>();
  readonly #limit: number;
  #closed = false;

  /** `bufferLimit`: events a slow subscriber may have pending before it is cut off (>= 1). */
  constructor(bufferLimit = 10_000) {
    if (!(Number.isInteger(bufferLimit) && bufferLimit >= 1)) throw new RangeError(`bufferLimit must be an integer >= 1, got ${bufferLimit}`);
    this.#limit = bufferLimit;
  }

  get subscribers(): number {
    return this.#subs.size;
  }

  publish(event: T): void {
    if (this.#subs.size === 0) return;
    for (const s of this.#subs) {
      if (s.buf.length - s.head >= this.#limit) {
        s.failed = new RuntimeError("Unavailable", `event subscriber fell behind by ${this.#limit} events; relist and subscribe again`);
        this.#subs.delete(s);
      } else {
        s.buf.push(event);
      }
      const w = s.wake;
      s.wake = undefined;
      w?.();
    }
  }

  /** Ends every subscription (their loops finish after draining) and refuses new ones. */
  close(): void {
    this.#closed = true;
    for (const s of this.#subs) {
      s.done = true;
      const w = s.wake;
      s.wake = undefined;
      w?.();
    }
    this.#subs.clear();
  }

  /** A new subscription; events published from now on. Ends at once when closed. */
  subscribe(): AsyncIterable<T> {
    const s: Subscriber<T> = { buf: [], head: 0, wake: undefined, failed: undefined, done: this.#closed };
    if (!this.#closed) this.#subs.add(s);
    const subs = this.#subs;
    return {
      [Symbol.asyncIterator](): AsyncIterator<T> {
        return {
          async next(): Promise<IteratorResult<T>> {
            for (;;) {
              if (s.head < s.buf.length) {
                const value = s.buf[s.head++]!;
                if (s.head > 1024 && s.head * 2 > s.buf.length) {
                  s.buf = s.buf.slice(s.head);
                  s.head = 0;
                }
                return { value, done: false };
              }
              s.buf = [];
              s.head = 0;
              if (s.failed) throw s.failed;
              if (s.done) return { value: undefined, done: true };
              await new Promise<void>((resolve) => {
                s.wake = resolve;
              });
            }
          },
          async return(): Promise<IteratorResult<T>> {
            // Abandoning the subscription also ends a `next()` already waiting on it (a consumer
            // stopping its loop from elsewhere), so no loop hangs on a dropped subscription.
            s.done = true;
            s.buf = [];
            s.head = 0;
            subs.delete(s);
            const w = s.wake;
            s.wake = undefined;
            w?.();
            return { value: undefined, done: true };
          },
        };
      },
    };
  }
}
