import { describe, expect, it } from "vitest";
import { dialHost, formatUrl, parseListenAddress } from "./listen.ts";

describe("parseListenAddress", () => {
  it("parses host:port, [v6]:port and :port", () => {
    expect(parseListenAddress("127.0.0.1:6443")).toEqual({ host: "127.0.0.1", port: 6443 });
    expect(parseListenAddress("localhost:0")).toEqual({ host: "localhost", port: 0 });
    expect(parseListenAddress("[::1]:8443")).toEqual({ host: "::1", port: 8443 });
    expect(parseListenAddress(":6443")).toEqual({ host: "127.0.0.1", port: 6443 });
  });
  it.each([
    ["6443", "missing port"],
    ["127.0.0.1:", "port must be a number"],
    ["127.0.0.1:http", "port must be a number"],
    ["127.0.0.1:70000", "at most 65535"],
    ["::1:6443", "brackets"],
    ["[::1:6443", "unterminated"],
    ["a b:1", "bad host"],
  ])("rejects %s", (v, why) => {
    expect(() => parseListenAddress(v)).toThrow(why);
    expect(() => parseListenAddress(v)).toThrow(`invalid --listen "${v}"`);
  });
});

describe("urls", () => {
  it("maps wildcards to loopback and brackets IPv6", () => {
    expect(dialHost("0.0.0.0")).toBe("127.0.0.1");
    expect(dialHost("::")).toBe("::1");
    expect(dialHost("10.1.2.3")).toBe("10.1.2.3");
    expect(formatUrl("https", "::1", 6443)).toBe("https://[::1]:6443");
    expect(formatUrl("http", "127.0.0.1", 80)).toBe("http://127.0.0.1:80");
  });
});
