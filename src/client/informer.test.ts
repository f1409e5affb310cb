import { describe, expect, it } from "vitest";
import { ApiError } from "../api/errors.ts";
import type { KubeObject } from "../api/object.ts";
import { Indexer } from "./indexer.ts";
import { applyWatchEvent, createInformer, replaceAll, type ListWatch, type WatchLike } from "./informer.ts";
import type { ObjectList } from "./resource.ts";
import type { WatchEvent } from "./watch.ts";

const pod = (name: string, rv: string, node = "n1"): KubeObject =>
  ({ apiVersion: "v1", kind: "Pod", metadata: { name, namespace: "ns", resourceVersion: rv }, spec: { nodeName: node } });
const bookmark = (rv: string): WatchEvent => ({ type: "BOOKMARK", object: { kind: "Pod", apiVersion: "v1", metadata: { resourceVersion: rv } } });
const expired: WatchEvent = { type: "ERROR", object: { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", reason: "Expired", code: 410, message: "too old resource version" } };

/** A watch that yields `events`, then either ends (`end: true`) or waits until stopped. */
function fakeWatch(events: WatchEvent[], end: boolean): WatchLike<KubeObject> {
  let stop: () => void = () => undefined;
  const stopped = new Promise<void>((r) => { stop = r; });
  return {
    stop: () => stop(),
    async *[Symbol.asyncIterator]() {
      for (const e of events) yield e;
      if (!end) await stopped;
    },
  };
}

type Step =
  | { list: Array<{ items: KubeObject[]; rv: string; cont?: string }> }
  | { listError: unknown }
  | { watch: WatchEvent[]; end?: boolean }
  | { watchError: unknown };

/** Scripted list/watch: each call consumes the next step of the matching kind, recording the call. */
function scripted(steps: Step[]) {
  const calls: string[] = [];
  let i = 0;
  const next = (): Step | undefined => steps[i++];
  const lw: ListWatch<KubeObject> = {
    async list(o) {
      calls.push(`list rv=${o.resourceVersion} limit=${o.limit}${o.continue ? ` continue=${o.continue}` : ""}`);
      const s = steps[i];
      if (s && "list" in s) {
        const page = s.list.shift()!;
        if (s.list.length === 0) i++;
        return { metadata: { resourceVersion: page.rv, ...(page.cont ? { continue: page.cont } : {}) }, items: page.items } satisfies ObjectList;
      }
      if (s && "listError" in s) { i++; throw s.listError; }
      throw new Error(`unexpected list at step ${i}`);
    },
    async watch(o) {
      calls.push(`watch rv=${o.resourceVersion} bookmarks=${o.allowWatchBookmarks}`);
      const s = next();
      if (s && "watch" in s) return fakeWatch(s.watch, s.end ?? false);
      if (s && "watchError" in s) throw s.watchError;
      return fakeWatch([], false); // script exhausted: idle until stopped
    },
  };
  return { lw, calls, done: () => i >= steps.length };
}

async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not reached");
    await new Promise((r) => setTimeout(r, 1));
  }
}

describe("informer pure core", () => {
  it("replaceAll emits adds, updates on changed resourceVersion and final-state-unknown deletes", () => {
    const s = new Indexer<KubeObject>();
    expect(replaceAll(s, [pod("a", "1"), pod("b", "1")]).map((c) => c.type)).toEqual(["add", "add"]);
    const ch = replaceAll(s, [pod("a", "1"), pod("b", "2"), pod("c", "3")]);
    expect(ch.map((c) => `${c.type} ${c.obj.metadata?.name}`)).toEqual(["update b", "add c"]);
    const del = replaceAll(s, [pod("c", "3")]);
    expect(del).toEqual([
      { type: "delete", obj: pod("a", "1"), finalStateUnknown: true },
      { type: "delete", obj: pod("b", "2"), finalStateUnknown: true },
    ]);
  });

  it("applyWatchEvent updates the store and the node index; ERROR throws the Status", () => {
    const s = new Indexer<KubeObject>({ node: (o) => [String((o["spec"] as { nodeName?: string }).nodeName ?? "")] });
    expect(applyWatchEvent(s, { type: "ADDED", object: pod("a", "1", "n1") })?.type).toBe("add");
    expect(applyWatchEvent(s, { type: "MODIFIED", object: pod("a", "2", "n2") })?.type).toBe("update");
    expect(s.byIndex("node", "n1")).toEqual([]);
    expect(s.byIndex("node", "n2").map((o) => o.metadata?.name)).toEqual(["a"]);
    expect(s.listNamespace("ns")).toHaveLength(1);
    expect(applyWatchEvent(s, bookmark("5"))).toBeUndefined();
    expect(applyWatchEvent(s, { type: "DELETED", object: pod("a", "3", "n2") })?.type).toBe("delete");
    expect(s.size).toBe(0);
    expect(() => applyWatchEvent(s, expired)).toThrow(ApiError);
    expect(() => s.byIndex("nope", "x")).toThrow(/no index named "nope"/);
  });
});

describe("informer loop", () => {
  it("pages the list, syncs, follows the watch, tracks bookmarks and re-lists on an in-stream 410", async () => {
    const { lw, calls } = scripted([
      { list: [{ items: [pod("a", "1")], rv: "2", cont: "tok" }, { items: [pod("b", "2")], rv: "2" }] },
      { watch: [{ type: "MODIFIED", object: pod("a", "3") }, bookmark("5"), expired] },
      { list: [{ items: [pod("a", "3"), pod("c", "6")], rv: "7" }] },
      { watch: [] },
    ]);
    const sleeps: number[] = [];
    const inf = createInformer(lw, { pageSize: 1, sleep: async (ms) => { sleeps.push(ms); }, random: () => 0 });
    const log: string[] = [];
    inf.addEventHandler({
      onAdd: (o, initial) => log.push(`add ${o.metadata?.name}${initial ? " (list)" : ""}`),
      onUpdate: (o, n) => log.push(`update ${o.metadata?.name} ${o.metadata?.resourceVersion}->${n.metadata?.resourceVersion}`),
      onDelete: (o, unknown) => log.push(`delete ${o.metadata?.name}${unknown ? " (unknown)" : ""}`),
    });
    expect(inf.hasSynced()).toBe(false);
    inf.start();
    await inf.waitForSync({ timeoutMs: 1000 });
    await until(() => calls.length >= 5);
    await until(() => inf.lastSyncResourceVersion() === "7");
    await inf.stop();
    expect(calls).toEqual([
      "list rv= limit=1",
      "list rv= limit=1 continue=tok",
      "watch rv=2 bookmarks=true",
      "list rv= limit=1",
      "watch rv=7 bookmarks=true",
    ]);
    expect(log).toEqual(["add a (list)", "add b (list)", "update a 1->3", "add c (list)", "delete b (unknown)"]);
    expect(sleeps).toEqual([]); // the first 410 re-lists at once
    expect(inf.stats).toMatchObject({ lists: 2, watches: 2, events: 1, bookmarks: 1, errors: 1 });
    expect(inf.store.keys().sort()).toEqual(["ns/a", "ns/c"]);
  });

  it("re-lists after a 410 from the watch request; resumes from the bookmark when the stream just ends", async () => {
    const gone = new ApiError(410, "Expired", "too old resource version: 2 (9)");
    const { lw, calls } = scripted([
      { list: [{ items: [], rv: "2" }] },
      { watch: [bookmark("4")], end: true },
      { watchError: gone },
      { list: [{ items: [pod("x", "10")], rv: "10" }] },
      { watch: [] },
    ]);
    const inf = createInformer(lw, { sleep: async () => undefined, random: () => 0 });
    inf.start();
    await until(() => calls.length >= 5);
    await inf.stop();
    expect(calls).toEqual(["list rv= limit=500", "watch rv=2 bookmarks=true", "watch rv=4 bookmarks=true", "list rv= limit=500", "watch rv=10 bookmarks=true"]);
    expect(inf.store.keys()).toEqual(["ns/x"]);
  });

  it("backs off exponentially on repeated failures and resets after a good list; handler errors are contained", async () => {
    const { lw, calls } = scripted([
      { listError: new Error("connection refused") },
      { listError: new Error("connection refused") },
      { listError: new ApiError(500, "InternalError", "boom") },
      { list: [{ items: [pod("a", "1")], rv: "1" }] },
      { watchError: new Error("stream reset") },
      { list: [{ items: [pod("a", "1")], rv: "1" }] },
      { watch: [] },
    ]);
    const sleeps: number[] = [];
    const errors: unknown[] = [];
    const inf = createInformer(lw, {
      sleep: async (ms) => { sleeps.push(ms); }, random: () => 0, backoff: { initialMs: 100, maxMs: 1000 },
      onError: (e) => errors.push(e),
    });
    inf.addEventHandler({ onAdd: () => { throw new Error("handler bug"); } });
    const other: string[] = [];
    inf.addEventHandler({ onAdd: (o) => other.push(o.metadata?.name ?? "") });
    inf.start();
    await until(() => calls.length >= 7);
    await inf.stop();
    expect(sleeps).toEqual([100, 200, 400, 100]);
    expect(other).toEqual(["a"]);
    expect(errors.map((e) => (e as Error).message)).toEqual(["connection refused", "connection refused", "boom", "handler bug", "stream reset"]);
  });

  it("replays adds to handlers registered after sync; waitForSync times out clearly", async () => {
    const { lw } = scripted([{ list: [{ items: [pod("a", "1")], rv: "1" }] }, { watch: [] }]);
    const inf = createInformer(lw);
    await expect(inf.waitForSync({ timeoutMs: 10 })).rejects.toThrow(/did not sync within 10 ms/);
    inf.start();
    await inf.waitForSync({ timeoutMs: 1000 });
    const late: string[] = [];
    inf.addEventHandler({ onAdd: (o, initial) => late.push(`${o.metadata?.name} ${initial}`) });
    expect(late).toEqual(["a true"]);
    await inf.stop();
  });
});
