import { describe, expect, it } from "vitest";
import { DEFAULT_EVENT_TTL, parseEventTtl } from "./eventttl.ts";

describe("parseEventTtl", () => {
  it("reads Go durations", () => {
    expect(parseEventTtl(DEFAULT_EVENT_TTL)).toBe(3_600_000);
    expect(parseEventTtl("1h30m")).toBe(5_400_000);
    expect(parseEventTtl("90s")).toBe(90_000);
    expect(parseEventTtl("250ms")).toBe(250);
    expect(parseEventTtl("0")).toBe(0);
  });
  it("rejects what is not a non-negative duration, naming the flag", () => {
    expect(() => parseEventTtl("1 hour")).toThrow(/invalid --event-ttl "1 hour": want a duration such as 1h/);
    expect(() => parseEventTtl("")).toThrow(/invalid --event-ttl/);
    expect(() => parseEventTtl("60")).toThrow(/invalid --event-ttl "60"/);
    expect(() => parseEventTtl("-5m")).toThrow(/must not be negative/);
    expect(() => parseEventTtl("10ns")).toThrow(/below one millisecond/);
  });
});
