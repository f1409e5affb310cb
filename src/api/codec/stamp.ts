/**
 * Stamping `metadata.resourceVersion` into an already encoded object, without decoding it.
 *
 * Stored values are `k8s\0` + runtime.Unknown{typeMeta, raw: <kind message>} with no
 * resourceVersion (it is the store's modRevision). Serving such an object in protobuf only needs
 * ObjectMeta field 6 (resourceVersion) inserted: the kind message's field 1 is its ObjectMeta, and
 * the encoder writes fields in number order, so the field goes before the first ObjectMeta field
 * numbered above 6 and only the two enclosing length prefixes (ObjectMeta, Unknown.raw) change.
 * For a value written by `encodeObject`, the result is byte-identical to `encodeObject` of the
 * object with the resourceVersion set.
 *
 *   planStamp(envelope)                  -> where the field goes, or undefined (then encode instead)
 *   stampedRawLength(plan, rvLen)        -> length of the kind message with the field
 *   writeStampedRaw(out, at, env, plan, rv) -> writes that message (no envelope), returns the end
 *   stampEnvelope(env, plan, rv)         -> the whole stamped `k8s\0` envelope
 */
import { ApiError } from "../errors.ts";
import { Reader } from "./reader.ts";
import { messageForKind, messageSchema } from "./schema.ts";
import { putVarint, varintLength } from "./varint.ts";


const OBJECT_META = "k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta";
/** ObjectMeta.resourceVersion: field 6, length-delimited. */
const RV_TAG = 0x32;

/** Offsets into the envelope (all absolute). */
export interface StampPlan {
  /** Offset of the Unknown.raw tag; the raw message body is [rawStart, rawEnd). */
  readonly rawTag: number;
  readonly rawStart: number;
  readonly rawEnd: number;
  /** Offset of the ObjectMeta tag inside raw; its body is [metaStart, metaEnd). */
  readonly metaTag: number;
  readonly metaStart: number;
  readonly metaEnd: number;
  /** Where the resourceVersion field is inserted (metaStart <= insertAt <= metaEnd). */
  readonly insertAt: number;
}

const metaIsField1 = new Map<string, boolean>();

/** True when the message of apiVersion/kind has ObjectMeta as its field 1 (every stored kind). */
function hasObjectMeta1(apiVersion: string, kind: string): boolean {
  const k = `${apiVersion} ${kind}`;
  let v = metaIsField1.get(k);
  if (v === undefined) {
    const fq = messageForKind(apiVersion, kind);
    const f = fq === undefined ? undefined : messageSchema(fq)?.fields.find((x) => x.number === 1);
    v = f !== undefined && f.type === OBJECT_META && f.repeated !== true && f.map !== true;
    metaIsField1.set(k, v);
  }
  return v;
}

/**
 * Where resourceVersion goes in `envelope`, or undefined when stamping does not apply: not a
 * `k8s\0` envelope, a content encoding, a kind whose field 1 is not ObjectMeta, no or repeated
 * ObjectMeta, a resourceVersion already present, or malformed bytes.
 */
export function planStamp(envelope: Uint8Array): StampPlan | undefined {
  if (envelope.length < 4 || envelope[0] !== 0x6b || envelope[1] !== 0x38 || envelope[2] !== 0x73 || envelope[3] !== 0) return undefined;
  try {
    const end = envelope.length;
    const r = new Reader(envelope, 4);
    let apiVersion = "";
    let kind = "";
    let rawTag = -1;
    let rawStart = -1;
    let rawEnd = -1;
    while (r.pos < end) {
      const at = r.pos;
      const t = r.tag(end);
      if (t === 0x0a) {
        const e = r.ldEnd(end);
        while (r.pos < e) {
          const t2 = r.tag(e);
          if (t2 === 0x0a) apiVersion = r.string(e);
          else if (t2 === 0x12) kind = r.string(e);
          else r.skip(t2, e);
        }
      } else if (t === 0x12) {
        if (rawTag >= 0) return undefined;
        rawTag = at;
        rawEnd = r.ldEnd(end);
        rawStart = r.pos;
        r.pos = rawEnd;
      } else if (t === 0x1a) {
        if (r.string(end) !== "") return undefined; // content encoding
      } else {
        r.skip(t, end);
      }
    }
    if (rawTag < 0 || !hasObjectMeta1(apiVersion, kind)) return undefined;
    let metaTag = -1;
    let metaStart = -1;
    let metaEnd = -1;
    r.pos = rawStart;
    while (r.pos < rawEnd) {
      const at = r.pos;
      const t = r.tag(rawEnd);
      if (t === 0x0a) {
        if (metaTag >= 0) return undefined;
        metaTag = at;
        metaEnd = r.ldEnd(rawEnd);
        metaStart = r.pos;
        r.pos = metaEnd;
      } else {
        r.skip(t, rawEnd);
      }
    }
    if (metaTag < 0) return undefined;
    let insertAt = metaEnd;
    r.pos = metaStart;
    while (r.pos < metaEnd) {
      const at = r.pos;
      const t = r.tag(metaEnd);
      const field = t >>> 3;
      if (field === 6) return undefined;
      if (field > 6) {
        if (insertAt === metaEnd) insertAt = at;
      } else if (insertAt !== metaEnd) {
        return undefined; // fields out of number order: leave it to the encoder
      }
      r.skip(t, metaEnd);
    }
    return { rawTag, rawStart, rawEnd, metaTag, metaStart, metaEnd, insertAt };
  } catch (e) {
    if (e instanceof ApiError) return undefined;
    throw e;
  }
}

/** Length of the stamped ObjectMeta body. */
function metaLength(plan: StampPlan, rvLen: number): number {
  return plan.metaEnd - plan.metaStart + 1 + varintLength(rvLen) + rvLen;
}

/** Length of the kind message (Unknown.raw body) once stamped with an `rvLen`-byte resourceVersion. */
export function stampedRawLength(plan: StampPlan, rvLen: number): number {
  const meta = metaLength(plan, rvLen);
  return (plan.metaTag - plan.rawStart) + 1 + varintLength(meta) + meta + (plan.rawEnd - plan.metaEnd);
}

/**
 * Writes the stamped kind message (no envelope, no length prefix) at `out[at]`; `rv` is the
 * resourceVersion's ASCII bytes. Returns the offset after it.
 */
export function writeStampedRaw(out: Uint8Array, at: number, envelope: Uint8Array, plan: StampPlan, rv: Uint8Array): number {
  out.set(envelope.subarray(plan.rawStart, plan.metaTag), at);
  at += plan.metaTag - plan.rawStart;
  out[at++] = 0x0a;
  at = putVarint(out, at, metaLength(plan, rv.length));
  out.set(envelope.subarray(plan.metaStart, plan.insertAt), at);
  at += plan.insertAt - plan.metaStart;
  out[at++] = RV_TAG;
  at = putVarint(out, at, rv.length);
  out.set(rv, at);
  at += rv.length;
  out.set(envelope.subarray(plan.insertAt, plan.rawEnd), at);
  return at + (plan.rawEnd - plan.insertAt);
}

const ascii = new TextEncoder();

/** The whole envelope with `resourceVersion` stamped in (a new buffer; `envelope` is not changed). */
export function stampEnvelope(envelope: Uint8Array, plan: StampPlan, resourceVersion: string): Uint8Array {
  const rv = ascii.encode(resourceVersion);
  const raw = stampedRawLength(plan, rv.length);
  const out = new Uint8Array(plan.rawTag + 1 + varintLength(raw) + raw + (envelope.length - plan.rawEnd));
  out.set(envelope.subarray(0, plan.rawTag), 0);
  let at = plan.rawTag;
  out[at++] = 0x12;
  at = putVarint(out, at, raw);
  at = writeStampedRaw(out, at, envelope, plan, rv);
  out.set(envelope.subarray(plan.rawEnd), at);
  return out;
}
