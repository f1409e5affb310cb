import { afterEach, describe, expect, it } from "vitest";
import { ApiError } from "../../api/errors.ts";
import type { KubeObject } from "../../api/object.ts";
import { buildObjectFilter, matchAll } from "../../api/selectors/filter.ts";
import { createMemoryStore } from "../../store/memory.ts";
import type { KeyValue, Store, WatchHandlers, WatchOptions as StoreWatchOptions } from "../../store/types.ts";
import { createWatchCache, type WatchCache, type WatchCacheOptions } from "./cache.ts";
import { decodeContinue } from "./continue.ts";
import type { CacheWatch, ObjectFilter, WatchItem } from "./types.ts";

const PREFIX = "/registry/pods/";
const POD_FIELDS = ["metadata.name", "metadata.namespace", "spec.nodeName", "status.phase"];
const enc = new TextEncoder();
const dec = new TextDecoder();

interface Pod extends KubeObject {
  spec?: { nodeName?: string };
  status?: { phase?: string };
}

function pod(ns: string, name: string, opts: { labels?: Record<string, string>; node?: string; phase?: string } = {}): Pod {
  return {
    apiVersion: "v1", kind: "Pod",
    metadata: { namespace: ns, name, ...(opts.labels ? { labels: opts.labels } : {}) },
    spec: opts.node !== undefined ? { nodeName: opts.node } : {},
    status: { phase: opts.phase ?? "Pending" },
  };
}

async function put(store: Store, p: Pod): Promise<number> {
  return store.put(`${PREFIX}${p.metadata?.namespace}/${p.metadata?.name}`, enc.encode(JSON.stringify(p)));
}

const counts = { json: 0, protobuf: 0 };
function options(store: Store, extra: Partial<WatchCacheOptions> = {}): WatchCacheOptions {
  return {
    store, prefix: PREFIX,
    decode: (kv: KeyValue) => JSON.parse(dec.decode(kv.value)) as KubeObject,
    fields: (o: KubeObject) => {
      const p = o as Pod;
      return {
        "metadata.name": p.metadata?.name ?? "", "metadata.namespace": p.metadata?.namespace ?? "",
        "spec.nodeName": p.spec?.nodeName ?? "", "status.phase": p.status?.phase ?? "",
      };
    },
    encoders: {
      json: (o) => { counts.json++; return enc.encode(JSON.stringify(o)); },
      protobuf: (o) => { counts.protobuf++; return enc.encode(`k8s\0${JSON.stringify(o)}`); },
    },
    indexFields: ["spec.nodeName"],
    bookmarkIntervalMs: 0,
    freshnessTimeoutMs: 300,
    ...extra,
  };
}

const caches: WatchCache[] = [];
async function started(store: Store, extra: Partial<WatchCacheOptions> = {}): Promise<WatchCache> {
  const c = createWatchCache(options(store, extra));
  caches.push(c);
  await c.start();
  return c;
}
afterEach(() => { for (const c of caches.splice(0)) c.stop(); });

const filter = (spec: { ns?: string; labels?: string; fields?: string } = {}): ObjectFilter =>
  buildObjectFilter({
    ...(spec.ns ? { namespace: spec.ns } : {}),
    ...(spec.labels ? { labelSelector: spec.labels } : {}),
    ...(spec.fields ? { fieldSelector: spec.fields } : {}),
    supportedFields: POD_FIELDS, indexFields: ["spec.nodeName"],
  });

/** One consumer per watch: keeps a pending next() across calls so no item is lost. */
const readers = new WeakMap<CacheWatch, { it: AsyncIterator<WatchItem>; pending?: Promise<IteratorResult<WatchItem>> | undefined }>();
async function nextWithin(w: CacheWatch, ms: number): Promise<IteratorResult<WatchItem> | "timeout"> {
  let r = readers.get(w);
  if (!r) readers.set(w, (r = { it: w[Symbol.asyncIterator]() }));
  const p = (r.pending ??= r.it.next());
  let timer: ReturnType<typeof setTimeout> | undefined;
  const out = await Promise.race([p, new Promise<"timeout">((res) => { timer = setTimeout(() => res("timeout"), ms); })]);
  clearTimeout(timer);
  if (out !== "timeout") r.pending = undefined;
  return out;
}

/** Reads `n` items (bounded by time). */
async function take(w: CacheWatch, n: number, ms = 2000): Promise<WatchItem[]> {
  const out: WatchItem[] = [];
  const deadline = Date.now() + ms;
  while (out.length < n) {
    const r = await nextWithin(w, Math.max(1, deadline - Date.now()));
    if (r === "timeout") throw new Error(`timed out after ${out.length}/${n} items`);
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

/** Items arriving within `ms` (expected: none). */
async function within(w: CacheWatch, ms: number): Promise<WatchItem[]> {
  const r = await nextWithin(w, ms);
  return r === "timeout" || r.done ? [] : [r.value];
}

/** Waits until the watch ends; returns items seen. */
async function drain(w: CacheWatch, ms = 2000): Promise<WatchItem[]> {
  const out: WatchItem[] = [];
  const deadline = Date.now() + ms;
  for (;;) {
    const r = await nextWithin(w, Math.max(1, deadline - Date.now()));
    if (r === "timeout") throw new Error("watch did not end");
    if (r.done) return out;
    out.push(r.value);
  }
}

const names = (items: readonly { name: string }[]): string[] => items.map((i) => i.name);
const evNames = (items: readonly WatchItem[]): string[] => items.map((i) => (i.type === "BOOKMARK" ? "BOOKMARK" : i.object.name));
const summary = (items: WatchItem[]): string[] =>
  items.map((i) => (i.type === "BOOKMARK" ? `BOOKMARK@${i.revision}` : `${i.type} ${i.object.name}@${i.revision}`));
const tick = () => new Promise((r) => setTimeout(r, 5));

async function caught(p: Promise<unknown>): Promise<ApiError> {
  try { await p; } catch (e) { expect(e).toBeInstanceOf(ApiError); return e as ApiError; }
  throw new Error("expected an ApiError");
}

describe("start, get, list", () => {
  it("loads the prefix and ignores other resources", async () => {
    const store = createMemoryStore();
    await put(store, pod("default", "b"));
    await put(store, pod("default", "a"));
    await store.put("/registry/services/default/x", enc.encode("{}"));
    const c = await started(store);
    expect(c.revision()).toBe(store.currentRevision());
    expect(c.get("default", "a")?.object.metadata?.resourceVersion).toBe("3");
    expect(c.get("default", "zz")).toBeUndefined();
    const l = await c.list({ filter: matchAll() });
    expect(names(l.items)).toEqual(["a", "b"]);
    expect(c.stats().objects).toBe(2);
  });

  it("serves key order, namespaces, label and field selectors", async () => {
    const store = createMemoryStore();
    const c = await started(store);
    await put(store, pod("ns2", "x", { labels: { app: "web" }, node: "n1", phase: "Running" }));
    await put(store, pod("ns1", "y", { labels: { app: "db" }, node: "n2" }));
    await put(store, pod("ns1", "a", { labels: { app: "web" }, node: "n1" }));
    await put(store, pod("ns10", "q"));
    expect(names((await c.list({ filter: matchAll() })).items)).toEqual(["a", "y", "q", "x"]);
    expect(names((await c.list({ filter: filter({ ns: "ns1" }) })).items)).toEqual(["a", "y"]);
    expect(names((await c.list({ filter: filter({ labels: "app=web" }) })).items)).toEqual(["a", "x"]);
    expect(names((await c.list({ filter: filter({ fields: "spec.nodeName=n1" }) })).items)).toEqual(["a", "x"]);
    expect(names((await c.list({ filter: filter({ fields: "spec.nodeName=n1", ns: "ns2" }) })).items)).toEqual(["x"]);
    expect(names((await c.list({ filter: filter({ fields: "status.phase!=Running" }) })).items)).toEqual(["a", "y", "q"]);
    expect(names((await c.list({ filter: filter({ fields: "spec.nodeName=" }) })).items)).toEqual(["q"]);
  });

  it("consistent read (rv unset) reports the store's revision even after writes elsewhere", async () => {
    const store = createMemoryStore();
    const c = await started(store);
    await put(store, pod("d", "a"));
    await store.put("/registry/configmaps/d/x", enc.encode("{}"));
    await store.put("/registry/configmaps/d/y", enc.encode("{}"));
    const l = await c.list({ filter: matchAll() });
    expect(l.revision).toBe(store.currentRevision());
    expect(c.revision()).toBe(store.currentRevision());
    // rv=0 serves whatever the cache has without waiting.
    expect((await c.list({ filter: matchAll(), resourceVersion: "0" })).items).toHaveLength(1);
  });

  it("NotOlderThan waits for the revision, then times out with 504", async () => {
    const store = createMemoryStore();
    const c = await started(store);
    const want = store.currentRevision() + 1;
    const p = c.list({ filter: matchAll(), resourceVersion: String(want), resourceVersionMatch: "NotOlderThan" });
    setTimeout(() => void put(store, pod("d", "late")), 30);
    const l = await p;
    expect(names(l.items)).toEqual(["late"]);
    expect(l.revision).toBeGreaterThanOrEqual(want);

    const t0 = Date.now();
    const err = await caught(c.list({ filter: matchAll(), resourceVersion: String(want + 100) }));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(err.code).toBe(504);
    expect(err.reason).toBe("Timeout");
    expect(err.message).toBe(`Timeout: Too large resource version: ${want + 100}, current: ${c.revision()}`);
    expect(err.status.details?.causes?.[0]).toEqual({ reason: "ResourceVersionTooLarge", message: "Too large resource version" });
    expect(err.status.details?.retryAfterSeconds).toBe(1);
  });

  it("waitUntilFresh honours an abort signal", async () => {
    const store = createMemoryStore();
    const c = await started(store, { freshnessTimeoutMs: 5000 });
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error("client went away")), 20);
    await expect(c.waitUntilFresh(store.currentRevision() + 5, ac.signal)).rejects.toThrow("client went away");
  });

  it("Exact: current from the cache, older from the store, compacted -> 410", async () => {
    const store = createMemoryStore();
    const c = await started(store);
    const r1 = await put(store, pod("d", "a", { phase: "Pending" }));
    await put(store, pod("d", "a", { phase: "Running" }));
    const r3 = await put(store, pod("d", "b"));
    const cur = await c.list({ filter: matchAll(), resourceVersion: String(r3), resourceVersionMatch: "Exact" });
    expect(cur.revision).toBe(r3);
    expect(names(cur.items)).toEqual(["a", "b"]);
    const old = await c.list({ filter: matchAll(), resourceVersion: String(r1), resourceVersionMatch: "Exact" });
    expect(old.revision).toBe(r1);
    expect(names(old.items)).toEqual(["a"]);
    expect((old.items[0]?.object as Pod).status?.phase).toBe("Pending");
    expect(old.items[0]?.object.metadata?.resourceVersion).toBe(String(r1));
    await store.compact(r3);
    const err = await caught(c.list({ filter: matchAll(), resourceVersion: String(r1), resourceVersionMatch: "Exact" }));
    expect(err.code).toBe(410);
    expect(err.reason).toBe("Expired");
    expect(err.message).toBe("The resourceVersion for the provided list is too old.");
  });

  it.each([
    [{ resourceVersion: "abc" }, "invalid resource version \"abc\""],
    [{ resourceVersion: "-1" }, "invalid resource version"],
    [{ resourceVersionMatch: "Exact" as const }, "resourceVersionMatch is forbidden unless resourceVersion is provided"],
    [{ resourceVersion: "0", resourceVersionMatch: "Exact" as const }, "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\""],
    [{ resourceVersion: "1", resourceVersionMatch: "Bogus" as never }, "resourceVersionMatch: Unsupported value: \"Bogus\""],
    [{ resourceVersion: "5", continueToken: "x" }, "specifying resource version is not allowed when using continue"],
  ])("rejects list options %j with 400", async (o, message) => {
    const c = await started(createMemoryStore());
    const err = await caught(c.list({ filter: matchAll(), ...o }));
    expect(err.code).toBe(400);
    expect(err.message).toContain(message);
  });
});

describe("pagination", () => {
  async function seeded(n: number): Promise<{ store: Store; c: WatchCache }> {
    const store = createMemoryStore();
    for (let i = 0; i < n; i++) {
      await put(store, pod("d", `p${String(i).padStart(2, "0")}`, { labels: { odd: String(i % 2) } }));
    }
    return { store, c: await started(store) };
  }

  it("pages in key order with upstream-shaped tokens and remainingItemCount", async () => {
    const { store, c } = await seeded(25);
    const p1 = await c.list({ filter: matchAll(), limit: 10 });
    expect(names(p1.items)).toEqual(Array.from({ length: 10 }, (_, i) => `p${String(i).padStart(2, "0")}`));
    expect(p1.remainingItemCount).toBe(15);
    expect(JSON.parse(Buffer.from(p1.continueToken ?? "", "base64url").toString())).toEqual({
      v: "meta.k8s.io/v1", rv: store.currentRevision(), start: "d/p09\u0000",
    });
    expect(p1.continueToken).not.toMatch(/[=+/]/);
    const p2 = await c.list({ filter: matchAll(), limit: 10, continueToken: p1.continueToken ?? "" });
    expect(names(p2.items)[0]).toBe("p10");
    expect(p2.remainingItemCount).toBe(5);
    expect(p2.revision).toBe(p1.revision);
    const p3 = await c.list({ filter: matchAll(), limit: 10, continueToken: p2.continueToken ?? "" });
    expect(names(p3.items)).toEqual(["p20", "p21", "p22", "p23", "p24"]);
    expect(p3.continueToken).toBeUndefined();
    expect(p3.remainingItemCount).toBeUndefined();
  });

  it("pages thousands of keys written and deleted in random order, by key and by index", async () => {
    const store = createMemoryStore();
    const c = await started(store);
    let seed = 4242;
    const rnd = (n: number): number => {
      seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const all = Array.from({ length: 1500 }, (_, i) => `p${String(i).padStart(4, "0")}`);
    const order = all.slice();
    for (let i = order.length - 1; i > 0; i--) { const j = rnd(i + 1); [order[i], order[j]] = [order[j] as string, order[i] as string]; }
    for (const n of order) await put(store, pod("d", n, { node: `n${Number(n.slice(1)) % 3}` }));
    const gone = new Set<string>();
    for (let k = 0; k < 400; k++) {
      const n = all[rnd(all.length)] as string;
      if (gone.has(n)) continue;
      gone.add(n);
      await store.delete({ key: `${PREFIX}d/${n}` });
    }
    const left = all.filter((n) => !gone.has(n));
    const pageAll = async (f: ObjectFilter, expected: string[], withCount: boolean): Promise<void> => {
      const seen: string[] = [];
      let token = "";
      for (let page = 0; page < 100; page++) {
        const r = await c.list({ filter: f, limit: 200, ...(token ? { continueToken: token } : {}) });
        seen.push(...names(r.items));
        if (withCount) expect(r.remainingItemCount).toBe(r.continueToken ? expected.length - seen.length : undefined);
        if (!r.continueToken) break;
        token = r.continueToken;
      }
      expect(seen).toEqual(expected);
    };
    await pageAll(matchAll(), left, true);
    await pageAll(filter({ fields: "spec.nodeName=n1" }), left.filter((n) => Number(n.slice(1)) % 3 === 1), false);
  });

  it("a filtered page holds up to `limit` matches and has no remainingItemCount", async () => {
    const { c } = await seeded(25);
    const p1 = await c.list({ filter: filter({ labels: "odd=1" }), limit: 5 });
    expect(names(p1.items)).toEqual(["p01", "p03", "p05", "p07", "p09"]);
    expect(p1.remainingItemCount).toBeUndefined();
    const p2 = await c.list({ filter: filter({ labels: "odd=1" }), limit: 100, continueToken: p1.continueToken ?? "" });
    expect(names(p2.items)).toEqual(["p11", "p13", "p15", "p17", "p19", "p21", "p23"]);
    expect(p2.continueToken).toBeUndefined();
  });

  it("later pages show the first page's snapshot while writes happen (served from the store)", async () => {
    const { store, c } = await seeded(25);
    const p1 = await c.list({ filter: matchAll(), limit: 10 });
    await store.delete({ key: `${PREFIX}d/p15` });
    await put(store, pod("d", "p12", { labels: { changed: "yes" } }));
    await put(store, pod("d", "p99"));
    // The cache itself is current.
    expect((await c.list({ filter: matchAll() })).items).toHaveLength(25);
    const rest = await c.list({ filter: matchAll(), continueToken: p1.continueToken ?? "" });
    expect(rest.revision).toBe(p1.revision);
    expect(rest.items).toHaveLength(15);
    expect(names(rest.items)).toContain("p15");
    expect(names(rest.items)).not.toContain("p99");
    expect(rest.items.find((o) => o.name === "p12")?.labels).toEqual({ odd: "0" });
    // Paged from the store at the snapshot too, with limit and filter.
    const q = await c.list({ filter: filter({ labels: "odd=1" }), limit: 3, continueToken: p1.continueToken ?? "" });
    expect(names(q.items)).toEqual(["p11", "p13", "p15"]);
    const q2 = await c.list({ filter: matchAll(), limit: 3, continueToken: p1.continueToken ?? "" });
    expect(q2.remainingItemCount).toBe(12);
  });

  it("continue after compaction -> 410 with an inconsistent-continue token", async () => {
    const { store, c } = await seeded(12);
    const p1 = await c.list({ filter: matchAll(), limit: 5 });
    await put(store, pod("d", "p03", { labels: { x: "y" } }));
    await put(store, pod("d", "p07", { labels: { x: "y" } }));
    await store.compact(store.currentRevision());
    const err = await caught(c.list({ filter: matchAll(), limit: 5, continueToken: p1.continueToken ?? "" }));
    expect(err.code).toBe(410);
    expect(err.reason).toBe("Expired");
    expect(err.message).toBe("The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.");
    const tok = err.status.metadata.continue ?? "";
    expect(decodeContinue(tok, PREFIX)).toEqual({ revision: -1, startKey: `${PREFIX}d/p04\u0000` });
    const rest = await c.list({ filter: matchAll(), continueToken: tok });
    expect(names(rest.items)[0]).toBe("p05");
    expect(rest.items.find((o) => o.name === "p07")?.labels).toEqual({ x: "y" });
    expect(rest.revision).toBe(c.revision());
  });

  it.each([
    ["!!!", "continue key is not valid"],
    [Buffer.from("not json").toString("base64url"), "continue key is not valid"],
    [Buffer.from("[1]").toString("base64url"), "continue key is not valid"],
    [Buffer.from('{"v":"x","rv":1,"start":"a"}').toString("base64url"), "server does not recognize this encoded version"],
    [Buffer.from('{"v":"meta.k8s.io/v1","rv":0,"start":"a"}').toString("base64url"), "incorrect encoded start resourceVersion"],
    [Buffer.from('{"v":"meta.k8s.io/v1","rv":"5","start":"a"}').toString("base64url"), "incorrect encoded start resourceVersion"],
    [Buffer.from('{"v":"meta.k8s.io/v1","rv":5,"start":""}').toString("base64url"), "encoded start key empty"],
    [Buffer.from('{"v":"meta.k8s.io/v1","rv":5,"start":"../secrets/x"}').toString("base64url"), "continue key is not valid: ../secrets/x"],
  ])("malformed token %j -> 400", async (tok, message) => {
    const c = await started(createMemoryStore());
    const err = await caught(c.list({ filter: matchAll(), continueToken: tok }));
    expect(err.code).toBe(400);
    expect(err.message).toContain(message);
  });
});

describe("watch", () => {
  it("rv 0: synthetic ADDED for current objects, then live events; DELETED carries the last state", async () => {
    const store = createMemoryStore();
    await put(store, pod("d", "a", { phase: "Running" }));
    const c = await started(store);
    const w = c.watch({ filter: matchAll(), resourceVersion: "0" });
    const [first] = await take(w, 1);
    expect(first?.type).toBe("ADDED");
    const r2 = await put(store, pod("d", "b"));
    await put(store, pod("d", "a", { phase: "Succeeded" }));
    const { revision: rDel } = await store.delete({ key: `${PREFIX}d/a` });
    const items = await take(w, 3);
    expect(summary(items)).toEqual([`ADDED b@${r2}`, `MODIFIED a@${r2 + 1}`, `DELETED a@${rDel}`]);
    const del = items[2];
    if (del?.type !== "DELETED") throw new Error("expected DELETED");
    expect(del.object.object.metadata?.resourceVersion).toBe(String(rDel));
    expect((del.object.object as Pod).status?.phase).toBe("Succeeded");
    expect(del.prev?.revision).toBe(r2 + 1);
    w.stop();
    expect(c.stats().watchers).toBe(0);
  });

  it("rv unset: consistent initial state", async () => {
    const store = createMemoryStore();
    const c = await started(store);
    await put(store, pod("d", "a"));
    const w = c.watch({ filter: matchAll() });
    expect(summary(await take(w, 1))).toEqual(["ADDED a@2"]);
  });

  it("rv N: replays the window after N; too old -> 410 in-stream", async () => {
    const store = createMemoryStore();
    const c = await started(store, { windowSize: 3 });
    const revs: number[] = [];
    for (let i = 0; i < 5; i++) revs.push(await put(store, pod("d", `p${i}`)));
    // Window holds revisions 4,5,6 (revs[2..4]); resuming from revs[1] is still complete.
    const w = c.watch({ filter: matchAll(), resourceVersion: String(revs[1]) });
    expect(summary(await take(w, 3))).toEqual([`ADDED p2@${revs[2]}`, `ADDED p3@${revs[3]}`, `ADDED p4@${revs[4]}`]);
    const tooOld = c.watch({ filter: matchAll(), resourceVersion: String(revs[0]) });
    expect(await drain(tooOld)).toEqual([]);
    expect(tooOld.error).toBeInstanceOf(ApiError);
    expect((tooOld.error as ApiError).code).toBe(410);
    expect((tooOld.error as ApiError).reason).toBe("Expired");
    expect(tooOld.error?.message).toBe(`too old resource version: ${revs[0]} (${revs[1]})`);
    // Before any eviction the floor is the list revision.
    const c2 = await started(store);
    const w2 = c2.watch({ filter: matchAll(), resourceVersion: "1" });
    await drain(w2);
    expect(w2.error?.message).toBe(`too old resource version: 1 (${revs[4]})`);
  });

  it("rv newer than the cache waits, then 504s in-stream", async () => {
    const store = createMemoryStore();
    const c = await started(store);
    const next = store.currentRevision() + 1;
    const w = c.watch({ filter: matchAll(), resourceVersion: String(next) });
    setTimeout(() => { void put(store, pod("d", "a")).then(() => put(store, pod("d", "b"))); }, 30);
    expect(summary(await take(w, 1))).toEqual([`ADDED b@${next + 1}`]);
    const far = c.watch({ filter: matchAll(), resourceVersion: String(next + 1000) });
    await drain(far);
    expect((far.error as ApiError).code).toBe(504);
    expect(far.error?.message).toContain("Too large resource version");
  });

  it("bad resourceVersion ends the watch with 400", async () => {
    const c = await started(createMemoryStore());
    const w = c.watch({ filter: matchAll(), resourceVersion: "12x" });
    await drain(w);
    expect((w.error as ApiError).code).toBe(400);
  });

  it("filtered watches turn MODIFIED into ADDED/DELETED when objects enter/leave", async () => {
    const store = createMemoryStore();
    const c = await started(store);
    const w = c.watch({ filter: filter({ labels: "app=web" }), resourceVersion: "0" });
    await put(store, pod("d", "a", { labels: { app: "db" } }));
    const rIn = await put(store, pod("d", "a", { labels: { app: "web" } }));
    const rMod = await put(store, pod("d", "a", { labels: { app: "web" }, phase: "Running" }));
    const rOut = await put(store, pod("d", "a", { labels: { app: "db" }, phase: "Failed" }));
    await put(store, pod("d", "a", { labels: { app: "db" }, phase: "Unknown" }));
    const items = await take(w, 3);
    expect(summary(items)).toEqual([`ADDED a@${rIn}`, `MODIFIED a@${rMod}`, `DELETED a@${rOut}`]);
    const out = items[2];
    if (out?.type !== "DELETED") throw new Error("expected DELETED");
    // The object of a "left the filter" DELETED is the previous state with the event's revision.
    expect(out.object.labels).toEqual({ app: "web" });
    expect((out.object.object as Pod).status?.phase).toBe("Running");
    expect(out.object.object.metadata?.resourceVersion).toBe(String(rOut));
    // Nothing more arrives for the filtered-out update.
    expect(await within(w, 50)).toEqual([]);
  });

  it("namespace filter", async () => {
    const store = createMemoryStore();
    const c = await started(store);
    const w = c.watch({ filter: filter({ ns: "a" }), resourceVersion: "0" });
    await put(store, pod("b", "x"));
    await put(store, pod("a", "y"));
    expect(evNames(await take(w, 1))).toEqual(["y"]);
  });

  it("cuts off a slow watcher without affecting others", async () => {
    const store = createMemoryStore();
    const c = await started(store);
    const slow = c.watch({ filter: matchAll(), resourceVersion: "0", bufferSize: 5 });
    const fast = c.watch({ filter: matchAll(), resourceVersion: "0", bufferSize: 5 });
    await tick();
    const got: WatchItem[] = [];
    const reader = (async () => { for await (const it of fast) { got.push(it); if (got.length === 20) break; } })();
    for (let i = 0; i < 20; i++) { await put(store, pod("d", `p${i}`)); await tick(); }
    await reader;
    expect(got).toHaveLength(20);
    expect(await drain(slow)).toEqual([]);
    expect((slow.error as ApiError).code).toBe(410);
    expect(slow.error?.message).toContain("fell more than 5 events behind");
    expect(c.stats().cutOffWatchers).toBe(1);
    expect(c.stats().watchers).toBe(0);
  });

  it("index dispatch: a node's watcher is never visited for other nodes' pods", async () => {
    const store = createMemoryStore();
    const c = await started(store);
    const wa = c.watch({ filter: filter({ fields: "spec.nodeName=node-a" }), resourceVersion: "0" });
    const wb = c.watch({ filter: filter({ fields: "spec.nodeName=node-b" }), resourceVersion: "0" });
    await tick();
    const before = c.stats().dispatchVisits;
    for (let i = 0; i < 10; i++) await put(store, pod("d", `b${i}`, { node: "node-b" }));
    expect(c.stats().dispatchVisits - before).toBe(10); // only wb, once per event
    expect((await take(wb, 10)).length).toBe(10);
    expect(await within(wa, 50)).toEqual([]);
    // A pod moving from b to a: b sees DELETED, a sees ADDED; both visited once.
    const v0 = c.stats().dispatchVisits;
    const r = await put(store, pod("d", "b0", { node: "node-a" }));
    expect(c.stats().dispatchVisits - v0).toBe(2);
    expect(summary(await take(wa, 1))).toEqual([`ADDED b0@${r}`]);
    expect(summary(await take(wb, 1))).toEqual([`DELETED b0@${r}`]);
    // Lists use the index too.
    expect(names((await c.list({ filter: filter({ fields: "spec.nodeName=node-b" }), limit: 3 })).items)).toEqual(["b1", "b2", "b3"]);
  });

  it("sends bookmarks to idle watchers that allow them", async () => {
    const store = createMemoryStore();
    const c = await started(store, { bookmarkIntervalMs: 20 });
    await put(store, pod("d", "a"));
    const w = c.watch({ filter: matchAll(), resourceVersion: String(store.currentRevision()), allowBookmarks: true });
    const quiet = c.watch({ filter: matchAll(), resourceVersion: String(store.currentRevision()) });
    await store.put("/registry/other/x", enc.encode("{}"));
    await c.list({ filter: matchAll() }); // consistent read advances the cache's revision
    const [bm] = await take(w, 1);
    expect(bm).toEqual({ type: "BOOKMARK", revision: store.currentRevision() });
    expect(await within(quiet, 60)).toEqual([]);
  });

  it("encodes each object version once, shared by lists and watchers", async () => {
    const store = createMemoryStore();
    const c = await started(store);
    await put(store, pod("d", "a"));
    const w1 = c.watch({ filter: matchAll(), resourceVersion: "0" });
    const w2 = c.watch({ filter: matchAll(), resourceVersion: "0" });
    const [e1] = await take(w1, 1);
    const [e2] = await take(w2, 1);
    counts.json = 0;
    const l = await c.list({ filter: matchAll() });
    const bytes = [e1, e2].map((e) => (e && e.type !== "BOOKMARK" ? e.object.encoded("json") : undefined));
    const again = l.items[0]?.encoded("json");
    expect(counts.json).toBe(1);
    expect(bytes[0]).toBe(bytes[1]);
    expect(again).toBe(bytes[0]);
    expect(l.items[0]?.encoded("protobuf")).toBe(l.items[0]?.encoded("protobuf"));
  });

  it("re-lists after losing the store watch; watchers get 410; new events flow", async () => {
    const real = createMemoryStore();
    let fail: ((e: Error) => void) | undefined;
    const store: Store = Object.assign(Object.create(real) as Store, {
      watch: (o: StoreWatchOptions, h: WatchHandlers) => {
        const inner = real.watch(o, h);
        let cancelled = false;
        fail = (e) => { if (!cancelled) { cancelled = true; inner.cancel(); h.onError(e); } };
        return { cancel: () => { cancelled = true; inner.cancel(); } };
      },
      range: real.range.bind(real), put: real.put.bind(real), delete: real.delete.bind(real),
      currentRevision: real.currentRevision.bind(real), txn: real.txn.bind(real),
    });
    const c = await started(store);
    const w = c.watch({ filter: matchAll(), resourceVersion: "0" });
    await put(store, pod("d", "a"));
    await take(w, 1);
    const firstFail = fail;
    firstFail?.(new Error("required revision has been compacted"));
    await put(store, pod("d", "during"));
    await drain(w);
    expect((w.error as ApiError).code).toBe(410);
    for (let i = 0; i < 100 && fail === firstFail; i++) await tick();
    expect(c.stats().relists).toBe(1);
    expect(names((await c.list({ filter: matchAll() })).items)).toEqual(["a", "during"]);
    const w2 = c.watch({ filter: matchAll(), resourceVersion: String(c.revision()) });
    await put(store, pod("d", "after"));
    expect(evNames(await take(w2, 1))).toEqual(["after"]);
  });

  it("stop() ends every watcher", async () => {
    const store = createMemoryStore();
    const c = createWatchCache(options(store));
    await c.start();
    const w = c.watch({ filter: matchAll(), resourceVersion: "0" });
    await tick();
    c.stop();
    expect(await drain(w)).toEqual([]);
    const late = c.watch({ filter: matchAll() });
    await drain(late);
    expect((late.error as ApiError).code).toBe(503);
  });

  it("for-await break releases the watcher", async () => {
    const store = createMemoryStore();
    const c = await started(store);
    await put(store, pod("d", "a"));
    const w = c.watch({ filter: matchAll(), resourceVersion: "0" });
    for await (const _ of w) break;
    expect(c.stats().watchers).toBe(0);
  });
});

describe("slow watchers continue from the event window", () => {
  it("a watcher with no bufferSize of its own drops its buffer, then gets every event in order", async () => {
    const store = createMemoryStore();
    const c = await started(store, { bufferSize: 3 });
    const w = c.watch({ filter: matchAll(), resourceVersion: "0" });
    await tick();
    const revs: number[] = [];
    for (let i = 0; i < 12; i++) revs.push(await put(store, pod("d", `p${i}`)));
    const got = await take(w, 12);
    expect(summary(got)).toEqual(revs.map((r, i) => `ADDED p${i}@${r}`));
    expect(w.error).toBeUndefined();
    expect(c.stats().cutOffWatchers).toBe(0);
    // Live again afterwards.
    const r = await put(store, pod("d", "late"));
    expect(summary(await take(w, 1))).toEqual([`ADDED late@${r}`]);
  });

  it("keeps filters and MODIFIED -> DELETED translation while replaying", async () => {
    const store = createMemoryStore();
    const c = await started(store, { bufferSize: 2 });
    const w = c.watch({ filter: filter({ fields: "status.phase=Running" }), resourceVersion: "0" });
    await tick();
    const a1 = await put(store, pod("d", "a", { phase: "Running" }));
    await put(store, pod("d", "b", { phase: "Pending" }));
    const c1 = await put(store, pod("d", "c", { phase: "Running" }));
    const d1 = await put(store, pod("d", "d", { phase: "Running" }));
    const a2 = await put(store, pod("d", "a", { phase: "Succeeded" }));
    expect(summary(await take(w, 4))).toEqual([`ADDED a@${a1}`, `ADDED c@${c1}`, `ADDED d@${d1}`, `DELETED a@${a2}`]);
  });

  it("an indexed watcher idle for longer than the window still catches up after a burst", async () => {
    const store = createMemoryStore();
    const c = await started(store, { bufferSize: 2, windowSize: 8 });
    const w = c.watch({ filter: filter({ fields: "spec.nodeName=n1" }), resourceVersion: "0" });
    await tick();
    const first = await put(store, pod("d", "a0", { node: "n1" }));
    expect(summary(await take(w, 1))).toEqual([`ADDED a0@${first}`]);
    for (let i = 0; i < 12; i++) await put(store, pod("d", `other${i}`, { node: "n2" })); // the window moves on
    const revs: number[] = [];
    for (let i = 1; i <= 5; i++) revs.push(await put(store, pod("d", `a${i}`, { node: "n1" })));
    expect(summary(await take(w, 5))).toEqual(revs.map((r, i) => `ADDED a${i + 1}@${r}`));
    expect(w.error).toBeUndefined();
  });

  it("is cut off (410) only once the window no longer holds its place", async () => {
    const store = createMemoryStore();
    const c = await started(store, { bufferSize: 2, windowSize: 4 });
    const w = c.watch({ filter: matchAll(), resourceVersion: "0" });
    await tick();
    for (let i = 0; i < 10; i++) await put(store, pod("d", `p${i}`));
    expect(await drain(w)).toEqual([]);
    expect((w.error as ApiError).code).toBe(410);
    expect(w.error?.message).toContain("fell behind the watch cache's event window");
    expect(c.stats().cutOffWatchers).toBe(1);
  });
});

describe("write hand-off", () => {
  it("takes offered facts for a matching value and decodes only when the object is needed", async () => {
    const { WrittenFactsTable } = await import("./handoff.ts");
    const table = new WrittenFactsTable();
    const store = createMemoryStore();
    let decodes = 0;
    const base = options(store);
    const c = await started(store, { written: table, decode: (kv) => { decodes++; return base.decode(kv); } });
    const w = c.watch({ filter: filter({ fields: "spec.nodeName=n1" }), resourceVersion: "0" });
    await tick();
    const p = pod("d", "x", { node: "n1", labels: { app: "web" } });
    const key = `${PREFIX}d/x`;
    const value = enc.encode(JSON.stringify(p));
    table.offer(key, value, { namespace: "d", name: "x", labels: { app: "web" }, fields: { "metadata.name": "x", "metadata.namespace": "d", "spec.nodeName": "n1", "status.phase": "Pending" } });
    const rev = await store.put(key, value);
    expect(table.size).toBe(0);
    const [item] = await take(w, 1);
    // TUG_VERIFY_HANDOFF=1 (a debug switch) decodes each handed-off value once to check it.
    const verifying = process.env["TUG_VERIFY_HANDOFF"] === "1" ? 1 : 0;
    expect(decodes).toBe(verifying);
    const obj = (item as { object: { object: KubeObject } }).object.object;
    expect(decodes).toBe(verifying + 1);
    expect(obj.metadata?.resourceVersion).toBe(String(rev));
    expect(obj.metadata?.labels).toEqual({ app: "web" });
    expect(c.get("d", "x")?.labels).toEqual({ app: "web" });
  });

  it("ignores an offer for other bytes, and withdrawn offers", async () => {
    const { WrittenFactsTable } = await import("./handoff.ts");
    const table = new WrittenFactsTable();
    const store = createMemoryStore();
    let decodes = 0;
    const base = options(store);
    const c = await started(store, { written: table, decode: (kv) => { decodes++; return base.decode(kv); } });
    const key = `${PREFIX}d/y`;
    table.offer(key, enc.encode("something else"), { namespace: "d", name: "y", labels: {}, fields: { "spec.nodeName": "wrong" } });
    await put(store, pod("d", "y", { node: "n2" }));
    expect(decodes).toBe(1);
    expect(c.get("d", "y")?.fields["spec.nodeName"]).toBe("n2");
    const v = enc.encode("x");
    table.offer(key, v, { namespace: "d", name: "y", labels: {}, fields: {} });
    table.withdraw(key, v);
    expect(table.size).toBe(0);
  });

  it("bounds the offers it keeps", async () => {
    const { WrittenFactsTable } = await import("./handoff.ts");
    const table = new WrittenFactsTable(2);
    for (const k of ["a", "b", "c"]) table.offer(k, enc.encode(k), { namespace: "", name: k, labels: {}, fields: {} });
    expect(table.size).toBe(2);
    expect(table.take("a", enc.encode("a"))).toBeUndefined();
    expect(table.take("c", enc.encode("c"))?.name).toBe("c");
  });

  it("a DELETED event reuses the cached last state instead of decoding prevKv", async () => {
    const store = createMemoryStore();
    let decodes = 0;
    const base = options(store);
    const c = await started(store, { decode: (kv) => { decodes++; return base.decode(kv); } });
    await put(store, pod("d", "z", { node: "n3" }));
    const w = c.watch({ filter: matchAll(), resourceVersion: String(c.revision()) });
    await tick();
    const before = decodes;
    const rev = (await store.txn({ compare: [], success: [{ type: "delete", key: `${PREFIX}d/z` }] })).revision;
    const [item] = await take(w, 1);
    expect(summary([item as WatchItem])).toEqual([`DELETED z@${rev}`]);
    expect(decodes).toBe(before);
  });
});
