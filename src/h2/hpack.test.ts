import { describe, expect, it } from "vitest";
import { HeaderListTooLarge, HpackDecoder, HpackEncoder, HpackError, readInt, writeInt } from "./hpack.ts";
import { HUFFMAN_CODES, HUFFMAN_LENGTHS, HuffmanError, huffmanDecode, huffmanEncodeInto, huffmanLength } from "./huffman.ts";

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ""), "hex"));
const lit = (s: string): string => Buffer.from([s.length]).toString("hex") + Buffer.from(s, "latin1").toString("hex");

describe("integers (RFC 7541 C.1)", () => {
  it("encodes and decodes the examples", () => {
    const b = new Uint8Array(8);
    expect(writeInt(b, 0, 5, 0, 10)).toBe(1);
    expect(b[0]).toBe(10);
    expect(writeInt(b, 0, 5, 0, 1337)).toBe(3);
    expect([...b.subarray(0, 3)]).toEqual([31, 154, 10]);
    expect(readInt(b, 0, 5)).toEqual([1337, 3]);
    expect(writeInt(b, 0, 8, 0, 42)).toBe(1);
    expect(readInt(Uint8Array.of(42), 0, 8)).toEqual([42, 1]);
  });
  it("rejects truncated and overflowing integers", () => {
    expect(() => readInt(Uint8Array.of(0x1f, 0x9a), 0, 5)).toThrow(/truncated integer/);
    expect(() => readInt(Uint8Array.of(0x1f, 0xff, 0xff, 0xff, 0xff, 0x7f), 0, 5)).toThrow(/overflow/);
    expect(() => readInt(Uint8Array.of(0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), 0, 5)).toThrow(HpackError);
  });
});

describe("huffman", () => {
  it("has 257 codes that form a prefix code", () => {
    expect(HUFFMAN_CODES.length).toBe(257);
    expect(HUFFMAN_LENGTHS.length).toBe(257);
    // Kraft equality: a complete prefix code
    let kraft = 0;
    for (const l of HUFFMAN_LENGTHS) kraft += 2 ** -l;
    expect(kraft).toBeCloseTo(1, 12);
  });
  it("matches the RFC examples", () => {
    const cases: Array<[string, string]> = [
      ["www.example.com", "f1e3c2e5f23a6ba0ab90f4ff"],
      ["no-cache", "a8eb10649cbf"],
      ["custom-key", "25a849e95ba97d7f"],
      ["custom-value", "25a849e95bb8e8b4bf"],
      ["302", "6402"],
      ["private", "aec3771a4b"],
    ];
    for (const [s, h] of cases) {
      const out = new Uint8Array(64);
      const n = huffmanEncodeInto(s, out, 0);
      expect(Buffer.from(out.subarray(0, n)).toString("hex")).toBe(h);
      expect(huffmanLength(s)).toBe(n);
      expect(huffmanDecode(hex(h), 0, n)).toBe(s);
    }
  });
  it("round-trips every octet", () => {
    let s = "";
    for (let i = 0; i < 256; i++) s += String.fromCharCode(i);
    const out = new Uint8Array(huffmanLength(s));
    const n = huffmanEncodeInto(s, out, 0);
    expect(huffmanDecode(out, 0, n)).toBe(s);
  });
  it("rejects EOS, long padding and non-ones padding", () => {
    expect(() => huffmanDecode(hex("ffffffff"), 0, 4)).toThrow(HuffmanError); // EOS (30 ones)
    expect(() => huffmanDecode(hex("ff"), 0, 1)).toThrow(/padding/); // 8 bits of padding
    expect(() => huffmanDecode(hex("00"), 0, 1)).toThrow(/padding/); // '0' (5 bits) + 000 padding
    expect(huffmanDecode(hex("07"), 0, 1)).toBe("0"); // '0' + 111
  });
});

describe("decoder golden blocks (RFC 7541 C.2–C.6)", () => {
  it("C.2 single fields", () => {
    const d = new HpackDecoder();
    expect(d.decode(hex("400a637573746f6d2d6b65790d637573746f6d2d686561646572"))).toEqual(["custom-key", "custom-header"]);
    expect(d.tableSize).toBe(55);
    expect(new HpackDecoder().decode(hex("040c2f73616d706c652f70617468"))).toEqual([":path", "/sample/path"]);
    const d3 = new HpackDecoder();
    expect(d3.decode(hex("100870617373776f726406736563726574"))).toEqual(["password", "secret"]);
    expect(d3.tableSize).toBe(0);
    expect(new HpackDecoder().decode(hex("82"))).toEqual([":method", "GET"]);
  });
  const req1 = [":method", "GET", ":scheme", "http", ":path", "/", ":authority", "www.example.com"];
  const req2 = [...req1, "cache-control", "no-cache"];
  const req3 = [":method", "GET", ":scheme", "https", ":path", "/index.html", ":authority", "www.example.com", "custom-key", "custom-value"];
  it("C.3 requests without Huffman", () => {
    const d = new HpackDecoder();
    expect(d.decode(hex("828684410f7777772e6578616d706c652e636f6d"))).toEqual(req1);
    expect(d.tableSize).toBe(57);
    expect(d.decode(hex("828684be58086e6f2d6361636865"))).toEqual(req2);
    expect(d.tableSize).toBe(110);
    expect(d.decode(hex("828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565"))).toEqual(req3);
    expect(d.tableSize).toBe(164);
  });
  it("C.4 requests with Huffman", () => {
    const d = new HpackDecoder();
    expect(d.decode(hex("828684418cf1e3c2e5f23a6ba0ab90f4ff"))).toEqual(req1);
    expect(d.decode(hex("828684be5886a8eb10649cbf"))).toEqual(req2);
    expect(d.decode(hex("828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf"))).toEqual(req3);
    expect(d.tableSize).toBe(164);
  });
  const cookie = "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1";
  const r1 = [":status", "302", "cache-control", "private", "date", "Mon, 21 Oct 2013 20:13:21 GMT", "location", "https://www.example.com"];
  const r2 = [":status", "307", "cache-control", "private", "date", "Mon, 21 Oct 2013 20:13:21 GMT", "location", "https://www.example.com"];
  const r3 = [":status", "200", "cache-control", "private", "date", "Mon, 21 Oct 2013 20:13:22 GMT", "location", "https://www.example.com", "content-encoding", "gzip", "set-cookie", cookie];
  it("C.5 responses without Huffman (table size 256, evictions)", () => {
    const d = new HpackDecoder(256);
    const b1 = "48" + lit("302") + "58" + lit("private") + "61" + lit("Mon, 21 Oct 2013 20:13:21 GMT") + "6e" + lit("https://www.example.com");
    expect(b1.startsWith("4803333032580770726976617465611d")).toBe(true);
    expect(d.decode(hex(b1))).toEqual(r1);
    expect(d.tableSize).toBe(222);
    expect(d.decode(hex("4803333037c1c0bf"))).toEqual(r2);
    expect(d.tableSize).toBe(222);
    const b3 = "88c1" + "61" + lit("Mon, 21 Oct 2013 20:13:22 GMT") + "c0" + "5a" + lit("gzip") + "77" + lit(cookie);
    expect(d.decode(hex(b3))).toEqual(r3);
    expect(d.tableSize).toBe(215);
  });
  it("C.6 responses with Huffman", () => {
    const d = new HpackDecoder(256);
    expect(d.decode(hex("488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863c78f0b97c8e9ae82ae43d3"))).toEqual(r1);
    expect(d.tableSize).toBe(222);
    expect(d.decode(hex("4883640effc1c0bf"))).toEqual(r2);
    expect(d.tableSize).toBe(222);
    expect(d.decode(hex("88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7821dd7f2e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007"))).toEqual(r3);
    expect(d.tableSize).toBe(215);
  });
});

describe("decoder errors", () => {
  it("rejects bad indexes", () => {
    expect(() => new HpackDecoder().decode(hex("80"))).toThrow(/index 0/);
    expect(() => new HpackDecoder().decode(hex("be"))).toThrow(/bad index 62/);
    expect(() => new HpackDecoder().decode(hex("7f00"))).toThrow(HpackError); // name index 63 + truncated
  });
  it("rejects truncated strings", () => {
    expect(() => new HpackDecoder().decode(hex("400a6375"))).toThrow(/truncated string/);
    expect(() => new HpackDecoder().decode(hex("40"))).toThrow(/truncated/);
  });
  it("rejects Huffman errors as HpackError", () => {
    expect(() => new HpackDecoder().decode(hex("4084ffffffff00"))).toThrow(HpackError);
    expect(() => new HpackDecoder().decode(hex("0081ff01"))).toThrow(HpackError);
  });
  it("rejects size updates above the limit or after a field", () => {
    expect(() => new HpackDecoder(4096).decode(hex("3fe21f"))).toThrow(/above the limit/); // 4097
    expect(() => new HpackDecoder(4096).decode(hex("823f"))).toThrow(/not at the start/);
    const d = new HpackDecoder(4096);
    expect(d.decode(hex("20 3fe11f 82"))).toEqual([":method", "GET"]); // 0 then 4096: allowed
  });
  it("size update to 0 empties the table", () => {
    const d = new HpackDecoder();
    d.decode(hex("400a637573746f6d2d6b65790d637573746f6d2d686561646572"));
    expect(d.tableSize).toBe(55);
    d.decode(hex("20"));
    expect(d.tableSize).toBe(0);
    expect(() => d.decode(hex("be"))).toThrow(/bad index/);
  });
  it("enforces the header list size but keeps the table in sync", () => {
    const d = new HpackDecoder();
    expect(() => d.decode(hex("400a637573746f6d2d6b65790d637573746f6d2d686561646572"), 40)).toThrow(HeaderListTooLarge);
    expect(d.decode(hex("be"))).toEqual(["custom-key", "custom-header"]);
  });
});

describe("encoder → decoder round trips", () => {
  it("steady-state blocks are small and memoized decoding stays correct", () => {
    const e = new HpackEncoder();
    const d = new HpackDecoder();
    const h = [":method", "GET", ":scheme", "https", ":path", "/api/v1/pods", ":authority", "127.0.0.1:6443", "accept", "application/json", "user-agent", "tug/1.0"];
    const first = e.encode(h);
    expect(d.decode(first)).toEqual(h);
    const second = e.encode(h);
    expect(second.length).toBeLessThan(20);
    expect(d.decode(second)).toEqual(h);
    expect(d.decode(e.encode(h))).toEqual(h); // memo path
  });
  it("random lists through evictions and table size changes", () => {
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const names = ["x-a", "x-b", "content-type", "accept", ":path", "authorization", "x-long-name-header", "cookie"];
    for (let round = 0; round < 5; round++) {
      const e = new HpackEncoder({ huffman: round % 2 === 0 });
      const d = new HpackDecoder(4096);
      for (let i = 0; i < 300; i++) {
        if (rnd(40) === 0) e.setPeerLimit(rnd(5000));
        const list: string[] = [];
        const n = 1 + rnd(8);
        for (let j = 0; j < n; j++) {
          let v = "";
          const vl = rnd(3) === 0 ? rnd(400) : rnd(20);
          for (let k = 0; k < vl; k++) v += String.fromCharCode(32 + rnd(224));
          list.push(names[rnd(names.length)] ?? "x", v);
        }
        expect(d.decode(e.encode(list))).toEqual(list);
      }
    }
  });
});
