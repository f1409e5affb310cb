/**
 * CRI log records to the bytes of a `kubectl logs` response: each record formatted (with
 * `timestamps`: its time in front), cut off after `limitBytes` (as the kubelet's limit writer does,
 * mid-line if need be), and batched into chunks: records that are already read go out together,
 * and whatever is buffered is flushed as soon as the source would wait (so `-f` sees lines at once).
 */
import { formatLogRecord, type CriLogRecord } from "../runtime/logs.ts";

export interface LogBodyOptions {
  readonly timestamps?: boolean;
  readonly limitBytes?: number;
  /** Flush once this many bytes are buffered (default 32 KiB). */
  readonly chunkBytes?: number;
}

const IDLE = Symbol("idle");

function join(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Yields the response body; returning early (client gone) ends the source iterator too. */
export async function* logBody(records: AsyncIterable<CriLogRecord>, opts: LogBodyOptions = {}): AsyncGenerator<Uint8Array> {
  const chunkBytes = opts.chunkBytes ?? 32 * 1024;
  let budget = opts.limitBytes ?? Number.POSITIVE_INFINITY;
  const it = records[Symbol.asyncIterator]();
  let buf: Uint8Array[] = [];
  let size = 0;
  const take = (): Uint8Array => {
    const out = join(buf, size);
    buf = [];
    size = 0;
    return out;
  };
  try {
    while (budget > 0) {
      const pending = it.next();
      let r: IteratorResult<CriLogRecord>;
      if (size > 0) {
        // Data waits: flush it unless the next record is already there.
        const won = await Promise.race([pending, new Promise<typeof IDLE>((res) => setImmediate(() => res(IDLE)))]);
        if (won === IDLE) {
          yield take();
          r = await pending;
        } else {
          r = won;
        }
      } else {
        r = await pending;
      }
      if (r.done) break;
      let bytes = formatLogRecord(r.value, opts.timestamps === true);
      if (bytes.length > budget) bytes = bytes.subarray(0, budget);
      budget -= bytes.length;
      buf.push(bytes);
      size += bytes.length;
      if (size >= chunkBytes) yield take();
    }
    if (size > 0) yield take();
  } finally {
    await it.return?.();
  }
}
