/**
 * The seam for the streaming endpoints (issue 5: the apiserver proxies `pods/log`, `pods/exec`,
 * `pods/attach` and `pods/portforward` to the node): given a pod by namespace/name and a
 * container name, find its runtime container and hand back CRI log records or a runtime
 * exec/attach/port-forward session. Transport (HTTP, WebSocket/SPDY framing) is not here.
 *
 * Errors are `ApiError`s with the kubelet's messages, ready to be returned as a Status.
 */
import { ApiError } from "../api/errors.ts";
import { readCriLog, type CriLogRecord } from "./runtime/logs.ts";
import type { ByteDuplex, ContainerStatus as RuntimeContainerStatus, RuntimeService, StreamIO, StreamSession } from "./runtime/types.ts";
import { LABEL_CONTAINER_NAME, LABEL_POD_UID, type PodObject } from "./types.ts";

export interface LogOptions {
  /** The previous (terminated) attempt instead of the current one. */
  readonly previous?: boolean;
  readonly tail?: number;
  readonly sinceMs?: number;
  readonly follow?: boolean;
  /** One stream only (default both). */
  readonly stream?: "stdout" | "stderr";
  readonly signal?: AbortSignal;
}

/** Looks pods up in the agent's informer cache. */
export type PodLookup = (namespace: string, name: string) => PodObject | undefined;

/** The node's usage Summary (`GET /stats/summary`), when the agent provides one. */
export interface NodeStatsSource {
  readonly nodeName: string;
  summary(): Promise<unknown>;
}

export class KubeletStreaming {
  constructor(private readonly runtime: RuntimeService, private readonly lookup: PodLookup, readonly stats?: NodeStatsSource) {}

  /** The pod as this node's informer holds it (undefined: not a pod of this node). */
  lookupPod(ns: string, name: string): PodObject | undefined {
    return this.lookup(ns, name);
  }

  #pod(ns: string, name: string): PodObject {
    const p = this.lookup(ns, name);
    if (p === undefined) throw new ApiError(404, "NotFound", `pod "${name}" cannot be found - no logs available`);
    return p;
  }

  /** The container's name: the given one, or the only one; a 400 naming the choices otherwise. */
  static containerName(pod: PodObject, container: string | undefined): string {
    const names = (pod.spec?.containers ?? []).map((c) => c.name ?? "");
    const inits = (pod.spec?.initContainers ?? []).map((c) => c.name ?? "");
    if (container !== undefined && container !== "") {
      if (![...names, ...inits].includes(container)) {
        throw new ApiError(400, "BadRequest", `container ${container} is not valid for pod ${pod.metadata?.name ?? ""}`);
      }
      return container;
    }
    if (names.length === 1) return names[0]!;
    throw new ApiError(400, "BadRequest", `a container name must be specified for pod ${pod.metadata?.name ?? ""}, choose one of: [${names.join(" ")}]`);
  }

  /** Attempts of one container, newest first. */
  async #attempts(pod: PodObject, name: string): Promise<RuntimeContainerStatus[]> {
    const list = await this.runtime.listContainers({ labelSelector: { [LABEL_POD_UID]: pod.metadata?.uid ?? "", [LABEL_CONTAINER_NAME]: name } });
    const st = await Promise.all(list.map((c) => this.runtime.containerStatus(c.id)));
    return st.sort((a, b) => b.metadata.attempt - a.metadata.attempt);
  }

  /** CRI log records of a container (`kubectl logs`; format them with `formatLogRecord`). */
  async logs(ns: string, podName: string, container: string | undefined, opts: LogOptions = {}): Promise<AsyncIterable<CriLogRecord>> {
    const pod = this.#pod(ns, podName);
    const name = KubeletStreaming.containerName(pod, container);
    const attempts = await this.#attempts(pod, name);
    const c = opts.previous ? attempts.find((a, i) => i > 0 && a.state === "EXITED") : attempts[0];
    if (c === undefined) {
      throw new ApiError(400, "BadRequest", opts.previous
        ? `previous terminated container "${name}" in pod "${podName}" not found`
        : `container "${name}" in pod "${podName}" is waiting to start: ContainerCreating`);
    }
    if (c.logPath === undefined) return (async function* () {})();
    const rt = this.runtime;
    return readCriLog(c.logPath, {
      ...(opts.tail !== undefined ? { tail: opts.tail } : {}),
      ...(opts.sinceMs !== undefined ? { sinceMs: opts.sinceMs } : {}),
      ...(opts.stream !== undefined ? { stream: opts.stream } : {}),
      ...(opts.follow ? { follow: true, isDone: async () => (await rt.containerStatus(c.id).catch(() => undefined))?.state !== "RUNNING" } : {}),
      ...(opts.signal !== undefined ? { signal: opts.signal } : {}),
    });
  }

  /**
   * The id of the running attempt of a container (checked before a streaming endpoint upgrades the
   * connection). Throws `ApiError` 404 for an unknown pod, 400 for a bad or non-running container.
   */
  async runningContainer(ns: string, podName: string, container: string | undefined): Promise<string> {
    return this.#running(ns, podName, container);
  }

  /** The id of the pod's READY sandbox; `ApiError` 404/400 like `portForward`. */
  async readySandbox(ns: string, podName: string): Promise<string> {
    const pod = this.#pod(ns, podName);
    const sb = (await this.runtime.listPodSandboxes({ labelSelector: { [LABEL_POD_UID]: pod.metadata?.uid ?? "" }, state: "READY" }))[0];
    if (sb === undefined) throw new ApiError(400, "BadRequest", `pod ${podName} has no running sandbox`);
    return sb.id;
  }

  async #running(ns: string, podName: string, container: string | undefined): Promise<string> {
    const pod = this.#pod(ns, podName);
    const name = KubeletStreaming.containerName(pod, container);
    const c = (await this.#attempts(pod, name))[0];
    if (c === undefined || c.state !== "RUNNING") throw new ApiError(400, "BadRequest", `container ${name} is not running`);
    return c.id;
  }

  /** `kubectl exec`: a runtime exec session in the pod's running container. */
  async exec(ns: string, podName: string, container: string | undefined, cmd: readonly string[], io: StreamIO): Promise<StreamSession> {
    return this.runtime.exec(await this.#running(ns, podName, container), cmd, io);
  }

  /** `kubectl attach`. */
  async attach(ns: string, podName: string, container: string | undefined, io: StreamIO): Promise<StreamSession> {
    return this.runtime.attach(await this.#running(ns, podName, container), io);
  }

  /** `kubectl port-forward`: a byte stream to `port` in the pod's sandbox. */
  async portForward(ns: string, podName: string, port: number): Promise<ByteDuplex> {
    return this.runtime.portForward(await this.readySandbox(ns, podName), port);
  }
}
