import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../../api/object.ts";
import { hasStatusSubresource, isNamespacedKind, knownResources, strategyFor, tracksGeneration } from "./mod.ts";

const text = (errs: { field: string; message: string }[]): string[] => errs.map((e) => `${e.field}: ${e.message}`);
const NOW = new Date("2026-01-03T00:00:00Z");
const meta = (name = "x", namespace: string | null = "default") =>
  ({ name, ...(namespace ? { namespace } : {}), uid: "u1", creationTimestamp: "2026-01-02T23:59:15Z" });
function ready(group: string, plural: string, o: KubeObject): KubeObject {
  const s = strategyFor(group, plural);
  s.applyDefaults(o);
  s.prepareForCreate(o);
  return o;
}

describe("registry", () => {
  it("covers every kind of issue 2", () => {
    const want = [
      "/namespaces", "/pods", "/nodes", "/services", "/endpoints", "/configmaps", "/secrets", "/serviceaccounts", "/events",
      "/resourcequotas", "/limitranges", "/persistentvolumes", "/persistentvolumeclaims", "/podtemplates",
      "apps/deployments", "apps/replicasets", "apps/daemonsets", "apps/statefulsets", "apps/controllerrevisions",
      "batch/jobs", "batch/cronjobs", "coordination.k8s.io/leases", "discovery.k8s.io/endpointslices",
      "networking.k8s.io/ingresses", "networking.k8s.io/ingressclasses", "networking.k8s.io/networkpolicies",
      "rbac.authorization.k8s.io/roles", "rbac.authorization.k8s.io/clusterroles", "rbac.authorization.k8s.io/rolebindings",
      "rbac.authorization.k8s.io/clusterrolebindings", "autoscaling/horizontalpodautoscalers", "policy/poddisruptionbudgets",
      "scheduling.k8s.io/priorityclasses", "events.k8s.io/events", "apiextensions.k8s.io/customresourcedefinitions",
    ];
    expect(knownResources().map((r) => `${r.group}/${r.plural}`).sort()).toEqual(want.sort());
    expect(hasStatusSubresource("apps", "deployments")).toBe(true);
    expect(hasStatusSubresource("", "configmaps")).toBe(false);
    expect(tracksGeneration("apps", "deployments")).toBe(true);
    expect(tracksGeneration("", "configmaps")).toBe(false);
    expect(isNamespacedKind("", "nodes")).toBe(false);
  });
  it("every table row has exactly one cell per column, even for empty objects", () => {
    for (const r of knownResources()) {
      const s = strategyFor(r.group, r.plural);
      const row = s.table.row({ metadata: { name: "e" } }, NOW);
      expect(row.length, `${r.group}/${r.plural}`).toBe(s.table.columns.length);
      expect(() => s.validateCreate({ metadata: { name: "e" } })).not.toThrow();
      expect(() => s.applyDefaults({ metadata: { name: "e" } })).not.toThrow();
    }
  });
  it("generic strategy for unknown resources", () => {
    const s = strategyFor("example.com", "widgets");
    const o: KubeObject = { metadata: meta("w"), spec: { a: 1 }, status: { b: 2 } };
    s.prepareForCreate(o);
    expect(o.metadata?.generation).toBe(1);
    expect(s.fields(o)).toEqual({ "metadata.name": "w", "metadata.namespace": "default" });
    expect(s.table.row(o, NOW)).toEqual(["w", "45s"]);
    expect(text(s.validateCreate({ metadata: { name: "Bad_Name" } }))[0]).toMatch(/^metadata\.name: Invalid value: "Bad_Name"/);
  });
});

describe("services", () => {
  const s = strategyFor("", "services");
  it("defaults", () => {
    const svc = ready("", "services", { metadata: meta("web"), spec: { selector: { app: "web" }, ports: [{ port: 80 }] } });
    expect(svc.spec).toMatchObject({
      type: "ClusterIP", sessionAffinity: "None", internalTrafficPolicy: "Cluster", ipFamilyPolicy: "SingleStack",
      ipFamilies: ["IPv4"], ports: [{ port: 80, protocol: "TCP", targetPort: 80 }],
    });
    expect(s.validateCreate(svc)).toEqual([]);
  });
  const cases: [string, Record<string, unknown>, string[]][] = [
    ["ports required", { ports: [] }, ["spec.ports: Required value"]],
    ["port range", { ports: [{ port: 0 }] }, ["spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive"]],
    ["type enum", { type: "Foo", ports: [{ port: 80 }] }, ['spec.type: Unsupported value: "Foo": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"']],
    ["names for multiple ports", { ports: [{ port: 80 }, { port: 81, name: "b" }] }, ["spec.ports[0].name: Required value"]],
    ["externalName required", { type: "ExternalName" }, ["spec.externalName: Required value"]],
    ["headless needs no ports", { clusterIP: "None", ports: [] }, []],
  ];
  it.each(cases)("%s", (_n, spec, want) => {
    const svc: KubeObject = { metadata: meta("web"), spec };
    s.applyDefaults(svc);
    expect(text(s.validateCreate(svc))).toEqual(want);
  });
  it("service names are DNS-1035 labels", () => {
    expect(text(s.validateCreate({ metadata: meta("1web"), spec: { ports: [{ port: 80, protocol: "TCP" }], type: "ClusterIP" } }))[0])
      .toMatch(/^metadata\.name: Invalid value: "1web": a DNS-1035 label/);
  });
  it("clusterIP is immutable", () => {
    const old = ready("", "services", { metadata: meta("web"), spec: { ports: [{ port: 80 }], clusterIP: "10.0.0.2", clusterIPs: ["10.0.0.2"] } });
    const upd = structuredClone(old);
    Object.assign(upd.spec as object, { clusterIP: "10.0.0.3", clusterIPs: ["10.0.0.3"] });
    expect(text(s.validateUpdate(upd, old))).toEqual(['spec.clusterIPs[0]: Invalid value: "10.0.0.3": may not change once set']);
  });
  it("fields and rows", () => {
    const svc = ready("", "services", { metadata: meta("web"), spec: { type: "NodePort", clusterIP: "10.0.0.2", clusterIPs: ["10.0.0.2"], selector: { app: "web" }, ports: [{ name: "a", port: 80, nodePort: 30080 }, { name: "b", port: 443, protocol: "TCP" }] } });
    expect(s.fields(svc)).toEqual({ "metadata.name": "web", "metadata.namespace": "default", "spec.clusterIP": "10.0.0.2", "spec.type": "NodePort" });
    expect(s.table.row(svc, NOW)).toEqual(["web", "NodePort", "10.0.0.2", "<none>", "80:30080/TCP,443/TCP", "45s", "app=web"]);
    const lb = ready("", "services", { metadata: meta("lb"), spec: { type: "LoadBalancer", ports: [{ port: 80 }] } });
    expect(s.table.row(lb, NOW).slice(1, 4)).toEqual(["LoadBalancer", "<none>", "<pending>"]);
  });
});

describe("core kinds", () => {
  it("namespaces", () => {
    const s = strategyFor("", "namespaces");
    const ns = ready("", "namespaces", { metadata: meta("team-a", null) });
    expect(ns.spec).toEqual({ finalizers: ["kubernetes"] });
    expect(ns.status).toEqual({ phase: "Active" });
    expect(ns.metadata?.labels).toEqual({ "kubernetes.io/metadata.name": "team-a" });
    expect(s.fields(ns)).toEqual({ "metadata.name": "team-a", "status.phase": "Active", name: "team-a" });
    expect(s.table.row(ns, NOW)).toEqual(["team-a", "Active", "45s"]);
    expect(text(s.validateCreate({ metadata: { name: "a.b" } }))[0]).toMatch(/^metadata\.name: Invalid value: "a\.b": a lowercase RFC 1123 label/);
    expect(text(s.validateCreate({ metadata: { name: "a", namespace: "b" } }))).toEqual(["metadata.namespace: Forbidden: not allowed on this type"]);
  });
  it("nodes", () => {
    const s = strategyFor("", "nodes");
    const n = ready("", "nodes", {
      metadata: { ...meta("n1", null), labels: { "node-role.kubernetes.io/control-plane": "", "node-role.kubernetes.io/worker": "" } },
      spec: { unschedulable: true },
      status: { conditions: [{ type: "Ready", status: "True" }], addresses: [{ type: "InternalIP", address: "192.168.1.10" }],
        nodeInfo: { kubeletVersion: "v1.32.0", osImage: "Debian", kernelVersion: "6.1.0", containerRuntimeVersion: "containerd://1.7.0" }, capacity: { cpu: "2" } },
    });
    expect((n.status as Record<string, unknown>).allocatable).toEqual({ cpu: "2" });
    expect(s.fields(n)).toEqual({ "metadata.name": "n1", "spec.unschedulable": "true" });
    expect(s.table.row(n, NOW)).toEqual(["n1", "Ready,SchedulingDisabled", "control-plane,worker", "45s", "v1.32.0", "192.168.1.10", "<none>", "Debian", "6.1.0", "containerd://1.7.0"]);
    const bad = { metadata: meta("n2", null), spec: { taints: [{ key: "k", effect: "Sometimes" }] } };
    expect(text(s.validateCreate(bad))).toEqual(['spec.taints[0].effect: Unsupported value: "Sometimes": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"']);
  });
  it("configmaps", () => {
    const s = strategyFor("", "configmaps");
    expect(text(s.validateCreate({ metadata: meta(), data: { "bad key": "v", ok: "v" }, binaryData: { ok: "dg==" } }))).toEqual([
      "data[bad key]: Invalid value: \"bad key\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
      'data[ok]: Invalid value: "ok": duplicate of key present in binaryData',
      'binaryData[ok]: Invalid value: "ok": duplicate of key present in data',
    ]);
    expect(text(s.validateCreate({ metadata: meta(), data: { big: "x".repeat(1024 * 1024 + 1) } }))).toEqual([": Too long: may not be more than 1048576 bytes"]);
    const old = { metadata: meta(), data: { a: "1" }, immutable: true };
    expect(text(s.validateUpdate({ metadata: meta(), data: { a: "2" }, immutable: true }, old))).toEqual(["data: Forbidden: field is immutable when `immutable` is set"]);
    expect(s.table.row({ metadata: meta(), data: { a: "1", b: "2" } }, NOW)).toEqual(["x", 2, "45s"]);
  });
  it("secrets", () => {
    const s = strategyFor("", "secrets");
    const sec = ready("", "secrets", { metadata: meta(), stringData: { password: "hé" } });
    expect(sec.type).toBe("Opaque");
    expect(sec.data).toEqual({ password: "aMOp" });
    expect(sec.stringData).toBeUndefined();
    expect(s.fields(sec)).toEqual({ "metadata.name": "x", "metadata.namespace": "default", type: "Opaque" });
    expect(s.table.row(sec, NOW)).toEqual(["x", "Opaque", 1, "45s"]);
    expect(text(s.validateCreate({ metadata: meta(), type: "kubernetes.io/tls", data: {} }))).toEqual(["data[tls.crt]: Required value", "data[tls.key]: Required value"]);
    expect(text(s.validateUpdate({ metadata: meta(), type: "kubernetes.io/tls", data: { "tls.crt": "", "tls.key": "" } }, sec))).toEqual(['type: Invalid value: "kubernetes.io/tls": field is immutable']);
  });
  it("events: fields and row", () => {
    const s = strategyFor("", "events");
    const ev: KubeObject = {
      metadata: meta("web.1"), involvedObject: { kind: "Pod", name: "web", namespace: "default", uid: "p1", apiVersion: "v1", fieldPath: "spec.containers{web}" },
      reason: "Pulled", message: "pulled image ", type: "Normal", source: { component: "kubelet", host: "n1" },
      firstTimestamp: "2026-01-02T23:50:00Z", lastTimestamp: "2026-01-02T23:59:00Z", count: 2,
    };
    expect(s.fields(ev)).toMatchObject({ "involvedObject.name": "web", "involvedObject.uid": "p1", source: "kubelet", type: "Normal", reportingComponent: "" });
    expect(Object.keys(s.fields(ev))).toHaveLength(13);
    expect(s.table.row(ev, NOW)).toEqual(["60s", "Normal", "Pulled", "pod/web", "spec.containers{web}", "kubelet, n1", "pulled image", "10m", 2, "web.1"]);
    expect(text(s.validateCreate({ ...ev, involvedObject: { kind: "Pod", name: "web", namespace: "other" } }))).toEqual(['involvedObject.namespace: Invalid value: "other": does not match event.namespace']);
  });
  it("PVs and PVCs", () => {
    const pvs = strategyFor("", "persistentvolumes");
    const pv = ready("", "persistentvolumes", { metadata: meta("pv1", null), spec: { capacity: { storage: "1Gi" }, accessModes: ["ReadWriteOnce"], hostPath: { path: "/d" }, claimRef: { namespace: "default", name: "c" }, storageClassName: "std" } });
    expect(pv.spec).toMatchObject({ persistentVolumeReclaimPolicy: "Retain", volumeMode: "Filesystem" });
    expect((pv.status as Record<string, unknown>).phase).toBe("Pending");
    expect(pvs.validateCreate(pv)).toEqual([]);
    expect(pvs.fields(pv)).toEqual({ "metadata.name": "pv1", name: "pv1" });
    expect(pvs.table.row(pv, NOW)).toEqual(["pv1", "1Gi", "RWO", "Retain", "Pending", "default/c", "std", "<unset>", "", "45s", "Filesystem"]);
    const pvcs = strategyFor("", "persistentvolumeclaims");
    const pvc = ready("", "persistentvolumeclaims", { metadata: meta("c"), spec: {} });
    expect(text(pvcs.validateCreate(pvc))).toEqual(["spec.accessModes: Required value: at least 1 access mode is required", "spec.resources[storage]: Required value"]);
    expect(pvcs.table.row(pvc, NOW)).toEqual(["c", "Pending", "", "", "", "", "<unset>", "45s", "Filesystem"]);
  });
  it("endpoints, quotas, limitranges, serviceaccounts, podtemplates", () => {
    const ep = { metadata: meta("web"), subsets: [{ addresses: [1, 2, 3, 4, 5].map((i) => ({ ip: `10.0.0.${i}` })), ports: [{ port: 80 }] }] };
    expect(strategyFor("", "endpoints").table.row(ep, NOW)).toEqual(["web", "10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 2 more...", "45s"]);
    expect(text(strategyFor("", "endpoints").validateCreate({ metadata: meta("web"), subsets: [{ addresses: [{ ip: "bad" }], ports: [{ port: 80, protocol: "TCP" }] }] })))
      .toEqual(['subsets[0].addresses[0].ip: Invalid value: "bad": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)']);
    const rq = { metadata: meta("q"), spec: { hard: { cpu: "2", "limits.memory": "2Gi", pods: "10" } }, status: { hard: { cpu: "2", "limits.memory": "2Gi", pods: "10" }, used: { cpu: "500m", pods: "1" } } };
    expect(strategyFor("", "resourcequotas").table.row(rq, NOW)).toEqual(["q", "45s", "cpu: 500m/2, pods: 1/10", "limits.memory: 0/2Gi"]);
    const lr = ready("", "limitranges", { metadata: meta("l"), spec: { limits: [{ type: "Container", max: { cpu: "2" } }] } });
    expect((lr.spec as { limits: unknown[] }).limits[0]).toMatchObject({ default: { cpu: "2" }, defaultRequest: { cpu: "2" } });
    expect(strategyFor("", "limitranges").table.row(lr, NOW)).toEqual(["l", "2026-01-02T23:59:15Z"]);
    expect(strategyFor("", "serviceaccounts").table.row({ metadata: meta("default") }, NOW)).toEqual(["default", 0, "45s"]);
    const pt = ready("", "podtemplates", { metadata: meta("t"), template: { metadata: { labels: { a: "b" } }, spec: { containers: [{ name: "c", image: "i" }] } } });
    expect(strategyFor("", "podtemplates").validateCreate(pt)).toEqual([]);
    expect(strategyFor("", "podtemplates").table.row(pt, NOW)).toEqual(["t", "c", "i", "a=b"]);
  });
});

describe("other groups", () => {
  it("rbac", () => {
    const r = strategyFor("rbac.authorization.k8s.io", "roles");
    expect(text(r.validateCreate({ metadata: meta("system:reader"), rules: [{ apiGroups: [""], resources: ["pods"] }] })))
      .toEqual(["rules[0].verbs: Required value: verbs must contain at least one value"]);
    expect(text(r.validateCreate({ metadata: meta("r"), rules: [{ verbs: ["get"], nonResourceURLs: ["/healthz"] }] })))
      .toEqual(['rules[0].nonResourceURLs: Invalid value: []string{"/healthz"}: namespaced rules cannot apply to non-resource URLs']);
    const b = strategyFor("rbac.authorization.k8s.io", "clusterrolebindings");
    const crb = ready("rbac.authorization.k8s.io", "clusterrolebindings", { metadata: meta("admin", null), roleRef: { kind: "ClusterRole", name: "cluster-admin" }, subjects: [{ kind: "User", name: "alice" }, { kind: "ServiceAccount", name: "sa", namespace: "kube-system" }] });
    expect(b.validateCreate(crb)).toEqual([]);
    expect(b.table.row(crb, NOW)).toEqual(["admin", "ClusterRole/cluster-admin", "45s", "alice", "", "kube-system/sa"]);
    const upd = structuredClone(crb);
    upd.roleRef = { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "view" };
    expect(text(b.validateUpdate(upd, crb))[0]).toMatch(/^roleRef: Invalid value: .*: cannot change roleRef$/);
    expect(text(b.validateCreate({ metadata: meta("x", null), roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "r" } })))
      .toEqual(['roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"']);
  });
  it("networking", () => {
    const ing = strategyFor("networking.k8s.io", "ingresses");
    const o: KubeObject = { metadata: meta("web"), spec: { ingressClassName: "nginx", tls: [{ hosts: ["a.example.com"] }], rules: [{ host: "a.example.com", http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "web", port: { number: 80 } } } }] } }] } };
    expect(ing.validateCreate(o)).toEqual([]);
    expect(ing.table.row(o, NOW)).toEqual(["web", "nginx", "a.example.com", "", "80, 443", "45s"]);
    const bad: KubeObject = { metadata: meta("web"), spec: { rules: [{ http: { paths: [{ path: "/", backend: { service: { name: "web", port: { number: 80 } } } }] } }] } };
    expect(text(ing.validateCreate(bad))).toEqual(["spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified"]);
    const np = ready("networking.k8s.io", "networkpolicies", { metadata: meta("deny"), spec: { podSelector: { matchLabels: { app: "db" } } } });
    expect((np.spec as Record<string, unknown>).policyTypes).toEqual(["Ingress"]);
    expect(strategyFor("networking.k8s.io", "networkpolicies").table.row(np, NOW)).toEqual(["deny", "app=db", "45s"]);
  });
  it("leases, slices, hpa, pdb, priorityclasses, events.k8s.io", () => {
    const l = strategyFor("coordination.k8s.io", "leases");
    expect(l.table.row({ metadata: meta("n1"), spec: { holderIdentity: "n1" } }, NOW)).toEqual(["n1", "n1", "45s"]);
    expect(text(l.validateCreate({ metadata: meta("n1"), spec: { leaseDurationSeconds: 0 } }))).toEqual(["spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0"]);
    const es = strategyFor("discovery.k8s.io", "endpointslices");
    expect(es.table.row({ metadata: meta("web-abc"), addressType: "IPv4", ports: [{ port: 80 }], endpoints: [{ addresses: ["10.0.0.1"] }] }, NOW)).toEqual(["web-abc", "IPv4", "80", "10.0.0.1", "45s"]);
    expect(text(es.validateCreate({ metadata: meta("s"), addressType: "IPv5" }))).toEqual(['addressType: Unsupported value: "IPv5": supported values: "IPv4", "IPv6", "FQDN"']);
    const hpa = ready("autoscaling", "horizontalpodautoscalers", { metadata: meta("web"), spec: { scaleTargetRef: { kind: "Deployment", name: "web" }, maxReplicas: 5 } });
    expect((hpa.spec as Record<string, unknown>).minReplicas).toBe(1);
    expect(strategyFor("autoscaling", "horizontalpodautoscalers").table.row(hpa, NOW)).toEqual(["web", "Deployment/web", "cpu: <unknown>/80%", "1", 5, 0, "45s"]);
    const pdb = strategyFor("policy", "poddisruptionbudgets");
    expect(pdb.table.row({ metadata: meta("p"), spec: { minAvailable: "50%" }, status: { disruptionsAllowed: 1 } }, NOW)).toEqual(["p", "50%", "N/A", 1, "45s"]);
    expect(text(pdb.validateCreate({ metadata: meta("p"), spec: { minAvailable: 1, maxUnavailable: 1 } }))[0]).toMatch(/^spec: Invalid value: .*: minAvailable and maxUnavailable cannot be both set$/);
    const pc = ready("scheduling.k8s.io", "priorityclasses", { metadata: meta("high", null), value: 2000000000 });
    expect(pc.preemptionPolicy).toBe("PreemptLowerPriority");
    expect(text(strategyFor("scheduling.k8s.io", "priorityclasses").validateCreate(pc))).toEqual(["value: Forbidden: maximum allowed value of a user defined priority is 1000000000"]);
    const ev = strategyFor("events.k8s.io", "events");
    const e: KubeObject = { metadata: meta("e"), eventTime: "2026-01-02T23:59:00.000000Z", reportingController: "kubelet", reportingInstance: "n1", action: "Pull", reason: "Pulled", type: "Normal", note: "ok", regarding: { kind: "Pod", name: "web", namespace: "default" } };
    expect(ev.validateCreate(e)).toEqual([]);
    expect(ev.fields(e)["involvedObject.name"]).toBe("web");
    expect(ev.table.row(e, NOW)).toEqual(["60s", "Normal", "Pulled", "pod/web", "", "kubelet, n1", "ok", "60s", 1, "e"]);
  });
});
