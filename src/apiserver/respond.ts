/**
 * Response rendering: objects, lists (assembled from cached per-object bytes), Tables, partial
 * metadata and Status errors in the negotiated encoding, with gzip for large bodies.
 */
import { gzipSync } from "node:zlib";
import { stringify as toYaml } from "yaml";
import type { ApiError, Status } from "../api/errors.ts";
import type { KubeObject, ObjectMetaLike } from "../api/object.ts";
import type { HttpResponse } from "../transport/types.ts";
import { JSON_TYPE, PROTOBUF_TYPE, YAML_TYPE, type Negotiated } from "./negotiate.ts";
import type { ObjectCodec } from "./storage.ts";
import { encodeProtoList } from "./protolist.ts";
import type { CachedObject } from "./watchcache/types.ts";
import { buildTable, partialObjectMetadata, type IncludeObject, type ListMetaLike } from "./table.ts";
import type { TablePrinter } from "./registry/strategy.ts";

const enc = new TextEncoder();
const LIST_META = "k8s.io.apimachinery.pkg.apis.meta.v1.ListMeta";

/** Bodies above this are gzip-compressed when the client accepts gzip (upstream: 128 KiB). */
export const GZIP_THRESHOLD = 128 * 1024;
/**
 * zlib level for response compression. Upstream uses 1 (least CPU; sizes typically within
 * 1.1-1.3x of higher levels): Node's default (6) costs several times the CPU on list bodies.
 */
export const GZIP_LEVEL = 1;

export interface RenderContext {
  readonly neg: Negotiated;
  readonly codec: ObjectCodec;
  readonly acceptEncoding: string | undefined;
  readonly printer: TablePrinter;
  readonly include: IncludeObject;
  readonly now: Date;
  readonly warnings: readonly string[];
}

export function baseHeaders(contentType: string, warnings: readonly string[]): Record<string, string> {
  const h: Record<string, string> = { "content-type": contentType, "cache-control": "no-cache, private" };
  if (warnings.length > 0) h["warning"] = warnings.map((w) => `299 - ${JSON.stringify(w)}`).join(", ");
  return h;
}

function acceptsGzip(acceptEncoding: string | undefined): boolean {
  return acceptEncoding !== undefined && /(^|,)\s*gzip\s*(;\s*q=(0?\.0*[1-9]|1)[0-9.]*)?\s*(,|$)/i.test(acceptEncoding);
}

/** Builds a response, compressing large bodies when the client accepts gzip. */
export function finish(status: number, headers: Record<string, string>, body: Uint8Array, acceptEncoding: string | undefined): HttpResponse {
  if (body.length > GZIP_THRESHOLD && acceptsGzip(acceptEncoding)) {
    return { status, headers: { ...headers, "content-encoding": "gzip", vary: "Accept-Encoding" }, body: gzipSync(body, { level: GZIP_LEVEL }) };
  }
  return { status, headers, body };
}

/** Serializes a plain object value in JSON or YAML (protobuf goes through the codec). */
function serialize(obj: unknown, neg: Negotiated, codec: ObjectCodec): Uint8Array {
  switch (neg.serialization) {
    case "yaml":
      return enc.encode(toYaml(obj));
    case "protobuf":
      return codec.encodeWire(obj as KubeObject, "protobuf");
    default:
      return enc.encode(JSON.stringify(obj));
  }
}

/** A single object (create/get/update/patch/delete results, subresources). */
export function renderObject(status: number, obj: KubeObject, ctx: RenderContext): HttpResponse {
  let body: Uint8Array;
  const shape = ctx.neg.shape;
  if (shape.kind === "Table") {
    const meta: ListMetaLike = obj.metadata?.resourceVersion ? { resourceVersion: obj.metadata.resourceVersion } : {};
    body = enc.encode(JSON.stringify(buildTable(ctx.printer, [obj], meta, { version: shape.version, include: ctx.include, now: ctx.now })));
  } else if (shape.kind === "PartialObjectMetadata") {
    body = enc.encode(JSON.stringify(partialObjectMetadata(obj, shape.version)));
  } else {
    body = serialize(obj, ctx.neg, ctx.codec);
  }
  return finish(status, baseHeaders(ctx.neg.contentType, ctx.warnings), body, ctx.acceptEncoding);
}

export interface ListShape {
  readonly apiVersion: string;
  readonly listKind: string;
  readonly meta: ListMetaLike;
  readonly items: readonly CachedObject[];
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A list, assembled from each item's cached encoding where the format allows. */
export function renderList(list: ListShape, ctx: RenderContext): HttpResponse {
  const shape = ctx.neg.shape;
  let body: Uint8Array;
  if (shape.kind === "Table") {
    body = enc.encode(JSON.stringify(buildTable(ctx.printer, list.items.map((i) => i.object), list.meta, {
      version: shape.version, include: ctx.include, now: ctx.now,
    })));
  } else if (shape.kind === "PartialObjectMetadata") {
    body = enc.encode(JSON.stringify({
      kind: "PartialObjectMetadataList", apiVersion: `meta.k8s.io/${shape.version}`, metadata: list.meta,
      items: list.items.map((i) => partialObjectMetadata(i.object, shape.version)),
    }));
  } else if (ctx.neg.serialization === "json") {
    const head = enc.encode(`{"kind":${JSON.stringify(list.listKind)},"apiVersion":${JSON.stringify(list.apiVersion)},"metadata":${JSON.stringify(list.meta)},"items":[`);
    const parts: Uint8Array[] = [head];
    const comma = enc.encode(",");
    list.items.forEach((it, i) => {
      if (i > 0) parts.push(comma);
      parts.push(it.encoded("json"));
    });
    parts.push(enc.encode("]}"));
    body = concat(parts);
  } else if (ctx.neg.serialization === "protobuf" && ctx.codec.raw?.encodeMessage) {
    // Items' cached protobuf bytes are spliced into the List message without re-encoding.
    const meta = ctx.codec.raw.encodeMessage(LIST_META, list.meta);
    body = encodeProtoList(list.apiVersion, list.listKind, meta, list.items.map((i) => i.encoded("protobuf")));
  } else {
    const obj: KubeObject = {
      kind: list.listKind, apiVersion: list.apiVersion, metadata: list.meta as ObjectMetaLike,
      items: list.items.map((i) => i.object),
    };
    body = serialize(obj, ctx.neg, ctx.codec);
  }
  return finish(200, baseHeaders(ctx.neg.contentType, ctx.warnings), body, ctx.acceptEncoding);
}

/**
 * An error Status. Rendered as YAML or protobuf only when that was negotiated and possible;
 * otherwise JSON.
 */
export function renderStatus(err: ApiError | Status, neg: Negotiated | undefined, codec: ObjectCodec | undefined): HttpResponse {
  const status = "status" in err && typeof err.status === "object" ? err.status : (err as Status);
  let contentType = JSON_TYPE;
  let body: Uint8Array | undefined;
  if (neg?.serialization === "yaml") {
    contentType = YAML_TYPE;
    body = enc.encode(toYaml(status));
  } else if (neg?.serialization === "protobuf" && codec?.protobuf("v1", "Status")) {
    try {
      body = codec.encodeWire(status as unknown as KubeObject, "protobuf");
      contentType = PROTOBUF_TYPE;
    } catch {
      body = undefined;
    }
  }
  if (body === undefined) {
    contentType = JSON_TYPE;
    body = enc.encode(JSON.stringify(status));
  }
  return { status: status.code, headers: { "content-type": contentType, "cache-control": "no-cache, private" }, body };
}

/** A plain JSON document (discovery, version, ...). */
export function renderJson(status: number, value: unknown, contentType = JSON_TYPE, acceptEncoding?: string): HttpResponse {
  return finish(status, { "content-type": contentType, "cache-control": "no-cache, private" }, enc.encode(JSON.stringify(value)), acceptEncoding);
}
