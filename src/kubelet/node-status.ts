/**
 * The Node object a kubelet registers and the status it reports, as pure functions: capacity and
 * allocatable, standard labels, addresses, nodeInfo, and the conditions Ready, MemoryPressure,
 * DiskPressure and PIDPressure (NetworkUnavailable is not the kubelet's). Heartbeat times move on
 * every report; transition times only when a condition's status changes.
 */
import { arch as osArch, release as osRelease } from "node:os";
import type { RuntimeStatus } from "./runtime/types.ts";
import { KUBELET_VERSION, rfc3339, type NodeCondition, type NodeObject } from "./types.ts";

export interface NodeCapacity {
  /** Kubernetes quantity, e.g. "4" or "3500m". */
  readonly cpu: string;
  /** e.g. "8Gi". */
  readonly memory: string;
  /** Max pods (kubelet default 110). */
  readonly pods: string;
  readonly ephemeralStorage: string;
}

export const DEFAULT_CAPACITY: NodeCapacity = { cpu: "4", memory: "8Gi", pods: "110", ephemeralStorage: "100Gi" };

export interface NodeDescription {
  readonly nodeName: string;
  readonly capacity: NodeCapacity;
  /** Reserved for system daemons; allocatable = capacity - reserved (default none). */
  readonly allocatable?: Partial<NodeCapacity>;
  readonly internalIP: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly podCIDR?: string;
  /** e.g. "hollow://0.1.0". */
  readonly containerRuntimeVersion: string;
  readonly osImage?: string;
  readonly kernelVersion?: string;
  readonly instanceType?: string;
  /** Port the kubelet serves on (daemonEndpoints; 10250 upstream). */
  readonly kubeletPort?: number;
  /** Annotations the agent owns on its Node (e.g. tugboat.dev/kubelet-endpoint); kept up to date at registration. */
  readonly annotations?: Readonly<Record<string, string>>;
}

const GOARCH: Record<string, string> = { x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386", ppc64: "ppc64le", s390x: "s390x", riscv64: "riscv64" };

/** Go's GOARCH name for this machine. */
export function goArch(): string {
  return GOARCH[osArch()] ?? osArch();
}

/** The labels a kubelet puts on its node. */
export function nodeLabels(d: NodeDescription): Record<string, string> {
  return {
    "beta.kubernetes.io/arch": goArch(),
    "beta.kubernetes.io/os": "linux",
    "kubernetes.io/arch": goArch(),
    "kubernetes.io/hostname": d.nodeName,
    "kubernetes.io/os": "linux",
    ...(d.instanceType !== undefined ? { "node.kubernetes.io/instance-type": d.instanceType } : {}),
    ...(d.labels ?? {}),
  };
}

function capacityMap(c: NodeCapacity): Record<string, string> {
  return { cpu: c.cpu, "ephemeral-storage": c.ephemeralStorage, memory: c.memory, pods: c.pods };
}

/** The status fields that do not depend on time (capacity, addresses, nodeInfo …). */
export function staticNodeStatus(d: NodeDescription): NonNullable<NodeObject["status"]> {
  const cap = capacityMap(d.capacity);
  const alloc = capacityMap({ ...d.capacity, ...(d.allocatable ?? {}) });
  return {
    capacity: cap,
    allocatable: alloc,
    addresses: [{ type: "InternalIP", address: d.internalIP }, { type: "Hostname", address: d.nodeName }],
    daemonEndpoints: { kubeletEndpoint: { Port: d.kubeletPort ?? 10250 } },
    nodeInfo: {
      machineID: "", systemUUID: "", bootID: "",
      kernelVersion: d.kernelVersion ?? osRelease(),
      osImage: d.osImage ?? "Tugboat hollow node",
      containerRuntimeVersion: d.containerRuntimeVersion,
      kubeletVersion: KUBELET_VERSION,
      kubeProxyVersion: "",
      operatingSystem: "linux",
      architecture: goArch(),
    },
  };
}

type Cond = Omit<NodeCondition, "lastHeartbeatTime" | "lastTransitionTime">;

/** Ready from the runtime's conditions (`undefined` status: the runtime did not answer). */
export function readyCondition(rs: RuntimeStatus | undefined): Cond {
  if (rs === undefined) return { type: "Ready", status: "False", reason: "KubeletNotReady", message: "container runtime is down" };
  const msgs: string[] = [];
  for (const t of ["RuntimeReady", "NetworkReady"] as const) {
    const c = rs.conditions.find((x) => x.type === t);
    if (c === undefined || !c.status) {
      const what = t === "RuntimeReady" ? "container runtime status check may not have completed yet" : "container runtime network not ready";
      msgs.push(`${what}: ${t}=false reason:${c?.reason ?? ""} message:${c?.message ?? ""}`);
    }
  }
  if (msgs.length > 0) return { type: "Ready", status: "False", reason: "KubeletNotReady", message: msgs.join(", ") };
  // Runtimes that cannot enforce limits say so (process runtime: `status().limits`), appended the
  // way upstream appends "AppArmor enabled" to this message.
  const limits = (rs as { limits?: { cpu?: boolean; memory?: boolean; message?: string } }).limits;
  if (limits !== undefined && (limits.cpu === false || limits.memory === false) && limits.message) {
    return { type: "Ready", status: "True", reason: "KubeletReady", message: `kubelet is posting ready status. ${limits.message}` };
  }
  return { type: "Ready", status: "True", reason: "KubeletReady", message: "kubelet is posting ready status" };
}

/** The kubelet's four conditions, in its order, with times carried over from `old` where unchanged. */
export function nodeConditions(rs: RuntimeStatus | undefined, old: readonly NodeCondition[], nowMs: number): NodeCondition[] {
  const conds: Cond[] = [
    { type: "MemoryPressure", status: "False", reason: "KubeletHasSufficientMemory", message: "kubelet has sufficient memory available" },
    { type: "DiskPressure", status: "False", reason: "KubeletHasNoDiskPressure", message: "kubelet has no disk pressure" },
    { type: "PIDPressure", status: "False", reason: "KubeletHasSufficientPID", message: "kubelet has sufficient PID available" },
    readyCondition(rs),
  ];
  const now = rfc3339(nowMs);
  const out: NodeCondition[] = conds.map((c) => {
    const prev = old.find((o) => o.type === c.type);
    const transition = prev !== undefined && prev.status === c.status && prev.lastTransitionTime ? prev.lastTransitionTime : now;
    return { type: c.type!, status: c.status!, lastHeartbeatTime: now, lastTransitionTime: transition, reason: c.reason!, message: c.message! };
  });
  // Conditions other components own (NetworkUnavailable …) are kept as they are.
  for (const o of old) if (!conds.some((c) => c.type === o.type)) out.unshift(o);
  return out;
}

/** True when two condition lists differ in anything but heartbeat times. */
export function conditionsChanged(a: readonly NodeCondition[], b: readonly NodeCondition[]): boolean {
  const key = (l: readonly NodeCondition[]): string => JSON.stringify(
    l.map((c) => [c.type, c.status, c.reason ?? "", c.message ?? "", c.lastTransitionTime ?? ""]).sort(),
  );
  return key(a) !== key(b);
}

/** The Node a kubelet creates when it registers. */
export function initialNode(d: NodeDescription, rs: RuntimeStatus | undefined, nowMs: number): NodeObject {
  return {
    apiVersion: "v1", kind: "Node",
    metadata: { name: d.nodeName, labels: nodeLabels(d), annotations: { "node.alpha.kubernetes.io/ttl": "0", "volumes.kubernetes.io/controller-managed-attach-detach": "true", ...(d.annotations ?? {}) } },
    spec: { ...(d.podCIDR !== undefined ? { podCIDR: d.podCIDR, podCIDRs: [d.podCIDR] } : {}) },
    status: { ...staticNodeStatus(d), conditions: nodeConditions(rs, [], nowMs) },
  };
}

/** Parses a Kubernetes quantity loosely for validation of flags; returns undefined when malformed. */
export function isQuantity(s: string): boolean {
  return /^[+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/.test(s);
}
