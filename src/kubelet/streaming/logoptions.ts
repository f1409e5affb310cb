/**
 * `PodLogOptions` as query parameters: what `GET pods/{name}/log` takes at the apiserver and what
 * the node agent's `/containerLogs/…` takes (the apiserver forwards the same names). Pure.
 *
 * Decoding follows the apiserver's parameter conversion (Go's `strconv.ParseBool` for booleans,
 * integers, RFC 3339 for `sinceTime`); validation follows `ValidatePodLogOptions` (tailLines >= 0,
 * limitBytes > 0, sinceSeconds > 0, not both sinceSeconds and sinceTime).
 */

export interface PodLogOptions {
  readonly follow: boolean;
  readonly previous: boolean;
  readonly timestamps: boolean;
  readonly tailLines?: number;
  readonly limitBytes?: number;
  readonly sinceSeconds?: number;
  /** As given (RFC 3339); `sinceTimeMs` is the parsed instant. */
  readonly sinceTime?: string;
  readonly sinceTimeMs?: number;
  /** `All` (default), `Stdout` or `Stderr`. */
  readonly stream?: "Stdout" | "Stderr";
}

/** `decode`: a value of the wrong type (400); `invalid`: a decoded value out of range (422, one line per cause). */
export type LogOptionsError =
  | { readonly error: "decode"; readonly message: string }
  | { readonly error: "invalid"; readonly causes: readonly { readonly field: string; readonly message: string }[] };

const TRUE = new Set(["1", "t", "T", "TRUE", "true", "True"]);
const FALSE = new Set(["0", "f", "F", "FALSE", "false", "False"]);
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;
const INT = /^[+-]?\d{1,18}$/;

/**
 * Reads `follow`, `previous`, `timestamps`, `tailLines`, `limitBytes`, `sinceSeconds`, `sinceTime`,
 * `stream` (other parameters are the caller's: `container`, `insecureSkipTLSVerifyBackend`).
 */
export function parsePodLogOptions(q: URLSearchParams): PodLogOptions | LogOptionsError {
  const out: { -readonly [K in keyof PodLogOptions]: PodLogOptions[K] } = { follow: false, previous: false, timestamps: false };
  for (const name of ["follow", "previous", "timestamps"] as const) {
    const v = q.get(name);
    if (v === null) continue;
    if (TRUE.has(v)) out[name] = true;
    else if (FALSE.has(v)) out[name] = false;
    else return { error: "decode", message: `invalid value for ${name}: ${JSON.stringify(v)}: must be a boolean` };
  }
  for (const name of ["tailLines", "limitBytes", "sinceSeconds"] as const) {
    const v = q.get(name);
    if (v === null || v === "") continue;
    if (!INT.test(v)) return { error: "decode", message: `invalid value for ${name}: ${JSON.stringify(v)}: must be an integer` };
    out[name] = Number(v);
  }
  const st = q.get("sinceTime");
  if (st !== null && st !== "") {
    const ms = RFC3339.test(st) ? Date.parse(st.toUpperCase()) : NaN;
    if (Number.isNaN(ms)) return { error: "decode", message: `invalid value for sinceTime: ${JSON.stringify(st)}: must be an RFC 3339 time` };
    out.sinceTime = st;
    out.sinceTimeMs = ms;
  }
  const stream = q.get("stream");
  if (stream !== null && stream !== "" && stream !== "All") {
    if (stream !== "Stdout" && stream !== "Stderr") return { error: "decode", message: `invalid value for stream: ${JSON.stringify(stream)}: must be All, Stdout or Stderr` };
    out.stream = stream;
  }
  const causes: { field: string; message: string }[] = [];
  if (out.tailLines !== undefined && out.tailLines < 0) causes.push({ field: "tailLines", message: `Invalid value: ${out.tailLines}: must be greater than or equal to 0` });
  if (out.limitBytes !== undefined && out.limitBytes < 1) causes.push({ field: "limitBytes", message: `Invalid value: ${out.limitBytes}: must be greater than 0` });
  if (out.sinceSeconds !== undefined && out.sinceTime !== undefined) causes.push({ field: "", message: "Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified" });
  else if (out.sinceSeconds !== undefined && out.sinceSeconds < 1) causes.push({ field: "sinceSeconds", message: `Invalid value: ${out.sinceSeconds}: must be greater than 0` });
  if (causes.length > 0) return { error: "invalid", causes };
  return out;
}

export function isLogOptionsError(v: PodLogOptions | LogOptionsError): v is LogOptionsError {
  return "error" in v;
}

/** The query string for the node agent (no leading `?`; empty for defaults). */
export function podLogQuery(o: PodLogOptions): string {
  const q = new URLSearchParams();
  if (o.follow) q.set("follow", "true");
  if (o.previous) q.set("previous", "true");
  if (o.timestamps) q.set("timestamps", "true");
  if (o.tailLines !== undefined) q.set("tailLines", String(o.tailLines));
  if (o.limitBytes !== undefined) q.set("limitBytes", String(o.limitBytes));
  if (o.sinceSeconds !== undefined) q.set("sinceSeconds", String(o.sinceSeconds));
  if (o.sinceTime !== undefined) q.set("sinceTime", o.sinceTime);
  if (o.stream !== undefined) q.set("stream", o.stream);
  return q.toString();
}

/** The earliest record time to show (epoch ms), from sinceSeconds (relative to `nowMs`) or sinceTime. */
export function sinceMsOf(o: PodLogOptions, nowMs: number): number | undefined {
  if (o.sinceSeconds !== undefined) return nowMs - o.sinceSeconds * 1000;
  return o.sinceTimeMs;
}
