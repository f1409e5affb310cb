/**
 * The cheap write path: copy-on-write pods/binding, protobuf write responses from the stored
 * bytes, owned create bodies, the watch cache's hand-off — each must answer exactly what the
 * generic path does.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createMemoryStore } from "../store/memory.ts";
import type { Store } from "../store/types.ts";
import type { KubeObject } from "../api/object.ts";
import { decodeObject, encodeObject } from "../api/codec/mod.ts";
import { createApiServer, type ApiServer } from "./server.ts";
import { bodyBytes, bodyJson, fakeRequest } from "./_testing.ts";
import { bindPod } from "./handlers/subresources.ts";
import { cloneObject } from "./context.ts";
import { writtenFacts } from "./watchcache/handoff.ts";

const tokens = new Map([["t0k", { user: "admin", groups: ["system:masters"] }]]);
const PB = "application/vnd.kubernetes.protobuf";
let store: Store;
let api: ApiServer;

beforeEach(async () => {
  store = createMemoryStore();
  api = createApiServer({ store, tokens, compactIntervalMs: 0 });
  await api.start();
});
afterEach(async () => {
  await api.stop();
  await store.close();
});

async function call(method: string, url: string, body?: unknown, headers: Record<string, string> = {}) {
  const pb = headers["content-type"] === PB;
  const bytes = body === undefined ? undefined : pb ? encodeObject(body as KubeObject) : undefined;
  return api.handler(fakeRequest(method, url, {
    headers: { authorization: "Bearer t0k", "user-agent": "writepath-test/1.0", ...headers },
    ...(bytes ? { body: bytes } : body !== undefined ? { body: body as object } : {}),
  }));
}

const pod = (name: string, extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: "v1", kind: "Pod", metadata: { name, labels: { app: "web" }, ...extra },
  spec: { containers: [{ name: "c", image: "nginx", resources: { requests: { cpu: "100m" } } }] },
});
const binding = (name: string, node: string, annotations?: Record<string, string>) => ({
  apiVersion: "v1", kind: "Binding", metadata: { name, ...(annotations ? { annotations } : {}) }, target: { apiVersion: "v1", kind: "Node", name: node },
});

describe("pods/binding (copy-on-write)", () => {
  it("sets nodeName and PodScheduled, keeps managedFields, advances resourceVersion", async () => {
    const created = await bodyJson(await call("POST", "/api/v1/namespaces/default/pods", pod("a")));
    const r = await call("POST", "/api/v1/namespaces/default/pods/a/binding", binding("a", "n1", { "x/y": "z" }));
    expect(r.status).toBe(201);
    const got = await bodyJson(await call("GET", "/api/v1/namespaces/default/pods/a"));
    expect(got.spec.nodeName).toBe("n1");
    const conds = got.status.conditions.filter((c: { type: string }) => c.type === "PodScheduled");
    expect(conds).toHaveLength(1);
    expect(conds[0]).toMatchObject({ type: "PodScheduled", status: "True" });
    expect(got.metadata.annotations).toEqual({ "x/y": "z" });
    expect(got.metadata.managedFields).toEqual(created.metadata.managedFields);
    expect(Number(got.metadata.resourceVersion)).toBeGreaterThan(Number(created.metadata.resourceVersion));
    // The watch cache holds the same state (it took the hand-off instead of decoding).
    const listed = await bodyJson(await call("GET", "/api/v1/namespaces/default/pods?fieldSelector=spec.nodeName%3Dn1"));
    expect(listed.items.map((p: KubeObject) => p.metadata?.name)).toEqual(["a"]);
    expect(listed.items[0]).toEqual(got);
  });

  it("an already bound pod is a 409 and stays on its node", async () => {
    await call("POST", "/api/v1/namespaces/default/pods", pod("b"));
    expect((await call("POST", "/api/v1/namespaces/default/pods/b/binding", binding("b", "n1"))).status).toBe(201);
    const again = await call("POST", "/api/v1/namespaces/default/pods/b/binding", binding("b", "n2"));
    expect(again.status).toBe(409);
    expect((await bodyJson(again)).message).toBe('Operation cannot be fulfilled on pods "b": pod b is already assigned to node "n1"');
    expect((await bodyJson(await call("GET", "/api/v1/namespaces/default/pods/b"))).spec.nodeName).toBe("n1");
  });

  it("a binding naming another uid, or a gated pod, is a 409 and leaves the pod unbound", async () => {
    const created = await bodyJson(await call("POST", "/api/v1/namespaces/default/pods", pod("u")));
    const b = binding("u", "n1") as { metadata: Record<string, unknown> };
    b.metadata["uid"] = "00000000-0000-0000-0000-000000000000";
    const r = await call("POST", "/api/v1/namespaces/default/pods/u/binding", b);
    expect(r.status).toBe(409);
    expect((await bodyJson(r)).message).toBe(`Operation cannot be fulfilled on pods "u": Precondition failed: UID in precondition: 00000000-0000-0000-0000-000000000000, UID in object meta: ${created.metadata.uid}`);
    expect((await bodyJson(await call("GET", "/api/v1/namespaces/default/pods/u"))).spec.nodeName).toBeUndefined();
    b.metadata["uid"] = created.metadata.uid;
    expect((await call("POST", "/api/v1/namespaces/default/pods/u/binding", b)).status).toBe(201);

    const gated = pod("g") as { spec: Record<string, unknown> };
    gated.spec["schedulingGates"] = [{ name: "example.com/wait" }];
    await call("POST", "/api/v1/namespaces/default/pods", gated);
    const g = await call("POST", "/api/v1/namespaces/default/pods/g/binding", binding("g", "n1"));
    expect(g.status).toBe(409);
    expect((await bodyJson(g)).message).toBe('Operation cannot be fulfilled on pods "g": pod g has non-empty .spec.schedulingGates');
  });

  it("a pod being deleted cannot be bound (409)", async () => {
    await call("POST", "/api/v1/namespaces/default/pods", pod("c", { finalizers: ["x/keep"] }));
    expect((await call("DELETE", "/api/v1/namespaces/default/pods/c")).status).toBe(200);
    const r = await call("POST", "/api/v1/namespaces/default/pods/c/binding", binding("c", "n1"));
    expect(r.status).toBe(409);
    expect((await bodyJson(r)).message).toBe('Operation cannot be fulfilled on pods "c": pod c is being deleted, cannot be assigned to a host');
  });

  it("a missing pod is a 404; a dry run changes nothing", async () => {
    expect((await call("POST", "/api/v1/namespaces/default/pods/nope/binding", binding("nope", "n1"))).status).toBe(404);
    const created = await bodyJson(await call("POST", "/api/v1/namespaces/default/pods", pod("d")));
    expect((await call("POST", "/api/v1/namespaces/default/pods/d/binding?dryRun=All", binding("d", "n1"))).status).toBe(201);
    const got = await bodyJson(await call("GET", "/api/v1/namespaces/default/pods/d"));
    expect(got.spec.nodeName).toBeUndefined();
    expect(got.metadata.resourceVersion).toBe(created.metadata.resourceVersion);
  });

  it("protobuf bindings race: exactly one of two concurrent bindings wins", async () => {
    await call("POST", "/api/v1/namespaces/default/pods", pod("e"));
    const h = { "content-type": PB, accept: PB };
    const rs = await Promise.all([
      call("POST", "/api/v1/namespaces/default/pods/e/binding", binding("e", "n1"), h),
      call("POST", "/api/v1/namespaces/default/pods/e/binding", binding("e", "n2"), h),
    ]);
    expect(rs.map((r) => r.status).sort()).toEqual([201, 409]);
    const node = (await bodyJson(await call("GET", "/api/v1/namespaces/default/pods/e"))).spec.nodeName;
    expect(node === "n1" ? rs[0]?.status : rs[1]?.status).toBe(201);
  });

  it("bindPod leaves its input alone and equals the in-place binding", () => {
    const base: KubeObject = {
      apiVersion: "v1", kind: "Pod",
      metadata: { name: "p", annotations: { a: "1" }, managedFields: [{ manager: "m", operation: "Update", apiVersion: "v1", fieldsType: "FieldsV1", fieldsV1: { "f:spec": {} } }] },
      spec: { containers: [{ name: "c", image: "i" }] },
      status: { phase: "Pending", conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable" }, { type: "Ready", status: "False" }] },
    };
    const before = cloneObject(base);
    const out = bindPod(base, "p", "n9", "2026-11-22T00:00:00Z", { b: "2" });
    expect(base).toEqual(before);
    // The generic (mutate-a-copy) form of the same change:
    const inPlace = cloneObject(base) as KubeObject & { spec: Record<string, unknown>; status: { conditions: Record<string, unknown>[] } };
    inPlace.spec["nodeName"] = "n9";
    inPlace.status.conditions = inPlace.status.conditions.filter((c) => c["type"] !== "PodScheduled");
    inPlace.status.conditions.push({ type: "PodScheduled", status: "True", lastTransitionTime: "2026-11-22T00:00:00Z" });
    inPlace.metadata = { ...inPlace.metadata, annotations: { a: "1", b: "2" } };
    expect(out).toEqual(inPlace);
    expect(JSON.stringify(out)).toBe(JSON.stringify(inPlace));
    expect(out.metadata?.managedFields).toBe(base.metadata?.managedFields);
    expect(() => bindPod(out, "p", "n1", "x")).toThrow('pod p is already assigned to node "n9"');
  });
});

describe("write responses and hand-off", () => {
  it("protobuf create/update responses are byte-identical to encoding the object, and to a GET", async () => {
    const h = { "content-type": PB, accept: PB };
    const r = await call("POST", "/api/v1/namespaces/default/pods", pod("f"), h);
    expect(r.status).toBe(201);
    const bytes = await bodyBytes(r);
    const obj = decodeObject(bytes);
    expect(Buffer.from(encodeObject(obj)).equals(Buffer.from(bytes))).toBe(true);
    const get = await bodyBytes(await call("GET", "/api/v1/namespaces/default/pods/f", undefined, { accept: PB }));
    expect(Buffer.from(get).equals(Buffer.from(bytes))).toBe(true);
    const upd = await call("PUT", "/api/v1/namespaces/default/pods/f", { ...obj, metadata: { ...obj.metadata, labels: { app: "other" } } }, h);
    expect(upd.status).toBe(200);
    const ub = await bodyBytes(upd);
    expect(Buffer.from(encodeObject(decodeObject(ub))).equals(Buffer.from(ub))).toBe(true);
    expect(decodeObject(ub).metadata?.labels).toEqual({ app: "other" });
  });

  it("a protobuf create equals the same create in JSON (typed form, managedFields)", async () => {
    const viaPb = decodeObject(await bodyBytes(await call("POST", "/api/v1/namespaces/default/pods", pod("g"), { "content-type": PB, accept: PB })));
    const viaJson = await bodyJson(await call("POST", "/api/v1/namespaces/default/pods", pod("h")));
    const strip = (o: KubeObject) => {
      const m = { ...o.metadata } as Record<string, unknown>;
      for (const k of ["name", "uid", "resourceVersion", "creationTimestamp"]) delete m[k];
      for (const e of (m["managedFields"] as Array<Record<string, unknown>>) ?? []) delete e["time"];
      return JSON.parse(JSON.stringify({ ...o, metadata: m })) as unknown;
    };
    expect(strip(viaPb)).toEqual(strip(viaJson));
  });

  it("a protobuf body with an unknown field number is accepted under fieldValidation=Strict, without warnings (skipped as upstream's protobuf decoding does)", async () => {
    const bytes = Buffer.concat([encodeObject(pod("u")), Buffer.from([0x78, 0x01])]); // field 15, varint 1
    const res = await api.handler(fakeRequest("POST", "/api/v1/namespaces/default/pods?fieldValidation=Strict", {
      headers: { authorization: "Bearer t0k", "content-type": PB, accept: PB }, body: bytes,
    }));
    expect(res.status).toBe(201);
    expect(res.headers?.["warning"]).toBeUndefined();
    expect(decodeObject(await bodyBytes(res)).metadata?.name).toBe("u");
    // the same unknown field in JSON is still an error under Strict
    const json = await call("POST", "/api/v1/namespaces/default/pods?fieldValidation=Strict", { ...pod("v"), bogus: 1 });
    expect(json.status).toBe(400);
  });

  it("admission sees a changed PriorityClass at once (cluster-scoped reads are shared per stored revision)", async () => {
    const pc = { apiVersion: "scheduling.k8s.io/v1", kind: "PriorityClass", metadata: { name: "dflt" }, value: 5, globalDefault: true };
    expect((await call("POST", "/apis/scheduling.k8s.io/v1/priorityclasses", pc)).status).toBe(201);
    const p1 = await bodyJson(await call("POST", "/api/v1/namespaces/default/pods", pod("pc1")));
    expect((p1["spec"] as { priority?: number }).priority).toBe(5);
    const p2 = await bodyJson(await call("POST", "/api/v1/namespaces/default/pods", pod("pc2")));
    expect((p2["spec"] as { priority?: number }).priority).toBe(5);
    const patched = await api.handler(fakeRequest("PATCH", "/apis/scheduling.k8s.io/v1/priorityclasses/dflt", {
      headers: { authorization: "Bearer t0k", "content-type": "application/merge-patch+json" }, body: { globalDefault: false },
    }));
    expect(patched.status).toBe(200);
    const p3 = await bodyJson(await call("POST", "/api/v1/namespaces/default/pods", pod("pc3")));
    expect((p3["spec"] as { priority?: number }).priority ?? 0).toBe(0);
  });

  it("leaves no hand-off offers behind after writes and failed writes", async () => {
    await call("POST", "/api/v1/namespaces/default/pods", pod("i"));
    expect((await call("POST", "/api/v1/namespaces/default/pods", pod("i"))).status).toBe(409);
    await call("POST", "/api/v1/namespaces/default/pods/i/binding", binding("i", "n1"));
    expect(writtenFacts.size).toBe(0);
  });

  it("two creates of the same shape get the same managedFields; different list keys differ", async () => {
    const a = await bodyJson(await call("POST", "/api/v1/namespaces/default/pods", pod("j")));
    const b = await bodyJson(await call("POST", "/api/v1/namespaces/default/pods", pod("k")));
    expect(b.metadata.managedFields[0].fieldsV1).toEqual(a.metadata.managedFields[0].fieldsV1);
    const other = pod("l");
    (other["spec"] as { containers: Array<Record<string, unknown>> }).containers[0]!["name"] = "side";
    const c = await bodyJson(await call("POST", "/api/v1/namespaces/default/pods", other));
    const containers = c.metadata.managedFields[0].fieldsV1["f:spec"]["f:containers"];
    expect(Object.keys(containers)).toContain('k:{"name":"side"}');
    expect(Object.keys(containers)).not.toContain('k:{"name":"c"}');
  });
});
