/**
 * Writes a `HttpResponse` to a Node response object (HTTP/1.1 `ServerResponse` or HTTP/2 compat
 * `Http2ServerResponse`): fixed bodies with content-length, streaming bodies with backpressure.
 */
import type { ServerResponse } from "node:http";
import type { Http2ServerResponse } from "node:http2";
import { bodyForbidden, fixedBody, H2_FORBIDDEN, internalError, pumpBody } from "../_shared.ts";
import type { HttpResponse } from "../types.ts";

export type NodeResponse = ServerResponse | Http2ServerResponse;

/**
 * Sends `res` (or a 500 when its head is invalid). Resolves when the response ended or the
 * client went away (`signal`). Streaming bodies that throw after the head was sent destroy the
 * stream so the client sees a truncated response rather than a clean end.
 */
export async function sendResponse(
  method: string,
  h2: boolean,
  out: NodeResponse,
  res: HttpResponse,
  signal: AbortSignal,
  closeConnection: boolean,
): Promise<void> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers ?? {})) {
    const name = k.toLowerCase();
    if (h2 && H2_FORBIDDEN.has(name)) continue;
    headers[name] = v;
  }
  if (closeConnection && !h2) headers["connection"] = "close";
  const noBody = bodyForbidden(method, res.status);
  const fixed = fixedBody(res.body);
  if (fixed !== undefined && !noBody && headers["content-length"] === undefined) {
    headers["content-length"] = String(fixed.byteLength);
  }
  try {
    // The two writeHead overloads differ only in their `this` type.
    (out as ServerResponse).writeHead(res.status, headers);
  } catch {
    // Invalid status or header value from the handler: answer 500 instead of crashing.
    if (out.headersSent) return void destroy(out);
    const fallback = internalError();
    (out as ServerResponse).writeHead(fallback.status, fallback.headers);
    out.end(fixedBody(fallback.body) ?? "");
    return;
  }
  if (noBody || fixed !== undefined) {
    if (noBody || fixed === undefined || fixed.byteLength === 0) out.end();
    else out.end(fixed);
    return;
  }
  // streaming
  (out as ServerResponse).flushHeaders(); // both response kinds have it
  let finished: boolean;
  try {
    finished = await pumpBody(
      res.body as AsyncIterable<Uint8Array>,
      {
        write: (chunk) => (out as ServerResponse).write(chunk),
        waitWritable: () =>
          new Promise<void>((resolve) => {
            const done = (): void => {
              out.off("drain", done);
              out.off("close", done);
              resolve();
            };
            out.on("drain", done);
            out.on("close", done);
          }),
      },
      signal,
    );
  } catch {
    destroy(out);
    return;
  }
  void finished;
  try {
    out.end(); // after a client abort this is a no-op on the closed stream
  } catch {
    // the stream is already gone
  }
}

function destroy(out: NodeResponse): void {
  if ("stream" in out) out.stream.close(0x2 /* INTERNAL_ERROR */);
  else out.destroy();
}
