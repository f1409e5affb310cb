/**
 * A small HTTP/2 client for end-to-end tests: one TLS (or h2c) session, many concurrent streams,
 * a per-request timeout (a request that gets no complete response in time rejects with
 * `RequestTimeoutError`, so hangs are detected instead of waited on).
 */
import { connect, constants, type ClientHttp2Session, type OutgoingHttpHeaders } from "node:http2";

export class RequestTimeoutError extends Error {
  constructor(method: string, path: string, ms: number) {
    super(`${method} ${path}: no complete response within ${ms} ms`);
    this.name = "RequestTimeoutError";
  }
}

export interface H2Response {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
  /** The stream was reset after the response headers arrived (body may be partial). */
  readonly reset?: boolean;
}

export interface H2RequestOptions {
  readonly method?: string;
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Uint8Array | string;
  readonly timeoutMs?: number;
  /**
   * Called with the status once headers arrive; returning true resolves at once with an empty
   * body and cancels the stream (for watches, which never end by themselves).
   */
  readonly stopAfterHeaders?: (status: number) => boolean;
}

export interface H2Auth {
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly token?: string;
}

export class H2Client {
  private session: ClientHttp2Session | undefined;
  /** How many GOAWAYs the server sent (sessions it ended). */
  goaways = 0;
  /** Streams that failed with a session-level error (the session was dropped and re-opened). */
  sessionErrors = 0;

  constructor(private readonly url: string, private readonly auth: H2Auth = {}) {}

  private get(): ClientHttp2Session {
    if (this.session === undefined || this.session.closed || this.session.destroyed) {
      const s = connect(this.url, {
        // Node's client resets its own streams (ENHANCE_YOUR_CALM) once 10 MB of outbound data is
        // buffered; the fuzz test sends many large bodies the server rightly never reads.
        maxSessionMemory: 256,
        ...(this.auth.ca !== undefined ? { ca: this.auth.ca } : {}),
        ...(this.auth.cert !== undefined ? { cert: this.auth.cert } : {}),
        ...(this.auth.key !== undefined ? { key: this.auth.key } : {}),
      });
      s.on("error", () => { /* surfaced per stream */ });
      // After a GOAWAY the session takes no new streams: forget it so the next request reconnects.
      const forget = (): void => {
        if (this.session === s) this.session = undefined;
      };
      s.on("goaway", () => {
        this.goaways++;
        forget();
      });
      s.on("close", forget);
      this.session = s;
    }
    return this.session;
  }

  request(opts: H2RequestOptions): Promise<H2Response> {
    const method = opts.method ?? "GET";
    const timeoutMs = opts.timeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      const headers: OutgoingHttpHeaders = {
        ":method": method,
        ":path": opts.path,
        ...(this.auth.token !== undefined ? { authorization: `Bearer ${this.auth.token}` } : {}),
        ...opts.headers,
      };
      let stream;
      try {
        stream = this.get().request(headers, { endStream: opts.body === undefined });
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      const chunks: Buffer[] = [];
      let status = 0;
      let resHeaders: Record<string, string> = {};
      const timer = setTimeout(() => {
        stream.close(constants.NGHTTP2_CANCEL);
        reject(new RequestTimeoutError(method, opts.path, timeoutMs));
      }, timeoutMs);
      stream.on("response", (h) => {
        status = Number(h[":status"]);
        resHeaders = Object.fromEntries(Object.entries(h).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : String(v)]));
        if (opts.stopAfterHeaders?.(status) === true) {
          clearTimeout(timer);
          stream.close(constants.NGHTTP2_CANCEL);
          resolve({ status, headers: resHeaders, body: Buffer.alloc(0) });
        }
      });
      stream.on("data", (d: Buffer) => chunks.push(d));
      stream.on("end", () => {
        clearTimeout(timer);
        if (status === 0) reject(new Error(`${method} ${opts.path}: stream ended without response headers`));
        else resolve({ status, headers: resHeaders, body: Buffer.concat(chunks) });
      });
      stream.on("error", (err) => {
        clearTimeout(timer);
        // A session-level refusal leaves the session unusable: drop it so the next request reconnects.
        if (/ENHANCE_YOUR_CALM|INTERNAL_ERROR|SESSION_ERROR|GOAWAY/.test(err.message)) {
          this.sessionErrors++;
          const s = this.session;
          this.session = undefined;
          s?.destroy();
        }
        if (status !== 0) resolve({ status, headers: resHeaders, body: Buffer.concat(chunks), reset: true });
        else reject(err);
      });
      stream.on("close", () => {
        clearTimeout(timer);
        // no-ops when already settled
        if (status !== 0) resolve({ status, headers: resHeaders, body: Buffer.concat(chunks), reset: true });
        else reject(new Error(`${method} ${opts.path}: stream closed without a response (code ${stream.rstCode ?? "?"})`));
      });
      if (opts.body !== undefined) stream.end(opts.body);
    });
  }

  /** JSON convenience: sends `body` as JSON, parses a JSON response. */
  async json(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
    const r = await this.request({
      method,
      path,
      headers: { accept: "application/json", ...(body !== undefined ? { "content-type": "application/json" } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    let parsed: unknown = undefined;
    try {
      parsed = JSON.parse(r.body.toString("utf8"));
    } catch {
      parsed = r.body.toString("utf8");
    }
    return { status: r.status, body: parsed };
  }

  close(): void {
    this.session?.close();
    this.session = undefined;
  }
}
