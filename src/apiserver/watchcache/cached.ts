/**
 * CachedObject: a decoded object plus its memoized encodings. One instance is shared by the cache,
 * every list response and every watcher, so each encoding is computed at most once per object
 * version.
 */
import type { KubeObject } from "../../api/object.ts";
import type { CachedObject, Encoding } from "./types.ts";

export type Encoders = Readonly<Record<Encoding, (obj: KubeObject) => Uint8Array>>;

const EMPTY: Readonly<Record<string, string>> = Object.freeze({});

class CachedObjectImpl implements CachedObject {
  private json: Uint8Array | undefined;
  private proto: Uint8Array | undefined;

  constructor(
    readonly key: string,
    readonly namespace: string,
    readonly name: string,
    readonly object: KubeObject,
    readonly revision: number,
    readonly labels: Readonly<Record<string, string>>,
    readonly fields: Readonly<Record<string, string>>,
    private readonly encoders: Encoders,
  ) {}

  encoded(encoding: Encoding): Uint8Array {
    if (encoding === "json") return (this.json ??= this.encoders.json(this.object));
    return (this.proto ??= this.encoders.protobuf(this.object));
  }
}

/**
 * Wraps `obj` (which the caller hands over: it is mutated to carry `metadata.resourceVersion`
 * = `revision` and must not be changed afterwards).
 */
export function makeCachedObject(
  key: string,
  obj: KubeObject,
  revision: number,
  fieldsOf: (obj: KubeObject) => Record<string, string>,
  encoders: Encoders,
): CachedObject {
  const meta = (obj.metadata ??= {});
  meta.resourceVersion = String(revision);
  return new CachedObjectImpl(
    key, meta.namespace ?? "", meta.name ?? "", obj, revision, meta.labels ?? EMPTY, fieldsOf(obj), encoders,
  );
}

/**
 * The same object state re-stamped with another revision (a DELETED event carries the last state
 * with the delete's revision). Shallow-copies the object and its metadata; fields and labels are
 * shared.
 */
export function restamp(obj: CachedObject, revision: number, encoders: Encoders): CachedObject {
  const copy: KubeObject = { ...obj.object, metadata: { ...obj.object.metadata, resourceVersion: String(revision) } };
  return new CachedObjectImpl(obj.key, obj.namespace, obj.name, copy, revision, obj.labels, obj.fields, encoders);
}
