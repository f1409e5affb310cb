import { describe, expect, it } from "vitest";
import { attrs, failure, fakeHost, pod } from "../_fakehost.ts";
import { namespaceLifecycle } from "./namespacelifecycle.ts";

describe("NamespaceLifecycle", () => {
  const host = fakeHost();
  host.put("", "namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "live" }, status: { phase: "Active" } });
  host.put("", "namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "dying" }, status: { phase: "Terminating" } });
  const p = namespaceLifecycle(host);

  it("allows creates in an active namespace and cluster-scoped objects anywhere", async () => {
    await p.admit(attrs({ operation: "CREATE", resource: "pods", kind: "Pod", namespace: "live", object: pod("a", {}, "live") }));
    await p.admit(attrs({ operation: "CREATE", resource: "nodes", kind: "Node", object: { apiVersion: "v1", kind: "Node", metadata: { name: "n" } } }));
  });
  it("missing namespace: 404 namespaces \"x\" not found (create and update)", async () => {
    for (const operation of ["CREATE", "UPDATE"] as const) {
      const e = await failure(p.admit(attrs({ operation, resource: "pods", kind: "Pod", namespace: "nope", object: pod("a", {}, "nope") })));
      expect(e.code).toBe(404);
      expect(e.message).toBe('namespaces "nope" not found');
    }
  });
  it("terminating namespace: 403 with upstream's message and NamespaceTerminating cause; updates and deletes pass", async () => {
    const e = await failure(p.admit(attrs({ operation: "CREATE", resource: "configmaps", kind: "ConfigMap", namespace: "dying", object: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" } } })));
    expect(e.code).toBe(403);
    expect(e.message).toBe('configmaps "c" is forbidden: unable to create new content in namespace dying because it is being terminated');
    expect(e.status.details?.causes).toEqual([{ reason: "NamespaceTerminating", message: "namespace dying is being terminated", field: "metadata.namespace" }]);
    await p.admit(attrs({ operation: "UPDATE", resource: "configmaps", kind: "ConfigMap", namespace: "dying", object: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" } } }));
    await p.admit(attrs({ operation: "DELETE", resource: "configmaps", kind: "ConfigMap", namespace: "dying", name: "c" }));
  });
  it("generateName creates are named by their generateName in the message", async () => {
    const e = await failure(p.admit(attrs({ operation: "CREATE", resource: "pods", kind: "Pod", namespace: "dying", object: { apiVersion: "v1", kind: "Pod", metadata: { generateName: "web-" } } })));
    expect(e.message).toBe('pods "web-" is forbidden: unable to create new content in namespace dying because it is being terminated');
  });
  it("immortal namespaces cannot be deleted; others can", async () => {
    for (const name of ["default", "kube-system", "kube-public"]) {
      const e = await failure(p.admit(attrs({ operation: "DELETE", resource: "namespaces", kind: "Namespace", name })));
      expect(e.code).toBe(403);
      expect(e.message).toBe(`namespaces "${name}" is forbidden: this namespace may not be deleted`);
    }
    await p.admit(attrs({ operation: "DELETE", resource: "namespaces", kind: "Namespace", name: "kube-node-lease" }));
    await p.admit(attrs({ operation: "DELETE", resource: "namespaces", kind: "Namespace", name: "live" }));
  });
  it("local access reviews are never refused", async () => {
    await p.admit(attrs({ operation: "CREATE", group: "authorization.k8s.io", resource: "localsubjectaccessreviews", kind: "LocalSubjectAccessReview", namespace: "nope", object: { apiVersion: "authorization.k8s.io/v1", kind: "LocalSubjectAccessReview", metadata: {} } }));
  });
});
