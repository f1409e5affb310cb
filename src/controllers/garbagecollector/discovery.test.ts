import { describe, expect, it } from "vitest";
import { CachedDiscovery, parseAggregatedDiscovery, preferredResources, type DiscoveredResource } from "./discovery.ts";

const doc = {
  kind: "APIGroupDiscoveryList", apiVersion: "apidiscovery.k8s.io/v2", metadata: {},
  items: [
    { metadata: { name: "stable.example.com" }, versions: [
      { version: "v2", resources: [{ resource: "crontabs", responseKind: { group: "stable.example.com", version: "v2", kind: "CronTab" }, scope: "Namespaced", verbs: ["list", "watch", "delete"], subresources: [{ subresource: "status" }] }] },
      { version: "v1", resources: [
        { resource: "crontabs", responseKind: { group: "stable.example.com", version: "v1", kind: "CronTab" }, scope: "Namespaced", verbs: ["list"] },
        { resource: "olds", responseKind: { kind: "Old" }, scope: "Cluster", verbs: ["get"] },
      ] },
    ] },
  ],
};

describe("parseAggregatedDiscovery", () => {
  it("flattens groups, versions and resources (subresources left out)", () => {
    const rs = parseAggregatedDiscovery(doc);
    expect(rs.map((r) => `${r.group}/${r.version}/${r.plural}:${r.kind}:${r.namespaced}`)).toEqual([
      "stable.example.com/v2/crontabs:CronTab:true", "stable.example.com/v1/crontabs:CronTab:true", "stable.example.com/v1/olds:Old:false",
    ]);
    expect(rs[0]?.verbs).toEqual(["list", "watch", "delete"]);
  });

  it("the core group has no name", () => {
    const rs = parseAggregatedDiscovery({ kind: "APIGroupDiscoveryList", items: [{ metadata: {}, versions: [{ version: "v1", resources: [{ resource: "pods", responseKind: { kind: "Pod" }, scope: "Namespaced", verbs: [] }] }] }] });
    expect(rs[0]).toMatchObject({ group: "", version: "v1", plural: "pods" });
  });

  it.each([
    ["not a list", { kind: "APIGroupList" }, /expected an APIGroupDiscoveryList, got APIGroupList/],
    ["not an object", "x", /got string/],
    ["items not a list", { kind: "APIGroupDiscoveryList", items: {} }, /\.items is not a list/],
    ["no version", { kind: "APIGroupDiscoveryList", items: [{ versions: [{}] }] }, /items\[0\]\.versions\[0\] has no version/],
    ["no resource", { kind: "APIGroupDiscoveryList", items: [{ versions: [{ version: "v1", resources: [{}] }] }] }, /resources\[0\] has no resource name/],
    ["no kind", { kind: "APIGroupDiscoveryList", items: [{ versions: [{ version: "v1", resources: [{ resource: "x" }] }] }] }, /has no responseKind\.kind/],
  ])("rejects %s", (_n, bad, msg) => {
    expect(() => parseAggregatedDiscovery(bad)).toThrow(msg);
  });

  it("preferredResources keeps the first version of each group/resource", () => {
    expect(preferredResources(parseAggregatedDiscovery(doc)).map((r) => `${r.version}/${r.plural}`)).toEqual(["v2/crontabs", "v1/olds"]);
  });
});

describe("CachedDiscovery", () => {
  const one: DiscoveredResource[] = [{ group: "a.io", version: "v1", plural: "xs", kind: "X", namespaced: true, verbs: [] }];

  it("caches for maxAge, coalesces concurrent fetches, refetches after invalidate", async () => {
    let t = 0;
    let calls = 0;
    const d = new CachedDiscovery(async () => { calls++; return one; }, () => t);
    expect(d.cached()).toEqual([]);
    const [a, b] = await Promise.all([d.resources(), d.resources()]);
    expect(a).toBe(b);
    expect(calls).toBe(1);
    t = 29_999;
    await d.resources();
    expect(calls).toBe(1);
    t = 30_001;
    await d.resources();
    expect(calls).toBe(2);
    d.invalidate();
    await d.resources();
    expect(calls).toBe(3);
    await d.resources(0);
    expect(calls).toBe(3); // same clock instant: age 0
    t += 1;
    await d.resources(0);
    expect(calls).toBe(4);
    expect(d.fetches).toBe(4);
  });

  it("a failed fetch rejects and the next call tries again", async () => {
    let fail = true;
    const d = new CachedDiscovery(async () => { if (fail) throw new Error("boom"); return one; }, () => 0);
    await expect(d.resources()).rejects.toThrow("boom");
    fail = false;
    expect(await d.resources()).toEqual(one);
  });
});
