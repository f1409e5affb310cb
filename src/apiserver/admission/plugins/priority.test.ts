import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../../api/object.ts";
import { attrs, failure, fakeHost, pod } from "../_fakehost.ts";
import { priorityAdmission, SYSTEM_PRIORITY_CLASSES } from "./priority.ts";

const pc = (name: string, value: number, extra: Record<string, unknown> = {}): KubeObject =>
  ({ apiVersion: "scheduling.k8s.io/v1", kind: "PriorityClass", metadata: { name }, value, preemptionPolicy: "PreemptLowerPriority", ...extra });

function setup(...classes: KubeObject[]) {
  const host = fakeHost();
  for (const c of [...SYSTEM_PRIORITY_CLASSES, ...classes]) host.put("scheduling.k8s.io", "priorityclasses", c);
  return priorityAdmission(host);
}

const create = (obj: KubeObject) => attrs({ operation: "CREATE", resource: "pods", kind: "Pod", namespace: "default", object: obj });
const spec = (o: KubeObject) => o["spec"] as Record<string, unknown>;

describe("Priority", () => {
  it("resolves a class to priority and preemptionPolicy", async () => {
    const p = setup(pc("high", 1000, { preemptionPolicy: "Never" }));
    const obj = pod("a", { priorityClassName: "high" });
    await p.admit(create(obj));
    expect(spec(obj)).toMatchObject({ priorityClassName: "high", priority: 1000, preemptionPolicy: "Never" });
    const sys = pod("s", { priorityClassName: "system-node-critical" });
    await p.admit(create(sys));
    expect(spec(sys)["priority"]).toBe(2000001000);
  });
  it("no class: priority 0 and PreemptLowerPriority, or the global default (lowest if several)", async () => {
    const none = pod("a");
    await setup().admit(create(none));
    expect(spec(none)).toMatchObject({ priority: 0, preemptionPolicy: "PreemptLowerPriority" });
    expect(spec(none)).not.toHaveProperty("priorityClassName");
    const p = setup(pc("d1", 50, { globalDefault: true }), pc("d2", 20, { globalDefault: true }));
    const obj = pod("b");
    await p.admit(create(obj));
    expect(spec(obj)).toMatchObject({ priorityClassName: "d2", priority: 20 });
  });
  it("unknown class: 403 no PriorityClass with name x was found", async () => {
    const e = await failure(setup().admit(create(pod("a", { priorityClassName: "gold" }))));
    expect(e.code).toBe(403);
    expect(e.message).toBe('pods "a" is forbidden: no PriorityClass with name gold was found');
  });
  it("a given priority or policy that differs from the class is 403", async () => {
    const p = setup(pc("high", 1000));
    let e = await failure(p.admit(create(pod("a", { priorityClassName: "high", priority: 7 }))));
    expect(e.message).toBe('pods "a" is forbidden: the integer value of priority (7) must not be provided in pod spec; priority admission controller computed 1000 from the given PriorityClass name');
    e = await failure(p.admit(create(pod("a", { priorityClassName: "high", preemptionPolicy: "Never" }))));
    expect(e.message).toBe('pods "a" is forbidden: the string value of PreemptionPolicy (Never) must not be provided in pod spec; priority admission controller computed PreemptLowerPriority from the given PriorityClass name');
    const same = pod("b", { priorityClassName: "high", priority: 1000 });
    await p.admit(create(same));
    expect(spec(same)["priority"]).toBe(1000);
  });
  it("update keeps the stored priority", async () => {
    const p = setup();
    const old = pod("a", { priority: 1000, preemptionPolicy: "Never" });
    const obj = pod("a", { priority: 0, preemptionPolicy: "PreemptLowerPriority" });
    await p.admit(attrs({ operation: "UPDATE", resource: "pods", kind: "Pod", namespace: "default", object: obj, oldObject: old }));
    expect(spec(obj)).toMatchObject({ priority: 1000, preemptionPolicy: "Never" });
  });
  it("only one globalDefault PriorityClass", async () => {
    const p = setup(pc("d1", 50, { globalDefault: true }));
    const pcAttrs = (operation: "CREATE" | "UPDATE", obj: KubeObject) =>
      attrs({ operation, group: "scheduling.k8s.io", resource: "priorityclasses", kind: "PriorityClass", object: obj, namespaced: false });
    const e = await failure(p.validate(pcAttrs("CREATE", pc("d2", 10, { globalDefault: true }))));
    expect(e.message).toBe('priorityclasses.scheduling.k8s.io "d2" is forbidden: PriorityClass d1 is already marked as default. Only one default can exist');
    await p.validate(pcAttrs("UPDATE", pc("d1", 50, { globalDefault: true, description: "x" })));
    await p.validate(pcAttrs("CREATE", pc("plain", 10)));
    expect(p.handles("CREATE", pcAttrs("CREATE", pc("x", 1)))).toBe(true);
  });
});
