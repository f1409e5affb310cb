/**
 * The node:http side shared by the Node adapters (node-http2, tug-h2): HTTP/1.1 requests and
 * `Upgrade` takeovers served by node:http, the plaintext preface sniffer that routes a
 * connection to HTTP/2 or HTTP/1.1, and the close sweep that lets ending streams flush.
 */
import * as http from "node:http";
import * as http2 from "node:http2";
import type * as net from "node:net";
import type { Duplex } from "node:stream";
import { badRequest, callHandler, parseTarget, type Abortable, type Target } from "../_shared.ts";
import type { Handler, HttpRequest, HttpResponse, TransportCapabilities } from "../types.ts";
import { buildRequest, type NodeRequest } from "./_request.ts";
import { sendResponse, type NodeResponse } from "./_respond.ts";
import { answerUpgrade } from "./_upgrade.ts";

/** How long close() lets ending streams flush before destroying their connections. */
const CLOSE_GRACE_MS = 1000;

/** What both Node adapters (node-http2, tug-h2) support. */
export const NODE_CAPABILITIES: TransportCapabilities = {
  tlsH2: true,
  h2c: true,
  http1Plaintext: true,
  clientCertificates: true,
  upgrade: true,
};

/**
 * HTTP/2 upload windows, sized as kube-apiserver sizes its server's: 256 KiB per stream (most
 * request bodies in one window) and 64 MiB per connection (docs/transport.md, "HTTP/2 upload windows").
 */
export const STREAM_WINDOW_BYTES = 256 << 10;
export const CONNECTION_WINDOW_BYTES = 64 << 20;

export const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

/**
 * An HTTP/1.1 server that never listens itself: connections are handed to it with
 * `emit("connection", socket)` (plain or TLS sockets). Requests and upgrades reach `handler`.
 */
export function createHttp1Server(handler: Handler, inflight: Set<Abortable>): http.Server {
  const h1 = http.createServer();
  h1.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => void serveHttp1(handler, req, res, inflight));
  h1.on("upgrade", (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void serveUpgrade(handler, req, socket, head, inflight));
  h1.on("clientError", (_err, socket: Duplex) => socket.destroy());
  return h1;
}

/**
 * Routes a plaintext connection by its first bytes: the HTTP/2 preface goes to `h2` with the
 * bytes read so far (the socket is left flowing, with no 'data' listener of ours), anything else
 * to `h1` (the bytes are pushed back for its parser). A connection that sends nothing decisive
 * within 10 s is dropped.
 */
export function sniffPreface(socket: net.Socket, h2: (socket: net.Socket, seen: Buffer) => void, h1: (socket: net.Socket) => void): void {
  let seen: Buffer = Buffer.alloc(0);
  const timer = setTimeout(() => socket.destroy(), 10_000);
  const onData = (chunk: Buffer): void => {
    seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
    const n = Math.min(seen.length, PREFACE.length);
    const isPrefix = seen.subarray(0, n).equals(PREFACE.subarray(0, n));
    if (isPrefix && seen.length < PREFACE.length) return; // need more bytes to decide
    clearTimeout(timer);
    socket.off("data", onData);
    if (isPrefix) return h2(socket, seen);
    socket.pause();
    socket.unshift(seen);
    h1(socket);
    socket.resume(); // the HTTP/1.1 parser reads through 'data' events
  };
  socket.on("data", onData);
  socket.once("close", () => clearTimeout(timer));
}

/**
 * The shutdown every Node adapter does: abort in-flight requests, let `closeSessions` send their
 * GOAWAYs, close idle HTTP/1.1 keep-alive connections, then give ending streams up to a second to
 * flush before destroying whatever sockets are left (idle keep-alive, upgraded sockets).
 * Resolves when the listener stopped.
 */
export function closeNodeServer(
  listener: net.Server,
  inflight: Set<Abortable>,
  sockets: Set<net.Socket>,
  closeSessions: () => void,
  h1: http.Server | undefined,
): Promise<void> {
  return new Promise<void>((resolve) => {
    listener.close(() => resolve());
    for (const ac of inflight) ac.abort(new Error("server closing"));
    closeSessions();
    h1?.closeIdleConnections();
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
}

/**
 * Binds `listener` and returns the adapter's `Server`: its sockets are tracked so `close()` (one
 * shared promise) can run `closeNodeServer`, with `closeSessions` sending the HTTP/2 GOAWAYs.
 */
export async function startNodeServer(
  listener: net.Server,
  host: string,
  port: number,
  inflight: Set<Abortable>,
  closeSessions: () => void,
  h1: http.Server | undefined,
): Promise<{ readonly port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  trackSockets(listener, sockets);
  const bound = await listenOn(listener, host, port);
  let closing: Promise<void> | undefined;
  return {
    port: bound,
    close(): Promise<void> {
      closing ??= closeNodeServer(listener, inflight, sockets, closeSessions, h1);
      return closing;
    },
  };
}

/** Tracks a listener's sockets (for the close sweep); socket errors end that socket only. */
export function trackSockets(listener: net.Server, sockets: Set<net.Socket>): void {
  listener.on("connection", (socket: net.Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.on("error", () => undefined); // reset by peer etc.: the socket closes, nothing to do
  });
}

/** Binds `listener` and returns the bound port. */
export async function listenOn(listener: net.Server, host: string, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    listener.once("error", reject);
    listener.listen(port, host, () => {
      listener.off("error", reject);
      resolve();
    });
  });
  const address = listener.address();
  return typeof address === "object" && address !== null ? address.port : port;
}

/** The handler's answer for a request target, or a 400 `Status` when the target is malformed. */
function answer(handler: Handler, url: string | undefined, build: (target: Target) => HttpRequest, upgradeAllowed = false): Promise<HttpResponse> {
  const target = parseTarget(url ?? "/");
  return target ? callHandler(handler, build(target), upgradeAllowed) : Promise.resolve(badRequest("malformed request target"));
}

/** Serves one request through node:http's (or the HTTP/2 compat layer's) request/response. */
export async function serveHttp1(handler: Handler, req: NodeRequest, res: NodeResponse, inflight: Set<Abortable>): Promise<void> {
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
    const response = await answer(handler, req.url, (target) =>
      buildRequest(req, target, ac.signal, () => {
        stoppedReading = true;
        req.resume(); // discard the rest instead of buffering it
      }));
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

/** Serves an HTTP/1.1 `Upgrade` request: a 101 takeover or a plain response on the raw socket. */
export async function serveUpgrade(
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
    const response = await answer(handler, req.url, (target) => buildRequest(req, target, ac.signal, () => req.resume()), true);
    await answerUpgrade(req, socket, new Uint8Array(head.buffer, head.byteOffset, head.byteLength), response, ac.signal);
  } finally {
    inflight.delete(ac);
  }
}
