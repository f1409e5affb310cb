/** NodeName: a pod with `spec.nodeName` fits only that node. */
import { ActionType } from "../../framework/events.ts";
import type { EnqueueExtensions, FilterPlugin } from "../../framework/interface.ts";
import { Status } from "../../framework/status.ts";

export const NAME = "NodeName";
export const ERR_REASON = "node(s) didn't match the requested node name";
const REJECT = Status.unresolvable(ERR_REASON).withPlugin("NodeName");

export function newNodeName(): FilterPlugin & EnqueueExtensions {
  return {
    name: NAME,
    filter(_state, pod, node) {
      return pod.nodeName !== "" && pod.nodeName !== node.name ? REJECT : undefined;
    },
    filterAll(_state, pod, snap, sink) {
      if (pod.nodeName === "") return;
      const keep = snap.index.get(pod.nodeName);
      for (let i = 0; i < snap.size; i++) if (i !== keep) sink.reject(i, REJECT);
    },
    eventsToRegister: () => [{ resource: "Node", actionType: ActionType.Add }],
  } satisfies FilterPlugin & EnqueueExtensions;
}
