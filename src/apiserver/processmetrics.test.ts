import { describe, expect, it } from "vitest";
import { processMetrics } from "./processmetrics.ts";

function value(text: string, name: string): number {
  const line = text.split("\n").find((l) => l.startsWith(name + " "));
  if (line === undefined) throw new Error(`no ${name} in\n${text}`);
  return Number(line.slice(name.length + 1));
}

describe("processMetrics", () => {
  it("is one recorder per process", () => {
    expect(processMetrics()).toBe(processMetrics());
  });

  it("reports CPU, memory, event-loop delay and GC pauses", async () => {
    const m = processMetrics();
    // Block the loop for ~60 ms and make garbage, so both monitors have something to see.
    await new Promise((r) => setTimeout(r, 30));
    const until = Date.now() + 60;
    let junk: unknown[] = [];
    while (Date.now() < until) junk.push({ a: [1, 2, 3], b: "x".repeat(64) });
    junk = [];
    (globalThis as { gc?: () => void }).gc?.();
    await new Promise((r) => setTimeout(r, 50));
    const text = m.render();
    expect(value(text, "process_cpu_seconds_total")).toBeGreaterThan(0);
    expect(value(text, "process_resident_memory_bytes")).toBeGreaterThan(1e6);
    expect(value(text, "nodejs_heap_size_used_bytes")).toBeGreaterThan(0);
    expect(value(text, "nodejs_eventloop_lag_max_seconds")).toBeGreaterThan(0.04);
    expect(text).toMatch(/^nodejs_gc_duration_seconds_count\{kind="minor"\} [1-9]/m);
    expect(text).toContain("# TYPE nodejs_gc_duration_seconds histogram");
    expect(junk.length).toBe(0);
  });
});
