import { describe, expect, it } from "vitest";
import { CloseCode, closePayload, encodeFrame, Opcode, WsReader, type WsEvent } from "./frame.ts";

const MASK = new Uint8Array([0x37, 0xfa, 0x21, 0x3d]);
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const server = (max = 1 << 20): WsReader => new WsReader({ requireMask: true, maxMessageBytes: max });

function errorOf(events: WsEvent[]): { code: number; reason: string } {
  const e = events.find((x) => x.type === "error");
  if (e === undefined || e.type !== "error") throw new Error(`no error event in ${JSON.stringify(events)}`);
  return { code: e.code, reason: e.reason };
}

describe("websocket frames", () => {
  it("encodes the RFC 6455 §5.7 examples", () => {
    // A single-frame unmasked text message "Hello"
    expect(Buffer.from(encodeFrame(Opcode.Text, enc("Hello"))).toString("hex")).toBe("810548656c6c6f");
    // A single-frame masked text message "Hello" with mask 37 fa 21 3d
    expect(Buffer.from(encodeFrame(Opcode.Text, enc("Hello"), { mask: MASK })).toString("hex")).toBe(
      "818537fa213d7f9f4d5158",
    );
    // 256 bytes binary: 16-bit length; 64 KiB: 64-bit length
    expect(Buffer.from(encodeFrame(Opcode.Binary, new Uint8Array(256)).subarray(0, 4)).toString("hex")).toBe("827e0100");
    expect(Buffer.from(encodeFrame(Opcode.Binary, new Uint8Array(65536)).subarray(0, 10)).toString("hex")).toBe(
      "827f0000000000010000",
    );
  });

  it("decodes masked client frames byte by byte", () => {
    const r = server();
    const bytes = encodeFrame(Opcode.Binary, new Uint8Array([1, 0x68, 0x69, 0x0a]), { mask: MASK });
    const events: WsEvent[] = [];
    for (const b of bytes) events.push(...r.push(new Uint8Array([b])));
    expect(events).toEqual([{ type: "message", binary: true, data: new Uint8Array([1, 0x68, 0x69, 0x0a]) }]);
  });

  it("decodes the 16- and 64-bit length forms", () => {
    for (const n of [126, 65535, 65536, 200_000]) {
      const data = new Uint8Array(n).map((_, i) => i & 0xff);
      const ev = server().push(encodeFrame(Opcode.Binary, data, { mask: MASK }));
      expect(ev).toHaveLength(1);
      const got = ev[0]?.type === "message" ? ev[0].data : new Uint8Array(0);
      expect(Buffer.from(got).equals(data)).toBe(true);
    }
  });

  it("reassembles fragmented messages with control frames interleaved", () => {
    const r = server();
    const parts = [
      encodeFrame(Opcode.Text, enc("Hel"), { fin: false, mask: MASK }),
      encodeFrame(Opcode.Ping, enc("p"), { mask: MASK }),
      encodeFrame(Opcode.Continuation, enc("lo"), { fin: false, mask: MASK }),
      encodeFrame(Opcode.Continuation, enc(" world"), { mask: MASK }),
    ];
    const events = r.push(Buffer.concat(parts));
    expect(events).toEqual([
      { type: "ping", data: enc("p") },
      { type: "message", binary: false, data: enc("Hello world") },
    ]);
  });

  it("parses close frames with and without a code", () => {
    expect(server().push(encodeFrame(Opcode.Close, closePayload(1000, "bye"), { mask: MASK }))).toEqual([
      { type: "close", code: 1000, reason: "bye" },
    ]);
    expect(server().push(encodeFrame(Opcode.Close, new Uint8Array(0), { mask: MASK }))).toEqual([
      { type: "close", code: undefined, reason: "" },
    ]);
  });

  it("ignores input after a close", () => {
    const r = server();
    r.push(encodeFrame(Opcode.Close, closePayload(1000), { mask: MASK }));
    expect(r.done).toBe(true);
    expect(r.push(encodeFrame(Opcode.Binary, enc("x"), { mask: MASK }))).toEqual([]);
  });

  describe("malformed input ends with a protocol error, never a throw", () => {
    const cases: [string, Uint8Array, number, RegExp][] = [
      ["unmasked client frame", encodeFrame(Opcode.Binary, enc("x")), CloseCode.ProtocolError, /not masked/],
      ["reserved bits", new Uint8Array([0xc2, 0x80, 0, 0, 0, 0]), CloseCode.ProtocolError, /reserved bits/],
      ["reserved opcode 3", new Uint8Array([0x83, 0x80, 0, 0, 0, 0]), CloseCode.ProtocolError, /reserved opcode 3/],
      ["reserved opcode 11", new Uint8Array([0x8b, 0x80, 0, 0, 0, 0]), CloseCode.ProtocolError, /reserved opcode 11/],
      ["fragmented ping", new Uint8Array([0x09, 0x80, 0, 0, 0, 0]), CloseCode.ProtocolError, /fragmented control/],
      ["ping over 125 bytes", new Uint8Array([0x89, 0xfe, 0, 126, 0, 0, 0, 0, ...new Uint8Array(126)]), CloseCode.ProtocolError, /125 bytes/],
      ["continuation without start", encodeFrame(Opcode.Continuation, enc("x"), { mask: MASK }), CloseCode.ProtocolError, /continuation/],
      [
        "data frame inside a fragmented message",
        Buffer.concat([
          encodeFrame(Opcode.Binary, enc("a"), { fin: false, mask: MASK }),
          encodeFrame(Opcode.Binary, enc("b"), { mask: MASK }),
        ]),
        CloseCode.ProtocolError,
        /inside a fragmented/,
      ],
      ["64-bit length with the top bit", new Uint8Array([0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1]), CloseCode.ProtocolError, /top bit/],
      ["invalid UTF-8 text", encodeFrame(Opcode.Text, new Uint8Array([0xc3, 0x28]), { mask: MASK }), CloseCode.InvalidPayload, /UTF-8/],
      ["1-byte close payload", encodeFrame(Opcode.Close, new Uint8Array([3]), { mask: MASK }), CloseCode.ProtocolError, /1-byte/],
      ["close code 1005 on the wire", encodeFrame(Opcode.Close, closePayload(1005), { mask: MASK }), CloseCode.ProtocolError, /invalid close code 1005/],
      ["close code 999", encodeFrame(Opcode.Close, closePayload(999), { mask: MASK }), CloseCode.ProtocolError, /invalid close code/],
      ["close reason not UTF-8", encodeFrame(Opcode.Close, new Uint8Array([3, 0xe8, 0xff]), { mask: MASK }), CloseCode.InvalidPayload, /UTF-8/],
    ];
    for (const [name, bytes, code, reason] of cases) {
      it(name, () => {
        const r = server();
        const err = errorOf(r.push(bytes));
        expect(err.code).toBe(code);
        expect(err.reason).toMatch(reason);
        expect(r.done).toBe(true);
        expect(r.push(encodeFrame(Opcode.Binary, enc("more"), { mask: MASK }))).toEqual([]);
      });
    }

    it("a message over the size limit ends with 1009 before the payload arrives", () => {
      const r = server(1000);
      const header = encodeFrame(Opcode.Binary, new Uint8Array(1001), { mask: MASK }).subarray(0, 8);
      expect(errorOf(r.push(header)).code).toBe(CloseCode.MessageTooBig);
    });

    it("fragments adding up past the limit end with 1009", () => {
      const r = server(10);
      const ev = r.push(
        Buffer.concat([
          encodeFrame(Opcode.Binary, new Uint8Array(6), { fin: false, mask: MASK }),
          encodeFrame(Opcode.Continuation, new Uint8Array(6), { mask: MASK }),
        ]),
      );
      expect(errorOf(ev).code).toBe(CloseCode.MessageTooBig);
    });

    it("a client parser rejects masked server frames", () => {
      const r = new WsReader({ requireMask: false, maxMessageBytes: 100 });
      expect(errorOf(r.push(encodeFrame(Opcode.Binary, enc("x"), { mask: MASK }))).reason).toMatch(/masked/);
    });

    it("random garbage never throws", () => {
      let seed = 12345;
      const rnd = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff;
      for (let i = 0; i < 300; i++) {
        const r = server(4096);
        const len = 1 + (rnd() % 64);
        const bytes = new Uint8Array(len).map(() => rnd());
        expect(() => r.push(bytes)).not.toThrow();
      }
    });
  });

  it("encodeFrame refuses oversized control frames and bad masks", () => {
    expect(() => encodeFrame(Opcode.Ping, new Uint8Array(126))).toThrow(RangeError);
    expect(() => encodeFrame(Opcode.Close, new Uint8Array(2), { fin: false })).toThrow(RangeError);
    expect(() => encodeFrame(Opcode.Binary, new Uint8Array(1), { mask: new Uint8Array(3) })).toThrow(/4 bytes/);
  });

  it("closePayload truncates long reasons on a character boundary", () => {
    const p = closePayload(1000, "é".repeat(100));
    expect(p.byteLength).toBeLessThanOrEqual(125);
    expect(() => new TextDecoder("utf-8", { fatal: true }).decode(p.subarray(2))).not.toThrow();
  });
});
