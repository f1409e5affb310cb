/**
 * Cron schedules for the CronJob controller (pure): parse the standard 5-field grammar (names,
 * ranges, steps, `*`/`?`), the descriptors (@yearly … @hourly, `@every <duration>`) and a
 * `TZ=`/`CRON_TZ=` prefix, then compute fire times in a time zone.
 *
 * Validity and error texts come from the apiserver's parser (`_cron.ts`) so the controller and
 * validation never disagree on what a schedule means. Semantics follow the robfig/cron parser
 * upstream uses: when either day-of-month or day-of-week is `*`/`?` both must match, otherwise
 * either may (Vixie cron); `@every` fires every interval (rounded down to whole seconds, at least
 * 1 s) after the reference time.
 */
import { cronScheduleError, isTimeZone } from "../../apiserver/registry/kinds/_cron.ts";

export interface Schedule {
  /** The first fire time strictly after `afterMs` (ms), or undefined within the next 5 years. */
  next(afterMs: number): number | undefined;
  readonly timeZone: string;
}

const MONTHS: Record<string, number> = { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 };
const DOWS: Record<string, number> = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };
const DESCRIPTORS: Record<string, string> = {
  "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
};
const FIVE_YEARS_MS = 5 * 366 * 86_400_000;

function field(expr: string, min: number, max: number, names?: Record<string, number>): { set: Set<number>; star: boolean } {
  const set = new Set<number>();
  let star = false;
  const num = (s: string): number => names?.[s.toLowerCase()] ?? Number(s);
  for (const part of expr.split(",")) {
    const [range = "", stepS] = part.split("/");
    const step = stepS !== undefined ? Number(stepS) : 1;
    let lo: number, hi: number;
    if (range === "*" || range === "?") {
      lo = min; hi = max;
      if (stepS === undefined) star = true;
    } else {
      const [a = "", b] = range.split("-");
      lo = num(a);
      hi = b !== undefined ? num(b) : stepS !== undefined ? max : lo;
    }
    for (let v = lo; v <= hi; v += step) set.add(v);
  }
  return { set, star };
}

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, "µs": 1e-3, "μs": 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go duration text to ms (validity checked by the caller). */
export function parseGoDuration(s: string): number {
  let total = 0;
  const re = /([0-9]*\.?[0-9]*)(ns|us|µs|μs|ms|s|m|h)/g;
  for (let m; (m = re.exec(s)) !== null;) total += Number(m[1]) * (UNIT_MS[m[2] ?? "s"] ?? 0);
  return s.startsWith("-") ? -total : total;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The wall-clock time of an instant in `tz`, as a naive UTC millisecond value. */
export function wallTime(ms: number, tz: string): number {
  if (tz === "UTC") return ms;
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", { timeZone: tz, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric", second: "numeric" });
    formatters.set(tz, f);
  }
  const p: Record<string, number> = {};
  for (const x of f.formatToParts(new Date(ms))) if (x.type !== "literal") p[x.type] = Number(x.value);
  return Date.UTC(p["year"] ?? 1970, (p["month"] ?? 1) - 1, p["day"] ?? 1, p["hour"] ?? 0, p["minute"] ?? 0, p["second"] ?? 0) + (((ms % 1000) + 1000) % 1000);
}

/** The instant of a wall-clock time in `tz` (the later offset in an ambiguous hour). */
export function instantOf(wall: number, tz: string): number {
  let t = wall;
  for (let i = 0; i < 3; i++) t = wall - (wallTime(t, tz) - t);
  return t;
}

/** UTC offset of `tz` at an instant, as "+02:00" / "Z". */
export function rfc3339In(ms: number, tz: string): string {
  const off = Math.round((wallTime(ms, tz) - ms) / 60_000);
  const wall = new Date(wallTime(ms, tz)).toISOString().slice(0, 19);
  if (off === 0) return `${wall}Z`;
  const a = Math.abs(off);
  return `${wall}${off < 0 ? "-" : "+"}${String(Math.floor(a / 60)).padStart(2, "0")}:${String(a % 60).padStart(2, "0")}`;
}

/**
 * Parses a schedule in a zone (`timeZone` of the CronJob; "" = UTC). Throws `Error` with the
 * parser's text for an invalid schedule or zone.
 */
export function parseSchedule(schedule: string, timeZone = ""): Schedule {
  const err = cronScheduleError(schedule);
  if (err !== undefined) throw new Error(err);
  let spec = schedule.trim();
  let tz = timeZone === "" ? "UTC" : timeZone;
  if (spec.startsWith("TZ=") || spec.startsWith("CRON_TZ=")) {
    const i = spec.indexOf(" ");
    tz = spec.slice(spec.indexOf("=") + 1, i < 0 ? undefined : i);
    spec = i < 0 ? "" : spec.slice(i).trim();
  }
  if (tz === "Local") tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (!isTimeZone(tz)) throw new Error(`unknown time zone ${tz}`);
  if (spec.startsWith("@every ")) {
    const every = Math.max(1000, Math.floor(parseGoDuration(spec.slice(7)) / 1000) * 1000);
    return { timeZone: tz, next: (after) => Math.floor(after / 1000) * 1000 + every };
  }
  const fields = (DESCRIPTORS[spec] ?? spec).split(/\s+/);
  const minute = field(fields[0] ?? "*", 0, 59).set;
  const hour = field(fields[1] ?? "*", 0, 23).set;
  const dom = field(fields[2] ?? "*", 1, 31);
  const month = field(fields[3] ?? "*", 1, 12, MONTHS).set;
  const dow = field(fields[4] ?? "*", 0, 6, DOWS);
  if (dow.set.has(7)) dow.set.add(0);
  const dayMatches = (d: Date): boolean => {
    const a = dom.set.has(d.getUTCDate()), b = dow.set.has(d.getUTCDay());
    return dom.star || dow.star ? a && b : a || b;
  };
  return {
    timeZone: tz,
    next(after: number): number | undefined {
      const start = wallTime(after, tz);
      let w = Math.floor(start / 60_000) * 60_000 + 60_000;
      const limit = start + FIVE_YEARS_MS;
      for (let guard = 0; w <= limit && guard < 200_000; guard++) {
        const d = new Date(w);
        const y = d.getUTCFullYear(), mo = d.getUTCMonth(), day = d.getUTCDate(), h = d.getUTCHours();
        if (!month.has(mo + 1)) { w = Date.UTC(y, mo + 1, 1); continue; }
        if (!dayMatches(d)) { w = Date.UTC(y, mo, day + 1); continue; }
        if (!hour.has(h)) { w = Date.UTC(y, mo, day, h + 1); continue; }
        if (!minute.has(d.getUTCMinutes())) { w += 60_000; continue; }
        const t = instantOf(w, tz);
        if (t > after) return t;
        w += 60_000;
      }
      return undefined;
    },
  };
}

export interface MissedSchedules {
  /** The most recent fire time in (earliest, now], if any. */
  readonly mostRecent?: number;
  /** How many fire times fell in that window (counted up to 101). */
  readonly missed: number;
  /** The next fire time after now. */
  readonly next?: number;
}

/**
 * The fire times a CronJob may act on: after `earliestMs` (last schedule or creation, moved up to
 * `now - startingDeadlineSeconds` when set) up to now. Long gaps are not walked minute by minute:
 * after 100 misses the most recent is searched in widening windows before `now`.
 */
export function missedSchedules(s: Schedule, earliestMs: number, nowMs: number): MissedSchedules {
  const next = s.next(nowMs);
  let t = s.next(earliestMs);
  let mostRecent: number | undefined;
  let missed = 0;
  while (t !== undefined && t <= nowMs && missed <= 100) {
    mostRecent = t;
    missed++;
    t = s.next(t);
  }
  if (missed > 100) {
    for (const back of [60_000, 3_600_000, 86_400_000, 31 * 86_400_000, 366 * 86_400_000, FIVE_YEARS_MS]) {
      let x = s.next(Math.max(earliestMs, nowMs - back));
      if (x === undefined || x > nowMs) continue;
      for (let guard = 0; x !== undefined && x <= nowMs && guard < 100_000; guard++) {
        mostRecent = x;
        x = s.next(x);
      }
      break;
    }
  }
  return { ...(mostRecent !== undefined ? { mostRecent } : {}), missed, ...(next !== undefined ? { next } : {}) };
}
