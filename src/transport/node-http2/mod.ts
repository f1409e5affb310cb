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
import type * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import type { Duplex } from "node:stream";
import type { Abortable } from "../_shared.ts";
import type { Handler, ListenOptions, Server, Transport, TransportCapabilities } from "../types.ts";
import { CONNECTION_WINDOW_BYTES, createHttp1Server, NODE_CAPABILITIES, serveHttp1, serveUpgrade, sniffPreface, startNodeServer, STREAM_WINDOW_BYTES } from "./_http1.ts";
import type { NodeRequest } from "./_request.ts";
import type { NodeResponse } from "./_respond.ts";
import { serveStream } from "./_stream.ts";

export const capabilities: TransportCapabilities = NODE_CAPABILITIES;

/**
 * Per-session limits. Node's default `maxSessionMemory` (10 MB) counts response bytes queued on the
 * session, so a client with a few large LIST pages in flight on one connection (a normal informer
 * start) would have new streams refused with ENHANCE_YOUR_CALM. Streaming bodies are pulled with
 * backpressure, so the cap only needs to cover fixed bodies in flight. The upload windows
 * (`STREAM_WINDOW_BYTES`, `CONNECTION_WINDOW_BYTES`) are kube-apiserver's sizes: with HTTP/2's
 * 64 KiB defaults, one client multiplexing hundreds of writes on a connection (a `tug hollow`
 * process, a controller manager) can only have 64 KiB of bodies in flight, and request bodies
 * arrive seconds after their headers. The connection window is not a SETTINGS value: it grows by a
 * WINDOW_UPDATE on stream 0, set per session in `onSession`.
 */
const SESSION_LIMITS = { maxSessionMemory: 512, settings: { initialWindowSize: STREAM_WINDOW_BYTES } } as const;

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
  const sessions = new Set<http2.Http2Session>();

  const onRequest = (req: NodeRequest, res: NodeResponse): void => {
    void serveHttp1(handler, req, res, inflight);
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
    const plain = createHttp1Server(handler, inflight);
    h1 = plain;
    const toH2c = (socket: net.Socket, seen: Buffer): void => {
      socket.pause();
      socket.unshift(seen);
      h2c.emit("connection", socket); // the session takes the buffered bytes itself
    };
    listener = net.createServer((socket) => sniffPreface(socket, toH2c, (s) => plain.emit("connection", s)));
  }
  return startNodeServer(listener, opts.host, opts.port, inflight, () => {
    for (const s of sessions) s.close();
  }, h1);
}
