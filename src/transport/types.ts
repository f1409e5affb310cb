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

/** An adapter turns a Handler into a listening server. */
export interface Transport {
  readonly name: string;
  listen(handler: Handler, opts: ListenOptions): Promise<Server>;
}
