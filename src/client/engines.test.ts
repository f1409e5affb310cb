/**
 * The two HTTP/2 engines behind `Http2Connection` ("tug": src/h2, "node": node:http2) against the
 * same node:http2 server: same outcomes for bodies both ways, gzip, streaming and cancel, abort,
 * deadlines, refused streams (retried once) and a server that goes away.
 */
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Http2Connection, readAll } from "./http2.ts";

let server: http2.Http2Server;
let origin = "";
let refusedOnce = 0;

beforeAll(async () => {
  server = http2.createServer();
  server.on("stream", (s, h) => {
    const path = String(h[":path"] ?? "");
    const chunks: Buffer[] = [];
    s.on("error", () => undefined); // refused / cancelled streams end in an error event here
    s.on("data", (c: Buffer) => chunks.push(c));
    s.on("end", () => {
      if (path === "/echo") { const b = Buffer.concat(chunks); s.respond({ ":status": 200, "x-len": String(b.length) }); s.end(b); return; }
      if (path.startsWith("/big")) { s.respond({ ":status": 200 }); s.end(Buffer.alloc(4 << 20, 7)); return; }
      if (path === "/gzip") { s.respond({ ":status": 200, "content-encoding": "gzip" }); s.end(gzipSync(Buffer.from("hello gzip"))); return; }
      if (path === "/watch") {
        s.respond({ ":status": 200 });
        let n = 0;
        const t = setInterval(() => { if (s.destroyed || s.closed) { clearInterval(t); return; } s.write(`event ${n++}\n`); }, 5);
        s.on("close", () => clearInterval(t));
        return;
      }
      if (path === "/slow") { setTimeout(() => { if (!s.destroyed) { s.respond({ ":status": 200 }); s.end("late"); } }, 2000); return; }
      if (path === "/refuse-once" && refusedOnce++ === 0) { s.close(http2.constants.NGHTTP2_REFUSED_STREAM); return; }
      s.respond({ ":status": 201, "content-type": "text/plain" });
      s.end(`ok ${h[":method"]} ${path}`);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

const text = (b: Uint8Array): string => Buffer.from(b).toString();

describe.each(["tug", "node"] as const)("Http2Connection engine %s", (engine) => {
  it("GET, POST with a body, 4 MiB responses, gzip, repeated headers", async () => {
    const c = new Http2Connection({ server: origin, engine });
    try {
      const get = await c.request({ method: "GET", path: "/x?y=1", headers: { accept: "text/plain" } });
      expect(get.status).toBe(201);
      expect(get.headers["content-type"]).toBe("text/plain");
      expect(text(await readAll(get.body))).toBe("ok GET /x?y=1");
      const body = Buffer.alloc(3 << 20, 1);
      const echo = await c.request({ method: "POST", path: "/echo", body });
      expect(echo.headers["x-len"]).toBe(String(body.length));
      expect((await readAll(echo.body)).length).toBe(body.length);
      const big = await Promise.all([1, 2, 3].map((i) => c.request({ method: "GET", path: `/big${i}` }).then((r) => readAll(r.body))));
      for (const b of big) expect(b.length).toBe(4 << 20);
      const gz = await c.request({ method: "GET", path: "/gzip" });
      expect(text(await readAll(gz.body))).toBe("hello gzip");
    } finally { c.close(); }
  });

  it("streams chunks as they come and cancel() ends the stream; the connection stays usable", async () => {
    const c = new Http2Connection({ server: origin, engine });
    try {
      const w = await c.request({ method: "GET", path: "/watch" });
      const seen: string[] = [];
      for await (const chunk of w.body) {
        seen.push(text(chunk));
        if (seen.length === 3) w.cancel();
      }
      expect(seen.join("")).toMatch(/^event 0\n/);
      expect(text(await readAll((await c.request({ method: "GET", path: "/after" })).body))).toBe("ok GET /after");
    } finally { c.close(); }
  });

  it("abort and deadline fail the request and leave the connection usable", async () => {
    const c = new Http2Connection({ server: origin, engine });
    try {
      const ac = new AbortController();
      const p = c.request({ method: "GET", path: "/slow", signal: ac.signal });
      setTimeout(() => ac.abort(), 50);
      await expect(p).rejects.toMatchObject({ name: "AbortError" });
      await expect(c.request({ method: "GET", path: "/slow", deadline: performance.now() + 100 })).rejects.toMatchObject({ name: "TimeoutError" });
      expect((await c.request({ method: "GET", path: "/ok" })).status).toBe(201);
    } finally { c.close(); }
  });

  it("a refused stream is retried once (POST too: the server did not process it)", async () => {
    refusedOnce = 0;
    const c = new Http2Connection({ server: origin, engine });
    try {
      const r = await c.request({ method: "POST", path: "/refuse-once", body: Buffer.from("x") });
      expect(r.status).toBe(201);
      expect(refusedOnce).toBe(2);
    } finally { c.close(); }
  });

  it("a server that is not there is a ConnectionError; a closed connection refuses requests", async () => {
    const c = new Http2Connection({ server: "http://127.0.0.1:1", engine, connectTimeoutMs: 2000 });
    await expect(c.request({ method: "GET", path: "/" })).rejects.toMatchObject({ name: "ConnectionError" });
    c.close();
    await expect(c.request({ method: "GET", path: "/" })).rejects.toMatchObject({ name: "ConnectionError" });
  });
});
