/**
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection package does
 * it: the holder renews `spec.renewTime` every `retryPeriod`; a candidate takes the lease only
 * when the record it last observed has not changed for `leaseDurationSeconds` of its own clock
 * (clocks of different machines are never compared). Every write carries the resourceVersion read,
 * so of two candidates racing for an expired lease exactly one update succeeds (409 for the other).
 *
 * `decideLease` is the pure core; `LeaderElector` is the loop (acquire, renew within
 * `renewDeadline` or step down, release on stop).
 */
import { ApiError } from "../../api/errors.ts";
import type { KubeObject } from "../../api/object.ts";
import { LEASES } from "./resources.ts";
import type { ObjectWriter } from "./writer.ts";

export interface LeaderElectionConfig {
  /** `kube-system/kube-controller-manager` by default. */
  readonly namespace: string;
  readonly name: string;
  readonly identity: string;
  readonly leaseDurationSeconds: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
}

export const DEFAULT_LEADER_ELECTION: Omit<LeaderElectionConfig, "identity"> = {
  namespace: "kube-system",
  name: "kube-controller-manager",
  leaseDurationSeconds: 15,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2_000,
};

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

/** What the candidate remembers between attempts. */
export interface Observation {
  /** The lease spec last read, as JSON ("" before the first read). */
  readonly record: string;
  /** Local time when `record` last changed. */
  readonly atMs: number;
}

export type LeaseDecision =
  | { readonly action: "create"; readonly lease: KubeObject }
  | { readonly action: "update"; readonly lease: KubeObject }
  /** Held by someone else whose lease has not expired by our observation. */
  | { readonly action: "wait"; readonly holder: string };

/** Kubernetes MicroTime: RFC 3339 with microseconds. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

function specOf(lease: KubeObject | undefined): LeaseSpec {
  return (lease?.["spec"] ?? {}) as LeaseSpec; // Lease.spec by the kind's contract
}

/**
 * One step of client-go's tryAcquireOrRenew. Returns the decision and the new observation.
 * `isLeader`: we believed we held the lease after our last successful write.
 */
export function decideLease(
  current: KubeObject | undefined, cfg: LeaderElectionConfig, nowMs: number, observed: Observation, isLeader: boolean,
): { decision: LeaseDecision; observed: Observation } {
  const now = microTime(nowMs);
  if (current === undefined) {
    const spec: LeaseSpec = { holderIdentity: cfg.identity, leaseDurationSeconds: cfg.leaseDurationSeconds, acquireTime: now, renewTime: now, leaseTransitions: 0 };
    return {
      decision: { action: "create", lease: { apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name: cfg.name, namespace: cfg.namespace }, spec } },
      observed: { record: JSON.stringify(spec), atMs: nowMs },
    };
  }
  const old = specOf(current);
  const raw = JSON.stringify(old);
  const obs = raw !== observed.record ? { record: raw, atMs: nowMs } : observed;
  const holder = old.holderIdentity ?? "";
  const duration = (old.leaseDurationSeconds ?? cfg.leaseDurationSeconds) * 1000;
  const weHold = holder === cfg.identity;
  if (holder !== "" && !weHold && obs.atMs + duration > nowMs) return { decision: { action: "wait", holder }, observed: obs };
  const spec: LeaseSpec = {
    holderIdentity: cfg.identity,
    leaseDurationSeconds: cfg.leaseDurationSeconds,
    acquireTime: weHold && isLeader && old.acquireTime ? old.acquireTime : now,
    renewTime: now,
    leaseTransitions: weHold ? old.leaseTransitions ?? 0 : (old.leaseTransitions ?? 0) + 1,
  };
  return { decision: { action: "update", lease: { ...current, spec } }, observed: obs };
}

/** The spec written on release: no holder, a 1 s lease, so others take over at once. */
export function releasedLease(current: KubeObject, nowMs: number): KubeObject {
  const old = specOf(current);
  const now = microTime(nowMs);
  return { ...current, spec: { holderIdentity: "", leaseDurationSeconds: 1, acquireTime: now, renewTime: now, leaseTransitions: old.leaseTransitions ?? 0 } };
}

export interface LeaderCallbacks {
  /** Leadership acquired; `signal` aborts when it is lost or the elector stops. */
  onStartedLeading(signal: AbortSignal): void | Promise<void>;
  /** Leadership lost (or released on stop) after having been acquired. */
  onStoppedLeading(): void | Promise<void>;
}

export interface ElectorDeps {
  readonly now?: () => number;
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly log?: (msg: string) => void;
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((res) => {
    if (signal.aborted) return res();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      res();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

export class LeaderElector {
  private observed: Observation = { record: "", atMs: 0 };
  private leader = false;
  private lease: KubeObject | undefined;
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private readonly now: () => number;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Times leadership was acquired. */
  terms = 0;

  constructor(private readonly writer: ObjectWriter, readonly config: LeaderElectionConfig, private readonly cb: LeaderCallbacks, private readonly deps: ElectorDeps = {}) {
    this.now = deps.now ?? Date.now;
    this.sleep = deps.sleep ?? abortableSleep;
  }

  isLeader(): boolean {
    return this.leader;
  }

  /** One acquire-or-renew attempt; true when we hold the lease afterwards. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const cfg = this.config;
    const current = await this.writer.get(LEASES, cfg.namespace, cfg.name);
    const { decision, observed } = decideLease(current, cfg, this.now(), this.observed, this.leader);
    this.observed = observed;
    if (decision.action === "wait") return false;
    try {
      this.lease = decision.action === "create" ? await this.writer.create(LEASES, decision.lease) : await this.writer.update(LEASES, decision.lease);
      this.observed = { record: JSON.stringify(specOf(this.lease)), atMs: this.now() };
      return true;
    } catch (e) {
      if (e instanceof ApiError && e.code === 409) return false; // another candidate won the race
      throw e;
    }
  }

  /** Starts campaigning (idempotent). */
  start(): void {
    this.loop ??= this.run();
  }

  private async attempt(): Promise<boolean> {
    try {
      return await this.tryAcquireOrRenew();
    } catch (e) {
      this.deps.log?.(`leader election: ${e instanceof Error ? e.message : String(e)}`);
      return false;
    }
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    const cfg = this.config;
    while (!signal.aborted) {
      // Acquire: retry every retryPeriod (jittered) until we hold the lease.
      while (!signal.aborted && !(await this.attempt())) await this.sleep(cfg.retryPeriodMs * (1 + Math.random() * 0.2), signal);
      if (signal.aborted) break;
      this.leader = true;
      this.terms++;
      const term = new AbortController();
      const started = Promise.resolve(this.cb.onStartedLeading(term.signal)).catch((e: unknown) => this.deps.log?.(`leader callback: ${String(e)}`));
      // Renew: every retryPeriod; give up when no renewal succeeded for renewDeadline.
      let lastRenew = this.now();
      while (!signal.aborted) {
        await this.sleep(cfg.retryPeriodMs, signal);
        if (signal.aborted) break;
        if (await this.attempt()) lastRenew = this.now();
        else if (this.now() - lastRenew >= cfg.renewDeadlineMs) break;
        else if (this.observedHolderIsOther()) break;
      }
      this.leader = false;
      term.abort();
      await started;
      await this.cb.onStoppedLeading();
      if (!signal.aborted) this.deps.log?.(`leader election: lost the lease ${cfg.namespace}/${cfg.name}`);
    }
  }

  private observedHolderIsOther(): boolean {
    try {
      const spec = JSON.parse(this.observed.record || "{}") as LeaseSpec; // our own serialization
      return spec.holderIdentity !== undefined && spec.holderIdentity !== "" && spec.holderIdentity !== this.config.identity;
    } catch {
      return false;
    }
  }

  /** Stops campaigning; releases the lease when held. */
  async stop(): Promise<void> {
    const wasLeader = this.leader;
    this.abort.abort();
    await this.loop;
    if (wasLeader && this.lease) {
      try {
        const cur = await this.writer.get(LEASES, this.config.namespace, this.config.name);
        if (cur && specOf(cur).holderIdentity === this.config.identity) await this.writer.update(LEASES, releasedLease(cur, this.now()));
      } catch {
        // best effort: the lease expires on its own
      }
    }
  }
}
