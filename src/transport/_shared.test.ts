import { describe, expect, it } from "vitest";
import { pumpBody, type ChunkSink } from "./_shared.ts";

function sink(accept: () => boolean = () => true): ChunkSink & { chunks: string[]; drain(): void } {
  let waiting: (() => void) | undefined;
  const chunks: string[] = [];
  return {
    chunks,
    write: (c) => {
      chunks.push(Buffer.from(c).toString());
      return accept();
    },
    waitWritable: () => new Promise<void>((r) => (waiting = r)),
    drain: () => waiting?.(),
  };
}

async function* items(...xs: string[]): AsyncGenerator<Uint8Array> {
  for (const x of xs) yield Buffer.from(x);
}

describe("pumpBody", () => {
  it("writes every chunk (empty ones skipped) and reports a finished body", async () => {
    const s = sink();
    expect(await pumpBody(items("a", "", "b"), s, new AbortController().signal)).toBe(true);
    expect(s.chunks).toEqual(["a", "b"]);
  });

  it("stops on abort while next() never settles, and calls return() without waiting for it", async () => {
    let returned = false;
    const body: AsyncIterable<Uint8Array> = {
      [Symbol.asyncIterator]: () => ({
        next: () => new Promise<IteratorResult<Uint8Array>>(() => undefined),
        return: async () => {
          returned = true;
          return { done: true, value: undefined };
        },
      }),
    };
    const ac = new AbortController();
    const p = pumpBody(body, sink(), ac.signal);
    setTimeout(() => ac.abort(), 10);
    expect(await p).toBe(false);
    expect(returned).toBe(true);
  });

  it("waits for the sink to drain, and abort also ends that wait", async () => {
    const s = sink(() => false);
    const ac = new AbortController();
    const p = pumpBody(items("a", "b"), s, ac.signal);
    await new Promise((r) => setTimeout(r, 10));
    expect(s.chunks).toEqual(["a"]); // held until drained
    s.drain();
    await new Promise((r) => setTimeout(r, 10));
    expect(s.chunks).toEqual(["a", "b"]);
    ac.abort();
    expect(await p).toBe(false);
  });

  it("rethrows the body's error", async () => {
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield Buffer.from("a");
      throw new Error("producer broke");
    }
    await expect(pumpBody(failing(), sink(), new AbortController().signal)).rejects.toThrow("producer broke");
  });

  it("an already aborted signal writes nothing", async () => {
    const s = sink();
    const ac = new AbortController();
    ac.abort();
    expect(await pumpBody(items("a"), s, ac.signal)).toBe(false);
    expect(s.chunks).toEqual([]);
  });
});
