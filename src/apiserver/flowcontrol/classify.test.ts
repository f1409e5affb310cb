import { describe, it, expect } from "vitest";
import { Classifier } from "./classify.ts";
import { DEFAULT_FLOW_SCHEMAS, DEFAULT_PRIORITY_LEVELS } from "./bootstrap.ts";
import type { RequestDigest } from "./types.ts";

const classifier = new Classifier(DEFAULT_FLOW_SCHEMAS, DEFAULT_PRIORITY_LEVELS);

const authn = (name: string, ...groups: string[]) => ({ name, groups: [...groups, "system:authenticated"] });
const node = (n: string) => authn(`system:node:${n}`, "system:nodes");
const anonymous = { name: "system:anonymous", groups: ["system:unauthenticated"] };

function res(user: RequestDigest["user"], verb: string, group: string, resource: string, namespace = "", subresource = ""): RequestDigest {
  return { user, verb, isResourceRequest: true, apiGroup: group, resource, subresource, namespace, path: "" };
}
function nonRes(user: RequestDigest["user"], verb: string, path: string): RequestDigest {
  return { user, verb, isResourceRequest: false, apiGroup: "", resource: "", subresource: "", namespace: "", path };
}

describe("default classification", () => {
  const cases: Array<[string, RequestDigest, string, string, string]> = [
    // [what, request, flow schema, priority level, distinguisher]
    ["node lease update", res(node("n1"), "update", "coordination.k8s.io", "leases", "kube-node-lease"), "system-node-high", "node-high", "system:node:n1"],
    ["node status patch", res(node("n1"), "patch", "", "nodes", "", "status"), "system-node-high", "node-high", "system:node:n1"],
    ["node get", res(node("n1"), "get", "", "nodes"), "system-node-high", "node-high", "system:node:n1"],
    ["node pod status update", res(node("n1"), "update", "", "pods", "default", "status"), "system-nodes", "system", "system:node:n1"],
    ["node watches its pods", res(node("n1"), "watch", "", "pods"), "system-nodes", "system", "system:node:n1"],
    ["node /healthz (probes)", nonRes(node("n1"), "get", "/healthz"), "probes", "exempt", ""],
    ["scheduler binding", res(authn("system:kube-scheduler"), "create", "", "pods", "ns1", "binding"), "kube-scheduler", "workload-high", "ns1"],
    ["scheduler leader lease", res(authn("system:kube-scheduler"), "update", "coordination.k8s.io", "leases", "kube-system"), "system-leader-election", "leader-election", "system:kube-scheduler"],
    ["scheduler lease delete is not leader election", res(authn("system:kube-scheduler"), "delete", "coordination.k8s.io", "leases", "kube-system"), "kube-scheduler", "workload-high", "kube-system"],
    ["controller manager pod create", res(authn("system:kube-controller-manager"), "create", "", "pods", "ns2"), "kube-controller-manager", "workload-high", "ns2"],
    ["controller manager endpoints update", res(authn("system:kube-controller-manager"), "update", "", "endpoints", "ns2"), "endpoint-controller", "workload-high", "system:kube-controller-manager"],
    ["controller manager leader configmap in kube-system", res(authn("system:kube-controller-manager"), "get", "", "configmaps", "kube-system"), "system-leader-election", "leader-election", "system:kube-controller-manager"],
    ["controller manager configmap elsewhere", res(authn("system:kube-controller-manager"), "get", "", "configmaps", "default"), "kube-controller-manager", "workload-high", "default"],
    ["kube-system service account lease", res(authn("system:serviceaccount:kube-system:foo", "system:serviceaccounts"), "update", "coordination.k8s.io", "leases", "x"), "system-leader-election", "leader-election", "system:serviceaccount:kube-system:foo"],
    ["kube-system service account list", res(authn("system:serviceaccount:kube-system:foo", "system:serviceaccounts"), "list", "", "pods", "x"), "kube-system-service-accounts", "workload-high", "x"],
    ["workload service account", res(authn("system:serviceaccount:app:web", "system:serviceaccounts"), "list", "", "pods", "app"), "service-accounts", "workload-low", "system:serviceaccount:app:web"],
    ["workload service account leader election", res(authn("system:serviceaccount:app:web", "system:serviceaccounts"), "update", "coordination.k8s.io", "leases", "app"), "service-accounts", "workload-low", "system:serviceaccount:app:web"],
    ["admin (system:masters)", res(authn("admin", "system:masters"), "create", "", "pods", "default"), "exempt", "exempt", ""],
    ["ordinary user", res(authn("alice"), "create", "apps", "deployments", "default"), "global-default", "global-default", "alice"],
    ["ordinary user discovery", nonRes(authn("alice"), "get", "/apis"), "global-default", "global-default", "alice"],
    ["anonymous list", res(anonymous, "list", "", "pods"), "global-default", "global-default", "system:anonymous"],
    ["anonymous /readyz", nonRes(anonymous, "get", "/readyz"), "probes", "exempt", ""],
    ["anonymous /readyz POST is not a probe", nonRes(anonymous, "post", "/readyz"), "global-default", "global-default", "system:anonymous"],
  ];
  for (const [what, d, schema, level, dist] of cases) {
    it(what, () => {
      const c = classifier.classify(d);
      expect([c.schema.name, c.level.name, c.distinguisher]).toEqual([schema, level, dist]);
      expect(c.flowKey).toBe(`${schema}\u0000${dist}`);
    });
  }

  it("catch-all catches what global-default would, once global-default is gone", () => {
    const c = new Classifier(DEFAULT_FLOW_SCHEMAS.filter((s) => s.name !== "global-default"), DEFAULT_PRIORITY_LEVELS);
    expect(c.classify(res(anonymous, "list", "", "pods")).schema.name).toBe("catch-all");
  });

  it("uses upstream's precedences, shares and queue shapes", () => {
    const prec = Object.fromEntries(DEFAULT_FLOW_SCHEMAS.map((s) => [s.name, s.matchingPrecedence]));
    expect(prec).toEqual({
      "exempt": 1, "probes": 2, "system-leader-election": 100, "endpoint-controller": 150, "workload-leader-election": 200,
      "system-node-high": 400, "system-nodes": 500, "kube-controller-manager": 800, "kube-scheduler": 800,
      "kube-system-service-accounts": 900, "service-accounts": 9000, "global-default": 9900, "catch-all": 10000,
    });
    const shares = Object.fromEntries(DEFAULT_PRIORITY_LEVELS.map((l) => [l.name, [l.nominalConcurrencyShares, l.queuing?.queues ?? 0, l.queuing?.handSize ?? 0, l.queuing?.queueLengthLimit ?? 0]]));
    expect(shares).toEqual({
      "exempt": [0, 0, 0, 0], "node-high": [40, 64, 6, 50], "system": [30, 64, 6, 50], "leader-election": [10, 16, 4, 50],
      "workload-high": [40, 128, 6, 50], "workload-low": [100, 128, 6, 50], "global-default": [20, 128, 6, 50], "catch-all": [5, 0, 0, 0],
    });
  });
});

describe("bad configuration", () => {
  it("rejects a schema naming a missing level", () => {
    expect(() => new Classifier(DEFAULT_FLOW_SCHEMAS, DEFAULT_PRIORITY_LEVELS.filter((l) => l.name !== "node-high")))
      .toThrow("FlowSchema system-node-high names unknown priority level node-high");
  });
  it("rejects an empty schema list", () => {
    expect(() => new Classifier([], DEFAULT_PRIORITY_LEVELS)).toThrow("no FlowSchema configured");
  });
});
