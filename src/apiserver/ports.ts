/**
 * What the apiserver core needs from its neighbours, as narrow ports. `server.ts` wires the real
 * modules (kind registry, codec, strategies, watch cache, selectors); tests may pass doubles.
 */
import type { KubeObject } from "../api/object.ts";
import type { ResourceStrategy } from "./registry/strategy.ts";
import type {
  CacheWatch, ListOptions, ListResult, ObjectFilter, WatchOptions,
} from "./watchcache/types.ts";
import type { MergeKeyLookup } from "./patch/strategic.ts";

/** One served resource (structurally the kind registry's KindInfo). */
export interface KindInfo {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly listKind: string;
  readonly plural: string;
  readonly singular: string;
  readonly namespaced: boolean;
  readonly shortNames: readonly string[];
  readonly categories: readonly string[];
  /** Subresource names served besides the main resource (`status`, `scale`, `log`, ...). */
  readonly subresources: readonly string[];
  /** Fully qualified proto message name; absent: no protobuf encoding for this kind. */
  readonly protoMessage?: string | undefined;
}

/** The Kubernetes protobuf codec (src/api/codec). */
export interface Codec {
  /** `k8s\0` + runtime.Unknown. Throws for kinds without a proto message. */
  encodeObject(obj: KubeObject): Uint8Array;
  /** Throws ApiError 400 on bad input. */
  decodeObject(bytes: Uint8Array): KubeObject;
  /** 4-byte big-endian length + metav1.WatchEvent{type, object.raw = `object`}. */
  encodeWatchEvent(type: string, object: Uint8Array): Uint8Array;
  hasProto(apiVersion: string, kind: string): boolean;
  /** Encodes one message without envelope (used for ListMeta when assembling protobuf lists). */
  encodeMessage?(fqMessageName: string, obj: object): Uint8Array;
}

/** Read side of one resource: the watch cache (or a store-backed stand-in). */
export interface ResourceReader {
  list(opts: ListOptions): Promise<ListResult>;
  watch(opts: WatchOptions): CacheWatch;
  /** Releases the store watch and all watchers. */
  stop(): void;
}

/** Everything `createReader` needs to build the read side of one resource. */
export interface ReaderSpec {
  readonly info: KindInfo;
  /** Store key prefix with a trailing slash, e.g. `/registry/pods/`. */
  readonly prefix: string;
  readonly strategy: ResourceStrategy;
  /** Decodes a stored value (resourceVersion is set from the kv by the reader). */
  readonly decode: (value: Uint8Array) => KubeObject;
  /** Encodes an object for the wire. */
  readonly encode: (obj: KubeObject, encoding: "json" | "protobuf") => Uint8Array;
}

/** Label + field selector parsing (src/api/selectors). Throws ApiError 400 on bad syntax. */
export type FilterFactory = (opts: {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Field names the kind supports in field selectors. */
  supportedFields: readonly string[];
  /** Fields the reader indexes: a selector pinning one becomes the filter's indexHint. */
  indexFields?: readonly string[];
}) => ObjectFilter;

/** Unknown-field walker of the generated schema: dotted paths like `spec.foo`. */
export type UnknownFieldWalker = (obj: KubeObject) => string[];

export interface SchemaHooks {
  /** Unknown fields of `obj` (of the given kind); absent: no strict checking for the kind. */
  unknownFields?(apiVersion: string, kind: string, obj: KubeObject): string[];
  /** The first field whose JSON type does not match the schema (`spec.replicas: expected int32 ...`). */
  typeError?(apiVersion: string, kind: string, obj: KubeObject): string | undefined;
  /** Strategic-merge metadata of the kind; absent: lists replace (plain merge). */
  mergeKeys?(apiVersion: string, kind: string): MergeKeyLookup | undefined;
}
