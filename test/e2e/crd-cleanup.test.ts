/**
 * Custom resources and the controllers that clean up after other objects, with kubectl 1.32
 * against `tug server` (controllers on): a custom resource in a deleted namespace is deleted by the
 * namespace controller (which finds the resource through discovery) and the namespace then goes
 * away; a custom resource owned by a ConfigMap is collected by the garbage collector (through a
 * metadata-only informer it starts for the discovered resource) once the ConfigMap is deleted.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Kubectl, startTug, type TugProcess } from "./harness.ts";

let tug: TugProcess;
let k: Kubectl;

const CRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.cleanup.example.com
spec:
  group: cleanup.example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {size: {type: integer}}}
`;

beforeAll(async () => {
  tug = await startTug();
  k = new Kubectl("1.32", tug.kubeconfig);
  await k.ok(["apply", "-f", "-"], { input: CRD });
  await k.ok(["wait", "--for=condition=Established", "crd/widgets.cleanup.example.com", "--timeout=20s"], { timeoutMs: 25_000 });
}, 60_000);

afterAll(async () => {
  k?.cleanup();
  await tug?.stop();
});

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < 1000; i++) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}\nserver stderr: ${tug.stderr().slice(-3000)}`);
}

describe("kubectl 1.32: custom resources are cleaned up by the namespace controller and the garbage collector", () => {
  it("a custom resource in a deleted namespace is deleted, then the namespace disappears", async () => {
    await k.ok(["create", "namespace", "crns"]);
    await k.ok(["apply", "-n", "crns", "-f", "-"], { input: "apiVersion: cleanup.example.com/v1\nkind: Widget\nmetadata: {name: w1}\nspec: {size: 1}\n" });
    expect(await k.ok(["get", "widgets", "-n", "crns", "-o", "name"])).toBe("widget.cleanup.example.com/w1\n");
    await k.ok(["delete", "namespace", "crns", "--wait=false"]);
    await until("the namespace to go", 30_000, async () => {
      const r = await k.run(["get", "namespace", "crns"]);
      return r.code !== 0 && r.stderr.includes("NotFound") ? true : undefined;
    });
    // Re-created, the namespace is empty: the widget did not survive in storage.
    await k.ok(["create", "namespace", "crns"]);
    expect(await k.ok(["get", "widgets", "-n", "crns", "-o", "name"])).toBe("");
  }, 60_000);

  it("a custom resource owned by a ConfigMap is collected when the ConfigMap is deleted", async () => {
    await k.ok(["create", "configmap", "owner", "-n", "default", "--from-literal=a=b"]);
    const uid = (await k.ok(["get", "configmap", "owner", "-n", "default", "-o", "jsonpath={.metadata.uid}"])).trim();
    expect(uid).not.toBe("");
    const widget = `apiVersion: cleanup.example.com/v1
kind: Widget
metadata:
  name: owned
  namespace: default
  ownerReferences: [{apiVersion: v1, kind: ConfigMap, name: owner, uid: ${uid}}]
spec: {size: 2}
`;
    await k.ok(["apply", "-f", "-"], { input: widget });
    await k.ok(["apply", "-f", "-"], { input: widget.replace("name: owned", "name: free").replace(/ {2}ownerReferences.*\n/, "") });
    await k.ok(["delete", "configmap", "owner", "-n", "default"]);
    await until("the owned widget to be collected", 40_000, async () => {
      const r = await k.run(["get", "widget", "owned", "-n", "default"]);
      return r.code !== 0 && r.stderr.includes("NotFound") ? true : undefined;
    });
    expect(await k.ok(["get", "widgets", "-n", "default", "-o", "name"])).toBe("widget.cleanup.example.com/free\n");
  }, 60_000);
});
