/**
 * `--listen HOST:PORT` parsing and URL formatting. Pure.
 */

export interface ListenAddress {
  /** Host or IP literal without brackets, e.g. `127.0.0.1`, `::1`, `localhost`. */
  readonly host: string;
  /** 0..65535; 0 lets the OS pick a free port. */
  readonly port: number;
}

/**
 * Parses `HOST:PORT`, `[V6]:PORT` or `:PORT` (host defaults to 127.0.0.1).
 * Throws `Error` with a message naming the bad value.
 */
export function parseListenAddress(value: string): ListenAddress {
  const bad = (why: string): Error => new Error(`invalid --listen "${value}": ${why} (expected HOST:PORT)`);
  let host: string;
  let portText: string;
  if (value.startsWith("[")) {
    const close = value.indexOf("]");
    if (close < 0 || value[close + 1] !== ":") throw bad("unterminated IPv6 literal");
    host = value.slice(1, close);
    portText = value.slice(close + 2);
  } else {
    const colon = value.lastIndexOf(":");
    if (colon < 0) throw bad("missing port");
    host = value.slice(0, colon);
    if (host.includes(":")) throw bad("IPv6 addresses must be written in brackets, e.g. [::1]:6443");
    portText = value.slice(colon + 1);
  }
  if (host === "") host = "127.0.0.1";
  if (!/^[A-Za-z0-9.:_-]+$/.test(host)) throw bad("bad host");
  if (!/^\d{1,5}$/.test(portText)) throw bad("port must be a number");
  const port = Number(portText);
  if (port > 65535) throw bad("port must be at most 65535");
  return { host, port };
}

/** Hosts that mean "every interface": clients reach them on loopback. */
const WILDCARD_HOSTS = new Set(["0.0.0.0", "::", ""]);

/** The host a local client should dial for a listen host (wildcards map to loopback). */
export function dialHost(host: string): string {
  if (!WILDCARD_HOSTS.has(host)) return host;
  return host === "::" ? "::1" : "127.0.0.1";
}

/** `https://127.0.0.1:6443`, `https://[::1]:6443`. */
export function formatUrl(scheme: "http" | "https", host: string, port: number): string {
  const h = host.includes(":") ? `[${host}]` : host;
  return `${scheme}://${h}:${port}`;
}
