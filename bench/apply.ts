/**
 * `npm run bench -- apply [--n N] [--budget-s S]`
 *
 * Server-side apply against plain writes, through the apiserver handler in-process (memory
 * store, watch caches running, no HTTP), one request at a time, realistic Deployments
 * (labels, 2 containers with env/ports/resources/probes):
 *
 * - ssa-create:   PATCH application/apply-patch+yaml (fieldManager=bench) of N absent objects (201)
 * - ssa-noop:     the same N applies again (no change: no write, same resourceVersion)
 * - ssa-change:   N applies changing spec.replicas and one image
 * - post-create:  POST of N other objects (fieldManager=bench, managedFields tracked)
 * - put-update:   PUT of those N objects with the same change (body = the object as read back)
 *
 * Each phase stops at N objects or `--budget-s` seconds (default 4), whichever first; a phase cut
 * short reports the count it reached and the time for N extrapolated linearly (marked `~`).
 * Ratios: SSA create / POST, SSA change / PUT, SSA no-op / PUT.
 */
import { performance } from "node:perf_hooks";
import { createMemoryStore } from "../src/store/memory.ts";
import { createApiServer } from "../src/apiserver/server.ts";
import { fakeRequest } from "../src/apiserver/_testing.ts";
import type { HttpResponse } from "../src/transport/types.ts";

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : def;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`);
  return v;
}

const N = Math.floor(arg("n", 10_000));
const BUDGET_MS = arg("budget-s", 4) * 1000;
const NS = "default";
const DEP = `/apis/apps/v1/namespaces/${NS}/deployments`;
const tokens = new Map([["t", { user: "bench", groups: ["system:masters"] }]]);
const auth = { authorization: "Bearer t", "user-agent": "bench/1.0" };

function deployment(name: string, replicas: number, image: string): Record<string, unknown> {
  const labels = { app: name, tier: "web", team: "bench" };
  return {
    apiVersion: "apps/v1", kind: "Deployment",
    metadata: { name, namespace: NS, labels, annotations: { "example.com/owner": "bench" } },
    spec: {
      replicas, selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels },
        spec: {
          containers: [
            {
              name: "main", image, ports: [{ containerPort: 8080, name: "http" }],
              env: [{ name: "MODE", value: "prod" }, { name: "LOG", value: "info" }],
              resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "256Mi" } },
              readinessProbe: { httpGet: { path: "/healthz", port: 8080 }, periodSeconds: 5 },
            },
            { name: "sidecar", image: "busybox:1.36", args: ["sleep", "infinity"] },
          ],
        },
      },
    },
  };
}

async function drain(res: HttpResponse): Promise<Uint8Array> {
  const b = res.body;
  if (b === undefined) return new Uint8Array();
  if (typeof b === "string") return new TextEncoder().encode(b);
  if (b instanceof Uint8Array) return b;
  const parts: Uint8Array[] = [];
  for await (const c of b) parts.push(c);
  return Buffer.concat(parts);
}

interface Phase {
  readonly name: string;
  readonly done: number;
  readonly ms: number;
  readonly lat: number[];
}

async function phase(name: string, op: (i: number) => Promise<void>): Promise<Phase> {
  const lat: number[] = [];
  const t0 = performance.now();
  let i = 0;
  for (; i < N; i++) {
    const s = performance.now();
    await op(i);
    lat.push(performance.now() - s);
    if (performance.now() - t0 > BUDGET_MS) {
      i++;
      break;
    }
  }
  return { name, done: i, ms: performance.now() - t0, lat };
}

function p(lat: number[], q: number): number {
  const s = [...lat].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0;
}

async function main(): Promise<void> {
  const store = createMemoryStore();
  const api = createApiServer({ store, tokens, compactIntervalMs: 0 });
  await api.start();
  const call = async (method: string, url: string, body: unknown, ct: string, want: number): Promise<Uint8Array> => {
    const res = await api.handler(fakeRequest(method, url, { headers: { ...auth, "content-type": ct }, body: body as object }));
    const bytes = await drain(res);
    if (res.status !== want) throw new Error(`${method} ${url}: ${res.status} ${new TextDecoder().decode(bytes).slice(0, 300)}`);
    return bytes;
  };
  const APPLY = "application/apply-patch+yaml";
  const name = (kind: string, i: number): string => `${kind}-${i}`;

  // Warm-up (JIT, schema caches), not measured.
  for (let i = 0; i < 200; i++) {
    await call("PATCH", `${DEP}/${name("warm", i)}?fieldManager=bench`, deployment(name("warm", i), 1, "nginx:1.25"), APPLY, 201);
    await call("POST", `${DEP}?fieldManager=bench`, deployment(name("warmp", i), 1, "nginx:1.25"), "application/json", 201);
  }

  const phases: Phase[] = [];
  phases.push(await phase("ssa-create", (i) => call("PATCH", `${DEP}/${name("ssa", i)}?fieldManager=bench&force=false`, deployment(name("ssa", i), 2, "nginx:1.25"), APPLY, 201).then(() => undefined)));
  const ssaN = phases[0]!.done;
  const rvBefore = store.currentRevision();
  phases.push(await phase("ssa-noop", (i) => call("PATCH", `${DEP}/${name("ssa", i % ssaN)}?fieldManager=bench&force=false`, deployment(name("ssa", i % ssaN), 2, "nginx:1.25"), APPLY, 200).then(() => undefined)));
  const noopWrites = store.currentRevision() - rvBefore;
  phases.push(await phase("ssa-change", (i) => call("PATCH", `${DEP}/${name("ssa", i % ssaN)}?fieldManager=bench&force=false`, deployment(name("ssa", i % ssaN), 3 + Math.floor(i / ssaN), "nginx:1.27"), APPLY, 200).then(() => undefined)));

  const created: Record<string, unknown>[] = [];
  phases.push(await phase("post-create", async (i) => {
    const bytes = await call("POST", `${DEP}?fieldManager=bench`, deployment(name("put", i), 2, "nginx:1.25"), "application/json", 201);
    created.push(JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>);
  }));
  const putN = created.length;
  phases.push(await phase("put-update", async (i) => {
    const base = created[i % putN]!;
    const obj = structuredClone(base) as { metadata: { name: string; resourceVersion?: string }; spec: { replicas: number; template: { spec: { containers: { image: string }[] } } } };
    delete obj.metadata.resourceVersion;
    obj.spec.replicas = 3 + Math.floor(i / putN);
    obj.spec.template.spec.containers[0]!.image = "nginx:1.27";
    await call("PUT", `${DEP}/${obj.metadata.name}?fieldManager=bench`, obj, "application/json", 200);
  }));
  await api.stop();
  await store.close();

  const rows = phases.map((ph) => {
    const opsPerS = ph.done / (ph.ms / 1000);
    const full = ph.done >= N;
    const msForN = full ? ph.ms : (N / ph.done) * ph.ms;
    return { ...ph, opsPerS, full, msForN, p50: p(ph.lat, 0.5), p99: p(ph.lat, 0.99) };
  });
  const by = (n: string) => rows.find((r) => r.name === n)!;
  const ratio = (a: string, b: string): number => by(b).opsPerS / by(a).opsPerS; // time ratio a/b
  const r1 = ratio("ssa-create", "post-create");
  const r2 = ratio("ssa-change", "put-update");
  const r3 = ratio("ssa-noop", "put-update");
  console.log(`apply benchmark: N=${N}, budget ${BUDGET_MS / 1000} s/phase, in-process handler, memory store, 1 request in flight`);
  console.log("| phase | objects | ops/s | p50 ms | p99 ms | time for N |");
  console.log("|---|---|---|---|---|---|");
  for (const r of rows) {
    console.log(`| ${r.name} | ${r.done.toLocaleString("en-US")} | ${r.opsPerS.toFixed(0)} | ${r.p50.toFixed(3)} | ${r.p99.toFixed(3)} | ${r.full ? "" : "~"}${(r.msForN / 1000).toFixed(2)} s |`);
  }
  console.log(`| SSA create / POST (time per op) | ${r1.toFixed(2)}x |`);
  console.log(`| SSA change / PUT (time per op)  | ${r2.toFixed(2)}x |`);
  console.log(`| SSA no-op / PUT (time per op)   | ${r3.toFixed(2)}x |`);
  console.log(`| store writes during the no-op pass | ${noopWrites} |`);
  const f = (x: number): string => x.toFixed(2);
  console.log(`RESULT n=${N} ssa_create_ops=${by("ssa-create").opsPerS.toFixed(0)} ssa_create_p99_ms=${f(by("ssa-create").p99)} ssa_noop_ops=${by("ssa-noop").opsPerS.toFixed(0)} ssa_noop_p99_ms=${f(by("ssa-noop").p99)} ssa_change_ops=${by("ssa-change").opsPerS.toFixed(0)} ssa_change_p99_ms=${f(by("ssa-change").p99)} post_ops=${by("post-create").opsPerS.toFixed(0)} post_p99_ms=${f(by("post-create").p99)} put_ops=${by("put-update").opsPerS.toFixed(0)} put_p99_ms=${f(by("put-update").p99)} ratio_create=${f(r1)} ratio_change=${f(r2)} ratio_noop=${f(r3)} noop_writes=${noopWrites}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
