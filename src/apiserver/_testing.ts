/**
 * Test helpers: synthetic HttpRequests and response readers for driving `handler(req)` directly.
 */
import { gunzipSync } from "node:zlib";
import { BodyTooLargeError, type HttpRequest, type HttpResponse } from "../transport/types.ts";

export interface FakeRequestInit {
  readonly headers?: Record<string, string>;
  readonly body?: string | Uint8Array | object;
  readonly signal?: AbortSignal;
  readonly peerCertificate?: { commonName: string; organizations: string[] };
}

export function fakeRequest(method: string, url: string, init: FakeRequestInit = {}): HttpRequest {
  const u = new URL(url, "http://localhost");
  let bytes: Uint8Array;
  const b = init.body;
  if (b === undefined) bytes = new Uint8Array();
  else if (typeof b === "string") bytes = new TextEncoder().encode(b);
  else if (b instanceof Uint8Array) bytes = b;
  else bytes = new TextEncoder().encode(JSON.stringify(b));
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(init.headers ?? {})) headers[k.toLowerCase()] = v;
  if (b !== undefined && headers["content-type"] === undefined) headers["content-type"] = "application/json";
  return {
    method,
    path: (() => { try { return decodeURIComponent(u.pathname); } catch { return u.pathname; } })(),
    rawQuery: u.search.replace(/^\?/, ""),
    query: u.searchParams,
    headers,
    httpVersion: "2",
    remoteAddress: "127.0.0.1",
    ...(init.peerCertificate ? { peerCertificate: init.peerCertificate } : {}),
    signal: init.signal ?? new AbortController().signal,
    async body(limit: number): Promise<Uint8Array> {
      if (bytes.length > limit) throw new BodyTooLargeError(limit);
      return bytes;
    },
  };
}

export async function bodyBytes(res: HttpResponse): Promise<Uint8Array> {
  let out: Uint8Array;
  const b = res.body;
  if (b === undefined) out = new Uint8Array();
  else if (typeof b === "string") out = new TextEncoder().encode(b);
  else if (b instanceof Uint8Array) out = b;
  else {
    const parts: Uint8Array[] = [];
    for await (const c of b) parts.push(c);
    out = Buffer.concat(parts);
  }
  if (res.headers?.["content-encoding"] === "gzip") out = gunzipSync(out);
  return out;
}

export async function bodyText(res: HttpResponse): Promise<string> {
  return new TextDecoder().decode(await bodyBytes(res));
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- test-side JSON access
export async function bodyJson(res: HttpResponse): Promise<any> {
  return JSON.parse(await bodyText(res)) as unknown;
}

/** Reads up to `n` watch lines (JSON watch stream), then closes the stream. Bounded by `ms`. */
export async function readWatchLines(res: HttpResponse, n: number, ms = 3000): Promise<unknown[]> {
  const b = res.body;
  if (!b || typeof b === "string" || b instanceof Uint8Array) throw new Error("not a stream");
  const it = b[Symbol.asyncIterator]();
  const out: unknown[] = [];
  let buf = "";
  const deadline = Date.now() + ms;
  try {
    while (out.length < n && Date.now() < deadline) {
      const r = await Promise.race([it.next(), new Promise<"t">((res2) => setTimeout(() => res2("t"), Math.max(1, deadline - Date.now())))]);
      if (r === "t" || r.done) break;
      buf += new TextDecoder().decode(r.value);
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        out.push(JSON.parse(buf.slice(0, i)));
        buf = buf.slice(i + 1);
      }
    }
  } finally {
    await it.return?.();
  }
  return out;
}
