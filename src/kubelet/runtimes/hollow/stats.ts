/**
 * Simulated usage figures of hollow containers: no state and no timer per container, computed on
 * demand from the container id and its running time on the host's clock.
 *
 * - CPU: a steady rate between 5 and 260 millicores (picked from the id), so
 *   `usageCoreNanoSeconds = runningMs × 1e6 × rate / 1000`; it grows while the container runs
 *   and stops growing once it exited.
 * - Memory: a working set between 4 and 68 MiB (picked from the id); RSS is 3/4 of it and usage
 *   adds a fifth for "page cache". A container that is not RUNNING reports zeros.
 */
import type { ContainerStats } from "../../runtime/types.ts";
import type { HContainer } from "./host.ts";

/** FNV-1a of the id: a cheap, stable per-container seed. */
function seed(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** Simulated CPU rate in millicores. */
export function hollowCpuMillis(id: string): number {
  return 5 + (seed(id) % 256);
}

/** Simulated working set in bytes. */
export function hollowWorkingSet(id: string): number {
  return (4 + ((seed(id) >>> 8) % 65)) * 1024 * 1024;
}

export function hollowContainerStats(c: HContainer, now: number): ContainerStats {
  const running = c.state === "RUNNING";
  const from = c.startedAt ?? now;
  const ms = running ? Math.max(0, now - from) : 0;
  const ws = running ? hollowWorkingSet(c.id) : 0;
  return {
    id: c.id,
    podSandboxId: c.sandbox.id,
    metadata: c.config.metadata,
    labels: c.config.labels,
    cpu: { timestamp: now, usageCoreNanoSeconds: Math.round(ms * 1e6 * (hollowCpuMillis(c.id) / 1000)) },
    memory: { timestamp: now, workingSetBytes: ws, rssBytes: Math.round(ws * 0.75), usageBytes: Math.round(ws * 1.2) },
  };
}
