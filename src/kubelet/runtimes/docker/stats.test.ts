/** Docker stats JSON to the port's usage figures (pure; the engine path runs in the conformance suite). */
import { describe, expect, it } from "vitest";
import { mapLimited, usageFromDockerStats } from "./stats.ts";

describe("docker stats mapping", () => {
  it("cgroup v2: working set = usage - inactive_file, rss = anon", () => {
    expect(usageFromDockerStats({
      read: "2026-11-22T10:00:00.5Z",
      cpu_stats: { cpu_usage: { total_usage: 123456789 } },
      memory_stats: { usage: 10_000_000, stats: { anon: 3_000_000, inactive_file: 4_000_000 } },
    }, 1)).toEqual({ timestamp: Date.parse("2026-11-22T10:00:00.5Z"), cpuNs: 123456789, usageBytes: 10_000_000, workingSetBytes: 6_000_000, rssBytes: 3_000_000 });
  });

  it("cgroup v1 names, missing fields and Docker's zero time", () => {
    expect(usageFromDockerStats({ read: "0001-01-01T00:00:00Z", memory_stats: { usage: 100, stats: { total_inactive_file: 150, total_rss: 7 } } }, 99))
      .toEqual({ timestamp: 99, cpuNs: 0, usageBytes: 100, workingSetBytes: 0, rssBytes: 7 });
    expect(usageFromDockerStats({}, 5)).toEqual({ timestamp: 5, cpuNs: 0, usageBytes: 0, workingSetBytes: 0, rssBytes: 0 });
  });

  it("mapLimited keeps order and bounds concurrency", async () => {
    let active = 0;
    let peak = 0;
    const out = await mapLimited([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((r) => setTimeout(r, 5));
      active--;
      return n * 2;
    });
    expect(out).toEqual([2, 4, 6, 8, 10, 12, 14]);
    expect(peak).toBeLessThanOrEqual(3);
    expect(await mapLimited([], 3, async (n: number) => n)).toEqual([]);
  });
});
