import { describe, expect, it } from "vitest";
import { jsonFields, messageSchema, unknownFields } from "./mod.ts";

describe("schema table", () => {
  it("describes fields with numbers, types and markers", () => {
    const ps = messageSchema("k8s.io.api.core.v1.PodSpec")!;
    const containers = ps.fields.find((f) => f.json === "containers")!;
    expect(containers).toMatchObject({
      number: 2, type: "k8s.io.api.core.v1.Container", repeated: true,
      patchStrategy: "merge", patchMergeKey: "name", listType: "map", listMapKeys: ["name"],
    });
    expect(ps.fields.find((f) => f.json === "terminationGracePeriodSeconds")).toMatchObject({ type: "int64", keepZero: true });
    expect(messageSchema("k8s.io.apimachinery.pkg.apis.meta.v1.Time")!.special).toBe("time");
  });
  it("merges inline fields into the parent's JSON names", () => {
    const vol = jsonFields("k8s.io.api.core.v1.Volume");
    expect(vol.has("name")).toBe(true);
    expect(vol.has("configMap")).toBe(true);
    expect(vol.has("volumeSource")).toBe(false);
  });
});

describe("unknownFields", () => {
  it("reports unknown paths in kube-apiserver's notation", () => {
    const dep = {
      apiVersion: "apps/v1", kind: "Deployment",
      metadata: { name: "x", labels: { anything: "goes" }, bogus: 1 },
      spec: {
        foo: true,
        template: { spec: { containers: [{ name: "a" }, { name: "b", bad: 1, resources: { limits: { cpu: "1" } } }] } },
      },
    };
    expect(unknownFields("apps/v1", "Deployment", dep)).toEqual([
      "metadata.bogus", "spec.foo", "spec.template.spec.containers[1].bad",
    ]);
  });
  it("allows anything inside RawExtension and FieldsV1, and IntOrString/Quantity values", () => {
    const cr = { apiVersion: "apps/v1", kind: "ControllerRevision", data: { whatever: { x: 1 } }, revision: 1,
      metadata: { managedFields: [{ fieldsV1: { "f:spec": {} }, manager: "m" }] } };
    expect(unknownFields("apps/v1", "ControllerRevision", cr)).toEqual([]);
    const svc = { apiVersion: "v1", kind: "Service", spec: { ports: [{ port: 80, targetPort: "http", nope: 1 }] } };
    expect(unknownFields("v1", "Service", svc)).toEqual(["spec.ports[0].nope"]);
  });
  it("knows inline fields (volume sources, probe handlers)", () => {
    const pod = { apiVersion: "v1", kind: "Pod", spec: {
      volumes: [{ name: "v", configMap: { name: "c" }, nfs2: {} }],
      containers: [{ name: "c", livenessProbe: { httpGet: { port: 80 }, periodSeconds: 3, exec2: 1 } }],
    } };
    expect(unknownFields("v1", "Pod", pod)).toEqual(["spec.volumes[0].nfs2", "spec.containers[0].livenessProbe.exec2"]);
  });
  it("walks list items and map values; unknown kinds give nothing to check", () => {
    expect(unknownFields("v1", "PodList", { items: [{ spec: { x: 1 } }] })).toEqual(["items[0].spec.x"]);
    expect(unknownFields("v1", "NoSuchKind", { a: 1 })).toEqual([]);
  });
});
