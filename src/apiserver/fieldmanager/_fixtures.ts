/** Test fixtures: realistic objects as kubectl sends and the apiserver stores them. */
import type { KubeObject } from "../../api/object.ts";

export const DEPLOYMENT = "k8s.io.api.apps.v1.Deployment";
export const POD = "k8s.io.api.core.v1.Pod";

export interface DeploymentOpts {
  replicas?: number;
  image?: string;
  env?: Array<{ name: string; value: string }>;
  labels?: Record<string, string>;
  extraContainer?: boolean;
}

/** The applied configuration of `kubectl apply --server-side -f deployment.yaml`. */
export function deploymentConfig(o: DeploymentOpts = {}): KubeObject {
  const containers: unknown[] = [{
    name: "nginx",
    image: o.image ?? "nginx:1.25",
    ports: [{ containerPort: 80 }],
    env: o.env ?? [{ name: "MODE", value: "prod" }],
    args: ["--port", "80"],
  }];
  if (o.extraContainer) containers.push({ name: "sidecar", image: "busybox", command: ["sleep", "3600"] });
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "nginx", namespace: "default", labels: o.labels ?? { app: "nginx" } },
    spec: {
      replicas: o.replicas ?? 3,
      selector: { matchLabels: { app: "nginx" } },
      template: {
        metadata: { labels: { app: "nginx" } },
        spec: { containers },
      },
    },
  };
}

/** What the registry adds on create: identity, defaults (a subset of upstream's) and status. */
export function stored(obj: KubeObject, rv = "1"): KubeObject {
  const copy = structuredClone(obj);
  copy.metadata = {
    ...copy.metadata,
    uid: "6b7c1d4e-0000-4000-8000-000000000001",
    resourceVersion: rv,
    generation: 1,
    creationTimestamp: "2024-05-01T10:00:00Z",
  };
  const spec = copy.spec as Record<string, unknown> | undefined;
  if (!spec) return copy;
  spec.strategy ??= { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "25%", maxSurge: "25%" } };
  spec.revisionHistoryLimit ??= 10;
  spec.progressDeadlineSeconds ??= 600;
  const podSpec = (spec.template as { spec: Record<string, unknown> }).spec;
  podSpec.restartPolicy ??= "Always";
  podSpec.terminationGracePeriodSeconds ??= 30;
  podSpec.dnsPolicy ??= "ClusterFirst";
  podSpec.securityContext ??= {};
  podSpec.schedulerName ??= "default-scheduler";
  for (const c of podSpec.containers as Array<Record<string, unknown>>) {
    c.resources ??= {};
    c.terminationMessagePath ??= "/dev/termination-log";
    c.terminationMessagePolicy ??= "File";
    c.imagePullPolicy ??= "IfNotPresent";
    for (const p of (c.ports ?? []) as Array<Record<string, unknown>>) p.protocol ??= "TCP";
  }
  return copy;
}

export function podConfig(): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: "web",
      namespace: "default",
      labels: { app: "web", tier: "frontend" },
      annotations: { "example.com/owner": "team-a" },
      finalizers: ["example.com/protect", "example.com/audit"],
    },
    spec: {
      nodeSelector: { disk: "ssd" },
      containers: [
        {
          name: "app",
          image: "registry.example.com/app:2",
          args: ["--listen", ":8080"],
          ports: [{ containerPort: 8080, protocol: "TCP", name: "http" }, { containerPort: 8125, protocol: "UDP" }],
          env: [{ name: "A", value: "1" }, { name: "B", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }],
          resources: { limits: { cpu: "500m", memory: "128Mi" } },
          volumeMounts: [{ name: "data", mountPath: "/data" }],
        },
      ],
      volumes: [{ name: "data", emptyDir: {} }],
      tolerations: [{ key: "k", operator: "Exists" }],
    },
  };
}
