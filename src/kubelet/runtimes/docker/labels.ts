/**
 * How the docker runtime records pod identity on Docker containers, so that its whole state can be
 * rebuilt from Docker alone after the node agent restarts (no local state file).
 *
 * Every container the runtime creates carries:
 * - `io.kubernetes.docker.type`: `podsandbox` (the pause-like container holding the pod's network
 *   namespace) or `container` (an app container joined to it);
 * - `io.kubernetes.pod.{name,namespace,uid}`, `io.kubernetes.sandbox.attempt` (both kinds);
 * - `io.kubernetes.sandbox.id` (app containers: the id of their sandbox container),
 *   `io.kubernetes.container.{name,attempt}`;
 * - `io.tugboat.scope`: which runtime instance owns it (several agents may share one Docker daemon;
 *   each sees only its own scope);
 * - `io.tugboat.labels` / `io.tugboat.annotations`: the CRI labels and annotations as JSON, so they
 *   come back exactly as given (they may use the same keys as the identity labels above);
 * - `io.tugboat.created`: creation time in epoch ms (Docker's list API only has whole seconds);
 * - `io.tugboat.info`: JSON with what status needs and Docker does not keep in CRI form
 *   (the image as written, the absolute log path, mounts, resources, hostname, log directory);
 * - `io.tugboat.label-mismatch` (`1`, rare): one of the CRI labels the runtime pre-filters on in
 *   Docker (`io.kubernetes.pod.{uid,name,namespace}`, `io.kubernetes.container.name`) differs from
 *   the identity label of the same meaning. The kubelet always sets them equal; the marker keeps
 *   label-selector lists exact for any other caller (see `pushdownFilters`).
 *
 * Docker names: `k8s_POD_<pod>_<namespace>_<uid>_<attempt>` for sandboxes and
 * `k8s_<container>_<pod>_<namespace>_<uid>_<attempt>_<sandbox id prefix>` for containers. Docker refuses
 * a second container of the same name, which makes duplicate creation impossible even when two
 * agents race.
 */
import type { ContainerResources, Mount, PodSandboxConfig, PodSandboxMetadata } from "../../runtime/types.ts";

export const L = {
  type: "io.kubernetes.docker.type",
  podName: "io.kubernetes.pod.name",
  podNamespace: "io.kubernetes.pod.namespace",
  podUid: "io.kubernetes.pod.uid",
  sandboxAttempt: "io.kubernetes.sandbox.attempt",
  sandboxId: "io.kubernetes.sandbox.id",
  containerName: "io.kubernetes.container.name",
  containerAttempt: "io.kubernetes.container.attempt",
  scope: "io.tugboat.scope",
  labels: "io.tugboat.labels",
  annotations: "io.tugboat.annotations",
  created: "io.tugboat.created",
  info: "io.tugboat.info",
  labelMismatch: "io.tugboat.label-mismatch",
} as const;

/**
 * CRI label keys whose values the identity labels carry too (when the kubelet's conventions hold),
 * so a label selector on them can be handed to Docker's own `label=` filter.
 */
const PUSHDOWN: Readonly<Record<string, string>> = {
  "io.kubernetes.pod.uid": L.podUid,
  "io.kubernetes.pod.name": L.podName,
  "io.kubernetes.pod.namespace": L.podNamespace,
  "io.kubernetes.container.name": L.containerName,
};

/**
 * Docker `label=` filters implied by a CRI label selector (empty when none applies). They select a
 * superset of the matches among containers without the mismatch marker; callers list the marked
 * ones separately and apply the selector itself to the union, so the result stays exact.
 */
export function pushdownFilters(selector: Readonly<Record<string, string>> | undefined): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(selector ?? {})) {
    const docker = PUSHDOWN[k];
    if (docker !== undefined) out.push(`${docker}=${v}`);
  }
  return out;
}

/** Adds the mismatch marker to `labels` (a container's Docker labels) when its CRI labels disagree with its identity labels. */
function withMismatchMarker(labels: Record<string, string>, cri: Readonly<Record<string, string>>): Record<string, string> {
  for (const [k, docker] of Object.entries(PUSHDOWN)) {
    const v = cri[k];
    if (v !== undefined && labels[docker] !== v) return { ...labels, [L.labelMismatch]: "1" };
  }
  return labels;
}

export type DockerKind = "podsandbox" | "container";

/** Sandbox facts kept in `io.tugboat.info`. */
export interface SandboxInfo {
  readonly hostname: string;
  readonly logDirectory?: string;
}

/** Container facts kept in `io.tugboat.info`. */
export interface ContainerInfo {
  /** The image as written in the config. */
  readonly image: string;
  /** Absolute log path, when the container is logged. */
  readonly logPath?: string;
  readonly mounts: readonly Mount[];
  readonly resources?: ContainerResources;
  readonly tty: boolean;
}

/** Labels of a sandbox container. */
export function sandboxLabels(scope: string, c: PodSandboxConfig, info: SandboxInfo, createdMs: number): Record<string, string> {
  const m = c.metadata;
  return withMismatchMarker({
    [L.type]: "podsandbox",
    [L.podName]: m.name,
    [L.podNamespace]: m.namespace,
    [L.podUid]: m.uid,
    [L.sandboxAttempt]: String(m.attempt),
    [L.scope]: scope,
    [L.labels]: JSON.stringify(c.labels),
    [L.annotations]: JSON.stringify(c.annotations),
    [L.created]: String(createdMs),
    [L.info]: JSON.stringify(info),
  }, c.labels);
}

/** Labels of an app container. */
export function containerLabels(
  scope: string,
  sandboxId: string,
  pod: PodSandboxMetadata,
  c: { metadata: { name: string; attempt: number }; labels: Readonly<Record<string, string>>; annotations: Readonly<Record<string, string>> },
  info: ContainerInfo,
  createdMs: number,
): Record<string, string> {
  return withMismatchMarker({
    [L.type]: "container",
    [L.podName]: pod.name,
    [L.podNamespace]: pod.namespace,
    [L.podUid]: pod.uid,
    [L.sandboxAttempt]: String(pod.attempt),
    [L.sandboxId]: sandboxId,
    [L.containerName]: c.metadata.name,
    [L.containerAttempt]: String(c.metadata.attempt),
    [L.scope]: scope,
    [L.labels]: JSON.stringify(c.labels),
    [L.annotations]: JSON.stringify(c.annotations),
    [L.created]: String(createdMs),
    [L.info]: JSON.stringify(info),
  }, c.labels);
}

/** Docker's filter for everything of `kind` in `scope`. */
export function scopeFilter(scope: string, kind?: DockerKind): { label: string[] } {
  return { label: kind === undefined ? [`${L.scope}=${scope}`] : [`${L.scope}=${scope}`, `${L.type}=${kind}`] };
}

function jsonRecord(s: string | undefined): Record<string, string> {
  if (s === undefined) return {};
  try {
    const v: unknown = JSON.parse(s);
    if (v === null || typeof v !== "object" || Array.isArray(v)) return {};
    const out: Record<string, string> = {};
    for (const [k, x] of Object.entries(v)) if (typeof x === "string") out[k] = x;
    return out;
  } catch {
    return {};
  }
}

function jsonObject(s: string | undefined): Record<string, unknown> {
  if (s === undefined) return {};
  try {
    const v: unknown = JSON.parse(s);
    return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

const int = (s: string | undefined): number => {
  const n = Number(s);
  return Number.isSafeInteger(n) && n >= 0 ? n : 0;
};

/** The CRI labels stored on a Docker container. */
export const userLabels = (labels: Readonly<Record<string, string>>): Record<string, string> => jsonRecord(labels[L.labels]);
/** The CRI annotations stored on a Docker container. */
export const userAnnotations = (labels: Readonly<Record<string, string>>): Record<string, string> => jsonRecord(labels[L.annotations]);

export function podMetadataOf(labels: Readonly<Record<string, string>>): PodSandboxMetadata {
  return {
    name: labels[L.podName] ?? "",
    uid: labels[L.podUid] ?? "",
    namespace: labels[L.podNamespace] ?? "",
    attempt: int(labels[L.sandboxAttempt]),
  };
}

export function containerMetadataOf(labels: Readonly<Record<string, string>>): { name: string; attempt: number } {
  return { name: labels[L.containerName] ?? "", attempt: int(labels[L.containerAttempt]) };
}

/** Creation time from our label, else Docker's (seconds or RFC 3339). */
export function createdMsOf(labels: Readonly<Record<string, string>>, fallback: number): number {
  const n = Number(labels[L.created]);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

export function sandboxInfoOf(labels: Readonly<Record<string, string>>): SandboxInfo {
  const o = jsonObject(labels[L.info]);
  return {
    hostname: typeof o["hostname"] === "string" ? o["hostname"] : "",
    ...(typeof o["logDirectory"] === "string" ? { logDirectory: o["logDirectory"] } : {}),
  };
}

export function containerInfoOf(labels: Readonly<Record<string, string>>): ContainerInfo {
  const o = jsonObject(labels[L.info]);
  const mounts = Array.isArray(o["mounts"]) ? (o["mounts"] as Mount[]) : [];
  const res = o["resources"];
  return {
    image: typeof o["image"] === "string" ? o["image"] : "",
    ...(typeof o["logPath"] === "string" ? { logPath: o["logPath"] } : {}),
    mounts,
    ...(res !== null && typeof res === "object" ? { resources: res as ContainerResources } : {}),
    tty: o["tty"] === true,
  };
}

/** Characters Docker allows in names after the first: `[a-zA-Z0-9_.-]`. */
const nameSafe = (s: string): string => s.replace(/[^a-zA-Z0-9_.-]/g, "-");

export function sandboxName(m: PodSandboxMetadata): string {
  return `k8s_POD_${nameSafe(m.name)}_${nameSafe(m.namespace)}_${nameSafe(m.uid)}_${m.attempt}`;
}

export function containerName(pod: PodSandboxMetadata, name: string, attempt: number, sandboxId: string): string {
  return `k8s_${nameSafe(name)}_${nameSafe(pod.name)}_${nameSafe(pod.namespace)}_${nameSafe(pod.uid)}_${attempt}_${sandboxId.slice(0, 12)}`;
}
