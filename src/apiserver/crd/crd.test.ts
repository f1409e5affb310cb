import { describe, it, expect, beforeEach, afterEach } from "vitest";
import { createMemoryStore } from "../../store/memory.ts";
import type { Store } from "../../store/types.ts";
import { createApiServer, type ApiServer } from "../server.ts";
import { bodyJson, fakeRequest, readWatchLines } from "../_testing.ts";

const TOKEN = { authorization: "Bearer t0k" };
const tokens = new Map([["t0k", { user: "admin", groups: ["system:masters"] }]]);
let store: Store;
let api: ApiServer;

async function call(method: string, url: string, init: { headers?: Record<string, string>; body?: unknown } = {}) {
  return api.handler(fakeRequest(method, url, {
    headers: { ...TOKEN, ...(init.headers ?? {}) },
    ...(init.body !== undefined ? { body: (typeof init.body === "string" ? init.body : init.body) as object } : {}),
  }));
}

export const cronTabCrd = () => ({
  apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition",
  metadata: { name: "crontabs.stable.example.com" },
  spec: {
    group: "stable.example.com", scope: "Namespaced",
    names: { plural: "crontabs", singular: "crontab", kind: "CronTab", shortNames: ["ct"], categories: ["all"] },
    versions: [
      {
        name: "v1", served: true, storage: true,
        schema: { openAPIV3Schema: { type: "object", properties: {
          spec: { type: "object", required: ["cronSpec"], properties: {
            cronSpec: { type: "string", pattern: "^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$" },
            image: { type: "string", default: "busybox" },
            replicas: { type: "integer", minimum: 1, maximum: 10, default: 1 },
            tags: { type: "array", items: { type: "string" }, "x-kubernetes-list-type": "set" },
          } },
          status: { type: "object", properties: { replicas: { type: "integer" }, selector: { type: "string" } } },
        } } },
        subresources: { status: {}, scale: { specReplicasPath: ".spec.replicas", statusReplicasPath: ".status.replicas", labelSelectorPath: ".status.selector" } },
        additionalPrinterColumns: [
          { name: "Spec", type: "string", jsonPath: ".spec.cronSpec" },
          { name: "Replicas", type: "integer", jsonPath: ".spec.replicas" },
          { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
        ],
      },
      { name: "v2", served: true, storage: false, schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } } },
    ],
  },
});

const ct = (name: string, spec: Record<string, unknown> = { cronSpec: "* * * * */5" }) =>
  ({ apiVersion: "stable.example.com/v1", kind: "CronTab", metadata: { name }, spec });

async function waitFor(cond: () => Promise<boolean>, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error("timed out");
}

const BASE = "/apis/stable.example.com/v1/namespaces/default/crontabs";

async function establish(): Promise<void> {
  const r = await call("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", { body: cronTabCrd() });
  expect(r.status).toBe(201);
  await waitFor(async () => (await call("GET", BASE)).status === 200);
}

beforeEach(async () => {
  store = createMemoryStore();
  api = createApiServer({ store, tokens, compactIntervalMs: 0 });
  await api.start();
});
afterEach(async () => {
  await api.stop();
  await store.close();
});

describe("CustomResourceDefinitions", () => {
  it("validates the CRD itself with upstream's reasons", async () => {
    const bad = cronTabCrd();
    (bad.spec.versions[0]!.schema.openAPIV3Schema.properties as Record<string, unknown>)["spec"] = { properties: { cronSpec: { type: "string" } } };
    bad.spec.versions[1]!.storage = true;
    bad.metadata.name = "crontab.stable.example.com";
    const r = await call("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", { body: bad });
    expect(r.status).toBe(422);
    const msg = (await bodyJson(r)).message as string;
    expect(msg).toContain("spec.versions[0].schema.openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields");
    expect(msg).toContain("must have exactly one version marked as storage version");
    expect(msg).toContain(`metadata.name: Invalid value: "crontab.stable.example.com": must be spec.names.plural+"."+spec.group`);
    const nodot = cronTabCrd();
    nodot.spec.group = "example";
    nodot.metadata.name = "crontabs.example";
    expect((await bodyJson(await call("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", { body: nodot }))).message)
      .toContain(`spec.group: Invalid value: "example": should be a domain with at least one dot`);
  });

  it("serves a CRD's resources once established: discovery, CRUD, table, defaults, pruning, status, scale", async () => {
    await establish();
    const crd = await bodyJson(await call("GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/crontabs.stable.example.com"));
    expect(crd.status.conditions.map((c: { type: string; status: string }) => `${c.type}=${c.status}`)).toEqual(["NamesAccepted=True", "Established=True"]);
    expect(crd.metadata.finalizers).toEqual(["customresourcecleanup.apiextensions.k8s.io"]);
    expect(crd.status.acceptedNames.kind).toBe("CronTab");

    const rl = await bodyJson(await call("GET", "/apis/stable.example.com/v1"));
    expect(rl.resources.map((r: { name: string }) => r.name)).toEqual(["crontabs", "crontabs/scale", "crontabs/status"]);
    expect(rl.resources[0]).toMatchObject({ singularName: "crontab", namespaced: true, kind: "CronTab", shortNames: ["ct"], categories: ["all"] });
    const agg = await bodyJson(await call("GET", "/apis", { headers: { accept: "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList" } }));
    expect(agg.items.find((g: { metadata: { name: string } }) => g.metadata.name === "stable.example.com").versions.map((v: { version: string }) => v.version)).toEqual(["v1", "v2"]);

    // create with defaults; unknown field pruned and reported as a warning
    const c = await call("POST", BASE, { body: { ...ct("a"), spec: { cronSpec: "* * * * */5", extra: 1 }, status: { replicas: 3 } } });
    expect(c.status).toBe(201);
    expect(c.headers?.["warning"]).toContain(`unknown field \\"spec.extra\\"`);
    const created = await bodyJson(c);
    expect(created.spec).toEqual({ cronSpec: "* * * * */5", image: "busybox", replicas: 1 });
    expect(created.status).toBeUndefined();
    expect(created.metadata.generation).toBe(1);
    // strict field validation
    const strict = await call("POST", `${BASE}?fieldValidation=Strict`, { body: { ...ct("s"), spec: { cronSpec: "* * * * *", nope: 1 } } });
    expect(strict.status).toBe(400);
    expect((await bodyJson(strict)).message).toContain(`strict decoding error: unknown field "spec.nope"`);
    // invalid values
    const inv = await call("POST", BASE, { body: ct("b", { cronSpec: 5, replicas: 20 }) });
    expect(inv.status).toBe(422);
    const invMsg = (await bodyJson(inv)).message as string;
    expect(invMsg).toContain(`spec.cronSpec: Invalid value: "integer": spec.cronSpec in body must be of type string: "integer"`);
    expect(invMsg).toContain("spec.replicas: Invalid value: 20: spec.replicas in body should be less than or equal to 10");
    const missing = await bodyJson(await call("POST", BASE, { body: ct("m", {}) }));
    expect(missing.message).toContain("spec.cronSpec: Required value");
    const pattern = await bodyJson(await call("POST", BASE, { body: ct("p", { cronSpec: "nope" }) }));
    expect(pattern.message).toContain(`spec.cronSpec: Invalid value: "nope": spec.cronSpec in body should match`);

    // table with printer columns
    const t = await bodyJson(await call("GET", BASE, { headers: { accept: "application/json;as=Table;v=v1;g=meta.k8s.io" } }));
    expect(t.columnDefinitions.map((d: { name: string }) => d.name)).toEqual(["Name", "Spec", "Replicas", "Age"]);
    expect(t.rows[0].cells.slice(0, 3)).toEqual(["a", "* * * * */5", 1]);

    // protobuf bodies are refused
    const pb = await call("POST", BASE, { headers: { "content-type": "application/vnd.kubernetes.protobuf" }, body: new Uint8Array([0x6b, 0x38, 0x73, 0]) as unknown as object });
    expect(pb.status).toBe(415);
    // strategic merge patch is refused, merge patch works
    expect((await call("PATCH", `${BASE}/a`, { headers: { "content-type": "application/strategic-merge-patch+json" }, body: { spec: { replicas: 2 } } })).status).toBe(415);
    const mp = await bodyJson(await call("PATCH", `${BASE}/a`, { headers: { "content-type": "application/merge-patch+json" }, body: { spec: { replicas: 2 } } }));
    expect(mp.spec.replicas).toBe(2);
    expect(mp.metadata.generation).toBe(2);

    // status subresource and scale
    const st = await call("PUT", `${BASE}/a/status`, { body: { ...mp, status: { replicas: 2, selector: "app=a" } } });
    expect(st.status).toBe(200);
    const scale = await bodyJson(await call("GET", `${BASE}/a/scale`));
    expect(scale).toMatchObject({ kind: "Scale", apiVersion: "autoscaling/v1", spec: { replicas: 2 }, status: { replicas: 2, selector: "app=a" } });
    const scaled = await call("PATCH", `${BASE}/a/scale`, { headers: { "content-type": "application/merge-patch+json" }, body: { spec: { replicas: 4 } } });
    expect(scaled.status).toBe(200);
    expect((await bodyJson(await call("GET", `${BASE}/a`))).spec.replicas).toBe(4);

    // other version: same object, apiVersion rewritten (None conversion)
    const v2 = await bodyJson(await call("GET", "/apis/stable.example.com/v2/namespaces/default/crontabs/a"));
    expect(v2.apiVersion).toBe("stable.example.com/v2");
    expect(v2.spec.replicas).toBe(4);

    // server-side apply with the schema-built TypeSchema
    const applied = await call("PATCH", `${BASE}/c?fieldManager=me`, {
      headers: { "content-type": "application/apply-patch+yaml" },
      body: JSON.stringify({ ...ct("c", { cronSpec: "* * * * *", tags: ["x"] }) }),
    });
    expect(applied.status).toBe(201);
    const ap = await bodyJson(applied);
    expect(ap.metadata.managedFields[0]).toMatchObject({ manager: "me", operation: "Apply" });
    expect(ap.metadata.managedFields[0].fieldsV1["f:spec"]["f:tags"]).toEqual({ "v:\"x\"": {} });
    const conflict = await call("PATCH", `${BASE}/c?fieldManager=other`, {
      headers: { "content-type": "application/apply-patch+yaml" },
      body: JSON.stringify(ct("c", { cronSpec: "1 * * * *" })),
    });
    expect(conflict.status).toBe(409);
    expect((await bodyJson(conflict)).message).toContain(".spec.cronSpec");

    // field selector
    const sel = await bodyJson(await call("GET", `${BASE}?fieldSelector=metadata.name%3Dc`));
    expect(sel.items.map((i: { metadata: { name: string } }) => i.metadata.name)).toEqual(["c"]);

    // openapi
    const root = await bodyJson(await call("GET", "/openapi/v3"));
    const url = root.paths["apis/stable.example.com/v1"].serverRelativeURL as string;
    const doc = await bodyJson(await call("GET", url));
    expect(doc.components.schemas["com.example.stable.v1.CronTab"].properties.spec.properties.cronSpec.type).toBe("string");
    expect(doc.paths["/apis/stable.example.com/v1/namespaces/{namespace}/crontabs/{name}"].patch["x-kubernetes-group-version-kind"]).toEqual({ group: "stable.example.com", kind: "CronTab", version: "v1" });
  });

  it("watches custom resources and deleting the CRD deletes its objects and stops serving", async () => {
    await establish();
    const w = await call("GET", `${BASE}?watch=true`);
    expect(w.status).toBe(200);
    const lines = readWatchLines(w, 1);
    expect((await call("POST", BASE, { body: ct("w") })).status).toBe(201);
    const evs = (await lines) as Array<{ type: string; object: { metadata: { name: string } } }>;
    expect(evs[0]).toMatchObject({ type: "ADDED", object: { metadata: { name: "w" } } });

    expect((await call("DELETE", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/crontabs.stable.example.com")).status).toBe(200);
    await waitFor(async () => (await call("GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/crontabs.stable.example.com")).status === 404);
    expect((await call("GET", BASE)).status).toBe(404);
    expect((await call("GET", "/apis/stable.example.com/v1")).status).toBe(404);
    const left = await store.range({ key: "/registry/stable.example.com/", prefix: true });
    expect(left.kvs.length).toBe(0);
    // a new CRD of the same name starts empty
    await establish();
    expect((await bodyJson(await call("GET", BASE))).items).toEqual([]);
  });

  it("serves established CRDs again after a restart", async () => {
    await establish();
    expect((await call("POST", BASE, { body: ct("r") })).status).toBe(201);
    await api.stop();
    api = createApiServer({ store, tokens, compactIntervalMs: 0 });
    await api.start();
    expect((await bodyJson(await call("GET", `${BASE}/r`))).spec.cronSpec).toBe("* * * * */5");
  });
});
