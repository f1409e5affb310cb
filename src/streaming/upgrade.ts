/**
 * Runtime-neutral entry points for the exec/attach and port-forward subresources: given the
 * request, pick WebSocket or SPDY exactly as kubectl negotiates, answer 101 through the
 * transport's upgrade hook, and hand the consumer a session.
 *
 * - `Upgrade: websocket` → WebSocket. exec/attach: subprotocol `v5.channel.k8s.io` or
 *   `v4.channel.k8s.io`; none offered → 403 (x/net/websocket's handshake refusal).
 *   port-forward: `SPDY/3.1+portforward.k8s.io` (SPDY inside the WebSocket); no `SPDY/3.1+…k8s.io`
 *   offered → 400 `unable to upgrade: no tunneling spdy protocols provided`. Any non-101 makes
 *   kubectl fall back to SPDY (logs 34).
 * - `Upgrade: SPDY/3.1` → SPDY with `X-Stream-Protocol-Version` negotiation (client preference):
 *   missing → 400, no match → 403 with `X-Accepted-Stream-Protocol-Versions` (httpstream.Handshake).
 * - No upgrade → 400 Status `Upgrade request required`.
 */
import { badRequest } from "../api/errors.ts";
import type { HttpRequest, HttpResponse } from "../transport/types.ts";
import { portForwardSession, type PortForwardOptions } from "./portforward/session.ts";
import { validateStreamHeaders } from "./portforward/pairs.ts";
import { PortForwardProtocolV1, WebSocketSpdyTunnelPrefix, type PortForwardSession } from "./portforward/types.ts";
import { parseRemoteCommandOptions } from "./remotecommand/options.ts";
import { serveRemoteCommandSpdy, SPDY_PROTOCOLS } from "./remotecommand/spdy.ts";
import type { RemoteCommandSession } from "./remotecommand/types.ts";
import { serveRemoteCommandWebSocket, WEBSOCKET_PROTOCOLS } from "./remotecommand/websocket.ts";
import { SpdySession, type SpdySessionOptions } from "./spdy/session.ts";
import { webSocketBytes } from "./websocket/bytes.ts";
import { headerTokens, isWebSocketRequest, offeredSubprotocols } from "./websocket/handshake.ts";
import { upgradeWebSocket } from "./websocket/upgrade.ts";

export interface StreamingOptions {
  /** How long the client may take to open its SPDY streams. Default 30 s. */
  readonly streamCreationTimeoutMs?: number;
  /** Diagnostics (refused streams, protocol errors). */
  readonly onError?: (message: string) => void;
  /** exec or attach (default: from the path's last segment, as the apiserver's routes end). */
  readonly kind?: "exec" | "attach";
}

/** True when the request asks for a SPDY/3.1 upgrade. */
export function isSpdyRequest(headers: Readonly<Record<string, string>>): boolean {
  return headerTokens(headers["connection"]).some((t) => t.toLowerCase() === "upgrade") &&
    (headers["upgrade"] ?? "").toLowerCase().includes("spdy/3.1");
}

function text(status: number, message: string, headers: Record<string, string> = {}): HttpResponse {
  return {
    status,
    headers: { ...headers, "content-type": "text/plain; charset=utf-8", "x-content-type-options": "nosniff" },
    body: message + "\n",
  };
}

function status(err: ReturnType<typeof badRequest>): HttpResponse {
  return { status: err.code, headers: { "content-type": "application/json" }, body: JSON.stringify(err.status) };
}

/** httpstream.Handshake: the first client protocol the server supports. */
function negotiateSpdy(
  headers: Readonly<Record<string, string>>,
  supported: readonly string[],
): { ok: true; protocol: string } | { ok: false; response: HttpResponse } {
  const offered = headerTokens(headers["x-stream-protocol-version"]);
  if (offered.length === 0) {
    return { ok: false, response: text(400, "unable to upgrade: X-Stream-Protocol-Version is required") };
  }
  const protocol = offered.find((p) => supported.includes(p));
  if (protocol === undefined) {
    return {
      ok: false,
      response: text(
        403,
        `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(" ")}], server accepts [${supported.join(" ")}]`,
        { "X-Accepted-Stream-Protocol-Versions": supported.join(", ") },
      ),
    };
  }
  return { ok: true, protocol };
}

function spdyUpgrade(
  protocol: string,
  sessionOpts: SpdySessionOptions,
  run: (spdy: SpdySession) => Promise<void>,
): HttpResponse {
  return {
    status: 101,
    headers: { Connection: "Upgrade", Upgrade: "SPDY/3.1", "X-Stream-Protocol-Version": protocol },
    upgrade: (conn) => {
      const spdy = new SpdySession(conn, { ...sessionOpts, head: conn.head });
      void run(spdy).catch(() => spdy.close());
    },
  };
}

/**
 * Answers an exec or attach request (`…/pods/<name>/exec|attach`; the kind is taken from the
 * path's last segment). `onSession` runs once the streams are set up; resolving without
 * `finish` reports exit code 0, rejecting reports an InternalError. Bad query parameters → 400.
 */
export function handleExecUpgrade(
  req: HttpRequest,
  onSession: (s: RemoteCommandSession) => Promise<void>,
  opts: StreamingOptions = {},
): HttpResponse {
  const kind = opts.kind ?? (req.path.endsWith("/attach") ? "attach" : "exec");
  const ws = isWebSocketRequest(req.headers);
  if (!ws && !isSpdyRequest(req.headers)) return status(badRequest("Upgrade request required"));
  const options = parseRemoteCommandOptions(req.query, kind);
  if ("error" in options) return status(badRequest(options.error));
  if (ws) {
    return upgradeWebSocket(req, WEBSOCKET_PROTOCOLS, (conn) => serveRemoteCommandWebSocket(conn, kind, options, onSession), {
      protocolRefusalStatus: 403,
    });
  }
  const n = negotiateSpdy(req.headers, SPDY_PROTOCOLS);
  if (!n.ok) return n.response;
  return spdyUpgrade(n.protocol, opts.onError !== undefined ? { onError: opts.onError } : {}, (spdy) =>
    serveRemoteCommandSpdy(spdy, n.protocol, kind, options, onSession, opts.streamCreationTimeoutMs));
}

/**
 * Answers a port-forward request. `onSession` gets the session (iterate it, or use
 * `forEachPortForward`); the session lasts until the client disconnects or `close()` is called
 * (a rejecting `onSession` closes it).
 */
export function handlePortForwardUpgrade(
  req: HttpRequest,
  onSession: (s: PortForwardSession) => Promise<void>,
  opts: StreamingOptions = {},
): HttpResponse {
  const pfOpts: PortForwardOptions = opts.streamCreationTimeoutMs !== undefined ? { streamCreationTimeoutMs: opts.streamCreationTimeoutMs } : {};
  const sessionOpts: SpdySessionOptions = {
    accept: (h) => validateStreamHeaders(h),
    ...(opts.onError !== undefined ? { onError: opts.onError } : {}),
  };
  if (isWebSocketRequest(req.headers)) {
    const tunneled = offeredSubprotocols(req.headers)
      .filter((p) => p.startsWith(WebSocketSpdyTunnelPrefix) && p.endsWith(".k8s.io"))
      .map((p) => p.slice(WebSocketSpdyTunnelPrefix.length));
    if (tunneled.length === 0) return text(400, "unable to upgrade: no tunneling spdy protocols provided");
    const n = negotiateSpdy({ "x-stream-protocol-version": tunneled.join(", ") }, [PortForwardProtocolV1]);
    if (!n.ok) return n.response;
    return upgradeWebSocket(req, [WebSocketSpdyTunnelPrefix + n.protocol], async (ws) => {
      const spdy = new SpdySession(webSocketBytes(ws), sessionOpts);
      await runPortForward(portForwardSession(spdy, "websocket", n.protocol, pfOpts), onSession);
    });
  }
  if (!isSpdyRequest(req.headers)) return status(badRequest("Upgrade request required"));
  const n = negotiateSpdy(req.headers, [PortForwardProtocolV1]);
  if (!n.ok) return n.response;
  return spdyUpgrade(n.protocol, sessionOpts, (spdy) =>
    runPortForward(portForwardSession(spdy, "spdy", n.protocol, pfOpts), onSession));
}

async function runPortForward(s: PortForwardSession, onSession: (s: PortForwardSession) => Promise<void>): Promise<void> {
  try {
    await onSession(s);
  } catch {
    await s.close();
  }
}


