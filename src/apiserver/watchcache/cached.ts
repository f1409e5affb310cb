/**
 * CachedObject: a decoded object plus its encodings. One instance is shared by the cache, every
 * list response and every watcher.
 *
 * Memory is the constraint (150k pods must fit with the store in 2 GiB), so encodings are not all
 * kept forever:
 * - protobuf, when the store value is itself a `k8s\0` envelope of the object (kinds with a proto
 *   message): the encoding is the stored value with metadata.resourceVersion stamped in
 *   (src/api/codec/stamp.ts), so nothing beyond the store's own bytes (shared, not copied) is
 *   kept per object; lists write the stamped message straight into the response.
 * - other encodings are kept ("pinned") while the cache's `MemoPool` byte budget allows, for
 *   objects currently in the cache; beyond it they are computed per use.
 * - `encoded()` (watch events, single reads) also keeps what it computes in a small ring of recent
 *   encodings, so one event fanned out to thousands of watchers is encoded once.
 * Every way of obtaining an encoding (encoded, listEncoded, list chunks) gives the same bytes. A
 * stamped protobuf encoding equals `encoders.protobuf(object)` byte for byte when the stored value
 * is canonical (encodeObject output of an object the decoder reproduces); a stored value that
 * spells out zero values the decoder drops keeps them, and decodes to the same object.
 */
import type { KubeObject } from "../../api/object.ts";
import { planStamp, stampedRawLength, stampEnvelope, type StampPlan, writeStampedRaw } from "../../api/codec/stamp.ts";
import type { CachedObject, Encoding } from "./types.ts";

export type Encoders = Readonly<Record<Encoding, (obj: KubeObject) => Uint8Array>>;

const EMPTY: Readonly<Record<string, string>> = Object.freeze({});
const ascii = new TextEncoder();

/** Default byte budget for pinned encodings of one cache (or of the caches sharing a pool). */
export const DEFAULT_MEMO_BUDGET = 256 * 1024 * 1024;
/** Default number of recently used encodings kept outside the budget. */
export const DEFAULT_RECENT_SLOTS = 512;

/**
 * The byte budget for pinned encodings and the ring of recent ones. May be shared by several
 * caches (the apiserver shares one across resources).
 */
export class MemoPool {
  /** Bytes of pinned encodings held by objects currently in a cache. */
  used = 0;
  private readonly ringObj: Array<CachedObjectImpl | undefined>;
  private readonly ringEnc: Encoding[];
  private at = 0;

  constructor(readonly budgetBytes = DEFAULT_MEMO_BUDGET, recentSlots = DEFAULT_RECENT_SLOTS) {
    const n = Math.max(1, recentSlots);
    this.ringObj = new Array<CachedObjectImpl | undefined>(n);
    this.ringEnc = new Array<Encoding>(n).fill("json");
  }

  tryPin(bytes: number): boolean {
    if (this.used + bytes > this.budgetBytes) return false;
    this.used += bytes;
    return true;
  }

  unpin(bytes: number): void {
    this.used = Math.max(0, this.used - bytes);
  }

  /** Records a recent (unpinned) encoding, dropping the oldest one's. */
  recent(obj: CachedObjectImpl, enc: Encoding): void {
    const old = this.ringObj[this.at];
    if (old !== undefined && old !== obj) old.forgetRecent(this.ringEnc[this.at] as Encoding);
    this.ringObj[this.at] = obj;
    this.ringEnc[this.at] = enc;
    this.at = (this.at + 1) % this.ringObj.length;
  }
}

const PIN_JSON = 1;
const PIN_PROTO = 2;

export class CachedObjectImpl implements CachedObject {
  private obj: KubeObject | undefined;
  /** Produces the object on first use (then dropped); set when the object is not built yet. */
  private make: (() => KubeObject) | undefined;
  private json: Uint8Array | undefined = undefined;
  private proto: Uint8Array | undefined = undefined;
  /** PIN_* bits: which memos are counted in the pool's budget. */
  private pinned = 0;
  /** Cached `planStamp(stored)` (null: not stampable). */
  private plan: StampPlan | null | undefined = undefined;
  /** The object is current in its cache (only then may it pin encodings). */
  resident = false;

  constructor(
    readonly key: string,
    readonly namespace: string,
    readonly name: string,
    object: KubeObject | (() => KubeObject),
    readonly revision: number,
    readonly labels: Readonly<Record<string, string>>,
    readonly fields: Readonly<Record<string, string>>,
    private readonly encoders: Encoders,
    private readonly pool: MemoPool,
    /** The stored `k8s\0` value (no resourceVersion) when protobuf is derived from it. */
    private readonly stored: Uint8Array | undefined,
  ) {
    if (typeof object === "function") {
      this.obj = undefined;
      this.make = object;
    } else {
      this.obj = object;
      this.make = undefined;
    }
  }

  /**
   * The object. A lazily built one (see `makeLazyCachedObject`) is decoded on first access, gets
   * metadata.resourceVersion = revision, and is kept from then on.
   */
  get object(): KubeObject {
    if (this.obj !== undefined) return this.obj;
    const make = this.make as () => KubeObject;
    const o = make();
    (o.metadata ??= {}).resourceVersion = String(this.revision);
    this.obj = o;
    this.make = undefined;
    return o;
  }

  /** True once the object exists in memory (built eagerly or already accessed). */
  get materialized(): boolean {
    return this.obj !== undefined;
  }

  encoded(encoding: Encoding): Uint8Array {
    const have = encoding === "json" ? this.json : this.proto;
    if (have !== undefined) return have;
    const bytes = this.compute(encoding);
    if (!this.pin(encoding, bytes)) {
      if (encoding === "json") this.json = bytes;
      else this.proto = bytes;
      this.pool.recent(this, encoding);
    }
    return bytes;
  }

  /**
   * Like `encoded`, for bulk reads: keeps what it computes only as a pinned encoding (within the
   * budget), never in the recent ring (a LIST would flush it).
   */
  listEncoded(encoding: Encoding): Uint8Array {
    const have = encoding === "json" ? this.json : this.proto;
    if (have !== undefined) return have;
    const bytes = this.compute(encoding);
    this.pin(encoding, bytes);
    return bytes;
  }

  /**
   * For lists: how to stamp the stored value (computed once, ~80 bytes), or undefined when the
   * protobuf encoding must come from `listEncoded` (no stored envelope, or one already kept).
   */
  protoPlan(): StampPlan | undefined {
    if (this.proto !== undefined || this.stored === undefined) return undefined;
    if (this.plan === undefined) this.plan = planStamp(this.stored) ?? null;
    return this.plan ?? undefined;
  }

  /** Length of the stamped kind message for a resourceVersion of `rvLen` digits. */
  protoRawLength(plan: StampPlan, rvLen: number): number {
    return stampedRawLength(plan, rvLen);
  }

  writeProtoRaw(out: Uint8Array, at: number, plan: StampPlan, rv: Uint8Array): number {
    return writeStampedRaw(out, at, this.stored as Uint8Array, plan, rv);
  }

  /** The stored value protobuf is derived from (undefined: encoders.protobuf is used). */
  storedValue(): Uint8Array | undefined {
    return this.stored;
  }

  /** Called by the cache when the object stops being current: releases pinned encodings. */
  release(): void {
    this.resident = false;
    if (this.pinned & PIN_JSON && this.json) this.pool.unpin(this.json.length);
    if (this.pinned & PIN_PROTO && this.proto) this.pool.unpin(this.proto.length);
    if (this.pinned & PIN_JSON) this.json = undefined;
    if (this.pinned & PIN_PROTO) this.proto = undefined;
    this.pinned = 0;
  }

  forgetRecent(encoding: Encoding): void {
    if (encoding === "json" && !(this.pinned & PIN_JSON)) this.json = undefined;
    if (encoding === "protobuf" && !(this.pinned & PIN_PROTO)) this.proto = undefined;
  }

  private compute(encoding: Encoding): Uint8Array {
    if (encoding === "protobuf" && this.stored !== undefined) {
      const plan = this.plan ?? (this.plan === null ? undefined : planStamp(this.stored));
      if (plan !== undefined) return stampEnvelope(this.stored, plan, String(this.revision));
    }
    return this.encoders[encoding](this.object);
  }

  /** Keeps `bytes` as a pinned memo when the object is resident and the budget allows. */
  private pin(encoding: Encoding, bytes: Uint8Array): boolean {
    // Protobuf derived from the stored value is cheap to redo: it never takes budget.
    if (!this.resident || (encoding === "protobuf" && this.stored !== undefined)) return false;
    if (!this.pool.tryPin(bytes.length)) return false;
    if (encoding === "json") {
      this.json = bytes;
      this.pinned |= PIN_JSON;
    } else {
      this.proto = bytes;
      this.pinned |= PIN_PROTO;
    }
    return true;
  }
}

/** The stored value when it can be the source of the protobuf encoding. */
function storedSource(value: Uint8Array | undefined): Uint8Array | undefined {
  return value !== undefined && value.length >= 4 && value[0] === 0x6b && value[1] === 0x38 && value[2] === 0x73 && value[3] === 0
    ? value
    : undefined;
}

/**
 * Wraps `obj` (which the caller hands over: it is mutated to carry `metadata.resourceVersion`
 * = `revision` and must not be changed afterwards). `stored` is the store value `obj` was decoded
 * from (kept by reference, never changed): when it is a `k8s\0` envelope, the protobuf encoding
 * is derived from it.
 */
export function makeCachedObject(
  key: string,
  obj: KubeObject,
  revision: number,
  fieldsOf: (obj: KubeObject) => Record<string, string>,
  encoders: Encoders,
  pool: MemoPool = new MemoPool(0, 1),
  stored?: Uint8Array,
): CachedObjectImpl {
  const meta = (obj.metadata ??= {});
  meta.resourceVersion = String(revision);
  return new CachedObjectImpl(
    key, meta.namespace ?? "", meta.name ?? "", obj, revision, meta.labels ?? EMPTY, fieldsOf(obj), encoders, pool,
    storedSource(stored),
  );
}

/**
 * Like `makeCachedObject` for a value whose identity, labels and field-selector attributes are
 * already known (the writer's hand-off, see handoff.ts): `decode` runs only when something needs
 * the object itself (JSON encodings, Tables, …). `decode` must return a fresh object of the value
 * `stored` holds (it is given resourceVersion = revision).
 */
export function makeLazyCachedObject(
  key: string,
  decode: () => KubeObject,
  revision: number,
  facts: { readonly namespace: string; readonly name: string; readonly labels: Readonly<Record<string, string>>; readonly fields: Readonly<Record<string, string>> },
  encoders: Encoders,
  pool: MemoPool = new MemoPool(0, 1),
  stored?: Uint8Array,
): CachedObjectImpl {
  return new CachedObjectImpl(key, facts.namespace, facts.name, decode, revision, facts.labels, facts.fields, encoders, pool,
    storedSource(stored));
}

/**
 * The same object state re-stamped with another revision (a DELETED event carries the last state
 * with the delete's revision). Shallow-copies the object and its metadata (when first needed);
 * fields, labels and the stored value are shared.
 */
export function restamp(obj: CachedObject, revision: number, encoders: Encoders, pool: MemoPool = new MemoPool(0, 1)): CachedObject {
  const copy = (): KubeObject => {
    const o = obj.object;
    return { ...o, metadata: { ...o.metadata, resourceVersion: String(revision) } };
  };
  const stored = obj instanceof CachedObjectImpl ? obj.storedValue() : undefined;
  return new CachedObjectImpl(obj.key, obj.namespace, obj.name, copy, revision, obj.labels, obj.fields, encoders, pool, stored);
}

/** ASCII bytes of a revision (for `writeProtoRaw`). */
export function revisionBytes(revision: number): Uint8Array {
  return ascii.encode(String(revision));
}
