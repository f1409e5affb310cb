import { describe, expect, it } from "vitest";
import { ErrorCode, FrameType, goawayFrame, readU31, rstFrame, settingsPayload, windowUpdateFrame, writeFrameHeader } from "./frames.ts";

describe("frames", () => {
  it("writes the 9-byte header with the reserved bit clear", () => {
    const b = new Uint8Array(9);
    writeFrameHeader(b, 0, 0x123456, FrameType.HEADERS, 0x25, 0xffffffff);
    expect([...b]).toEqual([0x12, 0x34, 0x56, 1, 0x25, 0x7f, 0xff, 0xff, 0xff]);
    expect(readU31(b, 5)).toBe(0x7fffffff);
  });
  it("builds control frames", () => {
    expect(rstFrame(3, ErrorCode.CANCEL).toString("hex")).toBe("000004030000000003" + "00000008");
    expect(windowUpdateFrame(0, 1000).toString("hex")).toBe("000004080000000000" + "000003e8");
    expect(goawayFrame(5, ErrorCode.PROTOCOL_ERROR, "x").toString("hex")).toBe("000009070000000000" + "00000005" + "00000001" + "78");
    expect(settingsPayload([[4, 65535]]).toString("hex")).toBe("00040000ffff");
  });
  it("has RFC 9113 error codes", () => {
    expect(ErrorCode.REFUSED_STREAM).toBe(7);
    expect(ErrorCode.HTTP_1_1_REQUIRED).toBe(13);
  });
});
