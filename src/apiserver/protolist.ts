/**
 * Protobuf list assembly without re-encoding items (pure): every Kubernetes List message is
 * `{1: ListMeta, 2: repeated <item message>}`, and each cached item encoding is
 * `k8s\0` + Unknown{1: typeMeta, 2: raw = <item message>, ...}. So the list body is the envelope
 * around ListMeta plus each item's `raw` bytes, copied once into one buffer.
 */
import { putVarint, varintLength } from "../api/codec/varint.ts";

const MAGIC = [0x6b, 0x38, 0x73, 0x00];

function readVarint(buf: Uint8Array, at: number): [number, number] {
  let n = 0;
  let mul = 1;
  for (let i = 0; i < 10; i++) {
    if (at >= buf.length) throw new Error("truncated varint");
    const b = buf[at++] as number;
    n += (b & 0x7f) * mul;
    if (b < 0x80) return [n, at];
    mul *= 128;
  }
  throw new Error("varint too long");
}

/** The `raw` bytes (Unknown field 2) of a `k8s\0` + Unknown envelope, as a view (no copy). */
export function unknownRaw(envelope: Uint8Array): Uint8Array {
  if (envelope.length < 4 || !MAGIC.every((b, i) => envelope[i] === b)) throw new Error("not a Kubernetes protobuf envelope");
  let at = 4;
  while (at < envelope.length) {
    const [tag, p] = readVarint(envelope, at);
    at = p;
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (wire === 0) {
      at = readVarint(envelope, at)[1];
    } else if (wire === 2) {
      const [len, q] = readVarint(envelope, at);
      if (q + len > envelope.length) throw new Error("truncated field");
      if (field === 2) return envelope.subarray(q, q + len);
      at = q + len;
    } else {
      throw new Error(`unexpected wire type ${wire}`);
    }
  }
  return new Uint8Array();
}

const enc = new TextEncoder();

/** `k8s\0` + Unknown{typeMeta{apiVersion, listKind}, raw = List{1: listMeta, 2: items...}, "", ""}. */
export function encodeProtoList(apiVersion: string, listKind: string, listMeta: Uint8Array, itemEnvelopes: readonly Uint8Array[]): Uint8Array {
  const av = enc.encode(apiVersion);
  const kd = enc.encode(listKind);
  const raws = itemEnvelopes.map(unknownRaw);
  let listLen = 1 + varintLength(listMeta.length) + listMeta.length;
  for (const r of raws) listLen += 1 + varintLength(r.length) + r.length;
  const tmLen = 1 + varintLength(av.length) + av.length + 1 + varintLength(kd.length) + kd.length;
  const total = 4 + 1 + varintLength(tmLen) + tmLen + 1 + varintLength(listLen) + listLen + 4;
  const out = new Uint8Array(total);
  out.set(MAGIC, 0);
  let at = 4;
  out[at++] = 0x0a;
  at = putVarint(out, at, tmLen);
  out[at++] = 0x0a;
  at = putVarint(out, at, av.length);
  out.set(av, at);
  at += av.length;
  out[at++] = 0x12;
  at = putVarint(out, at, kd.length);
  out.set(kd, at);
  at += kd.length;
  out[at++] = 0x12;
  at = putVarint(out, at, listLen);
  out[at++] = 0x0a;
  at = putVarint(out, at, listMeta.length);
  out.set(listMeta, at);
  at += listMeta.length;
  for (const r of raws) {
    out[at++] = 0x12;
    at = putVarint(out, at, r.length);
    out.set(r, at);
    at += r.length;
  }
  out[at++] = 0x1a;
  out[at++] = 0x00;
  out[at++] = 0x22;
  out[at++] = 0x00;
  return out;
}
