/**
 * Cron schedule parsing for CronJob validation: the standard 5-field grammar with names, ranges,
 * steps and descriptors (@hourly, @every 1h30m), returning the same error texts upstream's cron
 * parser produces (they reach users as `spec.schedule: Invalid value: ...: <error>`).
 */

interface Bounds { min: number; max: number; names?: Record<string, number> }

const MONTHS: Record<string, number> = { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 };
const DOWS: Record<string, number> = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };
const FIELDS: Bounds[] = [
  { min: 0, max: 59 }, { min: 0, max: 23 }, { min: 1, max: 31 }, { min: 1, max: 12, names: MONTHS }, { min: 0, max: 6, names: DOWS },
];
const DESCRIPTORS = new Set(["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"]);

/** Go's `strconv.Atoi` subset: optional sign and decimal digits. */
function atoi(s: string): number | string {
  if (!/^[+-]?[0-9]+$/.test(s)) return `strconv.Atoi: parsing ${JSON.stringify(s)}: invalid syntax`;
  const n = Number(s);
  if (!Number.isSafeInteger(n) || Math.abs(n) > 2 ** 63) return `strconv.Atoi: parsing ${JSON.stringify(s)}: value out of range`;
  return n;
}

function mustParseInt(s: string): number | string {
  const n = atoi(s);
  if (typeof n === "string") return `failed to parse int from ${s}: ${n}`;
  if (n < 0) return `negative number (${n}) not allowed: ${s}`;
  return n;
}

function parseIntOrName(s: string, names: Record<string, number> | undefined): number | string {
  const named = names?.[s.toLowerCase()];
  return named !== undefined ? named : mustParseInt(s);
}

function checkRange(expr: string, r: Bounds): string | undefined {
  const rangeAndStep = expr.split("/");
  const lowAndHigh = (rangeAndStep[0] ?? "").split("-");
  const single = lowAndHigh.length === 1;
  let start: number;
  let end: number;
  if (lowAndHigh[0] === "*" || lowAndHigh[0] === "?") {
    start = r.min; end = r.max;
  } else {
    const s = parseIntOrName(lowAndHigh[0] ?? "", r.names);
    if (typeof s === "string") return s;
    start = s;
    if (lowAndHigh.length === 1) end = start;
    else if (lowAndHigh.length === 2) {
      const e = parseIntOrName(lowAndHigh[1] ?? "", r.names);
      if (typeof e === "string") return e;
      end = e;
    } else return `too many hyphens: ${expr}`;
  }
  let step = 1;
  if (rangeAndStep.length === 2) {
    const st = mustParseInt(rangeAndStep[1] ?? "");
    if (typeof st === "string") return st;
    step = st;
    if (single) end = r.max;
  } else if (rangeAndStep.length > 2) return `too many slashes: ${expr}`;
  if (start < r.min) return `beginning of range (${start}) below minimum (${r.min}): ${expr}`;
  if (end > r.max) return `end of range (${end}) above maximum (${r.max}): ${expr}`;
  if (start > end) return `beginning of range (${start}) beyond end of range (${end}): ${expr}`;
  if (step === 0) return `step of range should be a positive number: ${expr}`;
  return undefined;
}

const UNITS: Record<string, number> = { ns: 1, us: 1e3, "µs": 1e3, "μs": 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go's `time.ParseDuration` validity check; returns its error text or undefined. */
export function goDurationError(s: string): string | undefined {
  const orig = s;
  const bad = `time: invalid duration ${JSON.stringify(orig)}`;
  if (s.startsWith("-") || s.startsWith("+")) s = s.slice(1);
  if (s === "0") return undefined;
  if (s === "") return bad;
  let guard = 0;
  while (s !== "" && guard++ < 64) {
    const m = /^([0-9]*)(\.[0-9]*)?/.exec(s);
    const numPart = m?.[0] ?? "";
    if (numPart === "" || numPart === ".") return bad;
    s = s.slice(numPart.length);
    const u = /^[^0-9.]*/.exec(s)?.[0] ?? "";
    if (u === "") return `time: missing unit in duration ${JSON.stringify(orig)}`;
    if (UNITS[u] === undefined) return `time: unknown unit ${JSON.stringify(u)} in duration ${JSON.stringify(orig)}`;
    s = s.slice(u.length);
  }
  return s === "" ? undefined : bad;
}

/**
 * Checks a cron schedule; returns undefined when valid, else the parser's error text.
 * `TZ=`/`CRON_TZ=` prefixes are accepted here (CronJob validation rejects them separately).
 */
export function cronScheduleError(schedule: string): string | undefined {
  let spec = schedule;
  if (spec.length === 0) return "empty spec string";
  if (spec.startsWith("TZ=") || spec.startsWith("CRON_TZ=")) {
    const i = spec.indexOf(" ");
    const eq = spec.indexOf("=");
    const loc = i < 0 ? spec.slice(eq + 1) : spec.slice(eq + 1, i);
    if (!isTimeZone(loc)) return `provided bad location ${loc}: unknown time zone ${loc}`;
    spec = i < 0 ? "" : spec.slice(i).trim();
  }
  if (spec.startsWith("@")) {
    if (DESCRIPTORS.has(spec)) return undefined;
    if (spec.startsWith("@every ")) {
      const err = goDurationError(spec.slice("@every ".length));
      return err === undefined ? undefined : `failed to parse duration ${spec}: ${err}`;
    }
    return `unrecognized descriptor: ${spec}`;
  }
  const fields = spec.split(/\s+/).filter((f) => f !== "");
  if (fields.length !== 5) return `expected exactly 5 fields, found ${fields.length}: [${fields.join(" ")}]`;
  for (let i = 0; i < 5; i++) {
    const bounds = FIELDS[i];
    if (!bounds) continue;
    for (const part of (fields[i] ?? "").split(",")) {
      const err = checkRange(part, bounds);
      if (err) return err;
    }
  }
  return undefined;
}

/** True for an IANA zone name the runtime knows ("UTC", "Europe/Berlin", ...). */
export function isTimeZone(name: string): boolean {
  if (name === "" || name === "Local") return name === "Local";
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}
