/**
 * Wire <-> JSON mappings of the types whose JSON form is not their message shape: meta.v1 Time,
 * MicroTime, Duration, FieldsV1 and Verbs; intstr.IntOrString; resource.Quantity; runtime.RawExtension.
 * Generated codecs call these for fields of those types; each `read*` consumes the message body up to
 * `end`, each `write*` writes a message body (the caller wraps it in fork/ldelim).
 */
import { Buffer } from "node:buffer";
import { badRequest } from "../errors.ts";
import { Reader, malformed } from "./reader.ts";
import { EncodeTypeError, Writer } from "./writer.ts";

const utf8 = new TextDecoder("utf-8", { fatal: true });
const utf8enc = new TextEncoder();

// ---- Time / MicroTime -------------------------------------------------------------------------

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

// Objects repeat the same timestamps a lot (creation, conditions, managed fields), and Date
// parsing/formatting dominates the codec's profile otherwise: small caches, cleared when full.
const CACHE_MAX = 4096;
const parsedTimes = new Map<string, { seconds: number; nanos: number }>();
const formattedTimes = new Map<number, string>();

/** Parses an RFC 3339 timestamp into Unix seconds and nanoseconds. Throws EncodeTypeError. */
export function parseTime(s: unknown): { seconds: number; nanos: number } {
  if (typeof s !== "string") throw new EncodeTypeError("RFC 3339 time string", s);
  let t = parsedTimes.get(s);
  if (t === undefined) {
    t = parseTimeUncached(s);
    if (parsedTimes.size >= CACHE_MAX) parsedTimes.clear();
    parsedTimes.set(s, t);
  }
  return t;
}

function parseTimeUncached(s: string): { seconds: number; nanos: number } {
  const m = RFC3339.exec(s);
  if (!m) throw new EncodeTypeError("RFC 3339 time string", s);
  const ms = Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${m[8]!.toUpperCase()}`);
  if (Number.isNaN(ms)) throw new EncodeTypeError("RFC 3339 time string", s);
  const frac = m[7] ? m[7].slice(1) : "";
  return { seconds: Math.floor(ms / 1000), nanos: frac ? Number(frac.padEnd(9, "0")) : 0 };
}

function isoSeconds(seconds: number, at: number): string {
  const d = new Date(seconds * 1000);
  const y = d.getUTCFullYear();
  if (Number.isNaN(y) || y < 0 || y > 9999) throw malformed(`time ${seconds}s out of range`, at);
  return d.toISOString().slice(0, 19);
}

/** Unix seconds -> "2024-05-01T10:00:00Z" (second precision, as Kubernetes' Time renders). */
export function formatTime(seconds: number, at = 0): string {
  let t = formattedTimes.get(seconds);
  if (t === undefined) {
    t = isoSeconds(seconds, at) + "Z";
    if (formattedTimes.size >= CACHE_MAX) formattedTimes.clear();
    formattedTimes.set(seconds, t);
  }
  return t;
}

/** -> "2024-05-01T10:00:00.123456Z" (microsecond precision, as MicroTime renders). */
export function formatMicroTime(seconds: number, nanos: number, at = 0): string {
  const micros = Math.floor(nanos / 1000);
  return `${isoSeconds(seconds, at)}.${String(micros).padStart(6, "0")}Z`;
}

function readTimestamp(r: Reader, end: number): { seconds: number; nanos: number } {
  let seconds = 0;
  let nanos = 0;
  while (r.pos < end) {
    const t = r.tag(end);
    if (t === 8) seconds = r.int64(end);
    else if (t === 16) nanos = r.int32(end);
    else r.skip(t, end);
  }
  if (nanos < 0 || nanos > 999_999_999) throw malformed(`time nanos ${nanos} out of range`, r.pos);
  return { seconds, nanos };
}

/** Time body -> string; the zero time (absent seconds and nanos) -> undefined (omitted in JSON). */
export function readTime(r: Reader, end: number): string | undefined {
  const at = r.pos;
  const { seconds, nanos } = readTimestamp(r, end);
  return seconds === 0 && nanos === 0 ? undefined : formatTime(seconds, at);
}

export function readMicroTime(r: Reader, end: number): string | undefined {
  const at = r.pos;
  const { seconds, nanos } = readTimestamp(r, end);
  return seconds === 0 && nanos === 0 ? undefined : formatMicroTime(seconds, nanos, at);
}

/** Writes seconds and nanos, both always (as Go does for a non-zero time). */
export function writeTime(w: Writer, v: unknown): void {
  const { seconds, nanos } = parseTime(v);
  w.byte(8);
  w.int64(seconds);
  w.byte(16);
  w.int32(nanos);
}

export function writeMicroTime(w: Writer, v: unknown): void {
  const { seconds, nanos } = parseTime(v);
  w.byte(8);
  w.int64(seconds);
  w.byte(16);
  w.int32(Math.floor(nanos / 1000) * 1000);
}

// ---- Duration ---------------------------------------------------------------------------------

const UNIT_NS: Record<string, number> = {
  ns: 1, us: 1e3, "µs": 1e3, "μs": 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9,
};

/** Go's time.ParseDuration: "1h2m3.5s", "-1.5h", "300ms", "0". Returns nanoseconds. */
export function parseDuration(s: unknown): number {
  if (typeof s !== "string") throw new EncodeTypeError("duration string", s);
  let rest = s;
  let sign = 1;
  if (rest.startsWith("-") || rest.startsWith("+")) {
    if (rest[0] === "-") sign = -1;
    rest = rest.slice(1);
  }
  if (rest === "0") return 0;
  if (rest === "") throw new EncodeTypeError("duration string", s);
  let total = 0;
  const part = /^(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)/;
  while (rest !== "") {
    const m = part.exec(rest);
    if (!m || (m[1] === "" && (m[2] ?? "") === "")) throw new EncodeTypeError("duration string", s);
    const unit = UNIT_NS[m[3]!]!;
    total += Number(m[1] || "0") * unit + (m[2] ? Number(`0.${m[2]}`) * unit : 0);
    rest = rest.slice(m[0].length);
  }
  return sign * Math.round(total);
}

/** Go's time.Duration.String(): 0 -> "0s", 1.5e9 -> "1.5s", 3723e9 -> "1h2m3s", 5e5 -> "500µs". */
export function formatDuration(ns: number): string {
  if (ns === 0) return "0s";
  const neg = ns < 0;
  let u = Math.abs(ns);
  let out: string;
  if (u < 1e9) {
    const [div, unit] = u < 1e3 ? [1, "ns"] : u < 1e6 ? [1e3, "µs"] : [1e6, "ms"];
    out = fraction(u, div) + unit;
  } else {
    const h = Math.floor(u / 3600e9);
    u -= h * 3600e9;
    const m = Math.floor(u / 60e9);
    u -= m * 60e9;
    out = (h > 0 ? `${h}h${m}m` : m > 0 ? `${m}m` : "") + fraction(u, 1e9) + "s";
  }
  return neg ? "-" + out : out;
}

function fraction(v: number, div: number): string {
  const whole = Math.floor(v / div);
  const rem = v - whole * div;
  if (rem === 0) return String(whole);
  const digits = String(div).length - 1;
  return `${whole}.${String(rem).padStart(digits, "0").replace(/0+$/, "")}`;
}

export function readDuration(r: Reader, end: number): string {
  let ns = 0;
  while (r.pos < end) {
    const t = r.tag(end);
    if (t === 8) ns = r.int64(end);
    else r.skip(t, end);
  }
  return formatDuration(ns);
}

export function writeDuration(w: Writer, v: unknown): void {
  w.byte(8);
  w.int64(parseDuration(v));
}

// ---- IntOrString ------------------------------------------------------------------------------

export function readIntOrString(r: Reader, end: number): number | string {
  let type = 0;
  let intVal = 0;
  let strVal = "";
  while (r.pos < end) {
    const t = r.tag(end);
    if (t === 8) type = r.int64(end);
    else if (t === 16) intVal = r.int32(end);
    else if (t === 26) strVal = r.string(end);
    else r.skip(t, end);
  }
  return type === 1 ? strVal : intVal;
}

/** Writes type, intVal and strVal, all three, as Go does. */
export function writeIntOrString(w: Writer, v: unknown): void {
  if (typeof v === "number") {
    w.byte(8);
    w.uint32(0);
    w.byte(16);
    w.int32(v);
    w.byte(26);
    w.uint32(0);
  } else if (typeof v === "string") {
    w.byte(8);
    w.uint32(1);
    w.byte(16);
    w.uint32(0);
    w.byte(26);
    w.string(v);
  } else {
    throw new EncodeTypeError("integer or string", v);
  }
}

// ---- Quantity ---------------------------------------------------------------------------------

export function readQuantity(r: Reader, end: number): string {
  let s = "0";
  while (r.pos < end) {
    const t = r.tag(end);
    if (t === 10) s = r.string(end);
    else r.skip(t, end);
  }
  return s;
}

/** Quantities are strings; a JSON number (`cpu: 2`) is accepted and written in its decimal form. */
export function writeQuantity(w: Writer, v: unknown): void {
  if (typeof v === "number" && Number.isFinite(v)) v = String(v);
  if (typeof v !== "string") throw new EncodeTypeError("quantity string", v);
  w.byte(10);
  w.string(v);
}

// ---- RawExtension / FieldsV1 / Verbs ----------------------------------------------------------

/** Decoder for a nested "k8s\0" body inside a RawExtension; installed by codec/mod.ts. */
let nestedDecoder: ((bytes: Uint8Array) => unknown) | undefined;

export function setNestedDecoder(fn: (bytes: Uint8Array) => unknown): void {
  nestedDecoder = fn;
}

function isMagic(b: Uint8Array): boolean {
  return b.length >= 4 && b[0] === 0x6b && b[1] === 0x38 && b[2] === 0x73 && b[3] === 0;
}

/** Parses raw JSON bytes (or a nested protobuf body); empty -> undefined. */
export function parseRawJson(b: Uint8Array, at: number): unknown {
  if (b.length === 0) return undefined;
  if (isMagic(b)) {
    if (!nestedDecoder) throw malformed("nested protobuf object with no decoder", at);
    return nestedDecoder(b);
  }
  let text: string;
  try {
    text = utf8.decode(b);
  } catch {
    throw malformed("embedded JSON is not valid UTF-8", at);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw badRequest(`invalid protobuf: embedded JSON at offset ${at} does not parse: ${(e as Error).message}`);
  }
}

/** RawExtension body -> the embedded value (JSON bytes parsed; a "k8s\0" body decoded). */
export function readRawExtension(r: Reader, end: number): unknown {
  const { raw, at } = readRawField(r, end);
  return raw ? parseRawJson(raw, at) : undefined;
}

/** Field 1 (`raw`, bytes) of a RawExtension / FieldsV1 body and its offset; other fields skipped. */
function readRawField(r: Reader, end: number): { raw: Uint8Array | undefined; at: number } {
  let raw: Uint8Array | undefined;
  let at = r.pos;
  while (r.pos < end) {
    const t = r.tag(end);
    if (t === 10) {
      at = r.pos;
      raw = r.bytes(end);
    } else r.skip(t, end);
  }
  return { raw, at };
}

export function writeRawExtension(w: Writer, v: unknown): void {
  w.byte(10);
  w.string(JSON.stringify(v));
}

// FieldsV1 (managedFields' field sets) is the largest JSON-in-protobuf payload and repeats a lot:
// every object of one shape written by one manager carries the same sets, and an update carries
// the other managers' sets over unchanged. FieldsV1 values are treated as immutable once built
// (nothing changes them in place; writers build new ones), which allows:
// - decoding: a set whose bytes were seen recently is the same (shared) parsed value;
// - encoding: a value read or written before is written as the JSON bytes it came from / went to.
// Both tables are bounded or weak; a miss just parses / serializes as before.

const FIELDS_MEMO_MAX = 2048;
/** Entries kept per probe key, so two hot sets that share a key do not evict each other. */
const FIELDS_BUCKET_MAX = 4;
interface FieldsMemo {
  readonly bytes: Uint8Array;
  readonly value: object;
}
/**
 * Recently decoded FieldsV1 payloads by a probe key: the length and 16 sampled bytes (hashing all
 * ~0.5–2 KB with FNV-1a per decode cost more than the rest of decoding a ManagedFieldsEntry). The
 * bytes of a candidate are always compared in full (natively), so the key only has to be cheap.
 */
const fieldsByKey = new Map<number, FieldsMemo[]>();
let fieldsMemoCount = 0;
/** The JSON bytes of FieldsV1 values read or written before. */
const fieldsJson = new WeakMap<object, Uint8Array>();

function probeKey(b: Uint8Array): number {
  const n = b.length;
  let h = Math.imul(n, 0x9e3779b1);
  // 16 bytes at evenly spaced offsets (all of them when shorter), ends included.
  const step = n > 16 ? (n - 1) / 15 : 1;
  const m = n < 16 ? n : 16;
  for (let i = 0; i < m; i++) h = Math.imul(h ^ b[Math.floor(i * step)]!, 0x01000193);
  return h;
}

/** Native byte comparison when node:buffer is there (memcmp), else a loop. */
const bufferCompare: ((a: Uint8Array, b: Uint8Array) => number) | undefined =
  typeof Buffer === "function" && typeof Buffer.compare === "function" ? Buffer.compare : undefined;

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  if (bufferCompare !== undefined && a.length > 32) return bufferCompare(a, b) === 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function readFieldsV1(r: Reader, end: number): unknown {
  const { raw, at } = readRawField(r, end);
  if (raw === undefined || raw.length === 0 || isMagic(raw)) return raw ? parseRawJson(raw, at) : undefined;
  const key = probeKey(raw);
  const bucket = fieldsByKey.get(key);
  if (bucket !== undefined) {
    for (let i = 0; i < bucket.length; i++) {
      const hit = bucket[i]!;
      if (sameBytes(hit.bytes, raw)) return hit.value;
    }
  }
  const v = parseRawJson(raw, at);
  if (typeof v === "object" && v !== null && !Array.isArray(v)) {
    const bytes = raw.slice(); // `raw` is a view into the whole message
    fieldsJson.set(v, bytes);
    if (fieldsMemoCount >= FIELDS_MEMO_MAX) {
      fieldsByKey.clear();
      fieldsMemoCount = 0;
    }
    const memo: FieldsMemo = { bytes, value: v };
    const b = fieldsByKey.get(key);
    if (b === undefined) fieldsByKey.set(key, [memo]);
    else if (b.length < FIELDS_BUCKET_MAX) b.push(memo);
    else {
      b.shift();
      b.push(memo);
      fieldsMemoCount--;
    }
    fieldsMemoCount++;
  }
  return v;
}

export function writeFieldsV1(w: Writer, v: unknown): void {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new EncodeTypeError("object", v);
  let bytes = fieldsJson.get(v);
  if (bytes === undefined) {
    bytes = utf8enc.encode(JSON.stringify(v));
    fieldsJson.set(v, bytes);
  }
  w.byte(10);
  w.bytes(bytes);
}

/** A message `{ repeated string items = 1 }` whose JSON form is the bare array. */
export function readStringArray(r: Reader, end: number): string[] {
  const out: string[] = [];
  while (r.pos < end) {
    const t = r.tag(end);
    if (t === 10) out.push(r.string(end));
    else r.skip(t, end);
  }
  return out;
}

export function writeStringArray(w: Writer, v: unknown): void {
  if (!Array.isArray(v)) throw new EncodeTypeError("array of strings", v);
  for (let i = 0; i < v.length; i++) {
    w.byte(10);
    w.string(v[i]);
  }
}

// ---- bytes (base64 in JSON) -------------------------------------------------------------------

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64_INDEX = new Int16Array(128).fill(-1);
for (let i = 0; i < 64; i++) B64_INDEX[B64.charCodeAt(i)] = i;

export function base64Encode(b: Uint8Array): string {
  let out = "";
  let i = 0;
  for (; i + 2 < b.length; i += 3) {
    const n = (b[i]! << 16) | (b[i + 1]! << 8) | b[i + 2]!;
    out += B64[n >> 18]! + B64[(n >> 12) & 63]! + B64[(n >> 6) & 63]! + B64[n & 63]!;
  }
  if (i < b.length) {
    const n = (b[i]! << 16) | ((b[i + 1] ?? 0) << 8);
    out += B64[n >> 18]! + B64[(n >> 12) & 63]! + (i + 1 < b.length ? B64[(n >> 6) & 63]! : "=") + "=";
  }
  return out;
}

/** Standard base64 with padding (Go's encoding/json rules for []byte). Throws EncodeTypeError. */
export function base64Decode(s: unknown): Uint8Array {
  if (typeof s !== "string" || s.length % 4 !== 0) throw new EncodeTypeError("base64 string", s);
  let pad = 0;
  if (s.endsWith("==")) pad = 2;
  else if (s.endsWith("=")) pad = 1;
  const out = new Uint8Array((s.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < s.length; i += 4) {
    let n = 0;
    for (let j = 0; j < 4; j++) {
      const c = s.charCodeAt(i + j);
      const last = i + 4 === s.length;
      let d: number;
      if (c === 61 && last && j >= 4 - pad) d = 0;
      else {
        d = c < 128 ? B64_INDEX[c]! : -1;
        if (d < 0) throw new EncodeTypeError("base64 string", s);
      }
      n = (n << 6) | d;
    }
    if (o < out.length) out[o++] = n >> 16;
    if (o < out.length) out[o++] = (n >> 8) & 255;
    if (o < out.length) out[o++] = n & 255;
  }
  return out;
}

export function readBase64(r: Reader, end: number): string {
  return base64Encode(r.bytes(end));
}

export function writeBase64(w: Writer, v: unknown): void {
  w.bytes(base64Decode(v));
}

export function utf8Bytes(s: string): Uint8Array {
  return utf8enc.encode(s);
}

/** Sets `obj[key] = value` as an own property even for "__proto__". */
export function setKey<T>(obj: Record<string, T>, key: string, value: T): void {
  if (key === "__proto__") Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}
