/**
 * watch: a streaming response of JSON lines (`{"type":…,"object":…}\n`, object bytes taken from
 * the shared `CachedObject.encoded("json")`), or length-framed protobuf WatchEvents, or one-row
 * Tables (column definitions on the first event only). Ends at `timeoutSeconds` (server default:
 * random 30–60 min), when the client goes away, or with an in-stream ERROR when the cache cuts the
 * watcher off (410 Expired). A watch that cannot start is an HTTP error.
 */
import { randomInt } from "node:crypto";
import { ApiError, badRequest, type Status } from "../../api/errors.ts";
import type { KubeObject } from "../../api/object.ts";
import type { HttpResponse } from "../../transport/types.ts";
import type { RequestContext } from "../context.ts";
import { buildTable, partialObjectMetadata } from "../table.ts";
import type { CachedObject, WatchItem } from "../watchcache/types.ts";
import { filterOf } from "./read.ts";

const enc = new TextEncoder();
const MAX_TIMEOUT_SECONDS = 7 * 24 * 3600;

export function timeoutOf(q: URLSearchParams): number {
  const v = q.get("timeoutSeconds");
  if (v !== null && v !== "" && !/^[0-9]+$/.test(v)) throw badRequest(`invalid timeoutSeconds "${v}": must be a non-negative integer`);
  const n = v === null || v === "" ? 0 : Number(v);
  // 0 or absent: the server default, randomised so watches do not all restart together.
  if (n === 0) return 1800 + randomInt(1800);
  return Math.min(n, MAX_TIMEOUT_SECONDS);
}

function concat(a: Uint8Array, b: Uint8Array, c: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length + c.length);
  out.set(a, 0);
  out.set(b, a.length);
  out.set(c, a.length + b.length);
  return out;
}

/** `{"type":"<TYPE>","object":` per event type, encoded once. */
const jsonHeads = new Map<string, Uint8Array>();
const JSON_TAIL = enc.encode("}\n");

function jsonHead(type: string): Uint8Array {
  let h = jsonHeads.get(type);
  if (h === undefined) {
    h = enc.encode(`{"type":${JSON.stringify(type)},"object":`);
    jsonHeads.set(type, h);
  }
  return h;
}

/**
 * The last framed object event. A change is fanned out to every watcher of the resource in turn
 * with the same `CachedObject`, so watchers after the first reuse these bytes (read-only) instead
 * of each building its own copy of the frame.
 */
let lastFrame: { object: CachedObject; type: string; protobuf: boolean; bytes: Uint8Array } | undefined;

function statusOf(err: Error): Status {
  if (err instanceof ApiError) return err.status;
  return new ApiError(500, "InternalError", `Internal error occurred: ${err.message}`).status;
}

export async function handleWatch(ctx: RequestContext): Promise<HttpResponse> {
  const q = ctx.req.query;
  const timeout = timeoutOf(q);
  const filter = filterOf(ctx);
  const rv = q.get("resourceVersion") ?? "";
  const reader = ctx.core.readerFor(ctx.res);
  // A watch that cannot start (too old resourceVersion, bad input) throws here -> HTTP error.
  const watch = reader.watch({ filter, resourceVersion: rv, allowBookmarks: q.get("allowWatchBookmarks") === "true" });
  const { core, res, neg } = ctx;
  const protobuf = neg.serialization === "protobuf";
  const shape = neg.shape;
  let first = true;
  const group = res.info.group;
  const kind = res.info.kind;

  const objectBytes = (o: CachedObject): Uint8Array => {
    if (shape.kind === "Table") {
      const t = buildTable(res.strategy.table, [o.object], { resourceVersion: String(o.revision) }, {
        version: shape.version, include: ctx.include, now: core.now(), noHeaders: !first,
      });
      first = false;
      return enc.encode(JSON.stringify(t));
    }
    if (shape.kind === "PartialObjectMetadata") return enc.encode(JSON.stringify(partialObjectMetadata(o.object, shape.version)));
    return o.encoded(protobuf ? "protobuf" : "json");
  };
  const plainBytes = (obj: KubeObject): Uint8Array => (protobuf ? core.codec.encodeWire(obj, "protobuf") : enc.encode(JSON.stringify(obj)));
  const frame = (type: string, body: Uint8Array): Uint8Array => {
    if (protobuf) return core.codec.encodeWatchEvent(type, body);
    return concat(jsonHead(type), body, JSON_TAIL);
  };
  const encodeItem = (item: WatchItem): Uint8Array => {
    if (item.type === "BOOKMARK") {
      const bm: KubeObject = shape.kind === "Table"
        ? { kind: "Table", apiVersion: `meta.k8s.io/${shape.version}`, metadata: { resourceVersion: String(item.revision) }, columnDefinitions: [], rows: [] }
        : { kind, apiVersion: res.apiVersion, metadata: { resourceVersion: String(item.revision) } };
      return frame("BOOKMARK", plainBytes(bm));
    }
    if (shape.kind !== "object") return frame(item.type, objectBytes(item.object));
    const m = lastFrame;
    if (m !== undefined && m.object === item.object && m.type === item.type && m.protobuf === protobuf) return m.bytes;
    const bytes = frame(item.type, objectBytes(item.object));
    lastFrame = { object: item.object, type: item.type, protobuf, bytes };
    return bytes;
  };
  const encodeError = (err: Error): Uint8Array => {
    const st = statusOf(err) as unknown as KubeObject;
    let body: Uint8Array;
    try {
      body = plainBytes(st);
    } catch {
      body = enc.encode(JSON.stringify(st));
    }
    return frame("ERROR", body);
  };

  // Timeout and client abort end the watch with stop(), which also ends a pending next() (both
  // readers, watch cache and store, resolve waiting next() calls as done when stopped). No
  // per-event race against a long-lived promise: that would pile up reactions for the watch's life.
  async function* stream(): AsyncGenerator<Uint8Array> {
    core.metrics.watcher(group, kind, 1);
    const stop = (): void => watch.stop();
    const timer = setTimeout(stop, timeout * 1000);
    const signal = ctx.req.signal;
    signal.addEventListener("abort", stop, { once: true });
    if (signal.aborted) watch.stop();
    const it = watch[Symbol.asyncIterator]();
    try {
      for (;;) {
        const r = await it.next();
        if (r.done) break;
        yield encodeItem(r.value);
        core.metrics.watchEventSent(group, kind);
      }
      if (watch.error) yield encodeError(watch.error);
    } finally {
      clearTimeout(timer);
      signal.removeEventListener("abort", stop);
      watch.stop();
      void it.return?.();
      core.metrics.watcher(group, kind, -1);
    }
  }
  // The body's return() stops the watch even when iteration never started (the transport calls it
  // for a client that left before the response began; a generator's finally would not run then).
  const body: AsyncIterable<Uint8Array> = {
    [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
      const g = stream();
      return {
        next: () => g.next(),
        return: (v?: unknown) => {
          watch.stop();
          return g.return(v as undefined);
        },
      };
    },
  };
  return {
    status: 200,
    headers: {
      // YAML has no watch framing upstream either: such watches stream JSON.
      "content-type": protobuf ? "application/vnd.kubernetes.protobuf;stream=watch" : neg.serialization === "yaml" ? "application/json" : neg.contentType,
      "cache-control": "no-cache, private",
    },
    body,
  };
}
