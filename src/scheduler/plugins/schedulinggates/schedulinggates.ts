/** SchedulingGates: a pod with `spec.schedulingGates` waits (SchedulingGated) until they are all removed. */
import { ActionType } from "../../framework/events.ts";
import type { EnqueueExtensions, PreEnqueuePlugin } from "../../framework/interface.ts";
import { Status } from "../../framework/status.ts";

export const NAME = "SchedulingGates";

export function newSchedulingGates(): PreEnqueuePlugin & EnqueueExtensions {
  return {
    name: NAME,
    preEnqueue(pod) {
      if (pod.schedulingGates.length === 0) return undefined;
      return Status.unresolvable(`waiting for scheduling gates: [${pod.schedulingGates.join(" ")}]`);
    },
    eventsToRegister: () => [{ resource: "Pod", actionType: ActionType.UpdatePodSchedulingGatesEliminated }],
  } satisfies PreEnqueuePlugin & EnqueueExtensions;
}
