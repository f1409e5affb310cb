/** PrioritySort: higher `spec.priority` first, then earlier queue arrival. */
import type { QueueSortPlugin } from "../../framework/interface.ts";

export const NAME = "PrioritySort";

export function newPrioritySort(): QueueSortPlugin {
  return {
    name: NAME,
    less(a, b) {
      const pa = a.info.priority, pb = b.info.priority;
      if (pa !== pb) return pa > pb;
      if (a.timestamp !== b.timestamp) return a.timestamp < b.timestamp;
      return a.seq < b.seq;
    },
  } satisfies QueueSortPlugin;
}
