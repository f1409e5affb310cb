/**
 * The status manager: the one place pod statuses leave the node agent. Pod workers hand it the
 * status they computed; it remembers the latest one per pod (a version counter per pod), and
 * writes to `pods/status` only when that differs from what the API already holds. Writes for
 * one pod are serialized and coalesced (only the newest status is sent); writes for different
 * pods run concurrently. Failed writes are retried with backoff on the shared timer queue.
 *
 * Writes are JSON merge patches that set every kubelet-owned status field (absent ones as null),
 * so the result does not depend on what the API held before.
 */
import { ApiError } from "../api/errors.ts";
import type { TimerQueue } from "./runtime/timers.ts";
import type { PodObject, PodStatus } from "./types.ts";

/** The narrow API surface the status manager writes through. */
export interface PodStatusWriter {
  /** JSON merge patch on `pods/<name>/status`; returns the stored pod. Throws `ApiError`. */
  patchPodStatus(namespace: string, name: string, patch: Record<string, unknown>): Promise<PodObject>;
}

/** Status fields the kubelet owns (qosClass and nominatedNodeName belong to others). */
export const OWNED_STATUS_FIELDS = [
  "phase", "conditions", "message", "reason", "hostIP", "hostIPs", "podIP", "podIPs", "startTime",
  "initContainerStatuses", "containerStatuses",
] as const;

function isEmpty(v: unknown): boolean {
  if (v === undefined || v === null || v === "") return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === "object") return Object.keys(v).length === 0;
  return false;
}

/**
 * A canonical form for comparison: keys sorted, empty strings/objects/arrays and nulls dropped
 * (the wire formats disagree on whether such values survive a round trip).
 */
export function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (typeof v === "object" && v !== null) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const c = canonical((v as Record<string, unknown>)[k]); // plain JSON data
      if (!isEmpty(c)) out[k] = c;
    }
    return out;
  }
  return v;
}

/** True when the kubelet-owned parts of two statuses are the same. */
export function statusEqual(a: PodStatus | undefined, b: PodStatus | undefined): boolean {
  const pick = (s: PodStatus | undefined): unknown => {
    const o: Record<string, unknown> = {};
    if (s) for (const f of OWNED_STATUS_FIELDS) o[f] = s[f];
    return canonical(o);
  };
  return JSON.stringify(pick(a)) === JSON.stringify(pick(b));
}

/** The merge patch that makes the API's kubelet-owned status fields equal `status`. */
export function statusPatch(status: PodStatus): Record<string, unknown> {
  const s: Record<string, unknown> = {};
  for (const f of OWNED_STATUS_FIELDS) s[f] = isEmpty(status[f]) ? null : status[f];
  return { status: s };
}

interface Entry {
  namespace: string;
  name: string;
  status: PodStatus | undefined;
  version: number;
  written: number;
  /** What the API holds, as far as we know. */
  api: PodStatus | undefined;
  writing: Promise<void> | undefined;
  failures: number;
  retry: { cancel(): void } | undefined;
  gone: boolean;
}

export interface StatusManagerStats {
  writes: number;
  skipped: number;
  errors: number;
}

export class StatusManager {
  readonly stats: StatusManagerStats = { writes: 0, skipped: 0, errors: 0 };
  readonly #pods = new Map<string, Entry>();

  constructor(
    private readonly writer: PodStatusWriter,
    private readonly timers: TimerQueue,
    private readonly onError: (err: unknown, pod: string) => void = () => {},
  ) {}

  #entry(pod: PodObject): Entry {
    const uid = pod.metadata?.uid ?? "";
    let e = this.#pods.get(uid);
    if (e === undefined) {
      e = {
        namespace: pod.metadata?.namespace ?? "", name: pod.metadata?.name ?? "", status: undefined, version: 0, written: 0,
        api: pod.status, writing: undefined, failures: 0, retry: undefined, gone: false,
      };
      this.#pods.set(uid, e);
    }
    return e;
  }

  /** Tells the manager what the API holds now (informer updates), so equal statuses are not rewritten. */
  observeApiPod(pod: PodObject): void {
    const e = this.#pods.get(pod.metadata?.uid ?? "");
    if (e !== undefined) e.api = pod.status;
  }

  /** The latest status set for the pod (undefined before the first). */
  getPodStatus(uid: string): PodStatus | undefined {
    return this.#pods.get(uid)?.status;
  }

  /** Sets the pod's latest status; schedules a write when it differs from what the API holds. */
  setPodStatus(pod: PodObject, status: PodStatus): void {
    const e = this.#entry(pod);
    if (e.status !== undefined && statusEqual(e.status, status)) {
      e.status = status;
      return;
    }
    e.status = status;
    e.version++;
    this.#kick(e);
  }

  /** Resolves once the newest status of `uid` is written, the pod is gone, or the manager gave up. */
  async flush(uid: string): Promise<void> {
    const e = this.#pods.get(uid);
    for (let i = 0; e !== undefined && i < 100 && !e.gone && e.written < e.version; i++) {
      e.retry?.cancel();
      e.retry = undefined;
      this.#kick(e);
      await e.writing;
      if (e.written < e.version && !e.gone) await new Promise<void>((r) => this.timers.schedule(Math.min(5000, 100 * 2 ** Math.min(e.failures, 6)), r));
    }
  }

  /** Drops the pod's bookkeeping (it was deleted). */
  forget(uid: string): void {
    const e = this.#pods.get(uid);
    if (e === undefined) return;
    e.gone = true;
    e.retry?.cancel();
    this.#pods.delete(uid);
  }

  get size(): number {
    return this.#pods.size;
  }

  #kick(e: Entry): void {
    if (e.writing !== undefined || e.retry !== undefined || e.gone) return;
    e.writing = this.#write(e).finally(() => {
      e.writing = undefined;
      if (e.gone || e.written >= e.version) return;
      if (e.failures === 0) this.#kick(e);
      else {
        const delay = Math.min(10_000, 200 * 2 ** Math.min(e.failures - 1, 6));
        e.retry = this.timers.schedule(delay, () => { e.retry = undefined; this.#kick(e); });
      }
    });
  }

  async #write(e: Entry): Promise<void> {
    const v = e.version;
    const status = e.status;
    if (status === undefined) return;
    if (statusEqual(status, e.api)) {
      this.stats.skipped++;
      e.written = v;
      return;
    }
    try {
      const stored = await this.writer.patchPodStatus(e.namespace, e.name, statusPatch(status));
      this.stats.writes++;
      e.api = stored.status;
      e.written = Math.max(e.written, v);
      e.failures = 0;
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) {
        e.gone = true;
        return;
      }
      this.stats.errors++;
      e.failures++;
      this.onError(err, `${e.namespace}/${e.name}`);
    }
  }
}
