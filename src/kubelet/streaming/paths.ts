/**
 * The node agent's streaming endpoint paths (the kubelet's own, as kube-apiserver dials them):
 *
 *   GET        /containerLogs/{namespace}/{pod}/{container}?follow&previous&tailLines&…
 *   GET|POST   /exec/{namespace}/{pod}/{container}?command=…&stdin&stdout&stderr&tty
 *   GET|POST   /attach/{namespace}/{pod}/{container}?stdin&stdout&stderr&tty
 *   GET|POST   /portForward/{namespace}/{pod}
 *   GET        /healthz
 *   GET        /stats/summary[?node=NAME]   (the Summary of one node of this endpoint)
 *
 * Pure: `parseKubeletPath` turns (method, path) into a route or an error (status + message).
 */

export type KubeletRoute =
  | { readonly kind: "healthz" }
  | { readonly kind: "statsSummary" }
  | { readonly kind: "containerLogs" | "exec" | "attach"; readonly namespace: string; readonly pod: string; readonly container: string }
  | { readonly kind: "portForward"; readonly namespace: string; readonly pod: string };

export interface RouteError {
  readonly error: { readonly status: 404 | 405 | 400; readonly message: string };
}

const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

function segmentsOf(path: string): string[] | undefined {
  if (!path.startsWith("/")) return undefined;
  const parts = path.slice(1).split("/");
  if (parts.length > 0 && parts[parts.length - 1] === "") parts.pop(); // one trailing slash
  return parts;
}

function badName(what: string, v: string): RouteError | undefined {
  if (v === "" || v.length > 253 || !NAME.test(v)) return { error: { status: 400, message: `invalid ${what} name ${JSON.stringify(v)}` } };
  return undefined;
}

/** Routes a request path (already percent-decoded, without the query). */
export function parseKubeletPath(method: string, path: string): KubeletRoute | RouteError {
  const seg = segmentsOf(path);
  const notFound: RouteError = { error: { status: 404, message: "404 page not found" } };
  if (seg === undefined || seg.length === 0) return notFound;
  const [head, ...rest] = seg;
  const allowed = head === "containerLogs" || head === "healthz" || head === "stats" ? ["GET", "HEAD"] : ["GET", "POST"];
  switch (head) {
    case "healthz":
      if (rest.length !== 0) return notFound;
      break;
    case "stats":
      if (rest.length !== 1 || rest[0] !== "summary") return notFound;
      break;
    case "containerLogs":
    case "exec":
    case "attach":
      if (rest.length !== 3) return notFound;
      break;
    case "portForward":
      if (rest.length !== 2) return notFound;
      break;
    default:
      return notFound;
  }
  if (!allowed.includes(method)) return { error: { status: 405, message: `method ${method} is not allowed on /${head} (allowed: ${allowed.join(", ")})` } };
  if (head === "healthz") return { kind: "healthz" };
  if (head === "stats") return { kind: "statsSummary" };
  const [namespace = "", pod = "", container = ""] = rest;
  const bad = badName("namespace", namespace) ?? badName("pod", pod) ?? (head === "portForward" ? undefined : badName("container", container));
  if (bad !== undefined) return bad;
  if (head === "portForward") return { kind: "portForward", namespace, pod };
  return { kind: head, namespace, pod, container };
}

/** The path of a route (what the apiserver dials); names are percent-encoded. */
export function kubeletPath(kind: "containerLogs" | "exec" | "attach", namespace: string, pod: string, container: string): string;
export function kubeletPath(kind: "portForward", namespace: string, pod: string): string;
export function kubeletPath(kind: string, namespace: string, pod: string, container?: string): string {
  const parts = [kind, namespace, pod, ...(container !== undefined ? [container] : [])];
  return "/" + parts.map(encodeURIComponent).join("/");
}
