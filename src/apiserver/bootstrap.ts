/**
 * Objects every cluster starts with: the `default`, `kube-system`, `kube-public` and
 * `kube-node-lease` namespaces, the `kubernetes` service in `default` (first service IP) and the
 * system priority classes `system-node-critical` (2000001000) and `system-cluster-critical`
 * (2000000000). Idempotent: existing objects are left alone.
 */
import { isApiError } from "../api/errors.ts";
import type { KubeObject } from "../api/object.ts";
import { findResource, type ServerCore } from "./context.ts";
import { createObject } from "./rest.ts";
import { SYSTEM_PRIORITY_CLASSES } from "./admission/plugins/priority.ts";

export const SYSTEM_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"] as const;

async function ensure(core: ServerCore, group: string, plural: string, obj: KubeObject): Promise<void> {
  const res = findResource(core, group, plural);
  if (!res) return;
  try {
    await createObject(core, res, obj, false);
  } catch (e) {
    if (isApiError(e) && e.code === 409) return;
    throw e;
  }
}

export async function bootstrapCluster(core: ServerCore, opts: { apiserverPort?: number } = {}): Promise<void> {
  for (const name of SYSTEM_NAMESPACES) {
    await ensure(core, "", "namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name }, spec: { finalizers: ["kubernetes"] }, status: { phase: "Active" } });
  }
  await ensure(core, "", "services", {
    apiVersion: "v1", kind: "Service",
    metadata: { name: "kubernetes", namespace: "default", labels: { component: "apiserver", provider: "kubernetes" } },
    spec: {
      type: "ClusterIP",
      clusterIP: core.services.firstIp(),
      ports: [{ name: "https", port: 443, protocol: "TCP", targetPort: opts.apiserverPort ?? 6443 }],
      sessionAffinity: "None",
    },
  });
  for (const pc of SYSTEM_PRIORITY_CLASSES) await ensure(core, "scheduling.k8s.io", "priorityclasses", structuredClone(pc));
}
