/**
 * NamespaceLifecycle: no new content in a namespace that is missing (404) or terminating (403),
 * and the immortal namespaces (`default`, `kube-system`, `kube-public`) cannot be deleted.
 * Reads are consistent store reads, so upstream's cache-lag workarounds (waits, forced live
 * lookups) are not needed.
 */
import { ApiError, notFound, type CauseType } from "../../../api/errors.ts";
import { forbidden, stringAt, type AdmissionHost, type MutatingPlugin } from "../types.ts";

export const IMMORTAL_NAMESPACES: ReadonlySet<string> = new Set(["default", "kube-system", "kube-public"]);

/** Resources that reveal permissions; creating them never depends on the namespace's state. */
const ACCESS_REVIEWS = new Set(["authorization.k8s.io/localsubjectaccessreviews"]);

export function namespaceLifecycle(host: AdmissionHost): MutatingPlugin {
  return {
    name: "NamespaceLifecycle",
    handles: () => true,
    async admit(a) {
      const isNamespace = a.group === "" && a.resource === "namespaces";
      if (a.operation === "DELETE" && isNamespace && IMMORTAL_NAMESPACES.has(a.name)) {
        throw forbidden(a, "this namespace may not be deleted", a.name);
      }
      if (isNamespace || a.namespace === "" || a.operation === "DELETE") return;
      if (ACCESS_REVIEWS.has(`${a.group}/${a.resource}`)) return;
      const ns = await host.get("", "namespaces", "", a.namespace);
      if (!ns) throw notFound("", "namespaces", a.namespace);
      if (a.operation !== "CREATE") return;
      const terminating = stringAt(ns.object, "status", "phase") === "Terminating" || !!ns.object.metadata?.deletionTimestamp;
      if (!terminating) return;
      const e = forbidden(a, `unable to create new content in namespace ${a.namespace} because it is being terminated`);
      const details = e.status.details ?? {};
      // Upstream's cause type "NamespaceTerminating" is outside the CauseType union of errors.ts.
      const reason = "NamespaceTerminating" as CauseType;
      throw new ApiError(403, "Forbidden", e.message, {
        ...details, causes: [{ reason, message: `namespace ${a.namespace} is being terminated`, field: "metadata.namespace" }],
      });
    },
  };
}
