/**
 * The Store conformance suite: every backend runs it from its own `*.test.ts`:
 *
 *   runStoreConformance("memory", async () => {
 *     const store = createMemoryStore();
 *     return { store, cleanup: async () => {} };
 *   });
 *
 * `open` must return a fresh, empty store each time; `cleanup` releases whatever `open` made (it
 * is called after the store was closed, or after the test closed it itself).
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type KeyValue, type Store, StoreError, type TxnOp, type TxnOpResult, type WatchEvent } from "./types.ts";

export type OpenStore = () => Promise<{ store: Store; cleanup(): Promise<void> }>;

const enc = new TextEncoder();
const dec = new TextDecoder();
/** Bytes of a string. */
const b = (s: string): Uint8Array => enc.encode(s);
/** String of bytes. */
const s = (u: Uint8Array): string => dec.decode(u);
const keysOf = (kvs: readonly KeyValue[]): string[] => kvs.map((kv) => kv.key);

interface Recorder {
  readonly batches: { events: readonly WatchEvent[]; revision: number }[];
  readonly errors: Error[];
  readonly onEvents: (events: readonly WatchEvent[], revision: number) => void;
  readonly onError: (err: Error) => void;
}

function recorder(): Recorder {
  const batches: Recorder["batches"] = [];
  const errors: Error[] = [];
  return {
    batches,
    errors,
    onEvents: (events, revision) => batches.push({ events: [...events], revision }),
    onError: (err) => errors.push(err),
  };
}

/** Waits (bounded) until `cond` holds; fails with `what` otherwise. */
async function until(cond: () => boolean, what: string, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Lets pending deliveries run, to check that nothing more arrives. */
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 30));

async function expectStoreError(p: Promise<unknown>, code: StoreError["code"]): Promise<StoreError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).code).toBe(code);
    return err as StoreError;
  }
  throw new Error(`expected StoreError ${code}, but the call succeeded`);
}

function putResult(r: TxnOpResult | undefined): Extract<TxnOpResult, { type: "put" }> {
  if (r?.type !== "put") throw new Error(`expected a put result, got ${r?.type}`);
  return r;
}
function deleteResult(r: TxnOpResult | undefined): Extract<TxnOpResult, { type: "delete" }> {
  if (r?.type !== "delete") throw new Error(`expected a delete result, got ${r?.type}`);
  return r;
}
function rangeResult(r: TxnOpResult | undefined): Extract<TxnOpResult, { type: "range" }>["result"] {
  if (r?.type !== "range") throw new Error(`expected a range result, got ${r?.type}`);
  return r.result;
}

export function runStoreConformance(name: string, open: OpenStore): void {
  describe(`Store conformance: ${name}`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      const o = await open();
      store = o.store;
      cleanup = o.cleanup;
    });
    afterEach(async () => {
      await store.close();
      await cleanup();
    });

    /** Puts `n` keys `${prefix}${i}` (zero-padded) one revision each. */
    async function fill(prefix: string, n: number): Promise<void> {
      for (let i = 0; i < n; i++) await store.put(`${prefix}${String(i).padStart(3, "0")}`, b(`v${i}`));
    }

    describe("revisions", () => {
      it("a fresh store is at revision 1, compacted 1, and empty", async () => {
        expect(store.currentRevision()).toBe(1);
        expect(store.compactedRevision()).toBe(1);
        const r = await store.range({ key: "", prefix: true });
        expect(r).toMatchObject({ kvs: [], count: 0, more: false, revision: 1 });
      });

      it("each writing txn bumps the revision by exactly one", async () => {
        expect(await store.put("/a", b("1"))).toBe(2);
        const t = await store.txn({
          success: [
            { type: "put", key: "/b", value: b("2") },
            { type: "put", key: "/c", value: b("3") },
          ],
        });
        expect(t.revision).toBe(3);
        expect(store.currentRevision()).toBe(3);
        const d = await store.delete({ key: "/a" });
        expect(d).toEqual({ deleted: 1, revision: 4 });
        const all = await store.range({ key: "/", prefix: true });
        expect(all.kvs.map((kv) => [kv.key, kv.modRevision])).toEqual([
          ["/b", 3],
          ["/c", 3],
        ]);
      });

      it("a txn that writes nothing, or a delete of nothing, keeps the revision", async () => {
        await store.put("/a", b("1"));
        const t = await store.txn({ success: [{ type: "range", key: "/a" }] });
        expect(t.revision).toBe(2);
        expect(await store.delete({ key: "/missing" })).toEqual({ deleted: 0, revision: 2 });
        const f = await store.txn({ compare: [{ key: "/a", target: "version", op: "=", value: 9 }] });
        expect(f).toMatchObject({ succeeded: false, revision: 2, results: [] });
        expect(store.currentRevision()).toBe(2);
      });

      it("tracks createRevision, modRevision and version per incarnation", async () => {
        await store.put("/k", b("a")); // 2
        await store.put("/other", b("x")); // 3
        await store.put("/k", b("b")); // 4
        let kv = (await store.range({ key: "/k" })).kvs[0];
        expect(kv).toMatchObject({ key: "/k", createRevision: 2, modRevision: 4, version: 2 });
        expect(s(kv!.value)).toBe("b");
        await store.delete({ key: "/k" }); // 5
        expect((await store.range({ key: "/k" })).kvs).toEqual([]);
        await store.put("/k", b("c")); // 6
        kv = (await store.range({ key: "/k" })).kvs[0];
        expect(kv).toMatchObject({ createRevision: 6, modRevision: 6, version: 1 });
      });

      it("values are opaque bytes (binary, empty, k8s protobuf prefix)", async () => {
        const bin = new Uint8Array(256).map((_, i) => i);
        const k8s = new Uint8Array([0x6b, 0x38, 0x73, 0x00, 0x0a, 0x00, 0xff]);
        await store.put("/bin", bin);
        await store.put("/empty", new Uint8Array(0));
        await store.put("/registry/pods/default/web", k8s);
        const r = await store.range({ key: "/", prefix: true });
        expect(r.kvs.map((kv) => Array.from(kv.value))).toEqual([Array.from(bin), [], Array.from(k8s)]);
      });
    });

    describe("range", () => {
      beforeEach(async () => {
        await store.put("/registry/pods/default/a", b("pa")); // 2
        await store.put("/registry/pods/default/b", b("pb")); // 3
        await store.put("/registry/pods/kube-system/c", b("pc")); // 4
        await store.put("/registry/nodes/n1", b("n1")); // 5
        await store.put("/registry/podsx", b("px")); // 6
      });

      it("reads a single key, and nothing for an absent one", async () => {
        const r = await store.range({ key: "/registry/nodes/n1" });
        expect(keysOf(r.kvs)).toEqual(["/registry/nodes/n1"]);
        expect(r.count).toBe(1);
        expect(r.revision).toBe(6);
        expect(await store.range({ key: "/registry/nodes/n2" })).toMatchObject({ kvs: [], count: 0, more: false });
        // A single-key read is exact: it does not match longer keys.
        expect((await store.range({ key: "/registry/pods" })).kvs).toEqual([]);
      });

      it("reads a prefix in key order", async () => {
        const r = await store.range({ key: "/registry/pods/", prefix: true });
        expect(keysOf(r.kvs)).toEqual([
          "/registry/pods/default/a",
          "/registry/pods/default/b",
          "/registry/pods/kube-system/c",
        ]);
        expect(r.count).toBe(3);
        const all = await store.range({ key: "", prefix: true });
        expect(all.count).toBe(5);
      });

      it("reads a half-open range [key, end)", async () => {
        const r = await store.range({ key: "/registry/pods/default/a", end: "/registry/pods/kube-system/c" });
        expect(keysOf(r.kvs)).toEqual(["/registry/pods/default/a", "/registry/pods/default/b"]);
        const empty = await store.range({ key: "/registry/z", end: "/registry/a" });
        expect(empty).toMatchObject({ kvs: [], count: 0 });
      });

      it("limit cuts the result, sets more, and count ignores the limit", async () => {
        const r = await store.range({ key: "/registry/", prefix: true, limit: 2 });
        expect(keysOf(r.kvs)).toEqual(["/registry/nodes/n1", "/registry/pods/default/a"]);
        expect(r.more).toBe(true);
        expect(r.count).toBe(5);
        const exact = await store.range({ key: "/registry/", prefix: true, limit: 5 });
        expect(exact.more).toBe(false);
        expect(exact.kvs).toHaveLength(5);
        const none = await store.range({ key: "/registry/", prefix: true, limit: 0 });
        expect(none.kvs).toHaveLength(5);
      });

      it("paginates with limit and a start key after the last one seen", async () => {
        await fill("/page/", 25);
        const seen: string[] = [];
        let key = "/page/";
        const end = "/page0"; // prefix end of "/page/"
        for (let i = 0; i < 10; i++) {
          const r = await store.range({ key, end, limit: 10, revision: 6 + 25 });
          seen.push(...keysOf(r.kvs));
          if (!r.more) break;
          key = `${r.kvs[r.kvs.length - 1]!.key}\0`;
        }
        expect(seen).toHaveLength(25);
        expect(new Set(seen).size).toBe(25);
      });

      it("countOnly returns no kvs, only the count", async () => {
        const r = await store.range({ key: "/registry/pods/", prefix: true, countOnly: true });
        expect(r.kvs).toEqual([]);
        expect(r.count).toBe(3);
        const one = await store.range({ key: "/registry/nodes/n1", countOnly: true });
        expect(one).toMatchObject({ kvs: [], count: 1 });
      });

      it("reads at past revisions see the state of that revision", async () => {
        await store.put("/registry/pods/default/a", b("pa2")); // 7
        await store.delete({ key: "/registry/pods/default/b" }); // 8
        const at3 = await store.range({ key: "/registry/pods/", prefix: true, revision: 3 });
        expect(keysOf(at3.kvs)).toEqual(["/registry/pods/default/a", "/registry/pods/default/b"]);
        expect(s(at3.kvs[0]!.value)).toBe("pa");
        expect(at3.revision).toBe(8); // the store's current revision, not the read revision
        const at7 = await store.range({ key: "/registry/pods/", prefix: true, revision: 7 });
        expect(at7.kvs.map((kv) => s(kv.value))).toEqual(["pa2", "pb", "pc"]);
        const at1 = await store.range({ key: "", prefix: true, revision: 1 });
        expect(at1.count).toBe(0);
        const now = await store.range({ key: "/registry/pods/", prefix: true });
        expect(keysOf(now.kvs)).toEqual(["/registry/pods/default/a", "/registry/pods/kube-system/c"]);
        const single = await store.range({ key: "/registry/pods/default/b", revision: 7 });
        expect(single.kvs[0]).toMatchObject({ modRevision: 3, version: 1 });
      });

      it("rejects future revisions with ErrFutureRevision", async () => {
        const e = await expectStoreError(store.range({ key: "/a", revision: 7 }), "FutureRevision");
        expect(e.message).toMatch(/future revision/);
      });

      it("rejects malformed selectors and options with InvalidArgument", async () => {
        await expectStoreError(store.range({ key: "" }), "InvalidArgument");
        await expectStoreError(store.range({ key: "/a", prefix: true, end: "/b" }), "InvalidArgument");
        await expectStoreError(store.range({ key: "/a", limit: -1 }), "InvalidArgument");
        await expectStoreError(store.range({ key: "/a", limit: 1.5 }), "InvalidArgument");
        await expectStoreError(store.range({ key: "/a", revision: -2 }), "InvalidArgument");
      });

      it("a range is a consistent snapshot even with writes racing it", async () => {
        await fill("/snap/", 50);
        const rev = store.currentRevision();
        const writes = Array.from({ length: 20 }, (_, i) => store.put(`/snap/${String(i).padStart(3, "0")}`, b("new")));
        const r = await store.range({ key: "/snap/", prefix: true, revision: rev });
        await Promise.all(writes);
        expect(r.kvs.every((kv) => s(kv.value) !== "new")).toBe(true);
        const now = await store.range({ key: "/snap/", prefix: true });
        const fresh = now.kvs.filter((kv) => s(kv.value) === "new");
        expect(fresh).toHaveLength(20);
      });
    });

    describe("txn", () => {
      beforeEach(async () => {
        await store.put("/t/a", b("alpha")); // 2
        await store.put("/t/a", b("beta")); // 3
      });

      const cases: [string, "createRevision" | "modRevision" | "version", "=" | "!=" | "<" | ">", number, boolean][] = [
        ["createRevision = 2", "createRevision", "=", 2, true],
        ["createRevision != 2", "createRevision", "!=", 2, false],
        ["createRevision < 3", "createRevision", "<", 3, true],
        ["createRevision > 2", "createRevision", ">", 2, false],
        ["modRevision = 3", "modRevision", "=", 3, true],
        ["modRevision != 3", "modRevision", "!=", 3, false],
        ["modRevision < 3", "modRevision", "<", 3, false],
        ["modRevision > 2", "modRevision", ">", 2, true],
        ["version = 2", "version", "=", 2, true],
        ["version != 1", "version", "!=", 1, true],
        ["version < 2", "version", "<", 2, false],
        ["version > 1", "version", ">", 1, true],
      ];
      for (const [label, target, op, value, want] of cases) {
        it(`compare ${label} on a present key is ${want}`, async () => {
          const r = await store.txn({ compare: [{ key: "/t/a", target, op, value }] });
          expect(r.succeeded).toBe(want);
        });
      }

      it("compares values byte-wise with all ops", async () => {
        const c = async (op: "=" | "!=" | "<" | ">", v: string): Promise<boolean> =>
          (await store.txn({ compare: [{ key: "/t/a", target: "value", op, value: b(v) }] })).succeeded;
        expect(await c("=", "beta")).toBe(true);
        expect(await c("=", "bet")).toBe(false);
        expect(await c("!=", "alpha")).toBe(true);
        expect(await c("<", "betb")).toBe(true);
        expect(await c("<", "bet")).toBe(false);
        expect(await c(">", "bet")).toBe(true);
        expect(await c(">", "c")).toBe(false);
      });

      it("an absent key has revisions and version 0; a value compare on it is false", async () => {
        const c = async (target: "createRevision" | "modRevision" | "version" | "value", op: "=" | "!=" | "<" | ">", value: number | Uint8Array): Promise<boolean> =>
          (await store.txn({ compare: [{ key: "/t/none", target, op, value }] })).succeeded;
        expect(await c("modRevision", "=", 0)).toBe(true);
        expect(await c("createRevision", "=", 0)).toBe(true);
        expect(await c("version", "=", 0)).toBe(true);
        expect(await c("version", "<", 1)).toBe(true);
        expect(await c("modRevision", ">", 0)).toBe(false);
        expect(await c("value", "=", new Uint8Array(0))).toBe(false);
        // A deleted key is absent too.
        await store.delete({ key: "/t/a" });
        expect((await store.txn({ compare: [{ key: "/t/a", target: "version", op: "=", value: 0 }] })).succeeded).toBe(true);
      });

      it("runs success when all compares hold, failure otherwise, with results in op order", async () => {
        const ok = await store.txn({
          compare: [
            { key: "/t/a", target: "modRevision", op: "=", value: 3 },
            { key: "/t/new", target: "createRevision", op: "=", value: 0 },
          ],
          success: [
            { type: "put", key: "/t/new", value: b("n") },
            { type: "put", key: "/t/a", value: b("gamma") },
            { type: "range", key: "/t/", prefix: true },
          ],
          failure: [{ type: "put", key: "/t/failed", value: b("f") }],
        });
        expect(ok.succeeded).toBe(true);
        expect(ok.revision).toBe(4);
        expect(ok.results.map((r) => r.type)).toEqual(["put", "put", "range"]);
        expect(putResult(ok.results[0]).prevKv).toBeUndefined();
        expect(putResult(ok.results[1]).prevKv).toMatchObject({ key: "/t/a", modRevision: 3, version: 2 });
        // A range op sees the earlier writes of its own txn.
        const seen = rangeResult(ok.results[2]);
        expect(seen.kvs.map((kv) => [kv.key, s(kv.value), kv.modRevision])).toEqual([
          ["/t/a", "gamma", 4],
          ["/t/new", "n", 4],
        ]);

        const bad = await store.txn({
          compare: [
            { key: "/t/a", target: "modRevision", op: "=", value: 4 },
            { key: "/t/a", target: "version", op: "=", value: 99 },
          ],
          success: [{ type: "put", key: "/t/success", value: b("s") }],
          failure: [
            { type: "range", key: "/t/a" },
            { type: "put", key: "/t/failed", value: b("f") },
          ],
        });
        expect(bad.succeeded).toBe(false);
        expect(bad.revision).toBe(5);
        expect(rangeResult(bad.results[0]).kvs[0]).toMatchObject({ key: "/t/a", version: 3 });
        expect((await store.range({ key: "/t/success" })).count).toBe(0);
        expect((await store.range({ key: "/t/failed" })).count).toBe(1);
      });

      it("range ops inside a txn honor limit, countOnly and past revisions", async () => {
        await fill("/t/r/", 5); // 4..8
        const r = await store.txn({
          success: [
            { type: "range", key: "/t/r/", prefix: true, limit: 2 },
            { type: "range", key: "/t/r/", prefix: true, countOnly: true },
            { type: "range", key: "/t/r/", prefix: true, revision: 5 },
          ],
        });
        const limited = rangeResult(r.results[0]);
        expect(limited.kvs).toHaveLength(2);
        expect(limited.more).toBe(true);
        expect(limited.count).toBe(5);
        expect(rangeResult(r.results[1])).toMatchObject({ kvs: [], count: 5 });
        expect(rangeResult(r.results[2]).count).toBe(2);
      });

      it("deletes a prefix and a range, returning prevKvs", async () => {
        await fill("/d/", 6); // /d/000../d/005 at 4..9
        const r = await store.txn({
          success: [
            { type: "delete", key: "/d/000", end: "/d/002" },
            { type: "delete", key: "/d/004", prefix: true },
            { type: "delete", key: "/d/nothing" },
          ],
        });
        expect(r.revision).toBe(10);
        const d0 = deleteResult(r.results[0]);
        expect(d0.deleted).toBe(2);
        expect(d0.prevKvs.map((kv) => [kv.key, s(kv.value)])).toEqual([
          ["/d/000", "v0"],
          ["/d/001", "v1"],
        ]);
        expect(deleteResult(r.results[1]).prevKvs.map((kv) => kv.key)).toEqual(["/d/004"]);
        expect(deleteResult(r.results[2])).toEqual({ type: "delete", deleted: 0, prevKvs: [] });
        expect(keysOf((await store.range({ key: "/d/", prefix: true })).kvs)).toEqual(["/d/002", "/d/003", "/d/005"]);
        const all = await store.delete({ key: "/d/", prefix: true });
        expect(all).toEqual({ deleted: 3, revision: 11 });
      });

      it("rejects malformed transactions with InvalidArgument and changes nothing", async () => {
        const before = store.currentRevision();
        await expectStoreError(store.txn({ success: [{ type: "put", key: "", value: b("x") }] }), "InvalidArgument");
        await expectStoreError(
          store.txn({ success: [{ type: "put", key: "/x", value: b("1") }, { type: "put", key: "/x", value: b("2") }] }),
          "InvalidArgument",
        );
        await expectStoreError(
          store.txn({ success: [{ type: "delete", key: "/x", prefix: true }, { type: "put", key: "/x/y", value: b("2") }] }),
          "InvalidArgument",
        );
        await expectStoreError(store.txn({ compare: [{ key: "/t/a", target: "version", op: "=", value: b("1") }] }), "InvalidArgument");
        await expectStoreError(store.txn({ compare: [{ key: "/t/a", target: "value", op: "=", value: 1 }] }), "InvalidArgument");
        await expectStoreError(
          // @ts-expect-error: an unknown op must be rejected at runtime too
          store.txn({ compare: [{ key: "/t/a", target: "version", op: ">=", value: 1 }] }),
          "InvalidArgument",
        );
        await expectStoreError(
          // Deliberately ill-typed: an unknown op type from an untyped caller.
          store.txn({ success: [{ type: "bogus", key: "/x" } as unknown as TxnOp] }),
          "InvalidArgument",
        );
        // Deliberately ill-typed: callers outside TypeScript's checks must get a clear error too.
        await expectStoreError(store.put("/ok", "not bytes" as unknown as Uint8Array), "InvalidArgument");
        expect(store.currentRevision()).toBe(before);
        expect((await store.range({ key: "/x", prefix: true })).count).toBe(0);
      });

      it("serializes concurrent compare-and-swap: exactly one of racing updates wins", async () => {
        const attempts = Array.from({ length: 10 }, (_, i) =>
          store.txn({
            compare: [{ key: "/t/a", target: "modRevision", op: "=", value: 3 }],
            success: [{ type: "put", key: "/t/a", value: b(`w${i}`) }],
          }),
        );
        const results = await Promise.all(attempts);
        expect(results.filter((r) => r.succeeded)).toHaveLength(1);
        expect(store.currentRevision()).toBe(4);
      });
    });

    describe("watch", () => {
      it("from now: delivers later changes, one callback per revision with all its events", async () => {
        await store.put("/w/old", b("o"));
        const rec = recorder();
        const w = store.watch({ key: "/w/", prefix: true }, rec);
        await settle();
        expect(rec.batches).toEqual([]);
        await store.put("/w/a", b("1")); // 3
        await store.txn({
          success: [
            { type: "put", key: "/w/b", value: b("2") },
            { type: "put", key: "/other", value: b("x") },
            { type: "delete", key: "/w/old" },
          ],
        }); // 4
        await until(() => rec.batches.length === 2, "two batches");
        expect(rec.batches[0]!.revision).toBe(3);
        expect(rec.batches[0]!.events.map((e) => [e.type, e.kv.key])).toEqual([["put", "/w/a"]]);
        expect(rec.batches[1]!.revision).toBe(4);
        expect(rec.batches[1]!.events.map((e) => [e.type, e.kv.key])).toEqual([
          ["put", "/w/b"],
          ["delete", "/w/old"],
        ]);
        w.cancel();
      });

      it("carries kv and prevKv; a delete has an empty value and modRevision of the delete", async () => {
        await store.put("/w/k", b("one")); // 2
        const rec = recorder();
        store.watch({ key: "/w/k" }, rec);
        await settle();
        await store.put("/w/k", b("two")); // 3
        await store.delete({ key: "/w/k" }); // 4
        await store.put("/w/k", b("three")); // 5
        await until(() => rec.batches.length === 3, "three batches");
        const [p, d, c] = rec.batches.map((x) => x.events[0]!);
        expect(p!.type).toBe("put");
        expect(p!.kv).toMatchObject({ key: "/w/k", createRevision: 2, modRevision: 3, version: 2 });
        expect(s(p!.prevKv!.value)).toBe("one");
        expect(d!.type).toBe("delete");
        expect(d!.kv.modRevision).toBe(4);
        expect(d!.kv.value).toHaveLength(0);
        expect(s(d!.prevKv!.value)).toBe("two");
        expect(c!.kv).toMatchObject({ createRevision: 5, version: 1 });
        expect(c!.prevKv).toBeUndefined();
      });

      it("from a past revision: replays history in order, then live changes", async () => {
        await store.put("/w/a", b("1")); // 2
        await store.put("/x", b("skip")); // 3
        await store.put("/w/b", b("2")); // 4
        await store.delete({ key: "/w/a" }); // 5
        const rec = recorder();
        store.watch({ key: "/w/", prefix: true, startRevision: 2 }, rec);
        await until(() => rec.batches.length === 3, "replay");
        expect(rec.batches.map((x) => x.revision)).toEqual([2, 4, 5]);
        expect(rec.batches[2]!.events[0]).toMatchObject({ type: "delete", kv: { key: "/w/a" } });
        expect(s(rec.batches[2]!.events[0]!.prevKv!.value)).toBe("1");
        await store.put("/w/c", b("3")); // 6
        await until(() => rec.batches.length === 4, "live event");
        expect(rec.batches[3]!.revision).toBe(6);
        // Revision order is strict, with no duplicates.
        const revs = rec.batches.map((x) => x.revision);
        expect([...revs].sort((x, y) => x - y)).toEqual(revs);
        expect(new Set(revs).size).toBe(revs.length);
      });

      it("a start revision of the current revision includes it; current+1 starts after it", async () => {
        await store.put("/w/a", b("1")); // 2
        const incl = recorder();
        const excl = recorder();
        store.watch({ key: "/w/a", startRevision: 2 }, incl);
        store.watch({ key: "/w/a", startRevision: 3 }, excl);
        await until(() => incl.batches.length === 1, "replay of revision 2");
        await settle();
        expect(excl.batches).toHaveLength(0);
        await store.put("/w/a", b("2"));
        await until(() => excl.batches.length === 1 && incl.batches.length === 2, "live event");
      });

      it("filters by single key, prefix and range", async () => {
        const single = recorder();
        const prefix = recorder();
        const range = recorder();
        store.watch({ key: "/f/b" }, single);
        store.watch({ key: "/f/", prefix: true }, prefix);
        store.watch({ key: "/f/a", end: "/f/c" }, range);
        await settle();
        for (const k of ["/f/a", "/f/b", "/f/bb", "/f/c", "/g"]) await store.put(k, b(k));
        await until(() => prefix.batches.length === 4, "prefix events");
        await settle();
        const keys = (r: Recorder): string[] => r.batches.flatMap((x) => x.events.map((e) => e.kv.key));
        expect(keys(single)).toEqual(["/f/b"]);
        expect(keys(prefix)).toEqual(["/f/a", "/f/b", "/f/bb", "/f/c"]);
        expect(keys(range)).toEqual(["/f/a", "/f/b", "/f/bb"]);
      });

      it("cancel stops delivery and is idempotent", async () => {
        const rec = recorder();
        const w = store.watch({ key: "/c/", prefix: true }, rec);
        await settle();
        await store.put("/c/1", b("1"));
        await until(() => rec.batches.length === 1, "first event");
        w.cancel();
        w.cancel();
        await store.put("/c/2", b("2"));
        await settle();
        expect(rec.batches).toHaveLength(1);
        expect(rec.errors).toEqual([]);
      });

      it("a callback may write to the store; delivery stays ordered and non-reentrant", async () => {
        const rec = recorder();
        let depth = 0;
        let maxDepth = 0;
        let writes = 0;
        store.watch(
          { key: "/r/", prefix: true },
          {
            onEvents: (events, rev) => {
              depth++;
              maxDepth = Math.max(maxDepth, depth);
              rec.onEvents(events, rev);
              if (writes < 3) {
                writes++;
                void store.put(`/r/${writes}`, b("chained"));
              }
              depth--;
            },
            onError: rec.onError,
          },
        );
        await settle();
        await store.put("/r/0", b("start"));
        await until(() => rec.batches.length === 4, "chained events");
        expect(maxDepth).toBe(1);
        expect(rec.batches.map((x) => x.revision)).toEqual([2, 3, 4, 5]);
      });

      it("a throwing callback ends only its own watch; the write and other watchers are unaffected", async () => {
        const bad = recorder();
        const good = recorder();
        store.watch({ key: "/x/", prefix: true }, { onEvents: () => { throw new Error("boom"); }, onError: bad.onError });
        store.watch({ key: "/x/", prefix: true }, good);
        await settle();
        expect(await store.put("/x/1", b("1"))).toBe(2);
        await store.put("/x/2", b("2"));
        await until(() => good.batches.length === 2 && bad.errors.length === 1, "delivery");
        expect(bad.errors[0]!.message).toBe("boom");
        expect((await store.range({ key: "/x/", prefix: true })).count).toBe(2);
      });

      it("rejects a bad selector with InvalidArgument", () => {
        expect(() => store.watch({ key: "" }, recorder())).toThrow(StoreError);
        expect(() => store.watch({ key: "/a", prefix: true, end: "/b" }, recorder())).toThrow(/mutually exclusive/);
        expect(() => store.watch({ key: "/a", startRevision: -1 }, recorder())).toThrow(/startRevision/);
      });
    });

    describe("compaction", () => {
      beforeEach(async () => {
        await store.put("/c/a", b("a1")); // 2
        await store.put("/c/a", b("a2")); // 3
        await store.put("/c/b", b("b1")); // 4
        await store.delete({ key: "/c/b" }); // 5
        await store.put("/c/a", b("a3")); // 6
      });

      it("reads below the compacted revision fail with ErrCompacted; current values stay", async () => {
        await store.compact(5);
        expect(store.compactedRevision()).toBe(5);
        const e = await expectStoreError(store.range({ key: "/c/", prefix: true, revision: 4 }), "Compacted");
        expect(e.message).toMatch(/compacted/);
        const at5 = await store.range({ key: "/c/", prefix: true, revision: 5 });
        expect(at5.kvs.map((kv) => [kv.key, s(kv.value), kv.createRevision, kv.version])).toEqual([["/c/a", "a2", 2, 2]]);
        const now = await store.range({ key: "/c/", prefix: true });
        expect(now.kvs.map((kv) => s(kv.value))).toEqual(["a3"]);
        expect(now.kvs[0]).toMatchObject({ createRevision: 2, modRevision: 6, version: 3 });
        // The revision counter is not affected.
        expect(store.currentRevision()).toBe(6);
        expect(await store.put("/c/a", b("a4"))).toBe(7);
        expect((await store.range({ key: "/c/a" })).kvs[0]!.version).toBe(4);
      });

      it("compacting at or below the last compaction is a no-op; above the current revision fails", async () => {
        await store.compact(4);
        await store.compact(3);
        await store.compact(4);
        expect(store.compactedRevision()).toBe(4);
        await expectStoreError(store.compact(7), "FutureRevision");
        await store.compact(6);
        expect(store.compactedRevision()).toBe(6);
        expect((await store.range({ key: "/c/a", revision: 6 })).kvs).toHaveLength(1);
      });

      it("watches from a compacted revision fail with ErrCompacted; from the compacted one they replay", async () => {
        await store.compact(5);
        const below = recorder();
        store.watch({ key: "/c/", prefix: true, startRevision: 4 }, below);
        await until(() => below.errors.length === 1, "compaction error");
        expect(below.errors[0]).toBeInstanceOf(StoreError);
        expect((below.errors[0] as StoreError).code).toBe("Compacted");
        expect(below.batches).toEqual([]);
        const at = recorder();
        store.watch({ key: "/c/", prefix: true, startRevision: 5 }, at);
        await until(() => at.batches.length === 2, "replay from the compacted revision");
        expect(at.batches.map((x) => x.revision)).toEqual([5, 6]);
        expect(s(at.batches[0]!.events[0]!.prevKv!.value)).toBe("b1");
        expect(s(at.batches[1]!.events[0]!.prevKv!.value)).toBe("a2");
      });

      it("deleted keys vanish after compaction past their delete and can be recreated", async () => {
        await store.compact(6);
        expect((await store.range({ key: "/c/b" })).kvs).toEqual([]);
        await store.put("/c/b", b("b2"));
        expect((await store.range({ key: "/c/b" })).kvs[0]).toMatchObject({ version: 1, createRevision: 7 });
      });
    });

    describe("close", () => {
      it("operations after close fail with ErrClosed; close is idempotent", async () => {
        await store.put("/a", b("1"));
        const rec = recorder();
        store.watch({ key: "/a" }, rec);
        await settle();
        await store.close();
        await store.close();
        await expectStoreError(store.range({ key: "/a" }), "Closed");
        await expectStoreError(store.put("/a", b("2")), "Closed");
        await expectStoreError(store.txn({}), "Closed");
        await expectStoreError(store.delete({ key: "/a" }), "Closed");
        await expectStoreError(store.compact(2), "Closed");
        await until(() => rec.errors.length === 1, "watch ended by close");
        expect((rec.errors[0] as StoreError).code).toBe("Closed");
        const late = recorder();
        store.watch({ key: "/a" }, late);
        await until(() => late.errors.length === 1, "watch on a closed store fails");
      });

      it("writes issued before close either complete or fail with ErrClosed", async () => {
        const writes = Array.from({ length: 20 }, (_, i) => store.put(`/p/${i}`, b("x")).then(
          () => "ok",
          (err: unknown) => (err instanceof StoreError && err.code === "Closed" ? "closed" : `unexpected ${String(err)}`),
        ));
        await store.close();
        const outcomes = await Promise.all(writes);
        expect(outcomes.every((o) => o === "ok" || o === "closed")).toBe(true);
      });
    });
  });
}
