/**
 * The server side of the RFC 6455 opening handshake as pure functions over request headers
 * (lower-case names, repeated headers joined with ", " as `HttpRequest.headers` delivers them).
 */
import { createHash } from "node:crypto";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** `Sec-WebSocket-Accept` for a client's `Sec-WebSocket-Key`: base64(SHA-1(key + GUID)). */
export function acceptKey(key: string): string {
  return createHash("sha1").update(key + GUID).digest("base64");
}

/** Comma-separated header tokens, trimmed, empty ones dropped. */
export function headerTokens(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value.split(",").map((s) => s.trim()).filter((s) => s !== "");
}

function hasToken(value: string | undefined, token: string): boolean {
  return headerTokens(value).some((t) => t.toLowerCase() === token);
}

/** True when the request asks for a WebSocket upgrade (`Connection: upgrade` + `Upgrade: websocket`). */
export function isWebSocketRequest(headers: Readonly<Record<string, string>>): boolean {
  return hasToken(headers["connection"], "upgrade") && hasToken(headers["upgrade"], "websocket");
}

/** The subprotocols the client offered, in its order of preference. */
export function offeredSubprotocols(headers: Readonly<Record<string, string>>): string[] {
  return headerTokens(headers["sec-websocket-protocol"]);
}

export type WebSocketNegotiation =
  | {
    readonly ok: true;
    /** The chosen subprotocol ("" when the client offered none and `supported` allows ""). */
    readonly protocol: string;
    /** Headers of the 101 response. */
    readonly headers: Readonly<Record<string, string>>;
  }
  | {
    readonly ok: false;
    /** `bad-request`: malformed handshake (400); `version`: not 13 (426); `protocol`: no match. */
    readonly kind: "bad-request" | "version" | "protocol";
    readonly message: string;
    /** Headers the refusal should carry (`Sec-WebSocket-Version: 13` for `version`). */
    readonly headers: Readonly<Record<string, string>>;
  };

/**
 * Validates a WebSocket upgrade request and picks a subprotocol: the first of `supported` (server
 * preference order) that the client offered. An empty string in `supported` accepts a client that
 * offered none. Never throws.
 */
export function negotiateWebSocket(
  method: string,
  headers: Readonly<Record<string, string>>,
  supported: readonly string[],
): WebSocketNegotiation {
  const refuse = (kind: "bad-request" | "version" | "protocol", message: string, extra: Record<string, string> = {}) =>
    ({ ok: false, kind, message, headers: extra }) as const;
  if (method !== "GET") return refuse("bad-request", `websocket: the upgrade request method must be GET, not ${method}`);
  if (!isWebSocketRequest(headers)) return refuse("bad-request", "websocket: not a websocket upgrade request");
  const version = headers["sec-websocket-version"]?.trim();
  if (version !== "13") {
    return refuse("version", `websocket: unsupported Sec-WebSocket-Version ${JSON.stringify(version ?? "")}`, {
      "Sec-WebSocket-Version": "13",
    });
  }
  const key = headers["sec-websocket-key"]?.trim() ?? "";
  if (!/^[A-Za-z0-9+/]{22}==$/.test(key)) {
    return refuse("bad-request", "websocket: Sec-WebSocket-Key must be 16 bytes in base64");
  }
  const offered = offeredSubprotocols(headers);
  let protocol: string | undefined;
  if (offered.length === 0) {
    if (supported.includes("")) protocol = "";
  } else {
    protocol = supported.find((p) => p !== "" && offered.includes(p));
  }
  if (protocol === undefined) {
    return refuse(
      "protocol",
      `requested protocol(s) are not supported: [${offered.join(" ")}]; supports [${supported.filter((p) => p !== "").join(" ")}]`,
    );
  }
  const out: Record<string, string> = {
    Upgrade: "websocket",
    Connection: "Upgrade",
    "Sec-WebSocket-Accept": acceptKey(key),
  };
  if (protocol !== "") out["Sec-WebSocket-Protocol"] = protocol;
  return { ok: true, protocol, headers: out };
}
