import { describe, it, expect } from "vitest";
import { createMemoryStore } from "../store/memory.ts";
import { createApiServer } from "./server.ts";
import { bodyBytes, fakeRequest } from "./_testing.ts";
import { encodeObject } from "../api/codec/mod.ts";

// Deterministic PRNG so failures reproduce.
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe("bad input never yields a 500", () => {
  it("survives mutated requests", async () => {
    const store = createMemoryStore();
    const api = createApiServer({ store, allowAnonymous: true, compactIntervalMs: 0, log: () => {} });
    await api.start();
    const rand = rng(42);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
    const paths = [
      "/api/v1/namespaces/default/configmaps", "/api/v1/namespaces/default/configmaps/x", "/api/v1/namespaces/default/pods/p/binding",
      "/apis/apps/v1/namespaces/default/deployments/d/scale", "/apis/apps/v1/namespaces/default/deployments", "/api/v1/namespaces/default/services",
      "/api/v1/namespaces/default/pods/p/status", "/api/v1/nodes/n", "/api/v1/namespaces/%ZZ/pods", "/apis/apps/v1/namespaces/default/deployments/d",
    ];
    const seeds: Uint8Array[] = [
      new TextEncoder().encode(JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x", labels: { a: "b" } }, data: { k: "v" } })),
      new TextEncoder().encode(JSON.stringify({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "d" }, spec: { replicas: 1, selector: { matchLabels: { a: "b" } }, template: { metadata: { labels: { a: "b" } }, spec: { containers: [{ name: "c", image: "i" }] } } } })),
      new TextEncoder().encode(JSON.stringify([{ op: "replace", path: "/spec/replicas", value: 2 }])),
      encodeObject({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x" }, data: { k: "v" } }),
      new TextEncoder().encode("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 80}], type: NodePort}\n"),
    ];
    const cts = ["application/json", "application/yaml", "application/vnd.kubernetes.protobuf", "application/merge-patch+json",
      "application/json-patch+json", "application/strategic-merge-patch+json", "text/plain", ""];
    const methods = ["GET", "POST", "PUT", "PATCH", "DELETE"];
    const queries = ["", "dryRun=All", "fieldValidation=Strict", "watch=true&timeoutSeconds=0", "limit=-1", "continue=%%%", "resourceVersion=abc",
      "labelSelector=a%20in%20(", "fieldSelector=spec.x%3Dy", "gracePeriodSeconds=x", "propagationPolicy=Foreground"];
    let fives = 0;
    const deadline = Date.now() + 20_000;
    for (let i = 0; i < 600 && Date.now() < deadline; i++) {
      const body = Uint8Array.from(pick(seeds));
      const flips = Math.floor(rand() * 4);
      for (let f = 0; f < flips; f++) body[Math.floor(rand() * body.length)] = Math.floor(rand() * 256);
      const cut = rand() < 0.2 ? body.subarray(0, Math.floor(rand() * body.length)) : body;
      const ct = pick(cts);
      const req = fakeRequest(pick(methods), `${pick(paths)}?${pick(queries)}`, { headers: ct ? { "content-type": ct } : {}, body: cut });
      const res = await api.handler(req);
      if (res.status >= 500 && res.status !== 504) {
        fives++;
        console.error(req.method, req.path, req.rawQuery, ct, res.status, new TextDecoder().decode(await bodyBytes(res)).slice(0, 300));
      } else if (typeof res.body === "object" && !(res.body instanceof Uint8Array)) {
        // watch streams: close at once
        await res.body[Symbol.asyncIterator]().return?.();
      }
    }
    await api.stop();
    expect(fives).toBe(0);
  });
});
