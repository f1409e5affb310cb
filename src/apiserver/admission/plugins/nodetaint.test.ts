import { describe, expect, it } from "vitest";
import { attrs } from "../_fakehost.ts";
import { taintNodesByCondition } from "./nodetaint.ts";

const p = taintNodesByCondition();
const node = (spec: Record<string, unknown> = {}) => ({ apiVersion: "v1", kind: "Node", metadata: { name: "n1" }, spec });

describe("TaintNodesByCondition", () => {
  it("taints a new node not-ready:NoSchedule", () => {
    const n = node();
    p.admit(attrs({ operation: "CREATE", resource: "nodes", kind: "Node", object: n }));
    expect(n.spec).toEqual({ taints: [{ key: "node.kubernetes.io/not-ready", effect: "NoSchedule" }] });
  });
  it("keeps other taints and does not duplicate (matched by key and effect)", () => {
    const other = { key: "dedicated", value: "x", effect: "NoSchedule" };
    const n = node({ taints: [other] });
    p.admit(attrs({ operation: "CREATE", resource: "nodes", kind: "Node", object: n }));
    expect(n.spec["taints"]).toEqual([other, { key: "node.kubernetes.io/not-ready", effect: "NoSchedule" }]);
    const m = node({ taints: [{ key: "node.kubernetes.io/not-ready", value: "", effect: "NoSchedule" }] });
    p.admit(attrs({ operation: "CREATE", resource: "nodes", kind: "Node", object: m }));
    expect(m.spec["taints"]).toHaveLength(1);
  });
  it("only node creates", () => {
    expect(p.handles("UPDATE", attrs({ operation: "UPDATE", resource: "nodes", kind: "Node" }))).toBe(false);
    expect(p.handles("CREATE", attrs({ operation: "CREATE", resource: "nodes", kind: "Node", subresource: "status" }))).toBe(false);
    expect(p.handles("CREATE", attrs({ operation: "CREATE", resource: "pods", kind: "Pod" }))).toBe(false);
  });
});
