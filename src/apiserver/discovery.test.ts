import { describe, it, expect } from "vitest";
import { aggregatedDiscovery, apiGroupList, apiResourceList, storageVersionHash } from "./discovery.ts";
import type { KindInfo } from "./ports.ts";

const k = (group: string, kind: string, plural: string, namespaced: boolean, subresources: string[] = [], shortNames: string[] = []): KindInfo => ({
  group, version: "v1", kind, listKind: `${kind}List`, plural, singular: kind.toLowerCase(), namespaced, shortNames, categories: ["all"], subresources,
});
const kinds = [k("", "Pod", "pods", true, ["status", "log", "binding"], ["po"]), k("", "Node", "nodes", false), k("apps", "Deployment", "deployments", true, ["status", "scale"], ["deploy"])];

describe("discovery documents", () => {
  it("APIResourceList with subresources", () => {
    const doc = apiResourceList(kinds, "apps", "v1") as { groupVersion: string; resources: Record<string, unknown>[] };
    expect(doc.groupVersion).toBe("apps/v1");
    expect(doc.resources.map((r) => r["name"])).toEqual(["deployments", "deployments/scale", "deployments/status"]);
    expect(doc.resources[1]).toMatchObject({ kind: "Scale", group: "autoscaling", version: "v1", verbs: ["get", "patch", "update"] });
    expect(doc.resources[0]).toMatchObject({ shortNames: ["deploy"], singularName: "deployment", namespaced: true });
    expect(apiResourceList(kinds, "nope", "v1")).toBeUndefined();
    const core = apiResourceList(kinds, "", "v1") as { groupVersion: string; resources: Record<string, unknown>[] };
    expect(core.groupVersion).toBe("v1");
    expect(core.resources.find((r) => r["name"] === "pods/binding")).toMatchObject({ kind: "Binding", verbs: ["create"] });
  });
  it("APIGroupList excludes the core group", () => {
    const l = apiGroupList(kinds) as { groups: { name: string; preferredVersion: unknown }[] };
    expect(l.groups.map((g) => g.name)).toEqual(["apps"]);
    expect(l.groups[0]?.preferredVersion).toEqual({ groupVersion: "apps/v1", version: "v1" });
  });
  it("aggregated discovery splits /api and /apis", () => {
    const api = aggregatedDiscovery(kinds, "api", "v2") as { apiVersion: string; items: { metadata: object; versions: { resources: { resource: string; scope: string }[] }[] }[] };
    expect(api.apiVersion).toBe("apidiscovery.k8s.io/v2");
    expect(api.items).toHaveLength(1);
    expect(api.items[0]?.metadata).toEqual({ creationTimestamp: null });
    expect(api.items[0]?.versions[0]?.resources.map((r) => `${r.resource}:${r.scope}`)).toEqual(["pods:Namespaced", "nodes:Cluster"]);
    const apis = aggregatedDiscovery(kinds, "apis", "v2beta1") as { items: { metadata: { name: string } }[] };
    expect(apis.items.map((i) => i.metadata.name)).toEqual(["apps"]);
  });
  it("storageVersionHash is stable base64 of 8 bytes", () => {
    expect(storageVersionHash("apps", "v1", "Deployment")).toMatch(/^[A-Za-z0-9+/]{11}=$/);
    expect(storageVersionHash("apps", "v1", "Deployment")).toBe(storageVersionHash("apps", "v1", "Deployment"));
  });
});
