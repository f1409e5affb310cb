/**
 * Pure checks before the apiserver proxies a pod's `log`, `exec`, `attach` or `portforward` to its
 * node agent: the container (upstream's messages), the node assignment, the pod phase, and where
 * the node's streaming endpoint is (loopback only).
 */
import { ApiError, badRequest } from "../../api/errors.ts";
import type { KubeObject } from "../../api/object.ts";

/** The node annotation a tugboat agent advertises its streaming endpoint in (`https://127.0.0.1:PORT`). */
export const KUBELET_ENDPOINT_ANNOTATION = "tugboat.dev/kubelet-endpoint";

interface PodShape {
  metadata?: { name?: string; namespace?: string; uid?: string };
  spec?: { nodeName?: string; containers?: { name?: string }[]; initContainers?: { name?: string }[]; ephemeralContainers?: { name?: string }[] };
  status?: { phase?: string };
}

interface NodeShape {
  metadata?: { name?: string; annotations?: Record<string, string> };
  status?: { addresses?: { type?: string; address?: string }[]; daemonEndpoints?: { kubeletEndpoint?: { Port?: number } } };
}

const names = (l: { name?: string }[] | undefined): string[] => (l ?? []).map((c) => c.name ?? "");

/**
 * The container a request means: the named one (any of containers, init or ephemeral containers),
 * or the only container. Throws 400 with upstream's messages otherwise.
 */
export function containerFor(podObj: KubeObject, requested: string): string {
  const pod = podObj as PodShape; // the stored Pod's JSON shape; only the fields above are read
  const podName = pod.metadata?.name ?? "";
  const main = names(pod.spec?.containers);
  const init = names(pod.spec?.initContainers);
  const eph = names(pod.spec?.ephemeralContainers);
  if (requested !== "") {
    if (![...main, ...init, ...eph].includes(requested)) throw badRequest(`container ${requested} is not valid for pod ${podName}`);
    return requested;
  }
  if (main.length === 1) return main[0]!;
  let msg = `a container name must be specified for pod ${podName}, choose one of: [${main.join(" ")}]`;
  if (init.length > 0) msg += ` or one of the init containers: [${init.join(" ")}]`;
  if (eph.length > 0) msg += ` or one of the ephemeral containers: [${eph.join(" ")}]`;
  throw badRequest(msg);
}

/** The pod's node; 400 `pod x does not have a host assigned` when unscheduled. */
export function nodeNameOf(podObj: KubeObject): string {
  const pod = podObj as PodShape; // see containerFor
  const n = pod.spec?.nodeName ?? "";
  if (n === "") throw badRequest(`pod ${pod.metadata?.name ?? ""} does not have a host assigned`);
  return n;
}

/** exec/attach into a pod that finished: 400 as upstream words it. */
export function checkNotCompleted(podObj: KubeObject, kind: "exec" | "attach"): void {
  const phase = (podObj as PodShape).status?.phase; // see containerFor
  if (phase === "Succeeded" || phase === "Failed") {
    throw badRequest(`cannot ${kind === "exec" ? "exec into" : "attach to"} a container in a completed pod; current phase is ${phase}`);
  }
}

/** port-forward needs a Running pod. */
export function checkRunning(podObj: KubeObject): void {
  const phase = (podObj as PodShape).status?.phase ?? "Unknown"; // see containerFor
  if (phase !== "Running") throw badRequest(`unable to forward port because pod is not running. Current status=${phase}`);
}

/** True for 127.0.0.0/8, ::1 and localhost. */
export function isLoopbackHost(host: string): boolean {
  const h = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  if (h === "::1" || h === "localhost") return true;
  const m = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(h);
  return m !== null && m.slice(1).every((p) => Number(p) <= 255);
}

function unavailable(node: string, why: string): ApiError {
  return new ApiError(503, "ServiceUnavailable", `cannot reach the node agent of node ${node}: ${why}`);
}

/**
 * The base URL (`https://host:port`) of a node's streaming endpoint: the
 * `tugboat.dev/kubelet-endpoint` annotation when present, else the InternalIP with
 * `status.daemonEndpoints.kubeletEndpoint.Port`. Only loopback hosts are dialed; anything else
 * (and a missing or malformed endpoint) is a 503 naming the node.
 */
export function kubeletEndpointOf(nodeObj: KubeObject): URL {
  const node = nodeObj as NodeShape; // the stored Node's JSON shape; only the fields above are read
  const name = node.metadata?.name ?? "";
  const ann = node.metadata?.annotations?.[KUBELET_ENDPOINT_ANNOTATION];
  let url: URL;
  if (ann !== undefined) {
    try {
      url = new URL(ann);
    } catch {
      throw unavailable(name, `annotation ${KUBELET_ENDPOINT_ANNOTATION} is not a URL: ${JSON.stringify(ann)}`);
    }
    if (url.protocol !== "https:" || url.port === "" || (url.pathname !== "/" && url.pathname !== "") || url.search !== "" || url.username !== "") {
      throw unavailable(name, `annotation ${KUBELET_ENDPOINT_ANNOTATION} must be https://HOST:PORT, got ${JSON.stringify(ann)}`);
    }
  } else {
    const ip = node.status?.addresses?.find((a) => a.type === "InternalIP")?.address;
    const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port;
    if (ip === undefined || ip === "" || port === undefined || !(port > 0 && port < 65536)) {
      throw unavailable(name, "it advertises no kubelet endpoint (no InternalIP or daemonEndpoints port)");
    }
    url = new URL(`https://${ip.includes(":") ? `[${ip}]` : ip}:${port}`);
  }
  if (!isLoopbackHost(url.hostname)) {
    throw unavailable(name, `its endpoint ${url.host} is not a loopback address (tugboat dials node agents on loopback only)`);
  }
  return url;
}
