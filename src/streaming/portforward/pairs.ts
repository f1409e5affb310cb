/**
 * Pure rules of the port-forward stream protocol: header validation (refused streams get a
 * RST_STREAM) and pairing a request's error and data streams by `requestID`.
 */
import { headerValue, type SpdyHeaders } from "../spdy/headers.ts";

/**
 * Why a new stream is refused, or undefined to accept it (kubelet httpStreamReceived texts).
 */
export function validateStreamHeaders(headers: SpdyHeaders): string | undefined {
  const port = headerValue(headers, "port");
  if (port === undefined || port === "") return '"port" header is required';
  const n = parsePort(port);
  if (n === undefined) return `unable to parse "${port}" as a port`;
  if (n < 1) return `port "${port}" must be > 0`;
  const type = headerValue(headers, "streamtype");
  if (type === undefined || type === "") return '"streamType" header is required';
  if (type !== "error" && type !== "data") return `invalid stream type "${type}"`;
  return undefined;
}

/** A decimal 16-bit port, or undefined. */
export function parsePort(s: string): number | undefined {
  if (!/^[0-9]{1,5}$/.test(s)) return undefined;
  const n = Number(s);
  return n <= 65535 ? n : undefined;
}

/**
 * The request a stream belongs to: its `requestID` header, or for clients that send none the
 * kubelet's legacy guess (error stream: its own id; data stream: its id minus 2).
 */
export function requestIdOf(headers: SpdyHeaders, streamId: number): string {
  const id = headerValue(headers, "requestid");
  if (id !== undefined && id !== "") return id;
  return String(headerValue(headers, "streamtype") === "data" ? streamId - 2 : streamId);
}

export type PairOutcome<S> =
  /** First stream of a request: start its creation timer. */
  | { readonly kind: "created" }
  /** Waiting for the other stream (not reachable with two stream types; kept for completeness). */
  | { readonly kind: "pending" }
  | { readonly kind: "complete"; readonly error: S; readonly data: S }
  /** A second stream of the same type: report `message` on the pair's error stream (if any). */
  | { readonly kind: "duplicate"; readonly message: string; readonly errorStream: S | undefined };

/** Collects error/data stream pairs by request id. */
export class StreamPairer<S> {
  readonly #pairs = new Map<string, { error?: S; data?: S }>();

  get pending(): number {
    return this.#pairs.size;
  }

  add(requestId: string, type: "error" | "data", stream: S): PairOutcome<S> {
    let p = this.#pairs.get(requestId);
    const created = p === undefined;
    if (p === undefined) {
      p = {};
      this.#pairs.set(requestId, p);
    }
    if (p[type] !== undefined) {
      return { kind: "duplicate", message: `error processing stream for request ${requestId}: ${type} stream already assigned`, errorStream: p.error };
    }
    p[type] = stream;
    if (p.error !== undefined && p.data !== undefined) {
      this.#pairs.delete(requestId);
      return { kind: "complete", error: p.error, data: p.data };
    }
    return { kind: created ? "created" : "pending" };
  }

  /** The creation timer fired: forget the request; returns its error stream if it had one. */
  expire(requestId: string): { readonly expired: boolean; readonly errorStream: S | undefined } {
    const p = this.#pairs.get(requestId);
    if (p === undefined) return { expired: false, errorStream: undefined };
    this.#pairs.delete(requestId);
    return { expired: true, errorStream: p.error };
  }
}
