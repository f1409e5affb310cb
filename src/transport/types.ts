/**
 * The HTTP port. The apiserver core is a `Handler`: it sees a small, runtime-neutral request and
 * returns a response whose body may stream. Adapters (node:http2, hyper-express/uWS, Deno.serve)
 * translate their native objects to these and run the shared suite in `conformance.ts`.
 */

/** Identity proven by the TLS layer: the verified client certificate, if any. */
export interface PeerCertificate {
  /** Subject common name (Kubernetes: the user name). */
  readonly commonName: string;
  /** Subject organizations (Kubernetes: the groups). */
  readonly organizations: readonly string[];
}

export interface HttpRequest {
  readonly method: string;
  /** Decoded path without the query, e.g. `/api/v1/namespaces/default/pods`. */
  readonly path: string;
  /** The raw query string without `?` (may be empty). */
  readonly rawQuery: string;
  readonly query: URLSearchParams;
  /** Header names are lower-case; repeated headers are joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
  /** "2" for HTTP/2, "1.1" otherwise. */
  readonly httpVersion: "1.1" | "2";
  readonly remoteAddress: string;
  /** Set only when the client presented a certificate that chains to the configured client CA. */
  readonly peerCertificate?: PeerCertificate;
  /** Aborted when the client goes away. */
  readonly signal: AbortSignal;
  /**
   * Reads the whole body. Rejects with `BodyTooLargeError` once more than `limit` bytes arrive
   * (the adapter stops reading then). May be called once.
   */
  body(limit: number): Promise<Uint8Array>;
}

export type ResponseBody = Uint8Array | string | AsyncIterable<Uint8Array>;

export interface HttpResponse {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * A streaming body is pulled by the adapter: it asks for the next chunk only after the previous
   * one was accepted by the socket (backpressure), and calls `return()` on the iterator when the
   * client goes away, so producers can release resources. Each chunk is flushed promptly
   * (watch events must not sit in a buffer).
   */
  readonly body?: ResponseBody;
  /**
   * Connection takeover for HTTP/1.1 `Upgrade` requests (kubectl exec/attach/port-forward send
   * WebSocket or SPDY upgrades over HTTP/1.1). Honoured only when the request carried
   * `connection: upgrade`, `status` is 101 and the transport declares `capabilities.upgrade`:
   * the adapter writes the 101 head with `headers` and hands the raw byte stream to this callback,
   * which owns it from then on (`body` is ignored). The protocol spoken afterwards (WebSocket
   * framing, SPDY) is the handler's business. On a transport without upgrade support, or for a
   * request that did not ask to upgrade, such a response is answered with 501 instead.
   * Any other response to an upgrade request is sent as a normal response.
   */
  readonly upgrade?: (conn: UpgradedConnection) => void;
}

/** The raw byte stream of a connection taken over after a 101 response. */
export interface UpgradedConnection {
  /** Bytes the client sent after the request head, before the takeover (may be empty). */
  readonly head: Uint8Array;
  /** Incoming bytes; ends when the peer half-closes or the connection drops. */
  readonly readable: AsyncIterable<Uint8Array>;
  /** Writes bytes; resolves once the socket accepted them (backpressure). Rejects after close. */
  write(chunk: Uint8Array): Promise<void>;
  /** Ends the connection (flushes what was written). Idempotent. */
  close(): void;
  /** Aborted when the connection closes for any reason. */
  readonly signal: AbortSignal;
}

export type Handler = (req: HttpRequest) => Promise<HttpResponse>;

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`request body exceeds the limit of ${limit} bytes`);
    this.name = "BodyTooLargeError";
  }
}

export interface TlsOptions {
  /** PEM serving certificate chain and key. */
  readonly cert: string;
  readonly key: string;
  /** PEM CA that client certificates must chain to; absent: no client-cert authentication. */
  readonly clientCa?: string;
}

export interface ListenOptions {
  readonly host: string;
  /** 0 picks a free port; the bound one is reported by `Server.port`. */
  readonly port: number;
  /** TLS with ALPN (h2 and http/1.1 where the engine supports it); absent: plaintext. */
  readonly tls?: TlsOptions;
}

export interface Server {
  readonly port: number;
  /** Stops accepting, ends open streams, resolves when all connections are closed. */
  close(): Promise<void>;
}

/**
 * What an adapter can do beyond plain HTTP/1.1 request/response. The conformance suite runs the
 * cases for a capability only where it is declared (and reports the others as skipped by name).
 */
export interface TransportCapabilities {
  /** HTTP/2 over TLS negotiated with ALPN (h2 and http/1.1 on the same port). */
  readonly tlsH2: boolean;
  /** Cleartext HTTP/2 with prior knowledge (h2c). */
  readonly h2c: boolean;
  /** Cleartext HTTP/1.1 (on the same port as h2c where both are true). */
  readonly http1Plaintext: boolean;
  /** `HttpRequest.peerCertificate` is set from verified client certificates. */
  readonly clientCertificates: boolean;
  /** `HttpResponse.upgrade` (101 + raw connection takeover) is honoured. */
  readonly upgrade: boolean;
}

/** An adapter turns a Handler into a listening server. */
export interface Transport {
  readonly name: string;
  /** Absent means: plain HTTP/1.1 only (every capability false). */
  readonly capabilities?: TransportCapabilities;
  listen(handler: Handler, opts: ListenOptions): Promise<Server>;
}
