/**
 * A store-backed `ResourceReader`: serves lists straight from the store and watches from a store
 * watch, with no cache. It is the stand-in used when no watch cache factory is configured, and the
 * behavioural reference the handlers are tested against. Encodings are memoized per object and
 * shared by every watcher of one event, as the watch cache does.
 */
import type { KubeObject } from "../api/object.ts";
import { ApiError, badRequest } from "../api/errors.ts";
import type { KeyValue, Store, WatchEvent as StoreEvent } from "../store/types.ts";
import { StoreError } from "../store/types.ts";
import type {
  CacheEvent, CacheWatch, CachedObject, Encoding, ListOptions, ListResult, WatchItem, WatchOptions,
} from "./watchcache/types.ts";
import type { ReaderSpec, ResourceReader } from "./ports.ts";

/** 410 with upstream's text for a compacted resourceVersion. */
export function tooOld(rv: string | number, oldest?: number): ApiError {
  return new ApiError(410, "Expired", oldest === undefined
    ? `too old resource version: ${rv}`
    : `too old resource version: ${rv} (${oldest})`);
}

export function makeCachedObject(spec: ReaderSpec, key: string, object: KubeObject, revision: number): CachedObject {
  const memo: Partial<Record<Encoding, Uint8Array>> = {};
  const meta = object.metadata ?? {};
  return {
    key,
    namespace: meta.namespace ?? "",
    name: meta.name ?? "",
    object,
    revision,
    labels: meta.labels ?? {},
    fields: spec.strategy.fields(object),
    encoded(encoding: Encoding): Uint8Array {
      let v = memo[encoding];
      if (v === undefined) {
        v = spec.encode(object, encoding);
        memo[encoding] = v;
      }
      return v;
    },
  };
}

function fromKv(spec: ReaderSpec, kv: KeyValue, rv: number): CachedObject {
  const obj = spec.decode(kv.value);
  obj.metadata = { ...(obj.metadata ?? {}), resourceVersion: String(rv) };
  return makeCachedObject(spec, kv.key, obj, rv);
}

interface ContinueToken {
  readonly rv: number;
  readonly start: string;
}

export function encodeContinue(t: ContinueToken): string {
  return Buffer.from(JSON.stringify({ v: "tugboat/v1", rv: t.rv, start: t.start })).toString("base64url");
}

export function decodeContinue(s: string): ContinueToken {
  try {
    const v = JSON.parse(Buffer.from(s, "base64url").toString("utf8")) as { v?: unknown; rv?: unknown; start?: unknown };
    if (v.v === "tugboat/v1" && typeof v.rv === "number" && typeof v.start === "string") return { rv: v.rv, start: v.start };
  } catch {
    // fall through
  }
  throw badRequest(`continue key is not valid: invalid continue token`);
}

function parseRv(rv: string): number {
  if (!/^[0-9]+$/.test(rv)) throw badRequest(`invalid resource version "${rv}"`);
  return Number(rv);
}

const PAGE = 500;
const MAX_PAGES = 100_000;

export function createStoreReader(store: Store, spec: ReaderSpec): ResourceReader {
  const watches = new Set<{ stop(): void }>();

  async function list(opts: ListOptions): Promise<ListResult> {
    let revision = 0;
    let start: string;
    const base = opts.filter.namespace ? `${spec.prefix}${opts.filter.namespace}/` : spec.prefix;
    if (opts.continueToken) {
      const t = decodeContinue(opts.continueToken);
      revision = t.rv;
      start = t.start;
      if (!start.startsWith(base)) throw badRequest("continue key is not valid: the continue token does not match the request");
    } else {
      start = base;
      if (opts.resourceVersion && opts.resourceVersion !== "0") {
        const want = parseRv(opts.resourceVersion);
        if (opts.resourceVersionMatch === "Exact") revision = want;
        else if (want > store.currentRevision()) {
          throw new ApiError(504, "Timeout", `Too large resource version: ${want}, current: ${store.currentRevision()}`, {
            causes: [{ reason: "ResourceVersionTooLarge", message: "Too large resource version" }],
            retryAfterSeconds: 1,
          });
        }
      }
    }
    const end = prefixEnd(base);
    const limit = opts.limit && opts.limit > 0 ? opts.limit : 0;
    const items: CachedObject[] = [];
    let snapshot = revision;
    let cursor = start;
    let more = false;
    let lastKey = "";
    for (let page = 0; page < MAX_PAGES; page++) {
      let r;
      try {
        r = await store.range({ key: cursor, end, limit: PAGE, ...(snapshot ? { revision: snapshot } : {}) });
      } catch (e) {
        if (e instanceof StoreError && e.code === "Compacted") {
          throw opts.continueToken
            ? new ApiError(410, "Expired", "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.")
            : tooOld(snapshot, store.compactedRevision());
        }
        if (e instanceof StoreError && e.code === "FutureRevision") throw tooOld(snapshot);
        throw e;
      }
      if (!snapshot) snapshot = r.revision;
      for (const kv of r.kvs) {
        if (limit && items.length >= limit) {
          more = true;
          break;
        }
        lastKey = kv.key;
        const obj = fromKv(spec, kv, kv.modRevision);
        if (opts.filter.matches(obj.labels, obj.fields)) items.push(obj);
      }
      if (more || !r.more) break;
      const last = r.kvs[r.kvs.length - 1];
      if (!last) break;
      cursor = last.key + "\0";
    }
    const out: { items: CachedObject[]; revision: number; continueToken?: string; remainingItemCount?: number } = {
      items, revision: snapshot,
    };
    if (more) out.continueToken = encodeContinue({ rv: snapshot, start: lastKey + "\0" });
    return out;
  }

  function watch(opts: WatchOptions): CacheWatch {
    const queue: WatchItem[] = [];
    let wake: (() => void) | undefined;
    let done = false;
    let error: Error | undefined;
    const bufferSize = opts.bufferSize ?? 10_000;
    let storeWatch: { cancel(): void } | undefined;

    const push = (item: WatchItem): void => {
      if (done) return;
      if (queue.length >= bufferSize) {
        error = new ApiError(410, "Expired", "the watcher fell too far behind and was closed; re-list and watch again");
        finish();
        return;
      }
      queue.push(item);
      wake?.();
    };
    const finish = (): void => {
      if (done) return;
      done = true;
      storeWatch?.cancel();
      watches.delete(handle);
      wake?.();
    };

    const rvOpt = opts.resourceVersion ?? "";
    const initial = rvOpt === "" || rvOpt === "0";
    if (!initial) {
      // Checked synchronously so that a watch that cannot start is an HTTP error, not a stream one.
      const rv = parseRv(rvOpt);
      if (rv < store.compactedRevision()) throw tooOld(rv, store.compactedRevision());
    }
    const onEvents = (events: readonly StoreEvent[], revision: number): void => {
      for (const ev of events) {
        try {
          const item = toCacheEvent(ev, revision);
          if (item) push(item);
        } catch (e) {
          error = e instanceof Error ? e : new Error(String(e));
          finish();
        }
      }
    };
    const toCacheEvent = (ev: StoreEvent, revision: number): CacheEvent | undefined => {
      const prev = ev.prevKv ? fromKv(spec, ev.prevKv, ev.prevKv.modRevision) : undefined;
      const ns = opts.filter.namespace;
      if (ev.type === "delete") {
        if (!prev) return undefined;
        const obj = makeCachedObject(spec, ev.kv.key, { ...prev.object, metadata: { ...prev.object.metadata, resourceVersion: String(revision) } }, revision);
        if (ns && obj.namespace !== ns) return undefined;
        return opts.filter.matches(obj.labels, obj.fields) ? { type: "DELETED", object: obj, prev, revision } : undefined;
      }
      const cur = fromKv(spec, ev.kv, revision);
      if (ns && cur.namespace !== ns) return undefined;
      const now = opts.filter.matches(cur.labels, cur.fields);
      const before = prev ? opts.filter.matches(prev.labels, prev.fields) : false;
      if (now && before && prev) return { type: "MODIFIED", object: cur, prev, revision };
      if (now) return { type: "ADDED", object: cur, revision };
      if (before && prev) {
        const gone = makeCachedObject(spec, ev.kv.key, cur.object, revision);
        return { type: "DELETED", object: gone, prev, revision };
      }
      return undefined;
    };

    const begin = async (): Promise<void> => {
      let from: number;
      if (initial) {
        const l = await list({ filter: opts.filter });
        for (const o of l.items) {
          push({ type: "ADDED", object: o, revision: o.revision });
        }
        from = l.revision + 1;
      } else {
        const rv = parseRv(rvOpt);
        if (rv < store.compactedRevision()) throw tooOld(rv, store.compactedRevision());
        from = rv + 1;
      }
      if (done) return;
      storeWatch = store.watch({ key: spec.prefix, prefix: true, startRevision: from }, {
        onEvents,
        onError: (e) => {
          error = e instanceof StoreError && e.code === "Compacted" ? tooOld(rvOpt) : e;
          finish();
        },
      });
      if (opts.allowBookmarks) {
        // A bookmark right away tells the client how far it has seen.
        push({ type: "BOOKMARK", revision: from - 1 });
      }
    };
    const started = begin().catch((e: unknown) => {
      error = e instanceof Error ? e : new Error(String(e));
      finish();
    });

    const handle: CacheWatch = {
      stop: finish,
      [Symbol.asyncIterator](): AsyncIterator<WatchItem> {
        return {
          next: async (): Promise<IteratorResult<WatchItem>> => {
            await started;
            for (;;) {
              const item = queue.shift();
              if (item) return { value: item, done: false };
              if (done) return { value: undefined, done: true };
              await new Promise<void>((r) => (wake = r));
              wake = undefined;
            }
          },
          return: async (): Promise<IteratorResult<WatchItem>> => {
            finish();
            return { value: undefined, done: true };
          },
        };
      },
    };
    // `error` is a live view of the watch's failure (CacheWatch declares it optional/readonly).
    Object.defineProperty(handle, "error", { get: () => error, enumerable: true });
    watches.add(handle);
    return handle;
  }

  return {
    list,
    watch,
    stop(): void {
      for (const w of [...watches]) w.stop();
    },
  };
}

/** The smallest key greater than every key with this prefix. */
export function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}
