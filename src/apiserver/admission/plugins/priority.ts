/**
 * Priority: resolves a pod's `priorityClassName` to `spec.priority` (and `spec.preemptionPolicy`
 * from the class); a pod without a class gets the global default class (the lowest-valued one if
 * several are marked), else priority 0 and `PreemptLowerPriority`. An unknown class is 403
 * `no PriorityClass with name x was found`. A pod naming a priority or policy that differs from
 * the class's is 403. On update the stored priority is kept. PriorityClasses: only one may be
 * `globalDefault` (403 `PriorityClass x is already marked as default. Only one default can exist`).
 *
 * INTERIM: the pods strategy (registry/kinds/pods.ts) defaults `priority: 0` and
 * `preemptionPolicy: PreemptLowerPriority` before admission runs, so those two values are taken
 * as "not given" here. A client that explicitly sends `priority: 0` with a class of another value
 * is therefore resolved instead of refused as upstream would.
 */
import type { KubeObject } from "../../../api/object.ts";
import { forbidden, isRecord, type AdmissionHost, type MutatingPlugin, type ValidatingPlugin } from "../types.ts";

export const SYSTEM_CLUSTER_CRITICAL = "system-cluster-critical";
export const SYSTEM_NODE_CRITICAL = "system-node-critical";
export const DEFAULT_PREEMPTION_POLICY = "PreemptLowerPriority";
const GROUP = "scheduling.k8s.io";

/** The system priority classes the apiserver creates at startup. */
export const SYSTEM_PRIORITY_CLASSES: readonly KubeObject[] = [
  {
    apiVersion: "scheduling.k8s.io/v1", kind: "PriorityClass", metadata: { name: SYSTEM_NODE_CRITICAL },
    value: 2000001000, preemptionPolicy: DEFAULT_PREEMPTION_POLICY,
    description: "Used for system critical pods that must not be moved from their current node.",
  },
  {
    apiVersion: "scheduling.k8s.io/v1", kind: "PriorityClass", metadata: { name: SYSTEM_CLUSTER_CRITICAL },
    value: 2000000000, preemptionPolicy: DEFAULT_PREEMPTION_POLICY,
    description: "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.",
  },
];

interface Resolved { readonly name: string; readonly value: number; readonly policy: string | undefined }

function classOf(o: KubeObject): Resolved {
  return {
    name: o.metadata?.name ?? "",
    value: typeof o["value"] === "number" ? o["value"] : 0,
    policy: typeof o["preemptionPolicy"] === "string" ? o["preemptionPolicy"] : undefined,
  };
}

async function defaultClass(host: AdmissionHost): Promise<KubeObject | undefined> {
  let best: KubeObject | undefined;
  for (const { object } of await host.list(GROUP, "priorityclasses", "")) {
    if (object["globalDefault"] !== true) continue;
    if (!best || classOf(object).value < classOf(best).value) best = object;
  }
  return best;
}

export function priorityAdmission(host: AdmissionHost): MutatingPlugin & ValidatingPlugin {
  return {
    name: "Priority",
    handles: (op, r) => r.subresource === "" && (
      (r.group === "" && r.resource === "pods" && (op === "CREATE" || op === "UPDATE")) ||
      (r.group === GROUP && r.resource === "priorityclasses" && (op === "CREATE" || op === "UPDATE"))),
    async admit(a) {
      if (a.resource !== "pods" || !a.object) return;
      const spec = isRecord(a.object["spec"]) ? a.object["spec"] : (a.object["spec"] = {});
      const given = typeof spec["priority"] === "number" && spec["priority"] !== 0 ? spec["priority"] : undefined;
      const givenPolicy = typeof spec["preemptionPolicy"] === "string" && spec["preemptionPolicy"] !== DEFAULT_PREEMPTION_POLICY
        ? spec["preemptionPolicy"] : undefined;
      if (a.operation === "UPDATE") {
        const old = isRecord(a.oldObject?.["spec"]) ? a.oldObject["spec"] : {};
        if (given === undefined && typeof old["priority"] === "number") spec["priority"] = old["priority"];
        if (givenPolicy === undefined && typeof old["preemptionPolicy"] === "string") spec["preemptionPolicy"] = old["preemptionPolicy"];
        return;
      }
      const className = typeof spec["priorityClassName"] === "string" ? spec["priorityClassName"] : "";
      let resolved: Resolved;
      if (className === "") {
        const d = await defaultClass(host);
        resolved = d ? classOf(d) : { name: "", value: 0, policy: DEFAULT_PREEMPTION_POLICY };
      } else {
        const pc = await host.get(GROUP, "priorityclasses", "", className);
        if (!pc) throw forbidden(a, `no PriorityClass with name ${className} was found`);
        resolved = classOf(pc.object);
      }
      if (given !== undefined && given !== resolved.value) {
        throw forbidden(a, `the integer value of priority (${given}) must not be provided in pod spec; priority admission controller computed ${resolved.value} from the given PriorityClass name`);
      }
      if (resolved.name !== "") spec["priorityClassName"] = resolved.name;
      spec["priority"] = resolved.value;
      if (resolved.policy !== undefined) {
        if (givenPolicy !== undefined && givenPolicy !== resolved.policy) {
          throw forbidden(a, `the string value of PreemptionPolicy (${givenPolicy}) must not be provided in pod spec; priority admission controller computed ${resolved.policy} from the given PriorityClass name`);
        }
        spec["preemptionPolicy"] = resolved.policy;
      }
    },
    async validate(a) {
      if (a.resource !== "priorityclasses" || !a.object || a.object["globalDefault"] !== true) return;
      const d = await defaultClass(host);
      if (!d) return;
      const dName = d.metadata?.name ?? "";
      if (a.operation === "CREATE" || dName !== a.object.metadata?.name) {
        throw forbidden(a, `PriorityClass ${dName} is already marked as default. Only one default can exist`);
      }
    },
  };
}
