/**
 * TaintNodesByCondition: a Node is created with `node.kubernetes.io/not-ready:NoSchedule`, so
 * nothing is scheduled onto it before it reports Ready; the node lifecycle controller removes the
 * taint once the node is Ready (and manages it from then on).
 */
import { isRecord, type MutatingPlugin } from "../types.ts";

export const NOT_READY_TAINT = { key: "node.kubernetes.io/not-ready", effect: "NoSchedule" } as const;

export function taintNodesByCondition(): MutatingPlugin {
  return {
    name: "TaintNodesByCondition",
    handles: (op, r) => op === "CREATE" && r.group === "" && r.resource === "nodes" && r.subresource === "",
    admit(a) {
      const obj = a.object;
      if (!obj) return;
      const spec = isRecord(obj["spec"]) ? obj["spec"] : (obj["spec"] = {});
      const taints = Array.isArray(spec["taints"]) ? spec["taints"] as unknown[] : [];
      // Upstream matches taints by key and effect.
      if (taints.some((t) => isRecord(t) && t["key"] === NOT_READY_TAINT.key && t["effect"] === NOT_READY_TAINT.effect)) return;
      spec["taints"] = [...taints, { ...NOT_READY_TAINT }];
    },
  };
}
