/**
 * hyper-express 6.18 on uWebSockets.js: HTTP/1.1 (plaintext and TLS). uWS has no HTTP/2 and does
 * not expose client certificates, so `peerCertificate` is never set here (bearer tokens still
 * work), and HTTP/1.1 upgrades are not handed over as raw sockets (uWS only upgrades to its own
 * WebSocket implementation); a handler's 101 is answered with 501.
 *
 * The uWS package used (@trufflesuite/uws-js-unofficial) silently falls back to a slow pure-JS
 * implementation when its native binary does not load. `uwsNative` reports which one loaded, and
 * `listen` refuses to start on the fallback.
 */
import { createRequire } from "node:module";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Request as HxRequest, Response as HxResponse, Server as HxServer } from "hyper-express";
import { badRequest, bodyForbidden, contentLengthOf, fixedBody, internalError, notImplemented, parseTarget, pumpBody } from "../_shared.ts";
import { BodyTooLargeError, type Handler, type HttpRequest, type HttpResponse, type ListenOptions, type Server, type Transport, type TransportCapabilities } from "../types.ts";

export const capabilities: TransportCapabilities = {
  tlsH2: false,
  h2c: false,
  http1Plaintext: true,
  clientCertificates: false,
  upgrade: false,
};

const require = createRequire(import.meta.url);
const hyperExpressPath = require.resolve("hyper-express");
// hyper-express is CommonJS; load it (and uWS as hyper-express resolves it) with require.
const hx = require(hyperExpressPath) as typeof import("hyper-express");
const uws = createRequire(hyperExpressPath)("uWebSockets.js") as { App: unknown };

/** True when uWebSockets.js runs its native binary (not the slow JS fallback). */
export const uwsNative: boolean = typeof uws.App === "function" && Function.prototype.toString.call(uws.App).includes("[native code]");

/** Headers uWS computes itself; a handler's copy would be sent twice. */
const COMPUTED = new Set(["content-length", "transfer-encoding", "connection", "date"]);

export const uwsTransport: Transport = {
  name: "uws",
  capabilities,
  listen,
};

async function listen(handler: Handler, opts: ListenOptions): Promise<Server> {
  if (!uwsNative) {
    throw new Error(
      "uws transport: the uWebSockets.js native binary did not load, and the package fell back to its slow pure-JS path " +
        `(node ${process.versions.node}, ABI ${process.versions.modules}, ${process.platform}-${process.arch}); use the node-http2 transport`,
    );
  }
  let tlsDir: string | undefined;
  const options: ConstructorParameters<typeof hx.Server>[0] = {
    auto_close: false,
    fast_buffers: true,
    max_body_length: UWS_MAX_BODY, // per-request limits are enforced by body(limit)
  };
  if (opts.tls) {
    // uWS reads TLS material from files only.
    tlsDir = await mkdtemp(join(tmpdir(), "tug-uws-tls-"));
    await chmod(tlsDir, 0o700);
    await writeFile(join(tlsDir, "tls.crt"), opts.tls.cert, { mode: 0o600 });
    await writeFile(join(tlsDir, "tls.key"), opts.tls.key, { mode: 0o600 });
    options.cert_file_name = join(tlsDir, "tls.crt");
    options.key_file_name = join(tlsDir, "tls.key");
  }
  const app: HxServer = new hx.Server(options);
  const inflight = new Set<AbortController>();
  app.any("/*", (req, res) => serve(handler, req, res, inflight));
  try {
    await app.listen(opts.port, opts.host);
  } catch (err) {
    if (tlsDir) await rm(tlsDir, { recursive: true, force: true });
    throw new Error(`uws transport: cannot listen on ${opts.host}:${opts.port}: ${String(err)}`);
  }
  const port = app.port;
  let closing: Promise<void> | undefined;
  return {
    port,
    close(): Promise<void> {
      closing ??= (async () => {
        app.close();
        for (const ac of inflight) ac.abort(new Error("server closing"));
        // let ending streams flush their last chunk, then drop every connection
        for (let i = 0; i < 100 && inflight.size > 0; i++) await new Promise((r) => setTimeout(r, 10));
        (app.uws_instance as unknown as { close(): void }).close(); // not in the old typings
        if (tlsDir) await rm(tlsDir, { recursive: true, force: true });
      })();
      return closing;
    },
  };
}

function serve(handler: Handler, req: HxRequest, res: HxResponse, inflight: Set<AbortController>): void {
  // Everything from the uWS request must be read synchronously, before the first await.
  const raw: string[] = [];
  req.raw.forEach((k: string, v: string) => {
    raw.push(k, v);
  });
  const headers: Record<string, string> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const k = raw[i] as string;
    const prev = headers[k];
    headers[k] = prev === undefined ? (raw[i + 1] as string) : `${prev}, ${raw[i + 1] as string}`;
  }
  const method = req.method.toUpperCase();
  const query = req.path_query;
  const target = parseTarget(query ? `${req.path}?${query}` : req.path);
  const remoteAddress = req.ip;
  const ac = new AbortController();
  inflight.add(ac);
  res.once("abort", () => ac.abort(new Error("client closed the connection")));
  void (async () => {
    try {
      let response: HttpResponse;
      if (!target) {
        response = badRequest("malformed request target");
      } else {
        let read = false;
        const request: HttpRequest = {
          method,
          path: target.path,
          rawQuery: target.rawQuery,
          query: target.query,
          headers,
          httpVersion: "1.1",
          remoteAddress,
          signal: ac.signal,
          body(limit: number): Promise<Uint8Array> {
            if (read) return Promise.reject(new Error("HttpRequest.body() may be called only once"));
            read = true;
            return readBody(req, limit, contentLengthOf(headers));
          },
        };
        try {
          response = await handler(request);
        } catch {
          response = internalError();
        }
        if (response.upgrade !== undefined || response.status === 101) {
          response = notImplemented("the uws transport does not hand over upgraded connections");
        }
      }
      await send(method, res, response, ac.signal);
    } finally {
      inflight.delete(ac);
    }
  })();
}

/** Chunked request bodies (no content-length) are buffered up to this cap before `limit` applies. */
export const UWS_MAX_BODY = 64 * 1024 * 1024;

/**
 * hyper-express's streaming body mode stalls on this uWS build ('data' never flows, 'readable'
 * stops after the first buffered chunks), so the body is collected with `buffer()`: a declared
 * content-length over the limit is refused before anything is read; a chunked body is read up to
 * `UWS_MAX_BODY` (hyper-express answers 413 itself beyond that) and then checked against `limit`.
 */
async function readBody(req: HxRequest, limit: number, contentLength: number | undefined): Promise<Uint8Array> {
  if (!(limit >= 0)) throw new RangeError(`body(limit): limit must be a non-negative number, got ${limit}`);
  if (contentLength !== undefined && contentLength > limit) throw new BodyTooLargeError(limit);
  if (contentLength === 0 || (contentLength === undefined && req.headers["transfer-encoding"] === undefined)) {
    return new Uint8Array(0);
  }
  const body = await req.buffer();
  if (body.byteLength > limit) throw new BodyTooLargeError(limit);
  return body;
}

async function send(method: string, res: HxResponse, response: HttpResponse, signal: AbortSignal): Promise<void> {
  if (res.completed) return;
  try {
    res.status(response.status);
    for (const [k, v] of Object.entries(response.headers ?? {})) {
      const name = k.toLowerCase();
      if (!COMPUTED.has(name)) res.header(name, v);
    }
  } catch {
    const fallback = internalError();
    res.status(fallback.status);
    res.send(String(fallback.body));
    return;
  }
  const fixed = fixedBody(response.body);
  if (bodyForbidden(method, response.status)) {
    res.send();
    return;
  }
  if (fixed !== undefined) {
    res.send(fixed.byteLength === 0 ? "" : Buffer.from(fixed.buffer, fixed.byteOffset, fixed.byteLength));
    return;
  }
  let pending: Promise<void> = Promise.resolve();
  try {
    await pumpBody(
      response.body as AsyncIterable<Uint8Array>,
      {
        write: (chunk) => {
          // The write callback fires once uWS took the chunk (after a drain if it had to wait).
          pending = new Promise<void>((resolve) => res.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength), () => resolve()));
          return false;
        },
        waitWritable: () => pending,
      },
      signal,
    );
  } catch {
    res.close(); // truncate: the client must not mistake a failed stream for a complete one
    return;
  }
  if (!res.completed) res.send();
}
