/**
 * The kubelet's stats Summary (`GET /stats/summary`, API `stats/v1alpha1`), trimmed to CPU and
 * memory: the node (from /proc) and per pod its containers (from the runtime's
 * `listContainerStats`). Pure: `buildSummary` turns samples into the document; `nanoCores` is the
 * rate between two cumulative CPU samples.
 */
import { rfc3339 } from "../types.ts";
import type { ContainerStats, PodSandboxMetadata } from "../runtime/types.ts";
import type { NodeSample } from "./host.ts";

export interface CPUStats {
  readonly time: string;
  /** Average usage over the last sampling window, in nanocores (1e9 = one core). */
  readonly usageNanoCores?: number;
  readonly usageCoreNanoSeconds: number;
}

export interface MemoryStats {
  readonly time: string;
  readonly availableBytes?: number;
  readonly usageBytes: number;
  readonly workingSetBytes: number;
  readonly rssBytes: number;
}

export interface ContainerStatsSummary {
  readonly name: string;
  readonly startTime: string;
  readonly cpu: CPUStats;
  readonly memory: MemoryStats;
}

export interface PodReference {
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
}

export interface PodStatsSummary {
  readonly podRef: PodReference;
  readonly startTime: string;
  readonly containers: ContainerStatsSummary[];
  /** Sums over the containers. */
  readonly cpu: CPUStats;
  readonly memory: MemoryStats;
}

export interface NodeStatsSummary {
  readonly nodeName: string;
  readonly startTime?: string;
  readonly cpu?: CPUStats;
  readonly memory?: MemoryStats;
}

export interface Summary {
  readonly node: NodeStatsSummary;
  readonly pods: PodStatsSummary[];
}

/**
 * Nanocores between two cumulative samples (ns of CPU time, epoch ms); undefined when the window
 * is empty or the counter went backwards (a restarted container).
 */
export function nanoCores(prev: { usage: number; timestamp: number } | undefined, cur: { usage: number; timestamp: number }): number | undefined {
  if (prev === undefined) return undefined;
  const dt = cur.timestamp - prev.timestamp;
  const du = cur.usage - prev.usage;
  if (!(dt > 0) || du < 0) return undefined;
  return Math.round((du * 1000) / dt);
}

export interface SummaryInput {
  readonly nodeName: string;
  /** Node boot (or agent start) time, epoch ms. */
  readonly nodeStartMs?: number;
  readonly node?: { readonly prev?: NodeSample; readonly cur: NodeSample };
  readonly sandboxes: readonly { readonly id: string; readonly metadata: PodSandboxMetadata; readonly createdAt: number }[];
  /** Current samples with the previous one of the same container (same id) and its start time. */
  readonly containers: readonly { readonly cur: ContainerStats; readonly prev?: ContainerStats; readonly startedAt?: number }[];
}

function containerSummary(c: SummaryInput["containers"][number]): ContainerStatsSummary {
  const cur = c.cur;
  const rate = nanoCores(
    c.prev === undefined ? undefined : { usage: c.prev.cpu.usageCoreNanoSeconds, timestamp: c.prev.cpu.timestamp },
    { usage: cur.cpu.usageCoreNanoSeconds, timestamp: cur.cpu.timestamp },
  );
  return {
    name: cur.metadata.name,
    startTime: rfc3339(c.startedAt ?? cur.cpu.timestamp),
    cpu: { time: rfc3339(cur.cpu.timestamp), ...(rate !== undefined ? { usageNanoCores: rate } : {}), usageCoreNanoSeconds: cur.cpu.usageCoreNanoSeconds },
    memory: { time: rfc3339(cur.memory.timestamp), usageBytes: cur.memory.usageBytes, workingSetBytes: cur.memory.workingSetBytes, rssBytes: cur.memory.rssBytes },
  };
}

/** The Summary document. Pods are the given sandboxes (sorted by namespace/name); containers sorted by name. */
export function buildSummary(i: SummaryInput): Summary {
  const byPod = new Map<string, SummaryInput["containers"][number][]>();
  for (const c of i.containers) {
    const l = byPod.get(c.cur.podSandboxId);
    if (l === undefined) byPod.set(c.cur.podSandboxId, [c]);
    else l.push(c);
  }
  const pods = [...i.sandboxes]
    .sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`))
    .map((s): PodStatsSummary => {
      const containers = (byPod.get(s.id) ?? []).map(containerSummary).sort((a, b) => a.name.localeCompare(b.name));
      const last = Math.max(s.createdAt, ...(byPod.get(s.id) ?? []).map((c) => c.cur.cpu.timestamp));
      let nano: number | undefined = 0;
      for (const c of containers) nano = nano === undefined || c.cpu.usageNanoCores === undefined ? undefined : nano + c.cpu.usageNanoCores;
      const sum = (f: (c: ContainerStatsSummary) => number): number => containers.reduce((n, c) => n + f(c), 0);
      return {
        podRef: { name: s.metadata.name, namespace: s.metadata.namespace, uid: s.metadata.uid },
        startTime: rfc3339(s.createdAt),
        containers,
        cpu: { time: rfc3339(last), ...(nano !== undefined && containers.length > 0 ? { usageNanoCores: nano } : {}), usageCoreNanoSeconds: sum((c) => c.cpu.usageCoreNanoSeconds) },
        memory: { time: rfc3339(last), usageBytes: sum((c) => c.memory.usageBytes), workingSetBytes: sum((c) => c.memory.workingSetBytes), rssBytes: sum((c) => c.memory.rssBytes) },
      };
    });
  const n = i.node;
  let node: NodeStatsSummary = { nodeName: i.nodeName, ...(i.nodeStartMs !== undefined ? { startTime: rfc3339(i.nodeStartMs) } : {}) };
  if (n !== undefined) {
    const rate = nanoCores(n.prev === undefined ? undefined : { usage: n.prev.cpuCoreNanoSeconds, timestamp: n.prev.timestamp }, { usage: n.cur.cpuCoreNanoSeconds, timestamp: n.cur.timestamp });
    const t = rfc3339(n.cur.timestamp);
    node = {
      ...node,
      cpu: { time: t, ...(rate !== undefined ? { usageNanoCores: rate } : {}), usageCoreNanoSeconds: n.cur.cpuCoreNanoSeconds },
      memory: { time: t, ...n.cur.memory },
    };
  }
  return { node, pods };
}
