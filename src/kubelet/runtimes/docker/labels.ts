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
 *   (the image as written, the absolute log path, mounts, resources, hostname, log directory).
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
} as const;

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
  return {
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
  };
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
  return {
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
  };
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
