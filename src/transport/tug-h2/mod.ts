/**
 * The tug-h2 adapter: HTTP/2 served by Tugboat's own session core (`src/h2/`), HTTP/1.1 and
 * `Upgrade` takeovers (kubectl exec/attach/port-forward) by node:http.
 *
 * - TLS: one `tls.Server` with ALPN h2 + http/1.1. A connection that negotiated h2 gets an
 *   `H2Session`; anything else (http/1.1 or no ALPN) is handed to the HTTP/1.1 server. Client
 *   certificates are requested but not required; `peerCertificate` is set only when the chain
 *   verified against `tls.clientCa`.
 * - Plaintext: one TCP listener sniffs the first bytes: the HTTP/2 preface → `H2Session` (prior
 *   knowledge, h2c), anything else → HTTP/1.1.
 * - Upload windows as kube-apiserver sizes them: 256 KiB per stream, 64 MiB per connection.
 *
 * Compared with node-http2 this avoids node:http2's per-stream Duplex, per-request header objects
 * and nghttp2 round trips; see docs/transport.md for the measured difference.
 */
import type * as http from "node:http";
import * as net from "node:net";
import * as tls from "node:tls";
import { H2Session } from "../../h2/session.ts";
import type { Abortable } from "../_shared.ts";
import { CONNECTION_WINDOW_BYTES, createHttp1Server, NODE_CAPABILITIES, sniffPreface, startNodeServer, STREAM_WINDOW_BYTES } from "../node-http2/_http1.ts";
import { peerOf } from "../node-http2/_request.ts";
import type { Handler, ListenOptions, Server, Transport, TransportCapabilities } from "../types.ts";
import { type ConnectionInfo, openStream } from "./_stream.ts";

export const capabilities: TransportCapabilities = NODE_CAPABILITIES;

export const tugH2Transport: Transport = {
  name: "tug-h2",
  capabilities,
  listen,
};

async function listen(handler: Handler, opts: ListenOptions): Promise<Server> {
  const inflight = new Set<Abortable>();
  const sessions = new Set<H2Session>();
  const h1: http.Server = createHttp1Server(handler, inflight);

  const serveH2 = (socket: net.Socket, seen: Buffer | undefined): void => {
    socket.setNoDelay(true);
    const conn: ConnectionInfo = {
      remoteAddress: socket.remoteAddress ?? "",
      peer: socket instanceof tls.TLSSocket ? peerOf(socket) : undefined,
      inflight,
      handler,
    };
    const session: H2Session = new H2Session(socket, {
      role: "server",
      streamWindow: STREAM_WINDOW_BYTES,
      connectionWindow: CONNECTION_WINDOW_BYTES,
      ...(seen !== undefined ? { initialData: seen } : {}),
      onStream: (stream, headers, endStream) => openStream(stream, headers, endStream, conn),
      onClose: () => sessions.delete(session),
    });
    sessions.add(session);
  };

  let listener: net.Server;
  if (opts.tls) {
    const secure = tls.createServer({
      cert: opts.tls.cert,
      key: opts.tls.key,
      ALPNProtocols: ["h2", "http/1.1"],
      ...(opts.tls.clientCa !== undefined ? { ca: opts.tls.clientCa, requestCert: true } : {}),
      rejectUnauthorized: false,
    });
    secure.on("secureConnection", (socket: tls.TLSSocket) => {
      socket.on("error", () => undefined); // reset by peer etc.: the connection closes, nothing to do
      if (socket.alpnProtocol === "h2") serveH2(socket, undefined);
      else h1.emit("connection", socket);
    });
    secure.on("tlsClientError", () => undefined); // a failed handshake concerns that client only
    listener = secure;
  } else {
    listener = net.createServer((socket) => sniffPreface(socket, serveH2, (s) => h1.emit("connection", s)));
  }
  return startNodeServer(listener, opts.host, opts.port, inflight, () => {
    for (const s of sessions) s.close();
  }, h1);
}
