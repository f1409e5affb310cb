/** NodePorts: the pod's host ports must be free on the node (0.0.0.0 overlaps every IP). */
import { portConflicts } from "../../cache/node_info.ts";
import { ActionType } from "../../framework/events.ts";
import type { EnqueueExtensions, FilterPlugin } from "../../framework/interface.ts";
import { Status } from "../../framework/status.ts";

export const NAME = "NodePorts";
export const ERR_REASON = "node(s) didn't have free ports for the requested pod ports";
const REJECT = Status.unschedulable(ERR_REASON).withPlugin("NodePorts");

export function newNodePorts(): FilterPlugin & EnqueueExtensions {
  const plugin = {
    name: NAME,
    filter(_state, pod, node) {
      for (const hp of pod.hostPorts) if (portConflicts(node.usedPorts, hp)) return REJECT;
      return undefined;
    },
    filterAll(state, pod, snap, sink) {
      if (pod.hostPorts.length === 0) return;
      for (let i = 0; i < snap.size; i++) {
        const node = snap.nodes[i];
        if (!node || node.usedPorts.length === 0) continue;
        const st = plugin.filter(state, pod, node);
        if (st) sink.reject(i, st);
      }
    },
    eventsToRegister: () => [
      { resource: "AssignedPod", actionType: ActionType.Delete },
      { resource: "Node", actionType: ActionType.Add },
    ],
  } satisfies FilterPlugin & EnqueueExtensions;
  return plugin;
}
