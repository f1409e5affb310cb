/**
 * `--event-ttl` (kube-apiserver's flag, default 1h): how long Events are kept after their last
 * update. Go duration text ("1h", "30m", "1h30m", "90s"); "0" keeps Events forever.
 */
import { parseDuration } from "../api/codec/special.ts";

export const DEFAULT_EVENT_TTL = "1h";

/** The TTL in milliseconds. Throws `RangeError` naming the flag for text that is not a non-negative duration. */
export function parseEventTtl(text: string): number {
  let ns: number;
  try {
    ns = parseDuration(text.trim());
  } catch {
    throw new RangeError(`invalid --event-ttl ${JSON.stringify(text)}: want a duration such as 1h, 30m or 90s (0 keeps Events forever)`);
  }
  if (ns < 0) throw new RangeError(`invalid --event-ttl ${JSON.stringify(text)}: must not be negative`);
  const ms = Math.round(ns / 1e6);
  if (ns > 0 && ms === 0) throw new RangeError(`invalid --event-ttl ${JSON.stringify(text)}: below one millisecond`);
  return ms;
}
