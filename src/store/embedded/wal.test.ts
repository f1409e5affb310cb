import { describe, expect, it } from "vitest";
import { MvccEngine } from "../mvcc/mvcc.ts";
import { Reader, Writer, decodeRecord, writeChanges, writeCompact } from "./codec.ts";
import { crc32c } from "./crc32c.ts";
import { decodeSnapshot, encodeSnapshot, snapshotChunks } from "./snapshot.ts";
import { HEADER_SIZE, decodeHeader, encodeHeader, frame, parseSegmentName, scanSegment, segmentName } from "./wal.ts";

const b = (s: string): Uint8Array => new TextEncoder().encode(s);

describe("crc32c", () => {
  it("matches the standard check value and composes over pieces", () => {
    expect(crc32c(b("123456789"))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(0))).toBe(0);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    const data = new Uint8Array(1000).map((_, i) => (i * 7) & 0xff);
    expect(crc32c(data.subarray(300), crc32c(data.subarray(0, 300)))).toBe(crc32c(data));
    expect(crc32c(data, 0, 5, 17)).toBe(crc32c(data.subarray(5, 17)));
  });
});

describe("codec", () => {
  it("round-trips varints up to 2^53 and rejects overlong ones", () => {
    const w = new Writer(4);
    const nums = [0, 1, 127, 128, 300, 2 ** 31, 2 ** 32 + 5, Number.MAX_SAFE_INTEGER];
    for (const n of nums) w.varint(n);
    const r = new Reader(w.view());
    expect(nums.map(() => r.varint())).toEqual(nums);
    expect(() => new Reader(new Uint8Array(9).fill(0xff)).varint()).toThrow(/bad varint/);
    expect(() => new Reader(new Uint8Array([0x80])).varint()).toThrow(/truncated/);
  });

  it("round-trips change and compaction records; rejects malformed payloads", () => {
    const w = new Writer();
    const rc = { revision: 42, changes: [{ type: "put" as const, key: "/registry/pods/default/web", value: new Uint8Array([0x6b, 0x38, 0x73, 0, 1]) }, { type: "delete" as const, key: "/x/ü" }] };
    writeChanges(w, rc);
    expect(decodeRecord(w.view(), 0, w.length)).toEqual({ type: "changes", rc });
    const c = new Writer();
    writeCompact(c, 7);
    expect(decodeRecord(c.view(), 0, c.length)).toEqual({ type: "compact", revision: 7 });
    expect(() => decodeRecord(new Uint8Array([9]), 0, 1)).toThrow(/unknown record type 9/);
    expect(() => decodeRecord(w.view(), 0, w.length - 1)).toThrow(/truncated/);
    const extra = new Uint8Array([...c.view(), 0]);
    expect(() => decodeRecord(extra, 0, extra.length)).toThrow(/trailing bytes/);
    expect(() => decodeRecord(new Uint8Array([1, 2, 0]), 0, 3)).toThrow(/bad change count 0/);
  });
});

describe("segments", () => {
  it("names and headers round-trip; damaged headers say why", () => {
    expect(parseSegmentName(segmentName(12))).toBe(12);
    expect(parseSegmentName("wal-12.log")).toBeUndefined();
    expect(decodeHeader(encodeHeader(2 ** 40 + 3))).toEqual({ baseRevision: 2 ** 40 + 3 });
    const h = encodeHeader(5);
    expect(decodeHeader(h.subarray(0, 10))).toEqual({ error: "header truncated (10 bytes)" });
    const bad = h.slice();
    bad[13] = 1;
    expect(decodeHeader(bad)).toEqual({ error: "header checksum mismatch" });
  });

  it("scans records, and tells a torn tail from mid-log damage", () => {
    const recs = [1, 2, 3].map((i) => {
      const w = new Writer();
      writeChanges(w, { revision: i + 1, changes: [{ type: "put", key: `/k${i}`, value: b(`v${i}`) }] });
      return frame(w.view().slice());
    });
    const whole = new Uint8Array([...encodeHeader(1), ...recs.flatMap((r) => [...r])]);
    const ok = scanSegment(whole);
    expect(ok.records.map((r) => r.offset)).toEqual([HEADER_SIZE, HEADER_SIZE + recs[0]!.length, HEADER_SIZE + recs[0]!.length + recs[1]!.length]);
    expect(ok.damage).toBeUndefined();
    const torn = scanSegment(whole.subarray(0, whole.length - 2));
    expect(torn.records).toHaveLength(2);
    expect(torn.damage).toMatchObject({ offset: torn.validEnd });
    expect(torn.damage?.validAfter).toBeUndefined();
    const mid = whole.slice();
    mid[HEADER_SIZE + 9] = (mid[HEADER_SIZE + 9] as number) ^ 1;
    const s = scanSegment(mid);
    expect(s.damage).toEqual({ offset: HEADER_SIZE, reason: "checksum mismatch", validAfter: HEADER_SIZE + recs[0]!.length });
  });
});

describe("snapshots", () => {
  it("chunked encoding equals whole encoding, and decodes to the same state", () => {
    const e = new MvccEngine();
    for (let i = 0; i < 500; i++) e.txn({ success: [{ type: "put", key: `/k/${i % 97}`, value: new Uint8Array(50).fill(i & 0xff) }] });
    e.compact(300);
    const state = e.exportState();
    const whole = encodeSnapshot(state);
    const parts: Uint8Array[] = [];
    for (const c of snapshotChunks(state, 512)) parts.push(c.slice());
    expect(parts.length).toBeGreaterThan(10);
    expect(Buffer.concat(parts)).toEqual(Buffer.from(whole));
    expect(decodeSnapshot(whole, "x.snap")).toEqual(state);
    expect(() => decodeSnapshot(whole.subarray(0, 10), "x.snap")).toThrow(/snapshot x.snap: file too short/);
    const bad = whole.slice();
    bad[0] = 0;
    expect(() => decodeSnapshot(bad, "x.snap")).toThrow(/bad magic at offset 0/);
  });
});
