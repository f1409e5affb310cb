/**
 * Protobuf codec vs JSON on a realistic ~3 KB Pod (as kube-apiserver stores a running pod: managed
 * fields, status with conditions and container statuses). Measures encode+decode per object.
 * `npm run bench -- codec [iterations]`
 */
import { decodeObject, encodeObject } from "../src/api/codec/mod.ts";
import type { KubeObject } from "../src/api/object.ts";

function realisticPod(i: number): KubeObject {
  const t = "2024-05-01T10:00:00Z";
  return {
    apiVersion: "v1", kind: "Pod",
    metadata: {
      name: `web-7d4b9c8f6d-x${i}k2p`, generateName: "web-7d4b9c8f6d-", namespace: "default",
      uid: "0f6d3c52-6a53-4c2e-9d0e-2f1c0e1b7a11", resourceVersion: String(100000 + i), generation: 1,
      creationTimestamp: t,
      labels: { app: "web", "pod-template-hash": "7d4b9c8f6d", tier: "frontend" },
      annotations: { "kubernetes.io/config.seen": t, "prometheus.io/scrape": "true" },
      ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "web-7d4b9c8f6d",
        uid: "5c1e2d3f-4a5b-6c7d-8e9f-0a1b2c3d4e5f", controller: true, blockOwnerDeletion: true }],
      managedFields: [{ manager: "kube-controller-manager", operation: "Update", apiVersion: "v1", time: t,
        fieldsType: "FieldsV1", fieldsV1: { "f:metadata": { "f:generateName": {}, "f:labels": { ".": {}, "f:app": {} } },
          "f:spec": { "f:containers": { 'k:{"name":"nginx"}': { ".": {}, "f:image": {}, "f:name": {} } } } } }],
    },
    spec: {
      volumes: [{ name: "kube-api-access-abcde", projected: { defaultMode: 420, sources: [
        { serviceAccountToken: { expirationSeconds: 3607, path: "token" } },
        { configMap: { name: "kube-root-ca.crt", items: [{ key: "ca.crt", path: "ca.crt" }] } },
        { downwardAPI: { items: [{ path: "namespace", fieldRef: { apiVersion: "v1", fieldPath: "metadata.namespace" } }] } },
      ] } }],
      containers: [{
        name: "nginx", image: "nginx:1.27.0", imagePullPolicy: "IfNotPresent",
        ports: [{ name: "http", containerPort: 80, protocol: "TCP" }],
        env: [{ name: "MODE", value: "production" }, { name: "POD_IP", valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "status.podIP" } } }],
        resources: { limits: { cpu: "500m", memory: "256Mi" }, requests: { cpu: "100m", memory: "128Mi" } },
        volumeMounts: [{ name: "kube-api-access-abcde", readOnly: true, mountPath: "/var/run/secrets/kubernetes.io/serviceaccount" }],
        livenessProbe: { httpGet: { path: "/healthz", port: 80, scheme: "HTTP" }, initialDelaySeconds: 5, timeoutSeconds: 1,
          periodSeconds: 10, successThreshold: 1, failureThreshold: 3 },
        readinessProbe: { httpGet: { path: "/ready", port: "http", scheme: "HTTP" }, timeoutSeconds: 1, periodSeconds: 5,
          successThreshold: 1, failureThreshold: 3 },
        terminationMessagePath: "/dev/termination-log", terminationMessagePolicy: "File",
        securityContext: { allowPrivilegeEscalation: false, runAsNonRoot: true, capabilities: { drop: ["ALL"] } },
      }],
      restartPolicy: "Always", terminationGracePeriodSeconds: 30, dnsPolicy: "ClusterFirst",
      serviceAccountName: "default", serviceAccount: "default", nodeName: "node-17", schedulerName: "default-scheduler",
      securityContext: {}, enableServiceLinks: true, preemptionPolicy: "PreemptLowerPriority", priority: 0,
      tolerations: [
        { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
        { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
      ],
    },
    status: {
      phase: "Running", hostIP: "10.0.0.17", hostIPs: [{ ip: "10.0.0.17" }], podIP: "10.244.3.21", podIPs: [{ ip: "10.244.3.21" }],
      startTime: t, qosClass: "Burstable",
      conditions: ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"].map((type) => ({
        type, status: "True", lastTransitionTime: t })),
      containerStatuses: [{ name: "nginx", ready: true, started: true, restartCount: 0, image: "docker.io/library/nginx:1.27.0",
        imageID: "docker.io/library/nginx@sha256:0f04e4f646a3f14bf31d8bc8d885b6c951fdcf42589d06845f64d18aec6a3c4d",
        containerID: "containerd://7a3c1f0e2b4d6f8a9c0e1d2b3a4f5e6d7c8b9a0f1e2d3c4b5a6f7e8d9c0b1a2f",
        state: { running: { startedAt: t } } }],
    },
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

const iterations = Number(process.argv[2] ?? 20000);
const runs = 9;
const pods = Array.from({ length: 64 }, (_, i) => realisticPod(i));
const jsonBytes = Buffer.byteLength(JSON.stringify(pods[0]));
const pbBytes = encodeObject(pods[0]!).length;


const enc = new TextEncoder();
const dec = new TextDecoder();
let sink = 0;
const cases: Record<string, (o: KubeObject) => void> = {
  "protobuf encode+decode": (o) => { sink += (decodeObject(encodeObject(o)).metadata?.name?.length ?? 0); },
  "json stringify+parse": (o) => { sink += (JSON.parse(dec.decode(enc.encode(JSON.stringify(o)))) as KubeObject).kind!.length; },
  "protobuf encode": (o) => { sink += encodeObject(o).length; },
  "json encode (stringify+utf8)": (o) => { sink += enc.encode(JSON.stringify(o)).length; },
};
const pbEncoded = pods.map((p) => encodeObject(p));
const jsonEncoded = pods.map((p) => enc.encode(JSON.stringify(p)));
let k = 0;
const decodeCases: Record<string, () => void> = {
  "protobuf decode": () => { sink += decodeObject(pbEncoded[k++ & 63]!).kind!.length; },
  "json decode (utf8+parse)": () => { sink += (JSON.parse(dec.decode(jsonEncoded[k++ & 63]!)) as KubeObject).kind!.length; },
};

// Runs are interleaved across cases so that load from other processes hits every case alike.
const all: Record<string, () => void> = { ...decodeCases };
for (const [name, fn] of Object.entries(cases)) all[name] = () => fn(pods[k++ & 63]!);
const samples: Record<string, number[]> = {};
for (const [name, fn] of Object.entries(all)) {
  timeAll(fn); // warm up
  samples[name] = [];
}
for (let run = 0; run < runs; run++) {
  for (const [name, fn] of Object.entries(all)) samples[name]!.push(timeAll(fn));
}
const results: Record<string, number> = {};
for (const name of Object.keys(cases).concat(Object.keys(decodeCases))) results[name] = median(samples[name]!);

function timeAll(fn: () => void): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn();
  return Number(process.hrtime.bigint() - start) / iterations / 1000; // µs per op
}

console.log(`Pod: ${jsonBytes} bytes JSON, ${pbBytes} bytes protobuf; ${iterations} ops x ${runs} runs, median`);
console.log("| case | µs/op |");
console.log("|---|---|");
for (const [name, us] of Object.entries(results)) console.log(`| ${name} | ${us.toFixed(2)} |`);
const pb = results["protobuf encode+decode"]!;
const js = results["json stringify+parse"]!;
console.log(`protobuf/json speed ratio: ${(js / pb).toFixed(2)}x (sink ${sink % 10})`);
console.log(`RESULT pod_json_bytes=${jsonBytes} pod_pb_bytes=${pbBytes} pb_roundtrip_us=${pb.toFixed(2)} json_roundtrip_us=${js.toFixed(2)} ` +
  `pb_encode_us=${results["protobuf encode"]!.toFixed(2)} pb_decode_us=${results["protobuf decode"]!.toFixed(2)} ` +
  `json_encode_us=${results["json encode (stringify+utf8)"]!.toFixed(2)} json_decode_us=${results["json decode (utf8+parse)"]!.toFixed(2)} ` +
  `speedup=${(js / pb).toFixed(2)}`);
