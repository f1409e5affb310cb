/**
 * Usage figures of Docker containers (the port's `containerStats`): one-shot engine stats
 * (`GET /containers/{id}/stats?stream=false&one-shot=true`), no stream kept open.
 *
 * CPU: `cpu_stats.cpu_usage.total_usage` (nanoseconds). Memory: `memory_stats.usage`; working set =
 * usage − inactive file cache (`inactive_file` on cgroup v2, `total_inactive_file` on v1), as the
 * kubelet and `docker stats` compute it; RSS = `anon` (v2) or `rss`/`total_rss` (v1).
 */
import type { ContainerStats, ContainerStatus } from "../../runtime/types.ts";
import type { DockerClient, DockerContainer } from "./client.ts";

/** The part of Docker's stats JSON read here. */
export interface DockerStatsJson {
  readonly read?: string;
  readonly cpu_stats?: { readonly cpu_usage?: { readonly total_usage?: number } };
  readonly memory_stats?: { readonly usage?: number; readonly stats?: Readonly<Record<string, number>> };
}

/** dockerode's `container.stats`, which client.ts's narrow type does not list. */
interface StatsCapable {
  stats(opts: { stream: false; "one-shot"?: boolean }): Promise<unknown>;
}

/** Pure: the port's figures from Docker's stats JSON (missing fields count as 0). */
export function usageFromDockerStats(j: DockerStatsJson, fallbackNow: number): { timestamp: number; cpuNs: number; workingSetBytes: number; rssBytes: number; usageBytes: number } {
  const t = j.read !== undefined ? Date.parse(j.read) : NaN;
  // Docker reports "0001-01-01T00:00:00Z" for containers that are not running.
  const timestamp = Number.isFinite(t) && t > 0 ? t : fallbackNow;
  const usage = j.memory_stats?.usage ?? 0;
  const s = j.memory_stats?.stats ?? {};
  const inactive = s["inactive_file"] ?? s["total_inactive_file"] ?? 0;
  const rss = s["anon"] ?? s["total_rss"] ?? s["rss"] ?? usage;
  return {
    timestamp,
    cpuNs: j.cpu_stats?.cpu_usage?.total_usage ?? 0,
    usageBytes: usage,
    workingSetBytes: Math.max(0, usage - inactive),
    rssBytes: rss,
  };
}

/**
 * Stats of a container the runtime already looked up (`status`: it exists and is ours). A container
 * that is not RUNNING reports zeros without asking the engine.
 */
export async function dockerContainerStats(docker: DockerClient, status: ContainerStatus): Promise<ContainerStats> {
  const base = { id: status.id, podSandboxId: status.podSandboxId, metadata: status.metadata, labels: status.labels };
  const now = Date.now();
  if (status.state !== "RUNNING") {
    return { ...base, cpu: { timestamp: now, usageCoreNanoSeconds: 0 }, memory: { timestamp: now, workingSetBytes: 0, rssBytes: 0, usageBytes: 0 } };
  }
  // dockerode containers have `stats`; the typed slice in client.ts leaves it out.
  const c = docker.getContainer(status.id) as DockerContainer & StatsCapable;
  const raw = await c.stats({ stream: false, "one-shot": true });
  const j: DockerStatsJson = raw !== null && typeof raw === "object" ? (raw as DockerStatsJson) : {};
  const u = usageFromDockerStats(j, now);
  return {
    ...base,
    cpu: { timestamp: u.timestamp, usageCoreNanoSeconds: u.cpuNs },
    memory: { timestamp: u.timestamp, workingSetBytes: u.workingSetBytes, rssBytes: u.rssBytes, usageBytes: u.usageBytes },
  };
}

/** Runs `fn` over `items` with at most `limit` at a time, keeping the order. */
export async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
