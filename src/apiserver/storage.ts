/**
 * Object storage over the Store port: key layout, value encoding and the compare-and-swap
 * primitives the REST handlers build on.
 *
 * - Keys: `/registry/<plural>/<namespace>/<name>` (namespaced) or `/registry/<plural>/<name>`;
 *   a non-core kind whose plural clashes with another kind's uses `/registry/<group>/<plural>/`.
 * - Values: Kubernetes protobuf (`k8s\0` + Unknown) for kinds with a proto message, else JSON.
 *   `metadata.resourceVersion` is never stored: it is the kv's modRevision, set on every read.
 */
import type { KubeObject } from "../api/object.ts";
import { internalError } from "../api/errors.ts";
import type { Compare, KeyValue, Store, TxnOp } from "../store/types.ts";
import type { Codec, KindInfo } from "./ports.ts";
import { planStamp, stampEnvelope } from "../api/codec/stamp.ts";
import { deepEqual } from "../api/validation/field.ts";

const PROTO_MAGIC = [0x6b, 0x38, 0x73, 0x00];
const enc = new TextEncoder();
const dec = new TextDecoder();

/** Computes the key prefix of each kind (with trailing slash). */
export function storagePrefixes(kinds: readonly KindInfo[]): Map<KindInfo, string> {
  const byPlural = new Map<string, KindInfo[]>();
  for (const k of kinds) byPlural.set(k.plural, [...(byPlural.get(k.plural) ?? []), k]);
  const out = new Map<KindInfo, string>();
  for (const k of kinds) {
    // The plural's owner (the core kind, else the alphabetically first group) keeps the upstream
    // layout; the others are qualified with their group.
    const owner = [...(byPlural.get(k.plural) ?? [])].sort((a, b) => (a.group < b.group ? -1 : a.group > b.group ? 1 : 0))[0];
    out.set(k, owner === undefined || owner.group === k.group ? `/registry/${k.plural}/` : `/registry/${k.group}/${k.plural}/`);
  }
  return out;
}

export function objectKey(prefix: string, namespace: string, name: string): string {
  return namespace === "" ? `${prefix}${name}` : `${prefix}${namespace}/${name}`;
}

export interface StoredObject {
  readonly object: KubeObject;
  readonly modRevision: number;
  readonly createRevision: number;
}

export class ObjectCodec {
  /** Stored values of objects just written (see `rememberStored`), by object identity. */
  private readonly written = new WeakMap<KubeObject, { readonly value: Uint8Array; readonly resourceVersion: string }>();

  constructor(readonly raw: Codec | undefined) {}

  /**
   * Records that `obj` (metadata.resourceVersion set) was stored as `value` (its `encodeStorage`).
   * Its protobuf wire encoding is then the stored value with the resourceVersion stamped in —
   * byte-identical to encoding it again, for a fraction of the cost. The caller must not change
   * `obj` afterwards (write results are rendered as they are).
   */
  rememberStored(obj: KubeObject, value: Uint8Array, key?: string): void {
    const rv = obj.metadata?.resourceVersion;
    if (rv === undefined || rv === "") return;
    this.written.set(obj, { value, resourceVersion: rv });
    if (key === undefined) return;
    // Most recent first out: a key written again moves to the end.
    this.recent.delete(key);
    if (this.recent.size >= RECENT_MAX) this.recent.delete(this.recent.keys().next().value as string);
    this.recent.set(key, obj);
  }

  /**
   * Objects just written, by key (the last RECENT_MAX keys written): the write that usually
   * follows — a status patch, a binding, a delete — reads the object back at the same revision.
   * The stored value is the typed form of the written object (a write encodes its typed form:
   * `typedForm` of the body, then the strategy's typed changes), so decoding it gives it back.
   */
  private readonly recent = new Map<string, KubeObject>();

  /**
   * `fromKv`, but the object may be shared: the one just written at that revision when there is
   * one (no decode). For callers that never change what they read (updateObject, deleteObject:
   * they copy before writing). `TUG_VERIFY_HANDOFF=1` decodes anyway and throws on a difference.
   */
  sharedFromKv(kv: KeyValue): StoredObject {
    const hit = this.recent.get(kv.key);
    if (hit === undefined || hit.metadata?.resourceVersion !== String(kv.modRevision)) return this.fromKv(kv);
    if (VERIFY_SHARED) verifyShared(hit, this.fromKv(kv).object, kv.key);
    return { object: hit, modRevision: kv.modRevision, createRevision: kv.createRevision };
  }

  private get codec(): Codec | undefined {
    return this.raw;
  }

  /** True when objects of this kind are stored and served as protobuf. */
  protobuf(apiVersion: string, kind: string): boolean {
    return this.codec !== undefined && this.codec.hasProto(apiVersion, kind);
  }

  /** Encodes for storage (no resourceVersion). */
  encodeStorage(obj: KubeObject): Uint8Array {
    let clean = obj;
    if (obj.metadata === undefined || obj.metadata.resourceVersion !== undefined) {
      const meta = { ...(obj.metadata ?? {}) };
      delete meta.resourceVersion;
      clean = { ...obj, metadata: meta };
    }
    if (this.codec && obj.apiVersion && obj.kind && this.codec.hasProto(obj.apiVersion, obj.kind)) {
      return this.codec.encodeObject(clean);
    }
    return enc.encode(JSON.stringify(clean));
  }

  /** Decodes a stored value. Corrupt values are internal errors (never user input). */
  decodeStorage(value: Uint8Array): KubeObject {
    try {
      if (value.length >= 4 && PROTO_MAGIC.every((b, i) => value[i] === b)) {
        if (!this.codec) throw new Error("protobuf value but no codec");
        return this.codec.decodeObject(value);
      }
      return JSON.parse(dec.decode(value)) as KubeObject;
    } catch (e) {
      throw internalError(new Error(`cannot decode stored object: ${(e as Error).message}`));
    }
  }

  /** Wire encoding of an object (JSON has no trailing newline). */
  encodeWire(obj: KubeObject, encoding: "json" | "protobuf"): Uint8Array {
    if (encoding === "protobuf") {
      if (!this.codec) throw new Error("no protobuf codec");
      const w = this.written.get(obj);
      if (w !== undefined && w.resourceVersion === obj.metadata?.resourceVersion) {
        const plan = planStamp(w.value);
        if (plan !== undefined) return stampEnvelope(w.value, plan, w.resourceVersion);
      }
      return this.codec.encodeObject(obj);
    }
    return enc.encode(JSON.stringify(obj));
  }

  encodeWatchEvent(type: string, object: Uint8Array): Uint8Array {
    if (!this.codec) throw new Error("no protobuf codec");
    return this.codec.encodeWatchEvent(type, object);
  }

  fromKv(kv: KeyValue): StoredObject {
    const object = this.decodeStorage(kv.value);
    object.metadata = { ...(object.metadata ?? {}), resourceVersion: String(kv.modRevision) };
    return { object, modRevision: kv.modRevision, createRevision: kv.createRevision };
  }
}

/**
 * Reads one key at the current revision. `shared`: the caller never changes the object read, which
 * may then be shared with the write that stored it (see `ObjectCodec.sharedFromKv`).
 */
export async function readObject(store: Store, codec: ObjectCodec, key: string, shared = false): Promise<StoredObject | undefined> {
  const r = await store.range({ key });
  const kv = r.kvs[0];
  if (!kv) return undefined;
  return shared ? codec.sharedFromKv(kv) : codec.fromKv(kv);
}

const RECENT_MAX = 2048;
const VERIFY_SHARED = typeof process !== "undefined" && process.env["TUG_VERIFY_HANDOFF"] === "1";

/** The debug check of `sharedFromKv`: the written object equals the decoded stored value. */
function verifyShared(written: KubeObject, decoded: KubeObject, key: string): void {
  if (deepEqual(written, decoded)) return;
  throw new Error(`TUG_VERIFY_HANDOFF: the object written at ${key} differs from its stored value:\nwritten ${JSON.stringify(written)}\nstored  ${JSON.stringify(decoded)}`);
}

export interface WriteSpec {
  readonly compare: readonly Compare[];
  readonly ops: readonly TxnOp[];
}

/** Runs a guarded write. Returns the new revision, or undefined when a compare failed. */
export async function guardedWrite(store: Store, spec: WriteSpec): Promise<number | undefined> {
  const r = await store.txn({ compare: spec.compare, success: spec.ops });
  return r.succeeded ? r.revision : undefined;
}
