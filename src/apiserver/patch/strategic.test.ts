import { describe, it, expect } from "vitest";
import { applyStrategicMergePatch, type MergeKeyLookup } from "./strategic.ts";
import { PatchError } from "./jsonpatch.ts";

const lookup: MergeKeyLookup = (path) => {
  if (path.endsWith("containers") || path.endsWith("env") || path.endsWith("volumes")) return { mergeKey: "name", merge: true };
  if (path.endsWith("ports")) return { mergeKey: "containerPort", merge: true };
  if (path === "metadata.finalizers") return { merge: true };
  return undefined;
};

const deploy = {
  metadata: { name: "web", labels: { app: "web" }, finalizers: ["a"] },
  spec: {
    replicas: 1,
    template: { spec: { containers: [{ name: "nginx", image: "nginx:1", ports: [{ containerPort: 80 }] }, { name: "side", image: "busybox" }] } },
  },
};

describe("strategic merge patch", () => {
  it("merges containers by name (kubectl set image)", () => {
    const out = applyStrategicMergePatch(deploy, { spec: { template: { spec: { containers: [{ name: "nginx", image: "nginx:2" }] } } } }, lookup);
    expect(out).toMatchObject({ spec: { template: { spec: { containers: [{ name: "nginx", image: "nginx:2", ports: [{ containerPort: 80 }] }, { name: "side", image: "busybox" }] } } } });
  });
  it("appends new keyed elements and deletes with $patch: delete", () => {
    const out = applyStrategicMergePatch(deploy, {
      spec: { template: { spec: { containers: [{ name: "side", $patch: "delete" }, { name: "new", image: "x" }] } } },
    }, lookup) as { spec: { template: { spec: { containers: { name: string }[] } } } };
    expect(out.spec.template.spec.containers.map((c) => c.name)).toEqual(["nginx", "new"]);
  });
  it("null deletes map keys; maps merge; $setElementOrder ignored", () => {
    const out = applyStrategicMergePatch(deploy, {
      metadata: { labels: { app: null, tier: "fe" } },
      spec: { replicas: 3, template: { spec: { "$setElementOrder/containers": [{ name: "nginx" }] } } },
    }, lookup);
    expect(out).toMatchObject({ metadata: { labels: { tier: "fe" } }, spec: { replicas: 3 } });
    expect((out as { metadata: { labels: object } }).metadata.labels).toEqual({ tier: "fe" });
  });
  it("$patch: replace replaces a map", () => {
    const out = applyStrategicMergePatch(deploy, { metadata: { labels: { x: "1", $patch: "replace" } } }, lookup);
    expect((out as { metadata: { labels: object } }).metadata.labels).toEqual({ x: "1" });
  });
  it("primitive merge lists union; $deleteFromPrimitiveList removes", () => {
    const a = applyStrategicMergePatch(deploy, { metadata: { finalizers: ["b"] } }, lookup) as { metadata: { finalizers: string[] } };
    expect(a.metadata.finalizers).toEqual(["a", "b"]);
    const b = applyStrategicMergePatch(a, { metadata: { "$deleteFromPrimitiveList/finalizers": ["a"] } }, lookup) as { metadata: { finalizers: string[] } };
    expect(b.metadata.finalizers).toEqual(["b"]);
  });
  it("lists without merge metadata replace", () => {
    const out = applyStrategicMergePatch({ spec: { args: ["a", "b"] } }, { spec: { args: ["c"] } }, lookup);
    expect(out).toEqual({ spec: { args: ["c"] } });
  });
  it("rejects bad input", () => {
    expect(() => applyStrategicMergePatch(deploy, [1], lookup)).toThrow(PatchError);
    expect(() => applyStrategicMergePatch(deploy, { spec: { template: { spec: { containers: [{ image: "x" }] } } } }, lookup)).toThrow(/merge key/);
    expect(() => applyStrategicMergePatch(deploy, { metadata: { $patch: "frob" } }, lookup)).toThrow(/unknown patch type/);
    expect(() => applyStrategicMergePatch(deploy, { $frob: 1 }, lookup)).toThrow(/unknown patch directive/);
  });
});
