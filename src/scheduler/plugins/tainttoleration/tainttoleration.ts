/**
 * TaintToleration: filter on untolerated NoSchedule/NoExecute taints, score by the number of
 * untolerated PreferNoSchedule taints (fewer is better). Both run in the kernel over interned taint
 * bitsets; this plugin computes the pod's tolerated bits (memoized per tolerations and interner
 * version) and checks nodes whose taints overflowed the bitsets in TypeScript.
 */
import type { Node, Toleration } from "../../../api/generated/core_v1.ts";
import { firstUntolerated } from "../../_nodematch.ts";
import { ActionType } from "../../framework/events.ts";
import type { EnqueueExtensions, FilterPlugin, KernelPlugin } from "../../framework/interface.ts";
import { Status } from "../../framework/status.ts";
import type { TaintInterner } from "../../cache/_taints.ts";

export const NAME = "TaintToleration";
const HARD = ["NoSchedule", "NoExecute"];

export function untoleratedMessage(key: string, value: string): string {
  return `node(s) had untolerated taint {${key}: ${value}}`;
}

/** JSON text of a tolerations list, per list object (a PodInfo keeps its list across cycles). */
const tolKeys = new WeakMap<readonly Toleration[], string>();
function tolKey(tols: readonly Toleration[]): string {
  if (tols.length === 0) return "";
  let k = tolKeys.get(tols);
  if (k === undefined) { k = JSON.stringify(tols); tolKeys.set(tols, k); }
  return k;
}

/** Tolerated-taint bits by the pod's whole tolerations list (`pick` selects the ones that apply). */
class BitsMemo {
  private readonly m = new Map<string, Uint32Array>();
  private version = -1;
  constructor(private readonly pick: (tols: readonly Toleration[]) => readonly Toleration[] = (t) => t) {}
  get(interner: TaintInterner, tols: readonly Toleration[]): Uint32Array {
    if (interner.version !== this.version) { this.m.clear(); this.version = interner.version; }
    const key = tolKey(tols);
    let v = this.m.get(key);
    if (!v) {
      if (this.m.size > 256) this.m.clear();
      v = interner.tolerated(this.pick(tols), new Uint32Array(interner.words));
      this.m.set(key, v);
    }
    return v;
  }
}

export function newTaintToleration(): KernelPlugin & FilterPlugin & EnqueueExtensions {
  const hardMemo = new BitsMemo();
  // Score counts only tolerations that apply to PreferNoSchedule (effect empty or PreferNoSchedule).
  const preferMemo = new BitsMemo((tols) => tols.filter((t) => !t.effect || t.effect === "PreferNoSchedule"));
  let allOnes = new Uint32Array(0);
  const plugin = {
    name: NAME,
    kernelWeight: "taintToleration",
    fillKernelInput(_state, pod, snap, input, filterEnabled) {
      if (filterEnabled) input.toleratedTaints = hardMemo.get(snap.hardTaints, pod.tolerations);
      else {
        if (allOnes.length !== snap.hardTaints.words) allOnes = new Uint32Array(snap.hardTaints.words).fill(0xffffffff);
        input.toleratedTaints = allOnes;
      }
      input.toleratedPreferTaints = preferMemo.get(snap.preferTaints, pod.tolerations);
      return undefined;
    },
    filter(_state, pod, node) {
      const t = firstUntolerated(node.taints, pod.tolerations, HARD);
      return t ? Status.unresolvable(untoleratedMessage(t.key ?? "", t.value ?? "")) : undefined;
    },
    /** Only nodes whose taints did not fit the bitsets need a TypeScript check. */
    filterAll(state, pod, snap, sink) {
      for (const name of snap.overflowTaintNodes) {
        const i = snap.index.get(name);
        const node = i === undefined ? undefined : snap.nodes[i];
        if (i === undefined || !node) continue;
        const st = plugin.filter(state, pod, node);
        if (st) sink.reject(i, st);
      }
    },
    eventsToRegister: () => [
      { resource: "Node", actionType: ActionType.Add | ActionType.UpdateNodeTaint,
        hint: (pod, _old, n) => (firstUntolerated((n as Node | undefined)?.spec?.taints ?? [], pod.tolerations, HARD) ? "QueueSkip" : "Queue") },
      { resource: "Pod", actionType: ActionType.UpdatePodTolerations },
    ],
  } satisfies KernelPlugin & FilterPlugin & EnqueueExtensions;
  return plugin;
}
