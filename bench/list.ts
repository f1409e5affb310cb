/**
 * `npm run bench -- list [pods] [nodes] [--variant=stamped|eager] [--decode=codec|compact] [--memo=MiB]`:
 * LIST of 150,000 pods served from the watch cache, as the full response bytes in JSON and in
 * Kubernetes protobuf, plus RSS with 150,000 realistic pods and 5,000 nodes held by the memory
 * store (protobuf values, as the apiserver stores them) and the watch caches.
 * Goals (issue 2 §6): LIST 150k pods <= 1 s in protobuf; RSS <= 2 GiB.
 *
 * Variants (run both, back to back, to compare):
 * - stamped (default; what the apiserver does): protobuf items are the store's own value bytes
 *   with metadata.resourceVersion stamped in while the response is written
 *   (src/api/codec/stamp.ts), nothing kept per object; JSON encodings are kept within a byte budget
 *   (`--memo`, default 256 MiB) and computed per LIST beyond it; the body is produced as ~1 MiB
 *   chunks (src/apiserver/watchcache/listbody.ts) — the time is to the last chunk.
 * - eager (the previous design): both encodings memoized for every object on first use, the
 *   body concatenated into one buffer.
 * `--decode=compact` re-materializes decoded objects through JSON (what the cache had to do
 * before the codec allocated compact objects); default `codec` keeps the codec's objects.
 * Time is wall clock (ms to the full response) and CPU (process.cpuUsage, user+system) per LIST.
 */
import { decodeObject, encodeMessage, encodeObject } from "../src/api/codec/mod.ts";
import type { KubeObject } from "../src/api/object.ts";
import { matchAll } from "../src/api/selectors/filter.ts";
import { createWatchCache, jsonListChunks, MemoPool, protoListChunks, type WatchCache } from "../src/apiserver/watchcache/mod.ts";
import type { CachedObject, Encoding } from "../src/apiserver/watchcache/types.ts";
import { encodeProtoList } from "../src/apiserver/protolist.ts";
import { createMemoryStore } from "../src/store/memory.ts";
import type { Store } from "../src/store/types.ts";

const args = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const flag = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const PODS = Number(args[0] ?? 150_000);
const NODES = Number(args[1] ?? 5_000);
const DECODE = (flag("decode") ?? "codec") as "codec" | "compact";
const VARIANT = (flag("variant") ?? "stamped") as "stamped" | "eager";
const MEMO_MIB = Number(flag("memo") ?? 256);
const enc = new TextEncoder();
const gc = (globalThis as { gc?: () => void }).gc;
const mib = (b: number) => (b / 1048576).toFixed(0);
const rss = () => { gc?.(); gc?.(); return process.memoryUsage().rss; };
const heap = () => { gc?.(); gc?.(); return process.memoryUsage().heapUsed; };

export function realisticPod(i: number, nodes: number): KubeObject {
  const ns = `team-${i % 200}`;
  const app = `app-${i % 1500}`;
  const name = `${app}-${(i * 2654435761 >>> 0).toString(36).slice(0, 5)}-${i.toString(36)}`;
  const node = `node-${String(i % nodes).padStart(5, "0")}`;
  const ts = "2026-11-22T10:00:00Z";
  return {
    apiVersion: "v1", kind: "Pod",
    metadata: {
      name, namespace: ns, uid: `6b1f0c9e-${String(i).padStart(4, "0").slice(-4)}-4c1e-9d2a-${String(i).padStart(12, "0")}`,
      creationTimestamp: ts, generateName: `${app}-`,
      labels: { app, "pod-template-hash": "5d9c7f8b6d", tier: i % 3 === 0 ? "frontend" : "backend" },
      annotations: { "kubectl.kubernetes.io/restartedAt": ts },
      ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: `${app}-5d9c7f8b6d`, uid: "0a1b2c3d-0000-4000-8000-000000000001", controller: true, blockOwnerDeletion: true }],
    },
    spec: {
      nodeName: node, restartPolicy: "Always", terminationGracePeriodSeconds: 30, dnsPolicy: "ClusterFirst",
      serviceAccountName: "default", schedulerName: "default-scheduler", priority: 0, enableServiceLinks: true,
      preemptionPolicy: "PreemptLowerPriority",
      securityContext: {},
      tolerations: [
        { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
        { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
      ],
      volumes: [{ name: "kube-api-access-x7k2p", projected: { defaultMode: 420, sources: [
        { serviceAccountToken: { path: "token", expirationSeconds: 3607 } },
        { configMap: { name: "kube-root-ca.crt", items: [{ key: "ca.crt", path: "ca.crt" }] } },
      ] } }],
      containers: [
        {
          name: "main", image: `registry.example.com/${app}:v1.${i % 40}.3`, imagePullPolicy: "IfNotPresent",
          ports: [{ name: "http", containerPort: 8080, protocol: "TCP" }],
          env: [{ name: "LOG_LEVEL", value: "info" }, { name: "POD_NAME", valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "metadata.name" } } }],
          resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
          readinessProbe: { httpGet: { path: "/healthz", port: 8080, scheme: "HTTP" }, periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 },
          volumeMounts: [{ name: "kube-api-access-x7k2p", readOnly: true, mountPath: "/var/run/secrets/kubernetes.io/serviceaccount" }],
          terminationMessagePath: "/dev/termination-log", terminationMessagePolicy: "File",
        },
        {
          name: "sidecar", image: "registry.example.com/proxy:1.27.0", imagePullPolicy: "IfNotPresent",
          resources: { requests: { cpu: "10m", memory: "32Mi" } },
          terminationMessagePath: "/dev/termination-log", terminationMessagePolicy: "File",
        },
      ],
    },
    status: {
      phase: "Running", hostIP: `10.0.${(i % nodes) >> 8}.${(i % nodes) & 255}`, podIP: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
      podIPs: [{ ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` }], startTime: ts, qosClass: "Burstable",
      conditions: ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"].map((type) => ({ type, status: "True", lastTransitionTime: ts })),
      containerStatuses: ["main", "sidecar"].map((n) => ({
        name: n, ready: true, started: true, restartCount: 0, image: `registry.example.com/${n}:v1`,
        imageID: `registry.example.com/${n}@sha256:${"ab".repeat(32)}`, containerID: `containerd://${"cd".repeat(32)}`,
        state: { running: { startedAt: ts } },
      })),
    },
  };
}

export function realisticNode(i: number): KubeObject {
  const name = `node-${String(i).padStart(5, "0")}`;
  const ts = "2026-11-22T09:00:00Z";
  return {
    apiVersion: "v1", kind: "Node",
    metadata: {
      name, uid: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`, creationTimestamp: ts,
      labels: { "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64", "topology.kubernetes.io/zone": `zone-${i % 3}` },
    },
    spec: { podCIDR: `10.${i >> 8}.${i & 255}.0/24`, podCIDRs: [`10.${i >> 8}.${i & 255}.0/24`] },
    status: {
      capacity: { cpu: "16", memory: "65832156Ki", pods: "110", "ephemeral-storage": "507944016Ki" },
      allocatable: { cpu: "15800m", memory: "64681180Ki", pods: "110", "ephemeral-storage": "468125156Ki" },
      conditions: ["MemoryPressure", "DiskPressure", "PIDPressure", "Ready"].map((type) => ({
        type, status: type === "Ready" ? "True" : "False", lastHeartbeatTime: ts, lastTransitionTime: ts, reason: `Kubelet${type}`, message: "ok",
      })),
      addresses: [{ type: "InternalIP", address: `10.0.${i >> 8}.${i & 255}` }, { type: "Hostname", address: name }],
      nodeInfo: { machineID: "m".repeat(32), systemUUID: "s".repeat(36), bootID: "b".repeat(36), kernelVersion: "6.1.0-27-amd64", osImage: "Debian GNU/Linux 12 (bookworm)", containerRuntimeVersion: "containerd://1.7.22", kubeletVersion: "v1.32.0", kubeProxyVersion: "v1.32.0", operatingSystem: "linux", architecture: "amd64" },
      images: [{ names: ["registry.example.com/proxy:1.27.0"], sizeBytes: 45_000_000 }],
    },
  };
}

export const jsonEncoders = {
  json: (o: KubeObject) => enc.encode(JSON.stringify(o)),
  protobuf: (o: KubeObject) => encodeObject(o),
};

function podFields(o: KubeObject): Record<string, string> {
  const spec = (o["spec"] ?? {}) as { nodeName?: string };
  const status = (o["status"] ?? {}) as { phase?: string };
  return {
    "metadata.name": o.metadata?.name ?? "", "metadata.namespace": o.metadata?.namespace ?? "",
    "spec.nodeName": spec.nodeName ?? "", "status.phase": status.phase ?? "",
  };
}

// --- list assembly ---------------------------------------------------------------------------

const LIST_META = "k8s.io.apimachinery.pkg.apis.meta.v1.ListMeta";

/** Produces the whole response (chunks drained, as a transport would) and returns its size. */
function listBytes(encoding: Encoding, items: readonly CachedObject[], rv: number): number {
  const head = { apiVersion: "v1", listKind: "PodList", meta: { resourceVersion: String(rv) } };
  if (VARIANT === "eager") {
    if (encoding === "protobuf") {
      return encodeProtoList("v1", "PodList", encodeMessage(LIST_META, head.meta), items.map((i) => i.encoded("protobuf"))).length;
    }
    const parts: Uint8Array[] = [enc.encode(`{"kind":"PodList","apiVersion":"v1","metadata":${JSON.stringify(head.meta)},"items":[`)];
    let n = parts[0]!.length + 2 + Math.max(0, items.length - 1);
    for (const it of items) { const b = it.encoded("json"); parts.push(b); n += b.length; }
    const out = new Uint8Array(n);
    let o = 0;
    parts.forEach((b, i) => { if (i > 1) out[o++] = 0x2c; out.set(b, o); o += b.length; });
    out.set([0x5d, 0x7d], o);
    return out.length;
  }
  let n = 0;
  const chunks = encoding === "json" ? jsonListChunks(head, items) : protoListChunks(head, encodeMessage(LIST_META, head.meta), items);
  for (const c of chunks) n += c.length;
  return n;
}

function collect(encoding: Encoding, items: readonly CachedObject[], rv: number): Uint8Array {
  const head = { apiVersion: "v1", listKind: "PodList", meta: { resourceVersion: String(rv) } };
  const parts = [...(encoding === "json" ? jsonListChunks(head, items) : protoListChunks(head, encodeMessage(LIST_META, head.meta), items))];
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

async function load(store: Store, n: number, make: (i: number) => KubeObject, prefix: string): Promise<number> {
  let bytes = 0;
  for (let i = 0; i < n; i += 500) {
    const ops = [];
    for (let j = i; j < Math.min(n, i + 500); j++) {
      const o = make(j);
      const v = encodeObject(o); // stored as the apiserver stores it: no resourceVersion
      bytes += v.length;
      const ns = o.metadata?.namespace;
      ops.push({ type: "put" as const, key: `${prefix}${ns ? `${ns}/` : ""}${o.metadata?.name}`, value: v });
    }
    await store.txn({ success: ops });
  }
  return bytes;
}

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)] ?? NaN; };

async function main(): Promise<void> {
  const rss0 = rss();
  const store = createMemoryStore();
  let t = performance.now();
  const podBytes = await load(store, PODS, (i) => realisticPod(i, NODES), "/registry/pods/");
  const nodeBytes = await load(store, NODES, realisticNode, "/registry/minions/");
  const tLoad = performance.now() - t;
  const rssStore = rss();
  const heapStore = heap();
  const memo = new MemoPool(VARIANT === "eager" ? Number.MAX_SAFE_INTEGER : MEMO_MIB * 1048576);
  const mk = (prefix: string, indexFields: string[]): WatchCache => createWatchCache({
    store, prefix,
    decode: DECODE === "codec" ? (kv) => decodeObject(kv.value) : (kv) => JSON.parse(JSON.stringify(decodeObject(kv.value))) as KubeObject,
    fields: podFields, encoders: jsonEncoders, indexFields, bookmarkIntervalMs: 0,
    protobufFromStored: VARIANT === "stamped", memo,
  });
  const pods = mk("/registry/pods/", ["spec.nodeName"]);
  const nodes = mk("/registry/minions/", []);
  t = performance.now();
  await pods.start();
  await nodes.start();
  const tStart = performance.now() - t;
  const rssLoaded = rss();
  const heapLoaded = heap();

  // Correctness first (small list): the JSON parses, protobuf round-trips, and the stamped
  // protobuf items are the bytes encodeObject gives for the object with its resourceVersion.
  {
    const l = await pods.list({ filter: matchAll(), resourceVersion: "0", limit: 3 });
    JSON.parse(new TextDecoder().decode(collect("json", l.items, l.revision)));
    const back = decodeObject(collect("protobuf", l.items, l.revision)) as { items?: unknown[] };
    if (back.items?.length !== 3) throw new Error("protobuf PodList did not round-trip");
    for (const it of l.items) {
      if (Buffer.compare(Buffer.from(it.encoded("protobuf")), Buffer.from(encodeObject(it.object))) !== 0) throw new Error("stamped protobuf differs from encodeObject");
    }
  }

  const rows: Array<[string, string, string, string, string]> = [];
  const results: Record<string, number> = {};
  const RUNS = 4;
  for (const encoding of ["protobuf", "json"] as Encoding[]) {
    const wall: number[] = [];
    const cpu: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      gc?.();
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const l = await pods.list({ filter: matchAll(), resourceVersion: "0" });
      const bytes = listBytes(encoding, l.items, l.revision);
      const ms = performance.now() - t0;
      const c = process.cpuUsage(c0);
      if (l.items.length !== PODS) throw new Error(`listed ${l.items.length} pods`);
      const cpuMs = (c.user + c.system) / 1000;
      rows.push([encoding, run === 0 ? "first" : `again ${run}`, ms.toFixed(0), cpuMs.toFixed(0), mib(bytes)]);
      if (run === 0) { results[`${encoding}_first_ms`] = Math.round(ms); results[`${encoding}_first_cpu_ms`] = Math.round(cpuMs); }
      else { wall.push(ms); cpu.push(cpuMs); }
    }
    results[`${encoding}_ms`] = Math.round(median(wall));
    results[`${encoding}_cpu_ms`] = Math.round(median(cpu));
  }
  const rssAfter = rss();
  const heapAfter = heap();

  console.log(`LIST ${PODS} pods from the watch cache (memory store, ${NODES} nodes also cached, variant=${VARIANT}, decode=${DECODE}, memo budget ${VARIANT === "eager" ? "unbounded" : `${MEMO_MIB} MiB`})`);
  console.log(`stored: pods ${mib(podBytes)} MiB protobuf (${(podBytes / PODS).toFixed(0)} B/pod), nodes ${mib(nodeBytes)} MiB; load ${tLoad.toFixed(0)} ms, cache start (decode all) ${tStart.toFixed(0)} ms`);
  console.log("| encoding | run | ms to full response | CPU ms | response MiB |");
  console.log("|---|---|---|---|---|");
  for (const r of rows) console.log(`| ${r.join(" | ")} |`);
  console.log("| stage | RSS MiB | heapUsed MiB |");
  console.log("|---|---|---|");
  console.log(`| process start | ${mib(rss0)} | |`);
  console.log(`| + memory store (pods+nodes) | ${mib(rssStore)} | ${mib(heapStore)} |`);
  console.log(`| + watch caches started | ${mib(rssLoaded)} | ${mib(heapLoaded)} |`);
  console.log(`| + after ${RUNS} JSON and ${RUNS} protobuf LISTs | ${mib(rssAfter)} | ${mib(heapAfter)} |`);
  console.log(`cache heap per pod (objects, cache entries, indexes): ${((heapLoaded - heapStore) / (PODS + NODES)).toFixed(0)} B; kept encodings: ${mib(memo.used)} MiB`);
  const proto = results["protobuf_ms"] ?? NaN;
  const worstRss = Math.max(rssLoaded, rssAfter);
  console.log(`RESULT pods=${PODS} nodes=${NODES} variant=${VARIANT} decode=${DECODE} memo_mib=${VARIANT === "eager" ? "inf" : MEMO_MIB} ` +
    `list_protobuf_first_ms=${results["protobuf_first_ms"]} list_protobuf_ms=${proto} list_protobuf_cpu_ms=${results["protobuf_cpu_ms"]} ` +
    `list_json_first_ms=${results["json_first_ms"]} list_json_ms=${results["json_ms"]} list_json_cpu_ms=${results["json_cpu_ms"]} ` +
    `rss_store_mib=${mib(rssStore)} rss_loaded_mib=${mib(rssLoaded)} rss_after_lists_mib=${mib(rssAfter)} ` +
    `goal_list_protobuf_ms=1000 ratio_list_protobuf=${(proto / 1000).toFixed(2)} ratio_list_protobuf_cpu=${((results["protobuf_cpu_ms"] ?? NaN) / 1000).toFixed(2)} ` +
    `goal_rss_mib=2048 ratio_rss=${(worstRss / (2048 * 1048576)).toFixed(2)}`);
  pods.stop();
  nodes.stop();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((e: unknown) => { console.error(e); process.exit(1); });
}
