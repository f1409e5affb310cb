import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../../api/object.ts";
import { attrs, failure, fakeHost, pod } from "../_fakehost.ts";
import { limitRanger, LIMIT_RANGER_ANNOTATION } from "./limitranger.ts";

const lr = (name: string, limits: Record<string, unknown>[]): KubeObject =>
  ({ apiVersion: "v1", kind: "LimitRange", metadata: { name, namespace: "default" }, spec: { limits } });

function setup(...ranges: KubeObject[]) {
  const host = fakeHost();
  for (const r of ranges) host.put("", "limitranges", r);
  return limitRanger(host);
}

const create = (obj: KubeObject) => attrs({ operation: "CREATE", resource: "pods", kind: "Pod", namespace: "default", object: obj });
const resources = (o: KubeObject, i = 0) => ((o["spec"] as { containers: { resources?: unknown }[] }).containers[i] as { resources?: unknown }).resources;

describe("LimitRanger", () => {
  const defaults = lr("defaults", [{ type: "Container", default: { cpu: "500m", memory: "256Mi" }, defaultRequest: { cpu: "100m", memory: "128Mi" } }]);

  it("fills missing requests and limits and annotates the pod", async () => {
    const p = setup(defaults);
    const obj = pod("a", { containers: [{ name: "c", image: "x", resources: { limits: { cpu: "1" }, requests: { cpu: "1" } } }], initContainers: [{ name: "i", image: "x" }] });
    await p.admit(create(obj));
    expect(resources(obj)).toEqual({ limits: { cpu: "1", memory: "256Mi" }, requests: { cpu: "1", memory: "128Mi" } });
    expect((obj["spec"] as { initContainers: { resources: unknown }[] }).initContainers[0]?.resources)
      .toEqual({ limits: { cpu: "500m", memory: "256Mi" }, requests: { cpu: "100m", memory: "128Mi" } });
    expect(obj.metadata?.annotations?.[LIMIT_RANGER_ANNOTATION]).toBe(
      "LimitRanger plugin set: memory request for container c; memory limit for container c; cpu, memory request for init container i; cpu, memory limit for init container i");
  });
  it("leaves a pod alone when nothing is missing (no annotation)", async () => {
    const p = setup(defaults);
    const full = { limits: { cpu: "1", memory: "1Gi" }, requests: { cpu: "1", memory: "1Gi" } };
    const obj = pod("a", { containers: [{ name: "c", image: "x", resources: structuredClone(full) }] });
    await p.admit(create(obj));
    expect(resources(obj)).toEqual(full);
    expect(obj.metadata?.annotations).toBeUndefined();
  });
  it("min / max per Container with upstream's messages", async () => {
    const p = setup(lr("bounds", [{ type: "Container", min: { cpu: "100m" }, max: { cpu: "800m", memory: "1Gi" } }]));
    const c = (r: Record<string, unknown>) => pod("a", { containers: [{ name: "c", image: "x", resources: r }] });
    let e = await failure(p.validate(create(c({ limits: { cpu: "1500m", memory: "1Gi" }, requests: { cpu: "200m" } }))));
    expect(e.code).toBe(403);
    expect(e.message).toBe('pods "a" is forbidden: maximum cpu usage per Container is 800m, but limit is 1500m');
    e = await failure(p.validate(create(c({ limits: { cpu: "500m", memory: "1Gi" }, requests: { cpu: "50m" } }))));
    expect(e.message).toBe('pods "a" is forbidden: minimum cpu usage per Container is 100m, but request is 50m');
    e = await failure(p.validate(create(c({}))));
    expect(e.message).toBe('pods "a" is forbidden: [minimum cpu usage per Container is 100m.  No request is specified, maximum cpu usage per Container is 800m.  No limit is specified, maximum memory usage per Container is 1Gi.  No limit is specified]');
    await p.validate(create(c({ limits: { cpu: "800m", memory: "512Mi" }, requests: { cpu: "100m", memory: "512Mi" } })));
  });
  it("Pod type bounds the pod's total and maxLimitRequestRatio", async () => {
    const p = setup(lr("pod", [{ type: "Pod", max: { memory: "1Gi" } }, { type: "Container", maxLimitRequestRatio: { cpu: "2" } }]));
    const two = pod("a", { containers: [
      { name: "a", image: "x", resources: { limits: { memory: "600Mi", cpu: "1" }, requests: { memory: "600Mi", cpu: "1" } } },
      { name: "b", image: "x", resources: { limits: { memory: "600Mi", cpu: "1" }, requests: { memory: "600Mi", cpu: "1" } } },
    ] });
    let e = await failure(p.validate(create(two)));
    expect(e.message).toBe('pods "a" is forbidden: maximum memory usage per Pod is 1Gi, but limit is 1200Mi');
    const ratio = pod("r", { containers: [{ name: "a", image: "x", resources: { limits: { cpu: "1" }, requests: { cpu: "250m" } } }] });
    e = await failure(p.validate(create(ratio)));
    expect(e.message).toContain("cpu max limit to request ratio per Container is 2, but provided ratio is 4.000000");
  });
  it("PVC min/max on requests.storage; pod updates and subresources are skipped", async () => {
    const p = setup(lr("pvc", [{ type: "PersistentVolumeClaim", min: { storage: "1Gi" }, max: { storage: "10Gi" } }]));
    const pvc = (s: string): KubeObject => ({ apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: { name: "v", namespace: "default" }, spec: { resources: { requests: { storage: s } } } });
    const e = await failure(p.validate(attrs({ operation: "CREATE", resource: "persistentvolumeclaims", kind: "PersistentVolumeClaim", namespace: "default", object: pvc("20Gi") })));
    expect(e.message).toBe('persistentvolumeclaims "v" is forbidden: maximum storage usage per PersistentVolumeClaim is 10Gi, but request is 20Gi');
    await p.validate(attrs({ operation: "CREATE", resource: "persistentvolumeclaims", kind: "PersistentVolumeClaim", namespace: "default", object: pvc("5Gi") }));
    expect(p.handles("UPDATE", attrs({ operation: "UPDATE", resource: "pods", kind: "Pod", namespace: "default" }))).toBe(false);
    expect(p.handles("CREATE", attrs({ operation: "CREATE", resource: "pods", kind: "Pod", namespace: "default", subresource: "binding" }))).toBe(false);
  });
});
