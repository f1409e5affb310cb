/**
 * The nominated pods' overlay on the kernel's node state. kube-scheduler counts pods nominated to a
 * node (by an earlier preemption) against that node when filtering a pod of lower or equal
 * priority. Instead of adding every nominated pod to the kernel before each call and removing it
 * after (O(#nominated) kernel writes per cycle), the overlay keeps them applied between cycles and
 * follows two change streams:
 *
 *   - `podChanged(key)`: a nomination was added, moved or cleared (the queue's nominator);
 *   - `nodeReset(name)`: the snapshot overwrote or removed a node's kernel slot (what was applied
 *     there is gone and is re-applied on the next `sync`).
 *
 * `sync` (after the snapshot update, before the kernel call) applies the pending changes. Per pod,
 * `exclude` takes out, for that one call, the applied pods that must not count for it — the pod
 * itself and nominated pods of lower priority — and `restore` puts them back. The result equals
 * adding exactly the nominated pods with priority ≥ the pod's (other than itself) to the snapshot's
 * state, as `Scheduler`'s per-cycle reference mode does.
 */
import type { Kernel } from "./kernel/types.ts";
import type { PodInfo } from "./types.ts";

/** Where a pod is nominated, with the PodInfo recorded at nomination. */
export interface Nomination {
  readonly node: string;
  readonly info: PodInfo;
}

interface Entry extends Nomination {
  /** The pod's requests are currently added to the node's kernel slot. */
  inKernel: boolean;
}

/** A pod taken out of the kernel for one call: the slot and what to add back. */
export type Excluded = readonly [slot: number, pod: PodInfo];

export class NominatedOverlay {
  private readonly entries = new Map<string, Entry>();
  private readonly byNode = new Map<string, Set<string>>();
  private readonly byPriority = new Map<number, Set<string>>();
  private readonly dirty = new Set<string>();
  private readonly resetNodes = new Set<string>();

  /** `lookup` answers the nominator's current state for a pod key. */
  constructor(private readonly kernel: Kernel, private readonly lookup: (key: string) => Nomination | undefined) {}

  /** Number of nominated pods tracked (applied or waiting for their node). */
  get size(): number { return this.entries.size; }
  /** Number of tracked pods whose requests are in the kernel now. */
  get applied(): number {
    let n = 0;
    for (const e of this.entries.values()) if (e.inKernel) n++;
    return n;
  }

  podChanged(key: string): void { this.dirty.add(key); }
  nodeReset(name: string): void { this.resetNodes.add(name); }

  /** Brings the kernel in line with the nominator; `index` is the snapshot's node name → slot map. */
  sync(index: ReadonlyMap<string, number>): void {
    if (this.resetNodes.size > 0) {
      for (const name of this.resetNodes) {
        for (const key of this.byNode.get(name) ?? []) {
          const e = this.entries.get(key);
          if (e) e.inKernel = false;
          this.dirty.add(key);
        }
      }
      this.resetNodes.clear();
    }
    if (this.dirty.size === 0) return;
    for (const key of this.dirty) {
      const cur = this.entries.get(key);
      const want = this.lookup(key);
      if (cur && want && cur.node === want.node && cur.info === want.info) {
        if (!cur.inKernel) this.place(cur, index);
        continue;
      }
      if (cur) {
        if (cur.inKernel) {
          const slot = index.get(cur.node);
          if (slot !== undefined) this.kernel.removePodFromNode(slot, cur.info.requests);
        }
        this.unlink(key, cur);
      }
      if (want) {
        const e: Entry = { node: want.node, info: want.info, inKernel: false };
        this.link(key, e);
        this.place(e, index);
      }
    }
    this.dirty.clear();
  }

  /**
   * Takes out of the kernel the applied pods that must not count for `pod`: itself and nominated
   * pods of lower priority. Call `restore` with the result after the kernel call.
   */
  exclude(pod: PodInfo, index: ReadonlyMap<string, number>): Excluded[] {
    const out: Excluded[] = [];
    const take = (e: Entry | undefined): void => {
      if (!e || !e.inKernel) return;
      const slot = index.get(e.node);
      if (slot === undefined) return;
      this.kernel.removePodFromNode(slot, e.info.requests);
      out.push([slot, e.info]);
    };
    take(this.entries.get(pod.key));
    for (const [prio, keys] of this.byPriority) {
      if (prio >= pod.priority) continue;
      for (const key of keys) if (key !== pod.key) take(this.entries.get(key));
    }
    return out;
  }

  restore(excluded: readonly Excluded[]): void {
    for (const [slot, p] of excluded) this.kernel.addPodToNode(slot, p.requests);
  }

  private place(e: Entry, index: ReadonlyMap<string, number>): void {
    const slot = index.get(e.node);
    // A node not in the snapshot yet: its arrival (upsert → nodeReset) places the pod.
    if (slot === undefined) return;
    this.kernel.addPodToNode(slot, e.info.requests);
    e.inKernel = true;
  }

  private link(key: string, e: Entry): void {
    this.entries.set(key, e);
    let s = this.byNode.get(e.node);
    if (!s) { s = new Set(); this.byNode.set(e.node, s); }
    s.add(key);
    let p = this.byPriority.get(e.info.priority);
    if (!p) { p = new Set(); this.byPriority.set(e.info.priority, p); }
    p.add(key);
  }

  private unlink(key: string, e: Entry): void {
    this.entries.delete(key);
    const s = this.byNode.get(e.node);
    if (s) { s.delete(key); if (s.size === 0) this.byNode.delete(e.node); }
    const p = this.byPriority.get(e.info.priority);
    if (p) { p.delete(key); if (p.size === 0) this.byPriority.delete(e.info.priority); }
  }
}
