/**
 * ServiceAccount (partial): pods get `serviceAccountName` (default `default`), kept in step with
 * the deprecated `serviceAccount` field as the v1 conversion does, and — when the account exists
 * and the pod names no pull secrets — the account's `imagePullSecrets`.
 *
 * Differences from upstream, on purpose for now: a pod whose service account does not exist is
 * NOT rejected (upstream: 403 `error looking up service account ...`), and no API token volume
 * (`kube-api-access-*`) is mounted: there is no token projection yet.
 */
import { isRecord, type AdmissionHost, type MutatingPlugin } from "../types.ts";

export const DEFAULT_SERVICE_ACCOUNT = "default";
const MIRROR_POD_ANNOTATION = "kubernetes.io/config.mirror";

export function serviceAccount(host: AdmissionHost): MutatingPlugin {
  return {
    name: "ServiceAccount",
    handles: (op, r) => (op === "CREATE" || op === "UPDATE") && r.group === "" && r.resource === "pods" && r.subresource === "",
    async admit(a) {
      const obj = a.object;
      if (!obj) return;
      const spec = isRecord(obj["spec"]) ? obj["spec"] : (obj["spec"] = {});
      const named = typeof spec["serviceAccountName"] === "string" ? spec["serviceAccountName"] : "";
      const deprecated = typeof spec["serviceAccount"] === "string" ? spec["serviceAccount"] : "";
      let sa = named || deprecated;
      if (a.operation === "UPDATE") {
        // Only the conversion rule: the deprecated field mirrors serviceAccountName.
        if (sa) {
          spec["serviceAccountName"] = sa;
          spec["serviceAccount"] = sa;
        }
        return;
      }
      if (obj.metadata?.annotations?.[MIRROR_POD_ANNOTATION] !== undefined) return;
      if (!sa) sa = DEFAULT_SERVICE_ACCOUNT;
      spec["serviceAccountName"] = sa;
      spec["serviceAccount"] = sa;
      const pulls = spec["imagePullSecrets"];
      if (Array.isArray(pulls) && pulls.length > 0) return;
      const account = await host.get("", "serviceaccounts", a.namespace, sa);
      const secrets = account ? (account.object["imagePullSecrets"] as unknown) : undefined;
      if (Array.isArray(secrets) && secrets.length > 0) {
        spec["imagePullSecrets"] = secrets.filter(isRecord).map((s) => ({ ...s }));
      }
    },
  };
}
