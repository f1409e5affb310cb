/** Process-runtime usage figures: cgroup files, /proc process trees. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cgroupUsage, parseFlatKeyed, processContainerStats, treeUsage } from "./stats.ts";
import type { ContainerRecord } from "./state.ts";

describe("process runtime stats", () => {
  it("parses flat-keyed cgroup files", () => {
    const m = parseFlatKeyed("usage_usec 1500\nuser_usec 1000\nbad line here\nx y\n");
    expect([...m]).toEqual([["usage_usec", 1500], ["user_usec", 1000]]);
  });

  it("reads a cgroup v2 directory: cpu usage, working set = current - inactive_file, rss = anon", () => {
    const dir = mkdtempSync(join(tmpdir(), "tug-cg-"));
    try {
      expect(cgroupUsage(dir)).toBeUndefined();
      writeFileSync(join(dir, "cpu.stat"), "usage_usec 2500\nuser_usec 2000\nsystem_usec 500\n");
      writeFileSync(join(dir, "memory.current"), "10485760\n");
      writeFileSync(join(dir, "memory.stat"), "anon 4194304\nfile 6291456\ninactive_file 2097152\n");
      expect(cgroupUsage(dir)).toEqual({ cpuNs: 2_500_000, usageBytes: 10485760, workingSetBytes: 8388608, rssBytes: 4194304 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("sums this process's tree from /proc", () => {
    const u = treeUsage(process.pid);
    if (u.rssBytes === 0) return; // no /proc here
    expect(u.cpuNs).toBeGreaterThan(0);
    expect(u.workingSetBytes).toBe(u.rssBytes);
  });

  it("reports zeros for a container that is not running", () => {
    const rec = { id: "c1", sandboxId: "s1", config: { metadata: { name: "app", attempt: 0 }, labels: { a: "b" } } } as unknown as ContainerRecord; // only the fields read
    const s = processContainerStats(rec, undefined, false, 42);
    expect(s).toEqual({
      id: "c1", podSandboxId: "s1", metadata: { name: "app", attempt: 0 }, labels: { a: "b" },
      cpu: { timestamp: 42, usageCoreNanoSeconds: 0 }, memory: { timestamp: 42, workingSetBytes: 0, rssBytes: 0, usageBytes: 0 },
    });
  });
});
