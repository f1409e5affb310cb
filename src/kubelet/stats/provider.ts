/**
 * The node agent's stats provider: samples the runtime (`listContainerStats`) and the node
 * (/proc) and builds the Summary. Rates (`usageNanoCores`) come from two samples: the previous
 * call's when it is recent enough (≤ `maxAgeMs`), else a second sample taken `windowMs` after the
 * first. Concurrent calls share one sampling. No timers: nothing runs between calls.
 */
import { uptime } from "node:os";
import type { ContainerStats, PodSandbox, RuntimeService } from "../runtime/types.ts";
import { type NodeSample, readNodeSample } from "./host.ts";
import { buildSummary, type Summary } from "./summary.ts";

export interface StatsProviderOptions {
  readonly nodeName: string;
  readonly runtime: RuntimeService;
  /** Node figures (default: /proc; undefined leaves node cpu/memory out). */
  readonly readNode?: () => NodeSample | undefined;
  /** Gap between the two samples when there is no recent previous one (default 200 ms). */
  readonly windowMs?: number;
  /** A previous sample older than this is not used for rates (default 2 min). */
  readonly maxAgeMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Node start time, epoch ms (default: boot time from the uptime). */
  readonly nodeStartMs?: number;
}

interface Sample {
  readonly node: NodeSample | undefined;
  readonly containers: Map<string, ContainerStats>;
  readonly sandboxes: PodSandbox[];
  readonly takenAt: number;
}

export class StatsProvider {
  readonly #o: StatsProviderOptions;
  #last: Sample | undefined;
  #inflight: Promise<Summary> | undefined;

  constructor(o: StatsProviderOptions) {
    this.#o = o;
  }

  async #sample(): Promise<Sample> {
    const rt = this.#o.runtime;
    const [sandboxes, stats] = await Promise.all([rt.listPodSandboxes({ state: "READY" }), rt.listContainerStats()]);
    const node = (this.#o.readNode ?? readNodeSample)();
    return { node, sandboxes, containers: new Map(stats.map((s) => [s.id, s])), takenAt: Date.now() };
  }

  /** The Summary now (see the module doc for how rates are sampled). */
  summary(): Promise<Summary> {
    this.#inflight ??= this.#summary().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  async #summary(): Promise<Summary> {
    const o = this.#o;
    let cur = await this.#sample();
    let prev = this.#last !== undefined && cur.takenAt - this.#last.takenAt <= (o.maxAgeMs ?? 120_000) ? this.#last : undefined;
    const missing = prev === undefined || (cur.node !== undefined && prev.node === undefined) || [...cur.containers.keys()].some((id) => !prev!.containers.has(id));
    if (missing) {
      await (o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms))))(o.windowMs ?? 200);
      prev = cur;
      cur = await this.#sample();
    }
    this.#last = cur;
    const startedAt = new Map<string, number>();
    await Promise.all([...cur.containers.keys()].map(async (id) => {
      try {
        const st = await o.runtime.containerStatus(id);
        if (st.startedAt !== undefined) startedAt.set(id, st.startedAt);
      } catch {
        // gone since the sample: its start time falls back to the sample time
      }
    }));
    const p = prev;
    return buildSummary({
      nodeName: o.nodeName,
      nodeStartMs: o.nodeStartMs ?? Date.now() - Math.round(uptime() * 1000),
      ...(cur.node !== undefined ? { node: { cur: cur.node, ...(p?.node !== undefined ? { prev: p.node } : {}) } } : {}),
      sandboxes: cur.sandboxes,
      containers: [...cur.containers.values()].map((c) => {
        const before = p?.containers.get(c.id);
        const s = startedAt.get(c.id);
        return { cur: c, ...(before !== undefined ? { prev: before } : {}), ...(s !== undefined ? { startedAt: s } : {}) };
      }),
    });
  }
}
