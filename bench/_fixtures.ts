/**
 * Realistic object generators shared by benchmarks: Pods as a Deployment's ReplicaSet creates them
 * after scheduling (service-account volume, tolerations, env, probes, resources) with a kubelet-like
 * status, and Nodes as a kubelet registers them (capacity, conditions, addresses, images).
 * Deterministic in `i`; server-owned fields (uid, creationTimestamp, resourceVersion) are left out.
 * Sizes: a Pod is ~3.3 KB of JSON with status (~1.9 KB protobuf); a Node ~2.5 KB JSON.
 */
import type { KubeObject } from "../src/api/object.ts";

const TS = "2026-11-22T10:00:00Z";

export function nodeName(i: number): string {
  return `node-${String(i).padStart(5, "0")}`;
}

/** Namespaces pods are spread over by `realisticPod` (200 of them). */
export function podNamespace(i: number): string {
  return `team-${i % 200}`;
}

/** A scheduled Pod (no status: the apiserver resets status on create). */
export function realisticPod(i: number, nodes: number, ns = podNamespace(i)): KubeObject {
  const app = `app-${i % 1500}`;
  const hash = ((i * 2654435761) >>> 0).toString(36).padStart(5, "0").slice(0, 5);
  return {
    apiVersion: "v1", kind: "Pod",
    metadata: {
      name: `${app}-5d9c7f8b6d-${hash}${i.toString(36)}`, namespace: ns, generateName: `${app}-5d9c7f8b6d-`,
      labels: { app, "pod-template-hash": "5d9c7f8b6d", tier: i % 3 === 0 ? "frontend" : "backend" },
      annotations: { "kubectl.kubernetes.io/restartedAt": TS },
      ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: `${app}-5d9c7f8b6d`, uid: "0a1b2c3d-0000-4000-8000-000000000001", controller: true, blockOwnerDeletion: true }],
    },
    spec: {
      nodeName: nodeName(i % nodes), restartPolicy: "Always", terminationGracePeriodSeconds: 30, dnsPolicy: "ClusterFirst",
      serviceAccountName: "default", schedulerName: "default-scheduler", priority: 0, enableServiceLinks: true,
      preemptionPolicy: "PreemptLowerPriority", securityContext: {},
      tolerations: [
        { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
        { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
      ],
      volumes: [{ name: "kube-api-access-x7k2p", projected: { defaultMode: 420, sources: [
        { serviceAccountToken: { path: "token", expirationSeconds: 3607 } },
        { configMap: { name: "kube-root-ca.crt", items: [{ key: "ca.crt", path: "ca.crt" }] } },
        { downwardAPI: { items: [{ path: "namespace", fieldRef: { apiVersion: "v1", fieldPath: "metadata.namespace" } }] } },
      ] } }],
      containers: [{
        name: "main", image: `registry.example.com/${app}:v1.${i % 40}.3`, imagePullPolicy: "IfNotPresent",
        ports: [{ name: "http", containerPort: 8080, protocol: "TCP" }],
        env: [
          { name: "LOG_LEVEL", value: "info" },
          { name: "POD_NAME", valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "metadata.name" } } },
        ],
        resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
        readinessProbe: { httpGet: { path: "/healthz", port: 8080, scheme: "HTTP" }, periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 },
        volumeMounts: [{ name: "kube-api-access-x7k2p", readOnly: true, mountPath: "/var/run/secrets/kubernetes.io/serviceaccount" }],
        terminationMessagePath: "/dev/termination-log", terminationMessagePolicy: "File",
      }],
    },
  };
}

/** The status a kubelet reports for pod `i` once it runs. */
export function realisticPodStatus(i: number): Record<string, unknown> {
  const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  const cond = (type: string) => ({ type, status: "True", lastProbeTime: null, lastTransitionTime: TS });
  return {
    phase: "Running", hostIP: `192.168.${(i >> 8) & 255}.${i & 255}`, podIP: ip, podIPs: [{ ip }], startTime: TS, qosClass: "Burstable",
    conditions: [cond("PodReadyToStartContainers"), cond("Initialized"), cond("Ready"), cond("ContainersReady"), cond("PodScheduled")],
    containerStatuses: [{
      name: "main", ready: true, started: true, restartCount: 0,
      image: `registry.example.com/app-${i % 1500}:v1.${i % 40}.3`,
      imageID: "registry.example.com/app@sha256:4c1e9d2a6b1f0c9e4c1e9d2a6b1f0c9e4c1e9d2a6b1f0c9e4c1e9d2a6b1f0c9e",
      containerID: `containerd://${(i * 2654435761 >>> 0).toString(16).padStart(8, "0").repeat(8)}`,
      state: { running: { startedAt: TS } }, lastState: {},
    }],
  };
}

/** A registered, Ready node. */
export function realisticNode(i: number): KubeObject {
  const name = nodeName(i);
  const cond = (type: string, status: string, reason: string) => ({
    type, status, reason, message: `kubelet reports ${reason}`, lastHeartbeatTime: TS, lastTransitionTime: TS,
  });
  return {
    apiVersion: "v1", kind: "Node",
    metadata: {
      name,
      labels: {
        "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
        "node.kubernetes.io/instance-type": "m5.xlarge", "topology.kubernetes.io/zone": `zone-${i % 3}`,
        "topology.kubernetes.io/region": "region-1",
      },
      annotations: { "node.alpha.kubernetes.io/ttl": "0", "volumes.kubernetes.io/controller-managed-attach-detach": "true" },
    },
    spec: { podCIDR: `10.${(i >> 8) & 255}.${i & 255}.0/24`, podCIDRs: [`10.${(i >> 8) & 255}.${i & 255}.0/24`], providerID: `tug://${name}` },
    status: {
      capacity: { cpu: "4", memory: "16318536Ki", pods: "110", "ephemeral-storage": "101203948Ki" },
      allocatable: { cpu: "3920m", memory: "15591496Ki", pods: "110", "ephemeral-storage": "93268961212" },
      conditions: [
        cond("MemoryPressure", "False", "KubeletHasSufficientMemory"), cond("DiskPressure", "False", "KubeletHasNoDiskPressure"),
        cond("PIDPressure", "False", "KubeletHasSufficientPID"), cond("Ready", "True", "KubeletReady"),
      ],
      addresses: [{ type: "InternalIP", address: `192.168.${(i >> 8) & 255}.${i & 255}` }, { type: "Hostname", address: name }],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        machineID: "ec2a9c3e0d1f4b6a8c7e5d3b1a9f7e5d", systemUUID: "ec2a9c3e-0d1f-4b6a-8c7e-5d3b1a9f7e5d", bootID: "4f2c6a8e-1b3d-4e5f-9a7c-0d2e4f6a8b1c",
        kernelVersion: "6.1.0-28-amd64", osImage: "Debian GNU/Linux 12 (bookworm)", containerRuntimeVersion: "containerd://1.7.22",
        kubeletVersion: "v1.32.0", kubeProxyVersion: "v1.32.0", operatingSystem: "linux", architecture: "amd64",
      },
      images: [
        { names: ["registry.example.com/base@sha256:1f0c9e4c", "registry.example.com/base:v1"], sizeBytes: 73812345 },
        { names: ["registry.k8s.io/pause@sha256:7031c1b2", "registry.k8s.io/pause:3.10"], sizeBytes: 320368 },
      ],
    },
  };
}
