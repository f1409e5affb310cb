/**
 * kube-scheduler's FailedScheduling wording for the kernel's reason counts, e.g.
 * "0/5000 nodes are available: 10 node(s) had untolerated taint, 4990 Insufficient cpu."
 */
import { REASON_COUNT } from "./types.ts";

const CORE = [
  "node(s) were unschedulable",
  "node(s) had untolerated taint",
  "node(s) didn't match Pod's node affinity/selector",
  "Too many pods",
  "Insufficient cpu",
  "Insufficient memory",
  "Insufficient ephemeral-storage",
] as const;

/**
 * Returns `[count, message]` pairs for every non-zero count, sorted by message like upstream's
 * diagnosis. Bit 7 (`Reason.External`) is left out: the plugins that set it own their messages.
 */
export function reasonMessages(counts: Int32Array, extendedResources: readonly string[]): [number, string][] {
  const out: [number, string][] = [];
  for (let b = 0; b < REASON_COUNT; b++) {
    const n = counts[b] ?? 0;
    if (n === 0 || b === 7) continue;
    const msg = b < 7 ? CORE[b] : `Insufficient ${extendedResources[b - 8] ?? `extended-${b - 8}`}`;
    if (msg !== undefined) out.push([n, msg]);
  }
  return out.sort((x, y) => (x[1] < y[1] ? -1 : x[1] > y[1] ? 1 : 0));
}
