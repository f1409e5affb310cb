import { describe, expect, it } from "vitest";
import { attrs, pod } from "../_fakehost.ts";
import { defaultTolerationSeconds } from "./defaulttolerationseconds.ts";

const p = defaultTolerationSeconds();
const run = (spec: Record<string, unknown>, operation: "CREATE" | "UPDATE" = "CREATE") => {
  const obj = pod("p", spec);
  p.admit(attrs({ operation, resource: "pods", kind: "Pod", namespace: "default", object: obj }));
  return (obj["spec"] as { tolerations?: unknown[] }).tolerations;
};

describe("DefaultTolerationSeconds", () => {
  it("adds both NoExecute tolerations with 300 s in upstream's shape", () => {
    expect(JSON.stringify(run({}))).toBe(JSON.stringify([
      { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
      { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
    ]));
  });
  it("keeps an existing toleration and adds only the missing one", () => {
    const own = { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 10 };
    expect(run({ tolerations: [own] })).toEqual([own, { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 }]);
  });
  it("a wildcard key or empty effect counts as tolerating", () => {
    expect(run({ tolerations: [{ operator: "Exists" }] })).toEqual([{ operator: "Exists" }]);
    expect(run({ tolerations: [{ key: "node.kubernetes.io/unreachable", operator: "Exists" }] })).toHaveLength(2);
  });
  it("a NoSchedule toleration does not count", () => {
    expect(run({ tolerations: [{ key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoSchedule" }] })).toHaveLength(3);
  });
  it("runs on update, ignores subresources and other resources, honors custom seconds", () => {
    expect(run({}, "UPDATE")).toHaveLength(2);
    expect(p.handles("CREATE", attrs({ operation: "CREATE", resource: "pods", kind: "Pod", subresource: "status" }))).toBe(false);
    expect(p.handles("CREATE", attrs({ operation: "CREATE", resource: "configmaps", kind: "ConfigMap" }))).toBe(false);
    expect(p.handles("DELETE", attrs({ operation: "DELETE", resource: "pods", kind: "Pod" }))).toBe(false);
    const q = defaultTolerationSeconds({ notReadySeconds: 5, unreachableSeconds: 7 });
    const obj = pod("p");
    q.admit(attrs({ operation: "CREATE", resource: "pods", kind: "Pod", namespace: "default", object: obj }));
    expect((obj["spec"] as { tolerations: { tolerationSeconds: number }[] }).tolerations.map((t) => t.tolerationSeconds)).toEqual([5, 7]);
  });
});
