import { describe, expect, it } from "vitest";
import { parseRequestHead, responseHead } from "./_headers.ts";

const base = [":method", "GET", ":scheme", "https", ":path", "/api", ":authority", "h:1"];

describe("parseRequestHead", () => {
  it("joins regular fields, cookie with '; ', host from :authority", () => {
    const head = parseRequestHead([...base, "accept", "a", "accept", "b", "cookie", "x=1", "cookie", "y=2"]);
    expect(head).toEqual({ method: "GET", target: "/api", headers: { accept: "a, b", cookie: "x=1; y=2", host: "h:1" } });
    const withHost = parseRequestHead([...base, "host", "other"]);
    expect(typeof withHost !== "string" && withHost.headers["host"]).toBe("other");
  });

  it("accepts te: trailers and CONNECT with only :authority", () => {
    expect(typeof parseRequestHead([...base, "te", "trailers"])).toBe("object");
    expect(parseRequestHead([":method", "CONNECT", ":authority", "h:1"])).toEqual({ method: "CONNECT", target: "", headers: { host: "h:1" } });
  });

  const malformed: Array<[string, string[]]> = [
    ["missing :method", [":scheme", "http", ":path", "/"]],
    ["missing :path", [":method", "GET", ":scheme", "http"]],
    ["empty :path", [":method", "GET", ":scheme", "http", ":path", ""]],
    ["missing :scheme", [":method", "GET", ":path", "/"]],
    ["duplicate :path", [...base, ":path", "/b"]],
    ["duplicate :method", [":method", "GET", ...base]],
    ["response pseudo-header", [...base.slice(0, 6), ":status", "200"]],
    ["unknown pseudo-header", [...base, ":protocol", "websocket"]],
    ["pseudo-header after a regular field", [":method", "GET", "accept", "x", ":scheme", "http", ":path", "/"]],
    ["upper-case name", [...base, "Accept", "x"]],
    ["name with a space", [...base, "bad name", "x"]],
    ["empty name", [...base, "", "x"]],
    ["connection header", [...base, "connection", "keep-alive"]],
    ["transfer-encoding", [...base, "transfer-encoding", "chunked"]],
    ["upgrade", [...base, "upgrade", "websocket"]],
    ["keep-alive", [...base, "keep-alive", "1"]],
    ["te other than trailers", [...base, "te", "gzip"]],
    ["CR in a value", [...base, "x-a", "a\rb"]],
    ["LF in a value", [...base, "x-a", "a\nb"]],
    ["NUL in a value", [...base, "x-a", "a\0b"]],
    ["NUL in :path", [":method", "GET", ":scheme", "http", ":path", "/a\0"]],
    ["bad :method token", [":method", "G T", ":scheme", "http", ":path", "/"]],
    ["CONNECT with :path", [":method", "CONNECT", ":authority", "h", ":path", "/"]],
    ["CONNECT without :authority", [":method", "CONNECT"]],
  ];
  for (const [what, list] of malformed) {
    it(`malformed: ${what}`, () => {
      expect(typeof parseRequestHead(list)).toBe("string");
    });
  }

  it("a tab inside a value is fine", () => {
    expect(typeof parseRequestHead([...base, "x-a", "a\tb"])).toBe("object");
  });
});

describe("responseHead", () => {
  it(":status first, names lower-cased, connection-specific fields dropped, content-length added", () => {
    expect(responseHead({ status: 200, headers: { "Content-Type": "a/b", Connection: "close", "X-Y": "z" } }, false, 5)).toEqual([
      ":status", "200", "content-type", "a/b", "x-y", "z", "content-length", "5",
    ]);
  });

  it("keeps the handler's content-length; none for a body-less answer or a stream", () => {
    expect(responseHead({ status: 200, headers: { "content-length": "9" } }, false, 5)).toEqual([":status", "200", "content-length", "9"]);
    expect(responseHead({ status: 204 }, true, 0)).toEqual([":status", "204"]);
    expect(responseHead({ status: 200 }, false, undefined)).toEqual([":status", "200"]);
  });

  it("refuses what HTTP/2 cannot carry", () => {
    expect(responseHead({ status: 42 }, false, 0)).toBeUndefined();
    expect(responseHead({ status: 200.5 }, false, 0)).toBeUndefined();
    expect(responseHead({ status: 200, headers: { "bad name": "x" } }, false, 0)).toBeUndefined();
    expect(responseHead({ status: 200, headers: { "x-a": "a\r\nb" } }, false, 0)).toBeUndefined();
    expect(responseHead({ status: 200, headers: { "x-a": "snow\u2603" } }, false, 0)).toBeUndefined();
  });
});
