/**
 * get and list. Gets read the store (a consistent read, like upstream without resourceVersion);
 * lists go through the resource's reader (watch cache) and are assembled from cached bytes.
 */
import { ApiError, badRequest, notFound } from "../../api/errors.ts";
import type { HttpResponse } from "../../transport/types.ts";
import { renderContext, type RequestContext } from "../context.ts";
import { renderList, renderObject } from "../respond.ts";
import { keyOf } from "../rest.ts";
import { readObject } from "../storage.ts";
import type { ObjectFilter } from "../watchcache/types.ts";

export async function handleGet(ctx: RequestContext): Promise<HttpResponse> {
  const { res, info, core } = ctx;
  const cur = await readObject(core.store, core.codec, keyOf(res, info.namespace, info.name));
  if (!cur) throw notFound(res.info.group, res.info.plural, info.name);
  return renderObject(200, cur.object, renderContext(ctx));
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
  return renderList({ apiVersion: ctx.res.apiVersion, listKind: ctx.res.info.listKind, meta, items: list.items }, renderContext(ctx));
}
