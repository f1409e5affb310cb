import { describe, it, expect, beforeEach, afterEach } from "vitest";
import { createMemoryStore } from "../../store/memory.ts";
import type { Store } from "../../store/types.ts";
import { createApiServer, type ApiServer } from "../server.ts";
import { bodyJson, fakeRequest } from "../_testing.ts";

const TOKEN = { authorization: "Bearer t0k" };
const tokens = new Map([["t0k", { user: "admin", groups: ["system:masters"] }]]);
let store: Store;
let api: ApiServer;

async function call(method: string, url: string, body?: object) {
  return api.handler(fakeRequest(method, url, { headers: TOKEN, ...(body !== undefined ? { body } : {}) }));
}

const crd = (rule: string) => ({
  apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition",
  metadata: { name: "crontabs.stable.example.com" },
  spec: {
    group: "stable.example.com", scope: "Namespaced",
    names: { plural: "crontabs", singular: "crontab", kind: "CronTab" },
    versions: [{
      name: "v1", served: true, storage: true,
      schema: { openAPIV3Schema: { type: "object", properties: {
        spec: { type: "object", "x-kubernetes-validations": [{ rule }, { rule: "self.replicas >= oldSelf.replicas", message: "may not scale down" }],
          properties: { replicas: { type: "integer" }, maxReplicas: { type: "integer" } } },
      } } },
    }],
  },
});
const BASE = "/apis/stable.example.com/v1/namespaces/default/crontabs";
const ct = (spec: Record<string, unknown>, rv?: string) =>
  ({ apiVersion: "stable.example.com/v1", kind: "CronTab", metadata: { name: "c", ...(rv ? { resourceVersion: rv } : {}) }, spec });

beforeEach(async () => {
  store = createMemoryStore();
  api = createApiServer({ store, tokens, compactIntervalMs: 0 });
  await api.start();
});
afterEach(async () => {
  await api.stop();
  await store.close();
});

describe("CEL rules through the apiserver", () => {
  it("rejects a CRD whose rule does not compile", async () => {
    const r = await call("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd("self.replicas <="));
    expect(r.status).toBe(422);
    const st = (await bodyJson(r)) as { details: { causes: Array<{ field: string; message: string }> } };
    expect(st.details.causes[0]?.field).toBe("spec.versions[0].schema.openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule");
    expect(st.details.causes[0]?.message).toContain("compilation failed");
  });
  it("enforces rules on create and transition rules on update", async () => {
    expect((await call("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd("self.replicas <= self.maxReplicas"))).status).toBe(201);
    const end = Date.now() + 2000;
    while ((await call("GET", BASE)).status !== 200 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    const bad = await call("POST", BASE, ct({ replicas: 5, maxReplicas: 2 }));
    expect(bad.status).toBe(422);
    const st = (await bodyJson(bad)) as { message: string; details: { causes: Array<{ field: string; message: string; reason: string }> } };
    expect(st.details.causes).toEqual([{ reason: "FieldValueInvalid", field: "spec", message: 'Invalid value: "object": failed rule: self.replicas <= self.maxReplicas' }]);
    expect(st.message).toContain("spec: Invalid value");
    const ok = await call("POST", BASE, ct({ replicas: 2, maxReplicas: 3 }));
    expect(ok.status).toBe(201);
    const rv = ((await bodyJson(ok)) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
    const down = await call("PUT", `${BASE}/c`, ct({ replicas: 1, maxReplicas: 3 }, rv));
    expect(down.status).toBe(422);
    expect(JSON.stringify(await bodyJson(down))).toContain("may not scale down");
    expect((await call("PUT", `${BASE}/c`, ct({ replicas: 3, maxReplicas: 3 }, rv))).status).toBe(200);
  });
});
