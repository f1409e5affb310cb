/**
 * `Deno.serve` adapter (runs on Deno only; type-checked with `deno check`, not the Node tsconfig).
 *
 * - TLS (`cert`/`key`): Deno negotiates h2 and http/1.1 with ALPN on one port.
 * - Plaintext: HTTP/1.1 and h2c (prior knowledge) on one port.
 * - Client certificates: `Deno.serve` has no option to request them, so `peerCertificate` is
 *   never set (bearer tokens still work).
 * - Upgrades: Deno only upgrades to its own WebSocket (`Deno.upgradeWebSocket`), so a handler's
 *   101 + raw takeover is answered with 501.
 * - `httpVersion`: Deno's `Request` does not say which protocol carried it. HTTP/1.1 requires a
 *   Host header (RFC 9112 §3.2), while Deno does not turn HTTP/2's `:authority` into one, so a
 *   request without `host` came over HTTP/2; the adapter then fills `host` from the URL's
 *   authority, as the other adapters do.
 */
import { badRequest, bodyForbidden, concat, contentLengthOf, fixedBody, internalError, notImplemented, parseTarget } from "../_shared.ts";
import { BodyTooLargeError, type Handler, type HttpRequest, type HttpResponse, type ListenOptions, type Server, type Transport, type TransportCapabilities } from "../types.ts";

/** The slice of the Deno runtime API this adapter uses (declared locally; no dependency on Deno's lib). */
interface DenoServeInfo {
  readonly remoteAddr: { readonly hostname: string; readonly port: number };
}
interface DenoHttpServer {
  readonly finished: Promise<void>;
  shutdown(): Promise<void>;
}
interface DenoServeOptions {
  hostname: string;
  port: number;
  cert?: string;
  key?: string;
  onListen?: (addr: { hostname: string; port: number }) => void;
  onError?: (err: unknown) => Response;
}
declare const Deno: {
  serve(options: DenoServeOptions, handler: (req: Request, info: DenoServeInfo) => Response | Promise<Response>): DenoHttpServer;
};

export const capabilities: TransportCapabilities = {
  tlsH2: true,
  h2c: true,
  http1Plaintext: true,
  clientCertificates: false,
  upgrade: false,
};

export const denoTransport: Transport = {
  name: "deno",
  capabilities,
  listen,
};

function listen(handler: Handler, opts: ListenOptions): Promise<Server> {
  const inflight = new Set<AbortController>();
  return new Promise((resolve, reject) => {
    let server: DenoHttpServer | undefined;
    try {
      server = Deno.serve(
        {
          hostname: opts.host,
          port: opts.port,
          ...(opts.tls ? { cert: opts.tls.cert, key: opts.tls.key } : {}),
          onListen: (addr) => {
            let closing: Promise<void> | undefined;
            resolve({
              port: addr.port,
              close(): Promise<void> {
                closing ??= (async () => {
                  for (const ac of inflight) ac.abort(new Error("server closing"));
                  await server?.shutdown();
                })();
                return closing;
              },
            });
          },
          onError: () => toResponse("GET", internalError(), new AbortController().signal),
        },
        (req, info) => serve(handler, req, info, inflight),
      );
    } catch (err) {
      reject(new Error(`deno transport: cannot listen on ${opts.host}:${opts.port}: ${String(err)}`));
    }
  });
}

async function serve(handler: Handler, req: Request, info: DenoServeInfo, inflight: Set<AbortController>): Promise<Response> {
  const url = req.url;
  // req.url is absolute; keep the raw path+query as sent (the URL parser already normalised dots)
  const start = url.indexOf("/", url.indexOf("//") + 2);
  const target = parseTarget(start === -1 ? "/" : url.slice(start));
  const ac = new AbortController();
  const onGone = (): void => ac.abort(new Error("client closed the connection"));
  if (req.signal.aborted) onGone();
  else req.signal.addEventListener("abort", onGone, { once: true });
  inflight.add(ac);
  let streaming = false;
  try {
    if (!target) return toResponse(req.method, badRequest("malformed request target"), ac.signal);
    const headers: Record<string, string> = {};
    req.headers.forEach((v, k) => {
      headers[k] = v; // the Fetch Headers object already joins repeats with ", "
    });
    const h2 = headers["host"] === undefined;
    if (h2) headers["host"] = url.slice(url.indexOf("//") + 2, start === -1 ? undefined : start);
    let read = false;
    const request: HttpRequest = {
      method: req.method,
      path: target.path,
      rawQuery: target.rawQuery,
      query: target.query,
      headers,
      httpVersion: h2 ? "2" : "1.1",
      remoteAddress: info.remoteAddr.hostname,
      signal: ac.signal,
      body(limit: number): Promise<Uint8Array> {
        if (read) return Promise.reject(new Error("HttpRequest.body() may be called only once"));
        read = true;
        return readBody(req, limit, contentLengthOf(headers));
      },
    };
    let response: HttpResponse;
    try {
      response = await handler(request);
    } catch {
      response = internalError();
    }
    if (response.upgrade !== undefined || response.status === 101) {
      response = notImplemented("the deno transport does not hand over upgraded connections");
    }
    streaming = fixedBody(response.body) === undefined && !bodyForbidden(req.method, response.status);
    return toResponse(req.method, response, ac.signal, () => inflight.delete(ac));
  } finally {
    if (!streaming) inflight.delete(ac);
  }
}

async function readBody(req: Request, limit: number, contentLength: number | undefined): Promise<Uint8Array> {
  if (!(limit >= 0)) throw new RangeError(`body(limit): limit must be a non-negative number, got ${limit}`);
  if (contentLength !== undefined && contentLength > limit) {
    await req.body?.cancel().catch(() => undefined);
    throw new BodyTooLargeError(limit);
  }
  if (!req.body) return new Uint8Array(0);
  const reader = req.body.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const r = await reader.read();
    if (r.done) break;
    total += r.value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => undefined); // stop reading
      throw new BodyTooLargeError(limit);
    }
    parts.push(r.value);
  }
  return concat(parts, total);
}

function toResponse(method: string, res: HttpResponse, signal: AbortSignal, onDone?: () => void): Response {
  const headers = new Headers();
  try {
    for (const [k, v] of Object.entries(res.headers ?? {})) headers.set(k, v);
  } catch {
    onDone?.();
    return toResponse(method, internalError(), signal);
  }
  if (bodyForbidden(method, res.status)) {
    onDone?.();
    return new Response(null, { status: res.status, headers });
  }
  const fixed = fixedBody(res.body);
  if (fixed !== undefined) {
    onDone?.();
    // Our bodies are never backed by a SharedArrayBuffer; the DOM typing wants that spelled out.
    return new Response(fixed.byteLength === 0 ? null : (fixed as Uint8Array<ArrayBuffer>), { status: res.status, headers });
  }
  const it = (res.body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
  let finished = false;
  const stop = (): void => {
    if (finished) return;
    finished = true;
    onDone?.();
    if (typeof it.return === "function") it.return().then(undefined, () => undefined);
  };
  // highWaterMark 0: Deno pulls the next chunk only when the previous one was taken (backpressure).
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller): Promise<void> {
        if (signal.aborted) {
          stop();
          controller.close();
          return;
        }
        let aborted: (() => void) | undefined;
        const abortP = new Promise<"aborted">((resolve) => {
          aborted = () => resolve("aborted");
          signal.addEventListener("abort", aborted, { once: true });
        });
        try {
          for (;;) {
            const r = await Promise.race([it.next(), abortP]);
            if (r === "aborted") {
              stop();
              controller.close();
              return;
            }
            if (r.done) {
              finished = true;
              onDone?.();
              controller.close();
              return;
            }
            if (r.value.byteLength > 0) {
              controller.enqueue(r.value);
              return;
            }
          }
        } catch (err) {
          stop();
          controller.error(err); // truncates the response: the client sees an incomplete body
        } finally {
          if (aborted) signal.removeEventListener("abort", aborted);
        }
      },
      cancel(): void {
        stop();
      },
    },
    { highWaterMark: 0 },
  );
  return new Response(body, { status: res.status, headers });
}
