/**
 * The SPDY/3 header-compression dictionary (SPDY Protocol Draft 3, §2.6.10.1): zlib is primed with
 * it in both directions (the stream header then carries FDICT and its Adler-32, 0xe3c6a7c2).
 *
 * The dictionary is 1423 bytes: the words below, each preceded by its length as a 32-bit
 * big-endian integer (the shape of a header block), followed by the raw text of `TAIL`. The test
 * pins the length and the checksum.
 */

const WORDS: readonly string[] = [
  "options", "head", "post", "put", "delete", "trace", "accept", "accept-charset",
  "accept-encoding", "accept-language", "accept-ranges", "age", "allow",
  "authorization", "cache-control", "connection", "content-base",
  "content-encoding", "content-language", "content-length", "content-location",
  "content-md5", "content-range", "content-type", "date", "etag", "expect",
  "expires", "from", "host", "if-match", "if-modified-since", "if-none-match",
  "if-range", "if-unmodified-since", "last-modified", "location", "max-forwards",
  "pragma", "proxy-authenticate", "proxy-authorization", "range", "referer",
  "retry-after", "server", "te", "trailer", "transfer-encoding", "upgrade",
  "user-agent", "vary", "via", "warning", "www-authenticate", "method", "get",
  "status", "200 OK", "version", "HTTP/1.1", "url", "public", "set-cookie",
  "keep-alive", "origin",
];

const TAIL = [
  "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505",
  "203 Non-Authoritative Information",
  "204 No Content",
  "301 Moved Permanently",
  "400 Bad Request",
  "401 Unauthorized",
  "403 Forbidden",
  "404 Not Found",
  "500 Internal Server Error",
  "501 Not Implemented",
  "503 Service Unavailable",
  "Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT",
  "chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,text/javascript,",
  "publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.",
].join("");

function build(): Uint8Array {
  const te = new TextEncoder();
  const parts: number[] = [];
  for (const w of WORDS) {
    const b = te.encode(w);
    parts.push(0, 0, (b.byteLength >>> 8) & 0xff, b.byteLength & 0xff, ...b);
  }
  parts.push(...te.encode(TAIL));
  return Uint8Array.from(parts);
}

/** The dictionary bytes (do not mutate). */
export const SPDY3_DICTIONARY: Uint8Array = build();
