/**
 * In-memory implementations of the runner ports and compact object builders, for tests, scripts
 * and benchmarks (not used in production paths).
 */
import type { Node, Pod, Taint, Toleration } from "../api/generated/core_v1.ts";
import type { Binder, EventRecorder, PodPreemptor, PodStatusWriter } from "./ports.ts";
import { podKey } from "./types.ts";

/** Binds instantly (or fails for keys in `failFor`), recording every call. */
export class MemoryBinder implements Binder {
  readonly bound: { pod: string; node: string }[] = [];
  readonly failFor = new Set<string>();
  async bind(pod: Pod, nodeName: string): Promise<void> {
    const key = podKey(pod);
    if (this.failFor.has(key)) throw new Error(`binding ${key} to ${nodeName} refused`);
    this.bound.push({ pod: key, node: nodeName });
  }
}

export interface RecordedEvent { object: string; type: string; reason: string; message: string }
export class MemoryRecorder implements EventRecorder {
  readonly events: RecordedEvent[] = [];
  event(regarding: Pod, type: "Normal" | "Warning", reason: string, _action: string, message: string): void {
    this.events.push({ object: podKey(regarding), type, reason, message });
  }
}

export class MemoryStatusWriter implements PodStatusWriter {
  readonly writes: { pod: string; reason: string; message: string; nominatedNodeName: string | undefined }[] = [];
  markUnschedulable(pod: Pod, reason: string, message: string, nominatedNodeName: string | undefined): void {
    this.writes.push({ pod: podKey(pod), reason, message, nominatedNodeName });
  }
}

export class MemoryPreemptor implements PodPreemptor {
  readonly evicted: { victim: string; preemptor: string; node: string }[] = [];
  async preempt(victim: Pod, preemptor: Pod, nodeName: string): Promise<void> {
    this.evicted.push({ victim: podKey(victim), preemptor: podKey(preemptor), node: nodeName });
  }
}

export interface NodeSpecLite {
  cpu?: string; memory?: string; pods?: string; ephemeral?: string;
  extended?: Record<string, string>;
  labels?: Record<string, string>;
  taints?: Taint[];
  unschedulable?: boolean;
  images?: { names: string[]; sizeBytes: number }[];
}

/** A Node object (hostname label added) from a compact description. */
export function makeNode(name: string, s: NodeSpecLite = {}): Node {
  const allocatable: Record<string, string> = { cpu: s.cpu ?? "4", memory: s.memory ?? "8Gi", pods: s.pods ?? "110", ...(s.extended ?? {}) };
  if (s.ephemeral) allocatable["ephemeral-storage"] = s.ephemeral;
  const node: Node = {
    apiVersion: "v1", kind: "Node",
    metadata: { name, labels: { "kubernetes.io/hostname": name, ...(s.labels ?? {}) } },
    spec: {},
    status: { allocatable, capacity: allocatable },
  };
  if (s.taints?.length) node.spec = { ...node.spec, taints: s.taints };
  if (s.unschedulable) node.spec = { ...node.spec, unschedulable: true };
  if (s.images?.length) node.status = { ...node.status, images: s.images };
  return node;
}

export interface PodSpecLite {
  namespace?: string;
  requests?: Record<string, string>;
  labels?: Record<string, string>;
  priority?: number;
  nodeName?: string;
  tolerations?: Toleration[];
  nodeSelector?: Record<string, string>;
  hostPorts?: { port: number; protocol?: string }[];
  images?: string[];
  gates?: string[];
  preemptNever?: boolean;
  schedulerName?: string;
  nominatedNodeName?: string;
  terminating?: boolean;
  startTime?: string;
  /** Extra spec fields merged in (affinity, topologySpreadConstraints, …). */
  spec?: Record<string, unknown>;
}

/** A Pod object from a compact description (one container holds all requests and ports). */
export function makePod(name: string, s: PodSpecLite = {}): Pod {
  const images = s.images?.length ? s.images : ["registry.k8s.io/pause:3.9"];
  const containers = images.map((image, i) => ({
    name: `c${i}`, image,
    ...(i === 0 && s.requests ? { resources: { requests: s.requests } } : {}),
    ...(i === 0 && s.hostPorts ? { ports: s.hostPorts.map((p) => ({ containerPort: p.port, hostPort: p.port, protocol: p.protocol ?? "TCP" })) } : {}),
  }));
  const pod: Pod = {
    apiVersion: "v1", kind: "Pod",
    metadata: {
      name, namespace: s.namespace ?? "default", uid: `uid-${s.namespace ?? "default"}-${name}`,
      labels: s.labels ?? {}, creationTimestamp: s.startTime ?? "2026-01-01T00:00:00Z",
      ...(s.terminating ? { deletionTimestamp: "2026-01-01T00:00:01Z" } : {}),
    },
    // Escape hatch: `spec` extras are test input merged over the built spec as-is.
    spec: {
      containers,
      ...(s.priority !== undefined ? { priority: s.priority } : {}),
      ...(s.nodeName ? { nodeName: s.nodeName } : {}),
      ...(s.tolerations ? { tolerations: s.tolerations } : {}),
      ...(s.nodeSelector ? { nodeSelector: s.nodeSelector } : {}),
      ...(s.gates ? { schedulingGates: s.gates.map((g) => ({ name: g })) } : {}),
      ...(s.preemptNever ? { preemptionPolicy: "Never" } : {}),
      ...(s.schedulerName ? { schedulerName: s.schedulerName } : {}),
      ...(s.spec ?? {}),
    } as NonNullable<Pod["spec"]>,
    status: { phase: "Pending", ...(s.nominatedNodeName ? { nominatedNodeName: s.nominatedNodeName } : {}), ...(s.startTime ? { startTime: s.startTime } : {}) },
  };
  return pod;
}
