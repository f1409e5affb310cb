/**
 * NodeAffinity: `spec.nodeSelector` + required node affinity (+ the profile's addedAffinity) as a
 * filter, preferred terms as a score. The kernel receives a per-node match bitset and per-node
 * preferred weight sums; both are memoized per (pod constraints, snapshot labels epoch), so pods
 * of one workload pay for them once.
 */
import type { Node, NodeAffinity } from "../../../api/generated/core_v1.ts";
import { preferredNodeAffinityWeight, RequiredNodeAffinity } from "../../_nodematch.ts";
import { fieldErr, isRecord } from "../../framework/config.ts";
import { ActionType } from "../../framework/events.ts";
import type { EnqueueExtensions, FilterPlugin, KernelPlugin } from "../../framework/interface.ts";
import type { PluginContext } from "../../framework/registry.ts";
import { Status } from "../../framework/status.ts";
import type { Snapshot } from "../../cache/snapshot.ts";
import type { PodInfo } from "../../types.ts";
import { argsObject } from "../_args.ts";

export const NAME = "NodeAffinity";
export const ERR_REASON = "node(s) didn't match Pod's node affinity/selector";

class EpochMemo<V> {
  private readonly m = new Map<string, V>();
  private epoch = -1;
  get(epoch: number, key: string, make: () => V): V {
    if (epoch !== this.epoch) { this.m.clear(); this.epoch = epoch; }
    let v = this.m.get(key);
    if (v === undefined) {
      if (this.m.size > 64) this.m.clear();
      v = make();
      this.m.set(key, v);
    }
    return v;
  }
}

export function newNodeAffinity(args: unknown, ctx: PluginContext): KernelPlugin & FilterPlugin & EnqueueExtensions {
  const a = argsObject(args, ctx, "NodeAffinityArgs");
  let added: NodeAffinity | undefined;
  if (a["addedAffinity"] !== undefined && a["addedAffinity"] !== null) {
    if (!isRecord(a["addedAffinity"])) ctx.errors.push(fieldErr.invalid(`${ctx.argsPath}.addedAffinity`, a["addedAffinity"], "must be a NodeAffinity object"));
    // Escape hatch: shape checked as an object above; the NodeAffinity fields are read defensively.
    else added = a["addedAffinity"] as NodeAffinity;
  }
  const selectorMemo = new EpochMemo<Uint32Array>();
  const preferredMemo = new EpochMemo<Int32Array | null>();
  const required = (pod: PodInfo): RequiredNodeAffinity => new RequiredNodeAffinity(pod.pod, added);
  const hasPreferred = (pod: PodInfo): boolean =>
    (pod.pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.length ?? 0) > 0 ||
    (added?.preferredDuringSchedulingIgnoredDuringExecution?.length ?? 0) > 0;
  const selectorBits = (req: RequiredNodeAffinity, snap: Snapshot): Uint32Array =>
    selectorMemo.get(snap.labelsEpoch, req.key, () => {
      const bits = new Uint32Array((snap.size + 31) >>> 5);
      for (let i = 0; i < snap.size; i++) {
        const n = snap.nodes[i];
        if (n && req.match(n.labels, n.name)) bits[i >>> 5] = (bits[i >>> 5] ?? 0) | (1 << (i & 31));
      }
      return bits;
    });
  return {
    name: NAME,
    kernelWeight: "nodeAffinity",
    fillKernelInput(_state, pod, snap, input, filterEnabled) {
      const req = required(pod);
      if (filterEnabled && !req.trivial) input.selector = selectorBits(req, snap);
      if (hasPreferred(pod)) {
        const key = JSON.stringify(pod.pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? null);
        const w = preferredMemo.get(snap.labelsEpoch, key, () => {
          const out = new Int32Array(snap.size);
          let any = false;
          for (let i = 0; i < snap.size; i++) {
            const n = snap.nodes[i];
            if (!n) continue;
            out[i] = preferredNodeAffinityWeight(pod.pod, added, n.labels, n.name);
            if (out[i] !== 0) any = true;
          }
          return any ? out : null;
        });
        if (w) input.preferredWeights = w;
      }
      return undefined;
    },
    filter(_state, pod, node) {
      return required(pod).match(node.labels, node.name) ? undefined : Status.unresolvable(ERR_REASON);
    },
    eventsToRegister: () => [
      { resource: "Node", actionType: ActionType.Add | ActionType.UpdateNodeLabel,
        hint: (pod, _old, n) => {
          const node = n as Node | undefined;
          return node && required(pod).match(node.metadata?.labels ?? {}, node.metadata?.name ?? "") ? "Queue" : "QueueSkip";
        } },
    ],
  } satisfies KernelPlugin & FilterPlugin & EnqueueExtensions;
}
