/**
 * DefaultTolerationSeconds: pods that do not tolerate `node.kubernetes.io/not-ready:NoExecute`
 * or `node.kubernetes.io/unreachable:NoExecute` get a toleration for each with
 * `tolerationSeconds: 300`, so the node lifecycle controller evicts them 5 minutes after their
 * node fails. Runs on pod create and update (an update body lacking them gets them back).
 */
import { isRecord, type JsonRecord, type MutatingPlugin } from "../types.ts";

export const TAINT_NOT_READY = "node.kubernetes.io/not-ready";
export const TAINT_UNREACHABLE = "node.kubernetes.io/unreachable";
export const DEFAULT_TOLERATION_SECONDS = 300;

function tolerates(t: JsonRecord, key: string): boolean {
  const k = typeof t["key"] === "string" ? t["key"] : "";
  const e = typeof t["effect"] === "string" ? t["effect"] : "";
  return (k === key || k === "") && (e === "NoExecute" || e === "");
}

export function defaultTolerationSeconds(opts: { notReadySeconds?: number; unreachableSeconds?: number } = {}): MutatingPlugin {
  const seconds: Record<string, number> = {
    [TAINT_NOT_READY]: opts.notReadySeconds ?? DEFAULT_TOLERATION_SECONDS,
    [TAINT_UNREACHABLE]: opts.unreachableSeconds ?? DEFAULT_TOLERATION_SECONDS,
  };
  return {
    name: "DefaultTolerationSeconds",
    handles: (op, r) => (op === "CREATE" || op === "UPDATE") && r.group === "" && r.resource === "pods" && r.subresource === "",
    admit(a) {
      const obj = a.object;
      if (!obj) return;
      const spec = isRecord(obj["spec"]) ? obj["spec"] : (obj["spec"] = {});
      const list = Array.isArray(spec["tolerations"]) ? (spec["tolerations"] as unknown[]).filter(isRecord) : [];
      const add: JsonRecord[] = [];
      for (const key of [TAINT_NOT_READY, TAINT_UNREACHABLE]) {
        if (!list.some((t) => tolerates(t, key))) {
          add.push({ key, operator: "Exists", effect: "NoExecute", tolerationSeconds: seconds[key] });
        }
      }
      if (add.length > 0) spec["tolerations"] = [...(Array.isArray(spec["tolerations"]) ? spec["tolerations"] as unknown[] : []), ...add];
    },
  };
}
