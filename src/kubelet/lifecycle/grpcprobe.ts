/**
 * gRPC probes: a client of the gRPC Health Checking Protocol (`grpc.health.v1.Health/Check`) over
 * plaintext HTTP/2 (h2c) to the pod IP, as the kubelet's gRPC prober does.
 *
 * Pure part: the protobuf messages (HealthCheckRequest `{1: service string}`, HealthCheckResponse
 * `{1: status enum}`), gRPC message framing (1 byte compressed flag, 4-byte big-endian length),
 * status codes and `grpc-message` decoding. Thin I/O: `grpcHealthCheck` opens one HTTP/2 session
 * per check, sends one request and closes it; the whole check is bounded by `timeoutMs`.
 *
 * Results follow the kubelet's prober messages (what the `Unhealthy` event shows):
 *   success only when grpc-status is 0 and the status is SERVING;
 *   `service unhealthy (responded with "NOT_SERVING")`;
 *   `error: health rpc probe failed: rpc error: code = NotFound desc = unknown service`;
 *   `timeout: this server does not implement the grpc health protocol (grpc.health.v1.Health): …`;
 *   `timeout: health rpc did not complete within 1s`.
 */
import { connect, constants, type ClientHttp2Session } from "node:http2";

export const HEALTH_CHECK_PATH = "/grpc.health.v1.Health/Check";

/** grpc.health.v1.HealthCheckResponse.ServingStatus. */
export const SERVING_STATUS: readonly string[] = ["UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"];

/** gRPC status code names as grpc-go prints them (`codes.Code.String()`). */
export const GRPC_CODES: readonly string[] = [
  "OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound", "AlreadyExists", "PermissionDenied",
  "ResourceExhausted", "FailedPrecondition", "Aborted", "OutOfRange", "Unimplemented", "Internal", "Unavailable", "DataLoss",
  "Unauthenticated",
];

/** Largest response message accepted (a HealthCheckResponse is a few bytes). */
const MAX_MESSAGE = 64 * 1024;

export const grpcCodeName = (code: number): string => GRPC_CODES[code] ?? `Code(${code})`;

/** A failed rpc as grpc-go formats it: `rpc error: code = NotFound desc = unknown service`. */
export class GrpcStatusError extends Error {
  constructor(readonly code: number, readonly desc: string) {
    super(`rpc error: code = ${grpcCodeName(code)} desc = ${desc}`);
  }
}

function varint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

/** HealthCheckRequest{service}: field 1 (string) when non-empty (proto3 omits empty strings). */
export function encodeHealthCheckRequest(service: string): Uint8Array {
  if (service === "") return new Uint8Array(0);
  const s = new TextEncoder().encode(service);
  return Uint8Array.from([0x0a, ...varint(s.length), ...s]);
}

/** One gRPC length-prefixed message (uncompressed). */
export function frameGrpcMessage(msg: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + msg.length);
  out[0] = 0;
  new DataView(out.buffer).setUint32(1, msg.length, false);
  out.set(msg, 5);
  return out;
}

/**
 * The first message of a gRPC response body. Throws `Error` for an empty body, a compressed
 * message (we advertise no encodings), a truncated frame or an oversized one.
 */
export function unframeGrpcMessage(body: Uint8Array): Uint8Array {
  if (body.length === 0) throw new Error("the server sent no response message");
  if (body.length < 5) throw new Error(`truncated gRPC frame: ${body.length} byte(s), want at least 5`);
  const flag = body[0]!;
  if (flag !== 0) throw new Error(flag === 1 ? "compressed response message, but no encoding was negotiated" : `invalid gRPC frame flag ${flag}`);
  const len = new DataView(body.buffer, body.byteOffset, body.byteLength).getUint32(1, false);
  if (len > MAX_MESSAGE) throw new Error(`response message of ${len} bytes exceeds the limit of ${MAX_MESSAGE}`);
  if (body.length < 5 + len) throw new Error(`truncated gRPC frame: message of ${len} bytes, got ${body.length - 5}`);
  return body.subarray(5, 5 + len);
}

/** Reads a varint at `pos`; throws on truncation or more than 64 bits. */
function readVarint(b: Uint8Array, pos: number): { value: number; next: number } {
  let value = 0;
  let mul = 1;
  for (let i = 0; i < 10; i++) {
    const byte = b[pos + i];
    if (byte === undefined) throw new Error("truncated varint");
    value += (byte & 0x7f) * mul;
    mul *= 128;
    if ((byte & 0x80) === 0) return { value, next: pos + i + 1 };
  }
  throw new Error("varint longer than 10 bytes");
}

/**
 * HealthCheckResponse: the `status` enum (field 1, varint; last one wins, absent = 0 UNKNOWN).
 * Unknown fields are skipped; malformed protobuf throws `Error`.
 */
export function decodeHealthCheckResponse(msg: Uint8Array): { status: number } {
  let status = 0;
  let pos = 0;
  while (pos < msg.length) {
    const key = readVarint(msg, pos);
    pos = key.next;
    const field = Math.floor(key.value / 8);
    const wire = key.value % 8;
    if (field === 0) throw new Error("invalid field number 0");
    switch (wire) {
      case 0: {
        const v = readVarint(msg, pos);
        pos = v.next;
        if (field === 1) status = v.value;
        break;
      }
      case 1:
        pos += 8;
        break;
      case 2: {
        const l = readVarint(msg, pos);
        pos = l.next + l.value;
        break;
      }
      case 5:
        pos += 4;
        break;
      default:
        throw new Error(`unsupported wire type ${wire} for field ${field}`);
    }
    if (pos > msg.length) throw new Error(`truncated field ${field}`);
  }
  return { status };
}

/** `grpc-message` is percent-encoded (gRPC over HTTP/2 spec). */
export function decodeGrpcMessage(v: string): string {
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}

/** grpc-go's code for a non-200 HTTP status (its `HTTPStatusConvTab`). */
export function codeForHttpStatus(status: number): number {
  switch (status) {
    case 400: return 13; // Internal
    case 401: return 16; // Unauthenticated
    case 403: return 7; // PermissionDenied
    case 404: return 12; // Unimplemented
    case 429: case 502: case 503: case 504: return 14; // Unavailable
    default: return 2; // Unknown
  }
}

/** Go's `time.Duration` string for whole-ms values (`1s`, `1.5s`, `500ms`). */
export function goDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  return `${ms / 1000}s`;
}

/** Response headers or trailers as node:http2 delivers them. */
export type GrpcHeaders = Readonly<Record<string, string | string[] | number | undefined>>;

/**
 * What the HTTP/2 exchange produced: the response headers, trailers (absent for a trailers-only
 * response) and body. Judges it: resolves on SERVING, throws the kubelet's message otherwise.
 */
export function judgeHealthResponse(headers: GrpcHeaders, trailers: GrpcHeaders | undefined, body: Uint8Array): void {
  const http = Number(headers[":status"] ?? 0);
  const fail = (e: GrpcStatusError): never => {
    if (e.code === 12) throw new Error(`timeout: this server does not implement the grpc health protocol (grpc.health.v1.Health): ${e.desc}`);
    throw new Error(`error: health rpc probe failed: ${e.message}`);
  };
  if (http !== 200) fail(new GrpcStatusError(codeForHttpStatus(http), `unexpected HTTP status code received from server: ${http}`));
  const ct = String(headers["content-type"] ?? "");
  if (!/^application\/grpc(\+|;|$)/.test(ct)) {
    fail(new GrpcStatusError(2, `unexpected HTTP status code received from server: ${http}; transport: received unexpected content-type ${JSON.stringify(ct)}`));
  }
  const src = trailers !== undefined && trailers["grpc-status"] !== undefined ? trailers : headers;
  const rawStatus = src["grpc-status"];
  if (rawStatus === undefined) fail(new GrpcStatusError(13, "server closed the stream without sending trailers"));
  const code = Number(rawStatus);
  if (!Number.isInteger(code) || code < 0) fail(new GrpcStatusError(13, `transport: malformed grpc-status: ${String(rawStatus)}`));
  if (code !== 0) fail(new GrpcStatusError(code, decodeGrpcMessage(String(src["grpc-message"] ?? ""))));
  let status: number;
  try {
    status = decodeHealthCheckResponse(unframeGrpcMessage(body)).status;
  } catch (err) {
    return fail(new GrpcStatusError(13, `grpc: failed to unmarshal the received message: ${(err as Error).message}`));
  }
  if (status !== 1) throw new Error(`service unhealthy (responded with ${JSON.stringify(SERVING_STATUS[status] ?? String(status))})`);
}

export interface GrpcCheckOptions {
  readonly host: string;
  readonly port: number;
  /** `probe.grpc.service` (default ""). */
  readonly service?: string;
  readonly timeoutMs: number;
}

/** Go's dialer wording for a socket error (`connect: connection refused`). */
function dialWords(err: NodeJS.ErrnoException): string {
  const what: Record<string, string> = {
    ECONNREFUSED: "connect: connection refused", EHOSTUNREACH: "connect: no route to host",
    ENETUNREACH: "connect: network is unreachable", ECONNRESET: "read: connection reset by peer",
    EADDRNOTAVAIL: "connect: cannot assign requested address",
  };
  return what[err.code ?? ""] ?? err.message;
}

/** The socket-level (errno) error behind `err`, if any (http2 wraps them as the cause). */
function socketError(err: unknown): NodeJS.ErrnoException | undefined {
  let e: unknown = err;
  for (let i = 0; i < 4 && e instanceof Error; i++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === "string" && /^E[A-Z]+$/.test(code)) return e as NodeJS.ErrnoException;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * One health check: resolves when the server answers SERVING; rejects with the kubelet's message
 * otherwise (connection errors, non-OK grpc-status, other serving states, garbage, the timeout).
 */
export function grpcHealthCheck(o: GrpcCheckOptions): Promise<void> {
  const addr = o.host.includes(":") ? `[${o.host}]:${o.port}` : `${o.host}:${o.port}`;
  return new Promise<void>((resolve, reject) => {
    let session: ClientHttp2Session | undefined;
    let done = false;
    const finish = (err?: Error): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      session?.destroy();
      if (err === undefined) resolve();
      else reject(err);
    };
    const timer = setTimeout(() => finish(new Error(`timeout: health rpc did not complete within ${goDuration(o.timeoutMs)}`)), o.timeoutMs);
    timer.unref?.();
    try {
      session = connect(`http://${addr}`);
    } catch (err) {
      finish(new Error(`error: failed to connect service at "${addr}": ${(err as Error).message}`));
      return;
    }
    const onError = (err: NodeJS.ErrnoException): void => {
      const sock = socketError(err);
      finish(new Error(sock !== undefined
        ? `error: health rpc probe failed: rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: dial tcp ${addr}: ${dialWords(sock)}"`
        : `error: health rpc probe failed: rpc error: code = Unavailable desc = ${err.message}`));
    };
    session.on("error", onError);
    const req = session.request({
      [constants.HTTP2_HEADER_METHOD]: "POST",
      [constants.HTTP2_HEADER_PATH]: HEALTH_CHECK_PATH,
      [constants.HTTP2_HEADER_SCHEME]: "http",
      "content-type": "application/grpc",
      te: "trailers",
      "user-agent": "kube-probe/1.32",
      "grpc-timeout": `${Math.max(1, o.timeoutMs)}m`,
    });
    let headers: GrpcHeaders | undefined;
    let trailers: GrpcHeaders | undefined;
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("response", (h) => {
      headers = h;
    });
    req.on("trailers", (t) => {
      trailers = t;
    });
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_MESSAGE + 5) {
        finish(new Error(`error: health rpc probe failed: rpc error: code = ResourceExhausted desc = grpc: received message larger than max (${size - 5} vs. ${MAX_MESSAGE})`));
        return;
      }
      chunks.push(c);
    });
    req.on("error", onError);
    req.on("end", () => {
      if (done) return;
      if (headers === undefined) {
        finish(new Error("error: health rpc probe failed: rpc error: code = Internal desc = server closed the stream without sending headers"));
        return;
      }
      try {
        judgeHealthResponse(headers, trailers, new Uint8Array(Buffer.concat(chunks)));
        finish();
      } catch (err) {
        finish(err as Error);
      }
    });
    req.end(Buffer.from(frameGrpcMessage(encodeHealthCheckRequest(o.service ?? ""))));
  });
}
