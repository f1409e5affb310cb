/**
 * The apiserver's client to node agents: HTTPS with the apiserver's kubelet-client certificate,
 * verifying the agent's serving certificate against the cluster CA.
 *
 * - `get`: a plain request (logs); the response body streams, destroying the request ends it.
 * - `upgrade`: an HTTP/1.1 upgrade on a fresh TLS connection; resolves with the agent's answer
 *   head and, for 101, the raw socket (paused) plus any bytes that followed the head.
 */
import * as https from "node:https";
import type { IncomingMessage } from "node:http";
import * as tls from "node:tls";

export interface KubeletClientConfig {
  /** PEM CA that signed the agents' serving certificates (the cluster CA). */
  readonly caCert: string;
  /** PEM client certificate and key (CN kube-apiserver-kubelet-client). */
  readonly cert: string;
  readonly key: string;
  /** Connect + TLS handshake + response head (default 10 s). */
  readonly timeoutMs?: number;
}

export interface UpgradeAnswer {
  readonly status: number;
  /** Header names as the agent sent them; repeated ones joined with ", ". */
  readonly headers: Record<string, string>;
  /** 101: the upgraded socket (paused) and the bytes read past the head. */
  readonly socket?: tls.TLSSocket;
  readonly rest?: Uint8Array;
  /** Non-101: the body (at most 1 MiB). */
  readonly body?: Uint8Array;
}

const MAX_HEAD = 64 * 1024;
const MAX_ERROR_BODY = 1024 * 1024;
const CRLFCRLF = Buffer.from("\r\n\r\n");

function hostOf(url: URL): string {
  return url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
}

export class KubeletDialer {
  readonly #cfg: KubeletClientConfig;
  readonly #agent: https.Agent;

  constructor(cfg: KubeletClientConfig) {
    this.#cfg = cfg;
    this.#agent = new https.Agent({ keepAlive: false, ca: cfg.caCert, cert: cfg.cert, key: cfg.key });
  }

  get #timeout(): number {
    return this.#cfg.timeoutMs ?? 10_000;
  }

  /** GET `url`; resolves with the response once its head arrived. Rejects on connect/TLS errors or timeout. */
  get(url: URL, signal: AbortSignal): Promise<{ res: IncomingMessage; cancel: () => void }> {
    return new Promise((resolve, reject) => {
      const req = https.request({
        agent: this.#agent, method: "GET", host: hostOf(url), port: Number(url.port), path: url.pathname + url.search,
        headers: { accept: "*/*", "user-agent": "tug-apiserver" },
      });
      const timer = setTimeout(() => req.destroy(new Error(`no answer within ${this.#timeout} ms`)), this.#timeout);
      const onAbort = (): void => void req.destroy(new Error("client went away"));
      signal.addEventListener("abort", onAbort, { once: true });
      const cancel = (): void => {
        signal.removeEventListener("abort", onAbort);
        req.destroy();
      };
      req.once("response", (res) => {
        clearTimeout(timer);
        resolve({ res, cancel });
      });
      req.once("error", (err) => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        reject(err);
      });
      req.end();
    });
  }

  /** Opens `method url` with `headers` on a new TLS connection and reads the answer head. */
  upgrade(url: URL, method: string, headers: Readonly<Record<string, string>>): Promise<UpgradeAnswer> {
    const c = this.#cfg;
    return new Promise((resolve, reject) => {
      const host = hostOf(url);
      const socket = tls.connect({
        host, port: Number(url.port), ca: c.caCert, cert: c.cert, key: c.key, ALPNProtocols: ["http/1.1"],
        ...(/^[\d.:]+$/.test(host) ? {} : { servername: host }), // SNI is for DNS names only
      });
      let settled = false;
      const fail = (err: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      };
      const timer = setTimeout(() => fail(new Error(`no answer within ${this.#timeout} ms`)), this.#timeout);
      socket.once("error", fail);
      socket.once("secureConnect", () => {
        let head = `${method} ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\n`;
        for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
        socket.write(head + "\r\n");
      });
      let buf = Buffer.alloc(0);
      const onData = (chunk: Buffer): void => {
        buf = Buffer.concat([buf, chunk]);
        const end = buf.indexOf(CRLFCRLF);
        if (end < 0) {
          if (buf.length > MAX_HEAD) fail(new Error("the node agent's response head is too large"));
          return;
        }
        socket.off("data", onData);
        socket.pause();
        const parsed = parseHead(buf.subarray(0, end).toString("latin1"));
        if (parsed === undefined) return fail(new Error("the node agent sent a malformed response head"));
        const rest = new Uint8Array(buf.subarray(end + 4));
        if (parsed.status === 101) {
          settled = true;
          clearTimeout(timer);
          socket.off("error", fail);
          resolve({ ...parsed, socket, rest });
          return;
        }
        readBody(socket, rest, parsed.headers).then((body) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          socket.destroy();
          resolve({ ...parsed, body });
        }, (err: unknown) => fail(err instanceof Error ? err : new Error(String(err))));
      };
      socket.on("data", onData);
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}

/** `HTTP/1.1 101 Switching Protocols` + header lines. */
export function parseHead(text: string): { status: number; headers: Record<string, string> } | undefined {
  const lines = text.split("\r\n");
  const m = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(lines[0] ?? "");
  if (!m) return undefined;
  const headers: Record<string, string> = {};
  const lower = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const i = line.indexOf(":");
    if (i <= 0) return undefined;
    const name = line.slice(0, i).trim();
    const value = line.slice(i + 1).trim();
    const seen = lower.get(name.toLowerCase());
    if (seen !== undefined) headers[seen] = `${headers[seen]}, ${value}`;
    else {
      lower.set(name.toLowerCase(), name);
      headers[name] = value;
    }
  }
  return { status: Number(m[1]), headers };
}

/** The body of a non-101 answer: content-length, chunked, or up to the end of the connection. */
async function readBody(socket: tls.TLSSocket, first: Uint8Array, headers: Record<string, string>): Promise<Uint8Array> {
  const get = (n: string): string | undefined => Object.entries(headers).find(([k]) => k.toLowerCase() === n)?.[1];
  const len = get("content-length");
  const chunked = (get("transfer-encoding") ?? "").toLowerCase().includes("chunked");
  const parts: Buffer[] = [Buffer.from(first)];
  let size = first.length;
  const want = len !== undefined && /^\d+$/.test(len) ? Math.min(Number(len), MAX_ERROR_BODY) : MAX_ERROR_BODY;
  const done = (): boolean => size >= want || (chunked && Buffer.concat(parts).includes("0\r\n\r\n"));
  if (!done()) {
    socket.resume();
    for await (const chunk of socket as AsyncIterable<Buffer>) {
      parts.push(chunk);
      size += chunk.length;
      if (done()) break;
    }
  }
  const all = Buffer.concat(parts).subarray(0, want);
  return chunked ? dechunk(all) : new Uint8Array(all);
}

function dechunk(b: Buffer): Uint8Array {
  const out: Buffer[] = [];
  let pos = 0;
  for (let i = 0; i < 10_000; i++) {
    const eol = b.indexOf("\r\n", pos);
    if (eol < 0) break;
    const n = parseInt(b.subarray(pos, eol).toString("latin1"), 16);
    if (!(n > 0)) break;
    out.push(b.subarray(eol + 2, eol + 2 + n));
    pos = eol + 2 + n + 2;
  }
  return new Uint8Array(Buffer.concat(out));
}
