/** Builds the classification input from the authenticated user and the routed request (pure). */
import type { RequestInfo } from "../router.ts";
import type { RequestDigest } from "./types.ts";

/**
 * Resource requests carry the Kubernetes verb, group, resource, subresource and namespace;
 * everything else (discovery documents included, as upstream) is a non-resource request with
 * the lower-case HTTP method as verb and the path.
 */
export function digestOf(user: RequestDigest["user"], method: string, path: string, info: RequestInfo): RequestDigest {
  if (info.type === "resource") {
    return {
      user, verb: info.verb, isResourceRequest: true, apiGroup: info.group, resource: info.resource,
      subresource: info.subresource, namespace: info.namespace, path,
    };
  }
  return { user, verb: method.toLowerCase(), isResourceRequest: false, apiGroup: "", resource: "", subresource: "", namespace: "", path };
}
