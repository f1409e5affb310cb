/**
 * HTTP/1.1 `Upgrade` requests (Node's 'upgrade' event hands over the raw socket). The handler
 * either takes the connection over (`status: 101` + `upgrade`) or its response is written as a
 * plain HTTP/1.1 response on the socket, which is then closed.
 */
import type { IncomingMessage } from "node:http";
import { STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import { bodyForbidden, fixedBody, internalError, notImplemented, pumpBody } from "../_shared.ts";
import type { HttpResponse, UpgradedConnection } from "../types.ts";

/** A header value may not contain CR/LF (response splitting); names must be tokens. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function headBytes(status: number, headers: Readonly<Record<string, string>>): string | undefined {
  let s = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Unknown"}\r\n`;
  for (const [k, v] of Object.entries(headers)) {
    if (!TOKEN.test(k) || /[\r\n\0]/.test(v)) return undefined;
    s += `${k}: ${v}\r\n`;
  }
  return s + "\r\n";
}

/** Writes `res` on an upgrade request's socket. Resolves when done (the socket is then owned by
 * the upgrade callback or ended). */
export async function answerUpgrade(
  req: IncomingMessage,
  socket: Duplex,
  head: Uint8Array,
  res: HttpResponse,
  signal: AbortSignal,
): Promise<void> {
  if (res.upgrade !== undefined || res.status === 101) {
    if (res.status !== 101 || res.upgrade === undefined) {
      return writePlain(req, socket, notImplemented("a 101 response needs an upgrade callback and vice versa"), signal);
    }
    const text = headBytes(101, res.headers ?? {});
    if (text === undefined) return writePlain(req, socket, internalError(), signal);
    socket.write(text);
    res.upgrade(wrapSocket(socket, head, signal));
    return;
  }
  return writePlain(req, socket, res, signal);
}

async function writePlain(req: IncomingMessage, socket: Duplex, res: HttpResponse, signal: AbortSignal): Promise<void> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers ?? {})) headers[k.toLowerCase()] = v;
  headers["connection"] = "close";
  delete headers["transfer-encoding"];
  const noBody = bodyForbidden(req.method ?? "GET", res.status);
  const fixed = fixedBody(res.body);
  if (fixed !== undefined && !noBody) headers["content-length"] = String(fixed.byteLength);
  else if (!noBody) headers["transfer-encoding"] = "chunked";
  const text = headBytes(res.status, headers);
  if (text === undefined) return writePlain(req, socket, internalError(), signal);
  socket.write(text);
  if (noBody) return void socket.end();
  if (fixed !== undefined) return void socket.end(fixed);
  try {
    await pumpBody(
      res.body as AsyncIterable<Uint8Array>,
      {
        write: (chunk) => socket.write(`${chunk.byteLength.toString(16)}\r\n`) && socket.write(chunk) && socket.write("\r\n"),
        waitWritable: () => waitDrain(socket),
      },
      signal,
    );
    socket.end("0\r\n\r\n");
  } catch {
    socket.destroy();
  }
}

function waitDrain(socket: Duplex): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      socket.off("drain", done);
      socket.off("close", done);
      resolve();
    };
    socket.on("drain", done);
    socket.on("close", done);
  });
}

function wrapSocket(socket: Duplex, head: Uint8Array, signal: AbortSignal): UpgradedConnection {
  return {
    head,
    readable: socket as AsyncIterable<Uint8Array>,
    signal,
    write(chunk: Uint8Array): Promise<void> {
      if (socket.destroyed || socket.writableEnded) return Promise.reject(new Error("connection closed"));
      return socket.write(chunk) ? Promise.resolve() : waitDrain(socket);
    },
    close(): void {
      if (!socket.writableEnded) socket.end();
    },
  };
}
