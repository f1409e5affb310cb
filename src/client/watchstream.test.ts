/**
 * WatchStream's hand-written iterator keeps the outcomes of the async generator it replaced: order,
 * several events per chunk, stop() between two events of one chunk, errors (propagated, or
 * swallowed once stopped), the body closed when the consumer leaves early, one iteration only.
 * Also the Indexer's update path that leaves unchanged index values alone.
 */
import { describe, expect, it } from "vitest";
import { encodeObject, encodeWatchEvent } from "../api/codec/wire.ts";
import type { KubeObject } from "../api/object.ts";
import { DecodeError } from "./encoding.ts";
import { Indexer } from "./indexer.ts";
import { JsonLinesDecoder, ProtobufFrameDecoder, WatchStream, type WatchEvent } from "./watch.ts";

const pod = (name: string, rv: string, node?: string): KubeObject => ({
  apiVersion: "v1", kind: "Pod", metadata: { name, namespace: "default", resourceVersion: rv },
  spec: { containers: [{ name: "c", image: "i" }], ...(node ? { nodeName: node } : {}) },
});
const frame = (type: string, o: KubeObject): Uint8Array => encodeWatchEvent(type, encodeObject(o));
function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
const names = (evs: WatchEvent[]): string[] => evs.map((e) => `${e.type} ${e.object.metadata?.name ?? ""}`);

/** A body whose iterator records whether it was closed early. */
function body(chunks: Uint8Array[], opts: { failAfter?: Error } = {}): { iter: AsyncIterable<Uint8Array>; closed: () => boolean } {
  let closed = false;
  async function* gen(): AsyncGenerator<Uint8Array> {
    try {
      for (const c of chunks) yield c;
      if (opts.failAfter) throw opts.failAfter;
    } finally {
      closed = true;
    }
  }
  return { iter: gen(), closed: () => closed };
}

describe("WatchStream iteration", () => {
  it("yields every event of chunks carrying several frames and frames split across chunks, in order", async () => {
    const all = concat([frame("ADDED", pod("a", "1")), frame("ADDED", pod("b", "2")), frame("MODIFIED", pod("a", "3", "n1")), frame("DELETED", pod("b", "4"))]);
    const chunks = [all.subarray(0, 10), all.subarray(10, 400), all.subarray(400)];
    let cancelled = 0;
    const w = new WatchStream(body(chunks).iter, new ProtobufFrameDecoder(), () => { cancelled++; });
    const got: WatchEvent[] = [];
    for await (const ev of w) got.push(ev);
    expect(names(got)).toEqual(["ADDED a", "ADDED b", "MODIFIED a", "DELETED b"]);
    expect((got[2]!.object.spec as { nodeName?: string }).nodeName).toBe("n1");
    expect(cancelled).toBe(1);
    expect(w.isStopped).toBe(true);
  });

  it("stop() between two events of one chunk ends the iteration and closes the body", async () => {
    const b = body([concat([frame("ADDED", pod("a", "1")), frame("ADDED", pod("b", "2"))]), frame("ADDED", pod("c", "3"))]);
    const w = new WatchStream(b.iter, new ProtobufFrameDecoder(), () => undefined);
    const got: WatchEvent[] = [];
    for await (const ev of w) {
      got.push(ev);
      w.stop();
    }
    expect(names(got)).toEqual(["ADDED a"]);
    expect(b.closed()).toBe(true);
  });

  it("breaking out of the loop stops the watch and closes the body", async () => {
    const b = body([frame("ADDED", pod("a", "1")), frame("ADDED", pod("b", "2"))]);
    let cancelled = 0;
    const w = new WatchStream(b.iter, new ProtobufFrameDecoder(), () => { cancelled++; });
    for await (const ev of w) {
      expect(ev.object.metadata?.name).toBe("a");
      break;
    }
    expect(cancelled).toBe(1);
    expect(b.closed()).toBe(true);
  });

  it("a body error rejects after the events before it; after stop() it is swallowed", async () => {
    const boom = new Error("stream reset");
    const w = new WatchStream(body([frame("ADDED", pod("a", "1"))], { failAfter: boom }).iter, new ProtobufFrameDecoder(), () => undefined);
    const got: WatchEvent[] = [];
    await expect((async () => { for await (const ev of w) got.push(ev); })()).rejects.toBe(boom);
    expect(names(got)).toEqual(["ADDED a"]);
    expect(w.isStopped).toBe(true);

    let fail: (e: Error) => void = () => undefined;
    async function* hanging(): AsyncGenerator<Uint8Array> {
      yield frame("ADDED", pod("a", "1"));
      await new Promise<void>((_, reject) => { fail = reject; });
    }
    const w2 = new WatchStream(hanging(), new ProtobufFrameDecoder(), () => fail(new Error("cancelled")));
    const got2: string[] = [];
    for await (const ev of w2) {
      got2.push(ev.type);
      setTimeout(() => w2.stop(), 1);
    }
    expect(got2).toEqual(["ADDED"]);
  });

  it("a bad frame rejects with DecodeError and closes the body", async () => {
    const b = body([frame("ADDED", pod("a", "1")), Uint8Array.of(0, 0, 0, 2, 0xff, 0xff), frame("ADDED", pod("b", "2"))]);
    const w = new WatchStream(b.iter, new ProtobufFrameDecoder(), () => undefined);
    const got: WatchEvent[] = [];
    await expect((async () => { for await (const ev of w) got.push(ev); })()).rejects.toThrow(DecodeError);
    expect(names(got)).toEqual(["ADDED a"]);
    expect(b.closed()).toBe(true);
  });

  it("yields what the decoder completes at the end of the body (a final JSON line without newline)", async () => {
    const enc = new TextEncoder();
    const line = (t: string, n: string): string => JSON.stringify({ type: t, object: pod(n, "1") });
    const w = new WatchStream(body([enc.encode(line("ADDED", "a") + "\n"), enc.encode(line("DELETED", "a"))]).iter, new JsonLinesDecoder(), () => undefined);
    const got: WatchEvent[] = [];
    for await (const ev of w) got.push(ev);
    expect(names(got)).toEqual(["ADDED a", "DELETED a"]);
  });

  it("serves concurrent next() calls in order, then done", async () => {
    const w = new WatchStream(body([frame("ADDED", pod("a", "1")), frame("ADDED", pod("b", "2"))]).iter, new ProtobufFrameDecoder(), () => undefined);
    const it = w[Symbol.asyncIterator]();
    const rs = await Promise.all([it.next(), it.next(), it.next(), it.next()]);
    expect(rs.map((r) => (r.done ? "done" : r.value.object.metadata?.name))).toEqual(["a", "b", "done", "done"]);
  });

  it("can be iterated once; a second iteration rejects and leaves the first running", async () => {
    let cancelled = 0;
    const w = new WatchStream(body([frame("ADDED", pod("a", "1")), frame("ADDED", pod("b", "2"))]).iter, new ProtobufFrameDecoder(), () => { cancelled++; });
    const first = w[Symbol.asyncIterator]();
    const second = w[Symbol.asyncIterator]();
    const r = await second.next(); // the first to start is the iteration
    expect(r.done ? "done" : r.value.object.metadata?.name).toBe("a");
    expect(cancelled).toBe(0);
    await expect(first.next()).rejects.toThrow("a WatchStream can be iterated only once");
    await expect((async () => { for await (const _ of w) { /* drain */ } })()).rejects.toThrow("a WatchStream can be iterated only once");
    expect(cancelled).toBe(0);
    expect(w.isStopped).toBe(false);
    const r2 = await second.next();
    expect(r2.done ? "done" : r2.value.object.metadata?.name).toBe("b");
    expect((await second.next()).done).toBe(true);
    expect(cancelled).toBe(1);
  });
});

describe("Indexer updates", () => {
  it("an update with the same index values keeps the entries; a changed value moves the key", () => {
    const idx = new Indexer<KubeObject>({ node: (o) => [(o.spec as { nodeName?: string } | undefined)?.nodeName ?? ""], labels: (o) => Object.values(o.metadata?.labels ?? {}) });
    idx.upsert(pod("a", "1"));
    idx.upsert(pod("b", "1"));
    expect(idx.byIndex("node", "").map((o) => o.metadata?.name).sort()).toEqual(["a", "b"]);
    idx.upsert(pod("a", "2"));
    expect(idx.byIndex("node", "").map((o) => o.metadata?.resourceVersion).sort()).toEqual(["1", "2"]);
    idx.upsert(pod("a", "3", "n1"));
    expect(idx.byIndex("node", "").map((o) => o.metadata?.name)).toEqual(["b"]);
    expect(idx.byIndex("node", "n1").map((o) => o.metadata?.resourceVersion)).toEqual(["3"]);
    const withLabels = (rv: string, labels: Record<string, string>): KubeObject => ({ ...pod("c", rv), metadata: { name: "c", namespace: "default", resourceVersion: rv, labels } });
    idx.upsert(withLabels("1", { x: "1", y: "2" }));
    idx.upsert(withLabels("2", { x: "2", y: "1" }));
    expect(idx.byIndex("labels", "1").map((o) => o.metadata?.resourceVersion)).toEqual(["2"]);
    idx.upsert(withLabels("3", { x: "3" }));
    expect(idx.byIndex("labels", "1")).toEqual([]);
    expect(idx.byIndex("labels", "2")).toEqual([]);
    expect(idx.byIndex("labels", "3").length).toBe(1);
    idx.remove("default/a");
    idx.remove("default/c");
    expect(idx.byIndex("node", "n1")).toEqual([]);
    expect(idx.byIndex("labels", "3")).toEqual([]);
    expect(idx.listNamespace("default").map((o) => o.metadata?.name)).toEqual(["b"]);
  });
});
