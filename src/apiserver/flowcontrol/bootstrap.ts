/**
 * The built-in FlowSchemas and PriorityLevelConfigurations: upstream's mandatory and suggested
 * objects (names, matching precedences, rules, distinguishers, nominalConcurrencyShares,
 * lendablePercent, queues, handSize, queueLengthLimit as of flowcontrol v1 / Kubernetes 1.29+).
 * Facts carried over from upstream; the objects are written out here as plain data.
 */
import { createHash } from "node:crypto";
import { ALL, type FlowSchema, type NonResourcePolicyRule, type PriorityLevel, type ResourcePolicyRule, type Subject } from "./types.ts";

/** A stable UID per built-in object (upstream generates random ones; stable ones are easier to test). */
export function builtinUid(kind: string, name: string): string {
  const h = createHash("sha256").update(`tugboat/${kind}/${name}`).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

function level(name: string, nominalConcurrencyShares: number, lendablePercent: number, queuing?: [queues: number, handSize: number, queueLengthLimit: number]): PriorityLevel {
  return {
    name, uid: builtinUid("PriorityLevelConfiguration", name), type: "Limited", nominalConcurrencyShares, lendablePercent,
    ...(queuing ? { queuing: { queues: queuing[0], handSize: queuing[1], queueLengthLimit: queuing[2] } } : {}),
  };
}

/** Default priority levels, in upstream's order. */
export const DEFAULT_PRIORITY_LEVELS: readonly PriorityLevel[] = [
  { name: "exempt", uid: builtinUid("PriorityLevelConfiguration", "exempt"), type: "Exempt", nominalConcurrencyShares: 0, lendablePercent: 0 },
  level("node-high", 40, 25, [64, 6, 50]),
  level("system", 30, 33, [64, 6, 50]),
  level("leader-election", 10, 0, [16, 4, 50]),
  level("workload-high", 40, 50, [128, 6, 50]),
  level("workload-low", 100, 90, [128, 6, 50]),
  level("global-default", 20, 50, [128, 6, 50]),
  // catch-all rejects instead of queuing (LimitResponse Reject).
  level("catch-all", 5, 0),
];

const group = (name: string): Subject => ({ kind: "Group", group: { name } });
const user = (name: string): Subject => ({ kind: "User", user: { name } });
const kubeSystemSA = (name: string): Subject => ({ kind: "ServiceAccount", serviceAccount: { namespace: "kube-system", name } });

const everyResource: ResourcePolicyRule = { verbs: [ALL], apiGroups: [ALL], resources: [ALL], clusterScope: true, namespaces: [ALL] };
const everyNonResource: NonResourcePolicyRule = { verbs: [ALL], nonResourceURLs: [ALL] };
const leaderElectionVerbs = ["get", "create", "update"];

function schema(name: string, priorityLevel: string, matchingPrecedence: number, distinguisher: "ByUser" | "ByNamespace" | undefined, rules: FlowSchema["rules"]): FlowSchema {
  return {
    name, uid: builtinUid("FlowSchema", name), priorityLevel, matchingPrecedence,
    ...(distinguisher ? { distinguisherMethod: distinguisher } : {}), rules,
  };
}

/** Everything the subjects do. */
const all = (...subjects: Subject[]): FlowSchema["rules"] => [{ subjects, resourceRules: [everyResource], nonResourceRules: [everyNonResource] }];

/** Default flow schemas (upstream's names and precedences). */
export const DEFAULT_FLOW_SCHEMAS: readonly FlowSchema[] = [
  schema("exempt", "exempt", 1, undefined, all(group("system:masters"))),
  schema("probes", "exempt", 2, undefined, [{
    subjects: [group("system:unauthenticated"), group("system:authenticated")],
    nonResourceRules: [{ verbs: ["get"], nonResourceURLs: ["/healthz", "/readyz", "/livez"] }],
  }]),
  schema("system-leader-election", "leader-election", 100, "ByUser", [{
    subjects: [user("system:kube-controller-manager"), user("system:kube-scheduler"), kubeSystemSA(ALL)],
    resourceRules: [
      { verbs: leaderElectionVerbs, apiGroups: [""], resources: ["endpoints", "configmaps"], namespaces: ["kube-system"] },
      { verbs: leaderElectionVerbs, apiGroups: ["coordination.k8s.io"], resources: ["leases"], namespaces: [ALL] },
    ],
  }]),
  schema("endpoint-controller", "workload-high", 150, "ByUser", [{
    subjects: [user("system:kube-controller-manager"), kubeSystemSA("endpoint-controller"), kubeSystemSA("endpointslicemirroring-controller")],
    resourceRules: [{ verbs: leaderElectionVerbs, apiGroups: [""], resources: ["endpoints"], namespaces: [ALL] }],
  }]),
  schema("workload-leader-election", "leader-election", 200, "ByUser", [{
    subjects: [kubeSystemSA(ALL)],
    resourceRules: [
      { verbs: leaderElectionVerbs, apiGroups: [""], resources: ["endpoints", "configmaps"], namespaces: [ALL] },
      { verbs: leaderElectionVerbs, apiGroups: ["coordination.k8s.io"], resources: ["leases"], namespaces: [ALL] },
    ],
  }]),
  schema("system-node-high", "node-high", 400, "ByUser", [{
    subjects: [group("system:nodes")],
    resourceRules: [
      { verbs: [ALL], apiGroups: [""], resources: ["nodes", "nodes/status"], clusterScope: true, namespaces: [ALL] },
      { verbs: [ALL], apiGroups: ["coordination.k8s.io"], resources: ["leases"], namespaces: [ALL] },
    ],
  }]),
  schema("system-nodes", "system", 500, "ByUser", all(group("system:nodes"))),
  schema("kube-controller-manager", "workload-high", 800, "ByNamespace", all(user("system:kube-controller-manager"))),
  schema("kube-scheduler", "workload-high", 800, "ByNamespace", all(user("system:kube-scheduler"))),
  schema("kube-system-service-accounts", "workload-high", 900, "ByNamespace", all(kubeSystemSA(ALL))),
  schema("service-accounts", "workload-low", 9000, "ByUser", all(group("system:serviceaccounts"))),
  schema("global-default", "global-default", 9900, "ByUser", all(group("system:unauthenticated"), group("system:authenticated"))),
  schema("catch-all", "catch-all", 10000, "ByUser", all(group("system:unauthenticated"), group("system:authenticated"))),
];
