/**
 * Node-level usage from /proc, as the kubelet's Summary reports it for the node: CPU from the
 * `cpu` line of /proc/stat (busy = everything but idle and iowait), memory from /proc/meminfo
 * (usage = MemTotal − MemFree, working set = usage − Inactive(file), available = MemAvailable).
 * Pure parsers plus one reader; on hosts without /proc the reader returns undefined.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

export interface NodeSample {
  /** Epoch ms. */
  readonly timestamp: number;
  readonly cpuCoreNanoSeconds: number;
  readonly memory: {
    readonly availableBytes: number;
    readonly usageBytes: number;
    readonly workingSetBytes: number;
    readonly rssBytes: number;
  };
}

/** Busy CPU time in clock ticks from /proc/stat text; undefined when there is no `cpu` line. */
export function parseProcStatCpu(text: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith("cpu "));
  if (line === undefined) return undefined;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  if (f.length < 4 || f.some((n) => !Number.isFinite(n))) return undefined;
  // user nice system idle iowait irq softirq steal (guest/guest_nice are already in user/nice).
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f;
  return user + nice + system + irq + softirq + steal;
}

/** /proc/meminfo fields in bytes (`MemTotal: 123 kB`). */
export function parseMeminfo(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    const m = /^([A-Za-z0-9_()]+):\s+(\d+)(?:\s+kB)?\s*$/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]) * (line.includes("kB") ? 1024 : 1));
  }
  return out;
}

/** Node memory figures from meminfo. */
export function nodeMemory(mi: Map<string, number>): NodeSample["memory"] {
  const total = mi.get("MemTotal") ?? 0;
  const free = mi.get("MemFree") ?? 0;
  const usage = Math.max(0, total - free);
  const inactive = mi.get("Inactive(file)") ?? 0;
  return {
    availableBytes: mi.get("MemAvailable") ?? free,
    usageBytes: usage,
    workingSetBytes: Math.max(0, usage - inactive),
    rssBytes: mi.get("AnonPages") ?? 0,
  };
}

let ticks: number | undefined;
function clockTicks(): number {
  if (ticks === undefined) {
    try {
      ticks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

/** Reads the node's figures now; undefined without /proc. */
export function readNodeSample(now = Date.now()): NodeSample | undefined {
  try {
    const cpu = parseProcStatCpu(readFileSync("/proc/stat", "utf8"));
    const mem = nodeMemory(parseMeminfo(readFileSync("/proc/meminfo", "utf8")));
    if (cpu === undefined) return undefined;
    return { timestamp: now, cpuCoreNanoSeconds: Math.round((cpu * 1e9) / clockTicks()), memory: mem };
  } catch {
    return undefined;
  }
}
