import { describe, expect, it } from "vitest";
import { decodeObject, encodeMessage, encodeObject } from "../../api/codec/mod.ts";
import type { KubeObject } from "../../api/object.ts";
import { matchAll } from "../../api/selectors/filter.ts";
import { createMemoryStore } from "../../store/memory.ts";
import type { Store } from "../../store/types.ts";
import { encodeProtoList } from "../protolist.ts";
import { createWatchCache, type WatchCache } from "./cache.ts";
import { MemoPool } from "./cached.ts";
import { jsonListChunks, protoListBody, protoListChunks } from "./listbody.ts";
import type { CachedObject, WatchItem } from "./types.ts";

const LIST_META = "k8s.io.apimachinery.pkg.apis.meta.v1.ListMeta";
const utf8 = new TextEncoder();

function pod(i: number): KubeObject {
  return {
    apiVersion: "v1", kind: "Pod",
    metadata: { name: `p${String(i).padStart(3, "0")}`, namespace: "default", uid: `u${i}`, labels: { app: "a" }, creationTimestamp: "2026-11-22T10:00:00Z" },
    spec: { nodeName: `n${i % 3}`, containers: [{ name: "c", image: "img".repeat(1 + (i % 50)) }] },
  };
}

/** Stores pods as the apiserver does: protobuf, no resourceVersion. */
async function putPod(store: Store, o: KubeObject): Promise<number> {
  return store.put(`/registry/pods/default/${o.metadata?.name}`, encodeObject(o));
}

const encoders = {
  json: (o: KubeObject) => utf8.encode(JSON.stringify(o)),
  protobuf: (o: KubeObject) => encodeObject(o),
};

async function cacheOf(store: Store, memo: MemoPool): Promise<WatchCache> {
  const c = createWatchCache({
    store, prefix: "/registry/pods/", decode: (kv) => decodeObject(kv.value), fields: () => ({}),
    encoders, protobufFromStored: true, memo, bookmarkIntervalMs: 0,
  });
  await c.start();
  return c;
}

const concat = (parts: Iterable<Uint8Array>): Buffer => Buffer.concat([...parts]);

describe("stamped protobuf and list bodies", () => {
  it("derived encodings equal the eager ones, and chunked bodies equal single-buffer ones", async () => {
    const store = createMemoryStore();
    for (let i = 0; i < 40; i++) await putPod(store, pod(i));
    const memo = new MemoPool(4000);
    const c = await cacheOf(store, memo);
    try {
      const l = await c.list({ filter: matchAll(), resourceVersion: "0" });
      expect(l.items.length).toBe(40);
      for (const it of l.items) {
        expect(Buffer.from(it.encoded("protobuf")).equals(Buffer.from(encodeObject(it.object)))).toBe(true);
        expect(it.object.metadata?.resourceVersion).toBe(String(it.revision));
      }
      const head = { apiVersion: "v1", listKind: "PodList", meta: { resourceVersion: String(l.revision), continue: "x" } };
      const listMeta = encodeMessage(LIST_META, head.meta);
      const eager = Buffer.from(encodeProtoList("v1", "PodList", listMeta, l.items.map((i) => encodeObject(i.object))));
      for (const chunk of [64, 1000, 1 << 20]) {
        const parts = [...protoListChunks(head, listMeta, l.items, chunk)];
        if (chunk === 1000) expect(parts.length).toBeGreaterThan(3);
        expect(concat(parts).equals(eager)).toBe(true);
      }
      expect(Buffer.from(protoListBody(head, listMeta, l.items)).equals(eager)).toBe(true);
      const back = decodeObject(eager) as { items: KubeObject[] };
      expect(back.items.map((o) => o.metadata?.name)).toEqual(l.items.map((i) => i.name));

      const json = `{"kind":"PodList","apiVersion":"v1","metadata":${JSON.stringify(head.meta)},"items":[${l.items.map((i) => JSON.stringify(i.object)).join(",")}]}`;
      for (const chunk of [16, 1000, 1 << 20]) {
        expect(concat(jsonListChunks(head, l.items, chunk)).toString("utf8")).toBe(json);
      }
      expect(concat(jsonListChunks(head, [], 8)).toString("utf8")).toBe(`{"kind":"PodList","apiVersion":"v1","metadata":${JSON.stringify(head.meta)},"items":[]}`);
      // Budget: JSON kept for as many objects as fit, never more.
      expect(memo.used).toBeGreaterThan(0);
      expect(memo.used).toBeLessThanOrEqual(4000);
    } finally {
      c.stop();
    }
    expect(memo.used).toBe(0);
  });

  it("stored zero values the decoder drops stay in the stamped bytes: same object either way", async () => {
    const store = createMemoryStore();
    const o = pod(1);
    (o["spec"] as { containers: Array<Record<string, unknown>> }).containers[0]!["image"] = ""; // written, dropped on decode
    await putPod(store, o);
    const c = await cacheOf(store, new MemoPool());
    try {
      const [it] = (await c.list({ filter: matchAll(), resourceVersion: "0" })).items;
      const stamped = it!.encoded("protobuf");
      expect(decodeObject(stamped)).toStrictEqual(decodeObject(encodeObject(it!.object)));
      expect(decodeObject(stamped)).toStrictEqual(it!.object);
    } finally {
      c.stop();
    }
  });

  it("mixes cached items with other CachedObject implementations", () => {
    const o = { ...pod(1), metadata: { ...pod(1).metadata, resourceVersion: "7" } };
    const other: CachedObject = {
      key: "/registry/pods/default/p001", namespace: "default", name: "p001", object: o, revision: 7, labels: {}, fields: {},
      encoded: (e) => (e === "json" ? utf8.encode(JSON.stringify(o)) : encodeObject(o)),
    };
    const head = { apiVersion: "v1", listKind: "PodList", meta: { resourceVersion: "9" } };
    const listMeta = encodeMessage(LIST_META, head.meta);
    const body = concat(protoListChunks(head, listMeta, [other, other], 10));
    expect(body.equals(Buffer.from(encodeProtoList("v1", "PodList", listMeta, [encodeObject(o), encodeObject(o)])))).toBe(true);
  });

  it("releases kept encodings when objects change or go, and stamps DELETED with the delete's revision", async () => {
    const store = createMemoryStore();
    for (let i = 0; i < 5; i++) await putPod(store, pod(i));
    const memo = new MemoPool(1 << 20);
    const c = await cacheOf(store, memo);
    try {
      const l = await c.list({ filter: matchAll(), resourceVersion: "0" });
      for (const it of l.items) it.encoded("json");
      const full = memo.used;
      expect(full).toBeGreaterThan(0);
      const w = c.watch({ filter: matchAll(), resourceVersion: String(l.revision) });
      const rev = (await store.delete({ key: "/registry/pods/default/p000" })).revision;
      const it = w[Symbol.asyncIterator]();
      const ev = (await it.next()).value as WatchItem;
      expect(ev.type).toBe("DELETED");
      if (ev.type !== "DELETED") throw new Error("unreachable");
      expect(ev.object.revision).toBe(rev);
      expect(Buffer.from(ev.object.encoded("protobuf")).equals(Buffer.from(encodeObject(ev.object.object)))).toBe(true);
      expect(decodeObject(ev.object.encoded("protobuf")).metadata?.resourceVersion).toBe(String(rev));
      expect(memo.used).toBeLessThan(full);
      w.stop();
    } finally {
      c.stop();
    }
    expect(memo.used).toBe(0);
  });

  it("a zero budget keeps nothing pinned but still serves identical bytes", async () => {
    const store = createMemoryStore();
    for (let i = 0; i < 3; i++) await putPod(store, pod(i));
    const memo = new MemoPool(0, 1);
    const c = await cacheOf(store, memo);
    try {
      const l = await c.list({ filter: matchAll(), resourceVersion: "0" });
      const a = l.items.map((i) => Buffer.from(i.encoded("json")));
      const b = l.items.map((i) => Buffer.from(i.encoded("json")));
      expect(a.every((x, i) => x.equals(b[i]!))).toBe(true);
      expect(memo.used).toBe(0);
    } finally {
      c.stop();
    }
  });
});
