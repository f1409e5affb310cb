import { describe, expect, it } from "vitest";
import { attrs, fakeHost, pod } from "../_fakehost.ts";
import { serviceAccount } from "./serviceaccount.ts";

describe("ServiceAccount", () => {
  it("defaults serviceAccountName and the deprecated serviceAccount to default, even if the account is missing", async () => {
    const p = serviceAccount(fakeHost());
    const obj = pod("p");
    await p.admit(attrs({ operation: "CREATE", resource: "pods", kind: "Pod", namespace: "default", object: obj }));
    expect(obj["spec"]).toMatchObject({ serviceAccountName: "default", serviceAccount: "default" });
    expect(obj["spec"]).not.toHaveProperty("imagePullSecrets");
  });
  it("takes the deprecated field when only it is set, and copies the account's pull secrets", async () => {
    const host = fakeHost();
    host.put("", "serviceaccounts", { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "builder", namespace: "ci" }, imagePullSecrets: [{ name: "reg" }] });
    const p = serviceAccount(host);
    const obj = pod("p", { serviceAccount: "builder" }, "ci");
    await p.admit(attrs({ operation: "CREATE", resource: "pods", kind: "Pod", namespace: "ci", object: obj }));
    expect(obj["spec"]).toMatchObject({ serviceAccountName: "builder", serviceAccount: "builder", imagePullSecrets: [{ name: "reg" }] });
    const own = pod("q", { serviceAccountName: "builder", imagePullSecrets: [{ name: "mine" }] }, "ci");
    await p.admit(attrs({ operation: "CREATE", resource: "pods", kind: "Pod", namespace: "ci", object: own }));
    expect((own["spec"] as { imagePullSecrets: unknown }).imagePullSecrets).toEqual([{ name: "mine" }]);
  });
  it("mirror pods are left alone; updates only mirror the deprecated field", async () => {
    const p = serviceAccount(fakeHost());
    const mirror = pod("m");
    mirror.metadata = { ...mirror.metadata, annotations: { "kubernetes.io/config.mirror": "x" } };
    await p.admit(attrs({ operation: "CREATE", resource: "pods", kind: "Pod", namespace: "default", object: mirror }));
    expect(mirror["spec"]).not.toHaveProperty("serviceAccountName");
    const upd = pod("u", { serviceAccountName: "sa" });
    await p.admit(attrs({ operation: "UPDATE", resource: "pods", kind: "Pod", namespace: "default", object: upd }));
    expect(upd["spec"]).toMatchObject({ serviceAccountName: "sa", serviceAccount: "sa" });
    const bare = pod("b");
    await p.admit(attrs({ operation: "UPDATE", resource: "pods", kind: "Pod", namespace: "default", object: bare }));
    expect(bare["spec"]).not.toHaveProperty("serviceAccountName");
  });
});
