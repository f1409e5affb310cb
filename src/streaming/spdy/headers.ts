/**
 * SPDY/3 name/value header blocks (§2.6.10), uncompressed form:
 *   count(32) then per pair: nameLength(32) name valueLength(32) value
 * Names are lower-case and unique; one name's several values are joined with NUL bytes.
 */
import { SpdyProtocolError } from "./frame.ts";

/** Header name -> values (at least one each). */
export type SpdyHeaders = Readonly<Record<string, readonly string[]>>;

const te = new TextEncoder();
const td = new TextDecoder("utf-8", { fatal: false });

/**
 * Encodes headers. Names are lower-cased (the peer's Go framer rejects upper case); a name may
 * not be empty or repeat after lower-casing. Throws TypeError on those.
 */
export function encodeHeaderBlock(headers: Readonly<Record<string, string | readonly string[]>>): Uint8Array {
  const pairs: [Uint8Array, Uint8Array][] = [];
  const seen = new Set<string>();
  for (const [rawName, v] of Object.entries(headers)) {
    const name = rawName.toLowerCase();
    if (name === "") throw new TypeError("SPDY header names must not be empty");
    if (seen.has(name)) throw new TypeError(`duplicate SPDY header ${name}`);
    seen.add(name);
    const values = typeof v === "string" ? [v] : v;
    if (values.length === 0) throw new TypeError(`SPDY header ${name} has no value`);
    pairs.push([te.encode(name), te.encode(values.join("\0"))]);
  }
  let n = 4;
  for (const [k, v] of pairs) n += 8 + k.byteLength + v.byteLength;
  const out = new Uint8Array(n);
  const view = new DataView(out.buffer);
  view.setUint32(0, pairs.length);
  let off = 4;
  for (const [k, v] of pairs) {
    view.setUint32(off, k.byteLength);
    out.set(k, off + 4);
    off += 4 + k.byteLength;
    view.setUint32(off, v.byteLength);
    out.set(v, off + 4);
    off += 4 + v.byteLength;
  }
  return out;
}

/**
 * Decodes an uncompressed header block. Throws `SpdyProtocolError` for truncation, trailing
 * bytes, empty, upper-case or repeated names.
 */
export function decodeHeaderBlock(block: Uint8Array): SpdyHeaders {
  const view = new DataView(block.buffer, block.byteOffset, block.byteLength);
  const need = (off: number, n: number): void => {
    if (off + n > block.byteLength) throw new SpdyProtocolError("truncated SPDY header block");
  };
  need(0, 4);
  const count = view.getUint32(0);
  // Each pair takes at least 8 bytes: bounds the loop by the input size.
  if (count > (block.byteLength - 4) / 8) throw new SpdyProtocolError(`SPDY header block announces ${count} pairs`);
  // Null prototype: a header named "__proto__" must stay a plain entry.
  const out: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
  let off = 4;
  for (let i = 0; i < count; i++) {
    need(off, 4);
    const nl = view.getUint32(off);
    need(off + 4, nl);
    const name = td.decode(block.subarray(off + 4, off + 4 + nl));
    off += 4 + nl;
    need(off, 4);
    const vl = view.getUint32(off);
    need(off + 4, vl);
    const value = td.decode(block.subarray(off + 4, off + 4 + vl));
    off += 4 + vl;
    if (name === "") throw new SpdyProtocolError("empty SPDY header name");
    if (name !== name.toLowerCase()) throw new SpdyProtocolError(`SPDY header name ${JSON.stringify(name)} is not lower-case`);
    if (Object.hasOwn(out, name)) throw new SpdyProtocolError(`duplicate SPDY header ${name}`);
    out[name] = value.split("\0");
  }
  if (off !== block.byteLength) throw new SpdyProtocolError("trailing bytes after the SPDY header block");
  return out;
}

/** The first value of `name` (lower-case), or undefined. */
export function headerValue(headers: SpdyHeaders, name: string): string | undefined {
  return Object.hasOwn(headers, name) ? headers[name]?.[0] : undefined;
}
