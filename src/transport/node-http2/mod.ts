/**
 * The default adapter: node:http2.
 *
 * - TLS: `http2.createSecureServer` with ALPN h2 + http/1.1 (`allowHTTP1`), so kubectl's h2
 *   requests and its HTTP/1.1 upgrade connections (no ALPN) share one port. Client certificates
 *   are requested but not required; `peerCertificate` is set only when the chain verified
 *   against `tls.clientCa` (`socket.authorized`).
 * - Plaintext: one TCP listener that sniffs the first bytes of each connection: the HTTP/2
 *   connection preface goes to an h2c server (prior knowledge), anything else to an HTTP/1.1
 *   server. (The `Upgrade: h2c` dance is not supported; such requests are served as HTTP/1.1.)
 * - HTTP/1.1 `Upgrade` requests (both modes) reach the handler; `HttpResponse.upgrade` takes
 *   over the socket after a 101.
 * - HTTP/2 streams are served with the core API (`_stream.ts`), not the compat layer, which is
 *   several times more expensive per request; HTTP/1.1 uses node:http's request/response.
 */
import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import type { Duplex } from "node:stream";
import { badRequest, internalError, notImplemented, parseTarget } from "../_shared.ts";
import type { Handler, HttpResponse, ListenOptions, Server, Transport, TransportCapabilities } from "../types.ts";
import { buildRequest, type NodeRequest } from "./_request.ts";
import { sendResponse, type NodeResponse } from "./_respond.ts";
import { serveStream, type Abortable } from "./_stream.ts";
import { answerUpgrade } from "./_upgrade.ts";

export const capabilities: TransportCapabilities = {
  tlsH2: true,
  h2c: true,
  http1Plaintext: true,
  clientCertificates: true,
  upgrade: true,
};

/**
 * Per-session limits. Node's default `maxSessionMemory` (10 MB) counts response bytes queued on the
 * session, so a client with a few large LIST pages in flight on one connection (a normal informer
 * start) would have new streams refused with ENHANCE_YOUR_CALM. Streaming bodies are pulled with
 * backpressure, so the cap only needs to cover fixed bodies in flight.
 */
/**
 * Upload flow-control windows, sized as kube-apiserver sizes its HTTP/2 server: 256 KiB per stream
 * (most request bodies in one window) and 64 MiB per connection (256 KiB × 250 streams; set per
 * session in `onSession`). With HTTP/2's 64 KiB defaults, one client multiplexing hundreds of writes
 * on a connection (a `tug hollow` process, a controller manager) can only have 64 KiB of bodies in
 * flight: the server answers HEADERS at once but each body queues behind everyone else's DATA
 * frames, waiting for WINDOW_UPDATEs paced by the server's event loop. Request bodies then arrive
 * seconds after their headers, and that wait counts against the request's processing time.
 */
const STREAM_WINDOW_BYTES = 256 << 10;
const CONNECTION_WINDOW_BYTES = 64 << 20;
const SESSION_LIMITS = { maxSessionMemory: 512, settings: { initialWindowSize: STREAM_WINDOW_BYTES } } as const;

/** How long close() lets ending streams flush before destroying their connections. */
const CLOSE_GRACE_MS = 1000;

const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

function growWindow(session: http2.Http2Session): void {
  if (session.destroyed) return;
  try {
    session.setLocalWindowSize(CONNECTION_WINDOW_BYTES);
  } catch {
    // the session closed in between: nothing to grow
  }
}

export const nodeHttp2Transport: Transport = {
  name: "node-http2",
  capabilities,
  listen,
};

async function listen(handler: Handler, opts: ListenOptions): Promise<Server> {
  const inflight = new Set<Abortable>();
  const sockets = new Set<net.Socket>();
  const sessions = new Set<http2.Http2Session>();

  const onRequest = (req: NodeRequest, res: NodeResponse): void => {
    void serve(handler, req, res, inflight);
  };
  const onStream = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, _flags: number, rawHeaders: string[]): void => {
    void serveStream(handler, stream, headers, rawHeaders, inflight);
  };
  const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer): void => {
    void serveUpgrade(handler, req, socket, head, inflight);
  };
  const onSession = (session: http2.Http2Session): void => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
    // The connection-level window is not a SETTINGS value: it grows by a WINDOW_UPDATE on stream 0.
    if (session.connecting) session.once("connect", () => growWindow(session));
    else growWindow(session);
    session.on("error", () => undefined); // per-session errors end that session only
  };

  let listener: net.Server;
  let h1: http.Server | undefined;
  if (opts.tls) {
    const secure = http2.createSecureServer({
      ...SESSION_LIMITS,
      cert: opts.tls.cert,
      key: opts.tls.key,
      allowHTTP1: true,
      ALPNProtocols: ["h2", "http/1.1"],
      ...(opts.tls.clientCa !== undefined ? { ca: opts.tls.clientCa, requestCert: true } : {}),
      rejectUnauthorized: false,
    });
    // 'request' serves the HTTP/1.1 connections (allowHTTP1). Adding it also makes node:http2 attach
    // its compat 'stream' listener (Http2ServerRequest/Response for every h2 stream): drop that
    // one, h2 streams are served with the core API.
    secure.on("request", onRequest);
    for (const l of secure.listeners("stream")) secure.off("stream", l as (...args: unknown[]) => void);
    secure.on("stream", onStream);
    secure.on("upgrade", onUpgrade);
    secure.on("session", onSession);
    secure.on("tlsClientError", () => undefined); // a failed handshake concerns that client only
    listener = secure;
  } else {
    const h2c = http2.createServer(SESSION_LIMITS);
    h2c.on("stream", onStream);
    h2c.on("session", onSession);
    const plain = http.createServer();
    plain.on("request", onRequest);
    plain.on("upgrade", onUpgrade);
    plain.on("clientError", (_err, socket) => socket.destroy());
    h1 = plain;
    listener = net.createServer((socket) => sniff(socket, h2c, plain));
  }
  listener.on("connection", (socket: net.Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.on("error", () => undefined); // reset by peer etc.: the socket closes, nothing to do
  });

  await new Promise<void>((resolve, reject) => {
    listener.once("error", reject);
    listener.listen(opts.port, opts.host, () => {
      listener.off("error", reject);
      resolve();
    });
  });
  const address = listener.address();
  const port = typeof address === "object" && address !== null ? address.port : opts.port;

  let closing: Promise<void> | undefined;
  return {
    port,
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        listener.close(() => resolve());
        for (const ac of inflight) ac.abort(new Error("server closing"));
        for (const s of sessions) s.close();
        h1?.closeIdleConnections();
        // Let ended streams flush, then cut whatever is left (idle keep-alive, upgraded sockets).
        const started = Date.now();
        const sweep = (): void => {
          if (sockets.size === 0) return;
          if (inflight.size === 0 || Date.now() - started > CLOSE_GRACE_MS) {
            for (const s of sockets) s.destroy();
            return;
          }
          setTimeout(sweep, 10);
        };
        setTimeout(sweep, 10);
      });
      return closing;
    },
  };
}

/** Routes a plaintext connection by its first bytes: HTTP/2 preface -> h2c, else HTTP/1.1. */
function sniff(socket: net.Socket, h2c: http2.Http2Server, h1: http.Server): void {
  let seen: Buffer = Buffer.alloc(0);
  const timer = setTimeout(() => socket.destroy(), 10_000);
  const onData = (chunk: Buffer): void => {
    seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
    const n = Math.min(seen.length, PREFACE.length);
    const isPrefix = seen.subarray(0, n).equals(PREFACE.subarray(0, n));
    if (isPrefix && seen.length < PREFACE.length) return; // need more bytes to decide
    clearTimeout(timer);
    socket.off("data", onData);
    socket.pause();
    socket.unshift(seen);
    if (isPrefix) {
      h2c.emit("connection", socket); // the session takes the buffered bytes itself
    } else {
      h1.emit("connection", socket);
      socket.resume(); // the HTTP/1.1 parser reads through 'data' events
    }
  };
  socket.on("data", onData);
  socket.once("close", () => clearTimeout(timer));
}

async function serve(handler: Handler, req: NodeRequest, res: NodeResponse, inflight: Set<Abortable>): Promise<void> {
  const ac = new AbortController();
  inflight.add(ac);
  // HTTP/2 compat emits 'finish' even for a reset stream, so "did we end it" is the test.
  const gone = (): void => {
    if (!res.writableEnded) ac.abort(new Error("client closed the connection"));
  };
  res.once("close", gone);
  const h2 = req.httpVersionMajor === 2;
  if (h2 && "stream" in res) {
    // A reset stream with unflushed data emits only 'aborted' (no 'close' until destroyed).
    res.stream.once("aborted", () => {
      gone();
      res.stream.destroy();
    });
  }
  let stoppedReading = false;
  try {
    const target = parseTarget(req.url ?? "/");
    let response: HttpResponse;
    if (!target) {
      response = badRequest("malformed request target");
    } else {
      const request = buildRequest(req, target, ac.signal, () => {
        stoppedReading = true;
        req.resume(); // discard the rest instead of buffering it
      });
      try {
        response = await handler(request);
      } catch {
        response = internalError();
      }
      if (response.upgrade !== undefined || response.status === 101) {
        response = notImplemented("upgrade requested on a request that did not ask to upgrade");
      }
    }
    await sendResponse(req.method ?? "GET", h2, res, response, ac.signal, false);
    if (stoppedReading && h2 && "stream" in res && !res.stream.closed) {
      // RFC 9113 §8.1: after a complete response, RST_STREAM(NO_ERROR) tells the client to stop sending.
      if (res.writableFinished) res.stream.close(http2.constants.NGHTTP2_NO_ERROR);
      else res.once("finish", () => res.stream.close(http2.constants.NGHTTP2_NO_ERROR));
    }
  } finally {
    inflight.delete(ac);
  }
}

async function serveUpgrade(
  handler: Handler,
  req: http.IncomingMessage,
  socket: Duplex,
  head: Buffer,
  inflight: Set<Abortable>,
): Promise<void> {
  const ac = new AbortController();
  socket.once("close", () => ac.abort(new Error("connection closed")));
  socket.on("error", () => undefined);
  inflight.add(ac);
  try {
    const target = parseTarget(req.url ?? "/");
    let response: HttpResponse;
    if (!target) {
      response = badRequest("malformed request target");
    } else {
      try {
        response = await handler(buildRequest(req, target, ac.signal, () => req.resume()));
      } catch {
        response = internalError();
      }
    }
    await answerUpgrade(req, socket, new Uint8Array(head.buffer, head.byteOffset, head.byteLength), response, ac.signal);
  } finally {
    inflight.delete(ac);
  }
}
