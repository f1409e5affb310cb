/**
 * Strategic merge PATCH through the apiserver: the handler now lets the merge build the result in
 * updateObject's own copy of the live object (`applyStrategicMergePatchOwned`). These cases check
 * that a PATCH answers exactly what the copying merge gives on the object read just before, that
 * the stored object is what was answered, and that bad patches still get their 400 / 422 Status.
 */
import { describe, it, expect, beforeEach, afterEach } from "vitest";
import { createMemoryStore } from "../../store/memory.ts";
import type { Store } from "../../store/types.ts";
import { createApiServer, type ApiServer } from "../server.ts";
import { bodyJson, fakeRequest } from "../_testing.ts";
import { applyStrategicMergePatch } from "./strategic.ts";
import type { Json } from "./jsonpatch.ts";
import { mergeKeysFor } from "../schemahooks.ts";

const TOKEN = { authorization: "Bearer t0k" };
const tokens = new Map([["t0k", { user: "admin", groups: ["system:masters"] }]]);
const SMP = { "content-type": "application/strategic-merge-patch+json" };
const podLookup = mergeKeysFor("v1", "Pod") ?? (() => undefined);

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
  return api.handler(fakeRequest(method, url, { headers: { ...TOKEN, ...headers }, ...(body !== undefined ? { body: body as object } : {}) }));
}

const POD = "/api/v1/namespaces/default/pods/p";
const pod = {
  apiVersion: "v1", kind: "Pod", metadata: { name: "p", labels: { app: "a", tier: "web" } },
  spec: { containers: [{ name: "c", image: "nginx" }, { name: "side", image: "busybox" }], nodeName: "n1" },
};

type Obj = { [k: string]: Json };

interface Case {
  readonly name: string;
  readonly path: string;
  readonly patch: Json;
  /** Which parts of the object the subresource may change (the rest must stay as read). */
  readonly parts: readonly ("status" | "spec" | "labels")[];
}

const cond = (type: string, status: string, reason?: string): Obj => ({ type, status, ...(reason ? { reason } : {}), lastTransitionTime: "2026-11-22T10:00:00Z" });

const good: Case[] = [
  { name: "scheduler's FailedScheduling status + nominatedNodeName", path: `${POD}/status`, parts: ["status"],
    patch: { status: { conditions: [{ ...cond("PodScheduled", "False", "Unschedulable"), message: "0/1 nodes are available" }], nominatedNodeName: "n1" } } },
  { name: "DisruptionTarget condition merged by type", path: `${POD}/status`, parts: ["status"],
    patch: { status: { conditions: [{ ...cond("DisruptionTarget", "True", "PreemptionByScheduler"), message: "default-scheduler: preempting to accommodate a higher priority pod" }] } } },
  { name: "clearing nominatedNodeName with null", path: `${POD}/status`, parts: ["status"], patch: { status: { nominatedNodeName: null } } },
  { name: "$setElementOrder on conditions", path: `${POD}/status`, parts: ["status"],
    patch: { status: { "$setElementOrder/conditions": [{ type: "Ready" }, { type: "PodScheduled" }], conditions: [cond("Ready", "False")] } } },
  { name: "$patch: delete of a condition", path: `${POD}/status`, parts: ["status"], patch: { status: { conditions: [{ type: "Ready", $patch: "delete" }] } } },
  { name: "main resource: labels and a container image", path: POD, parts: ["labels", "spec"],
    patch: { metadata: { labels: { tier: null, extra: "1" } }, spec: { containers: [{ name: "side", image: "busybox:2" }] } } },
  { name: "main resource: a label removed with $patch: replace on the map", path: POD, parts: ["labels"],
    patch: { metadata: { labels: { $patch: "replace", only: "x" } } } },
];

function part(o: Obj, p: "status" | "spec" | "labels"): Json | undefined {
  if (p === "labels") return ((o["metadata"] as Obj | undefined)?.["labels"]) ?? undefined;
  return o[p];
}

describe("strategic merge PATCH through the apiserver (owned merge) = the copying merge", () => {
  for (const tc of good) {
    it(tc.name, async () => {
      expect((await call("POST", "/api/v1/namespaces/default/pods", pod)).status).toBe(201);
      // Two conditions to merge into, so merges by key and ordering are exercised.
      const seeded = await call("PATCH", `${POD}/status`, { status: { conditions: [cond("PodScheduled", "True"), cond("Ready", "True")] } }, SMP);
      expect(seeded.status).toBe(200);
      const before = await bodyJson(await call("GET", POD)) as Obj;
      const want = applyStrategicMergePatch(before, tc.patch, podLookup) as Obj;
      const res = await call("PATCH", tc.path, tc.patch, SMP);
      expect(res.status).toBe(200);
      const got = await bodyJson(res) as Obj;
      for (const p of ["status", "spec", "labels"] as const) {
        expect(part(got, p), p).toEqual(tc.parts.includes(p) ? part(want, p) : part(before, p));
      }
      const after = await bodyJson(await call("GET", POD)) as Obj;
      expect(after).toEqual(got);
    });
  }
});

describe("bad strategic merge patches keep their Status", () => {
  const bad: { name: string; path: string; patch: unknown; code: number; reason: string; message: RegExp }[] = [
    { name: "unknown $patch directive", path: `${POD}/status`, patch: { status: { conditions: [{ type: "Ready", $patch: "frob" }] } },
      code: 400, reason: "BadRequest", message: /unknown patch type: frob in map/ },
    { name: "list item without its merge key", path: `${POD}/status`, patch: { status: { conditions: [{ status: "True" }] } },
      code: 400, reason: "BadRequest", message: /does not contain declared merge key: type/ },
    { name: "a JSON array instead of an object", path: `${POD}/status`, patch: [1, 2], code: 400, reason: "BadRequest", message: /strategic merge patch must be a JSON object/ },
    { name: "a result the pod validation refuses", path: POD, patch: { spec: { containers: [{ name: "c", image: "" }] } },
      code: 422, reason: "Invalid", message: /image/ },
    { name: "bad $retainKeys", path: POD, patch: { metadata: { labels: { $retainKeys: "x", a: "1" } } }, code: 400, reason: "BadRequest", message: /invalid patch format of retainKeys/ },
  ];
  for (const tc of bad) {
    it(tc.name, async () => {
      expect((await call("POST", "/api/v1/namespaces/default/pods", pod)).status).toBe(201);
      // Conditions to merge into (into a missing list the patch's list is taken whole, unchecked).
      expect((await call("PATCH", `${POD}/status`, { status: { conditions: [cond("Ready", "True")] } }, SMP)).status).toBe(200);
      const before = await bodyJson(await call("GET", POD)) as Obj;
      const res = await call("PATCH", tc.path, tc.patch, SMP);
      const body = await bodyJson(res) as Obj;
      expect(res.status, JSON.stringify(body)).toBe(tc.code);
      expect(body["kind"]).toBe("Status");
      expect(body["reason"]).toBe(tc.reason);
      expect(String(body["message"])).toMatch(tc.message);
      // A failed patch leaves the stored object alone (the partly patched copy is dropped).
      expect(await bodyJson(await call("GET", POD))).toEqual(before);
    });
  }
});
