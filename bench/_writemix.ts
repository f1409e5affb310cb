/**
 * In-process write mix of the Preemption workload, per measured pod: create the preemptor (protobuf),
 * its status patch (PodScheduled=False + nominatedNodeName), per victim a DisruptionTarget status
 * patch and a delete, the binding, five Events (protobuf). No HTTP, no watchers: µs per request kind.
 * `npx tsx bench/_writemix.ts [pods] [patch|event]` (a profiling aid, not a benchmark: no baseline)
 */
import { createMemoryStore } from "../src/store/memory.ts";
import { encodeObject } from "../src/api/codec/mod.ts";
import type { KubeObject } from "../src/api/object.ts";
import { createApiServer } from "../src/apiserver/server.ts";
import { fakeRequest } from "../src/apiserver/_testing.ts";

const PB = "application/vnd.kubernetes.protobuf";
const tokens = new Map([["t", { user: "admin", groups: ["system:masters"] }]]);
const store = createMemoryStore();
const api = createApiServer({ store, tokens, compactIntervalMs: 0 });
await api.start();

const pods = Number(process.argv[2] ?? 2000);
const times = new Map<string, number[]>();
async function call(kind: string, method: string, url: string, body?: unknown, ct?: string): Promise<void> {
  const pb = ct === PB;
  const headers: Record<string, string> = { authorization: "Bearer t", "user-agent": "kube-scheduler/1.0", accept: PB };
  if (ct) headers["content-type"] = ct;
  const bytes = body === undefined ? undefined : pb ? encodeObject(body as KubeObject) : typeof body === "string" ? body : JSON.stringify(body);
  const t0 = process.hrtime.bigint();
  const r = await api.handler(fakeRequest(method, url, { headers, ...(bytes !== undefined ? { body: bytes } : {}) }));
  const dt = Number(process.hrtime.bigint() - t0) / 1000;
  if (r.status >= 300) throw new Error(`${kind} ${method} ${url}: ${r.status}`);
  let a = times.get(kind);
  if (!a) times.set(kind, (a = []));
  a.push(dt);
}

function pod(name: string, prio: number): KubeObject {
  return {
    apiVersion: "v1", kind: "Pod", metadata: { name, namespace: "default", labels: { app: "p" } },
    spec: { ...(prio > 0 ? { priorityClassName: "high" } : {}), containers: [{ name: "pause", image: "registry.k8s.io/pause:3.10", resources: { requests: { cpu: "900m", memory: "500Mi" }, limits: { cpu: "900m", memory: "500Mi" } } }], terminationGracePeriodSeconds: 0 },
  };
}
let ev = 0;
function event(podName: string, reason: string): KubeObject {
  return {
    apiVersion: "v1", kind: "Event", metadata: { name: `${podName}.${(ev++).toString(16)}`, namespace: "default" },
    involvedObject: { apiVersion: "v1", kind: "Pod", namespace: "default", name: podName, uid: "u" },
    reason, message: `Successfully assigned default/${podName} to node-1`, type: "Normal", source: { component: "default-scheduler" },
    firstTimestamp: "2026-11-22T10:00:00Z", lastTimestamp: "2026-11-22T10:00:00Z", count: 1, reportingComponent: "default-scheduler", reportingInstance: "x",
  };
}
const P = "/api/v1/namespaces/default/pods";
const SMP = "application/strategic-merge-patch+json";
const cond = { type: "DisruptionTarget", status: "True", reason: "PreemptionByScheduler", message: "default-scheduler: preempting to accommodate a higher priority pod", lastTransitionTime: "2026-11-22T10:00:00Z" };
await call("ns", "POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "default" } }).catch(() => undefined);
await call("pc", "POST", "/apis/scheduling.k8s.io/v1/priorityclasses", { apiVersion: "scheduling.k8s.io/v1", kind: "PriorityClass", metadata: { name: "high" }, value: 10 });
times.clear();
const onlyPatch = process.argv[3] === "patch";
if (onlyPatch) {
  for (let i = 0; i < 200; i++) await call("create", "POST", P, pod(`v-${i}`, 0), PB);
  times.clear();
}
const t0 = performance.now();
for (let i = 0; i < pods && onlyPatch; i++) {
  await call("patch", "PATCH", `${P}/v-${i % 200}/status`, { status: { conditions: [{ ...cond, message: `m${i}` }] } }, SMP);
}
const onlyEvents = process.argv[3] === "event";
for (let i = 0; i < pods && onlyEvents; i++) await call("event", "POST", "/api/v1/namespaces/default/events", event(`h-${i}`, "Scheduled"), PB);
for (let i = 0; i < pods && !onlyPatch && !onlyEvents; i++) {
  for (let v = 0; v < 3; v++) {
    await call("create", "POST", P, pod(`v-${i}-${v}`, 0), PB);
    await call("binding", "POST", `${P}/v-${i}-${v}/binding`, { apiVersion: "v1", kind: "Binding", metadata: { name: `v-${i}-${v}` }, target: { kind: "Node", name: "node-1" } });
  }
  await call("create", "POST", P, pod(`h-${i}`, 10), PB);
  await call("patch", "PATCH", `${P}/h-${i}/status`, { status: { conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable", message: "0/5000 nodes are available: 5000 Insufficient cpu. preemption: 0/5000 nodes are available: 5000 No preemption victims found for incoming pod.", lastProbeTime: null, lastTransitionTime: "2026-11-22T10:00:00Z" }], nominatedNodeName: "node-1" } }, SMP);
  for (let v = 0; v < 3; v++) {
    await call("patch", "PATCH", `${P}/v-${i}-${v}/status`, { status: { conditions: [cond] } }, SMP);
    await call("delete", "DELETE", `${P}/v-${i}-${v}`, { apiVersion: "meta.k8s.io/v1", kind: "DeleteOptions", gracePeriodSeconds: 0 }, "application/json");
  }
  await call("binding", "POST", `${P}/h-${i}/binding`, { apiVersion: "v1", kind: "Binding", metadata: { name: `h-${i}` }, target: { kind: "Node", name: "node-1" } });
  for (let e = 0; e < 5; e++) await call("event", "POST", "/api/v1/namespaces/default/events", event(`h-${i}`, "Scheduled"), PB);
}
const wall = performance.now() - t0;
const med = (a: number[]): number => [...a].sort((x, y) => x - y)[a.length >> 1]!;
console.log("kind      n      median µs   mean µs   total ms");
for (const [k, a] of times) {
  const sum = a.reduce((x, y) => x + y, 0);
  console.log(`${k.padEnd(9)} ${String(a.length).padEnd(6)} ${med(a).toFixed(0).padStart(9)} ${(sum / a.length).toFixed(0).padStart(9)} ${(sum / 1000).toFixed(0).padStart(9)}`);
}
console.log(`wall ${wall.toFixed(0)} ms, ${(wall / pods).toFixed(3)} ms per measured pod (3 victims)`);
await api.stop();
await store.close();
