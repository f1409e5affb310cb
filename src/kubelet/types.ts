/**
 * API shapes the node agent works with (the generated JSON-shape interfaces, made usable as
 * `KubeObject`s) and the labels/annotations it puts on runtime objects.
 */
import type { KubeObject } from "../api/object.ts";
import type {
  Container as ApiContainer,
  ContainerStatus as ApiContainerStatus,
  Node as ApiNode,
  NodeCondition as ApiNodeCondition,
  Pod as ApiPod,
  PodCondition as ApiPodCondition,
  PodStatus as ApiPodStatus,
  Probe as ApiProbe,
} from "../api/generated/core_v1.ts";
import type { Lease as ApiLease } from "../api/generated/coordination_v1.ts";

export type PodObject = ApiPod & KubeObject;
export type NodeObject = ApiNode & KubeObject;
export type LeaseObject = ApiLease & KubeObject;
export type PodStatus = ApiPodStatus;
export type PodCondition = ApiPodCondition;
export type ContainerStatus = ApiContainerStatus;
export type ContainerSpec = ApiContainer;
export type NodeCondition = ApiNodeCondition;
export type Probe = ApiProbe;

/** The kubelet's version string, reported in `nodeInfo.kubeletVersion`. */
export const KUBELET_VERSION = "v1.32.0-tugboat";

/** Labels on sandboxes and containers linking them to their pod (the CRI kubelet uses the same keys). */
export const LABEL_POD_NAME = "io.kubernetes.pod.name";
export const LABEL_POD_NAMESPACE = "io.kubernetes.pod.namespace";
export const LABEL_POD_UID = "io.kubernetes.pod.uid";
export const LABEL_CONTAINER_NAME = "io.kubernetes.container.name";
/** Annotations the kubelet keeps its bookkeeping in (returned untouched by the runtime). */
export const ANNOTATION_RESTART_COUNT = "io.kubernetes.container.restartCount";
export const ANNOTATION_INIT = "tugboat.io/init-container";
export const ANNOTATION_GRACE = "io.kubernetes.pod.terminationGracePeriod";

/** `name_namespace(uid)`: how the kubelet names a pod in messages. */
export function podDesc(pod: PodObject): string {
  const m = pod.metadata ?? {};
  return `${m.name ?? ""}_${m.namespace ?? ""}(${m.uid ?? ""})`;
}

/** RFC 3339 with seconds precision, as `metav1.Time` is serialized. */
export function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** RFC 3339 with microseconds, as `metav1.MicroTime` is serialized. */
export function rfc3339Micro(ms: number): string {
  const iso = new Date(Math.floor(ms)).toISOString(); // …ss.mmmZ
  const micros = String(Math.floor((ms % 1) * 1000)).padStart(3, "0");
  return `${iso.slice(0, -1)}${micros}Z`;
}
