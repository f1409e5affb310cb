import * as zlib from "node:zlib";
import { describe, expect, it } from "vitest";
import { HeaderCompressor, HeaderDecompressor } from "./compression.ts";
import { SPDY3_DICTIONARY } from "./dictionary.ts";
import { encodeFrame, SpdyFrameParser, SpdyProtocolError, type SpdyFrame } from "./frame.ts";
import { decodeHeaderBlock, encodeHeaderBlock } from "./headers.ts";

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/[^0-9a-f]/gi, ""), "hex"));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/**
 * kubectl 1.32's first SYN_STREAM on a port-forward connection, as logged byte for byte in
 * shared/reference/kubectl/logs/20.port-forward.kubectl.txt (tunneling_connection.go writes).
 */
const KUBECTL_SYN_STREAM = hex(
  "80030001 0000003d 00000001 00000000 00 00" +
    "78f9e3c6a7c202253a703a2b294a4dcc851625aca9a0808614cb45a024cc6461c0c0c0c0590489c44c50e2663400000000ffff",
);

function adler32(b: Uint8Array): number {
  let a = 1;
  let s = 0;
  for (const x of b) {
    a = (a + x) % 65521;
    s = (s + a) % 65521;
  }
  return ((s << 16) | a) >>> 0;
}

describe("SPDY/3 dictionary", () => {
  it("is the 1423 bytes whose Adler-32 kubectl's zlib header names (0xe3c6a7c2)", () => {
    expect(SPDY3_DICTIONARY.byteLength).toBe(1423);
    expect(adler32(SPDY3_DICTIONARY).toString(16)).toBe("e3c6a7c2");
    expect(toHex(KUBECTL_SYN_STREAM.subarray(20, 24))).toBe("e3c6a7c2");
  });
});

describe("SPDY frames", () => {
  it("parses kubectl's real SYN_STREAM and decodes its header block", async () => {
    const frames = new SpdyFrameParser().push(KUBECTL_SYN_STREAM);
    expect(frames).toHaveLength(1);
    const f = frames[0];
    if (f?.type !== "syn_stream") throw new Error("expected syn_stream");
    expect(f).toMatchObject({ streamId: 1, associatedStreamId: 0, priority: 0, slot: 0, fin: false, unidirectional: false });
    const d = new HeaderDecompressor();
    const headers = decodeHeaderBlock(await d.decompress(f.headerBlock));
    expect({ ...headers }).toEqual({ streamtype: ["error"], port: ["80"], requestid: ["0"] });
    d.close();
  });

  it("parses a frame split across arbitrary chunk boundaries (WebSocket tunnel writes)", () => {
    // kubectl writes the frame in pieces of 2, 2, 4, 4, 4, 1, 1 and 51 bytes (log 20).
    const sizes = [2, 2, 4, 4, 4, 1, 1, 51];
    const p = new SpdyFrameParser();
    const got: SpdyFrame[] = [];
    let off = 0;
    for (const n of sizes) {
      got.push(...p.push(KUBECTL_SYN_STREAM.subarray(off, off + n)));
      off += n;
    }
    expect(off).toBe(KUBECTL_SYN_STREAM.byteLength);
    expect(got.map((f) => f.type)).toEqual(["syn_stream"]);
  });

  it("round-trips every frame type", () => {
    const frames: SpdyFrame[] = [
      { type: "data", streamId: 5, fin: true, data: hex("0102") },
      { type: "data", streamId: 7, fin: false, data: new Uint8Array(0) },
      { type: "syn_stream", streamId: 3, associatedStreamId: 1, priority: 7, slot: 2, fin: true, unidirectional: true, headerBlock: hex("aabb") },
      { type: "syn_reply", streamId: 3, fin: false, headerBlock: hex("cc") },
      { type: "rst_stream", streamId: 9, status: 5 },
      { type: "settings", clear: true, entries: [{ id: 7, flags: 1, value: 65536 }, { id: 4, flags: 0, value: 100 }] },
      { type: "ping", id: 0xfffffff1 },
      { type: "goaway", lastGoodStreamId: 11, status: 1 },
      { type: "headers", streamId: 13, fin: true, headerBlock: hex("dd") },
      { type: "window_update", streamId: 0, delta: 0x7fffffff },
    ];
    const bytes = Buffer.concat(frames.map((f) => encodeFrame(f)));
    // Compare with byte fields as hex (the parser returns views into the input buffer).
    const norm = (fs: SpdyFrame[]): unknown =>
      JSON.parse(JSON.stringify(fs, (_k, v: unknown) => (v instanceof Uint8Array ? toHex(v) : v)));
    expect(norm(new SpdyFrameParser().push(new Uint8Array(bytes)))).toEqual(norm(frames));
  });

  it("encodes control frames in the wire layout", () => {
    expect(toHex(encodeFrame({ type: "syn_reply", streamId: 1, fin: false, headerBlock: hex("ab") }))).toBe(
      "8003000200000005" + "00000001" + "ab",
    );
    expect(toHex(encodeFrame({ type: "rst_stream", streamId: 1, status: 3 }))).toBe("800300030000000800000001" + "00000003");
    expect(toHex(encodeFrame({ type: "data", streamId: 3, fin: true, data: hex("68690a") }))).toBe("0000000301000003" + "68690a");
    expect(toHex(encodeFrame({ type: "goaway", lastGoodStreamId: 5, status: 0 }))).toBe("80030007000000080000000500000000");
  });

  it("ignores unknown control frame types", () => {
    const unknown = hex("8003000a 00000002 abcd");
    expect(new SpdyFrameParser().push(unknown)).toEqual([{ type: "unknown", frameType: 10, flags: 0 }]);
  });

  describe("malformed frames are a SpdyProtocolError", () => {
    const cases: [string, Uint8Array, RegExp][] = [
      ["SPDY/2 control frame", hex("80020006 00000004 00000001"), /unsupported SPDY version 2/],
      ["DATA on stream 0", hex("00000000 00000001 ff"), /stream 0/],
      ["SYN_STREAM too short", hex("80030001 00000004 00000001"), /at least 10/],
      ["SYN_STREAM on stream 0", hex("80030001 0000000a 00000000 00000000 0000"), /stream 0/],
      ["PING of 3 bytes", hex("80030006 00000003 000001"), /4 expected/],
      ["RST_STREAM status 0", hex("80030003 00000008 00000001 00000000"), /status 0/],
      ["SETTINGS count mismatch", hex("80030004 0000000c 00000002 07000000 00010000"), /announces 2 entries/],
      ["WINDOW_UPDATE of 4 bytes", hex("80030009 00000004 00000001"), /8 expected/],
    ];
    for (const [name, bytes, msg] of cases) {
      it(name, () => {
        const p = new SpdyFrameParser();
        expect(() => p.push(bytes)).toThrow(SpdyProtocolError);
        expect(() => new SpdyFrameParser().push(bytes)).toThrow(msg);
        expect(p.push(hex("80030006 00000004 00000001"))).toEqual([]); // dead afterwards
      });
    }
    it("a frame over the size limit fails on its header", () => {
      expect(() => new SpdyFrameParser({ maxFrameBytes: 100 }).push(hex("00000001 00000065"))).toThrow(/exceeds the limit/);
    });
  });

  it("encodeFrame refuses values the wire cannot carry", () => {
    expect(() => encodeFrame({ type: "data", streamId: 0, fin: false, data: new Uint8Array(0) })).toThrow(RangeError);
    expect(() => encodeFrame({ type: "ping", id: 0 })).toThrow(RangeError);
    expect(() => encodeFrame({ type: "window_update", streamId: 1, delta: 0 })).toThrow(RangeError);
    expect(() => encodeFrame({ type: "rst_stream", streamId: 1, status: 0 })).toThrow(RangeError);
  });
});

describe("SPDY header blocks", () => {
  it("round-trips, lower-cases names and joins multiple values with NUL", () => {
    const block = encodeHeaderBlock({ StreamType: "stdin", multi: ["a", "b"] });
    expect({ ...decodeHeaderBlock(block) }).toEqual({ streamtype: ["stdin"], multi: ["a", "b"] });
    expect(toHex(encodeHeaderBlock({}))).toBe("00000000");
  });

  it("keeps a header named __proto__ as a plain entry", () => {
    const h = decodeHeaderBlock(encodeHeaderBlock({ ["__proto__"]: "x" }));
    expect(Object.getPrototypeOf(h)).toBe(null);
    expect(h["__proto__"]).toEqual(["x"]);
  });

  it("rejects bad blocks", () => {
    const upper = hex("00000001 00000001 41 00000001 62");
    expect(() => decodeHeaderBlock(upper)).toThrow(/not lower-case/);
    const dup = hex("00000002 00000001 61 00000000 00000001 61 00000000");
    expect(() => decodeHeaderBlock(dup)).toThrow(/duplicate/);
    expect(() => decodeHeaderBlock(hex("000000"))).toThrow(/truncated/);
    expect(() => decodeHeaderBlock(hex("00000001 00000005 61"))).toThrow(/announces 1 pairs|truncated/);
    expect(() => decodeHeaderBlock(hex("00000001 00000001 61 00000009 62 00000000"))).toThrow(/truncated/);
    expect(() => decodeHeaderBlock(hex("ffffffff 00000000"))).toThrow(/announces/);
    expect(() => decodeHeaderBlock(hex("00000000 00"))).toThrow(/trailing/);
    expect(() => decodeHeaderBlock(hex("00000001 00000000 00000000"))).toThrow(/empty/);
    expect(() => encodeHeaderBlock({ A: "1", a: "2" })).toThrow(/duplicate/);
    expect(() => encodeHeaderBlock({ "": "1" })).toThrow(/empty/);
  });
});

describe("SPDY header compression", () => {
  it("keeps one context across blocks and matches a plain zlib reader primed with the dictionary", async () => {
    const c = new HeaderCompressor();
    const d = new HeaderDecompressor();
    const blocks = [
      encodeHeaderBlock({ streamtype: "error", port: "80", requestid: "0" }),
      encodeHeaderBlock({ streamtype: "data", port: "80", requestid: "0" }),
      encodeHeaderBlock({}),
    ];
    const compressed: Uint8Array[] = [];
    for (const b of blocks) compressed.push(await c.compress(b));
    // zlib header with FDICT and the dictionary id, then a sync flush at every block's end
    expect(toHex(compressed[0]?.subarray(0, 6) ?? new Uint8Array())).toMatch(/^78..e3c6a7c2$/);
    for (const x of compressed) expect(toHex(x.subarray(-4))).toBe("0000ffff");
    // The second block reuses the first's context: it is shorter than a fresh compression.
    expect((compressed[1]?.byteLength ?? 0)).toBeLessThan(compressed[0]?.byteLength ?? 0);
    for (let i = 0; i < blocks.length; i++) {
      expect(toHex(await d.decompress(compressed[i] ?? new Uint8Array()))).toBe(toHex(blocks[i] ?? new Uint8Array()));
    }
    // An independent zlib reader (as Go's framer uses) decodes the concatenation.
    const all = zlib.inflateSync(Buffer.concat(compressed), { dictionary: SPDY3_DICTIONARY, finishFlush: zlib.constants.Z_SYNC_FLUSH });
    expect(toHex(all)).toBe(toHex(Buffer.concat(blocks)));
    c.close();
    d.close();
  });

  it("rejects garbage and zip bombs with SpdyProtocolError, and stays failed", async () => {
    const d = new HeaderDecompressor();
    await expect(d.decompress(hex("0102030405"))).rejects.toThrow(SpdyProtocolError);
    await expect(d.decompress(KUBECTL_SYN_STREAM.subarray(18))).rejects.toThrow(SpdyProtocolError);
    d.close();
    const c = new HeaderCompressor();
    const bomb = await c.compress(new Uint8Array(100_000));
    const small = new HeaderDecompressor(1000);
    await expect(small.decompress(bomb)).rejects.toThrow(/exceeds 1000 bytes/);
    c.close();
    small.close();
  });
});
