import { describe, expect, it } from "vitest";
import type { EndpointSlice } from "../../api/generated/discovery_v1.ts";
import type { Endpoints, Node, Pod, Service } from "../../api/generated/core_v1.ts";
import type { KubeObject } from "../../api/object.ts";
import { ENDPOINTS, ENDPOINTSLICES, NODES, PODS, SERVICES } from "../framework/resources.ts";
import { fakeKit } from "../framework/testing.ts";
import { EndpointsController } from "../endpoints/controller.ts";
import { desiredEndpoints, desiredSubsets } from "../endpoints/endpoints.ts";
import { EndpointSliceController } from "./controller.ts";
import { lastChangeTriggerTime, resolveTargetPort, shouldPodBeInEndpoints } from "./endpoints.ts";
import { desiredGroups, reconcileSlices } from "./reconcile.ts";

function svc(extra: Record<string, unknown> = {}): Service {
  return {
    apiVersion: "v1", kind: "Service",
    metadata: { name: "web", namespace: "default", uid: "uid-svc", resourceVersion: "1", creationTimestamp: "2024-01-01T00:00:00Z", labels: { team: "a" } },
    spec: { selector: { app: "web" }, ports: [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }], clusterIP: "10.0.0.1", ipFamilies: ["IPv4"], ...extra },
  } as Service;
}

function p(name: string, ip: string | undefined, o: { ready?: boolean; deleting?: boolean; phase?: string; node?: string; portName?: string; hostname?: string } = {}): Pod {
  return {
    apiVersion: "v1", kind: "Pod",
    metadata: { name, namespace: "default", uid: `uid-${name}`, resourceVersion: "1", labels: { app: "web" }, creationTimestamp: "2024-01-01T00:00:00Z", ...(o.deleting ? { deletionTimestamp: "2024-01-01T00:01:00Z" } : {}) },
    spec: { nodeName: o.node ?? "n1", containers: [{ name: "c", ports: [{ name: o.portName ?? "http", containerPort: 8080, protocol: "TCP" }] }], ...(o.hostname ? { hostname: o.hostname, subdomain: "web" } : {}) },
    status: { phase: o.phase ?? "Running", ...(ip ? { podIP: ip, podIPs: [{ ip }] } : {}), conditions: [{ type: "Ready", status: o.ready === false ? "False" : "True", lastTransitionTime: "2024-01-01T00:00:30Z" }] },
  } as Pod;
}

const nodes = new Map<string, Node>([["n1", { metadata: { name: "n1", labels: { "topology.kubernetes.io/zone": "z1" } } } as Node]]);

describe("endpoint facts", () => {
  it.each([
    ["running with ip", p("a", "10.1.0.1"), false, true],
    ["no ip", p("a", undefined), false, false],
    ["succeeded", p("a", "10.1.0.1", { phase: "Succeeded" }), true, false],
    ["terminating excluded", p("a", "10.1.0.1", { deleting: true }), false, false],
    ["terminating included", p("a", "10.1.0.1", { deleting: true }), true, true],
  ])("shouldPodBeInEndpoints: %s", (_n, pod, incl, want) => {
    expect(shouldPodBeInEndpoints(pod, incl)).toBe(want);
  });

  it.each([
    [{ port: 80 }, 80], [{ port: 80, targetPort: 9090 }, 9090], [{ port: 80, targetPort: "http" }, 8080], [{ port: 80, targetPort: "nope" }, undefined],
    [{ port: 80, targetPort: "http", protocol: "UDP" }, undefined],
  ])("resolveTargetPort(%j)", (sp, want) => {
    expect(resolveTargetPort(sp, p("a", "1.1.1.1"))).toBe(want);
  });
});

describe("endpointslice reconcile", () => {
  it("builds endpoints with conditions, zone, node, targetRef and hostname", () => {
    const g = desiredGroups(svc(), [p("a", "10.1.0.1", { hostname: "a" }), p("b", "10.1.0.2", { ready: false }), p("c", "10.1.0.3", { deleting: true })], nodes);
    expect(g.size).toBe(1);
    const [group] = [...g.values()];
    expect(group?.ports).toEqual([{ name: "http", protocol: "TCP", port: 8080 }]);
    expect([...group!.endpoints.values()]).toEqual([
      { addresses: ["10.1.0.1"], conditions: { ready: true, serving: true, terminating: false }, hostname: "a", targetRef: { kind: "Pod", namespace: "default", name: "a", uid: "uid-a" }, nodeName: "n1", zone: "z1" },
      { addresses: ["10.1.0.2"], conditions: { ready: false, serving: false, terminating: false }, targetRef: { kind: "Pod", namespace: "default", name: "b", uid: "uid-b" }, nodeName: "n1", zone: "z1" },
      { addresses: ["10.1.0.3"], conditions: { ready: false, serving: true, terminating: true }, targetRef: { kind: "Pod", namespace: "default", name: "c", uid: "uid-c" }, nodeName: "n1", zone: "z1" },
    ]);
  });

  it("pods with different port mappings go to different slices", () => {
    const g = desiredGroups(svc(), [p("a", "10.1.0.1"), p("b", "10.1.0.2", { portName: "other" })], nodes);
    expect([...g.values()].map((x) => x.ports.length).sort()).toEqual([0, 1]);
  });

  it("at most 100 endpoints per slice; labels, owner, trigger time", () => {
    const pods = Array.from({ length: 250 }, (_, i) => p(`p${i}`, `10.1.${Math.floor(i / 250)}.${i}`));
    const plan = reconcileSlices(svc(), [], desiredGroups(svc(), pods, nodes), "2024-01-01T00:00:30Z");
    expect(plan.create.map((s) => s.endpoints?.length)).toEqual([100, 100, 50]);
    const s = plan.create[0]!;
    expect(s.metadata?.labels).toEqual({ team: "a", "kubernetes.io/service-name": "web", "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io" });
    expect(s.metadata?.generateName).toBe("web-");
    expect(s.metadata?.annotations).toEqual({ "endpoints.kubernetes.io/last-change-trigger-time": "2024-01-01T00:00:30Z" });
    expect(s.metadata?.ownerReferences?.[0]).toMatchObject({ kind: "Service", name: "web", controller: true });
    expect(s.addressType).toBe("IPv4");
  });

  it("minimal churn: unchanged slices untouched, a new endpoint fills a slice with room, removals update in place", () => {
    const pods = Array.from({ length: 150 }, (_, i) => p(`p${i}`, `10.1.0.${i}`));
    const first = reconcileSlices(svc(), [], desiredGroups(svc(), pods, nodes), undefined);
    const existing = first.create.map((s, i) => ({ ...s, metadata: { ...s.metadata, name: `web-${i}` } }));
    expect(reconcileSlices(svc(), existing, desiredGroups(svc(), pods, nodes), undefined)).toEqual({ create: [], update: [], delete: [] });
    const more = reconcileSlices(svc(), existing, desiredGroups(svc(), [...pods, p("new", "10.2.0.1")], nodes), undefined);
    expect(more.create).toEqual([]);
    expect(more.update.map((s) => [s.metadata?.name, s.endpoints?.length])).toEqual([["web-1", 51]]);
    const fewer = reconcileSlices(svc(), existing, desiredGroups(svc(), pods.slice(1), nodes), undefined);
    expect(fewer.update.map((s) => [s.metadata?.name, s.endpoints?.length])).toEqual([["web-0", 99]]);
    const gone = reconcileSlices(svc(), existing, desiredGroups(svc(), pods.slice(0, 100), nodes), undefined);
    expect(gone.delete.map((s) => s.metadata?.name)).toEqual(["web-1"]);
  });

  it("no endpoints: one empty placeholder slice", () => {
    const plan = reconcileSlices(svc(), [], desiredGroups(svc(), [], nodes), undefined);
    expect(plan.create).toHaveLength(1);
    expect(plan.create[0]?.endpoints).toEqual([]);
    expect(plan.create[0]?.ports).toBeUndefined();
    const existing = [{ ...plan.create[0]!, metadata: { ...plan.create[0]!.metadata, name: "web-x" } }];
    expect(reconcileSlices(svc(), existing, desiredGroups(svc(), [], nodes), undefined)).toEqual({ create: [], update: [], delete: [] });
  });
});

describe("legacy endpoints", () => {
  it("ready in addresses, not ready in notReadyAddresses, terminating left out, sorted by IP", () => {
    const { subsets, truncated } = desiredSubsets(svc(), [p("b", "10.1.0.10"), p("a", "10.1.0.9"), p("c", "10.1.0.3", { ready: false }), p("d", "10.1.0.4", { deleting: true })]);
    expect(truncated).toBe(false);
    expect(subsets).toEqual([{
      addresses: [
        { ip: "10.1.0.9", nodeName: "n1", targetRef: { kind: "Pod", namespace: "default", name: "a", uid: "uid-a" } },
        { ip: "10.1.0.10", nodeName: "n1", targetRef: { kind: "Pod", namespace: "default", name: "b", uid: "uid-b" } },
      ],
      notReadyAddresses: [{ ip: "10.1.0.3", nodeName: "n1", targetRef: { kind: "Pod", namespace: "default", name: "c", uid: "uid-c" } }],
      ports: [{ name: "http", port: 8080, protocol: "TCP" }],
    }]);
  });

  it("publishNotReadyAddresses puts everything in addresses", () => {
    const { subsets } = desiredSubsets(svc({ publishNotReadyAddresses: true }), [p("c", "10.1.0.3", { ready: false })]);
    expect(subsets[0]?.addresses?.map((a) => a.ip)).toEqual(["10.1.0.3"]);
  });

  it("truncates beyond the cap (ready first) and annotates; no write when nothing changed", () => {
    const pods = [p("r1", "10.0.0.1"), p("r2", "10.0.0.2"), p("n1", "10.0.0.3", { ready: false })];
    const e = desiredEndpoints(svc(), pods, undefined, "T1", 2)!;
    expect(e.metadata?.annotations).toEqual({ "endpoints.kubernetes.io/over-capacity": "truncated", "endpoints.kubernetes.io/last-change-trigger-time": "T1" });
    expect(e.subsets?.[0]?.addresses).toHaveLength(2);
    expect(e.subsets?.[0]?.notReadyAddresses).toBeUndefined();
    expect(desiredEndpoints(svc(), pods, e, "T2", 2)).toBeUndefined();
    const fewer = desiredEndpoints(svc(), pods.slice(0, 2), e, "T3", 2)!;
    expect(fewer.metadata?.annotations).toEqual({ "endpoints.kubernetes.io/last-change-trigger-time": "T3" });
  });

  it("trigger time is the latest pod change", () => {
    expect(lastChangeTriggerTime(svc(), [p("a", "1.1.1.1")])).toBe("2024-01-01T00:00:30Z");
  });
});

describe("controllers", () => {
  function setup() {
    const k = fakeKit();
    const es = new EndpointSliceController(k.ctx, k.queue);
    const ep = new EndpointsController(k.ctx, k.queue);
    k.informers.seed(SERVICES, svc() as KubeObject);
    k.informers.seed(NODES, nodes.get("n1") as KubeObject);
    return { ...k, es, ep };
  }

  it("a pod event enqueues matching services; sync writes slices and endpoints", async () => {
    const k = setup();
    k.informers.add(PODS, p("a", "10.1.0.1") as KubeObject);
    k.informers.add(PODS, { ...(p("x", "10.1.0.2") as KubeObject), metadata: { name: "x", namespace: "default", labels: { app: "other" } } });
    expect(k.queue.keys).toEqual(["default/web"]);
    await k.es.sync("default/web");
    await k.ep.sync("default/web");
    expect(k.writer.summary()).toEqual([expect.stringMatching(/^create endpointslices default\/web-\w+$/), "create endpoints default/web"]);
    const ep = k.writer.stored(ENDPOINTS, "default", "web") as Endpoints | undefined;
    expect(ep?.subsets?.[0]?.addresses?.[0]?.ip).toBe("10.1.0.1");
  });

  it("the slice controller waits for its own creations to show in the cache", async () => {
    const k = setup();
    k.informers.seed(PODS, p("a", "10.1.0.1") as KubeObject);
    await k.es.sync("default/web");
    expect(await k.es.sync("default/web")).toEqual({ requeueAfterMs: 100 });
    expect(k.writer.writes("create", "endpointslices")).toHaveLength(1);
    const created = k.writer.all(ENDPOINTSLICES)[0]!;
    k.informers.add(ENDPOINTSLICES, created);
    await k.es.sync("default/web");
    expect(k.writer.writes("create", "endpointslices")).toHaveLength(1);
    expect(k.writer.writes("update", "endpointslices")).toHaveLength(0);
    const slice = created as EndpointSlice;
    expect(slice.endpoints).toHaveLength(1);
  });

  it("services without a selector are not managed; a deleted service's Endpoints are deleted", async () => {
    const k = setup();
    k.informers.replace(SERVICES, [svc({ selector: undefined }) as KubeObject]);
    await k.es.sync("default/web");
    await k.ep.sync("default/web");
    expect(k.writer.summary()).toEqual([]);
    k.informers.replace(SERVICES, []);
    k.informers.seed(ENDPOINTS, { apiVersion: "v1", kind: "Endpoints", metadata: { name: "web", namespace: "default" } });
    await k.ep.sync("default/web");
    expect(k.writer.summary()).toEqual(["delete endpoints default/web"]);
  });
});
