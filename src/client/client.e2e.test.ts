/**
 * End to end: the client against a real in-process control plane (apiserver + memory store) served
 * by the node-http2 transport on loopback — over TLS with the generated admin kubeconfig (client
 * certificate) and over plaintext h2c with the admin token.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiError } from "../api/errors.ts";
import type { KubeObject } from "../api/object.ts";
import { createMemoryStore } from "../store/memory.ts";
import { COMPONENTS } from "../server/components.ts";
import { defaultDeps, startControlPlane, type ControlPlane } from "../server/control-plane.ts";
import { Client, createClient } from "./client.ts";
import { createInformer } from "./informer.ts";
import { loadKubeconfig } from "./kubeconfig.ts";
import type { WatchEvent } from "./watch.ts";
import type { Encoding } from "./encoding.ts";

const deps = { ...defaultDeps, openStore: async () => createMemoryStore() };

function pod(name: string, labels: Record<string, string> = {}): KubeObject {
  return {
    apiVersion: "v1", kind: "Pod",
    metadata: { name, labels },
    spec: { containers: [{ name: "main", image: "registry.example.com/app:v1", ports: [{ containerPort: 8080 }] }] },
  };
}

function deployment(name: string, replicas: number): KubeObject {
  return {
    apiVersion: "apps/v1", kind: "Deployment",
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: "main", image: "nginx:1.27" }] } },
    },
  };
}

/** Collects events until `n` arrived or `ms` passed. */
async function take(it: AsyncIterable<WatchEvent>, n: number, ms = 5000): Promise<WatchEvent[]> {
  const out: WatchEvent[] = [];
  const iter = it[Symbol.asyncIterator]();
  const deadline = Date.now() + ms;
  while (out.length < n) {
    const left = deadline - Date.now();
    if (left <= 0) break;
    const r = await Promise.race([iter.next(), new Promise<"timeout">((res) => setTimeout(() => res("timeout"), left))]);
    if (r === "timeout" || r.done) break;
    out.push(r.value);
  }
  return out;
}

let tlsCp: ControlPlane;
let h2cCp: ControlPlane;
const dirs: string[] = [];

beforeAll(async () => {
  const d1 = mkdtempSync(join(tmpdir(), "tug-client-e2e-"));
  const d2 = mkdtempSync(join(tmpdir(), "tug-client-e2e-"));
  dirs.push(d1, d2);
  // The API alone: no controller adopts or deletes the pods these tests create by hand.
  const disable = COMPONENTS.filter((c) => !c.required).map((c) => c.name);
  tlsCp = await startControlPlane({ dataDir: d1, listen: { host: "127.0.0.1", port: 0 }, kubeconfigOut: join(d1, "kubeconfig"), disable }, deps);
  h2cCp = await startControlPlane({
    dataDir: d2, listen: { host: "127.0.0.1", port: 0 }, kubeconfigOut: join(d2, "kubeconfig"), insecurePlaintext: true, disable,
  }, deps);
});

afterAll(async () => {
  await tlsCp?.stop();
  await h2cCp?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const cases: Array<{ name: string; encoding: Encoding; tls: boolean }> = [
  { name: "protobuf over TLS (client cert)", encoding: "protobuf", tls: true },
  { name: "JSON over TLS (client cert)", encoding: "json", tls: true },
  { name: "protobuf over h2c (token)", encoding: "protobuf", tls: false },
  { name: "JSON over h2c (token)", encoding: "json", tls: false },
];

describe.each(cases)("client e2e: $name", ({ encoding, tls }) => {
  let client: Client;
  const ns = `e2e-${encoding}-${tls ? "tls" : "h2c"}`;
  beforeAll(async () => {
    const cp = tls ? tlsCp : h2cCp;
    client = createClient(loadKubeconfig(cp.kubeconfigPath), { encoding });
    await client.resourceFor("v1", "Namespace").create({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
  });
  afterAll(() => client?.close());

  it("creates, gets, lists, updates, patches and deletes pods", async () => {
    const pods = client.resourceFor("v1", "Pod").namespace(ns);
    // the wire format really is the one asked for (responses decode by their Content-Type)
    const raw = await client.rest.request({ method: "GET", path: "/api/v1/namespaces/default" });
    expect(raw.headers["content-type"]).toBe(encoding === "protobuf" ? "application/vnd.kubernetes.protobuf" : "application/json");
    if (encoding === "protobuf") expect([...raw.body.subarray(0, 4)]).toEqual([0x6b, 0x38, 0x73, 0x00]);
    const rawList = await client.rest.request({ method: "GET", path: `/api/v1/namespaces/${ns}/pods`, query: { limit: 1 } });
    expect(rawList.headers["content-type"]).toMatch(encoding === "protobuf" ? /^application\/vnd\.kubernetes\.protobuf/ : /^application\/json/);
    const created = await pods.create(pod("web-0", { app: "web" }));
    expect(created.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.metadata?.namespace).toBe(ns);
    await pods.create(pod("web-1", { app: "web" }));
    await pods.create(pod("db-0", { app: "db" }));

    const got = await pods.get("web-0");
    expect(got.kind).toBe("Pod");
    expect(got.metadata?.resourceVersion).toBe(created.metadata?.resourceVersion);

    const all = await pods.list();
    expect(all.kind).toBe("PodList");
    expect(all.items.map((p) => p.metadata?.name).sort()).toEqual(["db-0", "web-0", "web-1"]);
    expect(Number(all.metadata.resourceVersion)).toBeGreaterThan(0);

    const web = await pods.list({ labelSelector: "app=web" });
    expect(web.items).toHaveLength(2);
    const byName = await pods.list({ fieldSelector: "metadata.name=db-0" });
    expect(byName.items.map((p) => p.metadata?.name)).toEqual(["db-0"]);

    const page1 = await pods.list({ limit: 2 });
    expect(page1.items).toHaveLength(2);
    expect(page1.metadata.continue).toBeTruthy();
    const page2 = await pods.list({ limit: 2, continue: page1.metadata.continue! });
    expect(page2.items).toHaveLength(1);

    const upd = await pods.update({ ...got, metadata: { ...got.metadata, labels: { app: "web", v: "2" } } });
    expect(upd.metadata?.labels?.["v"]).toBe("2");
    // a stale resourceVersion is a Conflict
    const stale = pods.update({ ...got, metadata: { ...got.metadata, labels: { app: "web", v: "3" } } });
    await expect(stale).rejects.toMatchObject({ code: 409, reason: "Conflict" });

    const patched = await pods.patch("web-0", { metadata: { annotations: { note: "hi" } } }, "merge");
    expect(patched.metadata?.annotations?.["note"]).toBe("hi");
    const jp = await pods.patch("web-0", [{ op: "add", path: "/metadata/labels/j", value: "p" }], "json");
    expect(jp.metadata?.labels?.["j"]).toBe("p");

    const status = await pods.updateStatus({ ...jp, status: { phase: "Running" } });
    expect((status["status"] as { phase?: string }).phase).toBe("Running");

    await pods.delete("db-0", { gracePeriodSeconds: 0 });
    const err = await pods.get("db-0").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe(404);
    expect((err as ApiError).reason).toBe("NotFound");
    expect((err as ApiError).message).toBe('pods "db-0" not found');

    await pods.deleteCollection({ labelSelector: "app=web" }, { gracePeriodSeconds: 0 });
    expect((await pods.list()).items).toHaveLength(0);
  });

  it("creates, updates, lists and deletes deployments and reports validation errors", async () => {
    const deps = client.resourceFor("apps/v1", "Deployment").namespace(ns);
    const d = await deps.create(deployment("api", 2));
    expect(d.metadata?.generation).toBe(1);
    const d2 = await deps.update({ ...d, spec: { ...(d["spec"] as object), replicas: 3 } });
    expect((d2["spec"] as { replicas: number }).replicas).toBe(3);
    expect(d2.metadata?.generation).toBe(2);
    const l = await deps.list();
    expect(l.kind).toBe("DeploymentList");
    expect(l.items).toHaveLength(1);
    const bad = await deps.create(deployment("Bad_Name", 1)).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(ApiError);
    expect((bad as ApiError).code).toBe(422);
    expect((bad as ApiError).status.details?.causes?.length).toBeGreaterThan(0);
    await deps.delete("api");
    await expect(deps.get("api")).rejects.toMatchObject({ code: 404 });
  });

  it("watches ADDED, MODIFIED and DELETED from a list's resourceVersion", async () => {
    const pods = client.resourceFor("v1", "Pod").namespace(ns);
    const list = await pods.list();
    const w = await pods.watch({ resourceVersion: list.metadata.resourceVersion!, allowWatchBookmarks: true });
    await pods.create(pod("w-0"));
    await pods.patch("w-0", { metadata: { labels: { x: "1" } } }, "merge");
    await pods.delete("w-0", { gracePeriodSeconds: 0 });
    const evs = (await take(w, 3)).filter((e) => e.type !== "BOOKMARK");
    w.stop();
    expect(evs.map((e) => e.type)).toEqual(["ADDED", "MODIFIED", "DELETED"]);
    expect(evs.every((e) => e.object.metadata?.name === "w-0" && e.object.kind === "Pod")).toBe(true);
    expect(evs[1]!.object.metadata?.labels?.["x"]).toBe("1");
  });

  it("a watch from a compacted/too-old resourceVersion or bad selector fails with the server's Status", async () => {
    const pods = client.resourceFor("v1", "Pod").namespace(ns);
    const e = await pods.watch({ labelSelector: "a in (" }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ApiError);
    expect((e as ApiError).code).toBe(400);
  });

  it("an informer syncs and follows changes", async () => {
    const pods = client.resourceFor("v1", "Pod");
    const inf = createInformer(pods, { namespace: ns, labelSelector: "inf=yes" });
    const seen: string[] = [];
    inf.addEventHandler({
      onAdd: (o) => seen.push(`add ${o.metadata?.name}`),
      onUpdate: (_o, n) => seen.push(`update ${n.metadata?.name}`),
      onDelete: (o) => seen.push(`delete ${o.metadata?.name}`),
    });
    const nsPods = pods.namespace(ns);
    await nsPods.create(pod("i-0", { inf: "yes" }));
    inf.start();
    await inf.waitForSync({ timeoutMs: 5000 });
    expect(inf.store.get(`${ns}/i-0`)?.metadata?.name).toBe("i-0");
    await nsPods.create(pod("i-1", { inf: "yes" }));
    await nsPods.create(pod("other", { inf: "no" }));
    await nsPods.patch("i-1", { metadata: { annotations: { a: "b" } } }, "merge");
    await nsPods.delete("i-0", { gracePeriodSeconds: 0 });
    for (let i = 0; i < 100 && seen.length < 4; i++) await new Promise((r) => setTimeout(r, 20));
    await inf.stop();
    expect(seen).toEqual(["add i-0", "add i-1", "update i-1", "delete i-0"]);
    expect(inf.store.keys()).toEqual([`${ns}/i-1`]);
  });
});

describe("client e2e: authentication and transport", () => {
  it("a client with no credentials gets 401 Unauthorized as an ApiError", async () => {
    const c = createClient({ server: h2cCp.url, namespace: "default" });
    try {
      const e = await c.resourceFor("v1", "Pod").list().catch((x: unknown) => x);
      expect(e).toBeInstanceOf(ApiError);
      expect((e as ApiError).code).toBe(401);
    } finally {
      c.close();
    }
  });

  it("refuses a TLS server whose CA it does not trust", async () => {
    const c = createClient({ server: tlsCp.url, namespace: "default", token: tlsCp.adminToken });
    try {
      await expect(c.resourceFor("v1", "Pod").list()).rejects.toThrow(/certificate/i);
    } finally {
      c.close();
    }
  });

  it("runs many requests concurrently on one session and reconnects after the session is closed", async () => {
    const c = createClient(loadKubeconfig(h2cCp.kubeconfigPath));
    try {
      const ns = c.resourceFor("v1", "Namespace");
      const res = await Promise.all(Array.from({ length: 64 }, () => ns.get("default")));
      expect(res.every((r) => r.metadata?.name === "default")).toBe(true);
      // Closing the session underneath: the next request opens a new one.
      (c.rest as unknown as { conn: { session?: { close(): void } } }).conn.session?.close(); // reach in to simulate a GOAWAY
      expect((await ns.get("default")).metadata?.name).toBe("default");
    } finally {
      c.close();
    }
  });

  it("asks for gzip when compression is on and decodes large compressed lists", async () => {
    const cfg = loadKubeconfig(h2cCp.kubeconfigPath);
    const plain = createClient(cfg);
    const gz = createClient(cfg, { compression: true });
    try {
      await plain.resourceFor("v1", "Namespace").create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "gzip" } });
      const cms = plain.resourceFor("v1", "ConfigMap").namespace("gzip");
      await Promise.all(Array.from({ length: 40 }, (_, i) =>
        cms.create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: `c${i}` }, data: { blob: "x".repeat(8000) } })));
      const raw = await gz.rest.request({ method: "GET", path: "/api/v1/namespaces/gzip/configmaps" });
      expect(raw.headers["content-encoding"]).toBe("gzip");
      const list = await gz.resourceFor("v1", "ConfigMap").namespace("gzip").list();
      expect(list.items).toHaveLength(40);
      expect((list.items[0]!["data"] as { blob: string }).blob).toHaveLength(8000);
      const unzipped = await plain.rest.request({ method: "GET", path: "/api/v1/namespaces/gzip/configmaps" });
      expect(unzipped.headers["content-encoding"]).toBeUndefined();
    } finally {
      plain.close();
      gz.close();
    }
  });
});
