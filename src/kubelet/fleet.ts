/**
 * Hollow fleets: N node agents with hollow runtimes in one process (`tug hollow`, benchmarks,
 * load tests). Every agent has its own Node, Lease, pod informer (its own watch) and runtime host,
 * so the apiserver sees the traffic of N kubelets; they share the client connections (a small
 * pool of HTTP/2 sessions), one timer queue and one event broadcaster per connection (one bounded
 * event queue with a few writes in flight, instead of one queue per agent), so an idle hollow node
 * costs a few heap objects and no timer of its own.
 */
import type { Client } from "../client/client.ts";
import { clientEventSink, EventBroadcaster } from "../client/events/mod.ts";
import { NodeAgent, type NodeAgentOptions } from "./agent.ts";
import type { NodeCapacity } from "./node-status.ts";
import { sharedTimerQueue, type TimerQueue } from "./runtime/timers.ts";
import { HollowHost, HollowRuntime } from "./runtimes/hollow/mod.ts";

export interface HollowFleetOptions {
  /** Connection pool: agent i uses `clients[i % clients.length]`. */
  readonly clients: readonly Client[];
  readonly nodes: number;
  /** Node names are `<prefix><i>` (default `hollow-`). */
  readonly namePrefix?: string;
  /** First index (default 0). */
  readonly firstIndex?: number;
  readonly capacity?: Partial<NodeCapacity>;
  readonly timers?: TimerQueue;
  /** Agents registering at once (default 50). */
  readonly startConcurrency?: number;
  /** Hollow start latency per container (default 0). */
  readonly startLatencyMs?: number;
  /** Extra agent options (heartbeat, backoff …). */
  readonly agent?: Partial<Omit<NodeAgentOptions, "client" | "nodeName" | "runtime" | "timers">>;
  readonly onError?: (err: unknown, where: string) => void;
  /**
   * The client node `nodeName` uses, given its pooled client (default: the pooled one). E.g. a
   * per-node identity over the shared connection: `(n, c) => c.withToken(nodeToken(key, n))`.
   */
  readonly clientFor?: (nodeName: string, pooled: Client) => Client;
}

export interface HollowFleet {
  readonly agents: readonly NodeAgent[];
  readonly hosts: readonly HollowHost[];
  /** Stops every agent and closes their runtime clients (the clients of the pool stay open). */
  stop(): Promise<void>;
}

/** `127.<a>.<b>.<c>` for node `i`, distinct for the first 16 million nodes (loopback: nothing leaves the host). */
export function hollowNodeIP(i: number): string {
  return `127.${1 + ((i >> 16) & 0x7f)}.${(i >> 8) & 255}.${i & 255}`;
}

/** A /24 pod CIDR per node: `10.<64 + i/256>.<i%256>.0/24` (up to 48,128 nodes). */
export function hollowPodCidr(i: number): string {
  return `10.${64 + ((i >> 8) % 192)}.${i & 255}.0/24`;
}

/**
 * Starts `nodes` hollow agents; resolves once all registered and listed their pods. Throws
 * `RangeError` for a bad count or an empty pool; if an agent fails to start, the ones started so
 * far are stopped and the error is rethrown.
 */
export async function startHollowFleet(o: HollowFleetOptions): Promise<HollowFleet> {
  if (!Number.isInteger(o.nodes) || o.nodes < 0) throw new RangeError(`nodes must be a non-negative integer, got ${o.nodes}`);
  if (o.clients.length === 0) throw new RangeError("the client pool is empty");
  const prefix = o.namePrefix ?? "hollow-";
  const first = o.firstIndex ?? 0;
  const timers = o.timers ?? sharedTimerQueue();
  const agents: NodeAgent[] = [];
  const hosts: HollowHost[] = [];
  const shareEvents = o.agent?.recordEvents !== false && o.agent?.eventBroadcaster === undefined;
  const broadcasters = shareEvents
    ? o.clients.map((c) => new EventBroadcaster({ sink: clientEventSink(c), clock: () => timers.clock.now(), queue: { concurrency: 16 } }))
    : [];
  const stop = async (): Promise<void> => {
    await Promise.all(agents.map(async (a) => {
      await a.stop();
      await a.runtime.close();
    }));
    // Queued events get a short grace to be written; the rest are dropped (best effort).
    await Promise.race([Promise.all(broadcasters.map((b) => b.flush())), new Promise((r) => setTimeout(r, 2000).unref())]);
    for (const b of broadcasters) b.close();
  };
  const conc = Math.max(1, o.startConcurrency ?? 50);
  try {
    for (let base = 0; base < o.nodes; base += conc) {
      const batch: Promise<void>[] = [];
      for (let j = base; j < Math.min(o.nodes, base + conc); j++) {
        const i = first + j;
        const nodeName = `${prefix}${i}`;
        const host = new HollowHost({ nodeName, timers, podCidr: hollowPodCidr(i), ...(o.startLatencyMs !== undefined ? { startLatencyMs: o.startLatencyMs } : {}) });
        hosts.push(host);
        const agent = new NodeAgent({
          ...(o.agent ?? {}),
          client: o.clientFor ? o.clientFor(nodeName, o.clients[j % o.clients.length]!) : o.clients[j % o.clients.length]!, nodeName, runtime: new HollowRuntime(host), timers,
          nodeIP: hollowNodeIP(i), podCIDR: hollowPodCidr(i),
          ...(o.capacity !== undefined ? { capacity: o.capacity } : {}),
          ...(o.onError !== undefined ? { onError: o.onError } : {}),
        });
        agents.push(agent);
        batch.push(agent.start());
      }
      await Promise.all(batch);
    }
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
  return { agents, hosts, stop };
}
