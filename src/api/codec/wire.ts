/**
 * The Kubernetes protobuf wire codec without the field-schema table: the JSON-shaped in-memory
 * objects <-> "k8s\0" + runtime.Unknown bodies, and length-framed protobuf watch events. mod.ts is
 * this plus the schema helpers and the path-naming encode errors; clients import this module so a
 * lean process (the node agent) never loads the ~1 MB generated schema table.
 *
 *   encodeObject(obj)           -> "k8s\0" + Unknown{typeMeta, raw: <message>, "", ""}
 *   decodeObject(bytes)         -> object with apiVersion and kind first
 *   encodeWatchEvent(type, raw) -> 4-byte big-endian length + WatchEvent{type, object: {raw}}
 *   decodeWatchEvent(frame)     -> { type, object }
 *
 * Every malformed input becomes `ApiError` 400 BadRequest; nothing else escapes. An encode type
 * error names the offending field path ("spec.replicas: expected int32, got string \"3\"") once a
 * path finder is registered (mod.ts registers the schema-based one on import, so the apiserver and
 * every process that imports mod.ts get it); without one it is the encoder's own "expected int32,
 * got string \"3\"".
 */
import { ApiError, badRequest } from "../errors.ts";
import type { KubeObject } from "../object.ts";
import { CODECS, GVK_MESSAGES, type MessageCodec } from "../generated/codecs.ts";
import { putVarint, varintLength } from "./varint.ts";
import { Reader, malformed } from "./reader.ts";
import { setNestedDecoder, parseRawJson } from "./special.ts";
import { EncodeTypeError, Writer } from "./writer.ts";

/** Finds the path of the first mistyped field of `obj` (message `fq`); undefined when it finds none. */
export type TypeErrorFinder = (fq: string, obj: unknown) => string | undefined;

let findTypeError: TypeErrorFinder | undefined;

/** Registers the finder encode errors use to name the field path (mod.ts does, with the schema table). */
export function setTypeErrorFinder(fn: TypeErrorFinder): void {
  findTypeError = fn;
}

/** The 4-byte prefix of every Kubernetes protobuf body. */
export const PROTOBUF_MAGIC: Uint8Array = Uint8Array.of(0x6b, 0x38, 0x73, 0x00);
export const PROTOBUF_CONTENT_TYPE = "application/vnd.kubernetes.protobuf";
/** Nested "k8s\0" bodies inside RawExtensions deeper than this are refused. */
const MAX_NESTING = 16;
const SHARED_WRITER_MAX = 4 << 20;

let shared = new Writer(64 * 1024);
let sharedBusy = false;

function withWriter<T>(fn: (w: Writer) => T): T {
  if (sharedBusy) return fn(new Writer(1024));
  sharedBusy = true;
  const w = shared;
  w.reset();
  try {
    return fn(w);
  } finally {
    sharedBusy = false;
    if (w.buf.length > SHARED_WRITER_MAX) shared = new Writer(64 * 1024);
  }
}

/**
 * apiVersion -> kind -> message name and codec, built from GVK_MESSAGES on first use. Looked up
 * with the decoded (interned) strings, whose hashes V8 caches, instead of building the
 * "apiVersion kind" key string per object.
 */
let byGvk: Map<string, Map<string, { readonly fq: string; readonly codec: MessageCodec }>> | undefined;

function lookupGvk(apiVersion: string, kind: string): { readonly fq: string; readonly codec: MessageCodec } | undefined {
  if (byGvk === undefined) {
    byGvk = new Map();
    for (const [gvk, fq] of GVK_MESSAGES) {
      const sp = gvk.indexOf(" ");
      const av = gvk.slice(0, sp);
      let kinds = byGvk.get(av);
      if (kinds === undefined) byGvk.set(av, (kinds = new Map()));
      kinds.set(gvk.slice(sp + 1), { fq, codec: CODECS.get(fq)! });
    }
  }
  return byGvk.get(apiVersion)?.get(kind);
}

/** True when apiVersion/kind (a kind, its list, or a body kind) has a protobuf message. */
export function hasProto(apiVersion: string, kind: string): boolean {
  return lookupGvk(apiVersion, kind) !== undefined;
}

function encodeFailure(e: unknown, what: string, fq: string, obj: unknown): ApiError {
  if (e instanceof ApiError) return e;
  if (e instanceof EncodeTypeError) {
    const where = findTypeError?.(fq, obj);
    return badRequest(`cannot encode ${what} as protobuf: ${where ?? e.message}`);
  }
  return badRequest(`cannot encode ${what} as protobuf: ${e instanceof Error ? e.message : String(e)}`);
}

/**
 * Encodes an object (kind, list or body) as "k8s\0" + runtime.Unknown. Fields absent or null in the
 * object are not written; zero values present are. Throws ApiError 400 when apiVersion/kind has no
 * message or a field has the wrong JSON type (the message names the path).
 */
export function encodeObject(obj: KubeObject): Uint8Array {
  const apiVersion = obj.apiVersion;
  const kind = obj.kind;
  if (typeof apiVersion !== "string" || typeof kind !== "string" || apiVersion === "" || kind === "") {
    throw badRequest("cannot encode object as protobuf: apiVersion and kind must be set");
  }
  const found = lookupGvk(apiVersion, kind);
  if (found === undefined) throw badRequest(`no protobuf message for kind "${kind}" in version "${apiVersion}"`);
  const { fq, codec } = found;
  try {
    return withWriter((w) => {
      w.byte(0x6b);
      w.byte(0x38);
      w.byte(0x73);
      w.byte(0x00);
      w.byte(0x0a); // 1: typeMeta
      const tm = w.fork();
      w.byte(0x0a); // 1: apiVersion
      w.string(apiVersion);
      w.byte(0x12); // 2: kind
      w.string(kind);
      w.ldelim(tm);
      w.byte(0x12); // 2: raw
      const raw = w.fork();
      codec.encode(w, obj);
      w.ldelim(raw);
      w.byte(0x1a); // 3: contentEncoding ""
      w.byte(0x00);
      w.byte(0x22); // 4: contentType ""
      w.byte(0x00);
      return w.finish();
    });
  } catch (e) {
    throw encodeFailure(e, kind, fq, obj);
  }
}

let nesting = 0;

/**
 * Decodes a "k8s\0" + runtime.Unknown body into the JSON-shaped object (apiVersion and kind set).
 * Throws ApiError 400 for a missing prefix, a malformed envelope or message, an unknown
 * apiVersion/kind, or a content encoding other than none.
 */
export function decodeObject(bytes: Uint8Array): KubeObject {
  if (!(bytes instanceof Uint8Array)) throw badRequest("invalid protobuf body: not bytes");
  if (nesting >= MAX_NESTING) throw badRequest("invalid protobuf body: objects nested too deeply");
  nesting++;
  try {
    return decodeEnvelope(bytes);
  } catch (e) {
    if (e instanceof ApiError) throw e;
    // Anything else (e.g. a RangeError from a hostile input) is still the input's fault.
    throw badRequest(`invalid protobuf body: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    nesting--;
  }
}

setNestedDecoder(decodeObject);

function decodeEnvelope(bytes: Uint8Array): KubeObject {
  if (bytes.length < 4 || bytes[0] !== 0x6b || bytes[1] !== 0x38 || bytes[2] !== 0x73 || bytes[3] !== 0x00) {
    throw badRequest('invalid protobuf body: missing the "k8s\\x00" prefix');
  }
  const end = bytes.length;
  const r = new Reader(bytes, 4);
  let apiVersion = "";
  let kind = "";
  let rawStart = -1;
  let rawEnd = -1;
  let contentEncoding = "";
  let contentType = "";
  while (r.pos < end) {
    const t = r.tag(end);
    switch (t) {
      case 0x0a: {
        const e = r.ldEnd(end);
        while (r.pos < e) {
          const t2 = r.tag(e);
          if (t2 === 0x0a) apiVersion = r.string(e);
          else if (t2 === 0x12) kind = r.string(e);
          else r.skip(t2, e);
        }
        break;
      }
      case 0x12:
        rawEnd = r.ldEnd(end);
        rawStart = r.pos;
        r.pos = rawEnd;
        break;
      case 0x1a:
        contentEncoding = r.string(end);
        break;
      case 0x22:
        contentType = r.string(end);
        break;
      default:
        r.skip(t, end);
    }
  }
  if (apiVersion === "" || kind === "") {
    throw badRequest("invalid protobuf body: the envelope has no apiVersion or kind");
  }
  if (contentEncoding !== "") throw badRequest(`invalid protobuf body: unsupported content encoding "${contentEncoding}"`);
  if (contentType !== "" && contentType !== PROTOBUF_CONTENT_TYPE) {
    throw badRequest(`invalid protobuf body: unsupported embedded content type "${contentType}"`);
  }
  const found = lookupGvk(apiVersion, kind);
  if (found === undefined) throw badRequest(`no kind "${kind}" is registered for version "${apiVersion}"`);
  const codec = found.codec;
  // The message's own allocator (compact, see emit_codec.ts); apiVersion and kind stay first.
  const obj = codec.create() as KubeObject;
  obj.apiVersion = apiVersion;
  obj.kind = kind;
  if (rawStart >= 0) {
    const rr = new Reader(bytes, rawStart);
    codec.decode(rr, rawEnd, obj);
  }
  return obj;
}

/** Encodes one message (no envelope) by fully-qualified name, e.g. "k8s.io.api.core.v1.PodSpec". */
export function encodeMessage(fqMessageName: string, obj: object): Uint8Array {
  const codec = CODECS.get(fqMessageName);
  if (!codec) throw new Error(`unknown protobuf message ${fqMessageName}`);
  try {
    return withWriter((w) => {
      codec.encode(w, obj);
      return w.finish();
    });
  } catch (e) {
    throw encodeFailure(e, fqMessageName, fqMessageName, obj);
  }
}

/** Decodes one message (no envelope). Throws ApiError 400 on malformed bytes. */
export function decodeMessage(fqMessageName: string, bytes: Uint8Array): object {
  const codec = CODECS.get(fqMessageName);
  if (!codec) throw new Error(`unknown protobuf message ${fqMessageName}`);
  try {
    return codec.decode(new Reader(bytes, 0), bytes.length, codec.create());
  } catch (e) {
    if (e instanceof ApiError) throw e;
    throw badRequest(`invalid protobuf message: ${e instanceof Error ? e.message : String(e)}`);
  }
}

// ---- watch events ---------------------------------------------------------------------------

const utf8 = new TextEncoder();
/** UTF-8 of the event types seen (ADDED, MODIFIED, …): one encode per type, not per event. */
const typeBytesCache = new Map<string, Uint8Array>();

/**
 * One protobuf watch frame: 4-byte big-endian length, then metav1.WatchEvent {1: type, 2: {1: object}}
 * where `object` is an already encoded "k8s\0" body (encode it once, frame it per event type).
 */
export function encodeWatchEvent(type: string, object: Uint8Array): Uint8Array {
  let typeBytes = typeBytesCache.get(type);
  if (typeBytes === undefined) {
    typeBytes = utf8.encode(type);
    if (typeBytesCache.size < 16) typeBytesCache.set(type, typeBytes); // the five event types
  }
  const rawExt = 1 + varintLength(object.length) + object.length;
  const body = 1 + varintLength(typeBytes.length) + typeBytes.length + 1 + varintLength(rawExt) + rawExt;
  const out = new Uint8Array(4 + body);
  new DataView(out.buffer).setUint32(0, body, false);
  let p = 4;
  out[p++] = 0x0a;
  p = putVarint(out, p, typeBytes.length);
  out.set(typeBytes, p);
  p += typeBytes.length;
  out[p++] = 0x12;
  p = putVarint(out, p, rawExt);
  out[p++] = 0x0a;
  p = putVarint(out, p, object.length);
  out.set(object, p);
  return out;
}

export interface DecodedWatchEvent {
  type: string;
  object: KubeObject;
}

/** Decodes one frame as produced by `encodeWatchEvent` (length prefix included, and exact). */
export function decodeWatchEvent(frame: Uint8Array): DecodedWatchEvent {
  if (!(frame instanceof Uint8Array) || frame.length < 4) throw badRequest("invalid watch frame: shorter than its 4-byte length");
  const len = new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getUint32(0, false);
  if (len !== frame.length - 4) throw badRequest(`invalid watch frame: length says ${len} bytes, frame has ${frame.length - 4}`);
  return decodeWatchEventMessage(frame.subarray(4));
}

/** Decodes a WatchEvent message without the frame's length prefix. */
export function decodeWatchEventMessage(body: Uint8Array): DecodedWatchEvent {
  try {
    const end = body.length;
    const r = new Reader(body, 0);
    let type = "";
    let raw: Uint8Array | undefined;
    let rawAt = 0;
    while (r.pos < end) {
      const t = r.tag(end);
      if (t === 0x0a) type = r.string(end);
      else if (t === 0x12) {
        const e = r.ldEnd(end);
        while (r.pos < e) {
          const t2 = r.tag(e);
          if (t2 === 0x0a) {
            rawAt = r.pos;
            raw = r.bytes(e);
          } else r.skip(t2, e);
        }
      } else r.skip(t, end);
    }
    if (type === "") throw badRequest("invalid watch event: no type");
    if (!raw || raw.length === 0) throw badRequest("invalid watch event: no object");
    const object = parseRawJson(raw, rawAt);
    if (typeof object !== "object" || object === null || Array.isArray(object)) throw malformed("watch event object is not an object", rawAt);
    return { type, object: object as KubeObject }; // checked just above: a plain object
  } catch (e) {
    if (e instanceof ApiError) throw e;
    throw badRequest(`invalid watch event: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * Splits complete frames off the front of a byte stream. Returns the frames and the number of bytes
 * consumed; the caller keeps the rest for the next chunk. Frames over `maxFrame` bytes throw 400.
 */
export function splitWatchFrames(buf: Uint8Array, maxFrame = 16 << 20): { frames: Uint8Array[]; consumed: number } {
  const frames: Uint8Array[] = [];
  let p = 0;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  while (buf.length - p >= 4) {
    const len = view.getUint32(p, false);
    if (len > maxFrame) throw badRequest(`watch frame of ${len} bytes exceeds the ${maxFrame}-byte limit`);
    if (buf.length - p - 4 < len) break;
    frames.push(buf.subarray(p, p + 4 + len));
    p += 4 + len;
  }
  return { frames, consumed: p };
}
