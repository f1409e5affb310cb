import { createServer, type Http2Server } from "node:http2";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { DeadlineSet, timeoutError } from "./_deadlines.ts";
import { readAll } from "./http2.ts";
import { RestClient } from "./rest.ts";

describe("DeadlineSet", () => {
  it("expires due deadlines in one timer turn and keeps later ones", async () => {
    const set = new DeadlineSet();
    const fired: string[] = [];
    const t0 = performance.now();
    set.add({ at: t0 + 10, expire: () => fired.push("a") });
    set.add({ at: t0 + 20, expire: () => fired.push("b") });
    const c = { at: t0 + 5_000, expire: () => fired.push("c") };
    set.add(c);
    await new Promise((r) => setTimeout(r, 60));
    expect(fired).toEqual(["a", "b"]);
    expect(set.size).toBe(1);
    set.delete(c);
    expect(set.size).toBe(0);
  });

  it("re-arms for an earlier deadline added after a later one, and never fires removed ones", async () => {
    const set = new DeadlineSet();
    const fired: string[] = [];
    const t0 = performance.now();
    const late = { at: t0 + 10_000, expire: () => fired.push("late") };
    set.add(late);
    const gone = { at: t0 + 5, expire: () => fired.push("gone") };
    set.add(gone);
    set.add({ at: t0 + 15, expire: () => fired.push("early") });
    set.delete(gone);
    await new Promise((r) => setTimeout(r, 50));
    expect(fired).toEqual(["early"]);
    set.delete(late);
  });

  it("a throwing expiry does not stop the others", async () => {
    const set = new DeadlineSet();
    const fired: string[] = [];
    const t0 = performance.now();
    set.add({ at: t0, expire: () => { throw new Error("boom"); } });
    set.add({ at: t0, expire: () => fired.push("ok") });
    await new Promise((r) => setTimeout(r, 20));
    expect(fired).toEqual(["ok"]);
  });

  it("timeoutError is what AbortSignal.timeout aborts with", () => {
    const e = timeoutError();
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe("TimeoutError");
    expect(e.message).toBe("The operation was aborted due to timeout");
  });
});

describe("readAll", () => {
  it("joins a stream's chunks", async () => {
    expect(Buffer.from(await readAll(Readable.from([Buffer.from("ab"), Buffer.from("cd")]))).toString()).toBe("abcd");
    expect((await readAll(Readable.from([]))).length).toBe(0);
  });

  it("fails past the limit and destroys the stream", async () => {
    const s = Readable.from([Buffer.alloc(10), Buffer.alloc(10)]);
    await expect(readAll(s, 15)).rejects.toThrow(/exceeds 15 bytes/);
    expect(s.destroyed).toBe(true);
  });

  it("rejects with the stream's error, and with Premature close when it closes before its end", async () => {
    const failing = new Readable({ read() { this.destroy(new Error("reset")); } });
    await expect(readAll(failing)).rejects.toThrow("reset");
    const cut = new Readable({ read() { this.push(Buffer.from("x")); this.destroy(); } });
    await expect(readAll(cut)).rejects.toMatchObject({ message: "Premature close", code: "ERR_STREAM_PREMATURE_CLOSE" });
  });

  it("reads a plain async iterable", async () => {
    async function* gen(): AsyncGenerator<Uint8Array> {
      yield new Uint8Array([1]);
      yield new Uint8Array([2, 3]);
    }
    expect([...(await readAll(gen()))]).toEqual([1, 2, 3]);
  });
});

describe("request timeouts", () => {
  let server: Http2Server | undefined;
  let client: RestClient | undefined;
  afterEach(async () => {
    client?.close();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    server = undefined;
  });

  it("a request without an answer fails with TimeoutError at its deadline; later requests still work", async () => {
    let n = 0;
    server = createServer((req, res) => {
      if (n++ === 0) return; // never answers the first request
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x" } }));
    });
    await new Promise<void>((r) => server!.listen(0, "127.0.0.1", () => r()));
    client = new RestClient({ server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, namespace: "default", encoding: "json", timeoutMs: 100 });
    const t0 = performance.now();
    await expect(client.request({ method: "GET", path: "/api/v1/namespaces/default/configmaps/x" })).rejects.toMatchObject({ name: "TimeoutError" });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(95);
    const obj = await client.object({ method: "GET", path: "/api/v1/namespaces/default/configmaps/x" });
    expect(obj.metadata?.name).toBe("x");
  });

  it("the caller's signal still aborts a request that has a deadline", async () => {
    server = createServer(() => undefined);
    await new Promise<void>((r) => server!.listen(0, "127.0.0.1", () => r()));
    client = new RestClient({ server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, namespace: "default", encoding: "json" });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 20);
    await expect(client.request({ method: "GET", path: "/x", signal: ac.signal })).rejects.toMatchObject({ name: "AbortError" });
  });
});
