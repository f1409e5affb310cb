import { describe, expect, it } from "vitest";
import { humanDuration, shortHumanDuration, translateTimestampSince } from "./_duration.ts";
import { cronScheduleError } from "./_cron.ts";
import { formatLabelSelector, formatLabels } from "./_printers.ts";

const S = 1000, M = 60 * S, H = 60 * M, D = 24 * H;

describe("humanDuration (kubectl rules)", () => {
  const cases: [number, string][] = [
    [-5 * S, "<invalid>"], [-1 * S, "0s"], [0, "0s"], [45 * S, "45s"], [119 * S, "119s"], [2 * M, "2m"],
    [5 * M + 30 * S, "5m30s"], [62 * M, "62m"], [179 * M, "179m"], [3 * H, "3h"], [2 * H + 5 * M + 200 * M, "5h25m"],
    [20 * H, "20h"], [2 * D + 3 * H, "2d3h"], [3 * D, "3d"], [30 * D, "30d"], [800 * D, "2y70d"], [3000 * D, "8y"],
  ];
  it.each(cases)("%d ms → %s", (ms, want) => { expect(humanDuration(ms)).toBe(want); });
  it("short form and timestamps", () => {
    expect(shortHumanDuration(90 * M)).toBe("1h");
    const now = new Date("2026-01-01T00:05:00Z");
    expect(translateTimestampSince("2026-01-01T00:00:00Z", now)).toBe("5m");
    expect(translateTimestampSince(undefined, now)).toBe("<unknown>");
    expect(translateTimestampSince("garbage", now)).toBe("<unknown>");
  });
});

describe("cron schedules", () => {
  const ok = ["*/5 * * * *", "0 0 * * 0", "@hourly", "@every 1h30m", "0 9-17 * jan-jun mon-fri", "15,45 * 1 * *", "0 0 L * *".replace("L", "1")];
  it.each(ok)("accepts %s", (s) => { expect(cronScheduleError(s)).toBeUndefined(); });
  const bad: [string, string][] = [
    ["bad", "expected exactly 5 fields, found 1: [bad]"],
    ["* * * *", "expected exactly 5 fields, found 4: [* * * *]"],
    ["70 * * * *", "end of range (70) above maximum (59): 70"],
    ["* * 0 * *", "beginning of range (0) below minimum (1): 0"],
    ["5-1 * * * *", "beginning of range (5) beyond end of range (1): 5-1"],
    ["*/0 * * * *", "step of range should be a positive number: */0"],
    ["x * * * *", 'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax'],
    ["@sometimes", "unrecognized descriptor: @sometimes"],
    ["@every 5x", 'failed to parse duration @every 5x: time: unknown unit "x" in duration "5x"'],
    ["@every 5", 'failed to parse duration @every 5: time: missing unit in duration "5"'],
  ];
  it.each(bad)("rejects %s", (s, msg) => { expect(cronScheduleError(s)).toBe(msg); });
});

describe("printer helpers", () => {
  it("formats labels and selectors", () => {
    expect(formatLabels({ b: "2", a: "1" })).toBe("a=1,b=2");
    expect(formatLabels({})).toBe("<none>");
    expect(formatLabelSelector({ matchLabels: { app: "web" }, matchExpressions: [{ key: "tier", operator: "In", values: ["b", "a"] }, { key: "x", operator: "DoesNotExist" }] }))
      .toBe("app=web,tier in (a,b),!x");
    expect(formatLabelSelector({})).toBe("<none>");
  });
});
