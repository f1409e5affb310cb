import { describe, expect, it } from "vitest";
import { hasProto } from "./codec/mod.ts";
import { allBodyKinds, allKinds, bodyKind, kindByGvk, kindByListGvk, kindByResource, kindsByName } from "./registry.ts";

describe("registry", () => {
  it("has the core kinds with upstream names, scope, short names and subresources", () => {
    const pod = kindByResource("", "v1", "pods")!;
    expect(pod).toMatchObject({
      group: "", version: "v1", apiVersion: "v1", kind: "Pod", listKind: "PodList", plural: "pods", singular: "pod",
      namespaced: true, shortNames: ["po"], categories: ["all"], protoMessage: "k8s.io.api.core.v1.Pod",
      listProtoMessage: "k8s.io.api.core.v1.PodList",
    });
    expect(pod.subresources).toEqual(expect.arrayContaining(["status", "binding", "log", "exec", "attach", "portforward", "eviction", "proxy"]));
    expect(kindByGvk("v1", "Node")).toMatchObject({ plural: "nodes", namespaced: false, shortNames: ["no"], subresources: ["status", "proxy"] });
    expect(kindByGvk("v1", "Namespace")).toMatchObject({ namespaced: false, shortNames: ["ns"], subresources: ["status", "finalize"] });
    for (const [plural, short] of [["services", "svc"], ["configmaps", "cm"], ["endpoints", "ep"], ["serviceaccounts", "sa"],
      ["events", "ev"], ["resourcequotas", "quota"], ["limitranges", "limits"], ["persistentvolumes", "pv"], ["persistentvolumeclaims", "pvc"]] as const) {
      expect(kindByResource("", "v1", plural)?.shortNames).toContain(short);
    }
  });
  it("resolves names like kubectl: plural, singular, short name, kind, group-qualified", () => {
    expect(kindsByName("po").map((k) => k.kind)).toEqual(["Pod"]);
    expect(kindsByName("Pod")[0]!.plural).toBe("pods");
    expect(kindsByName("svc")[0]!.kind).toBe("Service");
    const events = kindsByName("events");
    expect(events[0]!.group).toBe("");
    if (kindByResource("apps", "v1", "deployments")) {
      expect(kindsByName("deploy.apps")[0]!.kind).toBe("Deployment");
      expect(kindsByName("deployments.apps")[0]!.kind).toBe("Deployment");
    }
    expect(kindsByName("nope")).toEqual([]);
  });
  it("lists, bodies and hasProto agree", () => {
    expect(kindByListGvk("v1", "PodList")!.kind).toBe("Pod");
    expect(bodyKind("v1", "Status")!.protoMessage).toBe("k8s.io.apimachinery.pkg.apis.meta.v1.Status");
    expect(bodyKind("meta.k8s.io/v1", "Table")).toBeDefined();
    expect(bodyKind("v1", "Binding")).toBeDefined();
    expect(bodyKind("v1", "DeleteOptions")).toBeDefined();
    for (const k of allKinds()) {
      expect(hasProto(k.apiVersion, k.kind)).toBe(true);
      expect(hasProto(k.apiVersion, k.listKind)).toBe(true);
    }
    for (const b of allBodyKinds()) expect(hasProto(b.apiVersion, b.kind)).toBe(true);
    expect(hasProto("v1", "Nope")).toBe(false);
  });
  it("no two kinds share a resource path or a GVK, and the order is stable", () => {
    const paths = allKinds().map((k) => `${k.group}/${k.version}/${k.plural}`);
    expect(new Set(paths).size).toBe(paths.length);
    expect(allKinds()[0]!.group).toBe("");
  });
});
