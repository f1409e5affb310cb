/**
 * NodeUnschedulable: rejects `spec.unschedulable` nodes unless the pod tolerates
 * `node.kubernetes.io/unschedulable:NoSchedule`. Evaluated in the kernel (one flag per pod).
 */
import type { Node } from "../../../api/generated/core_v1.ts";
import { toleratesTaint } from "../../_nodematch.ts";
import { ActionType } from "../../framework/events.ts";
import type { EnqueueExtensions, FilterPlugin, KernelPlugin } from "../../framework/interface.ts";
import { Status } from "../../framework/status.ts";
import type { PodInfo } from "../../types.ts";

export const NAME = "NodeUnschedulable";
export const ERR_REASON_UNSCHEDULABLE = "node(s) were unschedulable";
const TAINT = { key: "node.kubernetes.io/unschedulable", effect: "NoSchedule" };

export function toleratesUnschedulable(pod: PodInfo): boolean {
  return pod.tolerations.some((t) => toleratesTaint(t, TAINT));
}

export function newNodeUnschedulable(): KernelPlugin & FilterPlugin & EnqueueExtensions {
  return {
    name: NAME,
    fillKernelInput(_state, pod, _snap, input, filterEnabled) {
      input.toleratesUnschedulable = !filterEnabled || toleratesUnschedulable(pod);
      return undefined;
    },
    filter(_state, pod, node) {
      if (node.unschedulable && !toleratesUnschedulable(pod)) return Status.unresolvable(ERR_REASON_UNSCHEDULABLE);
      return undefined;
    },
    eventsToRegister: () => [
      { resource: "Node", actionType: ActionType.Add | ActionType.UpdateNodeTaint,
        hint: (pod, _old, n) => ((n as Node | undefined)?.spec?.unschedulable === true && !toleratesUnschedulable(pod) ? "QueueSkip" : "Queue") },
    ],
  } satisfies KernelPlugin & FilterPlugin & EnqueueExtensions;
}
