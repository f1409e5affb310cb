/**
 * The fixed handler every adapter serves for the conformance suite (`conformance.ts`). It runs on
 * Node and Deno (no runtime APIs), and exposes its own side of each case over HTTP (`/probe`), so
 * the suite can check server-side effects of an adapter running in another process.
 *
 * Routes:
 *   /echo/...?limit=N        JSON of the request as the handler saw it; body read with limit N
 *                            (default 2 MiB); over the limit: 413 "BodyTooLargeError"
 *   /status/<code>           that status, header x-custom: yes, body "status <code>"
 *   /headers                 fixed response headers
 *   /slow?ms=N               answers after N ms (capped at 5 s)
 *   /stream/gated?id=        "chunk-1\n", then waits for /release?id= (max 10 s), then "chunk-2\n"
 *   /stream/forever?id=      "tick\n" every 20 ms until the client goes away (max 60 s)
 *   /stream/big?id=&chunks=&size=   `chunks` chunks of `size` bytes (bounded), counting production
 *   /probe?id=               JSON { aborted, returned, produced } for a stream id
 *   /upgrade                 101 + echo of the raw connection (HTTP/1.1 Upgrade requests)
 */
import { BodyTooLargeError, type Handler, type HttpRequest, type HttpResponse } from "./types.ts";

export interface StreamProbe {
  aborted: boolean;
  returned: boolean;
  produced: number;
}

const MAX_PROBES = 10_000;

/** FNV-1a 32-bit over bytes, as an unsigned number (the suite computes the same). */
export function fnv1a(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i] as number;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Creates a fresh handler with its own probe state. */
export function createConformanceHandler(): Handler {
  const probes = new Map<string, StreamProbe>();
  const gates = new Map<string, () => void>();

  const probeFor = (id: string): StreamProbe => {
    let p = probes.get(id);
    if (!p) {
      if (probes.size >= MAX_PROBES) probes.clear();
      p = { aborted: false, returned: false, produced: 0 };
      probes.set(id, p);
    }
    return p;
  };
  const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
    new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      signal?.addEventListener("abort", () => {
        clearTimeout(t);
        resolve();
      }, { once: true });
    });
  const json = (status: number, value: unknown): HttpResponse => ({
    status,
    headers: { "content-type": "application/json" },
    body: JSON.stringify(value),
  });

  return async (req: HttpRequest): Promise<HttpResponse> => {
    const p = req.path;
    const id = req.query.get("id") ?? "";
    if (p.startsWith("/echo")) {
      const limit = Number(req.query.get("limit") ?? 2 * 1024 * 1024);
      let body: Uint8Array;
      try {
        body = await req.body(limit);
      } catch (err) {
        if (err instanceof BodyTooLargeError) return { status: 413, body: "BodyTooLargeError" };
        return { status: 400, body: `body error: ${String(err)}` };
      }
      return json(200, {
        method: req.method,
        path: req.path,
        rawQuery: req.rawQuery,
        query: [...req.query.entries()],
        headers: req.headers,
        httpVersion: req.httpVersion,
        peer: req.peerCertificate ?? null,
        bodyLength: body.byteLength,
        bodyHash: fnv1a(body),
        bodyText: body.byteLength <= 1024 ? new TextDecoder().decode(body) : "",
      });
    }
    if (p.startsWith("/status/")) {
      const code = Number(p.slice("/status/".length));
      const headers = { "x-custom": "yes" };
      return code === 204 || code === 304 ? { status: code, headers } : { status: code, headers, body: `status ${code}` };
    }
    if (p === "/headers") {
      return {
        status: 200,
        headers: { "content-type": "text/plain; charset=utf-8", "x-one": "1", "x-multi": "a, b", "cache-control": "no-cache" },
        body: "headers",
      };
    }
    if (p === "/slow") {
      await sleep(Math.min(Number(req.query.get("ms") ?? 100), 5000), req.signal);
      return { status: 200, body: "slow" };
    }
    if (p === "/release") {
      const g = gates.get(id);
      gates.delete(id);
      g?.();
      return { status: g ? 200 : 404, body: g ? "released" : "no such gate" };
    }
    if (p === "/probe") return json(200, probes.get(id) ?? null);
    if (p === "/stream/gated") {
      const gate = new Promise<void>((resolve) => {
        gates.set(id, resolve);
        setTimeout(resolve, 10_000);
      });
      const enc = new TextEncoder();
      async function* gated(): AsyncGenerator<Uint8Array> {
        yield enc.encode("chunk-1\n");
        await gate;
        yield enc.encode("chunk-2\n");
      }
      return { status: 200, headers: { "content-type": "text/plain" }, body: gated() };
    }
    if (p === "/stream/forever") {
      const probe = probeFor(id);
      req.signal.addEventListener("abort", () => (probe.aborted = true), { once: true });
      const tick = new TextEncoder().encode("tick\n");
      async function* forever(): AsyncGenerator<Uint8Array> {
        try {
          for (let i = 0; i < 3000 && !req.signal.aborted; i++) {
            probe.produced++;
            yield tick;
            await sleep(20, req.signal);
          }
        } finally {
          probe.returned = true;
        }
      }
      return { status: 200, headers: { "content-type": "text/plain" }, body: forever() };
    }
    if (p === "/stream/big") {
      const probe = probeFor(id);
      req.signal.addEventListener("abort", () => (probe.aborted = true), { once: true });
      const chunks = Math.min(Number(req.query.get("chunks") ?? 16), 4096);
      const size = Math.min(Number(req.query.get("size") ?? 65536), 1 << 20);
      async function* big(): AsyncGenerator<Uint8Array> {
        try {
          for (let i = 0; i < chunks; i++) {
            probe.produced++;
            yield new Uint8Array(size).fill(i & 0xff);
          }
        } finally {
          probe.returned = true;
        }
      }
      return { status: 200, headers: { "content-type": "application/octet-stream" }, body: big() };
    }
    if (p === "/upgrade") {
      return {
        status: 101,
        headers: { connection: "Upgrade", upgrade: req.headers["upgrade"] ?? "tug-echo" },
        upgrade: (conn) => {
          void (async () => {
            try {
              if (conn.head.byteLength > 0) await conn.write(conn.head);
              for await (const chunk of conn.readable) await conn.write(chunk);
            } catch {
              // the peer went away
            } finally {
              conn.close();
            }
          })();
        },
      };
    }
    return { status: 404, body: "not found" };
  };
}
