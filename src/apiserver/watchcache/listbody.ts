/**
 * List response bodies assembled from cached items, as a sequence of chunks (pure).
 *
 * A LIST of 150,000 pods is ~260 MiB of protobuf or ~530 MiB of JSON: writing it as chunks of
 * about `chunkBytes` (instead of one concatenated buffer) lets the transport start sending at
 * once and keeps at most a chunk or two alive per response. The bytes are the same as the
 * single-buffer forms (src/apiserver/respond.ts `renderList`, protolist.ts `encodeProtoList`):
 *
 * - JSON: `{"kind":…,"apiVersion":…,"metadata":…,"items":[<item>,<item>…]}`, items as their JSON
 *   encoding (no newline).
 * - protobuf: `k8s\0` + Unknown{typeMeta{apiVersion, listKind}, raw = List{1: ListMeta,
 *   2: <item message>…}, "", ""}. Items whose protobuf derives from the stored value are stamped
 *   with their resourceVersion straight into the chunk (no per-item buffer); others contribute the
 *   `raw` of their envelope.
 */
import type { StampPlan } from "../../api/codec/stamp.ts";
import { unknownRaw } from "../protolist.ts";
import { CachedObjectImpl } from "./cached.ts";
import type { CachedObject } from "./types.ts";
import { putVarint, varintLength } from "../../api/codec/varint.ts";

export const DEFAULT_CHUNK_BYTES = 1 << 20;

export interface ListHead {
  readonly apiVersion: string;
  readonly listKind: string;
  /** ListMeta in its JSON form (resourceVersion, continue, remainingItemCount). */
  readonly meta: object;
}

const utf8 = new TextEncoder();

/** Fresh output buffer (not zeroed: every byte is written before it is handed out). */
function alloc(n: number): Uint8Array {
  const b = Buffer.allocUnsafeSlow(n);
  return new Uint8Array(b.buffer, b.byteOffset, n);
}

function jsonOf(it: CachedObject): Uint8Array {
  return it instanceof CachedObjectImpl ? it.listEncoded("json") : it.encoded("json");
}

/** JSON list body in chunks of about `chunkBytes`. Items are encoded as the chunks are pulled. */
export function* jsonListChunks(head: ListHead, items: readonly CachedObject[], chunkBytes = DEFAULT_CHUNK_BYTES): Generator<Uint8Array> {
  const open = utf8.encode(
    `{"kind":${JSON.stringify(head.listKind)},"apiVersion":${JSON.stringify(head.apiVersion)},"metadata":${JSON.stringify(head.meta)},"items":[`,
  );
  let buf = alloc(Math.max(chunkBytes, open.length + 2));
  buf.set(open, 0);
  let at = open.length;
  for (let i = 0; i < items.length; i++) {
    const b = jsonOf(items[i] as CachedObject);
    const need = b.length + 1;
    if (at + need > buf.length) {
      yield buf.subarray(0, at);
      buf = alloc(Math.max(chunkBytes, need + 2));
      at = 0;
    }
    if (i > 0) buf[at++] = 0x2c; // ,
    buf.set(b, at);
    at += b.length;
  }
  if (at + 2 > buf.length) {
    yield buf.subarray(0, at);
    buf = alloc(2);
    at = 0;
  }
  buf[at++] = 0x5d; // ]
  buf[at++] = 0x7d; // }
  yield buf.subarray(0, at);
}

/** One item's source: a stamp plan over its stored value, or the raw message bytes. */
type ItemSource = StampPlan | Uint8Array;

interface ProtoLayout {
  readonly sources: ItemSource[];
  readonly lengths: Float64Array;
  readonly listLen: number;
  readonly total: number;
  readonly av: Uint8Array;
  readonly kd: Uint8Array;
  readonly tmLen: number;
}

/** Scratch for one revision's ASCII digits. */
const rvScratch = new Uint8Array(24);

function revisionDigits(revision: number): Uint8Array {
  const s = String(revision);
  for (let i = 0; i < s.length; i++) rvScratch[i] = s.charCodeAt(i);
  return rvScratch.subarray(0, s.length);
}

function digits(n: number): number {
  let d = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    d++;
  }
  return d;
}

function layout(head: ListHead, listMeta: Uint8Array, items: readonly CachedObject[]): ProtoLayout {
  const sources = new Array<ItemSource>(items.length);
  const lengths = new Float64Array(items.length);
  let listLen = 1 + varintLength(listMeta.length) + listMeta.length;
  for (let i = 0; i < items.length; i++) {
    const it = items[i] as CachedObject;
    let len: number;
    const plan = it instanceof CachedObjectImpl ? it.protoPlan() : undefined;
    if (plan !== undefined) {
      sources[i] = plan;
      len = (it as CachedObjectImpl).protoRawLength(plan, digits(it.revision));
    } else {
      const raw = unknownRaw(it instanceof CachedObjectImpl ? it.listEncoded("protobuf") : it.encoded("protobuf"));
      sources[i] = raw;
      len = raw.length;
    }
    lengths[i] = len;
    listLen += 1 + varintLength(len) + len;
  }
  const av = utf8.encode(head.apiVersion);
  const kd = utf8.encode(head.listKind);
  const tmLen = 1 + varintLength(av.length) + av.length + 1 + varintLength(kd.length) + kd.length;
  const total = 4 + 1 + varintLength(tmLen) + tmLen + 1 + varintLength(listLen) + listLen + 4;
  return { sources, lengths, listLen, total, av, kd, tmLen };
}

/**
 * Protobuf list body in chunks of about `chunkBytes` (`listMeta`: the encoded ListMeta). The
 * first call computes every item's length (the envelope's length prefixes come first).
 */
export function* protoListChunks(
  head: ListHead, listMeta: Uint8Array, items: readonly CachedObject[], chunkBytes = DEFAULT_CHUNK_BYTES,
): Generator<Uint8Array> {
  const l = layout(head, listMeta, items);
  yield* writeProto(l, listMeta, items, chunkBytes);
}

/** The protobuf list body as one buffer (same bytes as the chunks). */
export function protoListBody(head: ListHead, listMeta: Uint8Array, items: readonly CachedObject[]): Uint8Array {
  const l = layout(head, listMeta, items);
  const [only] = writeProto(l, listMeta, items, l.total);
  return only as Uint8Array;
}

/** Total protobuf body length (for choosing between one buffer and chunks). */
export function protoListLength(head: ListHead, listMeta: Uint8Array, items: readonly CachedObject[]): number {
  return layout(head, listMeta, items).total;
}

function* writeProto(l: ProtoLayout, listMeta: Uint8Array, items: readonly CachedObject[], chunkBytes: number): Generator<Uint8Array> {
  let buf = alloc(Math.min(l.total, Math.max(chunkBytes, 64 + l.tmLen + listMeta.length)));
  let at = 0;
  let left = l.total;
  buf[at++] = 0x6b;
  buf[at++] = 0x38;
  buf[at++] = 0x73;
  buf[at++] = 0x00;
  buf[at++] = 0x0a;
  at = putVarint(buf, at, l.tmLen);
  buf[at++] = 0x0a;
  at = putVarint(buf, at, l.av.length);
  buf.set(l.av, at);
  at += l.av.length;
  buf[at++] = 0x12;
  at = putVarint(buf, at, l.kd.length);
  buf.set(l.kd, at);
  at += l.kd.length;
  buf[at++] = 0x12;
  at = putVarint(buf, at, l.listLen);
  buf[at++] = 0x0a;
  at = putVarint(buf, at, listMeta.length);
  buf.set(listMeta, at);
  at += listMeta.length;
  for (let i = 0; i < items.length; i++) {
    const len = l.lengths[i] as number;
    const need = 1 + varintLength(len) + len;
    if (at + need > buf.length) {
      left -= at;
      yield buf.subarray(0, at);
      buf = alloc(Math.min(left, Math.max(chunkBytes, need)));
      at = 0;
    }
    buf[at++] = 0x12;
    at = putVarint(buf, at, len);
    const src = l.sources[i] as ItemSource;
    if (src instanceof Uint8Array) {
      buf.set(src, at);
      at += len;
    } else {
      const it = items[i] as CachedObjectImpl;
      at = it.writeProtoRaw(buf, at, src, revisionDigits(it.revision));
    }
  }
  if (at + 4 > buf.length) {
    left -= at;
    yield buf.subarray(0, at);
    buf = alloc(4);
    at = 0;
  }
  buf[at++] = 0x1a;
  buf[at++] = 0x00;
  buf[at++] = 0x22;
  buf[at++] = 0x00;
  yield buf.subarray(0, at);
}
