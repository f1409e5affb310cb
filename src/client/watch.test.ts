import { describe, expect, it } from "vitest";
import { encodeObject, encodeWatchEvent } from "../api/codec/mod.ts";
import { DecodeError } from "./encoding.ts";
import { decoderFor, JsonLinesDecoder, ProtobufFrameDecoder, watchErrorOf, WatchStream, type WatchEvent } from "./watch.ts";

const pod = (name: string, rv: string) => ({ apiVersion: "v1", kind: "Pod", metadata: { name, namespace: "ns", resourceVersion: rv, labels: { "é": "ü" } } });
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

function concatAll(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

/** Feeds `bytes` cut at every `step` bytes (and every split point for small inputs). */
function feed(dec: { push(c: Uint8Array): WatchEvent[]; end(): WatchEvent[] }, bytes: Uint8Array, step: number): WatchEvent[] {
  const out: WatchEvent[] = [];
  for (let i = 0; i < bytes.length; i += step) out.push(...dec.push(bytes.slice(i, i + step)));
  out.push(...dec.end());
  return out;
}

const events = [
  { type: "ADDED", object: pod("a", "1") },
  { type: "MODIFIED", object: pod("a", "2") },
  { type: "BOOKMARK", object: { apiVersion: "v1", kind: "Pod", metadata: { resourceVersion: "3" } } },
  { type: "DELETED", object: pod("a", "4") },
];

describe("JsonLinesDecoder", () => {
  const bytes = utf8(events.map((e) => JSON.stringify(e) + "\n").join(""));
  it.each([1, 2, 3, 7, 64, 100000])("decodes events split into %i-byte chunks (also inside UTF-8 sequences)", (step) => {
    expect(feed(new JsonLinesDecoder(), bytes, step)).toEqual(events);
  });

  it("decodes a final line without newline at end(), skips blank lines", () => {
    const d = new JsonLinesDecoder();
    expect(d.push(utf8("\n\n" + JSON.stringify(events[0])))).toEqual([]);
    expect(d.end()).toEqual([events[0]]);
  });

  it("rejects bad lines with DecodeError", () => {
    expect(() => new JsonLinesDecoder().push(utf8("{nope\n"))).toThrow(/not JSON/);
    expect(() => new JsonLinesDecoder().push(utf8('{"type":"WHAT","object":{}}\n'))).toThrow(/unknown type "WHAT"/);
    expect(() => new JsonLinesDecoder().push(utf8('{"type":"ADDED"}\n'))).toThrow(/has no object/);
    expect(() => new JsonLinesDecoder().push(utf8("[1]\n"))).toThrow(DecodeError);
    expect(() => new JsonLinesDecoder().push(Uint8Array.of(0xff, 0x0a))).toThrow(/UTF-8/);
    expect(() => new JsonLinesDecoder(10).push(utf8("x".repeat(11)))).toThrow(/exceeds 10 bytes/);
  });
});

describe("ProtobufFrameDecoder", () => {
  const frames = events.map((e) => encodeWatchEvent(e.type, encodeObject(e.object)));
  const bytes = concatAll(frames);
  it.each([1, 3, 4, 5, 17, 100000])("decodes frames split into %i-byte chunks", (step) => {
    const got = feed(new ProtobufFrameDecoder(), bytes, step);
    expect(got.map((e) => e.type)).toEqual(events.map((e) => e.type));
    expect(got.map((e) => e.object)).toEqual(events.map((e) => e.object));
  });

  it("handles a large frame delivered in many chunks", () => {
    const big = { ...pod("big", "9"), metadata: { ...pod("big", "9").metadata, annotations: { x: "y".repeat(500_000) } } };
    const f = encodeWatchEvent("ADDED", encodeObject(big));
    const got = feed(new ProtobufFrameDecoder(), f, 16384);
    expect(got).toHaveLength(1);
    expect(got[0]!.object).toEqual(big);
  });

  it("rejects truncated streams, over-long and malformed frames", () => {
    const d = new ProtobufFrameDecoder();
    d.push(frames[0]!.subarray(0, 10));
    expect(() => d.end()).toThrow(/ended inside a frame/);
    expect(() => new ProtobufFrameDecoder(100).push(Uint8Array.of(0, 0, 1, 0))).toThrow(/exceeds the 100-byte limit/);
    expect(() => new ProtobufFrameDecoder().push(Uint8Array.of(0, 0, 0, 2, 0xff, 0xff))).toThrow(DecodeError);
    expect(() => new ProtobufFrameDecoder().push(encodeWatchEvent("NOPE", encodeObject(pod("a", "1"))))).toThrow(/unknown type "NOPE"/);
  });

  it("is chosen by the response Content-Type", () => {
    expect(decoderFor("application/vnd.kubernetes.protobuf;stream=watch")).toBeInstanceOf(ProtobufFrameDecoder);
    expect(decoderFor("application/json")).toBeInstanceOf(JsonLinesDecoder);
  });
});

describe("WatchStream", () => {
  it("yields events from a chunked body, ERROR events carry the Status; stop() cancels", async () => {
    const status = { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: "too old resource version: 1 (5)", reason: "Expired", code: 410 };
    const lines = utf8(JSON.stringify(events[0]) + "\n" + JSON.stringify({ type: "ERROR", object: status }) + "\n");
    let cancelled = 0;
    async function* body() { yield lines.subarray(0, 5); yield lines.subarray(5); }
    const w = new WatchStream(body(), new JsonLinesDecoder(), () => { cancelled++; });
    const got: WatchEvent[] = [];
    for await (const ev of w) got.push(ev);
    expect(got.map((e) => e.type)).toEqual(["ADDED", "ERROR"]);
    const err = watchErrorOf(got[1]!);
    expect(err.code).toBe(410);
    expect(err.reason).toBe("Expired");
    expect(err.message).toBe("too old resource version: 1 (5)");
    expect(cancelled).toBe(1);
    w.stop();
    expect(cancelled).toBe(1);
  });

  it("ends quietly when stopped mid-stream", async () => {
    let release: () => void = () => undefined;
    async function* body() {
      yield utf8(JSON.stringify(events[0]) + "\n");
      await new Promise<void>((r) => { release = r; });
    }
    const w = new WatchStream(body(), new JsonLinesDecoder(), () => release());
    const got: string[] = [];
    for await (const ev of w) { got.push(ev.type); w.stop(); }
    expect(got).toEqual(["ADDED"]);
    expect(w.isStopped).toBe(true);
  });

  it("propagates decode errors", async () => {
    async function* body() { yield utf8("garbage\n"); }
    const w = new WatchStream(body(), new JsonLinesDecoder(), () => undefined);
    await expect((async () => { for await (const _ of w) { /* drain */ } })()).rejects.toThrow(DecodeError);
  });
});
