/**
 * The client honours Retry-After on 429 (and 5xx) for every verb, a bounded number of times.
 * Against a tiny h2c server on loopback that answers 429 a scripted number of times.
 */
import { createServer, type Http2Server } from "node:http2";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { ApiError } from "../api/errors.ts";
import { RestClient, retryAfterOf } from "./rest.ts";

let server: Http2Server | undefined;
let client: RestClient | undefined;
afterEach(async () => {
  client?.close();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

/** Answers the first `rejections` requests 429 (with `retryAfter` when given), then 200 echoing the method and body. */
async function serve(rejections: number, retryAfter: string | undefined): Promise<{ url: string; seen: Array<{ method: string; body: string; at: number }> }> {
  const seen: Array<{ method: string; body: string; at: number }> = [];
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      seen.push({ method: req.method ?? "", body: Buffer.concat(chunks).toString("utf8"), at: performance.now() });
      if (seen.length <= rejections) {
        res.writeHead(429, { "content-type": "application/json", ...(retryAfter !== undefined ? { "retry-after": retryAfter } : {}) });
        res.end(JSON.stringify({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: "Too many requests, please try again later.", reason: "TooManyRequests", code: 429 }));
        return;
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x" }, data: { method: req.method ?? "" } }));
    });
  });
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", () => r()));
  return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, seen };
}

describe("429 + Retry-After", () => {
  it("retries a create after the server's Retry-After, resending the body", async () => {
    const s = await serve(2, "0");
    client = new RestClient({ server: s.url, namespace: "default", encoding: "json" });
    const obj = await client.object({ method: "POST", path: "/api/v1/namespaces/default/configmaps", body: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x" } } });
    expect(obj["data"]).toEqual({ method: "POST" });
    expect(s.seen.map((r) => r.method)).toEqual(["POST", "POST", "POST"]);
    expect(new Set(s.seen.map((r) => r.body)).size).toBe(1);
  });

  it("waits as long as Retry-After says", async () => {
    const s = await serve(1, "1");
    client = new RestClient({ server: s.url, namespace: "default", encoding: "json" });
    await client.object({ method: "DELETE", path: "/api/v1/namespaces/default/configmaps/x" });
    const [a, b] = s.seen;
    expect(b!.at - a!.at).toBeGreaterThanOrEqual(950);
  });

  it("withRetries(0) shares the connection and surfaces the first 429", async () => {
    const s = await serve(5, "0");
    client = new RestClient({ server: s.url, namespace: "default", encoding: "json" });
    const once = client.withRetries(0);
    await expect(once.object({ method: "POST", path: "/api/v1/namespaces/default/configmaps", body: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x" } } }))
      .rejects.toMatchObject({ code: 429 });
    expect(s.seen).toHaveLength(1);
    // the original keeps retrying (4 more 429s, then 200)
    expect((await client.object({ method: "GET", path: "/api/v1/namespaces/default/configmaps/x" }))["data"]).toEqual({ method: "GET" });
    expect(s.seen).toHaveLength(6);
  });

  it("gives up after maxRetries and surfaces the 429", async () => {
    const s = await serve(100, "0");
    client = new RestClient({ server: s.url, namespace: "default", encoding: "json", maxRetries: 3 });
    const err = await client.object({ method: "GET", path: "/api/v1/namespaces/default/configmaps/x" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe(429);
    expect(s.seen.length).toBe(4);
  });

  it("does not retry a 429 without Retry-After (e.g. an eviction blocked by a budget)", async () => {
    const s = await serve(1, undefined);
    client = new RestClient({ server: s.url, namespace: "default", encoding: "json" });
    const res = await client.request({ method: "POST", path: "/api/v1/namespaces/default/pods/p/eviction", body: "{}" });
    expect(res.status).toBe(429);
    expect(s.seen.length).toBe(1);
  });

  it("reads Retry-After as client-go does", () => {
    expect(retryAfterOf(429, { "retry-after": "3" })).toBe(3);
    expect(retryAfterOf(503, { "retry-after": "1" })).toBe(1);
    expect(retryAfterOf(429, { "retry-after": "9999" })).toBe(60);
    expect(retryAfterOf(429, {})).toBeUndefined();
    expect(retryAfterOf(429, { "retry-after": "Wed, 21 Oct 2015 07:28:00 GMT" })).toBeUndefined();
    expect(retryAfterOf(409, { "retry-after": "1" })).toBeUndefined();
  });
});
