/**
 * Server-side apply and managedFields through the apiserver handler (in-process, memory store).
 */
import { describe, it, expect, beforeEach, afterEach } from "vitest";
import { createMemoryStore } from "../store/memory.ts";
import type { Store } from "../store/types.ts";
import { createApiServer, type ApiServer } from "./server.ts";
import { bodyJson, fakeRequest } from "./_testing.ts";

const tokens = new Map([["t0k", { user: "admin", groups: ["system:masters"] }]]);
let store: Store;
let api: ApiServer;

const DEP = "/apis/apps/v1/namespaces/default/deployments";
const APPLY = { "content-type": "application/apply-patch+yaml" };

async function call(method: string, url: string, init: { headers?: Record<string, string>; body?: unknown } = {}) {
  return api.handler(fakeRequest(method, url, {
    headers: { authorization: "Bearer t0k", "user-agent": "kubectl.1.32/v1.32.5 (linux/amd64) kubernetes/abc", ...(init.headers ?? {}) },
    ...(init.body !== undefined ? { body: init.body as object } : {}),
  }));
}

const deploy = (name: string, replicas = 1, image = "nginx:1.25") => ({
  apiVersion: "apps/v1", kind: "Deployment", metadata: { name, labels: { app: name } },
  spec: { replicas, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: "c", image }] } } },
});

interface Entry { manager: string; operation: string; apiVersion: string; fieldsType: string; fieldsV1: Record<string, unknown>; subresource?: string; time?: string }

function managers(obj: { metadata: { managedFields?: Entry[] } }): string[] {
  return (obj.metadata.managedFields ?? []).map((e) => `${e.manager}/${e.operation}${e.subresource ? `/${e.subresource}` : ""}`);
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

describe("server-side apply", () => {
  it("creates (201), updates (200), and a no-op apply does not write", async () => {
    const c = await call("PATCH", `${DEP}/a?fieldManager=m1&fieldValidation=Strict&force=false`, { headers: APPLY, body: deploy("a") });
    expect(c.status).toBe(201);
    const created = await bodyJson(c);
    expect(created.metadata.uid).toBeTruthy();
    expect(created.spec.strategy.type).toBe("RollingUpdate"); // defaulted after apply
    expect(managers(created)).toEqual(["m1/Apply"]);
    const entry = created.metadata.managedFields[0] as Entry;
    expect(entry).toMatchObject({ apiVersion: "apps/v1", fieldsType: "FieldsV1" });
    expect(entry.fieldsV1).toMatchObject({ "f:spec": { "f:replicas": {} } });
    expect(JSON.stringify(entry.fieldsV1)).not.toContain("strategy"); // defaults are not owned

    const rev = store.currentRevision();
    const same = await call("PATCH", `${DEP}/a?fieldManager=m1`, { headers: APPLY, body: deploy("a") });
    expect(same.status).toBe(200);
    expect((await bodyJson(same)).metadata.resourceVersion).toBe(created.metadata.resourceVersion);
    expect(store.currentRevision()).toBe(rev);

    const up = await bodyJson(await call("PATCH", `${DEP}/a?fieldManager=m1`, { headers: APPLY, body: deploy("a", 3) }));
    expect(up.spec.replicas).toBe(3);
    expect(up.metadata.generation).toBe(2);
  });

  it("accepts YAML bodies", async () => {
    const yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: y\ndata:\n  k: v\n";
    const r = await call("PATCH", "/api/v1/namespaces/default/configmaps/y?fieldManager=yml", { headers: APPLY, body: yaml });
    expect(r.status).toBe(201);
    expect((await bodyJson(r)).data).toEqual({ k: "v" });
  });

  it("conflicts between managers: 409 with causes, force takes ownership", async () => {
    await call("PATCH", `${DEP}/c?fieldManager=a`, { headers: APPLY, body: deploy("c", 1) });
    const r = await call("PATCH", `${DEP}/c?fieldManager=b`, { headers: APPLY, body: deploy("c", 2) });
    expect(r.status).toBe(409);
    const st = await bodyJson(r);
    expect(st.reason).toBe("Conflict");
    expect(st.message).toBe('Apply failed with 1 conflict: conflict with "a": .spec.replicas');
    expect(st.details.causes).toEqual([{ reason: "FieldManagerConflict", message: 'conflict with "a"', field: ".spec.replicas" }]);
    const forced = await bodyJson(await call("PATCH", `${DEP}/c?fieldManager=b&force=true`, { headers: APPLY, body: deploy("c", 2) }));
    expect(forced.spec.replicas).toBe(2);
    const a = (forced.metadata.managedFields as Entry[]).find((e) => e.manager === "a")!;
    expect(JSON.stringify(a.fieldsV1)).not.toContain("f:replicas");
  });

  it("rejects bad options and bodies", async () => {
    const noFm = await call("PATCH", `${DEP}/x`, { headers: APPLY, body: deploy("x") });
    expect(noFm.status).toBe(422);
    expect((await bodyJson(noFm)).message).toBe('PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
    const force = await call("PATCH", `${DEP}/x?force=true`, { headers: { "content-type": "application/merge-patch+json" }, body: {} });
    expect(force.status).toBe(422);
    expect((await bodyJson(force)).message).toContain("force: Forbidden: may not be specified for non-apply patch");
    const long = await call("POST", `/api/v1/namespaces/default/configmaps?fieldManager=${"x".repeat(129)}`, { body: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "l" } } });
    expect(long.status).toBe(422);
    expect((await bodyJson(long)).message).toContain("CreateOptions.meta.k8s.io");
    const unknown = await call("PATCH", `${DEP}/x?fieldManager=m`, { headers: APPLY, body: { ...deploy("x"), spec: { ...deploy("x").spec, bogus: 1 } } });
    expect(unknown.status).toBe(400);
    expect((await bodyJson(unknown)).message).toBe("failed to create typed patch object (default/x; apps/v1, Kind=Deployment): .spec.bogus: field not declared in schema");
    const wrongKind = await call("PATCH", `${DEP}/x?fieldManager=m`, { headers: APPLY, body: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x" } } });
    expect(wrongKind.status).toBe(400);
    expect((await bodyJson(wrongKind)).message).toBe("invalid object type: /v1, Kind=ConfigMap");
    const badName = await call("PATCH", `${DEP}/x?fieldManager=m`, { headers: APPLY, body: deploy("other") });
    expect(badName.status).toBe(400);
    const badYaml = await call("PATCH", `${DEP}/x?fieldManager=m`, { headers: APPLY, body: "a: [" });
    expect(badYaml.status).toBe(400);
    const withMf = await call("PATCH", `${DEP}/x?fieldManager=m`, { headers: APPLY, body: { ...deploy("x"), metadata: { name: "x", managedFields: [{ manager: "z" }] } } });
    expect(withMf.status).toBe(400);
    const invalidObj = await call("PATCH", `${DEP}/x?fieldManager=m`, { headers: APPLY, body: deploy("x", -1) });
    expect(invalidObj.status).toBe(422);
    expect((await call("GET", `${DEP}/x`)).status).toBe(404);
    const ctl = await call("PATCH", `${DEP}/x?fieldManager=a%07b`, { headers: { "content-type": "application/merge-patch+json" }, body: {} });
    expect(ctl.status).toBe(422);
    expect((await bodyJson(ctl)).message).toContain("invalid character U+0007 (at position 1)");
    await call("PATCH", `${DEP}/sc?fieldManager=m`, { headers: APPLY, body: deploy("sc") });
    const scale = await call("PATCH", `${DEP}/sc/scale?fieldManager=m`, { headers: APPLY, body: { apiVersion: "autoscaling/v1", kind: "Scale", metadata: { name: "sc" }, spec: { replicas: 2 } } });
    expect(scale.status).toBe(415);
  });

  it("resourceVersion in the body is a precondition; dryRun does not persist", async () => {
    const c = await bodyJson(await call("PATCH", `${DEP}/p?fieldManager=m`, { headers: APPLY, body: deploy("p") }));
    const stale = { ...deploy("p", 2), metadata: { name: "p", resourceVersion: "1" } };
    expect((await call("PATCH", `${DEP}/p?fieldManager=m`, { headers: APPLY, body: stale })).status).toBe(409);
    const fresh = { ...deploy("p", 2), metadata: { name: "p", labels: { app: "p" }, resourceVersion: c.metadata.resourceVersion } };
    expect((await call("PATCH", `${DEP}/p?fieldManager=m`, { headers: APPLY, body: fresh })).status).toBe(200);
    const rev = store.currentRevision();
    const dry = await call("PATCH", `${DEP}/p?fieldManager=m&dryRun=All`, { headers: APPLY, body: deploy("p", 7) });
    expect((await bodyJson(dry)).spec.replicas).toBe(7);
    expect(store.currentRevision()).toBe(rev);
    const dryCreate = await call("PATCH", `${DEP}/q?fieldManager=m&dryRun=All`, { headers: APPLY, body: deploy("q") });
    expect(dryCreate.status).toBe(201);
    expect((await call("GET", `${DEP}/q`)).status).toBe(404);
  });

  it("applies to the status subresource", async () => {
    await call("PATCH", `${DEP}/s?fieldManager=m`, { headers: APPLY, body: deploy("s") });
    const st = await call("PATCH", `${DEP}/s/status?fieldManager=ctrl`, { headers: APPLY, body: { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "s" }, status: { replicas: 5 } } });
    expect(st.status).toBe(200);
    const obj = await bodyJson(st);
    expect(obj.status.replicas).toBe(5);
    expect(managers(obj).sort()).toEqual(["ctrl/Apply/status", "m/Apply"]);
    expect((await call("PATCH", `${DEP}/none/status?fieldManager=ctrl`, { headers: APPLY, body: { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "none" } } })).status).toBe(404);
  });
});

describe("managedFields on other writes", () => {
  it("create, update, patches and subresources record Update entries", async () => {
    const c = await bodyJson(await call("POST", `${DEP}?fieldManager=kubectl-create`, { body: deploy("w") }));
    expect(managers(c)).toEqual(["kubectl-create/Update"]);
    expect(c.metadata.managedFields[0].fieldsV1["f:spec"]["f:replicas"]).toEqual({});

    // No fieldManager: the user agent up to its first "/".
    const p = await bodyJson(await call("PATCH", `${DEP}/w`, { headers: { "content-type": "application/strategic-merge-patch+json" }, body: { spec: { template: { spec: { "$setElementOrder/containers": [{ name: "c" }], containers: [{ name: "c", image: "nginx:2" }] } } } } }));
    expect(managers(p)).toEqual(["kubectl-create/Update", "kubectl.1.32/Update"]);

    const sc = await bodyJson(await call("PATCH", `${DEP}/w/scale`, { headers: { "content-type": "application/merge-patch+json" }, body: { spec: { replicas: 4 } } }));
    expect(sc.spec.replicas).toBe(4);
    const after = await bodyJson(await call("GET", `${DEP}/w`));
    const scaleEntry = (after.metadata.managedFields as Entry[]).find((e) => e.subresource === "scale")!;
    expect(scaleEntry).toMatchObject({ manager: "kubectl.1.32", operation: "Update", apiVersion: "apps/v1", fieldsV1: { "f:spec": { "f:replicas": {} } } });
    const creator = (after.metadata.managedFields as Entry[]).find((e) => e.manager === "kubectl-create")!;
    expect(JSON.stringify(creator.fieldsV1)).not.toContain("f:replicas"); // lost to the scaler

    const st = await bodyJson(await call("PUT", `${DEP}/w/status?fieldManager=ctrl`, { body: { ...after, status: { replicas: 4 } } }));
    expect(managers(st)).toContain("ctrl/Update/status");

    const mp = await bodyJson(await call("PATCH", `${DEP}/w?fieldManager=labeler`, { headers: { "content-type": "application/merge-patch+json" }, body: { metadata: { labels: { x: "y" } } } }));
    expect(managers(mp)).toContain("labeler/Update");
    const jp = await bodyJson(await call("PATCH", `${DEP}/w?fieldManager=jp`, { headers: { "content-type": "application/json-patch+json" }, body: [{ op: "add", path: "/spec/minReadySeconds", value: 5 }] }));
    expect(managers(jp)).toContain("jp/Update");
    const put = await bodyJson(await call("PUT", `${DEP}/w?fieldManager=replacer`, { body: { ...jp, spec: { ...jp.spec, paused: true } } }));
    expect(managers(put)).toContain("replacer/Update");

    // An update that changes nothing writes nothing.
    const rev = store.currentRevision();
    await call("PUT", `${DEP}/w?fieldManager=replacer`, { body: put });
    expect(store.currentRevision()).toBe(rev);
  });

  it("client-side apply then server-side apply: no conflict (upgrade path)", async () => {
    const manifest = deploy("u", 2);
    const lastApplied = JSON.stringify({ ...manifest, metadata: { ...manifest.metadata, annotations: {} } }) + "\n";
    const withAnn = { ...manifest, metadata: { ...manifest.metadata, annotations: { "kubectl.kubernetes.io/last-applied-configuration": lastApplied } } };
    await call("POST", `${DEP}?fieldManager=kubectl-client-side-apply&fieldValidation=Strict`, { body: withAnn });
    const r = await call("PATCH", `${DEP}/u?fieldManager=kubectl&fieldValidation=Strict&force=false`, { headers: APPLY, body: deploy("u", 3) });
    expect(r.status).toBe(200);
    expect((await bodyJson(r)).spec.replicas).toBe(3);
  });
});

describe("writes answer and store the typed form", () => {
  const SMP = { "content-type": "application/strategic-merge-patch+json" };

  it("a patch round-trips only the members it touches, and answers exactly what is stored", async () => {
    await call("POST", `${DEP}?fieldManager=m`, { body: deploy("t") });
    const MP = { "content-type": "application/merge-patch+json" };
    const JP = { "content-type": "application/json-patch+json" };
    const cases: Array<[Record<string, string>, unknown]> = [
      [SMP, { metadata: { labels: { a: "b" }, annotations: {} }, spec: { minReadySeconds: 2, template: { metadata: { labels: {} } } } }],
      [MP, { spec: { strategy: { rollingUpdate: {} }, revisionHistoryLimit: 4 }, status: { conditions: [] } }],
      [JP, [{ op: "add", path: "/metadata/annotations", value: {} }, { op: "replace", path: "/spec/replicas", value: 2 }]],
      [JP, [{ op: "copy", from: "/metadata/labels", path: "/spec/template/metadata/labels" }]],
      [JP, [{ op: "add", path: "/spec/template/spec/nodeSelector", value: {} }, { op: "add", path: "/metadata/finalizers", value: [] }]],
      [SMP, { spec: { $retainKeys: ["replicas", "selector", "template"], replicas: 1 } }],
    ];
    for (const [headers, body] of cases) {
      const r = await call("PATCH", `${DEP}/t?fieldManager=p`, { headers, body });
      expect(r.status).toBe(200);
      const answered = await bodyJson(r);
      expect(answered).toEqual(await bodyJson(await call("GET", `${DEP}/t`)));
      expect(answered.metadata.annotations).toBeUndefined();
      expect(answered.spec.template.spec.nodeSelector).toBeUndefined();
    }
    const st = await bodyJson(await call("PATCH", `${DEP}/t/status?fieldManager=p`, { headers: MP, body: { status: { replicas: 3, conditions: [] } } }));
    expect(st).toEqual(await bodyJson(await call("GET", `${DEP}/t`)));
    expect(st.status).toEqual({ replicas: 3 });
  });

  it("empty maps and lists the typed form cannot carry are dropped; leaving them is a no-op", async () => {
    const body = { ...deploy("e"), metadata: { name: "e", labels: {}, annotations: {}, finalizers: [] } };
    const c = await bodyJson(await call("POST", `${DEP}?fieldManager=m`, { body }));
    expect(c.metadata.labels).toBeUndefined();
    expect(c.metadata.annotations).toBeUndefined();
    expect(c.metadata.finalizers).toBeUndefined();
    expect(c.spec.template.spec.containers[0].resources).toEqual({}); // a message stays, even empty

    // kubectl diff/apply send `annotations: {}`: nothing changes, nothing is written or answered.
    const rev = store.currentRevision();
    for (const [headers, patch] of [
      [SMP, { metadata: { annotations: {} } }],
      [{ "content-type": "application/merge-patch+json" }, { metadata: { annotations: {}, labels: {} } }],
      [SMP, { metadata: { labels: { $patch: "delete" } } }],
    ] as const) {
      const r = await call("PATCH", `${DEP}/e?fieldManager=m`, { headers, body: patch });
      expect(r.status).toBe(200);
      const o = await bodyJson(r);
      expect(o.metadata.annotations).toBeUndefined();
      expect(o.metadata.labels).toBeUndefined();
      expect(o.metadata.resourceVersion).toBe(c.metadata.resourceVersion);
    }
    const dry = await bodyJson(await call("PATCH", `${DEP}/e?fieldManager=m&dryRun=All`, { headers: SMP, body: { metadata: { annotations: {} }, spec: { replicas: 3 } } }));
    expect(dry.spec.replicas).toBe(3);
    expect(dry.metadata.annotations).toBeUndefined();

    // Server-side apply of a manifest with empty maps: created without them, re-apply writes nothing.
    const applied = { ...deploy("s"), metadata: { name: "s", annotations: {} } };
    const a = await bodyJson(await call("PATCH", `${DEP}/s?fieldManager=m`, { headers: APPLY, body: applied }));
    expect(a.metadata.annotations).toBeUndefined();
    const rev2 = store.currentRevision();
    expect(rev2).toBeGreaterThan(rev);
    const again = await bodyJson(await call("PATCH", `${DEP}/s?fieldManager=m`, { headers: APPLY, body: applied }));
    expect(again.metadata.resourceVersion).toBe(a.metadata.resourceVersion);
    expect(store.currentRevision()).toBe(rev2);
  });
});
