/**
 * Usage figures of process-runtime containers (the port's `containerStats`).
 *
 * - cgroup v2 mode: the container's cgroup — `cpu.stat` `usage_usec`, `memory.current`, and
 *   `memory.stat` (`anon` for RSS; working set = current − `inactive_file`, as the kubelet computes
 *   it). Exec'd processes are in the cgroup too.
 * - otherwise: the container's process tree under its shim, from `/proc/<pid>/stat` — CPU is
 *   utime + stime (+ the times of reaped children) in clock ticks, memory the summed RSS (working
 *   set = usage = RSS; no page cache attribution without a cgroup).
 *
 * A container that is not RUNNING reports zeros.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { ContainerStats } from "../../runtime/types.ts";
import { processTree, readProcStat, systemClockTicks, systemPageSize } from "./proc.ts";
import type { ContainerRecord } from "./state.ts";

export interface Usage {
  readonly cpuNs: number;
  readonly workingSetBytes: number;
  readonly rssBytes: number;
  readonly usageBytes: number;
}

const ZERO: Usage = { cpuNs: 0, workingSetBytes: 0, rssBytes: 0, usageBytes: 0 };

/** `key value` lines (cpu.stat, memory.stat) into a map of numbers. */
export function parseFlatKeyed(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    const [k, v] = line.trim().split(/\s+/);
    if (k !== undefined && k !== "" && v !== undefined && /^\d+$/.test(v)) out.set(k, Number(v));
  }
  return out;
}

function read(p: string): string | undefined {
  try {
    return readFileSync(p, "utf8");
  } catch {
    return undefined;
  }
}

/** Usage of a cgroup v2 directory; undefined when it cannot be read (gone). */
export function cgroupUsage(dir: string): Usage | undefined {
  const cpu = read(join(dir, "cpu.stat"));
  const cur = read(join(dir, "memory.current"));
  if (cpu === undefined || cur === undefined) return undefined;
  const usec = parseFlatKeyed(cpu).get("usage_usec") ?? 0;
  const usage = Number(cur.trim()) || 0;
  const mem = parseFlatKeyed(read(join(dir, "memory.stat")) ?? "");
  const inactive = mem.get("inactive_file") ?? 0;
  return { cpuNs: usec * 1000, usageBytes: usage, workingSetBytes: Math.max(0, usage - inactive), rssBytes: mem.get("anon") ?? usage };
}

/** Usage of `pid` and its descendants from /proc (at most 4096 processes). */
export function treeUsage(pid: number): Usage {
  let ticks = 0;
  let pages = 0;
  for (const p of processTree(pid)) {
    const st = readProcStat(p);
    if (st === undefined) continue;
    ticks += (st.utime || 0) + (st.stime || 0) + (st.cutime || 0) + (st.cstime || 0);
    pages += st.rssPages || 0;
  }
  const rss = pages * systemPageSize();
  return { cpuNs: Math.round((ticks * 1e9) / systemClockTicks()), workingSetBytes: rss, rssBytes: rss, usageBytes: rss };
}

/** The port's view of a container's usage now. */
export function processContainerStats(rec: ContainerRecord, cgroupDir: string | undefined, running: boolean, now = Date.now()): ContainerStats {
  let u = ZERO;
  if (running && rec.shim !== undefined) u = (cgroupDir !== undefined ? cgroupUsage(cgroupDir) : undefined) ?? treeUsage(rec.shim.pid);
  return {
    id: rec.id,
    podSandboxId: rec.sandboxId,
    metadata: rec.config.metadata,
    labels: rec.config.labels,
    cpu: { timestamp: now, usageCoreNanoSeconds: u.cpuNs },
    memory: { timestamp: now, workingSetBytes: u.workingSetBytes, rssBytes: u.rssBytes, usageBytes: u.usageBytes },
  };
}
