/**
 * get and list. Gets read the store (a consistent read, like upstream without resourceVersion);
 * lists go through the resource's reader (watch cache) and are assembled from cached bytes.
 */
import { Readable } from "node:stream";
import { createGzip } from "node:zlib";
import { ApiError, badRequest, notFound } from "../../api/errors.ts";
import type { HttpResponse } from "../../transport/types.ts";
import { renderContext, type RequestContext } from "../context.ts";
import { baseHeaders, finish, renderList, renderObject } from "../respond.ts";
import { planStamp, stampEnvelope } from "../../api/codec/stamp.ts";
import { keyOf } from "../rest.ts";
import { jsonListChunks, protoListBody, protoListChunks, type ListHead } from "../watchcache/listbody.ts";
import type { CachedObject, ObjectFilter } from "../watchcache/types.ts";

const LIST_META = "k8s.io.apimachinery.pkg.apis.meta.v1.ListMeta";
/** Lists with at least this many items are streamed in chunks instead of built as one buffer. */
export const STREAM_LIST_ITEMS = 1000;
/** gzip level for streamed lists: kube-apiserver compresses responses at level 1 (cheapest). */
const STREAM_GZIP_LEVEL = 1;

export async function handleGet(ctx: RequestContext): Promise<HttpResponse> {
  const { res, info, core } = ctx;
  const kv = (await core.store.range({ key: keyOf(res, info.namespace, info.name) })).kvs[0];
  if (!kv) throw notFound(res.info.group, res.info.plural, info.name);
  const rc = renderContext(ctx);
  // A protobuf read of a built-in kind is the stored envelope with its resourceVersion stamped in:
  // no decode and re-encode (custom resources are stored as JSON; converted ones change on read).
  if (rc.neg.serialization === "protobuf" && rc.neg.shape.kind === "object" && res.custom !== true && !res.convert) {
    const plan = planStamp(kv.value);
    if (plan) {
      const body = stampEnvelope(kv.value, plan, String(kv.modRevision));
      return finish(200, baseHeaders(rc.neg.contentType, rc.warnings), body, rc.acceptEncoding);
    }
  }
  const cur = core.codec.fromKv(kv);
  return renderObject(200, res.convert ? res.convert(cur.object) : cur.object, rc);
}

export function filterOf(ctx: RequestContext): ObjectFilter {
  const q = ctx.req.query;
  return ctx.core.filters({
    ...(ctx.info.namespace ? { namespace: ctx.info.namespace } : {}),
    ...(q.get("labelSelector") ? { labelSelector: q.get("labelSelector") as string } : {}),
    ...(q.get("fieldSelector") ? { fieldSelector: q.get("fieldSelector") as string } : {}),
    supportedFields: ctx.res.supportedFields,
    indexFields: ctx.res.indexFields,
  });
}

export function limitOf(q: URLSearchParams): number {
  const v = q.get("limit");
  if (v === null || v === "") return 0;
  if (!/^-?[0-9]+$/.test(v)) throw badRequest(`invalid limit "${v}": must be an integer`);
  const n = Number(v);
  return n > 0 ? n : 0;
}

export function rvMatchOf(q: URLSearchParams): "NotOlderThan" | "Exact" | undefined {
  const v = q.get("resourceVersionMatch");
  if (v === null || v === "") return undefined;
  if (v !== "NotOlderThan" && v !== "Exact") {
    throw new ApiError(422, "Invalid", `resourceVersionMatch: Unsupported value: "${v}": supported values: "Exact", "NotOlderThan"`);
  }
  const rv = q.get("resourceVersion");
  if (!rv) throw new ApiError(422, "Invalid", `resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided`);
  return v;
}

export async function handleList(ctx: RequestContext): Promise<HttpResponse> {
  const q = ctx.req.query;
  const cont = q.get("continue") ?? "";
  const rv = q.get("resourceVersion") ?? "";
  if (cont && rv && rv !== "0") throw badRequest("specifying resource version is not allowed when using continue");
  const match = rvMatchOf(q);
  const limit = limitOf(q);
  const reader = ctx.core.readerFor(ctx.res);
  const list = await reader.list({
    filter: filterOf(ctx),
    ...(limit ? { limit } : {}),
    ...(cont ? { continueToken: cont } : {}),
    resourceVersion: rv,
    ...(match ? { resourceVersionMatch: match } : {}),
  });
  const meta: { resourceVersion: string; continue?: string; remainingItemCount?: number } = { resourceVersion: String(list.revision) };
  if (list.continueToken) meta.continue = list.continueToken;
  if (list.remainingItemCount !== undefined) meta.remainingItemCount = list.remainingItemCount;
  const head: ListHead = { apiVersion: ctx.res.apiVersion, listKind: ctx.res.info.listKind, meta };
  return listResponse(ctx, head, list.items) ??
    renderList({ apiVersion: ctx.res.apiVersion, listKind: ctx.res.info.listKind, meta, items: list.items }, renderContext(ctx));
}

// Mirrors respond.ts (headers and the Accept-Encoding test) for the responses built here.
function listHeaders(ctx: RequestContext): Record<string, string> {
  const h: Record<string, string> = { "content-type": ctx.neg.contentType, "cache-control": "no-cache, private" };
  if (ctx.warnings.length > 0) h["warning"] = ctx.warnings.map((w) => `299 - ${JSON.stringify(w)}`).join(", ");
  return h;
}

function acceptsGzip(acceptEncoding: string | undefined): boolean {
  return acceptEncoding !== undefined && /(^|,)\s*gzip\s*(;\s*q=(0?\.0*[1-9]|1)[0-9.]*)?\s*(,|$)/i.test(acceptEncoding);
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array;
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

async function* streamOf(chunks: Iterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  for (const c of chunks) yield c;
}

/** gzip of a chunk stream, pulled as the consumer reads (stops the producer when abandoned). */
async function* gzipStream(chunks: Iterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const src = Readable.from(chunks);
  const z = createGzip({ level: STREAM_GZIP_LEVEL });
  src.on("error", (e) => z.destroy(e));
  src.pipe(z);
  try {
    for await (const c of z) yield c as Uint8Array;
  } finally {
    src.destroy();
    z.destroy();
  }
}

/**
 * JSON and protobuf lists of whole objects, assembled from the items' cached encodings
 * (watchcache/listbody.ts). Large lists are streamed in ~1 MiB chunks (gzip-compressed on the fly
 * when accepted); small ones are one buffer, as `renderList` makes them. Other shapes and
 * encodings (Table, PartialObjectMetadata, YAML): undefined.
 */
export function listResponse(ctx: RequestContext, head: ListHead, items: readonly CachedObject[]): HttpResponse | undefined {
  const neg = ctx.neg;
  if (neg.shape.kind !== "object") return undefined;
  let chunks: () => Iterable<Uint8Array>;
  let whole: () => Uint8Array;
  if (neg.serialization === "json") {
    chunks = () => jsonListChunks(head, items);
    whole = () => concat([...jsonListChunks(head, items)]);
  } else if (neg.serialization === "protobuf" && ctx.core.codec.raw?.encodeMessage) {
    const listMeta = ctx.core.codec.raw.encodeMessage(LIST_META, head.meta);
    chunks = () => protoListChunks(head, listMeta, items);
    whole = () => protoListBody(head, listMeta, items);
  } else {
    return undefined;
  }
  const headers = listHeaders(ctx);
  const acceptEncoding = ctx.req.headers["accept-encoding"];
  if (items.length < STREAM_LIST_ITEMS) return finish(200, headers, whole(), acceptEncoding);
  if (acceptsGzip(acceptEncoding)) {
    return { status: 200, headers: { ...headers, "content-encoding": "gzip", vary: "Accept-Encoding" }, body: gzipStream(chunks()) };
  }
  return { status: 200, headers, body: streamOf(chunks()) };
}
