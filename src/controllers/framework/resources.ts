/**
 * Resource identities the controllers read and write: an apiVersion + kind pair (what the shared
 * informer factory and the writer key on) with the registry facts (plural, scope) looked up once.
 */
import { kindByGvk, type KindInfo } from "../../api/registry.ts";

/** A built-in resource as controllers name it. */
export interface ResourceId {
  readonly apiVersion: string;
  readonly kind: string;
}

export const PODS: ResourceId = { apiVersion: "v1", kind: "Pod" };
export const REPLICASETS: ResourceId = { apiVersion: "apps/v1", kind: "ReplicaSet" };
export const DEPLOYMENTS: ResourceId = { apiVersion: "apps/v1", kind: "Deployment" };
export const NAMESPACES: ResourceId = { apiVersion: "v1", kind: "Namespace" };
export const SERVICEACCOUNTS: ResourceId = { apiVersion: "v1", kind: "ServiceAccount" };
export const EVENTS: ResourceId = { apiVersion: "v1", kind: "Event" };
export const LEASES: ResourceId = { apiVersion: "coordination.k8s.io/v1", kind: "Lease" };
export const STATEFULSETS: ResourceId = { apiVersion: "apps/v1", kind: "StatefulSet" };
export const DAEMONSETS: ResourceId = { apiVersion: "apps/v1", kind: "DaemonSet" };
export const CONTROLLERREVISIONS: ResourceId = { apiVersion: "apps/v1", kind: "ControllerRevision" };
export const JOBS: ResourceId = { apiVersion: "batch/v1", kind: "Job" };
export const CRONJOBS: ResourceId = { apiVersion: "batch/v1", kind: "CronJob" };
export const NODES: ResourceId = { apiVersion: "v1", kind: "Node" };
export const SERVICES: ResourceId = { apiVersion: "v1", kind: "Service" };
export const ENDPOINTS: ResourceId = { apiVersion: "v1", kind: "Endpoints" };
export const ENDPOINTSLICES: ResourceId = { apiVersion: "discovery.k8s.io/v1", kind: "EndpointSlice" };
export const PVCS: ResourceId = { apiVersion: "v1", kind: "PersistentVolumeClaim" };

/** `apps/v1 ReplicaSet`: the map key for a resource. */
export function resourceKey(r: ResourceId): string {
  return `${r.apiVersion} ${r.kind}`;
}

/** Registry facts for a resource. Throws `TypeError` when the kind is not built in. */
export function kindInfo(r: ResourceId): KindInfo {
  const k = kindByGvk(r.apiVersion, r.kind);
  if (!k) throw new TypeError(`no built-in resource for kind "${r.kind}" in version "${r.apiVersion}"`);
  return k;
}
