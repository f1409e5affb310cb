/**
 * Small Linux process helpers for the process runtime: identity of a process across agent restarts
 * (pid + start time + command line), liveness, process-group signals, descendants and RSS.
 * Everything reads `/proc`; on a host without it, identity checks fail closed ("not ours").
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

/** What identifies a process beyond its pid: the kernel start time in clock ticks since boot. */
export interface ProcIdentity {
  readonly pid: number;
  readonly startTime: number;
}

export interface ProcStat {
  readonly pid: number;
  /** One-letter state (R, S, D, Z, T, …). */
  readonly state: string;
  readonly ppid: number;
  readonly pgid: number;
  /** Start time in clock ticks since boot (field 22 of /proc/<pid>/stat). */
  readonly startTime: number;
  /** Resident set size in pages (field 24). */
  readonly rssPages: number;
  /** CPU time in clock ticks: user and system (fields 14, 15), and of waited-for children (16, 17). */
  readonly utime: number;
  readonly stime: number;
  readonly cutime: number;
  readonly cstime: number;
}

/** Parses `/proc/<pid>/stat` text (the command name may contain spaces and parentheses). */
export function parseProcStat(text: string): ProcStat | undefined {
  const close = text.lastIndexOf(")");
  if (close < 0) return undefined;
  const pid = Number.parseInt(text, 10);
  const f = text.slice(close + 2).trim().split(" ");
  // f[0] is field 3 (state); field N is f[N - 3].
  const num = (n: number): number => Number(f[n - 3]);
  const st = {
    pid, state: f[0] ?? "?", ppid: num(4), pgid: num(5), startTime: num(22), rssPages: num(24),
    utime: num(14), stime: num(15), cutime: num(16), cstime: num(17),
  };
  return Number.isFinite(st.pid) && Number.isFinite(st.startTime) ? st : undefined;
}

export function readProcStat(pid: number): ProcStat | undefined {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return undefined;
  }
}

/** The process's identity, or undefined when it does not exist (or is a zombie). */
export function identify(pid: number): ProcIdentity | undefined {
  const st = readProcStat(pid);
  if (st === undefined || st.state === "Z" || st.state === "X") return undefined;
  return { pid, startTime: st.startTime };
}

/** True while the process with this identity lives (same pid, same start time, not a zombie). */
export function isAlive(id: ProcIdentity): boolean {
  const now = identify(id.pid);
  return now !== undefined && now.startTime === id.startTime;
}

/** The NUL-separated argv of a process (empty when unreadable). */
export function readCmdline(pid: number): string[] {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    const parts = raw.split("\u0000");
    if (parts[parts.length - 1] === "") parts.pop();
    return parts;
  } catch {
    return [];
  }
}

/** Sends `signal` to process group `pgid`; false when the group no longer exists. */
export function killGroup(pgid: number, signal: NodeJS.Signals): boolean {
  if (!(Number.isInteger(pgid) && pgid > 1)) return false; // never signal group 0/1 (ourselves / everything)
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Direct children of `pid` (from /proc/<pid>/task/<tid>/children, all threads). */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      for (const s of readFileSync(`/proc/${pid}/task/${tid}/children`, "utf8").split(" ")) {
        const n = Number.parseInt(s, 10);
        if (Number.isInteger(n)) out.push(n);
      }
    } catch {
      // thread gone
    }
  }
  return out;
}

/** `pid` and all its descendants (bounded to `limit` processes). */
export function processTree(pid: number, limit = 4096): number[] {
  const seen: number[] = [];
  const queue = [pid];
  while (queue.length > 0 && seen.length < limit) {
    const p = queue.shift()!;
    seen.push(p);
    queue.push(...childrenOf(p));
  }
  return seen;
}

let pageSize: number | undefined;
/** The page size in bytes (getconf; 4096 when unknown). */
export function systemPageSize(): number {
  if (pageSize === undefined) {
    try {
      pageSize = Number(execFileSync("getconf", ["PAGESIZE"], { encoding: "utf8" }).trim()) || 4096;
    } catch {
      pageSize = 4096;
    }
  }
  return pageSize;
}

let clockTicks: number | undefined;
/** Clock ticks per second of /proc CPU times (getconf CLK_TCK; 100 when unknown). */
export function systemClockTicks(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** Sum of the resident set sizes of `pid` and its descendants, in bytes. */
export function treeRssBytes(pid: number): number {
  let pages = 0;
  for (const p of processTree(pid)) pages += readProcStat(p)?.rssPages ?? 0;
  return pages * systemPageSize();
}

/** Pids of every process (but ourselves and init) whose argv satisfies `match`; scans at most `limit` /proc entries. */
export function findProcesses(match: (argv: readonly string[]) => boolean, limit = 100_000): number[] {
  const out: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return out;
  }
  let n = 0;
  for (const e of entries) {
    if (++n > limit) break;
    const pid = Number(e);
    if (!Number.isInteger(pid) || pid <= 1 || pid === process.pid) continue;
    const argv = readCmdline(pid);
    if (argv.length > 0 && match(argv)) out.push(pid);
  }
  return out;
}
