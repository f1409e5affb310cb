import { describe, expect, it } from "vitest";
import type { CriLogRecord } from "../runtime/logs.ts";
import { logBody } from "./logbody.ts";

const enc = new TextEncoder();
const rec = (text: string, partial = false): CriLogRecord => ({ time: "2026-01-01T00:00:00.000000000Z", timeMs: 0, stream: "stdout", partial, content: enc.encode(text) });

async function collect(it: AsyncIterable<Uint8Array>): Promise<string[]> {
  const out: string[] = [];
  for await (const c of it) out.push(new TextDecoder().decode(c));
  return out;
}

async function* from(records: CriLogRecord[], gapAfter = -1): AsyncGenerator<CriLogRecord> {
  for (let i = 0; i < records.length; i++) {
    yield records[i]!;
    if (i === gapAfter) await new Promise((r) => setTimeout(r, 20));
  }
}

describe("logBody", () => {
  it("formats records, batching those already read and flushing before the source waits", async () => {
    const chunks = await collect(logBody(from([rec("a"), rec("b"), rec("c")], 1)));
    expect(chunks).toEqual(["a\nb\n", "c\n"]);
  });

  it("puts timestamps in front and keeps partial records unterminated", async () => {
    expect((await collect(logBody(from([rec("x", true), rec("y")]), { timestamps: true }))).join("")).toBe(
      "2026-01-01T00:00:00.000000000Z x2026-01-01T00:00:00.000000000Z y\n",
    );
  });

  it("cuts off after limitBytes, mid-line, and stops reading the source", async () => {
    let pulled = 0;
    async function* counting(): AsyncGenerator<CriLogRecord> {
      for (let i = 0; i < 1000; i++) {
        pulled++;
        yield rec(`line ${i}`);
      }
    }
    expect((await collect(logBody(counting(), { limitBytes: 10 }))).join("")).toBe("line 0\nlin");
    expect(pulled).toBe(2);
  });

  it("splits big outputs into chunks of about chunkBytes", async () => {
    const many = Array.from({ length: 100 }, (_, i) => rec(`${i}`.padStart(9, "0")));
    const chunks = await collect(logBody(from(many), { chunkBytes: 100 }));
    expect(chunks.length).toBe(10);
    expect(chunks.join("").length).toBe(1000);
  });

  it("ends the source when the consumer returns early (client gone)", async () => {
    let finished = false;
    async function* endless(): AsyncGenerator<CriLogRecord> {
      try {
        for (let i = 0; i < 1e6; i++) {
          yield rec(`${i}`);
          await new Promise((r) => setTimeout(r, 1));
        }
      } finally {
        finished = true;
      }
    }
    const it = logBody(endless())[Symbol.asyncIterator]();
    await it.next();
    await it.return?.(undefined);
    expect(finished).toBe(true);
  });
});
