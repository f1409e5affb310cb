import { describe, it, expect, beforeEach, afterEach } from "vitest";
import { createMemoryStore } from "../store/memory.ts";
import type { Store } from "../store/types.ts";
import { createApiServer, type ApiServer } from "./server.ts";
import { bodyJson, bodyText, fakeRequest, readWatchLines } from "./_testing.ts";
import { encodeObject, decodeObject } from "../api/codec/mod.ts";

const TOKEN = { authorization: "Bearer t0k" };
const tokens = new Map([["t0k", { user: "admin", groups: ["system:masters"] }]]);

let store: Store;
let api: ApiServer;

async function call(method: string, url: string, init: { headers?: Record<string, string>; body?: unknown } = {}) {
  const res = await api.handler(fakeRequest(method, url, {
    headers: { ...TOKEN, ...(init.headers ?? {}) },
    ...(init.body !== undefined ? { body: init.body as object } : {}),
  }));
  return res;
}

const cm = (name: string, data: Record<string, string> = { a: "1" }) => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name }, data });
const deploy = (name: string, replicas = 1) => ({
  apiVersion: "apps/v1", kind: "Deployment", metadata: { name, labels: { app: name } },
  spec: { replicas, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: "c", image: "nginx" }] } } },
});

beforeEach(async () => {
  store = createMemoryStore();
  api = createApiServer({ store, tokens, compactIntervalMs: 0 });
  await api.start();
});
afterEach(async () => {
  await api.stop();
  await store.close();
});

describe("bootstrap and discovery", () => {
  it("creates the system namespaces and the kubernetes service", async () => {
    const ns = await bodyJson(await call("GET", "/api/v1/namespaces"));
    expect(ns.items.map((n: { metadata: { name: string } }) => n.metadata.name).sort()).toEqual(["default", "kube-node-lease", "kube-public", "kube-system"]);
    const svc = await bodyJson(await call("GET", "/api/v1/namespaces/default/services/kubernetes"));
    expect(svc.spec.clusterIP).toBe("10.96.0.1");
  });
  it("serves /version, health and metrics without auth", async () => {
    const v = await bodyJson(await api.handler(fakeRequest("GET", "/version")));
    expect(v.major).toBe("1");
    expect(v.minor).toBe("32");
    expect((await api.handler(fakeRequest("GET", "/healthz"))).status).toBe(200);
    expect(await bodyText(await api.handler(fakeRequest("GET", "/readyz?verbose")))).toContain("readyz check passed");
    expect((await api.handler(fakeRequest("GET", "/livez/ping"))).status).toBe(200);
    const unknownCheck = await api.handler(fakeRequest("GET", "/healthz/nope"));
    expect(unknownCheck.status).toBe(404);
    expect(await bodyJson(unknownCheck)).toMatchObject({ kind: "Status", reason: "NotFound", code: 404 });
    const m = await bodyText(await call("GET", "/metrics"));
    expect(m).toContain("apiserver_request_total");
  });
  it("answers 401 without credentials and with bad tokens", async () => {
    const r = await api.handler(fakeRequest("GET", "/api/v1/pods"));
    expect(r.status).toBe(401);
    expect((await bodyJson(r)).reason).toBe("Unauthorized");
    expect((await api.handler(fakeRequest("GET", "/api", { headers: { authorization: "Bearer nope" } }))).status).toBe(401);
  });
  it("accepts client certificates", async () => {
    const r = await api.handler(fakeRequest("GET", "/api/v1/namespaces", { peerCertificate: { commonName: "admin", organizations: ["system:masters"] } }));
    expect(r.status).toBe(200);
  });
  it("serves aggregated discovery with the exact content type", async () => {
    const accept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
    const r = await call("GET", "/apis", { headers: { accept } });
    expect(r.headers?.["content-type"]).toBe("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
    const doc = await bodyJson(r);
    const apps = doc.items.find((i: { metadata: { name: string } }) => i.metadata.name === "apps");
    const d = apps.versions[0].resources.find((x: { resource: string }) => x.resource === "deployments");
    expect(d.subresources.find((s: { subresource: string }) => s.subresource === "scale").responseKind).toEqual({ group: "autoscaling", version: "v1", kind: "Scale" });
    const legacy = await bodyJson(await call("GET", "/api", { headers: { accept: "application/json" } }));
    expect(legacy.kind).toBe("APIVersions");
    const rl = await bodyJson(await call("GET", "/apis/apps/v1"));
    expect(rl.resources.find((x: { name: string }) => x.name === "deployments/scale")).toMatchObject({ group: "autoscaling", version: "v1", kind: "Scale" });
    const core = await bodyJson(await call("GET", "/api/v1"));
    expect(core.resources.find((x: { name: string }) => x.name === "pods").shortNames).toEqual(["po"]);
  });
  it("404s unknown paths and resources, 405s wrong methods", async () => {
    for (const p of ["/nope", "/api/v1/frobs", "/apis/nope/v1", "/apis/apps/v1/namespaces/default/frobs", "/api/v1/namespaces/default/pods/x/nope", "/api/v1/nodes/x/a/b/c"]) {
      const r = await call("GET", p);
      expect(r.status, p).toBe(404);
      const s = await bodyJson(r);
      expect(s.kind).toBe("Status");
    }
    const unknown = await bodyJson(await call("GET", "/api/v1/frobs"));
    expect(unknown.message).toBe("the server could not find the requested resource");
    expect((await call("POST", "/api/v1/namespaces/default/configmaps/x", { body: cm("x") })).status).toBe(405);
    expect((await call("PUT", "/api/v1/namespaces/default/configmaps", { body: cm("x") })).status).toBe(405);
    expect((await call("OPTIONS", "/api/v1/namespaces")).status).toBe(405);
  });
});

describe("create / get / update / patch / delete", () => {
  it("creates with uid, creationTimestamp, resourceVersion; get returns it", async () => {
    const r = await call("POST", "/api/v1/namespaces/default/configmaps", { body: cm("one") });
    expect(r.status).toBe(201);
    const o = await bodyJson(r);
    expect(o.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(o.metadata.creationTimestamp).toMatch(/Z$/);
    expect(o.metadata.resourceVersion).toBe(String(store.currentRevision()));
    const g = await bodyJson(await call("GET", "/api/v1/namespaces/default/configmaps/one"));
    expect(g).toEqual(o);
  });
  it("409 AlreadyExists, 404 missing namespace, 404 missing object", async () => {
    await call("POST", "/api/v1/namespaces/default/configmaps", { body: cm("dup") });
    const r = await call("POST", "/api/v1/namespaces/default/configmaps", { body: cm("dup") });
    expect(r.status).toBe(409);
    expect((await bodyJson(r)).reason).toBe("AlreadyExists");
    const n = await call("POST", "/api/v1/namespaces/nope/configmaps", { body: cm("x") });
    expect(n.status).toBe(404);
    expect((await bodyJson(n)).message).toBe(`namespaces "nope" not found`);
    const g = await call("GET", "/api/v1/namespaces/default/configmaps/zzz");
    expect(await bodyJson(g)).toMatchObject({ code: 404, reason: "NotFound", message: `configmaps "zzz" not found`, details: { name: "zzz", kind: "configmaps" } });
  });
  it("generateName adds 5 random characters", async () => {
    const o = await bodyJson(await call("POST", "/api/v1/namespaces/default/configmaps", { body: { apiVersion: "v1", kind: "ConfigMap", metadata: { generateName: "gen-" } } }));
    expect(o.metadata.name).toMatch(/^gen-[a-z0-9]{5}$/);
  });
  it("rejects bad bodies: malformed JSON/YAML/protobuf, mismatched kind, bad names, 413, 415", async () => {
    const bad = async (body: unknown, ct: string | undefined, code: number, re?: RegExp) => {
      const r = await api.handler(fakeRequest("POST", "/api/v1/namespaces/default/configmaps", {
        headers: { ...TOKEN, ...(ct ? { "content-type": ct } : {}) }, body: body as string,
      }));
      expect(r.status, String(body).slice(0, 50)).toBe(code);
      const s = await bodyJson(r);
      expect(s.kind).toBe("Status");
      if (re) expect(s.message).toMatch(re);
    };
    await bad("{not json", "application/json", 400);
    await bad("a: [", "application/yaml", 400);
    await bad(new Uint8Array([0x6b, 0x38, 0x73, 0x00, 0xff, 0xff]), "application/vnd.kubernetes.protobuf", 400);
    await bad(JSON.stringify({ apiVersion: "v1", kind: "Secret", metadata: { name: "x" } }), "application/json", 400, /cannot be handled as a ConfigMap/);
    await bad(JSON.stringify({ apiVersion: "apps/v1", kind: "ConfigMap", metadata: { name: "x" } }), "application/json", 400, /does not match the expected API version/);
    await bad(JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "Bad_Name" } }), "application/json", 422, /RFC 1123/);
    await bad(JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: {} }), "application/json", 422, /name or generateName is required/);
    await bad(JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x", namespace: "other" } }), "application/json", 400, /namespace of the provided object/);
    await bad(JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: 5 } }), "application/json", 400);
    await bad(JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "big" }, data: { x: "y".repeat(3 * 1024 * 1024 + 10) } }), "application/json", 413);
    await bad("{}", "text/plain", 415);
    await bad("[1,2]", "application/json", 400);
    await bad("", "application/json", 400);
  });
  it("accepts YAML and protobuf bodies and serves YAML and protobuf", async () => {
    const y = await call("POST", "/api/v1/namespaces/default/configmaps", {
      headers: { "content-type": "application/yaml" }, body: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: y1\ndata:\n  k: v\n",
    });
    expect(y.status).toBe(201);
    const pb = await api.handler(fakeRequest("POST", "/api/v1/namespaces/default/configmaps", {
      headers: { ...TOKEN, "content-type": "application/vnd.kubernetes.protobuf", accept: "application/vnd.kubernetes.protobuf, application/json" },
      body: encodeObject(cm("p1")),
    }));
    expect(pb.status).toBe(201);
    expect(pb.headers?.["content-type"]).toBe("application/vnd.kubernetes.protobuf");
    const back = decodeObject(pb.body as Uint8Array);
    expect(back.metadata?.name).toBe("p1");
    const yl = await call("GET", "/api/v1/namespaces/default/configmaps/y1", { headers: { accept: "application/yaml" } });
    expect(yl.headers?.["content-type"]).toBe("application/yaml");
    expect(await bodyText(yl)).toContain("name: y1");
  });
  it("406 when nothing acceptable", async () => {
    const r = await call("GET", "/api/v1/namespaces/default/configmaps", { headers: { accept: "text/html" } });
    expect(r.status).toBe(406);
    expect((await bodyJson(r)).reason).toBe("NotAcceptable");
  });
  it("fieldValidation Strict / Warn / Ignore, also duplicate fields", async () => {
    const body = JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "fv" }, spec: { foo: 1 } });
    const strict = await call("POST", "/api/v1/namespaces/default/configmaps?fieldValidation=Strict", { body });
    expect(strict.status).toBe(400);
    expect((await bodyJson(strict)).message).toBe(`strict decoding error: unknown field "spec"`);
    const warn = await call("POST", "/api/v1/namespaces/default/configmaps?fieldValidation=Warn", { body });
    expect(warn.status).toBe(201);
    expect(warn.headers?.["warning"]).toBe(`299 - "unknown field \\"spec\\""`);
    const dup = await call("POST", "/api/v1/namespaces/default/configmaps?fieldValidation=Strict", {
      body: `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"d1","name":"d2"}}`,
    });
    expect((await bodyJson(dup)).message).toBe(`strict decoding error: duplicate field "metadata.name"`);
    const ign = await call("POST", "/api/v1/namespaces/default/configmaps?fieldValidation=Ignore", { body: body.replace("fv", "fv2") });
    expect(ign.status).toBe(201);
    expect(ign.headers?.["warning"]).toBeUndefined();
    expect((await call("POST", "/api/v1/namespaces/default/configmaps?fieldValidation=Nope", { body })).status).toBe(400);
  });
  it("update: optimistic concurrency, name mismatch", async () => {
    const o = await bodyJson(await call("POST", "/api/v1/namespaces/default/configmaps", { body: cm("u") }));
    const u1 = await call("PUT", "/api/v1/namespaces/default/configmaps/u", { body: { ...o, data: { a: "2" } } });
    expect(u1.status).toBe(200);
    const stale = await call("PUT", "/api/v1/namespaces/default/configmaps/u", { body: { ...o, data: { a: "3" } } });
    expect(stale.status).toBe(409);
    expect((await bodyJson(stale)).message).toBe(`Operation cannot be fulfilled on configmaps "u": the object has been modified; please apply your changes to the latest version and try again`);
    const noRv = await call("PUT", "/api/v1/namespaces/default/configmaps/u", { body: cm("u", { a: "4" }) });
    expect((await bodyJson(noRv)).data).toEqual({ a: "4" });
    const mism = await call("PUT", "/api/v1/namespaces/default/configmaps/u", { body: cm("v") });
    expect(mism.status).toBe(400);
    expect((await call("PUT", "/api/v1/namespaces/default/configmaps/missing", { body: cm("missing") })).status).toBe(404);
  });
  it("generation bumps on spec changes only; status is kept on main updates", async () => {
    const d = await bodyJson(await call("POST", "/apis/apps/v1/namespaces/default/deployments", { body: deploy("web") }));
    expect(d.metadata.generation).toBe(1);
    const p = await bodyJson(await call("PATCH", "/apis/apps/v1/namespaces/default/deployments/web", {
      headers: { "content-type": "application/merge-patch+json" }, body: { spec: { replicas: 3 }, status: { replicas: 9 } },
    }));
    expect(p.metadata.generation).toBe(2);
    expect(p.status?.replicas).toBeUndefined();
    const l = await bodyJson(await call("PATCH", "/apis/apps/v1/namespaces/default/deployments/web", {
      headers: { "content-type": "application/merge-patch+json" }, body: { metadata: { labels: { x: "y" } } },
    }));
    expect(l.metadata.generation).toBe(2);
    const st = await call("PUT", "/apis/apps/v1/namespaces/default/deployments/web/status", { body: { ...l, status: { replicas: 3, observedGeneration: 2 }, spec: { ...l.spec, replicas: 7 } } });
    expect(st.status).toBe(200);
    const after = await bodyJson(st);
    expect(after.status.replicas).toBe(3);
    expect(after.spec.replicas).toBe(3);
  });
  it("patch: json-patch, merge, strategic; errors; 404; rv conflicts", async () => {
    await call("POST", "/apis/apps/v1/namespaces/default/deployments", { body: deploy("p") });
    const jp = await call("PATCH", "/apis/apps/v1/namespaces/default/deployments/p", {
      headers: { "content-type": "application/json-patch+json" }, body: [{ op: "replace", path: "/spec/replicas", value: 5 }],
    });
    expect((await bodyJson(jp)).spec.replicas).toBe(5);
    const failing = await call("PATCH", "/apis/apps/v1/namespaces/default/deployments/p", {
      headers: { "content-type": "application/json-patch+json" }, body: [{ op: "test", path: "/spec/replicas", value: 1 }],
    });
    expect(failing.status).toBe(422);
    const malformed = await call("PATCH", "/apis/apps/v1/namespaces/default/deployments/p", {
      headers: { "content-type": "application/json-patch+json" }, body: { op: "add" },
    });
    expect(malformed.status).toBe(400);
    const smp = await call("PATCH", "/apis/apps/v1/namespaces/default/deployments/p", {
      headers: { "content-type": "application/strategic-merge-patch+json" },
      body: { spec: { template: { spec: { containers: [{ name: "c", image: "nginx:2" }, { name: "side", image: "busybox" }] } } } },
    });
    const s = await bodyJson(smp);
    expect(s.spec.template.spec.containers.map((c: { name: string; image: string }) => `${c.name}=${c.image}`)).toEqual(["c=nginx:2", "side=busybox"]);
    const del = await bodyJson(await call("PATCH", "/apis/apps/v1/namespaces/default/deployments/p", {
      headers: { "content-type": "application/strategic-merge-patch+json" },
      body: { spec: { template: { spec: { containers: [{ name: "side", $patch: "delete" }] } } } },
    }));
    expect(del.spec.template.spec.containers).toHaveLength(1);
    expect((await call("PATCH", "/apis/apps/v1/namespaces/default/deployments/nope", {
      headers: { "content-type": "application/merge-patch+json" }, body: { spec: {} },
    })).status).toBe(404);
    const stale = await call("PATCH", "/apis/apps/v1/namespaces/default/deployments/p", {
      headers: { "content-type": "application/merge-patch+json" }, body: { metadata: { resourceVersion: "1" }, spec: { replicas: 2 } },
    });
    expect(stale.status).toBe(409);
    const apply = await call("PATCH", "/apis/apps/v1/namespaces/default/deployments/p", {
      headers: { "content-type": "application/apply-patch+yaml" }, body: deploy("p"),
    });
    // Apply without a fieldManager: upstream's PatchOptions validation (422), not a media-type error.
    expect(apply.status).toBe(422);
    expect(JSON.parse(await bodyText(apply)).message).toContain("fieldManager: Required value");
    const weird = await call("PATCH", "/apis/apps/v1/namespaces/default/deployments/p", { headers: { "content-type": "text/plain" }, body: "x" });
    expect(weird.status).toBe(415);
  });
  it("dryRun=All validates but does not persist", async () => {
    const rev = store.currentRevision();
    const r = await call("POST", "/api/v1/namespaces/default/configmaps?dryRun=All", { body: cm("dry") });
    expect(r.status).toBe(201);
    expect(store.currentRevision()).toBe(rev);
    expect((await call("GET", "/api/v1/namespaces/default/configmaps/dry")).status).toBe(404);
    expect((await call("POST", "/api/v1/namespaces/default/configmaps?dryRun=Some", { body: cm("dry") })).status).toBe(400);
  });
  it("delete returns Status; preconditions; finalizers keep the object until emptied", async () => {
    const o = await bodyJson(await call("POST", "/api/v1/namespaces/default/configmaps", { body: { ...cm("f"), metadata: { name: "f", finalizers: ["example.com/x"] } } }));
    const pre = await call("DELETE", "/api/v1/namespaces/default/configmaps/f", { body: { preconditions: { uid: "other" } } });
    expect(pre.status).toBe(409);
    const d = await call("DELETE", "/api/v1/namespaces/default/configmaps/f", { body: { propagationPolicy: "Background" } });
    expect(d.status).toBe(200);
    const cur = await bodyJson(await call("GET", "/api/v1/namespaces/default/configmaps/f"));
    expect(cur.metadata.deletionTimestamp).toBeDefined();
    expect(cur.metadata.uid).toBe(o.metadata.uid);
    const emptied = await call("PATCH", "/api/v1/namespaces/default/configmaps/f", {
      headers: { "content-type": "application/merge-patch+json" }, body: { metadata: { finalizers: null } },
    });
    expect(emptied.status).toBe(200);
    expect((await call("GET", "/api/v1/namespaces/default/configmaps/f")).status).toBe(404);
    await call("POST", "/api/v1/namespaces/default/configmaps", { body: cm("g") });
    const g = await call("DELETE", "/api/v1/namespaces/default/configmaps/g");
    expect(await bodyJson(g)).toMatchObject({ kind: "Status", status: "Success", details: { name: "g", kind: "configmaps" } });
    expect((await call("DELETE", "/api/v1/namespaces/default/configmaps/g")).status).toBe(404);
    await call("POST", "/api/v1/namespaces/default/configmaps", { body: cm("h") });
    const orphan = await call("DELETE", "/api/v1/namespaces/default/configmaps/h?propagationPolicy=Orphan");
    expect((await bodyJson(orphan)).metadata.finalizers).toEqual(["orphan"]);
    expect((await call("DELETE", "/api/v1/namespaces/default/configmaps/h?propagationPolicy=Bogus")).status).toBe(422);
  });
  it("pods: graceful deletion when bound, immediate when not; binding", async () => {
    const pod = (name: string) => ({ apiVersion: "v1", kind: "Pod", metadata: { name }, spec: { containers: [{ name: "c", image: "x" }] } });
    await call("POST", "/api/v1/namespaces/default/pods", { body: pod("a") });
    await call("POST", "/api/v1/namespaces/default/pods", { body: pod("b") });
    const bind = await call("POST", "/api/v1/namespaces/default/pods/a/binding", { body: { apiVersion: "v1", kind: "Binding", metadata: { name: "a" }, target: { kind: "Node", name: "n1" } } });
    expect(bind.status).toBe(201);
    const again = await call("POST", "/api/v1/namespaces/default/pods/a/binding", { body: { apiVersion: "v1", kind: "Binding", metadata: { name: "a" }, target: { kind: "Node", name: "n2" } } });
    expect(again.status).toBe(409);
    const a = await bodyJson(await call("GET", "/api/v1/namespaces/default/pods/a"));
    expect(a.spec.nodeName).toBe("n1");
    expect(a.status.conditions[0]).toMatchObject({ type: "PodScheduled", status: "True" });
    const da = await bodyJson(await call("DELETE", "/api/v1/namespaces/default/pods/a"));
    expect(da.metadata.deletionGracePeriodSeconds).toBe(30);
    expect((await call("GET", "/api/v1/namespaces/default/pods/a")).status).toBe(200);
    await call("DELETE", "/api/v1/namespaces/default/pods/a?gracePeriodSeconds=0");
    expect((await call("GET", "/api/v1/namespaces/default/pods/a")).status).toBe(404);
    await call("DELETE", "/api/v1/namespaces/default/pods/b");
    expect((await call("GET", "/api/v1/namespaces/default/pods/b")).status).toBe(404);
  });
  it("namespaces: terminating blocks creates; system namespaces are protected", async () => {
    await call("POST", "/api/v1/namespaces", { body: { apiVersion: "v1", kind: "Namespace", metadata: { name: "tmp", finalizers: ["x/y"] } } });
    await call("POST", "/api/v1/namespaces/tmp/configmaps", { body: cm("c") });
    await call("DELETE", "/api/v1/namespaces/tmp");
    const r = await call("POST", "/api/v1/namespaces/tmp/configmaps", { body: cm("d") });
    expect(r.status).toBe(403);
    expect((await bodyJson(r)).message).toBe(`configmaps "d" is forbidden: unable to create new content in namespace tmp because it is being terminated`);
    // Content stays until the namespace controller removes it; the namespace stays Terminating.
    expect((await call("GET", "/api/v1/namespaces/tmp/configmaps/c")).status).toBe(200);
    expect((await bodyJson(await call("GET", "/api/v1/namespaces/tmp"))).status.phase).toBe("Terminating");
    expect((await call("DELETE", "/api/v1/namespaces/default")).status).toBe(403);
  });
  it("namespaces: finalize removes a Terminating namespace once both finalizer lists are empty", async () => {
    await call("POST", "/api/v1/namespaces", { body: { apiVersion: "v1", kind: "Namespace", metadata: { name: "fin" } } });
    const created = await bodyJson(await call("GET", "/api/v1/namespaces/fin"));
    expect(created.spec.finalizers).toEqual(["kubernetes"]);
    expect((await call("DELETE", "/api/v1/namespaces/fin")).status).toBe(200);
    const term = await bodyJson(await call("GET", "/api/v1/namespaces/fin"));
    expect(term.metadata.deletionTimestamp).toBeTruthy();
    expect(term.status.phase).toBe("Terminating");
    // finalize is PUT only, and keeps everything but spec.finalizers
    expect((await call("POST", "/api/v1/namespaces/fin/finalize", { body: term })).status).toBe(405);
    const bad = await call("PUT", "/api/v1/namespaces/fin/finalize", { body: { ...term, spec: { finalizers: [""] } } });
    expect(bad.status).toBe(422);
    const fin = await call("PUT", "/api/v1/namespaces/fin/finalize", { body: { ...term, spec: { finalizers: [] } } });
    expect(fin.status).toBe(200);
    expect((await call("GET", "/api/v1/namespaces/fin")).status).toBe(404);
  });
  it("deletecollection by label", async () => {
    await call("POST", "/api/v1/namespaces/default/configmaps", { body: { ...cm("l1"), metadata: { name: "l1", labels: { x: "1" } } } });
    await call("POST", "/api/v1/namespaces/default/configmaps", { body: { ...cm("l2"), metadata: { name: "l2", labels: { x: "2" } } } });
    const r = await call("DELETE", "/api/v1/namespaces/default/configmaps?labelSelector=x%3D1");
    expect(r.status).toBe(200);
    expect((await call("GET", "/api/v1/namespaces/default/configmaps/l1")).status).toBe(404);
    expect((await call("GET", "/api/v1/namespaces/default/configmaps/l2")).status).toBe(200);
  });
});

describe("subresources and services", () => {
  it("scale GET / PATCH (merge) / PUT with validation", async () => {
    await call("POST", "/apis/apps/v1/namespaces/default/deployments", { body: deploy("s", 2) });
    const g = await bodyJson(await call("GET", "/apis/apps/v1/namespaces/default/deployments/s/scale"));
    expect(g).toMatchObject({ kind: "Scale", apiVersion: "autoscaling/v1", spec: { replicas: 2 } });
    const p = await call("PATCH", "/apis/apps/v1/namespaces/default/deployments/s/scale", {
      headers: { "content-type": "application/merge-patch+json" }, body: { spec: { replicas: 3 } },
    });
    expect((await bodyJson(p)).spec.replicas).toBe(3);
    const d = await bodyJson(await call("GET", "/apis/apps/v1/namespaces/default/deployments/s"));
    expect(d.spec.replicas).toBe(3);
    const neg = await call("PUT", "/apis/apps/v1/namespaces/default/deployments/s/scale", { body: { apiVersion: "autoscaling/v1", kind: "Scale", metadata: { name: "s" }, spec: { replicas: -1 } } });
    expect(neg.status).toBe(422);
    expect((await bodyJson(neg)).details.causes[0]).toMatchObject({ field: "spec.replicas" });
  });
  it("allocates cluster IPs and node ports without duplicates, releases on delete", async () => {
    const svc = (name: string, extra: object = {}) => ({ apiVersion: "v1", kind: "Service", metadata: { name }, spec: { ports: [{ port: 80 }], ...extra } });
    const made = await Promise.all(Array.from({ length: 10 }, (_, i) => call("POST", "/api/v1/namespaces/default/services", { body: svc(`s${i}`, { type: "NodePort" }) })));
    const objs = await Promise.all(made.map(bodyJson));
    const ips = objs.map((o) => o.spec.clusterIP);
    expect(new Set(ips).size).toBe(10);
    for (const ip of ips) expect(ip).toMatch(/^10\.(9[6-9]|10[0-9]|11[01])\./);
    const ports = objs.map((o) => o.spec.ports[0].nodePort);
    expect(new Set(ports).size).toBe(10);
    const taken = await call("POST", "/api/v1/namespaces/default/services", { body: svc("clash", { clusterIP: ips[0] }) });
    expect(taken.status).toBe(422);
    expect((await bodyJson(taken)).message).toContain("provided IP is already allocated");
    await call("DELETE", "/api/v1/namespaces/default/services/s0");
    const reuse = await call("POST", "/api/v1/namespaces/default/services", { body: svc("reuse", { clusterIP: ips[0] }) });
    expect(reuse.status).toBe(201);
    const headless = await bodyJson(await call("POST", "/api/v1/namespaces/default/services", { body: svc("hl", { clusterIP: "None" }) }));
    expect(headless.spec.clusterIP).toBe("None");
  });
});

describe("list, table, watch", () => {
  it("lists with pagination and assembles items", async () => {
    for (let i = 0; i < 5; i++) await call("POST", "/api/v1/namespaces/default/configmaps", { body: cm(`c${i}`) });
    const p1 = await bodyJson(await call("GET", "/api/v1/namespaces/default/configmaps?limit=2"));
    expect(p1).toMatchObject({ kind: "ConfigMapList", apiVersion: "v1" });
    expect(p1.items).toHaveLength(2);
    expect(p1.metadata.continue).toBeTruthy();
    const p2 = await bodyJson(await call("GET", `/api/v1/namespaces/default/configmaps?limit=10&continue=${encodeURIComponent(p1.metadata.continue)}`));
    expect(p2.items).toHaveLength(3);
    const all = await bodyJson(await call("GET", "/api/v1/configmaps"));
    expect(all.items.length).toBeGreaterThanOrEqual(5);
    expect((await call("GET", "/api/v1/namespaces/default/configmaps?limit=x")).status).toBe(400);
    expect((await call("GET", "/api/v1/namespaces/default/configmaps?labelSelector=%3D%3D%3D")).status).toBe(400);
  });
  it("renders Tables with includeObject and PartialObjectMetadataList", async () => {
    await call("POST", "/api/v1/namespaces/default/configmaps", { body: cm("t1") });
    const TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
    const t = await bodyJson(await call("GET", "/api/v1/namespaces/default/configmaps?limit=500", { headers: { accept: TABLE } }));
    expect(t.kind).toBe("Table");
    expect(t.columnDefinitions[0].name).toBe("Name");
    expect(t.rows[0].cells).toHaveLength(t.columnDefinitions.length);
    expect(t.rows[0].object.kind).toBe("PartialObjectMetadata");
    const full = await bodyJson(await call("GET", "/api/v1/namespaces/default/configmaps/t1?includeObject=Object", { headers: { accept: TABLE } }));
    expect(full.rows[0].object.kind).toBe("ConfigMap");
    const none = await bodyJson(await call("GET", "/api/v1/namespaces/default/configmaps?includeObject=None", { headers: { accept: TABLE } }));
    expect(none.rows[0].object).toBeUndefined();
    const pom = await bodyJson(await call("GET", "/api/v1/namespaces/default/configmaps", { headers: { accept: "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1" } }));
    expect(pom.kind).toBe("PartialObjectMetadataList");
  });
  it("watches: initial ADDED, then MODIFIED/DELETED; Table watch headers once", async () => {
    await call("POST", "/api/v1/namespaces/default/configmaps", { body: cm("w1") });
    const w = await call("GET", "/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=5");
    expect(w.status).toBe(200);
    const pending = readWatchLines(w, 3);
    await call("PATCH", "/api/v1/namespaces/default/configmaps/w1", { headers: { "content-type": "application/merge-patch+json" }, body: { data: { b: "2" } } });
    await call("DELETE", "/api/v1/namespaces/default/configmaps/w1");
    const ev = (await pending) as { type: string; object: { metadata: { name: string } } }[];
    expect(ev.map((e) => e.type)).toEqual(["ADDED", "MODIFIED", "DELETED"]);
    expect(ev[0]?.object.metadata.name).toBe("w1");

    await call("POST", "/api/v1/namespaces/default/configmaps", { body: cm("w2") });
    await call("POST", "/api/v1/namespaces/default/configmaps", { body: cm("w3") });
    const tw = await call("GET", "/api/v1/watch/namespaces/default/configmaps?timeoutSeconds=5", { headers: { accept: "application/json;as=Table;v=v1;g=meta.k8s.io" } });
    const tev = (await readWatchLines(tw, 2)) as { object: { kind: string; columnDefinitions: unknown[] } }[];
    expect(tev[0]?.object.kind).toBe("Table");
    expect(tev[0]?.object.columnDefinitions.length).toBeGreaterThan(0);
    expect(tev[1]?.object.columnDefinitions).toEqual([]);
  });
  it("410 for a compacted resourceVersion (HTTP or in-stream)", async () => {
    for (let i = 0; i < 3; i++) await call("POST", "/api/v1/namespaces/default/configmaps", { body: cm(`x${i}`) });
    await store.compact(store.currentRevision());
    for (const useWatchCache of [true, false]) {
      const other = createApiServer({ store, tokens, compactIntervalMs: 0, useWatchCache });
      await other.start();
      try {
        const r = await other.handler(fakeRequest("GET", "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=2&timeoutSeconds=2", { headers: TOKEN }));
        if (r.status === 200) {
          const ev = (await readWatchLines(r, 1)) as { type: string; object: { code: number; reason: string } }[];
          expect(ev[0]?.type).toBe("ERROR");
          expect(ev[0]?.object).toMatchObject({ code: 410, reason: "Expired" });
        } else {
          expect(r.status).toBe(410);
          expect((await bodyJson(r)).reason).toBe("Expired");
        }
      } finally {
        await other.stop();
      }
    }
  });
  it("gzips large responses when asked", async () => {
    const big = "z".repeat(40_000);
    for (let i = 0; i < 5; i++) await call("POST", "/api/v1/namespaces/default/configmaps", { body: cm(`big${i}`, { v: big }) });
    const r = await call("GET", "/api/v1/namespaces/default/configmaps", { headers: { "accept-encoding": "gzip" } });
    expect(r.headers?.["content-encoding"]).toBe("gzip");
    expect((await bodyJson(r)).items).toHaveLength(5);
  });
});

describe("type errors and protobuf watch", () => {
  it("400 for values of the wrong JSON type", async () => {
    const r = await call("POST", "/apis/apps/v1/namespaces/default/deployments", { body: { ...deploy("bad"), spec: { replicas: "three" } } });
    expect(r.status).toBe(400);
    expect((await bodyJson(r)).message).toContain("spec.replicas");
    await call("POST", "/apis/apps/v1/namespaces/default/deployments", { body: deploy("ok") });
    const p = await call("PATCH", "/apis/apps/v1/namespaces/default/deployments/ok", {
      headers: { "content-type": "application/merge-patch+json" }, body: { spec: { template: "x" } },
    });
    expect(p.status).toBe(400);
  });
  it("streams length-framed protobuf watch events", async () => {
    await call("POST", "/api/v1/namespaces/default/configmaps", { body: cm("pw") });
    const r = await call("GET", "/api/v1/namespaces/default/configmaps?watch=1&timeoutSeconds=2", { headers: { accept: "application/vnd.kubernetes.protobuf, application/json" } });
    expect(r.headers?.["content-type"]).toBe("application/vnd.kubernetes.protobuf;stream=watch");
    const it = (r.body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
    const first = await it.next();
    await it.return?.();
    const frame = first.value as Uint8Array;
    const { decodeWatchEvent } = await import("../api/codec/mod.ts");
    const ev = decodeWatchEvent(frame);
    expect(ev.type).toBe("ADDED");
    expect(JSON.stringify(ev.object)).toContain("pw");
  });
  it("watch with allowWatchBookmarks and the store-backed reader", async () => {
    const other = createApiServer({ store, tokens, compactIntervalMs: 0, useWatchCache: false });
    await other.start();
    try {
      const rv = store.currentRevision();
      const r = await other.handler(fakeRequest("GET", `/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${rv}&allowWatchBookmarks=true&timeoutSeconds=2`, { headers: TOKEN }));
      const pending = readWatchLines(r, 2);
      await other.handler(fakeRequest("POST", "/api/v1/namespaces/default/configmaps", { headers: TOKEN, body: cm("bm") }));
      const ev = (await pending) as { type: string; object: { kind: string } }[];
      expect(ev.map((e) => e.type)).toEqual(["BOOKMARK", "ADDED"]);
      expect(ev[0]?.object.kind).toBe("ConfigMap");
    } finally {
      await other.stop();
    }
  });
});

describe("background work", () => {
  it("compacts the store periodically, keeping one period of history", async () => {
    const s2 = createMemoryStore();
    const a2 = createApiServer({ store: s2, tokens, compactIntervalMs: 30 });
    await a2.start();
    try {
      const before = s2.currentRevision();
      await a2.handler(fakeRequest("POST", "/api/v1/namespaces/default/configmaps", { headers: TOKEN, body: cm("c1") }));
      const deadline = Date.now() + 2000;
      while (s2.compactedRevision() < before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(s2.compactedRevision()).toBeGreaterThanOrEqual(before);
      expect(s2.compactedRevision()).toBeLessThanOrEqual(s2.currentRevision());
    } finally {
      await a2.stop();
      await s2.close();
    }
  });
});

describe("protobuf lists", () => {
  it("assembles a protobuf list from cached item bytes", async () => {
    for (let i = 0; i < 3; i++) await call("POST", "/api/v1/namespaces/default/configmaps", { body: cm(`pl${i}`) });
    const r = await call("GET", "/api/v1/namespaces/default/configmaps", { headers: { accept: "application/vnd.kubernetes.protobuf" } });
    expect(r.headers?.["content-type"]).toBe("application/vnd.kubernetes.protobuf");
    const list = decodeObject(r.body as Uint8Array) as { kind?: string; metadata?: { resourceVersion?: string }; items?: { metadata: { name: string } }[] };
    expect(list.kind).toBe("ConfigMapList");
    expect(list.metadata?.resourceVersion).toBeTruthy();
    expect(list.items?.map((i) => i.metadata.name)).toEqual(["pl0", "pl1", "pl2"]);
  });
});

describe("concurrency", () => {
  it("concurrent patches without resourceVersion all land (retries, not 409)", async () => {
    await call("POST", "/api/v1/namespaces/default/configmaps", { body: cm("race") });
    const rs = await Promise.all(Array.from({ length: 10 }, (_, i) => call("PATCH", "/api/v1/namespaces/default/configmaps/race", {
      headers: { "content-type": "application/merge-patch+json" }, body: { metadata: { labels: { [`l${i}`]: "x" } } },
    })));
    expect(rs.map((r) => r.status)).toEqual(Array(10).fill(200));
    const o = await bodyJson(await call("GET", "/api/v1/namespaces/default/configmaps/race"));
    expect(Object.keys(o.metadata.labels).sort()).toHaveLength(10);
  });
  it("concurrent updates with the same resourceVersion: exactly one wins", async () => {
    const o = await bodyJson(await call("POST", "/api/v1/namespaces/default/configmaps", { body: cm("race2") }));
    const rs = await Promise.all(Array.from({ length: 5 }, (_, i) => call("PUT", "/api/v1/namespaces/default/configmaps/race2", { body: { ...o, data: { i: String(i) } } })));
    expect(rs.filter((r) => r.status === 200)).toHaveLength(1);
    expect(rs.filter((r) => r.status === 409)).toHaveLength(4);
  });
});

describe("field selectors", () => {
  it("filters pods by spec.nodeName (indexed) and rejects unsupported fields", async () => {
    const pod = (name: string, nodeName?: string) => ({ apiVersion: "v1", kind: "Pod", metadata: { name }, spec: { ...(nodeName ? { nodeName } : {}), containers: [{ name: "c", image: "x" }] } });
    await call("POST", "/api/v1/namespaces/default/pods", { body: pod("a", "n1") });
    await call("POST", "/api/v1/namespaces/default/pods", { body: pod("b", "n2") });
    const l = await bodyJson(await call("GET", "/api/v1/pods?fieldSelector=spec.nodeName%3Dn1"));
    expect(l.items.map((p: { metadata: { name: string } }) => p.metadata.name)).toEqual(["a"]);
    const bad = await call("GET", "/api/v1/pods?fieldSelector=spec.bogus%3Dx");
    expect(bad.status).toBe(400);
  });
});

describe("large lists stream in chunks", () => {
  it("JSON, gzip and protobuf streams carry exactly the items a small-page list does", async () => {
    const { bodyBytes } = await import("./_testing.ts");
    const n = 1200; // above the streaming threshold (1,000 items)
    for (let i = 0; i < n; i++) {
      const r = await call("POST", "/api/v1/namespaces/default/configmaps", { body: cm(`c${String(i).padStart(4, "0")}`, { i: String(i) }) });
      expect(r.status).toBe(201);
    }
    const names = (items: Array<{ metadata: { name: string } }>) => items.map((o) => o.metadata.name);
    const expected = Array.from({ length: n }, (_, i) => `c${String(i).padStart(4, "0")}`);

    const plain = await call("GET", "/api/v1/namespaces/default/configmaps");
    expect(typeof (plain.body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]).toBe("function");
    const list = JSON.parse(new TextDecoder().decode(await bodyBytes(plain)));
    expect(list.kind).toBe("ConfigMapList");
    expect(names(list.items)).toEqual(expected);

    const gz = await call("GET", "/api/v1/namespaces/default/configmaps", { headers: { "accept-encoding": "gzip" } });
    expect(gz.headers?.["content-encoding"]).toBe("gzip");
    const unzipped = JSON.parse(new TextDecoder().decode(await bodyBytes(gz))); // bodyBytes gunzips
    expect(unzipped).toEqual(list);

    const pb = await call("GET", "/api/v1/namespaces/default/configmaps", { headers: { accept: "application/vnd.kubernetes.protobuf" } });
    const decoded = decodeObject(await bodyBytes(pb)) as unknown as { items: Array<{ metadata: { name: string; resourceVersion: string } }> };
    expect(names(decoded.items)).toEqual(expected);
    expect(decoded.items.map((o) => o.metadata.resourceVersion)).toEqual(list.items.map((o: { metadata: { resourceVersion: string } }) => o.metadata.resourceVersion));
  });
});

describe("protobuf GET from stored bytes", () => {
  it("serves the stored envelope with the resourceVersion stamped in, identical to encoding the JSON view", async () => {
    const { bodyBytes } = await import("./_testing.ts");
    await call("POST", "/apis/apps/v1/namespaces/default/deployments", { body: deploy("pb", 3) });
    await call("PATCH", "/apis/apps/v1/namespaces/default/deployments/pb", {
      headers: { "content-type": "application/merge-patch+json" }, body: { metadata: { labels: { extra: "1" } } },
    });
    const json = await bodyJson(await call("GET", "/apis/apps/v1/namespaces/default/deployments/pb"));
    const pb = await call("GET", "/apis/apps/v1/namespaces/default/deployments/pb", { headers: { accept: "application/vnd.kubernetes.protobuf" } });
    expect(pb.headers?.["content-type"]).toBe("application/vnd.kubernetes.protobuf");
    const bytes = await bodyBytes(pb);
    expect(decodeObject(bytes)).toEqual(json);
    expect(Buffer.from(bytes).equals(Buffer.from(encodeObject(json)))).toBe(true);
  });
});
