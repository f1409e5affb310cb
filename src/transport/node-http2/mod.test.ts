import { mkdtempSync, rmSync } from "node:fs";
import * as http from "node:http";
import * as http2 from "node:http2";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensurePki, type Pki } from "../../pki/mod.ts";
import { runTransportConformance, startInProcess } from "../conformance.ts";
import type { HttpRequest, Server } from "../types.ts";
import { LazyAbort } from "../_shared.ts";
import { capabilities, nodeHttp2Transport } from "./mod.ts";

runTransportConformance("node-http2", capabilities, startInProcess(nodeHttp2Transport));

describe("node-http2 adapter internals", () => {
  let dir = "";
  let pki: Pki;
  let plain: Server;
  let secure: Server;
  const seen: Array<{ kind: string; query: string; httpVersion: string }> = [];
  const handler = async (req: HttpRequest): Promise<{ status: number; body: string }> => {
    seen.push({ kind: req.constructor.name, query: req.query.get("q") ?? "", httpVersion: req.httpVersion });
    return { status: 200, body: "ok" };
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "tug-nodeh2-"));
    pki = await ensurePki(dir, { hosts: [] });
    plain = await nodeHttp2Transport.listen(handler, { host: "127.0.0.1", port: 0 });
    secure = await nodeHttp2Transport.listen(handler, { host: "127.0.0.1", port: 0, tls: { cert: pki.serverCert, key: pki.serverKey, clientCa: pki.caCert } });
  });
  afterAll(async () => {
    await Promise.all([plain?.close(), secure?.close()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const h2get = (url: string, path: string, ca?: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const s = http2.connect(url, ca !== undefined ? { ca } : {});
      s.on("error", reject);
      const r = s.request({ ":path": path });
      let text = "";
      r.setEncoding("utf8");
      r.on("data", (c: string) => (text += c));
      r.on("end", () => {
        s.close();
        resolve(text);
      });
      r.on("error", reject);
      r.end();
    });

  it("serves h2 streams with the core API (h2c and TLS), HTTP/1.1 with node:http", async () => {
    seen.length = 0;
    expect(await h2get(`http://127.0.0.1:${plain.port}`, "/a?q=1")).toBe("ok");
    expect(await h2get(`https://127.0.0.1:${secure.port}`, "/b?q=2", pki.caCert)).toBe("ok");
    const h1 = await new Promise<string>((resolve, reject) => {
      http.get(`http://127.0.0.1:${plain.port}/c?q=3`, (res) => {
        let t = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (t += c));
        res.on("end", () => resolve(t));
      }).on("error", reject);
    });
    expect(h1).toBe("ok");
    expect(seen).toEqual([
      { kind: "StreamRequest", query: "1", httpVersion: "2" },
      { kind: "StreamRequest", query: "2", httpVersion: "2" },
      { kind: "Object", query: "3", httpVersion: "1.1" },
    ]);
  });

  it("a streaming body for a client that left before the response began is return()ed", async () => {
    let returned = false;
    let started = false;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const srv = await nodeHttp2Transport.listen(async () => {
      await gate;
      const it: AsyncIterator<Uint8Array> = {
        next: async () => {
          started = true;
          return { done: true, value: undefined };
        },
        return: async () => {
          returned = true;
          return { done: true, value: undefined };
        },
      };
      return { status: 200, body: { [Symbol.asyncIterator]: () => it } };
    }, { host: "127.0.0.1", port: 0 });
    try {
      const s = http2.connect(`http://127.0.0.1:${srv.port}`);
      s.on("error", () => undefined);
      const r = s.request({ ":path": "/watch" });
      r.on("error", () => undefined);
      r.end();
      await new Promise((res) => setTimeout(res, 100));
      r.close(http2.constants.NGHTTP2_CANCEL);
      await new Promise((res) => setTimeout(res, 100));
      release();
      for (let i = 0; i < 100 && !returned; i++) await new Promise((res) => setTimeout(res, 10));
      expect(returned).toBe(true);
      expect(started).toBe(false);
      s.close();
    } finally {
      await srv.close();
    }
  });

  it("advertises upload windows of 256 KiB per stream and 64 MiB per connection (h2c and TLS)", async () => {
    for (const [url, ca] of [[`http://127.0.0.1:${plain.port}`, undefined], [`https://127.0.0.1:${secure.port}`, pki.caCert]] as const) {
      const s = http2.connect(url, ca !== undefined ? { ca } : {});
      try {
        await new Promise<void>((resolve, reject) => {
          s.once("error", reject);
          s.once("remoteSettings", () => resolve());
        });
        expect(s.remoteSettings.initialWindowSize).toBe(256 << 10);
        // The connection window arrives as a WINDOW_UPDATE right after SETTINGS.
        const deadline = Date.now() + 2000;
        while ((s.state.remoteWindowSize ?? 0) < 64 << 20 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
        expect(s.state.remoteWindowSize).toBe(64 << 20);
        // A body larger than HTTP/2's default 64 KiB windows goes out whole before the server reads it.
        const r = s.request({ ":method": "POST", ":path": "/big" });
        r.end(Buffer.alloc(200 << 10, 7));
        r.resume();
        await new Promise<void>((resolve, reject) => {
          r.once("error", reject);
          r.once("close", () => resolve());
        });
      } finally {
        s.close();
      }
    }
  });

  it("LazyAbort: the signal handed out after abort() is already aborted; abort() is idempotent", () => {
    const early = new LazyAbort();
    early.abort(new Error("gone"));
    early.abort(new Error("again"));
    expect(early.signal.aborted).toBe(true);
    expect((early.signal.reason as Error).message).toBe("gone");
    const late = new LazyAbort();
    const s = late.signal;
    expect(s.aborted).toBe(false);
    late.abort(new Error("bye"));
    expect(s.aborted).toBe(true);
    expect(late.signal).toBe(s);
  });
});
